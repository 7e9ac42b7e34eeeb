"""Publish the marts to a PostgreSQL schema for BI tools, swapped in atomically.

One transaction: load every relation into ``costbridge_staging`` with COPY (Arrow
batches from a DuckDB file, written as CSV), then rename ``costbridge`` ->
``costbridge_old_<id>`` and ``costbridge_staging`` -> ``costbridge``, grant the
read-only role again, and commit. Readers see the whole old schema or the whole
new one; a crash at any point rolls everything back. The pipeline's own
bookkeeping lives in ``costbridge_internal``, which the reader role cannot read.

Readers never queue behind the publisher. Renaming a schema takes no lock on its
tables, so it does not wait for a BI session that still holds the old tables
(even one left idle in a transaction), and readers that start after the commit
resolve ``costbridge.<mart>`` to the new tables. Only dropping the old tables
needs their AccessExclusive lock: that runs after the swap is committed, in its
own transaction with a short ``lock_timeout``, and an old schema a reader still
holds is left for the next publication to drop. Every publishing transaction has
a ``lock_timeout`` and a ``statement_timeout``, so the publisher fails with a
clear error instead of waiting forever. Before it starts, the publisher ends its
own stale sessions (same ``application_name`` and user, e.g. a killed run's
backend left idle in a transaction), never a reader's.

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
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from warehouse.pause import pause_point

log = logging.getLogger(__name__)

DSN_ENV = "COSTBRIDGE_POSTGRES_DSN"
SCHEMA = "costbridge"
STAGING_SCHEMA = f"{SCHEMA}_staging"
# Each publication renames the live schema to OLD_SCHEMA_<id>: a name no earlier old
# schema (still held by a reader, so not yet dropped) can already have.
OLD_SCHEMA = f"{SCHEMA}_old"
INTERNAL_SCHEMA = f"{SCHEMA}_internal"
READER_ROLE = "costbridge_reader"
# Any constant works; it keeps two publishers from swapping the same schema at once.
_ADVISORY_LOCK = 0x0C057B12
BATCH_ROWS = 50_000
# How other sessions tell the publisher's sessions from BI readers.
APPLICATION_NAME = "costbridge-publisher"
# PostgreSQL durations ('10s', '15min'); the environment overrides them per deployment.
LOCK_TIMEOUT_ENV = "COSTBRIDGE_POSTGRES_LOCK_TIMEOUT"
STATEMENT_TIMEOUT_ENV = "COSTBRIDGE_POSTGRES_STATEMENT_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = "10s"
DEFAULT_STATEMENT_TIMEOUT = "15min"
# Dropping an old schema is housekeeping: never worth a reader's wait.
DROP_LOCK_TIMEOUT = "1s"
# Relations BI tools read: the fact, dimensions, role marts, FOCUS views, ops records.
PUBLISHED_PREFIXES = ("fct_", "dim_", "mart_", "focus_", "ops_")
# Columns the reader role never gets. A quarantined row's raw payload is the source's
# own record (scrubbed of known secrets, but still a vendor's raw data): finance sees
# each reject's source, day, reference and reason; the payload stays with the data
# team, in the DuckDB file.
READER_HIDDEN_COLUMNS = {"ops_quarantine": ("raw_payload",)}

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


@dataclass(frozen=True)
class Timeouts:
    lock: str = DEFAULT_LOCK_TIMEOUT
    statement: str = DEFAULT_STATEMENT_TIMEOUT

    @classmethod
    def from_env(cls) -> Timeouts:
        return cls(
            lock=os.environ.get(LOCK_TIMEOUT_ENV) or DEFAULT_LOCK_TIMEOUT,
            statement=os.environ.get(STATEMENT_TIMEOUT_ENV) or DEFAULT_STATEMENT_TIMEOUT,
        )


def describe_failure(exc: BaseException, dsn: str | None = None) -> str:
    """One line for a failed publication: the error class, PostgreSQL's message and where.

    Never the DSN's password, even if a driver message were to quote the DSN.
    """
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(exc)
    parts = [f"{type(exc).__name__}: {primary}"]
    context = getattr(diag, "context", None)
    if context:
        parts.append(f"({context.strip().splitlines()[0]})")
    parts.extend(getattr(exc, "__notes__", ()))
    line = " ".join(" ".join(p.split()) for p in parts)
    password = conninfo_to_dict(dsn).get("password") if dsn else None
    if password:
        line = line.replace(str(password), "***")
    return line[:500]


def published_relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables"
        " where table_schema = 'main' order by table_name"
    ).fetchall()
    return [name for (name,) in rows if name.startswith(PUBLISHED_PREFIXES)]


def columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> list[Column]:
    """The columns BI readers get: every column but those in READER_HIDDEN_COLUMNS."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'main' and table_name = ? order by ordinal_position",
        [relation],
    ).fetchall()
    hidden = READER_HIDDEN_COLUMNS.get(relation, ())
    return [
        Column(name, dtype, *postgres_type(dtype)) for name, dtype in rows if name not in hidden
    ]


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
    try:
        with cur.copy(copy_stmt) as copy:
            for batch in reader:
                if batch.num_rows == 0:
                    continue
                buffer = io.BytesIO()
                pacsv.write_csv(pa.Table.from_batches([batch]), buffer, options)
                copy.write(buffer.getvalue())
                rows += batch.num_rows
    except psycopg.Error as exc:
        exc.add_note(f"copying {relation}")
        raise
    return rows


def _ensure_reader_role(cur: psycopg.Cursor, reader_role: str) -> None:
    exists = cur.execute("select 1 from pg_roles where rolname = %s", [reader_role]).fetchall()
    if not exists:
        # NOLOGIN: an administrator gives it a password and LOGIN (docs/finance.md).
        cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(reader_role)))
        log.info("created role %s (NOLOGIN until an administrator enables it)", reader_role)


def publish_to_postgres(
    warehouse_file: Path,
    dsn: str,
    *,
    run_id: str,
    reader_role: str = READER_ROLE,
    timeouts: Timeouts | None = None,
    recorded_as: Path | None = None,
) -> dict[str, int]:
    """Copy every published relation of the DuckDB file into schema `costbridge`, atomically.

    `recorded_as` is the path `costbridge_internal.publications` names (the published
    file, when this copies the next file before it is swapped in). Returns rows per
    relation. Raises (leaving the previous schema in place) on any error.
    """
    timeouts = timeouts or Timeouts.from_env()
    duck = duckdb.connect(str(warehouse_file), read_only=True)
    try:
        relations = {r: columns_of(duck, r) for r in published_relations(duck)}
        if not relations:
            raise RuntimeError(f"{warehouse_file} has no relation to publish to PostgreSQL")
        log.info("publishing %d relations to PostgreSQL %s", len(relations), describe_dsn(dsn))
        with _connect(dsn) as pg:
            _end_stale_publishers(pg)
            with pg.transaction(), pg.cursor() as cur:
                _set_timeouts(cur, timeouts.lock, timeouts.statement)
                cur.execute("select pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK])
                _ensure_reader_role(cur, reader_role)
                cur.execute(
                    sql.SQL("drop schema if exists {} cascade").format(
                        sql.Identifier(STAGING_SCHEMA)
                    )
                )
                cur.execute(sql.SQL("create schema {}").format(sql.Identifier(STAGING_SCHEMA)))
                counts = {
                    name: _copy_relation(cur, duck, name, cols) for name, cols in relations.items()
                }
                pause_point("postgres:before_swap")
                _swap(cur, reader_role)
                _record(cur, run_id, recorded_as or warehouse_file, counts, reader_role)
            _drop_old_schemas(pg)
    finally:
        duck.close()
    log.info("PostgreSQL schema %s now holds run %s: %s", SCHEMA, run_id, counts)
    return counts


def _connect(dsn: str) -> psycopg.Connection:
    # Autocommit between the explicit transactions: the swap and each drop commit alone.
    options: dict = {"autocommit": True, "application_name": APPLICATION_NAME}
    if "connect_timeout" not in conninfo_to_dict(dsn):
        options["connect_timeout"] = 30
    return psycopg.connect(dsn, **options)


def _set_timeouts(cur: psycopg.Cursor, lock: str, statement: str | None = None) -> None:
    # set_config(..., true) is SET LOCAL with bind parameters: it ends with the transaction.
    cur.execute("select set_config('lock_timeout', %s, true)", [lock])
    if statement:
        cur.execute("select set_config('statement_timeout', %s, true)", [statement])


def _end_stale_publishers(pg: psycopg.Connection) -> None:
    """Terminate this user's other publisher sessions on this database; never a reader's.

    There is one publisher at a time (the DAG's duckdb_writer pool and max_active_runs=1,
    the advisory lock), so another session with the publisher's name is a stale one:
    a killed or hung run whose backend still holds its locks.
    """
    rows = pg.execute(
        "select pid, state, pg_terminate_backend(pid, 5000) from pg_stat_activity"
        " where application_name = %s and usename = current_user"
        " and datname = current_database() and pid <> pg_backend_pid()",
        [APPLICATION_NAME],
    ).fetchall()
    for pid, state, ended in rows:
        log.warning(
            "terminated a stale costbridge publisher session (pid %s, %s)%s",
            pid,
            state,
            "" if ended else ": it had not ended after 5 s",
        )


def _old_schema_name() -> str:
    return f"{OLD_SCHEMA}_{uuid.uuid4().hex[:12]}"


def _swap(cur: psycopg.Cursor, reader_role: str) -> None:
    live, staging = sql.Identifier(SCHEMA), sql.Identifier(STAGING_SCHEMA)
    reader = sql.Identifier(reader_role)
    has_live = cur.execute("select 1 from pg_namespace where nspname = %s", [SCHEMA]).fetchall()
    if has_live:
        old = sql.Identifier(_old_schema_name())
        # No table lock: a reader inside the old tables keeps them, and is not waited for.
        cur.execute(sql.SQL("alter schema {} rename to {}").format(live, old))
        # So no new query finds the old copy under its new name.
        cur.execute(sql.SQL("revoke all on schema {} from {}").format(old, reader))
    cur.execute(sql.SQL("alter schema {} rename to {}").format(staging, live))
    # Grants go with the new tables inside the same transaction: never a moment without them.
    cur.execute(sql.SQL("revoke all on schema {} from public").format(live))
    cur.execute(sql.SQL("grant usage on schema {} to {}").format(live, reader))
    cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(live, reader))


def _drop_old_schemas(pg: psycopg.Connection) -> list[str]:
    """Drop every old schema no reader holds any more; leave (and log) the others."""
    names = [
        r[0]
        for r in pg.execute(
            "select nspname from pg_namespace where nspname = %s or nspname like %s"
            " order by nspname",
            [OLD_SCHEMA, OLD_SCHEMA.replace("_", r"\_") + r"\_%"],
        ).fetchall()
    ]
    dropped = []
    for name in names:
        try:
            with pg.transaction(), pg.cursor() as cur:
                _set_timeouts(cur, DROP_LOCK_TIMEOUT)
                cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(name)))
            dropped.append(name)
        except psycopg.errors.LockNotAvailable:
            log.warning(
                "left PostgreSQL schema %s in place: a session still reads its tables"
                " (the next publication drops it)",
                name,
            )
    return dropped


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
