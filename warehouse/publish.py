"""Swap the validated next warehouse file in, atomically.

`os.replace` is atomic on POSIX: a reader that opens the published path gets the
old file or the new one, never half of either, and a reader that already holds
the old file keeps reading its inode until it closes. A crash before the rename
leaves the last good file in place; the orphaned next file is removed by the
next build.
"""

from __future__ import annotations

import os
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
