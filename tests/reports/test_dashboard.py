"""The cost dashboard, as a reader meets it: loaded in a real headless Chromium with the
network off, its figures checked against the marts, its charts drawn, its team filter
and role tabs used; and what it says when a day was held back or there is no data."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from landing.window import Window
from reports.dashboard import render_dashboard, write_dashboard
from reports.marts import MartColumnMissing, money
from tests.reports.browser import browser_missing, offline_chromium, requested_urls
from warehouse.settings import Settings

OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))


def _one(warehouse: Path, sql: str, params=()) -> object:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchone()[0]


def _manifest(home: Path) -> Path:
    return home / "warehouse" / "build" / "dbt" / "target" / "semantic_manifest.json"


@pytest.fixture(scope="module")
def dashboard(month_home, tmp_path_factory) -> Path:
    """The month home's dashboard, written beside it (the home itself is never modified)."""
    out = tmp_path_factory.mktemp("dashboard") / "index.html"
    settings = Settings(home=month_home, sources_file=Settings.from_env().sources_file)
    return write_dashboard(settings, out=out)


@pytest.fixture(scope="module")
def browser():
    missing = browser_missing()
    if missing:
        pytest.fail(f"{missing}: `make services` installs it")
    with offline_chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def loaded(browser, dashboard):
    requested_urls(browser)  # drain the browser's own start-up requests
    browser.get(dashboard.as_uri())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        drawn = browser.execute_script(
            "return document.querySelectorAll('.js-plotly-plot .main-svg').length"
        )
        if drawn >= 4:
            break
        time.sleep(0.2)
    return browser, requested_urls(browser)


def _figure(driver, css: str) -> tuple[str, str]:
    el = driver.find_element("css selector", css)
    return el.get_attribute("data-value"), el.text


def test_the_page_requests_nothing_beyond_itself(loaded, dashboard):
    driver, urls = loaded
    assert urls and urls[0] == dashboard.as_uri()
    leaving = [u for u in urls if not u.startswith(("file://", "data:", "blob:", "about:"))]
    assert leaving == [], "the dashboard must work offline"
    assert driver.get_log("browser") == [] or all(
        "net::" not in e["message"] for e in driver.get_log("browser")
    )


def test_month_and_week_totals_equal_the_marts(loaded, month_warehouse):
    driver, _ = loaded
    day_rows = "from mart_finance__unit_cost where period_grain = 'day'"
    as_of = _one(month_warehouse, "select max(landing_date) from ops_day_status where is_final_day")
    month = _one(
        month_warehouse,
        f"select sum(effective_cost) {day_rows} and period_start >= ? and period_start < ?",
        OCTOBER,
    )
    week_start = as_of - timedelta(days=as_of.weekday())
    week = _one(
        month_warehouse,
        f"select sum(effective_cost) {day_rows} and period_start between ? and ?",
        [week_start, as_of],
    )
    assert driver.find_element("id", "data-as-of").text.startswith(f"Data as of {as_of}")
    month_value, text = _figure(driver, "#kpi-month [data-figure=spend_month]")
    assert Decimal(month_value) == month and text == money(month, "USD")
    value, text = _figure(driver, "#kpi-week [data-figure=spend_week]")
    assert Decimal(value) == week and text == money(week, "USD")
    # The month's total is the fact's, on final days, to the cent.
    fact = _one(
        month_warehouse,
        "select sum(effective_cost_reporting) from fct_ai_cost"
        " where charge_date in (select landing_date from ops_day_status"
        " where is_final_day) and charge_date >= ? and charge_date < ?",
        OCTOBER,
    )
    assert round(Decimal(month_value), 2) == round(fact, 2)


def test_each_teams_row_equals_the_marts(loaded, month_warehouse):
    driver, _ = loaded
    rows = driver.find_elements("css selector", "#table-budget tbody tr")
    assert len(rows) >= 5
    for row in rows:
        team = row.get_attribute("data-team")
        spent = row.find_element("css selector", "[data-figure=spend_month]")
        expected = _one(
            month_warehouse,
            "select coalesce(sum(effective_cost), 0)"
            " from mart_finance__unit_cost where period_grain = 'day'"
            " and team = ? and period_start >= ? and period_start < ?",
            [team, *OCTOBER],
        )
        assert Decimal(spent.get_attribute("data-value")) == expected, team
        budget = row.find_element("css selector", "[data-figure=budget]")
        seeded = _one(
            month_warehouse,
            "select sum(budget_amount) from budgets where team = ? and budget_month = ?",
            [team, OCTOBER[0]],
        )
        if seeded is None:
            assert budget.text == "n/a"
        else:
            assert Decimal(budget.get_attribute("data-value")) == seeded, team


def test_engineering_and_savings_figures_equal_the_marts(loaded, month_warehouse):
    driver, _ = loaded
    # Cost per 1k tokens of the whole organisation, from the fact: token cost over tokens.
    tokens_cost, tokens = (
        duckdb.connect(str(month_warehouse), read_only=True)
        .execute(
            "select sum(effective_cost_reporting), sum(input_tokens + output_tokens)"
            " from fct_ai_cost where cost_type = 'tokens' and charge_date in"
            " (select landing_date from ops_day_status where is_final_day)"
            " and charge_date >= ? and charge_date < ?",
            list(OCTOBER),
        )
        .fetchone()
    )
    value, text = _figure(driver, "#panel-engineering .kpi [data-figure=cost_per_1k_tokens]")
    assert float(value) == pytest.approx(float(tokens_cost) * 1000 / tokens, rel=1e-9)
    assert text.startswith("$0.")
    saving = _one(
        month_warehouse, "select sum(estimated_monthly_saving) from mart_ops__recommendations"
    )
    value, text = _figure(driver, "#kpi-savings [data-figure=recommended_saving]")
    assert Decimal(value) == saving and text == money(saving, "USD")
    shown = driver.find_elements("css selector", "#table-recommendations [data-figure=saving]")
    assert sum(Decimal(s.get_attribute("data-value")) for s in shown) == saving
    alerts = _one(
        month_warehouse,
        "select count(*) from mart_ops__alerts where alert_date >= ? and alert_date < ?",
        OCTOBER,
    )
    assert len(driver.find_elements("css selector", "#table-alerts tbody tr")) == alerts


def test_every_chart_drew_and_the_screenshot_is_not_blank(loaded, artifacts_dir):
    from PIL import Image

    driver, _ = loaded
    counts = driver.execute_script("""
        return Array.from(document.querySelectorAll('.js-plotly-plot')).map(
            p => Array.from(p.querySelectorAll('.trace path'))
                      .filter(path => (path.getAttribute('d') || '').length > 10).length)""")
    assert len(counts) == 4 and all(c > 0 for c in counts), counts
    shot = artifacts_dir / "dashboard.png"
    driver.save_screenshot(str(shot))
    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50, "the screenshot is blank"


def test_the_team_filter_narrows_figures_rows_and_charts(loaded, month_warehouse):
    from selenium.webdriver.support.ui import Select

    driver, _ = loaded
    growth = _one(
        month_warehouse,
        "select sum(effective_cost) from mart_finance__unit_cost"
        " where period_grain = 'day' and team = 'growth'"
        " and period_start >= ? and period_start < ?",
        OCTOBER,
    )
    Select(driver.find_element("id", "team-filter")).select_by_value("growth")
    try:
        value, text = _figure(driver, "#kpi-month [data-figure=spend_month]")
        assert Decimal(value) == growth and text == money(growth, "USD")
        shown = [
            r.get_attribute("data-team")
            for r in driver.find_elements("css selector", "#table-budget tbody tr")
            if r.is_displayed()
        ]
        assert shown == ["growth"]
        visible = driver.execute_script("""
            const p = document.querySelector('#chart-daily');
            return p.data.filter(t => t.visible !== false).map(t => t.meta.team);""")
        assert visible == ["growth"]
    finally:
        Select(driver.find_element("id", "team-filter")).select_by_value("all")
    value, _ = _figure(driver, "#kpi-month [data-figure=spend_month]")
    assert Decimal(value) > growth


def test_each_role_reads_its_own_words(loaded, month_warehouse):
    driver, _ = loaded
    driver.find_element("css selector", "button[data-panel=panel-product]").click()
    product = driver.find_element("id", "panel-product")
    assert product.is_displayed()
    assert not driver.find_element("id", "panel-engineering").is_displayed()
    losing = _one(
        month_warehouse,
        "select string_agg(feature_name, ',' order by feature_name)"
        " from mart_product__feature_roi where is_loss_making and week_start ="
        " (select max(week_start) from mart_product__feature_roi)",
    )
    loss_rows = product.find_elements("css selector", "tr.loss")
    assert losing and sorted(
        r.find_element("css selector", "td").text for r in loss_rows
    ) == losing.split(",")
    # Finance's word for the same metric the engineer calls "Cost per 1k tokens".
    driver.find_element("css selector", "button[data-panel=panel-finance]").click()
    assert "Unit cost (per 1k tokens)" in driver.find_element("id", "panel-finance").text
    driver.find_element("css selector", "button[data-panel=panel-engineering]").click()
    assert "Cost per 1k tokens" in driver.find_element("id", "panel-engineering").text


def _private_home(month_home: Path, tmp_path: Path) -> Settings:
    home = tmp_path / "home"
    (home / "warehouse").mkdir(parents=True)
    shutil.copyfile(
        month_home / "warehouse" / "costbridge.duckdb", home / "warehouse" / "costbridge.duckdb"
    )
    shutil.copytree(month_home / "ops", home / "ops")
    (home / "landing").mkdir()
    return Settings(home=home, sources_file=Settings.from_env().sources_file)


def test_a_day_the_gates_held_back_is_named(month_home, tmp_path):
    from expectations import GateFailed
    from warehouse.pipeline import validate_landing

    settings = _private_home(month_home, tmp_path)
    # November 1st never landed: the landing gate blocks it and records the verdict.
    with pytest.raises(GateFailed):
        validate_landing(settings, Window(date(2026, 11, 1), date(2026, 11, 2)), "held")
    page = render_dashboard(
        settings.warehouse_file, _manifest(month_home), ops_dir=settings.ops_dir
    )
    assert "Held back by the gates, not in these figures:" in page
    assert "landing 2026-11-01 .. 2026-11-02" in page
    assert 'class="verdict-blocked"' in page
    assert "Data as of <b>2026-10-31</b>" in page


def test_no_published_data_says_so_and_shows_no_zeros(tmp_path, month_home):
    page = render_dashboard(tmp_path / "absent.duckdb", _manifest(month_home))
    assert "No published data for this period." in page
    assert "$0.00" not in page and "USD" not in page


def test_a_mart_missing_a_column_is_named(month_home, tmp_path):
    settings = _private_home(month_home, tmp_path)
    with duckdb.connect(str(settings.warehouse_file)) as con:
        con.execute("alter table mart_ops__recommendations drop column estimated_monthly_saving")
    with pytest.raises(
        MartColumnMissing, match="estimated_monthly_saving of the mart mart_ops__recommendations"
    ):
        render_dashboard(settings.warehouse_file, _manifest(month_home))


def _intraday_file(path: Path, spend_date: date, as_of_hour: int) -> Path:
    """An intraday file as ai_finops_intraday publishes it (mart_ops__spend_today)."""
    with duckdb.connect(str(path)) as con:
        con.execute("""
            create table mart_ops__spend_today (
                spend_date date, as_of_at timestamptz, team varchar,
                reporting_currency varchar, estimated_cost decimal(38, 12))""")
        as_of = datetime(spend_date.year, spend_date.month, spend_date.day, as_of_hour, tzinfo=UTC)
        con.executemany(
            "insert into mart_ops__spend_today values (?, ?, ?, 'USD', ?)",
            [
                (spend_date, as_of, "growth", Decimal("12.500000000000")),
                (spend_date, as_of, "search", Decimal("100.250000000000")),
            ],
        )
    return path


def test_today_so_far_is_shown_estimated_with_its_hour(month_home, tmp_path):
    intraday = _intraday_file(tmp_path / "intraday.duckdb", date(2026, 11, 1), 10)
    page = render_dashboard(
        month_home / "warehouse" / "costbridge.duckdb",
        _manifest(month_home),
        intraday_file=intraday,
    )
    assert "Today so far (estimated), as of 10:00 UTC" in page
    assert 'data-figure="spend_today" data-kind="money" data-value="112.750000000000"' in page


def test_an_estimate_of_a_day_the_daily_run_published_is_superseded(month_home, tmp_path):
    intraday = _intraday_file(tmp_path / "intraday.duckdb", date(2026, 10, 31), 10)
    page = render_dashboard(
        month_home / "warehouse" / "costbridge.duckdb",
        _manifest(month_home),
        intraday_file=intraday,
    )
    assert "Today so far (estimated), as of" not in page
    assert "the intraday estimate of 2026-10-31 is superseded by that day&#39;s billed cost" in page
