"""mart_ops__alerts on the month-long demo: the campaign spike, budget crossings once
per month, provisional days skipped, and seed rows that are wrong stop the build
naming the row."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.insights.conftest import rebuild, rows

CAMPAIGN_START = date(2026, 10, 20)  # sandbox/demo_org.yml, events_calendar seed
ALERT_MODELS = ["mart_ops__alerts"]


def daily_cost(warehouse, team: str) -> dict[date, float]:
    return dict(
        rows(
            warehouse,
            """
        select charge_date, sum(effective_cost_reporting)::double from fct_ai_cost
        where team = ? group by 1""",
            [team],
        )
    )


def teams(warehouse) -> list[str]:
    return [t for (t,) in rows(warehouse, "select distinct team from fct_ai_cost")]


def daily_cost_by_feature(warehouse, day: date) -> dict[tuple[str, str], float]:
    return {
        (team, feature): cost
        for team, feature, cost in rows(
            warehouse,
            """
        select team, feature, sum(effective_cost_reporting)::double from fct_ai_cost
        where charge_date = ? and feature is not null group by 1, 2""",
            [day],
        )
    }


def test_the_campaign_raises_one_spike_alert_per_team_that_tripled(month_warehouse):
    # The global rule: +200% or more over the day before, rising by 50 or more; for the
    # team as a whole or any of its features.
    before = CAMPAIGN_START - timedelta(days=1)

    def tripled(cost, prior):
        return prior > 0 and cost / prior - 1 >= 2.0 and cost - prior >= 50

    spiking = {}
    for team in teams(month_warehouse):
        cost = daily_cost(month_warehouse, team)
        if tripled(cost.get(CAMPAIGN_START, 0), cost.get(before, 0)):
            spiking.setdefault(team, set())
    now, then = (daily_cost_by_feature(month_warehouse, d) for d in (CAMPAIGN_START, before))
    for (team, feature), cost in now.items():
        if tripled(cost, then.get((team, feature), 0)):
            spiking.setdefault(team, set()).add(feature)
    assert spiking.get("growth") == {"ad-copy-gen", "email-drafts"}, spiking

    spikes = rows(
        month_warehouse,
        """
        select team, alert_date, feature, events, message from mart_ops__alerts
        where alert_kind = 'spike' and alert_date between ? and ? + 2""",
        [CAMPAIGN_START, CAMPAIGN_START],
    )
    assert sorted(team for team, *_ in spikes) == sorted(spiking)  # one each, no more
    for team, day, features, events, message in spikes:
        assert day == CAMPAIGN_START
        assert set((features or "").split(", ")) - {""} == spiking[team]
        assert "Autumn launch" in events and "Autumn launch" in message


def test_a_budget_threshold_fires_once_a_month_on_the_first_day_it_is_crossed(month_warehouse):
    budgets = dict(
        rows(
            month_warehouse,
            """
        select team, sum(budget_amount)::double from budgets
        where budget_month = date '2026-10-01' group by 1""",
        )
    )
    alerts = rows(
        month_warehouse,
        """
        select rule_id, team, alert_date, observed, expected from mart_ops__alerts
        where alert_kind = 'budget_threshold' and month_start = date '2026-10-01'""",
    )
    keys = [(rule, team) for rule, team, *_ in alerts]
    assert len(keys) == len(set(keys)), "a threshold fired twice in one month"

    thresholds = {"budget-80": 0.8, "budget-100": 1.0}
    expected = set()
    for team, budget in budgets.items():
        cost = daily_cost(month_warehouse, team)
        running = 0.0
        for day in sorted(d for d in cost if d.month == 10):
            running += cost[day]
            for rule, share in thresholds.items():
                if running >= share * budget and not any(e[:2] == (rule, team) for e in expected):
                    expected.add((rule, team, day))
    assert expected, "the demo org should cross some budget in October"
    team_alerts = {(rule, team, day) for rule, team, day, *_ in alerts if team != "all"}
    assert team_alerts == expected


def test_spikes_and_zscores_skip_provisional_days(month_home, tmp_path):
    # The day before the campaign turns provisional: it may not alert, and it may not
    # be the campaign day's baseline either (the Sunday before it would make a 7x spike).
    provisional = CAMPAIGN_START - timedelta(days=1)
    warehouse, result = rebuild(
        month_home,
        tmp_path,
        ALERT_MODELS,
        before=f"""
        update ops_day_status set is_final_day = false, day_status = 'provisional'
        where landing_date = date '{provisional}'""",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    day_alerts = rows(
        warehouse,
        """
        select alert_kind, alert_date from mart_ops__alerts
        where alert_kind in ('spike', 'zscore')""",
    )
    assert day_alerts, "the month should still raise day alerts"
    assert ("spike", CAMPAIGN_START) not in day_alerts
    assert provisional not in {day for _, day in day_alerts}


@pytest.mark.parametrize(
    ("bad_row", "says"),
    [
        (
            "('budget-90', 'no-such-team', 'budget_threshold', 0.9, null, 'warning', 'x')",
            "rule_id=budget-90: unknown team no-such-team",
        ),
        (
            "('spike-neg', 'growth', 'spike', -1, 50, 'warning', 'x')",
            "rule_id=spike-neg: threshold -1",
        ),
        (
            "('budget-80-again', null, 'budget_threshold', 0.8, null, 'warning', 'x')",
            "overlaps another budget_threshold rule for every team",
        ),
    ],
)
def test_a_bad_rule_row_fails_the_build_naming_the_row(month_home, tmp_path, bad_row, says):
    _, result = rebuild(
        month_home, tmp_path, ALERT_MODELS, before=f"insert into alert_rules values {bad_row}"
    )
    assert result.returncode != 0
    assert "alert_rules seed, row" in result.stdout and says in result.stdout, result.stdout[-3000:]


def test_every_alert_has_a_route_and_a_stable_id(month_warehouse, month_home, tmp_path):
    missing = rows(
        month_warehouse,
        """
        select alert_id from mart_ops__alerts where email is null and webhook_conn_id is null""",
    )
    assert missing == []
    # A rebuild of the same days gives the same ids (what delivery dedupes on).
    warehouse, result = rebuild(month_home, tmp_path, ALERT_MODELS)
    assert result.returncode == 0, result.stdout[-3000:]
    ids = "select alert_id from mart_ops__alerts order by 1"
    assert rows(warehouse, ids) == rows(month_warehouse, ids)


def test_the_forecast_overrun_warns_before_the_budget_is_spent(month_warehouse):
    dates = {}
    for rule, team, day in rows(
        month_warehouse,
        """
            select rule_id, team, alert_date from mart_ops__alerts
            where month_start = date '2026-10-01'
              and alert_kind in ('forecast_overrun', 'budget_threshold')""",
    ):
        dates.setdefault(team, {})[rule] = day
    assert {"forecast-overrun", "budget-100"} <= set(dates["growth"]), dates.get("growth")
    for team, fired in dates.items():
        if "forecast-overrun" in fired and "budget-100" in fired:
            assert fired["forecast-overrun"] < fired["budget-100"], (team, fired)
    # It fires on a forecast, not on spend: growth's was under budget that day.
    (mtd,) = rows(
        month_warehouse,
        """
        select sum(effective_cost_reporting) from fct_ai_cost
        where team = 'growth' and charge_date between date '2026-10-01' and ?""",
        [dates["growth"]["forecast-overrun"]],
    )[0]
    (budget,) = rows(
        month_warehouse,
        """
        select sum(budget_amount) from budgets
        where team = 'growth' and budget_month = date '2026-10-01'""",
    )[0]
    assert mtd < budget
