"""The leadership ROI report, weekly and monthly: an email-ready HTML page and a PDF.

From the published marts only, for one whole week or month:

- AI spend against budget (mart_finance__unit_cost day rows of final days; the
  month's team budgets), the forecast to the period's end with its 80% and 95%
  bands (mart_finance__forecast_period_totals), and beside it how far the 7-day
  forecast is to be trusted (mart_finance__forecast_backtest);
- ROI by portfolio (mart_leadership__roi_summary, the month) and by feature
  (mart_product__feature_roi, the ISO weeks of the period), negative-ROI features
  called out;
- the top movers and the narrative of why spend moved (mart_ops__cost_drivers, in
  leadership's words);
- the split of spend by environment: research, production, experiment, staging
  and shared cost that has none (fct_ai_cost on final days);
- the period's alerts and the open recommendations with their estimated savings.

Four charts (Matplotlib, PNG): spend against budget, ROI by feature, spend by
environment, top movers. Every label a reader sees for a metric comes from the
semantic layer (leadership's words).

The backtest (mart_finance__forecast_backtest, the organisation's 7-day row) gives the
headline: "the 7-day forecast was within ±10% in N of the last M weeks", scored on
back-to-back weeks' totals, then the daily error and how often the intervals held.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from reports import weekly
from reports.marts import NoPublishedData, Period, PublishedMarts, RoleLabels, money, percent
from reports.render import Chart, Rendered, close, figure, pdf_of, png_of, render_html

log = logging.getLogger(__name__)

ROLE = "leadership"
READER = "the leadership ROI report (reports/leadership.py)"
KINDS = {"week": "leadership-weekly", "month": "leadership-monthly"}

ROI_SUMMARY = (
    "month_start",
    "portfolio",
    "value_methods",
    "spend",
    "value",
    "credited_value",
    "roi",
    "previous_month_spend",
    "spend_growth",
    "top_mover_feature_id",
    "top_mover_spend_change",
    "reporting_currency",
)
FEATURE_ROI = (
    "week_start",
    "feature_id",
    "feature_name",
    "team",
    "portfolio",
    "cost",
    "credited_value",
    "margin",
    "roi",
    "is_loss_making",
)
BACKTEST = (
    "team",
    "horizon_days",
    "backtest_status",
    "origins",
    "scored_days",
    "scored_event_days",
    "mape",
    "coverage_80",
    "coverage_95",
    "mape_excluding_event_days",
    "coverage_80_excluding_event_days",
    "period_total_tolerance",
    "periods_scored",
    "periods_within_tolerance",
    "worst_period_total_error",
    "first_origin_date",
    "last_origin_date",
)
DRIVERS = (
    "period_grain",
    "period_start",
    "driver_level",
    "team",
    "feature",
    "model_id",
    "volume_unit",
    "events_described",
    "prior_cost",
    "current_cost",
    "cost_change",
)
ENVIRONMENT = ("charge_date", "environment", "effective_cost_reporting")
BUDGET = ("budget_month", "team", "budget_amount")
CAPTIONS = {
    "spend_vs_budget": "Figure 1. AI spend against budget, with the forecast band",
    "roi_by_feature": "Figure 2. ROI by feature",
    "environment_split": "Figure 3. AI spend by environment",
    "top_movers": "Figure 4. Top movers",
}


def build(marts: PublishedMarts, labels: RoleLabels, manifest: Path, period: Period) -> Rendered:
    kind = KINDS[period.grain]
    title = f"AI ROI report, {period.label} ({period.key})"
    context = weekly._common(marts.status(), period, title)
    try:
        days = marts.period_days(period)
    except NoPublishedData as empty:
        page, email = render_html("no_data.html.j2", **context, reason=str(empty))
        return Rendered(
            kind,
            period.key,
            "report",
            title,
            page,
            email,
            f"{title}\n\nNo published data for this period: {empty}\n",
            pdf=pdf_of(page),
            has_data=False,
        )
    words = {m: labels.of(ROLE, m) for m in ("total_cost", "feature_roi", "budget_burn")}
    words["credited_value"] = labels.plain["credited_feature_value"]
    currency = weekly._currency(marts)
    m = lambda v: money(v, currency)  # noqa: E731

    total, _ = weekly.spend(marts, None, period.start, period.end)
    budget = _budget(marts, period)
    daily = marts.query(
        {"mart_finance__unit_cost": weekly.UNIT_COST},
        "select period_start as day, sum(effective_cost) as spend from mart_finance__unit_cost"
        " where period_grain = 'day' and period_start >= ? and period_start < ?"
        " group by 1 order by 1",
        [period.start, period.end],
    )
    month = Period.month_of(period.last_day)
    forecasts = marts.rows(
        "mart_finance__forecast_period_totals",
        weekly.FORECAST,
        "team = 'all' and period_grain = 'month' and period_start >= ?",
        [month.start],
        order_by="period_start",
        limit=1,
    )
    forecast = forecasts[0] if forecasts else None
    backtests = marts.rows(
        "mart_finance__forecast_backtest", BACKTEST, "team = 'all' and horizon_days = 7"
    )
    backtest = backtests[0] if backtests else None

    portfolios = marts.rows(
        "mart_leadership__roi_summary",
        ROI_SUMMARY,
        "month_start = ?",
        [month.start],
        order_by="spend desc, portfolio",
    )
    weeks = _weeks(period)
    features = marts.query(
        {"mart_product__feature_roi": FEATURE_ROI},
        "select feature_id, any_value(feature_name) as feature_name, any_value(team) as team,"
        " any_value(portfolio) as portfolio, sum(cost) as cost,"
        " sum(credited_value) as credited_value, sum(credited_value) - sum(cost) as margin,"
        " case when sum(cost) = 0 then null"
        "      else (sum(credited_value) - sum(cost)) / sum(cost) end as roi,"
        " count(*) as weeks"
        " from mart_product__feature_roi where week_start in (select unnest(?::date[]))"
        " group by feature_id order by roi nulls last, feature_id",
        [weeks],
    )
    losing = [f for f in features if f["roi"] is not None and f["roi"] < 0]

    movers = marts.rows(
        "mart_ops__cost_drivers",
        DRIVERS,
        "period_grain = ? and period_start = ? and driver_level = 'item'",
        [period.grain, period.start],
        order_by="abs(cost_change) desc, team, feature",
        limit=6,
    )
    told = _narrative(marts.path, manifest, period)
    environments = marts.query(
        {"fct_ai_cost": ENVIRONMENT},
        "select coalesce(environment, 'shared (no environment)') as environment,"
        " sum(effective_cost_reporting) as cost from fct_ai_cost"
        " where charge_date in (select unnest(?::date[])) group by 1 order by cost desc",
        [list(days)],
    )
    alerts = marts.rows(
        "mart_ops__alerts",
        weekly.ALERTS,
        "alert_date >= ? and alert_date < ?",
        [period.start, period.end],
        order_by="alert_date, team, alert_kind",
    )
    recommendations = marts.rows(
        "mart_ops__recommendations",
        weekly.RECOMMENDATIONS,
        order_by="estimated_monthly_saving desc, kind, team, feature",
    )
    saving = sum((r["estimated_monthly_saving"] or Decimal(0)) for r in recommendations)

    charts = [
        _spend_chart(
            daily,
            budget,
            forecast,
            period,
            month,
            words,
            currency,
            _budget(marts, Period.month_of(forecast["period_start"]))["budget"]
            if forecast
            else None,
        ),
        _roi_chart(features, words),
        _environment_chart(environments, words, currency),
        _movers_chart(movers, period, words, currency),
    ]
    context.update(
        words=words,
        currency=currency,
        money=m,
        percent=percent,
        days=len(days),
        partial=None
        if len(days) == (period.end - period.start).days
        else f"Only {len(days)} of the period's {(period.end - period.start).days} days are"
        " published final; the figures cover those.",
        spend=m(total),
        budget=m(budget["budget"]) if budget["budget"] is not None else "n/a",
        budget_note=budget["note"],
        burn=percent(total / budget["budget"]) if budget["budget"] else "n/a",
        forecast=forecast,
        month_label=month.label,
        backtest=backtest,
        backtest_text=_backtest_text(backtest),
        portfolios=portfolios,
        features=features,
        losing=losing,
        weeks=weeks,
        movers=movers,
        narrative=told,
        environments=environments,
        env_total=sum((e["cost"] for e in environments), Decimal(0)),
        alerts=alerts,
        recommendations=recommendations,
        saving=m(saving),
        charts=charts,
        captions=CAPTIONS,
    )
    page, email = render_html("leadership.html.j2", **context)
    text = (
        f"{title}\n\n{words['total_cost']}: {m(total)} against a budget of "
        f"{context['budget']} ({context['burn']}).\n{told}\n"
        + (
            f"Negative {words['feature_roi']}: "
            + ", ".join(f"{f['feature_id']} ({percent(f['roi'])})" for f in losing)
            + "\n"
            if losing
            else ""
        )
        + f"Open recommendations: {len(recommendations)}, est. {m(saving)} a month.\n"
        "The full report is attached as a PDF.\n"
    )
    return Rendered(kind, period.key, "report", title, page, email, text, charts, pdf=pdf_of(page))


def _weeks(period: Period) -> list:
    """The ISO weeks (Mondays) the feature ROI of the period is summed over: the week itself,
    or every week that overlaps the month, so every day of the month is in (a week across
    the month's edge counts whole: the mart is weekly)."""
    if period.grain == "week":
        return [period.start]
    first = Period.week_of(period.start).start
    return [
        first + timedelta(days=7 * i)
        for i in range(7)
        if first + timedelta(days=7 * i) < period.end
    ]


def _budget(marts: PublishedMarts, period: Period) -> dict:
    """The period's budget from the semantic layer's budgets (sem_budgets_converted, in the
    reporting currency): every team's for the month, or for a week each month's budget pro
    rata for the week's days in it. Teams with a budget but no spend count too."""
    months = sorted({Period.month_of(period.start).start, Period.month_of(period.last_day).start})
    rows = marts.query(
        {"sem_budgets_converted": BUDGET},
        "select budget_month, sum(budget_amount) as budget from sem_budgets_converted"
        " where budget_month in (select unnest(?::date[])) group by 1 order by 1",
        [months],
    )
    if not rows:
        return {"budget": None, "note": "no budget is set for these days"}
    if period.grain == "month":
        return {"budget": rows[0]["budget"], "note": "the month's team budgets"}
    total = Decimal(0)
    for row in rows:
        month = Period.month_of(row["budget_month"])
        inside = (min(period.end, month.end) - max(period.start, month.start)).days
        total += Decimal(str(row["budget"])) * inside / (month.end - month.start).days
    return {"budget": total, "note": "the month's budgets pro rata for the week's days"}


def _narrative(warehouse: Path, manifest: Path, period: Period) -> str:
    from reports.narrative import NarrativeError, narrative

    try:
        return narrative(warehouse, manifest, ROLE, period.grain, period.start).text
    except NarrativeError as why:
        return f"No comparison with the {period.grain} before: {why}."


def _backtest_text(b: dict | None) -> str:
    if not b or b["backtest_status"] != "ok":
        return (
            "The 7-day forecast has not been backtested yet"
            + (f" ({b['backtest_status']})" if b else "")
            + "."
        )
    text = ""
    if b["periods_scored"]:
        weeks = b["periods_scored"]
        text = (
            f"The 7-day forecast was within ±{percent(b['period_total_tolerance'], digits=0)}"
            f" in {b['periods_within_tolerance']} of the last {weeks}"
            f" week{'s' if weeks != 1 else ''} (its week total against the actual; worst miss"
            f" {percent(b['worst_period_total_error'])}). "
        )
    text += (
        f"Backtested from {b['origins']} origins ({b['first_origin_date']} .. "
        f"{b['last_origin_date']}, {b['scored_days']} forecast days), the 7-day forecast's"
        f" daily figures were off by {percent(b['mape'])} on average (MAPE); the actual fell"
        f" inside the 80% band on {percent(b['coverage_80'], digits=0)} of days and inside the"
        f" 95% band on {percent(b['coverage_95'], digits=0)}."
    )
    if b["scored_event_days"]:
        ordinary_error = percent(b["mape_excluding_event_days"])
        ordinary_cover = percent(b["coverage_80_excluding_event_days"], digits=0)
        text += (
            f" Leaving out the {b['scored_event_days']} event days (campaigns, switches),"
            f" which no model of past spend foresees: {ordinary_error} off,"
            f" {ordinary_cover} in the 80% band."
        )
    return text


def _spend_chart(daily, budget, forecast, period, month, words, currency, next_budget) -> Chart:
    """Cumulative spend of the period against its budget; the forecast band at the month's
    end when the month is still open, else the next month's forecast beside it."""
    open_month = bool(
        forecast and forecast["forecast_status"] == "ok" and forecast["period_start"] == month.start
    )
    beside = bool(forecast and forecast["forecast_status"] == "ok" and not open_month)
    if beside:
        fig, (ax, side) = figure(7.0, 3.0, width_ratios=[3, 1])
    else:
        fig, ax = figure(7.0, 3.0)
    days = [r["day"] for r in daily]
    cumulative, running = [], 0.0
    for r in daily:
        running += float(r["spend"])
        cumulative.append(running)
    ax.plot(
        days, cumulative, color="#2680c2", linewidth=2, label=f"{words['total_cost']} (cumulative)"
    )
    if budget["budget"] is not None:
        ax.axhline(
            float(budget["budget"]), color="#ab091e", linestyle="--", linewidth=1.2, label="Budget"
        )
    if open_month:
        end = forecast["period_end"]
        span = [end, end + timedelta(days=1)]
        ax.fill_between(
            span,
            float(forecast["lo95"]),
            float(forecast["hi95"]),
            color="#9fb3c8",
            alpha=0.6,
            label="Forecast 95%",
        )
        ax.fill_between(
            span,
            float(forecast["lo80"]),
            float(forecast["hi80"]),
            color="#486581",
            alpha=0.7,
            label="Forecast 80%",
        )
        ax.plot(
            [end],
            [float(forecast["forecast_total"])],
            "o",
            color="#102a43",
            label="Month-end forecast",
        )
    ax.set_ylabel(currency)
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")
    if beside:
        point = float(forecast["forecast_total"])
        side.bar([0], [point], color="#486581", width=0.5)
        side.errorbar(
            [0],
            [point],
            yerr=[[point - float(forecast["lo95"])], [float(forecast["hi95"]) - point]],
            color="#9fb3c8",
            capsize=8,
            linewidth=1,
        )
        side.errorbar(
            [0],
            [point],
            yerr=[[point - float(forecast["lo80"])], [float(forecast["hi80"]) - point]],
            color="#102a43",
            capsize=4,
            linewidth=2,
        )
        if next_budget is not None:
            side.axhline(float(next_budget), color="#ab091e", linestyle="--", linewidth=1.2)
        side.set_xticks([0], [f"{forecast['period_start']:%b %Y}\nforecast"])
        side.set_xlim(-0.8, 0.8)
        side.set_ylim(bottom=0)
    fig.tight_layout()
    chart = Chart("spend_vs_budget", CAPTIONS["spend_vs_budget"], png_of(fig))
    close(fig)
    return chart


def _roi_chart(features, words) -> Chart:
    rows = [f for f in features if f["roi"] is not None]
    fig, ax = figure(7.0, 0.6 + 0.28 * max(len(rows), 1))
    names = [f["feature_id"] for f in rows]
    values = [100 * float(f["roi"]) for f in rows]
    ax.barh(names, values, color=["#ab091e" if v < 0 else "#2680c2" for v in values])
    ax.axvline(0, color="#334e68", linewidth=0.8)
    # ROI runs from -100% to tens of thousands: linear near zero, logarithmic beyond.
    ax.set_xscale("symlog", linthresh=100)
    ax.set_xlabel(f"{words['feature_roi']} (%, logarithmic beyond ±100%)")
    fig.tight_layout()
    chart = Chart("roi_by_feature", CAPTIONS["roi_by_feature"], png_of(fig))
    close(fig)
    return chart


def _environment_chart(environments, words, currency) -> Chart:
    fig, ax = figure(7.0, 2.4)
    names = [e["environment"] for e in environments]
    ax.barh(names, [float(e["cost"]) for e in environments], color="#486581")
    ax.invert_yaxis()
    ax.set_xlabel(f"{words['total_cost']} ({currency})")
    fig.tight_layout()
    chart = Chart("environment_split", CAPTIONS["environment_split"], png_of(fig))
    close(fig)
    return chart


def _movers_chart(movers, period, words, currency) -> Chart:
    fig, ax = figure(7.0, 2.6)
    if movers:
        names = [
            f"{r['team']} / {r['feature'] or 'shared'}"
            + (f" / {r['model_id']}" if r["model_id"] else "")
            for r in movers
        ]
        values = [float(r["cost_change"]) for r in movers]
        ax.barh(names, values, color=["#ab091e" if v > 0 else "#3ebd93" for v in values])
        ax.invert_yaxis()
        ax.axvline(0, color="#334e68", linewidth=0.8)
        ax.set_xlabel(f"Change in {words['total_cost']} ({currency})")
    else:
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            f"No {period.grain} before this one to compare with",
            ha="center",
            va="center",
            fontsize=10,
            color="#486581",
        )
    fig.tight_layout()
    chart = Chart("top_movers", CAPTIONS["top_movers"], png_of(fig))
    close(fig)
    return chart
