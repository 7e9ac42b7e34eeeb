"""The weekly team report: each Monday, for each team, the Monday-Sunday week before, to its lead.

For one team and one whole week, from the published marts only:

- the week's spend and its change against the week before, with the narrative of
  why it moved (mart_ops__cost_drivers through reports/narrative.py, in the
  engineering role's words: a team lead is the engineer who acts on it);
- the budget burn (month to date at the week's last day against the month's
  budget, mart_finance__unit_cost) and the month-end forecast with its 80% and
  95% intervals (mart_finance__forecast_period_totals, as published);
- the events of the week (events_calendar), the top features and models
  (fct_ai_cost on the week's final days);
- the team's alerts of the week (mart_ops__alerts) and its open recommendations
  with their estimated monthly savings (mart_ops__recommendations).

Addresses come from the seed team_leads (a table of the published file). A team
with no lead address is rendered and archived, not mailed, with a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from reports.marts import (
    NoPublishedData,
    Period,
    PublishedMarts,
    RoleLabels,
    money,
    percent,
)
from reports.render import Rendered, pdf_of, render_html

log = logging.getLogger(__name__)

KIND = "weekly-team"
ROLE = "engineering"
READER = "the weekly team report (reports/weekly.py)"
TOP = 5

UNIT_COST = (
    "period_grain",
    "period_start",
    "team",
    "effective_cost",
    "reporting_currency",
    "team_month_budget",
    "team_month_to_date_cost",
    "team_budget_burn",
    "month_start",
)
FORECAST = (
    "team",
    "period_grain",
    "period_start",
    "period_end",
    "forecast_status",
    "training_days",
    "actual_to_date",
    "forecast_total",
    "lo80",
    "hi80",
    "lo95",
    "hi95",
    "as_of_date",
    "reporting_currency",
)
FACT = ("charge_date", "team", "feature", "model_id", "effective_cost_reporting")
ALERTS = ("alert_date", "team", "alert_kind", "severity", "message", "events")
RECOMMENDATIONS = (
    "kind",
    "team",
    "feature",
    "environment",
    "model_id",
    "confidence",
    "evidence",
    "estimated_monthly_saving",
    "reporting_currency",
)
EVENTS = ("event_name", "kind", "start_date", "end_date", "team", "feature", "description")
LEADS = ("team", "lead_name", "email")


@dataclass(frozen=True)
class Lead:
    team: str
    name: str | None
    email: str | None


def teams(marts: PublishedMarts) -> list[str]:
    return [r["team"] for r in marts.rows("teams", ("team",), order_by="team")]


def leads(marts: PublishedMarts) -> dict[str, Lead]:
    return {
        r["team"]: Lead(r["team"], r["lead_name"], (r["email"] or "").strip() or None)
        for r in marts.rows("team_leads", LEADS)
    }


def spend(marts: PublishedMarts, team: str | None, start, end) -> tuple[Decimal | None, str | None]:
    """Effective cost over [start, end) of final days (a team's, or everyone's with None);
    None when no day of it is in the mart."""
    row = marts.query(
        {"mart_finance__unit_cost": UNIT_COST},
        "select sum(effective_cost) as spend, any_value(reporting_currency) as currency,"
        " count(*) as n from mart_finance__unit_cost where period_grain = 'day'"
        " and (? is null or team = ?) and period_start >= ? and period_start < ?",
        [team, team, start, end],
    )[0]
    if not row["n"]:
        return None, None
    return row["spend"], row["currency"]


def build(
    marts: PublishedMarts,
    labels: RoleLabels,
    manifest: Path,
    period: Period,
    team: str,
    lead: Lead | None,
) -> Rendered:
    """Render one team's report for one week (the no-data page when the week has no final day)."""
    title = f"{team}: AI cost, {period.label} ({period.key})"
    status = marts.status()
    context = _common(status, period, title)
    try:
        days = marts.period_days(period)
    except NoPublishedData as empty:
        page, email = render_html("no_data.html.j2", **context, reason=str(empty))
        return Rendered(
            KIND,
            period.key,
            team,
            title,
            page,
            email,
            f"{title}\n\nNo published data for this period: {empty}\n",
            pdf=pdf_of(page),
            has_data=False,
        )
    # Everything below reads the week's final days only.
    week_spend, currency = spend(marts, team, period.start, period.end)
    # The week has published final days: a team with no row in them spent nothing.
    week_spend = week_spend if week_spend is not None else Decimal(0)
    currency = currency or _currency(marts)
    prior = Period.week_of(period.start - timedelta(days=7))
    prior_spend, _ = spend(marts, team, prior.start, prior.end)
    prior_whole = marts.not_reportable(prior) is None
    change = week_spend - prior_spend if prior_whole and prior_spend else None
    change_pct = (change / prior_spend) if change is not None and prior_spend else None

    burn = marts.rows(
        "mart_finance__unit_cost",
        (
            "period_start",
            "month_start",
            "team_month_budget",
            "team_month_to_date_cost",
            "team_budget_burn",
        ),
        "period_grain = 'day' and team = ? and period_start >= ? and period_start < ?",
        [team, period.start, period.end],
        order_by="period_start desc",
        limit=1,
    )
    month = Period.month_of(period.last_day)
    forecasts = marts.rows(
        "mart_finance__forecast_period_totals",
        FORECAST,
        "team = ? and period_grain = 'month' and period_start >= ?",
        [team, month.start],
        order_by="period_start",
        limit=1,
    )
    final = list(days)
    features = _grouped(marts, "coalesce(feature, '(shared)')", team, final)
    models = _grouped(marts, "coalesce(model_id, '(no model: GPU, cloud, shared)')", team, final)
    alerts = marts.rows(
        "mart_ops__alerts",
        ALERTS,
        "team = ? and alert_date >= ? and alert_date < ?",
        [team, period.start, period.end],
        order_by="alert_date, alert_kind",
    )
    recommendations = marts.rows(
        "mart_ops__recommendations",
        RECOMMENDATIONS,
        "team = ?",
        [team],
        order_by="estimated_monthly_saving desc, kind, feature",
    )
    events = marts.rows(
        "events_calendar",
        EVENTS,
        "(team = ? or team is null) and start_date < ? and coalesce(end_date, start_date) >= ?",
        [team, period.end, period.start],
        order_by="start_date, event_name",
    )
    told = _narrative(marts.path, manifest, period, team)
    words = {m: labels.of(ROLE, m) for m in ("total_cost", "budget_burn")}
    m = lambda v: money(v, currency)  # noqa: E731
    saving = sum((r["estimated_monthly_saving"] or Decimal(0)) for r in recommendations)
    context.update(
        team=team,
        lead=lead,
        words=words,
        currency=currency,
        days=len(days),
        partial=None
        if len(days) == 7
        else f"Only {len(days)} of the week's 7 days are published final; the figures cover those.",
        spend=m(week_spend),
        prior_label=prior.label,
        prior_spend=m(prior_spend) if prior_whole else "n/a (that week is not whole)",
        change=money(change, currency, signed=True) if change is not None else "n/a",
        change_pct=percent(change_pct, signed=True) if change_pct is not None else "",
        narrative=told,
        burn=burn[0] if burn else None,
        month_label=month.label,
        forecast=forecasts[0] if forecasts else None,
        features=features,
        models=models,
        alerts=alerts,
        recommendations=recommendations,
        saving=m(saving),
        events=events,
        money=m,
        percent=percent,
    )
    page, email = render_html("weekly_team.html.j2", **context, charts=[])
    return Rendered(KIND, period.key, team, title, page, email, _text(context), pdf=pdf_of(page))


def _grouped(
    marts: PublishedMarts, expression: str, team: str | None, days, limit: int | None = TOP
) -> list[dict]:
    """The fact's effective cost on the given (final) days, grouped by an expression."""
    return marts.query(
        {"fct_ai_cost": FACT},
        f"select {expression} as name, sum(effective_cost_reporting) as cost from fct_ai_cost"
        " where (? is null or team = ?) and charge_date in (select unnest(?::date[]))"
        " group by 1 order by cost desc, name" + (f" limit {limit}" if limit else ""),
        [team, team, list(days)],
    )


def _currency(marts: PublishedMarts) -> str:
    row = marts.query(
        {"mart_finance__unit_cost": ("reporting_currency",)},
        "select any_value(reporting_currency) as c from mart_finance__unit_cost",
    )
    return row[0]["c"] or ""


def _narrative(warehouse: Path, manifest: Path, period: Period, team: str) -> str:
    from reports.narrative import NarrativeError, narrative

    try:
        return narrative(warehouse, manifest, ROLE, "week", period.start, team).text
    except NarrativeError as why:
        return f"No comparison: {why}."


def _common(status, period: Period, title: str) -> dict:
    as_of = status.data_as_of.isoformat() if status.data_as_of else "no final day yet"
    gate = status.last_gate.verdict if status.last_gate else "no gate run on record"
    held = f"; {len(status.held_back)} gate run(s) held days back" if status.held_back else ""
    return {
        "title": title,
        "period_label": period.label,
        "period_key": period.key,
        "period_start": period.start,
        "period_last_day": period.last_day,
        "status_line": f"data as of {as_of}, last gate {gate}{held}",
        "footer_note": "figures are effective cost in the reporting currency, final days only",
    }


def _text(c: dict) -> str:
    lines = [
        c["title"],
        "",
        f"{c['words']['total_cost']}: {c['spend']}"
        f" ({c['change']} {c['change_pct']} against {c['prior_label']})",
        c["narrative"],
    ]
    if c["burn"]:
        lines.append(
            f"{c['words']['budget_burn']}: {percent(c['burn']['team_budget_burn'])} of"
            f" {c['money'](c['burn']['team_month_budget'])}"
        )
    for e in c["events"]:
        lines.append(f"Event: {e['event_name']} ({e['kind']}), {e['start_date']}")
    lines.append(
        f"Alerts this week: {len(c['alerts'])}; recommendations: "
        f"{len(c['recommendations'])} (est. {c['saving']} a month)"
    )
    lines.append("The full report is attached as a PDF.")
    return "\n".join(lines) + "\n"
