"""A short spend summary from the published marts, for the demo and a quick look.

Reads `mart_finance__unit_cost` (daily grain), `fct_ai_cost`, `ops_day_status`
`mart_ops__alerts` and `mart_finance__forecast_period_totals` from the published
DuckDB file, opened read-only. The role
marts hold final days only (a day every configured source has landed); the
summary tells the same days, so its numbers are the marts' numbers, and says
which days are held back as provisional and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

FINAL_DAYS = "select landing_date from ops_day_status where is_final_day"


@dataclass(frozen=True)
class SpendSummary:
    currency: str
    first_day: date
    last_day: date
    total_spend: Decimal
    spend_by_team: list[tuple[str, Decimal]]
    top_feature: tuple[str, Decimal]
    largest_jump: tuple[date, Decimal, Decimal] | None  # day, its spend, change from the day before
    # Days with billing but a source missing: in the fact, not in the marts or this summary.
    provisional_days: list[tuple[date, list[str]]] = field(default_factory=list)
    # mart_ops__alerts: (alert_date, severity, alert_kind, message), oldest first.
    alerts: list[tuple[date, str, str, str]] = field(default_factory=list)
    # mart_finance__forecast_period_totals for the org ('all'), month rows then the quarter.
    forecasts: list[PeriodForecast] = field(default_factory=list)


@dataclass(frozen=True)
class PeriodForecast:
    period_grain: str
    period_start: date
    period_end: date
    as_of_date: date
    forecast_status: str
    training_days: int
    forecast_total: Decimal | None
    lo80: Decimal | None
    hi80: Decimal | None
    lo95: Decimal | None
    hi95: Decimal | None


def read_summary(warehouse: Path) -> SpendSummary:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        daily = "select * from mart_finance__unit_cost where period_grain = 'day'"
        currency, first_day, last_day, total = con.execute(
            f"select any_value(reporting_currency), min(period_start), max(period_start),"
            f" sum(effective_cost) from ({daily})"
        ).fetchall()[0]
        by_team = con.execute(
            f"select team, sum(effective_cost) as spend from ({daily})"
            " group by team order by spend desc, team"
        ).fetchall()
        # The fact holds provisional days too: keep to the final days the marts tell.
        top_feature = con.execute(
            f"select feature, sum(effective_cost_reporting) as spend from fct_ai_cost"
            f" where feature != 'unallocated' and charge_date in ({FINAL_DAYS})"
            f" group by feature order by spend desc, feature limit 1"
        ).fetchall()[0]
        jumps = con.execute(
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
        ).fetchall()
        provisional = con.execute(
            """
            select landing_date, list(source_name order by source_name)
                filter (where source_status = 'missing')
            from ops_day_status
            where not is_final_day
            group by landing_date
            order by landing_date
            """
        ).fetchall()
        forecasts = con.execute(
            "select period_grain, period_start, period_end, as_of_date, forecast_status,"
            " training_days, forecast_total, lo80, hi80, lo95, hi95"
            " from mart_finance__forecast_period_totals where team = 'all'"
            " order by period_grain = 'quarter', period_start"
        ).fetchall()
        alerts = con.execute(
            "select alert_date, severity, alert_kind, message from mart_ops__alerts"
            " order by alert_date, team, alert_kind, rule_id"
        ).fetchall()
    finally:
        con.close()
    return SpendSummary(
        currency,
        first_day,
        last_day,
        total,
        by_team,
        top_feature,
        jumps[0] if jumps else None,
        [(day, list(missing)) for day, missing in provisional],
        alerts,
        [PeriodForecast(*row) for row in forecasts],
    )


def print_summary(warehouse: Path, semantic_manifest: Path | None = None) -> None:
    """Print the summary; with dbt's semantic manifest, also why spend moved in the
    latest whole week, in finance's words (reports/narrative.py)."""
    s = read_summary(warehouse)
    money = lambda v: f"{s.currency} {v:,.2f}"  # noqa: E731
    print(f"\n    AI spend {s.first_day} .. {s.last_day} (final days): {money(s.total_spend)}")
    print("    by team:")
    for team, spend in s.spend_by_team:
        print(f"      {team:<14} {money(spend):>16}")
    print(f"    top feature by cost: {s.top_feature[0]} ({money(s.top_feature[1])})")
    if s.largest_jump:
        day, spend, change = s.largest_jump
        print(f"    largest day-over-day jump: {day} (+{money(change)}, to {money(spend)})")
    if s.provisional_days:
        print("    held back as provisional (billed, a source not landed yet; ops_day_status):")
        for day, missing in s.provisional_days:
            print(f"      {day}  waiting for {', '.join(missing)}")
    for f in s.forecasts:
        period = (
            f"{f.period_start:%B %Y}"
            if f.period_grain == "month"
            else f"Q{(f.period_start.month - 1) // 3 + 1} {f.period_start.year}"
        )
        if f.forecast_status != "ok":
            print(
                f"    forecast to the end of {period}: {f.forecast_status}"
                f" ({f.training_days} final days to train on)"
            )
            continue
        print(
            f"    forecast to the end of {period} (as of {f.as_of_date}):"
            f" {money(f.forecast_total)}, 80% {money(f.lo80)} .. {money(f.hi80)},"
            f" 95% {money(f.lo95)} .. {money(f.hi95)}"
        )
    print(f"    alerts raised (mart_ops__alerts): {len(s.alerts)}")
    for day, severity, kind, message in s.alerts:
        print(f"      {day}  {severity:<8} {kind:<16} {message}")
    if semantic_manifest is not None:
        from reports.narrative import NarrativeError, narrative

        try:
            told = narrative(warehouse, semantic_manifest, "finance", "week")
        except NarrativeError as why:
            print(f"    why spend moved: {why}")
        else:
            print("    why spend moved (mart_ops__cost_drivers, finance's words):")
            for sentence in told.sentences:
                print(f"      {sentence}")
