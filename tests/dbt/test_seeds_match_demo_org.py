"""The dbt seeds describe the same organisation the sandbox generates (sandbox/demo_org.yml)."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "dbt_project" / "seeds"
ORG = yaml.safe_load((REPO / "sandbox" / "demo_org.yml").read_text())
# The one deliberate difference: gpt-4o-mini gets cheaper in the price book from
# this day, while the sandbox keeps billing the old price, so the estimate
# diverges from the bill and reconciliation shows it.
PRICE_CHANGE = ("gpt-4o-mini-2024-07-18", date(2026, 10, 15))


def seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def rules_by(dimension: str) -> dict[str, dict[str, str]]:
    rows = [r for r in seed("attribution_rules") if r["match_dimension"] == dimension]
    best = {}
    for row in sorted(rows, key=lambda r: (int(r["priority"]), r["rule_id"]), reverse=True):
        best[row["match_value"]] = row  # lowest priority number written last, wins
    return best


def test_teams_and_cost_centres_match():
    teams = {r["team"]: r for r in seed("teams")}
    assert {t["team"]: t["cost_center"] for t in ORG["teams"]} == {
        t: r["cost_center"] for t, r in teams.items()
    }
    owners = [t for t, r in teams.items() if r["is_platform_owner"] == "true"]
    assert owners == [ORG["gpu_cluster"]["owner_team"]]


def test_feature_catalogue_matches():
    catalogue = {r["feature_id"]: r["team"] for r in seed("feature_catalogue")}
    assert catalogue == {f["feature"]: f["team"] for f in ORG["features"]}


def test_feature_catalogue_credits_ai_with_the_value_the_org_says():
    def credit(method, share, baseline):
        return (
            method,
            Decimal(str(share)) if share not in (None, "") else None,
            Decimal(str(baseline)) if baseline not in (None, "") else None,
        )

    catalogue = {
        r["feature_id"]: credit(r["value_method"], r["ai_value_share"], r["baseline_value_per_day"])
        for r in seed("feature_catalogue")
    }
    org = {
        f["feature"]: credit(
            f["value_method"], f.get("ai_value_share"), f.get("baseline_value_per_day")
        )
        for f in ORG["features"]
    }
    assert catalogue == org
    # The demo shows both methods, so both reach the marts.
    assert {method for method, _, _ in catalogue.values()} == {"share", "incremental"}


def test_every_key_but_the_unknown_one_is_attributed_as_the_org_says():
    rules = rules_by("api_key_id")
    features = {f["feature"]: f["team"] for f in ORG["features"]}
    for key in ORG["api_keys"]:
        if key["feature"] is None:
            assert key["api_key_id"] not in rules, "an unmapped key must stay unallocated"
            continue
        rule = rules[key["api_key_id"]]
        assert (rule["feature"], rule["environment"], rule["team"]) == (
            key["feature"],
            key["environment"],
            features[key["feature"]],
        ), key["api_key_id"]
    unknown = next(k for k in ORG["api_keys"] if k["feature"] is None)
    assert unknown["project_id"] not in rules_by("openai_project_id"), (
        "a project rule would catch the unknown key"
    )


def test_every_namespace_is_attributed_as_the_org_says():
    rules = rules_by("k8s_namespace")
    features = {f["feature"]: f["team"] for f in ORG["features"]}
    for workload in ORG["gpu_cluster"]["workloads"]:
        rule = rules[workload["namespace"]]
        assert (rule["feature"], rule["environment"], rule["team"]) == (
            workload["feature"],
            workload["environment"],
            features[workload["feature"]],
        )


def test_cloud_services_with_an_owner_are_matched_by_their_feature_tag():
    rules = rules_by("focus_tag")
    for service in ORG["cloud_services"]:
        if service.get("shared"):
            continue
        rule = rules[f"feature={service['feature']}"]
        assert rule["team"] == service["team"]


@pytest.mark.parametrize("model", ORG["models"], ids=lambda m: m["model"])
def test_price_book_bills_like_the_sandbox_until_the_price_change(model):
    rows = [r for r in seed("price_book") if r["model_id"] == model["model"]]
    demo_start = date.fromisoformat(ORG["demo_end_date"]) - timedelta(days=ORG["demo_days"])
    first_day = min(date.fromisoformat(r["effective_from"]) for r in rows)
    assert first_day <= demo_start, "the price book must cover the whole demo window"
    for row in rows:
        changed = (row["model_id"], date.fromisoformat(row["effective_from"])) == PRICE_CHANGE
        price = Decimal(row["input_price_per_1m"])
        if changed:
            assert price < Decimal(str(model["input"]))
            continue
        assert row["provider"] == model["provider"]
        assert row["model_family"] == model["family"]
        for column, key in [
            ("input_price_per_1m", "input"),
            ("cached_input_price_per_1m", "cached_input"),
            ("output_price_per_1m", "output"),
            ("cache_write_5m_price_per_1m", "cache_write_5m"),
            ("cache_write_1h_price_per_1m", "cache_write_1h"),
        ]:
            if key in model:
                assert Decimal(row[column]) == Decimal(str(model[key])), (model["model"], column)
        if "batch_discount" in model:
            assert Decimal(row["batch_discount"]) == Decimal(str(model["batch_discount"]))


def test_gpu_boxes_and_traced_apps_are_attributed_and_priced_as_the_org_says():
    features = {f["feature"]: f["team"] for f in ORG["features"]}
    hosts = rules_by("gpu_host")
    for box in ORG["gpu_boxes"]:
        rule = hosts[box["hostname"]]
        assert (rule["team"], rule["feature"], rule["environment"]) == (
            features[box["feature"]],
            box["feature"],
            box["environment"],
        )
    services = rules_by("otel_service_name")
    priced = {(r["provider"], r["model_id"]) for r in seed("price_book")}
    for app in ORG["otel_apps"]:
        rule = services[app["service_name"]]
        assert (rule["team"], rule["feature"], rule["environment"]) == (
            features[app["feature"]],
            app["feature"],
            app["environment"],
        )
        assert (app["provider"], app["model"]) in priced


def test_the_gpu_boxes_outside_kubernetes_are_in_the_node_inventory():
    from sandbox.focus import instance_id
    from sandbox.org import DemoOrg

    org = DemoOrg.load()
    inventory = {r["resource_id"]: r["hostname"] for r in seed("gpu_node_inventory")}
    for box in ORG["gpu_boxes"]:
        assert inventory[instance_id(org, box["hostname"])] == box["hostname"]


def test_every_team_of_the_org_has_a_lead_for_its_weekly_report():
    leads = {r["team"]: r for r in seed("team_leads")}
    assert set(leads) == {t["team"] for t in ORG["teams"]}
    assert all("@" in r["email"] for r in leads.values())


def test_both_leadership_reports_have_recipients():
    kinds = {r["report_kind"] for r in seed("report_recipients")}
    assert kinds == {"leadership-weekly", "leadership-monthly"}
