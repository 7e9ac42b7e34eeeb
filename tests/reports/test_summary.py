from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb

from reports.summary import read_summary


def _warehouse(path, *, with_publications: bool):
    con = duckdb.connect(str(path))
    con.execute(
        """
        create table mart_finance__unit_cost as
        select * from (values
            ('day', date '2026-10-01', 'search', 'USD', 500.00::decimal(18,2)),  -- lookback day
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
        ) as t(charge_date, feature, effective_cost)
        """
    )
    if with_publications:
        con.execute(
            "create table ops_publications as select 'r' as run_id,"
            " date '2026-10-02' as window_start, date '2026-10-04' as window_end,"
            " now() as published_at"
        )
    con.close()


def test_summary_keeps_to_the_published_window(tmp_path):
    _warehouse(tmp_path / "w.duckdb", with_publications=True)
    s = read_summary(tmp_path / "w.duckdb")
    assert (s.first_day, s.last_day) == (date(2026, 10, 2), date(2026, 10, 3))
    assert s.total_spend == Decimal("400.00")
    assert s.spend_by_team == [("search", Decimal("220.00")), ("growth", Decimal("180.00"))]
    # Unallocated is never "the top feature"; lookback days do not count.
    assert s.top_feature == ("ad-copy-gen", Decimal("300.00"))
    assert s.largest_jump == (date(2026, 10, 3), Decimal("250.00"), Decimal("100.00"))


def test_summary_without_a_publication_log_reads_every_day(tmp_path):
    _warehouse(tmp_path / "w.duckdb", with_publications=False)
    s = read_summary(tmp_path / "w.duckdb")
    assert s.first_day == date(2026, 10, 1)
    assert s.total_spend == Decimal("900.00")
