"""Publication to a real PostgreSQL: types, atomic swap, and the read-only BI role."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from warehouse import pipeline
from warehouse.postgres import INTERNAL_SCHEMA, publish_to_postgres
from warehouse.settings import Settings

READER_PASSWORD = "reader-pw-not-a-secret-in-tests"


def _warehouse(path: Path, rows: int, tag: str = "v1") -> Path:
    """A small published-looking warehouse: a fact and a mart with every column type."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute(
        """
        create table fct_ai_cost as
        select
            'row-' || i::varchar as cost_id,
            case i % 3 when 0 then 'search' when 1 then 'support' else 'ml-platform' end as team,
            (i % 7)::bigint as requests,
            (i / 100.0)::decimal(38, 12) as billed_cost,
            i % 2 = 0 as is_shared_cost,
            date '2026-09-28' + (i % 10)::int as charge_date
        from range(?) as t(i)
        """,
        [rows],
    )
    con.execute(
        f"""
        create table mart_types as select * from (values
            ('a', 'text, with "quotes"
and a newline', 1::bigint, 2::integer, 1.5::double, 123.456789012345::decimal(38, 12),
             true, date '2026-10-01', timestamptz '2026-10-01 12:34:56.789012+00', [1, 2]),
            ('{tag}', '', null, null, null, null, null, null, null, null)
        ) as t(type_id, label, big, small, ratio, money, flag, day, paid_at, ids)
        """
    )
    con.execute("create table int_hidden as select 1 as x")  # not a mart: never published
    con.close()
    return path


def _reader(postgres_server, dsn: str) -> str:
    """The reader role with a password, and a DSN for it on the test database."""
    with psycopg.connect(postgres_server.superuser_dsn, autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_roles where rolname = 'costbridge_reader'"
        ).fetchall()
        if not exists:
            conn.execute("create role costbridge_reader nologin")
        conn.execute(f"alter role costbridge_reader login password '{READER_PASSWORD}'")
    params = conninfo_to_dict(dsn)
    params.update(user="costbridge_reader", password=READER_PASSWORD)
    return make_conninfo(**params)


def test_marts_arrive_with_their_types_and_values(postgres_database, tmp_path):
    counts = publish_to_postgres(
        _warehouse(tmp_path / "w.duckdb", 50), postgres_database, run_id="r1"
    )
    assert counts == {"fct_ai_cost": 50, "mart_types": 2}
    with psycopg.connect(postgres_database) as conn:
        types = dict(
            conn.execute(
                "select column_name, data_type || coalesce('(' || numeric_precision || ','"
                " || numeric_scale || ')', '') from information_schema.columns"
                " where table_schema = 'costbridge' and table_name = 'mart_types'"
            ).fetchall()
        )
        rows = conn.execute("select * from costbridge.mart_types order by type_id").fetchall()
        tables = {
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'costbridge'"
            )
        }
    assert types == {
        "type_id": "text",
        "label": "text",
        "big": "bigint(64,0)",
        "small": "integer(32,0)",
        "ratio": "double precision",
        "money": "numeric(38,12)",
        "flag": "boolean",
        "day": "date",
        "paid_at": "timestamp with time zone",
        "ids": "text",
    }
    assert rows[0] == (
        "a",
        'text, with "quotes"\nand a newline',
        1,
        2,
        1.5,
        Decimal("123.456789012345"),
        True,
        date(2026, 10, 1),
        datetime(2026, 10, 1, 12, 34, 56, 789012, tzinfo=UTC),
        "[1,2]",
    )
    # An empty string stays empty, NULL stays NULL.
    assert rows[1] == ("v1", "", None, None, None, None, None, None, None, None)
    assert tables == {"fct_ai_cost", "mart_types"}


def test_reader_role_runs_bi_queries_and_cannot_write(postgres_server, postgres_database, tmp_path):
    publish_to_postgres(_warehouse(tmp_path / "w.duckdb", 300), postgres_database, run_id="r1")
    reader = _reader(postgres_server, postgres_database)
    with psycopg.connect(reader, autocommit=True) as conn:
        by_team = conn.execute(
            """select f.team, count(*), sum(f.billed_cost), max(t.type_id)
               from costbridge.fct_ai_cost as f
               inner join costbridge.mart_types as t on t.flag or t.flag is null
               where f.charge_date >= date '2026-09-28'
               group by f.team order by f.team"""
        ).fetchall()
        assert [r[0] for r in by_team] == ["ml-platform", "search", "support"]
        assert sum(r[1] for r in by_team) == 300 * 2
        for statement, error in [
            (
                "insert into costbridge.fct_ai_cost (cost_id) values ('x')",
                errors.InsufficientPrivilege,
            ),
            ("update costbridge.fct_ai_cost set team = 'x'", errors.InsufficientPrivilege),
            ("delete from costbridge.fct_ai_cost", errors.InsufficientPrivilege),
            ("create table costbridge.mine (x int)", errors.InsufficientPrivilege),
            ("create table public.mine (x int)", errors.InsufficientPrivilege),
            ("create schema mine", errors.InsufficientPrivilege),
            ("drop table costbridge.fct_ai_cost", errors.InsufficientPrivilege),
            (f"select * from {INTERNAL_SCHEMA}.publications", errors.InsufficientPrivilege),
        ]:
            with pytest.raises(error):
                conn.execute(statement)


def test_grants_survive_the_next_publish_and_old_tables_go(
    postgres_server, postgres_database, tmp_path
):
    warehouse = tmp_path / "w.duckdb"
    publish_to_postgres(_warehouse(warehouse, 10, "v1"), postgres_database, run_id="r1")
    reader = _reader(postgres_server, postgres_database)
    publish_to_postgres(_warehouse(warehouse, 20, "v2"), postgres_database, run_id="r2")
    with psycopg.connect(reader) as conn:
        assert conn.execute("select count(*) from costbridge.fct_ai_cost").fetchall() == [(20,)]
        assert conn.execute(
            "select type_id from costbridge.mart_types where type_id like 'v%'"
        ).fetchall() == [("v2",)]
    with psycopg.connect(postgres_database) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace")}
        runs = conn.execute(
            f"select run_id from {INTERNAL_SCHEMA}.publications order by published_at"
        ).fetchall()
    assert "costbridge" in schemas and "costbridge_staging" not in schemas
    assert not [s for s in schemas if s.startswith("costbridge_old")], schemas
    assert runs == [("r1",), ("r2",)]


def test_a_failed_load_leaves_the_previous_schema(postgres_database, tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb", 10)
    publish_to_postgres(warehouse, postgres_database, run_id="r1")
    con = duckdb.connect(str(warehouse))
    con.execute("create or replace table fct_ai_cost as select * from fct_ai_cost limit 3")
    # Loaded after the fact: a date past PostgreSQL's year limit (5874897) fails its COPY.
    con.execute("create table mart_zz_bad as select date '5881000-01-01' as paid_on")
    con.close()
    with pytest.raises(psycopg.DataError):
        publish_to_postgres(warehouse, postgres_database, run_id="broken")
    with psycopg.connect(postgres_database) as conn:
        assert conn.execute("select count(*) from costbridge.fct_ai_cost").fetchall() == [(10,)]
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace")}
        runs = conn.execute(f"select run_id from {INTERNAL_SCHEMA}.publications").fetchall()
    assert "costbridge_staging" not in schemas and runs == [("r1",)]


def test_readers_see_the_whole_old_or_the_whole_new_schema(
    postgres_server, postgres_database, tmp_path
):
    old, new = 150_000, 160_000
    publish_to_postgres(
        _warehouse(tmp_path / "old.duckdb", old, "v1"), postgres_database, run_id="r1"
    )
    nxt = _warehouse(tmp_path / "new.duckdb", new, "v2")
    reader = _reader(postgres_server, postgres_database)
    seen: list[tuple] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def read_loop() -> None:
        try:
            with psycopg.connect(reader, autocommit=True) as conn:
                while not stop.is_set():
                    # One statement: the fact's rows and the other mart's version, together.
                    seen.append(
                        conn.execute(
                            "select (select count(*) from costbridge.fct_ai_cost),"
                            " (select max(type_id) from costbridge.mart_types"
                            "  where type_id like 'v%')"
                        ).fetchall()[0]
                    )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=read_loop) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        publish_to_postgres(nxt, postgres_database, run_id="r2")
        reads_at_swap = len(seen)
        # Keep reading until the readers have seen the new schema (or clearly never will).
        for _ in range(200):
            if seen and seen[-1] == (new, "v2"):
                break
            threading.Event().wait(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not failures, failures
    assert reads_at_swap > 0, "no read happened while the publish ran"
    assert set(seen) <= {(old, "v1"), (new, "v2")}, set(seen) - {(old, "v1"), (new, "v2")}
    assert (old, "v1") in seen and (new, "v2") in seen


def test_no_postgres_configured_is_skipped_with_an_info_log(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)
    settings = Settings(home=tmp_path / "home", sources_file=tmp_path / "sources.yml")
    with caplog.at_level(logging.INFO, logger="warehouse.pipeline"):
        assert pipeline.publish_postgres(settings, "r1") == {"postgres": "skipped"}
    assert "skipping the PostgreSQL publication" in caplog.text


def test_the_pipeline_step_uses_the_env_dsn_and_never_logs_the_password(
    postgres_server, postgres_database, tmp_path, monkeypatch, caplog
):
    settings = Settings(home=tmp_path / "home", sources_file=tmp_path / "sources.yml")
    settings.warehouse_file.parent.mkdir(parents=True)
    _warehouse(settings.warehouse_file, 5)
    monkeypatch.setenv("COSTBRIDGE_POSTGRES_DSN", postgres_database)
    with caplog.at_level(logging.DEBUG):
        result = pipeline.publish_postgres(settings, "r1")
    assert result == {"postgres": {"fct_ai_cost": 5, "mart_types": 2}}
    assert postgres_server.superuser_password not in caplog.text
    assert f"{postgres_server.host}:{postgres_server.port}" in caplog.text


def test_a_lock_the_publisher_cannot_get_fails_it_within_its_lock_timeout(
    postgres_database, tmp_path
):
    from warehouse.postgres import _ADVISORY_LOCK, Timeouts

    warehouse = _warehouse(tmp_path / "w.duckdb", 10)
    publish_to_postgres(warehouse, postgres_database, run_id="r1")
    # Someone else (not a publisher: it has no publisher's application_name) holds the
    # publication lock. The server ends it after a minute, so a publisher without a
    # lock_timeout would wait that long and then succeed.
    with psycopg.connect(postgres_database) as other:
        other.execute("set idle_in_transaction_session_timeout = '60s'")
        other.execute("select pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK])
        with pytest.raises(errors.LockNotAvailable, match="lock timeout"):
            publish_to_postgres(
                warehouse, postgres_database, run_id="r2", timeouts=Timeouts(lock="500ms")
            )
    with psycopg.connect(postgres_database) as conn:
        runs = conn.execute(f"select run_id from {INTERNAL_SCHEMA}.publications").fetchall()
    assert runs == [("r1",)]


def test_the_statement_timeout_is_set_and_read_from_the_environment(
    postgres_database, tmp_path, monkeypatch
):
    monkeypatch.setenv("COSTBRIDGE_POSTGRES_STATEMENT_TIMEOUT", "1ms")
    with pytest.raises(errors.QueryCanceled, match="statement timeout"):
        publish_to_postgres(
            _warehouse(tmp_path / "w.duckdb", 200_000), postgres_database, run_id="r1"
        )
    with psycopg.connect(postgres_database) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace")}
    assert not {"costbridge", "costbridge_staging"} & schemas


def test_every_target_moves_together_and_postgres_records_the_published_file(
    postgres_database, tmp_path
):
    from tests.warehouse.test_publish import _home, _next, _targets, _window

    settings = _home(tmp_path)
    result = pipeline.publish(
        settings, _window(), str(_next(settings, "r1", 12)), "r1", postgres_database
    )
    assert result["postgres"]["fct_ai_cost"] == 12 and result["parquet"]["fct_ai_cost"] == 12
    assert {(t[1], t[2]) for t in _targets(settings)} == {
        ("duckdb", "ok"),
        ("postgres", "ok"),
        ("parquet", "ok"),
    }
    with psycopg.connect(postgres_database) as conn:
        [(run, path)] = conn.execute(
            f"select run_id, warehouse_file from {INTERNAL_SCHEMA}.publications"
        ).fetchall()
        # PostgreSQL carries the ops records of the run it holds.
        assert conn.execute("select run_id from costbridge.ops_publications").fetchall() == [
            ("r1",)
        ]
    assert (run, path) == ("r1", str(settings.warehouse_file))
