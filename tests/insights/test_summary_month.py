"""What the demo prints is what the marts and the fact hold: the summary on the real
month-long warehouse, its forecast and its alerts included."""

from __future__ import annotations

from reports.summary import print_summary, read_summary
from tests.insights.conftest import rows


def test_the_summary_tells_the_marts_numbers(month_warehouse):
    s = read_summary(month_warehouse)
    (fact_total,) = rows(
        month_warehouse,
        """
        select sum(effective_cost_reporting) from fct_ai_cost
        where charge_date in (select landing_date from ops_day_status where is_final_day)""",
    )[0]
    assert abs(s.total_spend - fact_total) < 0.005 * len(s.spend_by_team)
    assert len(s.alerts) == rows(month_warehouse, "select count(*) from mart_ops__alerts")[0][0]
    totals = rows(
        month_warehouse,
        """
        select period_grain, period_start, forecast_total, lo80, hi95
        from mart_finance__forecast_period_totals where team = 'all'""",
    )
    assert sorted(
        (f.period_grain, f.period_start, f.forecast_total, f.lo80, f.hi95) for f in s.forecasts
    ) == sorted(totals)
    assert {f.period_grain for f in s.forecasts} == {"month", "quarter"}
    assert all(f.forecast_status == "ok" for f in s.forecasts)


def test_the_printed_summary_names_the_campaign_week_driver(month_home, capsys):
    warehouse = month_home / "warehouse" / "costbridge.duckdb"
    manifest = month_home / "warehouse" / "build" / "dbt" / "target" / "semantic_manifest.json"
    print_summary(warehouse, manifest)
    out = capsys.readouterr().out
    assert "forecast to the end of November 2026" in out
    assert "why spend moved" in out and "Autumn launch" in out
    assert "alerts raised (mart_ops__alerts)" in out


def test_the_month_end_forecast_is_a_run_rate_not_a_one_time_charge(month_warehouse):
    # The month's tax and credit land on its last day (FOCUS One-Time charges): trained on
    # as spend, that jump once sent November's forecast past four times October's bill.
    (october,) = rows(
        month_warehouse,
        """
        select sum(effective_cost_reporting)::double from fct_ai_cost
        where charge_date >= date '2026-10-01' and charge_date < date '2026-11-01'""",
    )[0]
    (total, lo95, hi95) = rows(
        month_warehouse,
        """
        select forecast_total::double, lo95::double, hi95::double
        from mart_finance__forecast_period_totals
        where team = 'all' and period_grain = 'month' and period_start = date '2026-11-01'""",
    )[0]
    assert 0.8 * october * 30 / 31 <= total <= 1.25 * october * 30 / 31, (total, october)
    assert 0 < lo95 <= total <= hi95
