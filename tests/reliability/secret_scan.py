"""Look for canary secrets and prompt text everywhere costbridge writes: files, PostgreSQL, logs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import psycopg
from psycopg import sql


def scan_files(roots: Iterable[Path], canaries: Iterable[str]) -> list[str]:
    """``path: canary`` for every file under ``roots`` holding a canary (bytes, any format)."""
    needles = [(c, c.encode()) for c in canaries]
    hits = []
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                hits += [f"{path}: {c}" for c, needle in needles if needle in data]
    return hits


def scan_postgres(
    dsn: str, canaries: Iterable[str], schema_prefix: str = "costbridge"
) -> list[str]:
    """``schema.table: canary`` for every published PostgreSQL table whose rows hold a canary."""
    canaries = list(canaries)
    hits = []
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema like %s order by 1, 2",
            [f"{schema_prefix}%"],
        ).fetchall()
        for schema, table in tables:
            text = conn.execute(
                sql.SQL("select coalesce(string_agg(t::text, ' '), '') from {} as t").format(
                    sql.Identifier(schema, table)
                )
            ).fetchall()[0][0]
            hits += [f"{schema}.{table}: {c}" for c in canaries if c in text]
    return hits


def scan_text(name: str, text: str, canaries: Iterable[str]) -> list[str]:
    return [f"{name}: {c}" for c in canaries if c in text]
