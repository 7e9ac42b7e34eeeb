"""Attacks on publication: DuckDB, PostgreSQL and Parquet move as one unit, or the run says
which target is behind and why; readers of PostgreSQL never queue behind the publisher.

Small warehouses (tests/warehouse/test_postgres_publication.py) keep these at seconds
each: what is attacked is publication, not the build. Every PostgreSQL wait is bounded
on the reader's side (statement_timeout, idle_in_transaction_session_timeout), so a
publisher that waits forever fails these tests instead of hanging them.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.conftest import REPO_ROOT
from tests.warehouse.test_postgres_publication import _reader
from tests.warehouse.test_postgres_publication import _warehouse as small_warehouse
from tests.warehouse.test_publish import WINDOW, _alerts, _home, _next, _targets, _window
from warehouse import pipeline
from warehouse.build import prepare_next_file
from warehouse.postgres import _ADVISORY_LOCK, APPLICATION_NAME, INTERNAL_SCHEMA

WAIT_SECONDS = 120  # a bound on waiting for a state, never an assertion on speed
READER_BOUND = "5s"  # a reader query that waits longer than this has queued behind a lock


def _bounded(dsn: str) -> str:
    params = conninfo_to_dict(dsn)
    params["options"] = f"-c statement_timeout={READER_BOUND}"
    return make_conninfo(**params)


def _pg_state(dsn: str) -> tuple[list[str], int, str | None]:
    """Runs on record in costbridge_internal, rows of the fact, the mart's version tag."""
    with psycopg.connect(dsn) as conn:
        runs = [
            r[0]
            for r in conn.execute(
                f"select run_id from {INTERNAL_SCHEMA}.publications order by published_at"
            )
        ]
    return (runs, *_read(dsn))


def _read(dsn: str) -> tuple[int, str | None]:
    """What a BI reader sees: rows of the fact, and the version tag of the other mart."""
    with psycopg.connect(_bounded(dsn)) as conn:
        rows = conn.execute("select count(*) from costbridge.fct_ai_cost").fetchall()[0][0]
        tag = conn.execute(
            "select max(type_id) from costbridge.mart_types where type_id <> 'a'"
        ).fetchall()[0][0]
    return rows, tag


def _old_schemas(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [
            r[0]
            for r in conn.execute(
                "select nspname from pg_namespace where nspname like 'costbridge\\_old%'"
            )
        ]


def _duckdb_runs(settings) -> list[str]:
    con = duckdb.connect(str(settings.warehouse_file), read_only=True)
    try:
        rows = con.execute("select run_id from ops_publications order by 1").fetchall()
        return [r[0] for r in rows]
    finally:
        con.close()


def _cli(settings, next_file: Path, run_id: str, dsn: str, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "COSTBRIDGE_HOME": str(settings.home),
        "COSTBRIDGE_SOURCES": str(settings.sources_file),
        "COSTBRIDGE_POSTGRES_DSN": dsn,
        **env,
    }
    start, end = WINDOW
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "warehouse",
            "publish",
            "--next-file",
            str(next_file),
            "--start",
            start,
            "--end",
            end,
            "--run-id",
            run_id,
        ],
        cwd=REPO_ROOT,
        env=environment,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_bi_session_idle_in_transaction_blocks_neither_the_publisher_nor_readers(
    postgres_server, postgres_database, tmp_path, chaos
):
    settings = _home(tmp_path)
    pipeline.publish(settings, _window(), str(_next(settings, "r1", 1000)), "r1", postgres_database)
    reader = _reader(postgres_server, postgres_database)
    # A dashboard that ran a SELECT and left its transaction open. The server ends it
    # after a minute, so a publisher that waits for it would only stall, not hang, here.
    idle = psycopg.connect(reader)
    idle.execute("set idle_in_transaction_session_timeout = '60s'")
    assert idle.execute("select count(*) from costbridge.fct_ai_cost").fetchall() == [(1000,)]

    seen: list[tuple] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def read_loop() -> None:
        try:
            with psycopg.connect(_bounded(reader), autocommit=True) as conn:
                while not stop.is_set():
                    seen.append(
                        conn.execute(
                            "select (select count(*) from costbridge.fct_ai_cost),"
                            " (select max(type_id) from costbridge.mart_types"
                            "  where type_id <> 'a')"
                        ).fetchall()[0]
                    )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=read_loop) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        while not seen and not failures:
            time.sleep(0.01)
        reads_before = len(seen)
        pipeline.publish(
            settings, _window(), str(_next(settings, "r2", 2000)), "r2", postgres_database
        )
        reads_during = len(seen) - reads_before
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    # New readers never queued behind the publisher (none hit its statement_timeout)...
    assert not failures, failures
    assert reads_during > 0, "no read ran while the publish ran"
    assert set(seen) <= {(1000, "r1"), (2000, "r2")}
    # ...the publisher did not wait for the idle reader nor end its session...
    assert idle.execute("select 1").fetchall() == [(1,)]
    assert len(_old_schemas(postgres_database)) == 1, "the old schema it holds is left"
    idle.rollback()
    idle.close()
    # ...and readers see the new run; the next publication drops what was left.
    assert _read(reader) == (2000, "r2")
    runs, rows, tag = _pg_state(postgres_database)
    assert (runs, rows, tag) == (["r1", "r2"], 2000, "r2")
    pipeline.publish(settings, _window(), str(_next(settings, "r3", 3000)), "r3", postgres_database)
    assert _old_schemas(postgres_database) == []
    chaos(
        "publication",
        "BI session idle in transaction after a SELECT, readers during the swap",
        rows_in=2000,
        loaded=rows,
        quarantined=0,
        published="yes",
    )


def test_a_stale_publisher_session_is_ended_and_no_reader_session_is(
    postgres_server, postgres_database, tmp_path, chaos
):
    settings = _home(tmp_path)
    pipeline.publish(settings, _window(), str(_next(settings, "r1", 10)), "r1", postgres_database)
    reader = psycopg.connect(_reader(postgres_server, postgres_database))
    reader.execute("select count(*) from costbridge.fct_ai_cost")  # idle in transaction
    # An earlier publisher that hung mid-publication: idle in transaction, holding the
    # publication lock. The server would end it after a minute by itself.
    stale = psycopg.connect(postgres_database, application_name=APPLICATION_NAME)
    stale.execute("set idle_in_transaction_session_timeout = '60s'")
    stale.execute("select pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK])

    pipeline.publish(settings, _window(), str(_next(settings, "r2", 20)), "r2", postgres_database)

    # Ended by the publisher (an administrator command), not by the server's timeout.
    with pytest.raises(psycopg.OperationalError, match="administrator command"):
        stale.execute("select 1")
    stale.close()
    assert reader.execute("select 1").fetchall() == [(1,)], "a reader's session is never ended"
    reader.close()
    runs, rows, _ = _pg_state(postgres_database)
    assert (runs, rows) == (["r1", "r2"], 20)
    chaos(
        "publication",
        "stale publisher session idle in transaction holding the publish lock",
        rows_in=20,
        loaded=rows,
        quarantined=0,
        published="yes",
    )


def test_a_nul_byte_holds_postgres_back_visibly_and_the_next_run_levels_it(
    postgres_server, postgres_database, tmp_path, chaos
):
    settings = _home(tmp_path)
    pipeline.publish(settings, _window(), str(_next(settings, "r1", 10)), "r1", postgres_database)
    # The NUL is put straight into the next file's fact (the landing gate rejects it
    # upstream): this attacks publication itself. PostgreSQL text cannot hold a NUL.
    nxt = prepare_next_file(settings.warehouse_file, settings.build_dir, "nul-run")
    con = duckdb.connect(str(nxt))
    con.execute(
        "insert into fct_ai_cost select 'new-' || i, 'search', 1, 1.0, false, date '2026-10-01'"
        " from range(5) as t(i)"
    )
    con.execute("update fct_ai_cost set team = 'sea' || chr(0) || 'rch' where cost_id = 'row-3'")
    con.close()

    proc = _cli(settings, nxt, "nul-run", postgres_database)
    out, err = proc.communicate(timeout=WAIT_SECONDS)
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err, err
    message = err.strip().splitlines()[-1]
    assert message.startswith("run nul-run published 2026-10-01..2026-10-02 to DuckDB")
    assert "postgres is behind: CharacterNotInRepertoire" in message
    assert "copying fct_ai_cost" in message
    assert postgres_server.superuser_password not in out + err

    # DuckDB and Parquet moved; PostgreSQL holds the last good run, whole.
    assert _duckdb_runs(settings) == ["nul-run", "r1"]
    assert (settings.exports_dir / "parquet").resolve().name == "nul-run"
    assert _pg_state(postgres_database) == (["r1"], 10, "r1")
    status = {t[1]: t[2:] for t in _targets(settings) if t[0] == "nul-run"}
    assert status["duckdb"] == status["parquet"] == ("ok", "")
    assert status["postgres"][0] == "behind" and "0x00" in status["postgres"][1]
    assert _alerts(settings) == [
        ("publish_target_behind", "postgres", status["postgres"][1], "nul-run")
    ]

    # The next run (its rebuild no longer carries the NUL) republishes every target.
    again = prepare_next_file(settings.warehouse_file, settings.build_dir, "clean-run")
    con = duckdb.connect(str(again))
    con.execute("update fct_ai_cost set team = replace(team, chr(0), '')")
    con.close()
    pipeline.publish(settings, _window(), str(again), "clean-run", postgres_database)
    runs, rows, _ = _pg_state(postgres_database)
    assert (runs, rows) == (["r1", "clean-run"], 15)
    assert {t[2] for t in _targets(settings) if t[0] == "clean-run"} == {"ok"}
    chaos(
        "publication",
        "NUL byte in a published string column (PostgreSQL COPY rejects it)",
        rows_in=15,
        loaded=15,
        quarantined=0,
        published="DuckDB+Parquet yes, PostgreSQL held+alerted, level next run",
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sigkill_during_the_postgres_publish_keeps_readers_on_the_last_good_run(
    postgres_server, postgres_database, tmp_path, chaos
):
    settings = _home(tmp_path)
    pipeline.publish(settings, _window(), str(_next(settings, "r1", 10)), "r1", postgres_database)
    before = _digest(settings.warehouse_file)
    reader = _reader(postgres_server, postgres_database)
    marker = tmp_path / "paused"
    nxt = small_warehouse(settings.build_dir / "costbridge.killed.duckdb", 20, "killed")
    proc = _cli(
        settings,
        nxt,
        "killed",
        postgres_database,
        COSTBRIDGE_PAUSE_AT="postgres:before_swap",
        COSTBRIDGE_PAUSE_MARKER=str(marker),
    )
    deadline = time.monotonic() + WAIT_SECONDS
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"the publisher ended (exit {proc.returncode}): {proc.communicate()}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("gave up waiting for the pause point postgres:before_swap")
        time.sleep(0.05)
    # Every relation is loaded into staging, the swap not committed: readers are not held up.
    assert _read(reader) == (10, "r1")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    assert _pg_state(postgres_database) == (["r1"], 10, "r1")
    assert _digest(settings.warehouse_file) == before, "DuckDB never moved"
    # The next run completes on every target.
    pipeline.publish(
        settings, _window(), str(_next(settings, "after-kill", 20)), "after-kill", postgres_database
    )
    runs, rows, tag = _pg_state(postgres_database)
    assert (runs, rows, tag) == (["r1", "after-kill"], 20, "after-kill")
    assert _read(reader) == (20, "after-kill")
    assert "after-kill" in _duckdb_runs(settings)
    chaos(
        "crash",
        "kill -9 during the PostgreSQL publish (staging loaded, swap not committed)",
        rows_in=20,
        loaded=rows,
        quarantined=0,
        published="held, then yes",
    )
