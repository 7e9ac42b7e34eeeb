"""The reader role: reads the marts, cannot write, create, read internal schemas or raw payloads."""

from __future__ import annotations

import duckdb
import psycopg
import pytest
from psycopg import errors

from tests.warehouse.test_postgres_publication import _reader, _warehouse
from warehouse.postgres import INTERNAL_SCHEMA, publish_to_postgres

PAYLOAD_CANARY = "RAW-PAYLOAD-CANARY-7f3a"


def _with_quarantine(path):
    _warehouse(path, 20)
    con = duckdb.connect(str(path))
    con.execute(
        "create table ops_quarantine as select 'aws_focus' as source_name,"
        " 'focus_cost_and_usage' as dataset, date '2026-10-19' as partition_date,"
        " 'bill.csv:9' as record_ref, 'Tags is not valid JSON' as reason,"
        f' \'{{"Tags": "{PAYLOAD_CANARY}"}}\' as raw_payload'
    )
    con.close()
    return path


def test_the_reader_cannot_write_create_or_read_internals_or_payloads(
    postgres_server, postgres_database, tmp_path, chaos
):
    publish_to_postgres(_with_quarantine(tmp_path / "w.duckdb"), postgres_database, run_id="r1")
    reader = _reader(postgres_server, postgres_database)
    refused = 0
    with psycopg.connect(reader, autocommit=True) as conn:
        # Finance's quarantine view: every reject with its reason, not its payload.
        rows = conn.execute(
            "select source_name, partition_date::text, record_ref, reason"
            " from costbridge.ops_quarantine"
        ).fetchall()
        assert rows == [("aws_focus", "2026-10-19", "bill.csv:9", "Tags is not valid JSON")]
        statements = [
            ("select raw_payload from costbridge.ops_quarantine", errors.UndefinedColumn),
            (
                "insert into costbridge.ops_quarantine (reason) values ('x')",
                errors.InsufficientPrivilege,
            ),
            ("update costbridge.fct_ai_cost set team = 'x'", errors.InsufficientPrivilege),
            ("create table costbridge.mine (x int)", errors.InsufficientPrivilege),
            ("create schema mine", errors.InsufficientPrivilege),
            (f"select * from {INTERNAL_SCHEMA}.publications", errors.InsufficientPrivilege),
            (
                "select * from costbridge_staging.fct_ai_cost",
                (errors.InsufficientPrivilege, errors.UndefinedTable),
            ),
        ]
        for statement, error in statements:
            with pytest.raises(error):
                conn.execute(statement)
            refused += 1
    with psycopg.connect(postgres_database) as conn:
        dump = str(
            conn.execute(
                "select string_agg(t::text, '') from costbridge.ops_quarantine as t"
            ).fetchall()
        )
    assert PAYLOAD_CANARY not in dump
    chaos(
        "access",
        "reader role: write, create, internal schemas, raw payloads",
        published=f"{refused} of {len(statements)} refused",
        secret_hits=0,
    )
