"""The estimate against the daily pipeline: it equals the priced usage of the hours it
covers, and the next daily run supersedes it without touching it."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import duckdb
import pytest

from landing.window import Window
from tests.warehouse.demo_fixtures import ANTHROPIC_KEY, DEMO_END, OPENAI_KEY


@contextmanager
def _sandbox(files, monkeypatch):
    """The demo org's APIs on loopback, and its files (FOCUS bill, KPIs) under ``files``."""
    from sandbox.files import write_focus_export, write_value_kpis
    from sandbox.org import DemoOrg
    from sandbox.server import serve

    org = DemoOrg.load()
    write_focus_export(org, files / "focus", DEMO_END - timedelta(days=7), DEMO_END + timedelta(1))
    write_value_kpis(org, files / "value", DEMO_END - timedelta(days=7), DEMO_END + timedelta(1))
    with serve(org, admin_keys={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}) as api:
        for var, value in {
            "COSTBRIDGE_SANDBOX_DIR": str(files),
            "COSTBRIDGE_OPENAI_BASE_URL": api.url,
            "COSTBRIDGE_ANTHROPIC_BASE_URL": api.url,
            "COSTBRIDGE_PROMETHEUS_URL": api.url,
            "OPENAI_ADMIN_KEY": OPENAI_KEY,
            "ANTHROPIC_ADMIN_KEY": ANTHROPIC_KEY,
        }.items():
            monkeypatch.setenv(var, value)
        monkeypatch.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)
        yield api


def _one(path, sql: str, params: list | None = None):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchone()


def _estimate_total(settings) -> Decimal:
    return _one(
        settings.intraday_warehouse_file, "select sum(estimated_cost) from mart_ops__spend_today"
    )[0]


@pytest.mark.slow
def test_a_partial_day_is_the_priced_usage_of_its_hours(home, tmp_path, monkeypatch):
    """As of 10:00, the estimate is 10/24 of the day's price-book estimate in the daily fact:
    the doubles spread a day's usage evenly over its hours, so only the integer rounding of
    each hourly bucket's tokens separates the two."""
    from warehouse.intraday import run_intraday

    day = DEMO_END - timedelta(days=1)  # a day the daily run published, billed and estimated
    with _sandbox(tmp_path / "sandbox", monkeypatch):
        run_intraday(home, datetime(day.year, day.month, day.day, 10, tzinfo=UTC), "partial")
    daily_estimate = _one(
        home.warehouse_file,
        "select sum(estimated_cost) from fct_ai_cost where charge_date = ? and cost_type ="
        " 'tokens' and provider_name in ('OpenAI', 'Anthropic', 'openai', 'anthropic')",
        [day],
    )[0]
    assert daily_estimate and daily_estimate > 0
    estimate = _estimate_total(home)
    expected = daily_estimate * 10 / 24
    # Rounding: at most half a token per class per hourly row, far below a cent.
    assert abs(estimate - expected) < Decimal("0.01"), (estimate, expected)
    assert _one(
        home.intraday_warehouse_file,
        "select min(hours_covered), max(hours_covered) from mart_ops__spend_today",
    ) == (10, 10)


@pytest.mark.slow
def test_the_next_daily_run_supersedes_the_estimate(home, tmp_path, monkeypatch):
    from warehouse import pipeline
    from warehouse.intraday import run_intraday, superseded

    today: date = DEMO_END  # the daily warehouse holds the days before it only
    with _sandbox(tmp_path / "sandbox", monkeypatch):
        run_intraday(home, datetime(today.year, today.month, today.day, 10, tzinfo=UTC), "today")
        estimate = home.intraday_warehouse_file.read_bytes()
        assert _estimate_total(home) > 0
        assert not superseded(today, home.warehouse_file)
        assert superseded(today - timedelta(days=1), home.warehouse_file)

        # Tomorrow's daily run: every source lands the day, the gates pass, it is published.
        window = Window(today, today + timedelta(days=1))
        for name in pipeline.source_names(home):
            pipeline.extract(home, name, window)
        pipeline.run_day(home, window, "next-daily")

    assert superseded(today, home.warehouse_file)
    billed, basis = _one(
        home.warehouse_file,
        "select sum(billed_cost), string_agg(distinct cost_basis, ',' order by cost_basis)"
        " from fct_ai_cost where charge_date = ? and cost_type = 'tokens'",
        [today],
    )
    assert billed > 0 and "billed" in basis
    # The daily run never touched the estimate (nor built its mart).
    assert home.intraday_warehouse_file.read_bytes() == estimate
    tables = {
        r[0]
        for r in duckdb.connect(str(home.warehouse_file), read_only=True)
        .execute("select table_name from duckdb_tables()")
        .fetchall()
    }
    assert "mart_ops__spend_today" not in tables
    # A missing file or table is "not superseded": the estimate is all there is.
    assert not superseded(today, tmp_path / "no-such.duckdb")
