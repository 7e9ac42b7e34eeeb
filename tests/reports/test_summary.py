from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb

from reports.summary import read_summary


def _warehouse(path):
    """Marts as the build writes them: final days only; the fact keeps the provisional one."""
    con = duckdb.connect(str(path))
    con.execute(
        """
        create table mart_finance__unit_cost as
        select * from (values
            ('day', date '2026-10-02', 'search', 'USD', 100.00::decimal(18,2)),
            ('day', date '2026-10-02', 'growth', 'USD',  50.00::decimal(18,2)),
            ('day', date '2026-10-03', 'search', 'USD', 120.00::decimal(18,2)),
            ('day', date '2026-10-03', 'growth', 'USD', 130.00::decimal(18,2)),
            ('month', date '2026-10-01', 'search', 'USD', 9999.00::decimal(18,2))
        ) as t(period_grain, period_start, team, reporting_currency, effective_cost)
        """
    )
    con.execute(
        """
        create table fct_ai_cost as
        select * from (values
            (date '2026-10-02', 'semantic-search', 100.00::decimal(18,2)),
            (date '2026-10-03', 'semantic-search', 120.00::decimal(18,2)),
            (date '2026-10-03', 'ad-copy-gen', 300.00::decimal(18,2)),
            (date '2026-10-01', 'ad-copy-gen', 500.00::decimal(18,2)),
            (date '2026-10-03', 'unallocated', 900.00::decimal(18,2))
        ) as t(charge_date, feature, effective_cost_reporting)
        """
    )
    con.execute(
        """
        create table ops_day_status as
        select * from (values
            (date '2026-10-01', 'aws_focus', 'landed', false),
            (date '2026-10-01', 'gpu_cluster', 'missing', false),
            (date '2026-10-01', 'feature_kpis', 'missing', false),
            (date '2026-10-02', 'aws_focus', 'landed', true),
            (date '2026-10-02', 'gpu_cluster', 'landed', true),
            (date '2026-10-02', 'feature_kpis', 'empty', true),
            (date '2026-10-03', 'aws_focus', 'landed', true),
            (date '2026-10-03', 'gpu_cluster', 'landed', true),
            (date '2026-10-03', 'feature_kpis', 'landed', true)
        ) as t(landing_date, source_name, source_status, is_final_day)
        """
    )
    con.execute(
        """
        create table mart_ops__alerts as
        select * from (values
            (date '2026-10-03', 'growth', 'spike', 'spike', 'warning', 'growth +160%'),
            (date '2026-10-02', 'search', 'budget_threshold', 'budget-80', 'warning', 'search 80%')
        ) as t(alert_date, team, alert_kind, rule_id, severity, message)
        """
    )
    con.execute(
        """
        create table mart_finance__forecast_period_totals as
        select * from (values
            ('all', 'quarter', date '2026-10-01', date '2026-12-31', date '2026-10-03', 'ok', 14,
             900.0, 800.0, 1000.0, 700.0, 1100.0),
            ('all', 'month', date '2026-11-01', date '2026-11-30', date '2026-10-03', 'ok', 14,
             300.0, 250.0, 350.0, 200.0, 400.0),
            ('search', 'month', date '2026-11-01', date '2026-11-30', date '2026-10-03', 'ok',
             14, 1.0, 1.0, 1.0, 1.0, 1.0)
        ) as t(team, period_grain, period_start, period_end, as_of_date, forecast_status,
               training_days, forecast_total, lo80, hi80, lo95, hi95)
        """
    )
    con.close()


def test_summary_tells_the_final_days_the_marts_tell(tmp_path):
    _warehouse(tmp_path / "w.duckdb")
    s = read_summary(tmp_path / "w.duckdb")
    assert (s.first_day, s.last_day) == (date(2026, 10, 2), date(2026, 10, 3))
    assert s.total_spend == Decimal("400.00")
    assert s.spend_by_team == [("search", Decimal("220.00")), ("growth", Decimal("180.00"))]
    # Unallocated is never "the top feature"; the provisional day's fact rows do not count.
    assert s.top_feature == ("ad-copy-gen", Decimal("300.00"))
    assert s.largest_jump == (date(2026, 10, 3), Decimal("250.00"), Decimal("100.00"))


def test_summary_names_the_provisional_days_and_what_they_wait_for(tmp_path):
    _warehouse(tmp_path / "w.duckdb")
    s = read_summary(tmp_path / "w.duckdb")
    assert s.provisional_days == [(date(2026, 10, 1), ["feature_kpis", "gpu_cluster"])]


def test_summary_lists_the_alerts_raised_oldest_first(tmp_path):
    _warehouse(tmp_path / "w.duckdb")
    s = read_summary(tmp_path / "w.duckdb")
    assert s.alerts == [
        (date(2026, 10, 2), "warning", "budget_threshold", "search 80%"),
        (date(2026, 10, 3), "warning", "spike", "growth +160%"),
    ]


def test_summary_forecasts_the_org_month_then_quarter(tmp_path):
    _warehouse(tmp_path / "w.duckdb")
    s = read_summary(tmp_path / "w.duckdb")
    assert [
        (f.period_grain, f.period_start, f.forecast_total, f.lo80, f.hi95) for f in s.forecasts
    ] == [
        ("month", date(2026, 11, 1), 300.0, 250.0, 400.0),
        ("quarter", date(2026, 10, 1), 900.0, 800.0, 1100.0),
    ]
