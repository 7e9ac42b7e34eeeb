"""A past day can be rerun: freshness means every day of the window is present and final.

On the old rule ("the newest charge_date is the window's last day") this failed,
because the published warehouse already held the later day.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb

from tests.warehouse.demo_fixtures import DEMO_END, DEMO_START
from warehouse import pipeline


def test_rerunning_the_first_demo_day_publishes(home, monkeypatch, chaos):
    monkeypatch.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)
    window = pipeline.DataWindow(DEMO_START, DEMO_START + timedelta(days=1))
    pipeline.run_day(home, window, "rerun-past-day")
    con = duckdb.connect(str(home.warehouse_file), read_only=True)
    try:
        runs = [r[0] for r in con.execute(
            "select run_id from ops_publications order by published_at").fetchall()]
        days = [r[0] for r in con.execute(
            "select distinct charge_date from fct_ai_cost where charge_date >= ? order by 1",
            [DEMO_START]).fetchall()]
        loaded = con.execute("select count(*) from fct_ai_cost").fetchall()[0][0]
    finally:
        con.close()
    assert runs[-1] == "rerun-past-day"
    assert days[-1] == DEMO_END - timedelta(days=1), "the later day is kept"
    chaos("rerun", "rerun of a past day after a later day was published",
          loaded=loaded, published="yes")


def test_a_home_path_with_quotes_runs_the_whole_pipeline(demo_home, tmp_path, monkeypatch, chaos):
    """COSTBRIDGE_HOME is interpolated into SQL (dbt's landing globs, Parquet COPY)."""
    import shutil

    from warehouse.settings import Settings

    quoted = tmp_path / "it's \"home\""
    shutil.copytree(demo_home, quoted, symlinks=True)
    settings = Settings(home=quoted, sources_file=demo_home.parent / "sources.yml")
    monkeypatch.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)
    result = pipeline.run_day(settings, pipeline.DataWindow(DEMO_START, DEMO_END), "quoted-home")
    con = duckdb.connect(str(settings.warehouse_file), read_only=True)
    try:
        loaded = con.execute("select count(*) from fct_ai_cost").fetchall()[0][0]
        run = con.execute("select max_by(run_id, published_at) from ops_publications").fetchall()
    finally:
        con.close()
    assert run == [("quoted-home",)] and loaded > 0
    assert all(n > 0 for n in result["parquet"].values() if isinstance(n, int))
    chaos("bad input", "COSTBRIDGE_HOME with ' and \" in its path, whole pipeline",
          loaded=loaded, published="yes")
