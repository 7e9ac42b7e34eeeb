"""Swap the validated next warehouse file in, atomically.

`os.replace` is atomic on POSIX: a reader that opens the published path gets the
old file or the new one, never half of either, and a reader that already holds
the old file keeps reading its inode until it closes. A crash before the rename
leaves the last good file in place; the orphaned next file is removed by the
next build.

Publication is one unit over three targets: the DuckDB file, the PostgreSQL schema
and the Parquet exports. PostgreSQL and Parquet are written from the next file
before it is swapped in; each target's outcome goes into the next file
(``ops_publish_targets``, and ``ops_alerts`` for a target left behind), so the
file readers get says which target holds which run. A target that is behind
raises `PublishTargetBehind` after the swap; the next run republishes every
target, and so retries it. The BI targets go first because only they can fail on
the data (a value PostgreSQL refuses); a crash between them and the swap leaves a
target one checked run ahead of the DuckDB file until the next run, never a
half-published one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from warehouse.pause import pause_point

# Schemas dbt builds into that readers never see (dbt_project.yml, macro
# generate_schema_name): staging views read the landing zone, and intermediate
# views read staging, so neither may reach the published file.
BUILD_ONLY_SCHEMAS = ("staging", "intermediate")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def swap_in(next_file: Path, published: Path) -> Path:
    """Make `next_file` the published warehouse. Durable before it returns."""
    if not next_file.exists():
        raise FileNotFoundError(f"no built warehouse to publish at {next_file}")
    wal = next_file.with_name(next_file.name + ".wal")
    if wal.exists():
        # A WAL means the builder did not close cleanly; publishing it could lose writes.
        raise RuntimeError(
            f"refusing to publish {next_file}: its write-ahead log {wal} is not checkpointed"
        )
    published.parent.mkdir(parents=True, exist_ok=True)
    _fsync(next_file)
    pause_point("publish:before_replace")
    os.replace(next_file, published)
    pause_point("publish:after_replace")
    _fsync(published.parent)
    return published


def drop_build_relations(con) -> list[str]:
    """Leave the next file standing alone: tables only, none reading the landing zone.

    Drops the build-only schemas and any view left in ``main`` (a file published
    before the build moved its views out keeps them there). Returns what it dropped.
    """
    dropped = []
    schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    for schema in BUILD_ONLY_SCHEMAS:
        if schema in schemas:
            con.execute(f'drop schema "{schema}" cascade')
            dropped.append(f"schema {schema}")
    views = con.execute(
        "select schema_name, view_name from duckdb_views()"
        " where not internal and database_name = current_database()"
    ).fetchall()
    for schema, view in views:
        con.execute(f'drop view if exists "{schema}"."{view}" cascade')
        dropped.append(f"view {schema}.{view}")
    return dropped


TARGETS = ("duckdb", "postgres", "parquet")
TARGETS_TABLE = "ops_publish_targets"
ALERTS_TABLE = "ops_alerts"
ALERT_BEHIND = "publish_target_behind"
ALERT_QUARANTINE = "quarantine_unreconciled"


@dataclass(frozen=True)
class TargetOutcome:
    target: str  # one of TARGETS
    status: str  # ok | behind | skipped
    detail: str = ""  # one line; for `behind`, the cause (never a password)


class PublishTargetBehind(RuntimeError):
    """The DuckDB file moved to the new run, but a BI target could not take it."""

    def __init__(self, run_id: str, start: date, end: date, behind: list[TargetOutcome]):
        self.run_id, self.behind = run_id, behind
        causes = "; ".join(f"{t.target} is behind: {t.detail}" for t in behind)
        super().__init__(
            f"run {run_id} published {start}..{end} to DuckDB, but {causes}"
            f" (recorded in {TARGETS_TABLE} and {ALERTS_TABLE}; the next run retries it)"
        )


def ensure_ops_tables(con) -> None:
    """Create the publication records, so every target carries them from the first run."""
    con.execute(
        f"create table if not exists {TARGETS_TABLE} ("
        " run_id varchar, window_start date, window_end date, target varchar,"
        " status varchar, detail varchar, published_at timestamptz)"
    )
    con.execute(
        f"create table if not exists {ALERTS_TABLE} ("
        " raised_at timestamptz, kind varchar, subject varchar, detail varchar, run_id varchar)"
    )


def record_targets(con, run_id: str, start: date, end: date, outcomes: list[TargetOutcome]) -> None:
    """Append this run's outcomes (the next file holds every earlier run's rows already)."""
    ensure_ops_tables(con)
    for o in outcomes:
        con.execute(
            f"insert into {TARGETS_TABLE} values (?, ?, ?, ?, ?, ?, current_timestamp)",
            [run_id, start, end, o.target, o.status, o.detail],
        )
        if o.status == "behind":
            con.execute(
                f"insert into {ALERTS_TABLE} values (current_timestamp, ?, ?, ?, ?)",
                [ALERT_BEHIND, o.target, o.detail, run_id],
            )


def record_alerts(con, run_id: str, kind: str, subject: str, details: list[str]) -> None:
    """One ``ops_alerts`` row per detail line (e.g. each quarantine/manifest disagreement)."""
    ensure_ops_tables(con)
    for detail in details:
        con.execute(
            f"insert into {ALERTS_TABLE} values (current_timestamp, ?, ?, ?, ?)",
            [kind, subject, detail, run_id],
        )
