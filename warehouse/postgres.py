"""Publish the marts to a PostgreSQL schema for BI tools, swapped in atomically.

One transaction: load every relation into ``costbridge_staging`` with COPY (Arrow
batches from the published DuckDB file, written as CSV), then rename
``costbridge`` -> ``costbridge_old``, ``costbridge_staging`` -> ``costbridge``,
drop the old one and grant the read-only role again. Readers see the whole old
schema or the whole new one; a crash at any point rolls everything back. The
pipeline's own bookkeeping lives in ``costbridge_internal``, which the reader
role cannot read.

Connection settings come from the environment (``COSTBRIDGE_POSTGRES_DSN``) or,
under Airflow, the Connection ``costbridge_postgres``
(`warehouse.airflow_secrets.airflow_postgres_dsn`). The password is never logged.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

log = logging.getLogger(__name__)

DSN_ENV = "COSTBRIDGE_POSTGRES_DSN"
SCHEMA = "costbridge"
STAGING_SCHEMA = f"{SCHEMA}_staging"
OLD_SCHEMA = f"{SCHEMA}_old"
INTERNAL_SCHEMA = f"{SCHEMA}_internal"
READER_ROLE = "costbridge_reader"
# Any constant works; it keeps two publishers from swapping the same schema at once.
_ADVISORY_LOCK = 0x0C057B12
BATCH_ROWS = 50_000
# Relations BI tools read: the fact, dimensions, role marts, FOCUS views, ops records.
PUBLISHED_PREFIXES = ("fct_", "dim_", "mart_", "focus_", "ops_")

_SIMPLE_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(38,0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "BLOB": "bytea",
}


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    postgres_type: str
    # Nested DuckDB values (lists, structs, maps) are published as their JSON text.
    as_text: bool = False


def postgres_type(duckdb_type: str) -> tuple[str, bool]:
    """The PostgreSQL type for a DuckDB column type, and whether it travels as text."""
    t = duckdb_type.upper()
    if t in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[t], False
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", t)
    if decimal:
        return f"numeric({decimal.group(1)},{decimal.group(2)})", False
    if t.startswith("TIMESTAMP_"):  # TIMESTAMP_S / _MS / _NS
        return "timestamp", False
    return "text", True


def describe_dsn(dsn: str) -> str:
    """host:port/dbname as user: what a log line may say about a connection."""
    params = conninfo_to_dict(dsn)
    return (
        f"{params.get('host', 'localhost')}:{params.get('port', 5432)}/"
        f"{params.get('dbname', '?')} as {params.get('user', '?')}"
    )


def resolve_dsn() -> str | None:
    return os.environ.get(DSN_ENV) or None


def published_relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables"
        " where table_schema = 'main' order by table_name"
    ).fetchall()
    return [name for (name,) in rows if name.startswith(PUBLISHED_PREFIXES)]


def columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> list[Column]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'main' and table_name = ? order by ordinal_position",
        [relation],
    ).fetchall()
    return [Column(name, dtype, *postgres_type(dtype)) for name, dtype in rows]


def _select(relation: str, columns: list[Column]) -> str:
    exprs = [
        f'cast(to_json("{c.name}") as varchar) as "{c.name}"' if c.as_text else f'"{c.name}"'
        for c in columns
    ]
    return f'select {", ".join(exprs)} from main."{relation}"'


def _copy_relation(
    cur: psycopg.Cursor, duck: duckdb.DuckDBPyConnection, relation: str, columns: list[Column]
) -> int:
    target = sql.Identifier(STAGING_SCHEMA, relation)
    cur.execute(
        sql.SQL("create table {} ({})").format(
            target,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.postgres_type))
                for c in columns
            ),
        )
    )
    copy_stmt = sql.SQL("copy {} ({}) from stdin (format csv)").format(
        target, sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
    )
    # Arrow quotes every string, so an empty string arrives as "" and NULL as an empty field.
    options = pacsv.WriteOptions(include_header=False)
    rows = 0
    reader = duck.execute(_select(relation, columns)).to_arrow_reader(BATCH_ROWS)
    with cur.copy(copy_stmt) as copy:
        for batch in reader:
            if batch.num_rows == 0:
                continue
            buffer = io.BytesIO()
            pacsv.write_csv(pa.Table.from_batches([batch]), buffer, options)
            copy.write(buffer.getvalue())
            rows += batch.num_rows
    return rows


def _ensure_reader_role(cur: psycopg.Cursor, reader_role: str) -> None:
    exists = cur.execute("select 1 from pg_roles where rolname = %s", [reader_role]).fetchall()
    if not exists:
        # NOLOGIN: an administrator gives it a password and LOGIN (docs/finance.md).
        cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(reader_role)))
        log.info("created role %s (NOLOGIN until an administrator enables it)", reader_role)


def publish_to_postgres(
    warehouse_file: Path, dsn: str, *, run_id: str, reader_role: str = READER_ROLE
) -> dict[str, int]:
    """Copy every published relation of the DuckDB file into schema `costbridge`, atomically.

    Returns rows per relation. Raises (leaving the previous schema in place) on any error.
    """
    duck = duckdb.connect(str(warehouse_file), read_only=True)
    try:
        relations = {r: columns_of(duck, r) for r in published_relations(duck)}
        if not relations:
            raise RuntimeError(f"{warehouse_file} has no relation to publish to PostgreSQL")
        log.info("publishing %d relations to PostgreSQL %s", len(relations), describe_dsn(dsn))
        with psycopg.connect(dsn, autocommit=False) as pg, pg.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK])
            _ensure_reader_role(cur, reader_role)
            cur.execute(
                sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(STAGING_SCHEMA))
            )
            cur.execute(sql.SQL("create schema {}").format(sql.Identifier(STAGING_SCHEMA)))
            counts = {
                name: _copy_relation(cur, duck, name, cols) for name, cols in relations.items()
            }
            _swap(cur, reader_role)
            _record(cur, run_id, warehouse_file, counts, reader_role)
            pg.commit()
    finally:
        duck.close()
    log.info("PostgreSQL schema %s now holds run %s: %s", SCHEMA, run_id, counts)
    return counts


def _swap(cur: psycopg.Cursor, reader_role: str) -> None:
    live, staging, old = (sql.Identifier(s) for s in (SCHEMA, STAGING_SCHEMA, OLD_SCHEMA))
    reader = sql.Identifier(reader_role)
    cur.execute(sql.SQL("drop schema if exists {} cascade").format(old))
    has_live = cur.execute("select 1 from pg_namespace where nspname = %s", [SCHEMA]).fetchall()
    if has_live:
        cur.execute(sql.SQL("alter schema {} rename to {}").format(live, old))
    cur.execute(sql.SQL("alter schema {} rename to {}").format(staging, live))
    if has_live:
        # Waits for readers still inside the old tables, then they see the new ones.
        cur.execute(sql.SQL("drop schema {} cascade").format(old))
    # Grants go with the new tables inside the same transaction: never a moment without them.
    cur.execute(sql.SQL("revoke all on schema {} from public").format(live))
    cur.execute(sql.SQL("grant usage on schema {} to {}").format(live, reader))
    cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(live, reader))


def _record(
    cur: psycopg.Cursor, run_id: str, warehouse_file: Path, counts: dict[str, int], reader_role: str
) -> None:
    internal = sql.Identifier(INTERNAL_SCHEMA)
    cur.execute(sql.SQL("create schema if not exists {}").format(internal))
    cur.execute(sql.SQL("revoke all on schema {} from public").format(internal))
    cur.execute(
        sql.SQL("revoke all on schema {} from {}").format(internal, sql.Identifier(reader_role))
    )
    cur.execute(
        sql.SQL(
            "create table if not exists {}.publications ("
            " run_id text not null, warehouse_file text not null, row_counts jsonb not null,"
            " published_at timestamptz not null default now())"
        ).format(internal)
    )
    cur.execute(
        sql.SQL(
            "insert into {}.publications (run_id, warehouse_file, row_counts) values (%s, %s, %s)"
        ).format(internal),
        [run_id, str(warehouse_file), json.dumps(counts)],
    )
