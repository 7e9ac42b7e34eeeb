"""Bounded reads of the landing zone for a window, as pandas frames for GX.

The layout is ``landing.layout``'s; its ``_schema`` files are not landed data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from landing.layout import MANIFEST, partitions, read_manifest
from landing.schemas import Dataset
from landing.window import days_between


@dataclass
class Partition:
    source: str
    day: date
    path: Path
    files: list[Path] = field(default_factory=list)


def find_partitions(
    landing_root: Path, dataset: Dataset, start: date, end: date
) -> list[Partition]:
    """Partitions of ``dataset`` dated inside [start, end), over every source."""
    return [
        Partition(p.source, p.day, p.path, sorted(p.path.glob("part-*.parquet")))
        for p in partitions(landing_root, dataset=dataset.name)
        if start <= p.day < end
    ]


def _schema_diff(path: Path, declared: pa.Schema) -> str:
    actual = pq.read_schema(path)
    expected_names, actual_names = declared.names, actual.names
    problems = []
    missing = [n for n in expected_names if n not in actual_names]
    extra = [n for n in actual_names if n not in expected_names]
    if missing:
        problems.append(f"missing {missing}")
    if extra:
        problems.append(f"unexpected {extra}")
    common = [n for n in actual_names if n in expected_names]
    if not missing and not extra and common != expected_names:
        problems.append("column order differs from the contract")
    for name in common:
        want, got = declared.field(name).type, actual.field(name).type
        if not got.equals(want):
            problems.append(f"{name} is {got}, expected {want}")
    return f"{path.name}: " + "; ".join(problems) if problems else ""


def _read_manifest(part: Partition) -> tuple[int | None, str]:
    manifest = part.path / MANIFEST
    if not manifest.exists():
        return None, f"{manifest} is missing"
    try:
        rows_loaded = read_manifest(part.path)["rows_loaded"]
        return int(rows_loaded), ""
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"{manifest} is unreadable: {type(exc).__name__}: {exc}"


PARTITION_COLUMNS = [
    "locator",
    "dataset",
    "source_name",
    "partition_date",
    "has_partitions_in_window",
    "is_present",
    "manifest_problem",
    "rows_in_files",
    "manifest_rows_loaded",
    "schema_diff",
]


def partitions_frame(
    dataset: Dataset,
    start: date,
    end: date,
    partitions: list[Partition],
    configured: dict[str, date | None] | None = None,
) -> pd.DataFrame:
    """One row per source × day: present?, files vs manifest rows, schema differences.

    The sources are those that landed the dataset in the window plus ``configured``
    (source -> the first day it has data for, or None): a configured source that
    landed nothing gets a missing row for each of its days, so the gate names it.
    An unconfigured dataset with no partition gets one placeholder row
    (``has_partitions_in_window`` false) so the report says so.
    """
    configured = configured or {}
    ok = {
        "has_partitions_in_window": True,
        "is_present": True,
        "manifest_problem": "",
        "schema_diff": "",
        "rows_in_files": 0,
        "manifest_rows_loaded": 0,
    }
    records = []
    if not partitions and not configured:
        records.append(
            {
                **ok,
                "locator": f"-/{dataset.name}/(no partition in window)",
                "dataset": dataset.name,
                "source_name": "",
                "partition_date": "",
                "has_partitions_in_window": False,
            }
        )
    by_key = {(p.source, p.day): p for p in partitions}
    for source in sorted({p.source for p in partitions} | set(configured)):
        active_from = configured.get(source) or start
        for day in days_between(max(start, active_from), end):
            where = {
                "locator": f"{source}/{dataset.name}/date={day.isoformat()}",
                "dataset": dataset.name,
                "source_name": source,
                "partition_date": day.isoformat(),
            }
            part = by_key.get((source, day))
            if part is None:
                records.append({**ok, **where, "is_present": False})
                continue
            rows_loaded, problem = _read_manifest(part)
            records.append(
                {
                    **ok,
                    **where,
                    "manifest_problem": problem,
                    "rows_in_files": sum(pq.read_metadata(f).num_rows for f in part.files),
                    "manifest_rows_loaded": rows_loaded,
                    "schema_diff": " | ".join(
                        d for d in (_schema_diff(f, dataset.schema) for f in part.files) if d
                    ),
                }
            )
    frame = pd.DataFrame.from_records(records, columns=PARTITION_COLUMNS)
    # float with NaN, not pandas' Int64: GX's pair comparison cannot handle pd.NA
    frame["manifest_rows_loaded"] = frame["manifest_rows_loaded"].astype("float64")
    frame["rows_in_files"] = frame["rows_in_files"].astype("int64")
    for column in ("has_partitions_in_window", "is_present"):
        frame[column] = frame[column].astype(bool)
    return frame


def configured_sources_frame(
    partitions: pd.DataFrame, configured: list[dict[str, str]]
) -> pd.DataFrame:
    """One row per configured source: which of its datasets' days have no partition.

    A source per row (not a day per row) keeps every source in the gate's message.
    """
    missing: dict[str, list[str]] = {item["source"]: [] for item in configured}
    absent = partitions[~partitions["is_present"] & partitions["source_name"].isin(list(missing))]
    for row in absent.sort_values(["source_name", "dataset", "partition_date"]).itertuples():
        missing[row.source_name].append(f"{row.dataset}/date={row.partition_date}")
    return pd.DataFrame.from_records(
        [
            {"locator": source, "source_name": source, "missing": ", ".join(days)}
            for source, days in sorted(missing.items())
        ],
        columns=["locator", "source_name", "missing"],
    )


def rows_frame(dataset: Dataset, partitions: list[Partition]) -> pd.DataFrame:
    """The landed rows of the partitions, money as float, plus a ``locator`` naming each row."""
    files = [str(f) for p in partitions for f in p.files]
    if files:
        con = duckdb.connect()
        try:
            con.execute("set TimeZone = 'UTC'")
            frame = (
                con.execute(
                    "select * from read_parquet($files, union_by_name = true)", {"files": files}
                )
                .to_arrow_table()
                .to_pandas()
            )
        finally:
            con.close()
    else:
        frame = dataset.schema.empty_table().to_pandas()
    for f in dataset.schema:
        if f.name not in frame.columns:
            continue  # reported by the schema check; GX names the missing column too
        if pa.types.is_decimal(f.type):
            # Sign and finiteness checks only; conservation to the cent is done in SQL.
            frame[f.name] = pd.to_numeric(frame[f.name], errors="coerce").astype("float64")
    blank = pd.Series("", index=frame.index, dtype="string")
    source = frame["source_name"].astype("string") if "source_name" in frame else blank
    ref = frame["record_ref"].astype("string") if "record_ref" in frame else blank
    frame["locator"] = (source + ":" + ref).astype("string")
    return frame
