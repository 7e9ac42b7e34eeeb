"""`ops_quarantine`: every quarantined row, queryable, reconciled with the manifests.

The extractors file rejected rows under ``<quarantine_root>/<source>/<dataset>/
date=YYYY-MM-DD/part-0.parquet`` (payloads already scrubbed of secrets) and
count them in the landing partition's ``_manifest.json`` (``rows_quarantined``).
At publish time the rows are copied into the next warehouse file as one table,
so BI readers see them beside the marts.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from landing.layout import MANIFEST, PART, partitions, read_manifest
from landing.schemas import QUARANTINE

TABLE = "ops_quarantine"
# (source, dataset, partition date) -> rows
Counts = Counter[tuple[str, str, date]]


def _partition_files(root: Path, name: str) -> list[tuple[str, str, date, Path]]:
    return [
        (p.source, p.dataset, p.day, p.path / name)
        for p in partitions(root)
        if (p.path / name).exists()
    ]


def quarantine_table(quarantine_root: Path) -> pa.Table:
    """All quarantined rows with the day they are filed under (`partition_date`)."""
    schema = QUARANTINE.append(pa.field("partition_date", pa.date32(), nullable=False))
    parts = []
    for _source, _dataset, day, path in _partition_files(quarantine_root, PART):
        table = pq.read_table(path, schema=QUARANTINE)
        parts.append(
            table.append_column("partition_date", pa.array([day] * table.num_rows, pa.date32()))
        )
    return pa.concat_tables(parts).cast(schema) if parts else schema.empty_table()


def load_quarantine(con: duckdb.DuckDBPyConnection, quarantine_root: Path) -> int:
    """(Re)create `ops_quarantine` in an open, writable warehouse; return its row count."""
    rows = quarantine_table(quarantine_root)
    con.register("quarantine_rows", rows)
    try:
        con.execute(
            f"create or replace table {TABLE} as select source_name, dataset, partition_date,"
            " window_start, window_end, record_ref, reason, raw_payload from quarantine_rows"
        )
    finally:
        con.unregister("quarantine_rows")
    return rows.num_rows


def quarantined_counts(quarantine_root: Path) -> Counts:
    counts: Counts = Counter()
    for source, dataset, day, path in _partition_files(quarantine_root, PART):
        counts[(source, dataset, day)] += pq.ParquetFile(path).metadata.num_rows
    return counts


def manifest_counts(landing_root: Path) -> Counts:
    counts: Counts = Counter()
    for source, dataset, day, path in _partition_files(landing_root, MANIFEST):
        quarantined = read_manifest(path.parent).get("rows_quarantined", 0)
        if quarantined:
            counts[(source, dataset, day)] += int(quarantined)
    return counts


def duplicate_rejects(quarantine_root: Path) -> list[str]:
    """A record filed more than once (under several days, or twice in one): one line each.

    Landing files a reject under its home day whatever the window, so one record
    (source, dataset, record_ref, reason) appears once across all partitions.
    """
    seen: dict[tuple[str, str, str, str], list[date]] = {}
    for source, dataset, day, path in _partition_files(quarantine_root, PART):
        table = pq.read_table(path, columns=["record_ref", "reason"])
        for ref, reason in zip(
            table.column("record_ref").to_pylist(), table.column("reason").to_pylist(), strict=True
        ):
            seen.setdefault((source, dataset, ref, reason), []).append(day)
    return [
        f"{source}/{dataset}: {ref!r} ({reason}) is filed {len(days)} times, under "
        + ", ".join(sorted({d.isoformat() for d in days}))
        for (source, dataset, ref, reason), days in sorted(seen.items())
        if len(days) > 1
    ]


def unaccounted_file_rows(landing_root: Path) -> list[str]:
    """Export rows a run read but neither landed, quarantined nor left to another window.

    A file source records in each day's manifest (``source_files``) every file's rows
    and what became of them: taken in per home day, left to other windows, or
    superseded by a newer export version. Each file's rows must all be accounted for,
    and each day must hold (loaded + quarantined) what the files gave it.
    """
    problems = []
    for source, dataset, day, path in _partition_files(landing_root, MANIFEST):
        manifest = read_manifest(path.parent)
        files = manifest.get("source_files")
        if not files:
            continue
        given = 0
        for name, tally in sorted(files.items()):
            taken = sum(tally["in_window"].values())
            kept = taken + tally["other_windows"] + tally["superseded"]
            if kept != tally["rows"]:
                problems.append(
                    f"{source}/{dataset}/date={day}: {name} has {tally['rows']} rows, "
                    f"{kept} accounted for"
                )
            given += tally["in_window"].get(day.isoformat(), 0)
        held = int(manifest.get("rows_loaded", 0)) + int(manifest.get("rows_quarantined", 0))
        if given != held:
            problems.append(
                f"{source}/{dataset}/date={day}: its files gave the day {given} rows, "
                f"it holds {held} (loaded + quarantined)"
            )
    return problems


def reconcile(landing_root: Path, quarantine_root: Path) -> list[str]:
    """Where quarantine, manifests and source files disagree, one line each; empty when they agree.

    Per partition, the manifest's quarantined count equals the rows filed; across
    partitions, no record is filed twice; per file-source run, every row of every
    file is accounted for.
    """
    filed, declared = quarantined_counts(quarantine_root), manifest_counts(landing_root)
    problems = []
    for key in sorted(set(filed) | set(declared)):
        if filed[key] != declared[key]:
            source, dataset, day = key
            problems.append(
                f"{source}/{dataset}/date={day}: manifest says {declared[key]} row(s) "
                f"quarantined, quarantine holds {filed[key]}"
            )
    return problems + duplicate_rejects(quarantine_root) + unaccounted_file_rows(landing_root)
