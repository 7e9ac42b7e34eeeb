"""The forecast marts on the demo org (docs/adr/0006-forecasting.md): trained on final
days only, period intervals from simulated paths, honest about short history, and a
backtest published for both horizons."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import duckdb
import pytest

from tests.dbt.dbt_helpers import assert_ok, query, run_dbt
from tests.warehouse.demo_fixtures import MONTH_END, MONTH_START

FORECAST_MODELS = [
    "int_forecast_daily_cost",
    "int_forecast_month_end_as_of",
    "mart_finance__forecast",
    "mart_finance__forecast_period_totals",
    "mart_finance__forecast_backtest",
]
LAST_DAY = MONTH_END - timedelta(days=1)


AS_OF = "intermediate.int_forecast_month_end_as_of"


def _warehouse(home):
    return home / "warehouse" / "costbridge.duckdb"


def _build_forecast(home, work, change=None):
    """The forecast models rebuilt into a copy of `home`'s published file, after
    `change(con)`. Publishing drops the intermediate schema, so the as-of model
    (the alerts' input, read inside the build) is only found in such a build."""
    copy = work / "costbridge.duckdb"
    shutil.copyfile(_warehouse(home), copy)
    if change is not None:
        with duckdb.connect(str(copy)) as con:
            change(con)
    run_vars = f'{{"start_date": "{MONTH_START}", "end_date": "{MONTH_END}"}}'
    result = run_dbt(
        ["build", "--select", *FORECAST_MODELS, "--vars", run_vars],
        copy,
        home / "landing",
        work,
    )
    assert_ok(result)
    return copy


@pytest.fixture(scope="module")
def month(month_home, tmp_path_factory):
    return _build_forecast(month_home, tmp_path_factory.mktemp("forecast_month"))


def test_the_backtest_has_a_row_per_series_for_both_horizons(month):
    rows = query(
        month,
        "select team, horizon_days, backtest_status, origins, mape, coverage_80, coverage_95"
        " from mart_finance__forecast_backtest",
    )
    teams = {team for team, *_ in rows}
    assert "all" in teams and "growth" in teams
    assert {(team, h) for team, h, *_ in rows} == {(t, h) for t in teams for h in (7, 30)}
    for team, horizon, status, origins, mape, cov80, cov95 in rows:
        if horizon == 7:
            # 31 final days: origins after day 14 .. 24 each have 7 known days after them.
            assert (status, origins) == ("ok", 11), team
            assert mape >= 0 and 0 <= cov80 <= cov95 <= 1, team
        else:
            assert (status, origins, mape, cov80, cov95) == (
                "insufficient_history",
                0,
                None,
                None,
                None,
            ), team


def test_period_intervals_come_from_paths_not_summed_daily_bounds(month):
    totals = query(
        month,
        """
        select totals.team, totals.period_grain, totals.actual_to_date, totals.forecast_total,
            totals.lo95, totals.lo80, totals.hi80, totals.hi95,
            sum(daily.point_forecast), sum(daily.lo95), sum(daily.hi95)
        from mart_finance__forecast_period_totals as totals
        inner join mart_finance__forecast as daily
            on daily.team = totals.team
            and daily.forecast_date between totals.period_start and totals.period_end
        where totals.forecast_status = 'ok'
        group by all
        """,
    )
    assert {grain for _, grain, *_ in totals} == {"month", "quarter"}
    for team, grain, actual, total, lo95, lo80, hi80, hi95, points, daily_lo, daily_hi in totals:
        assert lo95 <= lo80 <= total <= hi80 <= hi95, (team, grain)
        # Each stored daily point is rounded to 6 decimals (decimal(38, 6)); over a
        # quarter's ~90 days that is up to ~5e-5, visible on unallocated's cents.
        assert float(total) == pytest.approx(float(actual + points), rel=1e-6, abs=1e-4)
        assert (lo95, hi95) != (actual + daily_lo, actual + daily_hi), (team, grain)
        if team == "all":
            # Summed daily bounds assume every day misses the same way at once: on the
            # total, where the teams' errors offset, they are far too wide.
            assert actual + daily_lo < lo95 and hi95 < actual + daily_hi, grain


def test_a_trailing_provisional_day_is_not_trained_on(month, month_home, tmp_path):
    # The last day turns provisional (a source is late) and its bill lands ten times
    # too high: Kubecost's early-spike bug, if the forecast trained on it.
    def make_last_day_provisional(con):
        con.execute(
            "update ops_day_status set is_final_day = false, day_status = 'provisional'"
            " where landing_date = ?",
            [LAST_DAY],
        )
        con.execute(
            "update fct_ai_cost set effective_cost_reporting = effective_cost_reporting * 10"
            " where charge_date = ?",
            [LAST_DAY],
        )

    copy = _build_forecast(month_home, tmp_path, make_last_day_provisional)
    before = LAST_DAY - timedelta(days=1)
    assert query(
        copy,
        "select distinct as_of_date, training_days, min(forecast_date) over ()"
        " from mart_finance__forecast",
    ) == [(before, 30, LAST_DAY)]
    # What the provisional build says of October is what the published build's model,
    # trained up to the day before, said: the late day changed nothing.
    sql_now = (
        "select team, forecast_total, lo80, hi80, lo95, hi95"
        " from mart_finance__forecast_period_totals"
        f" where period_grain = 'month' and period_start = '{MONTH_START}' order by team"
    )
    sql_then = (
        "select team, forecast_month_end_cost, month_end_lo80, month_end_hi80,"
        f" month_end_lo95, month_end_hi95 from {AS_OF}"
        f" where as_of_date = '{before}' order by team"
    )
    now, then = query(copy, sql_now), query(month, sql_then)
    assert [team for team, *_ in now] == [team for team, *_ in then]
    for row_now, row_then in zip(now, then, strict=True):
        assert [float(v) for v in row_now[1:]] == pytest.approx(
            [float(v) for v in row_then[1:]], rel=1e-6
        ), row_now[0]


def test_under_14_final_days_is_insufficient_history_with_no_numbers(demo_home, tmp_path):
    warehouse = _build_forecast(demo_home, tmp_path)
    daily = query(
        warehouse,
        "select distinct forecast_status, training_days, point_forecast, lo80, hi80, lo95, hi95"
        " from mart_finance__forecast",
    )
    assert daily == [("insufficient_history", 2, None, None, None, None, None)]
    totals = query(
        warehouse,
        "select distinct forecast_status, forecast_total, lo80, hi95,"
        " actual_to_date is not null from mart_finance__forecast_period_totals",
    )
    assert totals == [("insufficient_history", None, None, None, True)]
    assert query(
        warehouse, "select distinct backtest_status, mape from mart_finance__forecast_backtest"
    ) == [("insufficient_history", None)]
    assert query(
        warehouse,
        f"select distinct forecast_status, forecast_month_end_cost from {AS_OF}",
    ) == [("insufficient_history", None)]


def _first_day_above(rows, column: int, budget) -> date | None:
    return next((row[0] for row in rows if row[column] is not None and row[column] > budget), None)


def test_growths_forecast_crosses_its_budget_days_before_its_actual(month):
    (budget,) = query(
        month,
        "select budget_amount from budgets"
        f" where team = 'growth' and budget_month = '{MONTH_START}'",
    )[0]
    rows = query(
        month,
        "select as_of_date, month_to_date_cost, forecast_month_end_cost"
        f" from {AS_OF}"
        f" where team = 'growth' and month_start = '{MONTH_START}' order by as_of_date",
    )
    actual_crossed = _first_day_above(rows, 1, budget)
    forecast_crossed = _first_day_above(rows, 2, budget)
    assert actual_crossed is not None and actual_crossed < LAST_DAY
    assert forecast_crossed is not None
    assert (actual_crossed - forecast_crossed).days >= 2, (forecast_crossed, actual_crossed)


def test_campaign_days_train_on_the_ordinary_weekday_but_score_on_actual_spend(month):
    # The demo campaign (events_calendar, kind campaign, 20-22 October) names growth
    # and content: their series and the org total train on a baseline on those days.
    rows = query(
        month,
        "select team, cost_date, daily_cost, training_cost, week_before from ("
        " select *, lag(daily_cost, 7) over (partition by team order by cost_date)"
        " as week_before from intermediate.int_forecast_daily_cost)"
        " where is_event_day order by team, cost_date",
    )
    campaign = [date(2026, 10, 20) + timedelta(days=i) for i in range(3)]
    assert {(team, day) for team, day, *_ in rows} == {
        (team, day) for team in ("all", "content", "growth") for day in campaign
    }
    for team, day, actual, training, week_before in rows:
        assert training == week_before and training < actual, (team, day)
    # Off event days the series trains on what was billed, less one-time charges (the
    # month's tax and credits): exactly those, per team and for the org.
    trained_apart = {
        (team, day): gap
        for team, day, gap in query(
            month,
            "select team, cost_date, daily_cost - training_cost"
            " from intermediate.int_forecast_daily_cost"
            " where not is_event_day and training_cost <> daily_cost",
        )
    }
    one_time = {}
    for team, day, cost in query(
        month,
        "select team, charge_date, sum(effective_cost_reporting) from fct_ai_cost"
        " where charge_frequency = 'One-Time' and charge_date in"
        " (select cost_date from intermediate.int_forecast_daily_cost) group by all",
    ):
        one_time[(team, day)] = one_time.get((team, day), 0) + cost
        one_time[("all", day)] = one_time.get(("all", day), 0) + cost
    assert trained_apart, "the demo month bills its tax on its last day"
    assert trained_apart == {key: cost for key, cost in one_time.items() if cost}
    scores = query(
        month,
        "select team, scored_event_days, mape, mape_excluding_event_days,"
        " coverage_80_excluding_event_days from mart_finance__forecast_backtest"
        " where horizon_days = 7",
    )
    for team, event_days, mape, ordinary_mape, ordinary_cov80 in scores:
        if team in ("data-science", "search", "support-ai", "unallocated"):
            assert event_days == 0 and ordinary_mape == mape, team
        else:
            # No model of past spend foresees a x3 campaign: its days score worst.
            assert event_days > 0 and ordinary_mape < mape, team
        assert 0 <= ordinary_cov80 <= 1, team


def test_week_totals_are_scored_back_to_back_from_the_last_origin():
    """The report's "within ±10% in N of the last M weeks": the last origin and every 7th
    before it, never overlapping; a week with no actual spend has no relative error."""
    from warehouse.forecast import MIN_TRAINING_DAYS, _period_totals

    first = MIN_TRAINING_DAYS
    errors = {first + i: 0.5 for i in range(15)}
    errors[first + 14] = 0.05  # the last week held
    errors[first + 7] = 0.20  # the week before it did not
    errors[first] = None  # the first: no actual spend to compare with
    scored = _period_totals(errors, 7)
    assert scored == {
        "period_total_tolerance": 0.10,
        "periods_scored": 2,
        "periods_within_tolerance": 1,
        "worst_period_total_error": 0.20,
    }
    assert _period_totals({}, 7)["periods_scored"] == 0
