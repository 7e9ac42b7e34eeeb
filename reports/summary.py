"""A short spend summary from the published marts, for the demo and a quick look.

Reads `mart_finance__unit_cost` (daily grain) and `fct_ai_cost` from the
published DuckDB file, opened read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class SpendSummary:
    currency: str
    first_day: date
    last_day: date
    total_spend: Decimal
    spend_by_team: list[tuple[str, Decimal]]
    top_feature: tuple[str, Decimal]
    largest_jump: tuple[date, Decimal, Decimal]  # day, its spend, the change from the day before


def read_summary(warehouse: Path) -> SpendSummary:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        # Billing lookback lands days before the first published window; they carry
        # billing without usage, so the summary keeps to the days that were published.
        has_log = con.execute(
            "select count(*) from information_schema.tables where table_name = 'ops_publications'"
        ).fetchall()[0][0]
        bounds = (
            "and period_start >= (select min(window_start) from ops_publications)"
            " and period_start < (select max(window_end) from ops_publications)"
            if has_log
            else ""
        )
        daily = f"select * from mart_finance__unit_cost where period_grain = 'day' {bounds}"
        currency, first_day, last_day, total = con.execute(
            f"select any_value(reporting_currency), min(period_start), max(period_start),"
            f" sum(effective_cost) from ({daily})"
        ).fetchall()[0]
        by_team = con.execute(
            f"select team, sum(effective_cost) as spend from ({daily})"
            " group by team order by spend desc"
        ).fetchall()
        top_feature = con.execute(
            f"select feature, sum(effective_cost) as spend from fct_ai_cost"
            f" where feature != 'unallocated'"
            f" and charge_date in (select period_start from ({daily}))"
            f" group by feature order by spend desc limit 1"
        ).fetchall()[0]
        jump = con.execute(
            f"""
            with by_day as (
                select period_start as day, sum(effective_cost) as spend from ({daily}) group by day
            )
            select day, spend, spend - lag(spend) over (order by day) as change
            from by_day
            qualify change is not null
            order by change desc
            limit 1
            """
        ).fetchall()[0]
    finally:
        con.close()
    return SpendSummary(currency, first_day, last_day, total, by_team, top_feature, jump)


def print_summary(warehouse: Path) -> None:
    s = read_summary(warehouse)
    money = lambda v: f"{s.currency} {v:,.2f}"  # noqa: E731
    print(f"\n    AI spend {s.first_day} .. {s.last_day}: {money(s.total_spend)}")
    print("    by team:")
    for team, spend in s.spend_by_team:
        print(f"      {team:<14} {money(spend):>16}")
    print(f"    top feature by cost: {s.top_feature[0]} ({money(s.top_feature[1])})")
    day, spend, change = s.largest_jump
    print(f"    largest day-over-day jump: {day} (+{money(change)}, to {money(spend)})")
