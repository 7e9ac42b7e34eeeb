"""Parquet exports of every mart for BI tools that read files, replaced atomically.

Layout, as readers see it::

    <exports>/parquet/<mart>/month=YYYY-MM/data_0.parquet

``<exports>/parquet`` is a symbolic link to one complete version
(``<exports>/parquet_versions/<run>/``). A publish writes a new version beside
it, then swaps the link with one rename: a reader globbing the path sees the old
version or the new one, never a mix. The previous version is kept until the next
publish so a reader that listed it a moment ago can still open its files.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

EXPORTED_PREFIXES = ("fct_", "dim_", "mart_", "focus_")
# The column that says which month a row belongs to, first match wins.
MONTH_COLUMNS = ("charge_date", "period_start", "week_start", "month_start", "ChargePeriodStart")


def exported_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables"
        " where table_schema = 'main' order by table_name"
    ).fetchall()
    return [name for (name,) in rows if name.startswith(EXPORTED_PREFIXES)]


def month_column(con: duckdb.DuckDBPyConnection, mart: str) -> str:
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'main' and table_name = ?",
            [mart],
        ).fetchall()
    )
    for name in MONTH_COLUMNS:
        if name in types:
            return name
    dated = [n for n, t in types.items() if t == "DATE" or t.startswith("TIMESTAMP")]
    if not dated:
        raise ValueError(f"Parquet export: mart {mart} has no date column to partition by month")
    return dated[0]


def export_parquet(warehouse_file: Path, exports_dir: Path, run_id: str) -> dict[str, int]:
    """Write every mart of the (published) DuckDB file as monthly Parquet; swap it in.

    Returns rows per mart.
    """
    exports_dir = Path(exports_dir)
    versions = exports_dir / "parquet_versions"
    link = exports_dir / "parquet"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in run_id)
    version = versions / safe
    versions.mkdir(parents=True, exist_ok=True)
    live = link.resolve() if link.is_symlink() else None
    # Leftovers of crashed exports, and versions older than the live one's predecessor.
    for old in versions.iterdir():
        if old != live and old != version:
            shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(version, ignore_errors=True)
    version.mkdir()

    con = duckdb.connect(str(warehouse_file), read_only=True)
    counts = {}
    try:
        for mart in exported_marts(con):
            column = month_column(con, mart)
            # A path is SQL text here (COPY takes no parameter): double its quotes.
            target = str(version / mart).replace("'", "''")
            con.execute(
                f'copy (select *, strftime("{column}", \'%Y-%m\') as month from main."{mart}")'
                f" to '{target}' (format parquet, partition_by (month))"
            )
            counts[mart] = con.execute(f'select count(*) from main."{mart}"').fetchall()[0][0]
    finally:
        con.close()
    if link.exists() and not link.is_symlink():
        raise RuntimeError(f"{link} is not a symbolic link made by costbridge; move it away")
    temporary = exports_dir / f".parquet.{safe}.link"
    if temporary.is_symlink():
        temporary.unlink()
    # Relative, so the export folder can be moved or mounted elsewhere whole.
    temporary.symlink_to(version.relative_to(exports_dir), target_is_directory=True)
    os.replace(temporary, link)
    log.info("Parquet exports of %d marts at %s (run %s)", len(counts), link, run_id)
    return counts
