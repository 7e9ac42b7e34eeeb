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
