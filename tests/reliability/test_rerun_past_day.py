"""A past day can be rerun, from a home whose path has quotes in it.

Freshness means every day of the window is present and final: on the old rule
("the newest charge_date is the window's last day") the rerun failed, because the
published warehouse already held the later day. And COSTBRIDGE_HOME is
interpolated into SQL (dbt's landing globs, the Parquet COPY): a quote in it broke
the build. One dbt run covers both attacks.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import duckdb

from landing.window import Window
from tests.warehouse.demo_fixtures import DEMO_END, DEMO_START
from warehouse import pipeline
from warehouse.settings import Settings


def test_a_past_day_reruns_from_a_home_with_quotes_in_its_path(
    demo_home, tmp_path, monkeypatch, chaos
):
    quoted = tmp_path / 'it\'s "home"'
    shutil.copytree(demo_home, quoted, symlinks=True)
    settings = Settings(home=quoted, sources_file=demo_home.parent / "sources.yml")
    monkeypatch.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)
    window = Window(DEMO_START, DEMO_START + timedelta(days=1))
    result = pipeline.run_day(settings, window, "rerun-past-day")
    con = duckdb.connect(str(settings.warehouse_file), read_only=True)
    try:
        last_run = con.execute(
            "select max_by(run_id, published_at) from ops_publications"
        ).fetchall()[0][0]
        days = [
            r[0]
            for r in con.execute(
                "select distinct charge_date from fct_ai_cost where charge_date >= ? order by 1",
                [DEMO_START],
            ).fetchall()
        ]
        loaded = con.execute("select count(*) from fct_ai_cost").fetchall()[0][0]
    finally:
        con.close()
    assert last_run == "rerun-past-day"
    assert days[-1] == DEMO_END - timedelta(days=1), "the later day is kept"
    exported = sorted((quoted / "exports").rglob("*.parquet"))
    assert exported and result["parquet"], "the Parquet export ran under the quoted path"
    chaos(
        "rerun",
        "rerun of a past day after a later day was published",
        loaded=loaded,
        published="yes",
    )
    chaos(
        "bad input",
        "COSTBRIDGE_HOME with ' and \" in its path, whole pipeline",
        loaded=loaded,
        published="yes",
    )
