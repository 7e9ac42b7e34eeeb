"""Idempotency: rerunning a day or backfilling a range again publishes byte-identical marts.

Two identical runs once differed at the 12th decimal (mart_finance__unit_cost's
gpu_hours, mart_leadership__roi_summary's roi): doubles were summed in whatever
order DuckDB's threads met the rows. The builds here run with many DuckDB
threads (COSTBRIDGE_DUCKDB_THREADS, read by dbt_project/profiles.yml), more than
the session demo was built with, so any order-dependent sum shows as a hash change.
The ops_ tables are left out: their run ids and timestamps differ by design.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import duckdb
import pytest

from landing.window import Window
from tests.reliability.conftest import FULL
from tests.reliability.restate_home import Home
from tests.warehouse.demo_fixtures import DEMO_END, DEMO_START, _demo_sources
from warehouse import pipeline

PUBLISHED_PREFIXES = ("mart_", "fct_", "dim_", "sem_", "focus_")
THREADS = "8"
RERUNS = 3 if FULL else 1
RANGE_RUNS = 3 if FULL else 1


def published_hashes(warehouse) -> dict[str, str]:
    """sha256 of each published table's column types and sorted rows (repr keeps every bit)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' order by table_name"
            ).fetchall()
            if r[0].startswith(PUBLISHED_PREFIXES)
        ]
        hashes = {}
        for table in tables:
            columns = con.execute(f'describe "{table}"').fetchall()
            rows = con.execute(f'select * from "{table}" order by all').fetchall()
            hashes[table] = hashlib.sha256(repr((columns, rows)).encode()).hexdigest()
        return hashes
    finally:
        con.close()


def fact_rows(warehouse) -> tuple[int, int]:
    """(rows, duplicated ids) of fct_ai_cost."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select count(*), count(*) - count(distinct ai_cost_id) from fct_ai_cost"
        ).fetchall()[0]
    finally:
        con.close()


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


@pytest.fixture
def many_threads(monkeypatch):
    monkeypatch.setenv("COSTBRIDGE_DUCKDB_THREADS", THREADS)
    monkeypatch.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)


def test_each_demo_day_rerun_publishes_identical_marts(home, many_threads, chaos):
    published = published_hashes(home.warehouse_file)
    rows_in, _ = fact_rows(home.warehouse_file)
    assert {"mart_finance__unit_cost", "mart_leadership__roi_summary", "fct_ai_cost"} <= set(
        published
    )
    days = [DEMO_START + timedelta(days=i) for i in range((DEMO_END - DEMO_START).days)]
    days = days if FULL else days[-1:]  # everyday strength: the newest day, one build
    for attempt in range(RERUNS):
        for day in days:
            run_id = f"rerun-{day.isoformat()}-{attempt}"
            pipeline.run_day(home, Window(day, day + timedelta(days=1)), run_id)
            assert changed(published, published_hashes(home.warehouse_file)) == [], (
                f"rerun {attempt + 1} of {day} changed these published tables"
            )
    loaded, duplicates = fact_rows(home.warehouse_file)
    assert (loaded, duplicates) == (rows_in, 0)
    chaos(
        "idempotency",
        f"{len(days)} demo day(s) rerun {RERUNS} time(s), DuckDB threads={THREADS}",
        rows_in=rows_in,
        loaded=loaded,
        published="identical",
        duplicates=duplicates,
    )


def test_the_demo_range_backfilled_again_publishes_identical_marts(home, many_threads, chaos):
    published = published_hashes(home.warehouse_file)
    rows_in, _ = fact_rows(home.warehouse_file)
    window = Window(DEMO_START, DEMO_END)
    for attempt in range(RANGE_RUNS):
        pipeline.run_day(home, window, f"backfill-{attempt}")
        assert changed(published, published_hashes(home.warehouse_file)) == [], (
            f"backfill {attempt + 1} of {DEMO_START}..{DEMO_END} changed these published tables"
        )
    loaded, duplicates = fact_rows(home.warehouse_file)
    assert (loaded, duplicates) == (rows_in, 0)
    chaos(
        "idempotency",
        f"the {len(range((DEMO_END - DEMO_START).days))}-day demo range "
        f"backfilled {RANGE_RUNS} times, DuckDB threads={THREADS}",
        rows_in=rows_in,
        loaded=loaded,
        published="identical",
        duplicates=duplicates,
    )


BACKFILL_START = date(2026, 9, 1)
BACKFILL_END = BACKFILL_START + timedelta(days=14)


@pytest.mark.skipif(not FULL, reason="a 14-day landing and two 14-day builds: make chaos only")
def test_a_14_day_backfill_run_twice_publishes_identical_marts(tmp_path, many_threads, chaos):
    from sandbox.files import write_focus_export, write_value_kpis
    from sandbox.org import DemoOrg
    from warehouse.settings import Settings

    org = DemoOrg.load()
    files = tmp_path / "sandbox"
    write_focus_export(org, files / "focus", BACKFILL_START, BACKFILL_END)
    write_value_kpis(org, files / "value", BACKFILL_START - timedelta(days=7), BACKFILL_END)
    sources = _demo_sources(tmp_path / "sources.yml")
    settings = Settings(home=tmp_path / "home", sources_file=sources)
    backfill = Home(settings, files)
    backfill.extract(BACKFILL_START, BACKFILL_END, org)
    backfill.run(BACKFILL_START, BACKFILL_END, "backfill-first")
    first = published_hashes(settings.warehouse_file)
    rows_in, _ = fact_rows(settings.warehouse_file)
    backfill.run(BACKFILL_START, BACKFILL_END, "backfill-second")
    assert changed(first, published_hashes(settings.warehouse_file)) == []
    loaded, duplicates = fact_rows(settings.warehouse_file)
    assert (loaded, duplicates) == (rows_in, 0)
    chaos(
        "idempotency",
        f"a 14-day range backfilled twice, DuckDB threads={THREADS}",
        rows_in=rows_in,
        loaded=loaded,
        published="identical",
        duplicates=duplicates,
    )
