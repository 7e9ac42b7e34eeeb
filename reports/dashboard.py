"""The cost dashboard: one self-contained HTML page over the published marts.

Regenerated after every daily run (published or held back) and every intraday
run, and by ``python -m reports dashboard``. It works offline: Plotly's own
JavaScript and the styles are inlined, and the page requests nothing. It shows:

- today so far (estimated, from ``mart_ops__spend_today`` of the intraday file),
  this week and this month to date;
- spend per team against budget, with the month-end forecast and its band;
- daily and weekly trends;
- a panel per role, in that role's words (labels from the semantic layer);
- the alerts of the month and the open recommendations with their savings;
- when the data is from and what the last gate said, so a reader knows when a
  day was held back.

A team filter narrows every figure, chart and table to one team. Every figure is
written into the DOM with its exact value (``data-value``), so the browser test
checks the page against the marts.

Renderers read marts only: the published DuckDB file (read-only) and the
intraday file, never landing.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from plotly.offline import get_plotlyjs

from reports.marts import (
    DataStatus,
    NoPublishedData,
    Period,
    PublishedMarts,
    RoleLabels,
    money,
    percent,
    scalar,
)
from warehouse.intraday import superseded

log = logging.getLogger(__name__)

READER = "the cost dashboard"
TEMPLATES = Path(__file__).parent / "templates"
ALL = "all"
TREND_DAYS = 56  # eight weeks of daily bars
# Plotly's default palette, fixed per team so a team keeps its colour on every chart.
PALETTE = (
    "#636efa",
    "#ef553b",
    "#00cc96",
    "#ab63fa",
    "#ffa15a",
    "#19d3f3",
    "#ff6692",
    "#b6e880",
    "#ff97ff",
    "#fecb52",
)


@dataclass(frozen=True)
class SpendToday:
    """Today's estimate from the intraday file: always estimated, superseded by the daily run."""

    spend_date: date
    as_of_at: datetime
    by_team: dict[str, Decimal]
    currency: str

    @property
    def total(self) -> Decimal:
        return sum(self.by_team.values(), Decimal(0))


@dataclass
class Dashboard:
    status: DataStatus
    as_of: date  # the last final day
    month: Period
    week: Period
    forecast_month: Period  # this month's while it runs, the next once it is complete
    currency: str = "USD"
    teams: list[str] = field(default_factory=list)
    today: SpendToday | None = None
    today_note: str = ""
    # figures[team][name] = Decimal | float | None; team 'all' is the organisation.
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    charts: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[dict]] = field(default_factory=dict)


def write_dashboard(settings, manifest: Path | None = None, out: Path | None = None) -> Path:
    """Render the dashboard of the published warehouse to ``<home>/dashboard/index.html``."""
    manifest = manifest or semantic_manifest_path(settings)
    out = out or settings.home / "dashboard" / "index.html"
    intraday = getattr(settings, "intraday_warehouse_file", None)
    page = render_dashboard(
        settings.warehouse_file, manifest, ops_dir=settings.ops_dir, intraday_file=intraday
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, out)  # a reader never opens half a page
    log.info("dashboard written to %s", out)
    return out


def semantic_manifest_path(settings) -> Path:
    """Where dbt build leaves the compiled semantic layer (warehouse/build.py)."""
    return settings.build_dir / "dbt" / "target" / "semantic_manifest.json"


def render_dashboard(
    warehouse: Path,
    manifest: Path,
    *,
    ops_dir: Path | None = None,
    intraday_file: Path | None = None,
    now: datetime | None = None,
) -> str:
    try:
        marts = PublishedMarts(warehouse, READER, ops_dir)
    except NoPublishedData as why:
        return _template("dashboard_empty.html.j2").render(reason=str(why), now=_now(now))
    with marts:
        board = collect(marts, intraday_file)
        if board is None:
            return _template("dashboard_empty.html.j2").render(
                reason="no published data yet: no day has passed the gates",
                now=_now(now),
                status=marts.status(),
            )
    return _template("dashboard.html.j2").render(
        board=board,
        labels=RoleLabels.load(manifest),
        plotly_js=get_plotlyjs(),
        money=money,
        percent=percent,
        figures_json=json.dumps(_json_figures(board.figures)),
        now=_now(now),
    )


def _now(now: datetime | None) -> str:
    return f"{(now or datetime.now(UTC)):%Y-%m-%d %H:%M} UTC"


def _template(name: str):
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(name)


def collect(marts: PublishedMarts, intraday_file: Path | None = None) -> Dashboard | None:
    """The dashboard's figures, tables and charts; None while no day is final."""
    status = marts.status()
    as_of = status.data_as_of
    if as_of is None:
        return None
    board = Dashboard(
        status=status,
        as_of=as_of,
        month=Period.month_of(as_of),
        week=Period.week_of(as_of),
        forecast_month=Period.month_of(as_of + timedelta(days=1)),
    )
    daily = _daily_spend(marts, as_of)
    board.currency = daily[0]["reporting_currency"] if daily else "USD"
    _period_figures(board, daily)
    _budget_and_forecast(board, marts)
    board.teams = sorted(t for t in board.figures if t != ALL)
    _engineering(board, marts)
    _finance(board, marts)
    _product(board, marts)
    _leadership(board, marts)
    _alerts_and_recommendations(board, marts)
    _spend_today(board, marts, intraday_file)
    board.charts["budget"] = _budget_chart(board)
    board.charts["daily"] = _daily_chart(board, daily)
    board.charts["weekly"] = _weekly_chart(board, daily)
    board.charts["forecast"] = _forecast_chart(board, marts, daily)
    return board


def _daily_spend(marts: PublishedMarts, as_of: date) -> list[dict]:
    """Spend per team and final day (mart_finance__unit_cost, day rows), the trend window."""
    first = min(as_of - timedelta(days=TREND_DAYS - 1), as_of.replace(day=1))
    marts.require(
        "mart_finance__unit_cost",
        ("period_grain", "period_start", "team", "effective_cost", "reporting_currency"),
    )
    cursor = marts.con.execute(
        "select period_start as day, team, any_value(reporting_currency) as reporting_currency,"
        " sum(effective_cost) as spend from mart_finance__unit_cost"
        " where period_grain = 'day' and period_start between ? and ?"
        " group by all order by day, team",
        [first, as_of],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _put(board: Dashboard, team: str, name: str, value) -> None:
    board.figures.setdefault(team, {})[name] = value


def _period_figures(board: Dashboard, daily: list[dict]) -> None:
    for team in (ALL, *sorted({r["team"] for r in daily})):
        rows = [r for r in daily if team in (ALL, r["team"])]
        for name, period in (("spend_week", board.week), ("spend_month", board.month)):
            _put(
                board,
                team,
                name,
                sum(
                    (r["spend"] for r in rows if period.start <= r["day"] < period.end), Decimal(0)
                ),
            )


def _budgets(marts: PublishedMarts, month: Period) -> dict[str, Decimal]:
    """Each team's budget for the month, in the reporting currency (the budgets seed,
    converted once in sem_budgets_converted)."""
    return {
        r["team"]: r["budget"]
        for r in marts.rows(
            "sem_budgets_converted",
            ("team", "sum(budget_amount) as budget"),
            "budget_month = ? group by team",
            [month.start],
        )
    }


def _budget_and_forecast(board: Dashboard, marts: PublishedMarts) -> None:
    """Month to date against the month's budget, and the month-end forecast: of this month
    while it runs, of the next once this one is complete (the forecast's own month)."""
    for key, month in (("budget", board.month), ("forecast_budget", board.forecast_month)):
        budgets = _budgets(marts, month)
        for team, budget in budgets.items():
            _put(board, team, key, budget)
        _put(board, ALL, key, sum(budgets.values(), Decimal(0)) if budgets else None)
    for team in board.figures:
        figures = board.figures[team]
        figures.setdefault("spend_month", Decimal(0))
        figures.setdefault("spend_week", Decimal(0))
        month_budget = figures.get("budget")
        # metric budget_burn: cost over budget, month to date (mart_finance__unit_cost).
        figures["budget_burn"] = (
            float(figures["spend_month"] / month_budget) if month_budget else None
        )
    rows = marts.rows(
        "mart_finance__forecast_period_totals",
        ("team", "forecast_status", "forecast_total", "lo80", "hi80", "lo95", "hi95"),
        "period_grain = 'month' and period_start = ?",
        [board.forecast_month.start],
    )
    for r in rows:
        ok = r["forecast_status"] == "ok"
        for name in ("forecast_total", "lo80", "hi80", "lo95", "hi95"):
            _put(board, r["team"], name, r[name] if ok else None)
        _put(board, r["team"], "forecast_status", r["forecast_status"])
        forecast_budget = board.figures[r["team"]].get("forecast_budget")
        _put(
            board,
            r["team"],
            "forecast_burn",
            float(r["forecast_total"] / forecast_budget) if ok and forecast_budget else None,
        )


def _engineering(board: Dashboard, marts: PublishedMarts) -> None:
    """Month to date, per team and for the organisation (team 'all' in the mart)."""
    for r in marts.rows(
        "mart_engineering__team_month_efficiency",
        (
            "team",
            "cost_per_1k_tokens",
            "cost_per_request",
            "cache_hit_rate",
            "gpu_utilisation",
            "idle_cost",
        ),
        "month_start = ?",
        [board.month.start],
    ):
        for name, value in r.items():
            if name != "team":
                _put(board, r["team"], name, value)


def _finance(board: Dashboard, marts: PublishedMarts) -> None:
    board.tables["reconciliation"] = marts.rows(
        "mart_finance__reconciliation",
        (
            "provider_name",
            "sum(billed_cost) as billed_cost",
            "sum(estimated_cost_of_billed_usage) as estimated_cost",
            "sum(variance) as variance",
            "sum(variance) / nullif(sum(estimated_cost_of_billed_usage), 0) as variance_pct",
            "count(*) filter (where reconciliation_status != 'matched') as flagged",
        ),
        "charge_date >= ? and charge_date < ? and has_bill group by provider_name",
        [board.month.start, board.month.end],
        order_by="provider_name",
    )


def _product(board: Dashboard, marts: PublishedMarts) -> None:
    cols = ("feature_name", "team", "week_start", "cost", "credited_value", "roi", "is_loss_making")
    latest = scalar(
        marts.con,
        "select max(week_start) from mart_product__feature_roi"
        " where week_start + interval 6 day <= ?",
        [board.as_of],
    )
    board.tables["feature_roi"] = (
        marts.rows(
            "mart_product__feature_roi",
            cols,
            "week_start = ?",
            [latest],
            order_by="roi nulls last, feature_name",
        )
        if latest
        else []
    )
    board.tables["feature_roi_week"] = [{"week_start": latest}] if latest else []


def _leadership(board: Dashboard, marts: PublishedMarts) -> None:
    board.tables["roi_summary"] = marts.rows(
        "mart_leadership__roi_summary",
        ("portfolio", "spend", "credited_value", "roi", "spend_growth", "top_mover_feature_id"),
        "month_start = ?",
        [board.month.start],
        order_by="spend desc, portfolio",
    )


def _alerts_and_recommendations(board: Dashboard, marts: PublishedMarts) -> None:
    board.tables["alerts"] = marts.rows(
        "mart_ops__alerts",
        ("alert_date", "team", "severity", "alert_kind", "message"),
        "alert_date >= ? and alert_date < ?",
        [board.month.start, board.month.end],
        order_by="alert_date desc, team, alert_kind",
    )
    board.tables["recommendations"] = marts.rows(
        "mart_ops__recommendations",
        ("kind", "team", "feature", "confidence", "evidence", "estimated_monthly_saving"),
        order_by="estimated_monthly_saving desc, recommendation_id",
    )
    for team in (ALL, *board.teams):
        savings = [
            r["estimated_monthly_saving"]
            for r in board.tables["recommendations"]
            if team in (ALL, r["team"])
        ]
        _put(board, team, "recommended_saving", sum(savings, Decimal(0)))


def _spend_today(board: Dashboard, marts: PublishedMarts, intraday_file: Path | None) -> None:
    """Today so far, from the intraday file, when it is newer than the last final day.

    The estimate is for one day only, and the daily run of that day replaces it with
    billed cost: once the published marts hold the day (``superseded``), it is not shown.
    """
    if intraday_file is None or not Path(intraday_file).exists():
        board.today_note = "no intraday estimate yet (DAG ai_finops_intraday)"
        return
    try:
        spend = read_spend_today(Path(intraday_file))
    except NoPublishedData as why:
        board.today_note = str(why)
        return
    if superseded(spend.spend_date, marts.path):
        board.today_note = (
            f"the intraday estimate of {spend.spend_date} is superseded by that day's billed cost"
        )
        return
    board.today = spend
    for team in (ALL, *board.teams):
        _put(
            board,
            team,
            "spend_today",
            spend.total if team == ALL else spend.by_team.get(team, Decimal(0)),
        )


def read_spend_today(intraday_file: Path) -> SpendToday:
    with PublishedMarts(intraday_file, READER) as marts:
        rows = marts.rows(
            "mart_ops__spend_today",
            (
                "spend_date",
                "as_of_at",
                "team",
                "reporting_currency",
                "sum(estimated_cost) as estimated_cost",
            ),
            "true group by all",
            order_by="team",
        )
    if not rows:
        raise NoPublishedData(f"the intraday file {intraday_file} holds no estimate")
    return SpendToday(
        spend_date=rows[0]["spend_date"],
        as_of_at=max(r["as_of_at"] for r in rows),
        by_team={r["team"]: r["estimated_cost"] for r in rows},
        currency=rows[0]["reporting_currency"],
    )


def _colour(board: Dashboard, team: str) -> str:
    return PALETTE[board.teams.index(team) % len(PALETTE)] if team in board.teams else "#888"


def _fig_html(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(
        margin={"l": 50, "r": 20, "t": 30, "b": 40},
        height=340,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
        font={"family": "system-ui, sans-serif"},
    )
    return pio.to_html(
        fig,
        include_plotlyjs=False,
        full_html=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )


def _budget_chart(board: Dashboard) -> str:
    fig = go.Figure()
    for team in board.teams:
        f = board.figures.get(team, {})
        spent = float(f.get("spend_month") or 0)
        fig.add_bar(
            x=[team],
            y=[spent],
            name=team,
            marker_color=_colour(board, team),
            meta={"team": team},
            hovertemplate="%{x}: %{y:,.2f} spent<extra></extra>",
        )
        if f.get("budget") is not None:
            fig.add_scatter(
                x=[team],
                y=[float(f["budget"])],
                mode="markers",
                showlegend=False,
                marker={
                    "symbol": "line-ew-open",
                    "size": 40,
                    "color": "#222",
                    "line": {"width": 3},
                },
                meta={"team": team},
                name=f"{team} budget",
                hovertemplate="%{x}: budget %{y:,.2f}<extra></extra>",
            )
        if f.get("forecast_total") is not None and board.forecast_month == board.month:
            total = float(f["forecast_total"])
            fig.add_scatter(
                x=[team],
                y=[total],
                mode="markers",
                showlegend=False,
                meta={"team": team},
                name=f"{team} forecast",
                marker={"symbol": "diamond", "size": 10, "color": _colour(board, team)},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [float(f["hi80"]) - total],
                    "arrayminus": [total - float(f["lo80"])],
                },
                hovertemplate="%{x}: month-end forecast %{y:,.2f}<extra></extra>",
            )
    fig.update_layout(barmode="group", showlegend=False, yaxis_title=board.currency)
    return _fig_html(fig, "chart-budget")


def _daily_chart(board: Dashboard, daily: list[dict]) -> str:
    fig = go.Figure()
    for team in board.teams:
        rows = [r for r in daily if r["team"] == team]
        fig.add_bar(
            x=[r["day"] for r in rows],
            y=[float(r["spend"]) for r in rows],
            name=team,
            marker_color=_colour(board, team),
            meta={"team": team},
        )
    fig.update_layout(barmode="stack", yaxis_title=board.currency)
    return _fig_html(fig, "chart-daily")


def _weekly_chart(board: Dashboard, daily: list[dict]) -> str:
    """Whole weeks only, and this week to date: a part week is not a fall in spend."""
    days_of_week: dict[date, set[date]] = {}
    for r in daily:
        days_of_week.setdefault(Period.week_of(r["day"]).start, set()).add(r["day"])
    whole = {w for w, days in days_of_week.items() if len(days) == 7 or w == board.week.start}
    fig = go.Figure()
    for team in board.teams:
        weeks: dict[date, Decimal] = {}
        for r in daily:
            if r["team"] == team and Period.week_of(r["day"]).start in whole:
                start = Period.week_of(r["day"]).start
                weeks[start] = weeks.get(start, Decimal(0)) + r["spend"]
        fig.add_scatter(
            x=list(weeks),
            y=[float(v) for v in weeks.values()],
            name=team,
            mode="lines+markers",
            line={"color": _colour(board, team)},
            meta={"team": team},
        )
    fig.update_layout(yaxis_title=board.currency, xaxis_title="week starting")
    return _fig_html(fig, "chart-weekly")


def _forecast_chart(board: Dashboard, marts: PublishedMarts, daily: list[dict]) -> str:
    """The organisation's daily spend and each team's, with the forecast and its 80% band."""
    rows = marts.rows(
        "mart_finance__forecast",
        ("team", "forecast_date", "point_forecast", "lo80", "hi80"),
        "forecast_status = 'ok' and forecast_date < ?",
        [board.forecast_month.end],
        order_by="team, forecast_date",
    )
    fig = go.Figure()
    for team in (ALL, *board.teams):
        actual: dict[date, Decimal] = {}
        for r in daily:
            if team in (ALL, r["team"]):
                actual[r["day"]] = actual.get(r["day"], Decimal(0)) + r["spend"]
        ahead = [r for r in rows if r["team"] == team]
        colour = "#222" if team == ALL else _colour(board, team)
        visible = team == ALL
        fig.add_scatter(
            x=list(actual),
            y=[float(v) for v in actual.values()],
            name=team,
            mode="lines",
            line={"color": colour},
            visible=visible,
            meta={"team": team},
        )
        if ahead:
            xs = [r["forecast_date"] for r in ahead]
            fig.add_scatter(
                x=xs + xs[::-1],
                y=[float(r["hi80"]) for r in ahead] + [float(r["lo80"]) for r in ahead][::-1],
                fill="toself",
                fillcolor="rgba(120,120,120,0.25)",
                line={"width": 0},
                name=f"{team} 80% band",
                showlegend=False,
                visible=visible,
                meta={"team": team},
                hoverinfo="skip",
            )
            fig.add_scatter(
                x=xs,
                y=[float(r["point_forecast"]) for r in ahead],
                name=f"{team} forecast",
                mode="lines",
                line={"color": colour, "dash": "dot"},
                visible=visible,
                meta={"team": team},
            )
    fig.update_layout(yaxis_title=f"{board.currency} per day", showlegend=False)
    return _fig_html(fig, "chart-forecast")


def _json_figures(figures: dict[str, dict[str, Any]]) -> dict:
    def plain(v):
        if isinstance(v, Decimal):
            return str(v)
        return v

    return {team: {k: plain(v) for k, v in f.items()} for team, f in figures.items()}
