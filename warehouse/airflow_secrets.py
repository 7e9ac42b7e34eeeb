"""Resolve a source's secret reference through Airflow Connections, then the environment.

Extractors never import Airflow; the DAG hands them this resolver. A reference
looks like ``{env: OPENAI_ADMIN_KEY, airflow_conn: openai_admin}``: the
Connection's password wins, the environment variable is the fallback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def airflow_secret_resolver(ref: Mapping[str, str]) -> str | None:
    conn_id = ref.get("airflow_conn")
    if conn_id:
        from airflow.sdk import Connection

        try:
            conn = Connection.get(conn_id)
        except Exception:  # not defined: fall back to the environment
            conn = None
        # A database source asks for a whole DSN ({"format": "dsn"}), built from the
        # Connection's fields; every other secret is the Connection's password.
        if conn is not None and ref.get("format") == "dsn":
            if conn.host:
                return connection_dsn(conn)
        elif conn is not None and conn.password:
            return conn.password
    env = ref.get("env")
    return os.environ.get(env) if env else None


_LIBPQ_EXTRAS = ("sslmode", "sslrootcert", "connect_timeout")


def connection_dsn(conn) -> str:
    """A libpq DSN from an Airflow Postgres Connection (the database name is its `schema`)."""
    from psycopg.conninfo import make_conninfo

    params = {
        "host": conn.host,
        "port": conn.port or 5432,
        "dbname": conn.schema or "postgres",
        "user": conn.login,
        "password": conn.password,
        **{k: v for k, v in (conn.extra_dejson or {}).items() if k in _LIBPQ_EXTRAS},
    }
    return make_conninfo(**{k: v for k, v in params.items() if v not in (None, "")})


def airflow_postgres_dsn(conn_id: str = "costbridge_postgres") -> str | None:
    """The BI PostgreSQL as a libpq DSN: the Airflow Connection, else COSTBRIDGE_POSTGRES_DSN.

    None means no PostgreSQL is configured and the publication step is skipped.
    """
    from airflow.sdk import Connection

    from warehouse.postgres import resolve_dsn

    try:
        conn = Connection.get(conn_id)
    except Exception:  # not defined: fall back to the environment
        conn = None
    if conn is None or not conn.host:
        return resolve_dsn()
    return connection_dsn(conn)
