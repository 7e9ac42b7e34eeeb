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
        if conn is not None and conn.password:
            return conn.password
    env = ref.get("env")
    return os.environ.get(env) if env else None
