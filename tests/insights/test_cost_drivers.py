"""Why cost moved, on the month-long demo: mart_ops__cost_drivers adds up, and the narrative
tells it in each role's words.

The campaign (2026-10-20..22, events_calendar 'autumn-launch-*') falls in the ISO week of
2026-10-19; the week of 2026-10-26 lacks 2026-11-01 and the week of 2026-09-28 has
provisional days, so neither is compared.
"""

from __future__ import annotations

import copy
import csv
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from reports import narrative
from tests.conftest import REPO_ROOT
from warehouse.glossary import ROLES

CAMPAIGN_WEEK = date(2026, 10, 19)
PARTIAL_WEEK = date(2026, 10, 26)  # 2026-11-01 is not landed


@pytest.fixture(scope="module")
def warehouse(month_home: Path) -> Path:
    return month_home / "warehouse" / "costbridge.duckdb"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    """dbt's compiled semantic layer, parsed from this checkout."""
    from warehouse.build import run_dbt

    root = tmp_path_factory.mktemp("semantic")
    run_dbt(["parse"], target_file=root / "parse.duckdb", landing_root=root, artifacts_dir=root)
    return json.loads((root / "target" / "semantic_manifest.json").read_text())


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def role_label(manifest: dict, metric: str, role: str) -> str:
    (found,) = [m for m in manifest["metrics"] if m["name"] == metric]
    return found["config"]["meta"]["roles"][role]["label"]


def campaign_name() -> str:
    with (REPO_ROOT / "dbt_project" / "seeds" / "events_calendar.csv").open() as seed:
        rows = list(csv.DictReader(seed))
    (name,) = {r["event_name"] for r in rows if r["event_id"].startswith("autumn-launch")}
    return name


def test_the_effects_add_up_to_the_change_per_row_and_per_period(warehouse):
    rows = query(
        warehouse,
        "select period_grain, period_start, driver_level, team, cost_change,"
        " volume_effect, price_effect, mix_effect, share_of_total_change_pts, cost_change_pct"
        " from mart_ops__cost_drivers",
    )
    assert {(r[0], r[1]) for r in rows} >= {("week", CAMPAIGN_WEEK)}
    for _grain, _start, _level, _team, change, volume, price, mix, *_ in rows:
        assert isinstance(change, Decimal)
        assert volume + price + mix == change  # exactly, as decimals
        assert abs(float(volume) + float(price) + float(mix) - float(change)) < 1e-6
    periods = {(r[0], r[1]) for r in rows}
    for period in periods:
        items = [r for r in rows if (r[0], r[1]) == period and r[2] == "item"]
        (org,) = [r for r in rows if (r[0], r[1]) == period and r[2] == "org"]
        assert org[3] == "all"
        for column in (4, 5, 6, 7):
            assert sum(r[column] for r in items) == org[column]
        for team in {r[3] for r in items}:
            (team_row,) = [
                r for r in rows if (r[0], r[1]) == period and r[2] == "team" and r[3] == team
            ]
            assert sum(r[4] for r in items if r[3] == team) == team_row[4]
        # The items' points add up to the org's percentage change.
        assert sum(r[8] for r in items) == pytest.approx(org[9])


def test_the_org_change_is_the_facts_change_over_the_final_days(warehouse):
    ((prior, current, change),) = query(
        warehouse,
        "select prior_cost, current_cost, cost_change from mart_ops__cost_drivers"
        " where period_grain = 'week' and period_start = ? and driver_level = 'org'",
        [CAMPAIGN_WEEK],
    )

    def spend(start: date) -> Decimal:
        return query(
            warehouse,
            "select sum(effective_cost_reporting) from fct_ai_cost where charge_date >= ?"
            " and charge_date < ?",
            [start, start + timedelta(days=7)],
        )[0][0]

    assert current == spend(CAMPAIGN_WEEK)
    assert prior == spend(CAMPAIGN_WEEK - timedelta(days=7))
    assert change == current - prior and change > 0


def test_the_campaign_week_names_the_campaign(warehouse, manifest):
    name = campaign_name()
    ((events,),) = query(
        warehouse,
        "select events from mart_ops__cost_drivers where period_grain = 'week'"
        " and period_start = ? and driver_level = 'item' and feature = 'ad-copy-gen'",
        [CAMPAIGN_WEEK],
    )
    assert name in events.split("; ")
    total, items = narrative.read_drivers(warehouse, "week", CAMPAIGN_WEEK)
    told = narrative.tell(manifest, "finance", total, items, "week")
    assert f"'{name}'" in told.text
    assert "from ad-copy-gen (campaign" in told.text
    assert told.text.startswith(role_label(manifest, "total_cost", "finance") + " +")


def test_each_role_reads_its_own_labels(warehouse, manifest):
    total, items = narrative.read_drivers(warehouse, "week", CAMPAIGN_WEEK)
    texts = {role: narrative.tell(manifest, role, total, items, "week").text for role in ROLES}
    for role, text in texts.items():
        assert text.startswith(role_label(manifest, "total_cost", role) + " ")
        assert role_label(manifest, "cost_per_1k_tokens", role) in text
    assert texts["engineering"] != texts["finance"]

    renamed = copy.deepcopy(manifest)
    for metric in renamed["metrics"]:
        if metric["name"] == "cost_per_1k_tokens":
            metric["config"]["meta"]["roles"]["finance"]["label"] = "Price of a thousand tokens"
        if metric["name"] == "total_cost":
            metric["config"]["meta"]["roles"]["finance"]["label"] = "Money out"
    text = narrative.tell(renamed, "finance", total, items, "week").text
    assert text.startswith("Money out +")
    assert "Price of a thousand tokens" in text
    assert role_label(manifest, "cost_per_1k_tokens", "finance") not in text


def test_a_partial_period_is_not_compared(warehouse):
    final_days = {
        d
        for (d,) in query(
            warehouse,
            "select landing_date from ops_day_status group by landing_date"
            " having bool_and(is_final_day)",
        )
    }
    # The week of 2026-10-26 has six final days of spend: it could be compared, but not whole.
    assert {PARTIAL_WEEK + timedelta(days=n) for n in range(6)} <= final_days
    assert PARTIAL_WEEK + timedelta(days=6) not in final_days
    compared = query(
        warehouse,
        "select distinct period_grain, period_start, prior_period_start"
        " from mart_ops__cost_drivers",
    )
    assert ("week", PARTIAL_WEEK) not in {(g, s) for g, s, _ in compared}
    # Nor the week of 2026-09-28, which has provisional days, as a prior; nor September.
    assert min(p for g, _, p in compared if g == "week") == date(2026, 10, 5)
    assert not [c for c in compared if c[0] == "month"]
    with pytest.raises(narrative.NarrativeError, match="only whole periods"):
        narrative.read_drivers(warehouse, "week", PARTIAL_WEEK)


def test_the_cli_prints_a_teams_story_in_the_reporting_currency(
    warehouse, manifest, tmp_path, capsys
):
    path = tmp_path / "semantic_manifest.json"
    path.write_text(json.dumps(manifest))
    code = narrative.main(
        [
            "--warehouse", str(warehouse), "--role", "engineering", "--grain", "week",
            "--period-start", CAMPAIGN_WEEK.isoformat(), "--team", "growth",
            "--manifest", str(path),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(role_label(manifest, "total_cost", "engineering") + " of growth +")
    assert "w/w (+$" in out and campaign_name() in out


def _driver(**overrides) -> narrative.Driver:
    row = dict(
        driver_level="item", team="support-ai", feature="ticket-triage", model_id=None,
        volume_unit="tokens", events_described=None, currency="EUR", prior_volume=None,
        current_volume=None, prior_cost=Decimal(0), current_cost=Decimal(0),
        cost_change=Decimal(0), volume_effect=Decimal(0), price_effect=Decimal(0),
        mix_effect=Decimal(0), cost_change_pct=None, period_start=date(2026, 10, 26),
        prior_period_start=date(2026, 10, 19),
    )  # fmt: skip
    row.update(overrides)
    return narrative.Driver(**row)


def test_a_model_switch_reads_as_mix_in_the_reporting_currency(manifest):
    switch = "model switch 'Switch to gpt-4o'"
    new_model = _driver(
        model_id="gpt-4o", events_described=switch, prior_volume=Decimal(0),
        current_volume=Decimal(1000), current_cost=Decimal(90), cost_change=Decimal(90),
        mix_effect=Decimal(90),
    )  # fmt: skip
    old_model = _driver(
        model_id="gpt-4o-mini", events_described=switch, prior_volume=Decimal(1000),
        current_volume=Decimal(0), prior_cost=Decimal(10), cost_change=Decimal(-10),
        mix_effect=Decimal(-10),
    )  # fmt: skip
    total = _driver(
        driver_level="org", team="all", feature="all", model_id="all", volume_unit="mixed",
        prior_cost=Decimal(1000), current_cost=Decimal(1080), cost_change=Decimal(80),
        mix_effect=Decimal(80), cost_change_pct=8.0,
    )  # fmt: skip
    told = narrative.tell(manifest, "leadership", total, [new_model, old_model], "week")
    assert told.sentences[0] == (
        f"{role_label(manifest, 'total_cost', 'leadership')} +8.0% w/w (+€80.00) in the week of"
        " 2026-10-26 against the week of 2026-10-19:"
        f" +9.0 pts from ticket-triage on gpt-4o ({switch}; more of its traffic on gpt-4o),"
        f" -1.0 pts from ticket-triage on gpt-4o-mini ({switch}; less of its traffic on"
        " gpt-4o-mini)."
    )
    assert told.sentences[1] == "Volume +€0.00, unit prices +€0.00, mix +€80.00."
