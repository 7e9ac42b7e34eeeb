"""The generator: determinism, seasonality, campaign, growth, GPU idle, bill."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from sandbox import focus, gpu
from sandbox.org import BILLING_DEVIATION, DemoOrg, days_between

OCT = days_between(date(2026, 10, 2), date(2026, 11, 1))


def test_a_day_does_not_depend_on_the_range_generated():
    day = date(2026, 10, 14)
    wide = DemoOrg.load()
    for d in days_between(day - timedelta(days=5), day + timedelta(days=5)):
        wide.key_usage(d)
        focus.focus_rows(wide, d)
    alone = DemoOrg.load()
    assert wide.key_usage(day) == alone.key_usage(day)
    assert wide.value_kpis(day) == alone.value_kpis(day)
    assert focus.focus_rows(wide, day) == focus.focus_rows(alone, day)
    assert wide.openai_cost_lines(day) == alone.openai_cost_lines(day)


def test_days_differ_from_each_other(org):
    a, b = org.key_usage(date(2026, 10, 13)), org.key_usage(date(2026, 10, 14))
    assert [u.input_tokens for u in a] != [u.input_tokens for u in b]


def test_weekends_carry_40_to_60_percent_of_weekday_traffic(org):
    users = {
        d: org.active_users("semantic-search", d)
        for d in OCT
        if not org.in_campaign("semantic-search", d)
    }
    weekend = [v for d, v in users.items() if d.weekday() >= 5]
    weekday = [v for d, v in users.items() if d.weekday() < 5]
    ratio = (sum(weekend) / len(weekend)) / (sum(weekday) / len(weekday))
    assert 0.35 <= ratio <= 0.65


def test_campaign_multiplies_its_features_only(org):
    campaign_day, same_weekday_before = date(2026, 10, 21), date(2026, 10, 14)
    lifted = org.active_users("email-drafts", campaign_day) / org.active_users(
        "email-drafts", same_weekday_before
    )
    flat = org.active_users("semantic-search", campaign_day) / org.active_users(
        "semantic-search", same_weekday_before
    )
    assert 2.6 <= lifted <= 3.4
    assert 0.85 <= flat <= 1.15


def _ad_copy(org, days):
    """Billed cost of the ad-copy-gen key (usage x price x deviation) and its value."""
    m = org.models["gpt-4o-2024-08-06"]
    deviation = 1 + BILLING_DEVIATION[m.model]
    cost = sum(
        (
            (u.input_tokens - u.cached_input_tokens) * m.input
            + u.cached_input_tokens * m.cached_input
            + u.output_tokens * m.output
        )
        / 1e6
        * deviation
        for d in days
        for u in org.key_usage(d)
        if u.api_key_id == "key_grow_prod_02"
    )
    value = sum(
        float(k["revenue"])
        for d in days
        for k in org.value_kpis(d)
        if k["feature_id"] == "ad-copy-gen"
    )
    return cost, value


def test_ad_copy_gen_roi_turns_negative_in_october(org):
    early_cost, early_value = _ad_copy(org, OCT[:7])
    late_cost, late_value = _ad_copy(org, OCT[-7:])
    assert early_value > early_cost
    assert late_value < late_cost


def test_openai_batch_usage_is_split_and_discounted(org):
    day = date(2026, 10, 6)
    research = [u for u in org.key_usage(day) if u.api_key_id == "key_ds_research_01"]
    assert {u.is_batch for u in research} == {True, False}
    batch = next(u for u in research if u.is_batch)
    assert batch.requests / sum(u.requests for u in research) == pytest.approx(0.8, abs=0.02)
    lines = {
        li["line_item"]: li["amount"]
        for li in org.openai_cost_lines(day)
        if li["project_id"] == "proj_research"
    }
    price = org.models["gpt-4o-2024-08-06"]
    deviation = 1 + BILLING_DEVIATION["gpt-4o-2024-08-06"]
    expected = batch.output_tokens * price.output * price.batch_discount / 1e6 * deviation
    assert lines["gpt-4o-2024-08-06, output (batch)"] == pytest.approx(expected, rel=1e-9)


def test_anthropic_cost_is_in_cents_and_matches_usage(org):
    day = date(2026, 10, 7)
    usage = [u for u in org.key_usage(day) if u.api_key_id == "wrk_research_01"]
    opus = org.models["claude-opus-4-1"]
    expected_cents = (
        sum(
            u.uncached_input_tokens * opus.input
            + u.cached_input_tokens * opus.cached_input
            + u.cache_write_5m_tokens * opus.cache_write_5m
            + u.cache_write_1h_tokens * opus.cache_write_1h
            + u.output_tokens * opus.output
            for u in usage
        )
        / 1e6
        * 100
    )
    billed = sum(
        line["amount_cents"]
        for line in org.anthropic_cost_lines(day)
        if line["model"] == "claude-opus-4-1"
    )
    assert float(billed) == pytest.approx(expected_cents, rel=1e-6)
    assert all(u.uncached_input_tokens >= 0 for u in org.key_usage(day))


def _gpus(org):
    return {(g.hostname, g.index): g for g in gpu.cluster_gpus(org)}


def _held(org, g, day, hour):
    base = gpu.gpu_day(org, g, day)
    n = base.holder[hour * 60 + 5]
    return None if n < 0 else g.workloads[n].namespace


def test_gpu_assignment_leaves_real_idle_capacity(org):
    gpus = _gpus(org)
    assert len(gpus) == 16
    weekday, saturday = date(2026, 10, 14), date(2026, 10, 17)
    a100 = [g for (h, _), g in gpus.items() if h == "gpu-a100-0"]
    assert {_held(org, g, weekday, 10) for g in a100} == {"train-recsys"}
    assert {_held(org, g, saturday, 10) for g in a100} == {None}  # weekdays only
    assert [_held(org, g, weekday, 3) for g in a100].count("batch-embed") == 4
    spare = gpus[("gpu-a10g-1", 3)]
    assert all(_held(org, spare, weekday, h) is None for h in range(24))
    inference = [g for g in gpus.values() if _held(org, g, saturday, 3) == "inference-llama"]
    assert len(inference) == 6


def test_dcgm_values_follow_holders(org):
    g = _gpus(org)[("gpu-a100-0", 5)]
    day = date(2026, 10, 14)
    base = gpu.gpu_day(org, g, day)
    held = base.holder >= 0
    util = base.values["DCGM_FI_DEV_GPU_UTIL"]
    assert util[held].mean() == pytest.approx(92, abs=3)
    assert (util[~held] == 0).all()
    assert (base.values["DCGM_FI_DEV_FB_USED"][~held] == 0).all()
    engine = base.values["DCGM_FI_PROF_GR_ENGINE_ACTIVE"]
    assert ((engine >= 0) & (engine <= 1)).all()
    assert (base.values["DCGM_FI_DEV_POWER_USAGE"] > 0).all()


def test_series_are_the_same_whatever_the_query_step(org):
    t0 = gpu.day_start_ts(date(2026, 10, 14))
    fine = gpu.series(org, "DCGM_FI_DEV_POWER_USAGE", t0, t0 + 3600, 60)
    coarse = gpu.series(org, "DCGM_FI_DEV_POWER_USAGE", t0 + 600, t0 + 3600, 600)
    fine_points = {(lab["UUID"], t): v for lab, vals in fine for t, v in vals}
    for lab, vals in coarse:
        for t, v in vals:
            assert fine_points[(lab["UUID"], t)] == v


def test_held_samples_carry_pod_labels_and_idle_ones_none(org):
    t0 = gpu.day_start_ts(date(2026, 10, 14))
    for labels, values in gpu.series(org, "DCGM_FI_DEV_GPU_UTIL", t0, t0 + 86400 - 300, 300):
        if "namespace" in labels:
            assert labels["pod"].startswith(labels["namespace"] + "-")
            assert min(v for _, v in values) > 0
        else:
            assert max(v for _, v in values) == 0


def test_focus_bill_lines(org):
    day = date(2026, 10, 9)
    rows = focus.focus_rows(org, day)
    nodes = [r for r in rows if r["ResourceType"] == "Instance"]
    # As AWS bills: the instance id, no name. kube_node_info maps the cluster's nodes;
    # the GPU box outside Kubernetes is in the gpu_node_inventory seed.
    assert {r["ResourceName"] for r in nodes} == {""}
    hosts = ("gpu-a100-0", "gpu-a10g-0", "gpu-a10g-1", "ds-gpu-box-0")
    by_host = {h: focus.instance_id(org, h) for h in hosts}
    assert {r["ResourceId"] for r in nodes} == set(by_host.values())
    assert all(i.startswith("i-0") and len(i) == 19 for i in by_host.values())
    box = next(r for r in nodes if r["ResourceId"] == by_host["ds-gpu-box-0"])
    assert box["BilledCost"] == Decimal("1.006") * 24
    a100 = next(r for r in nodes if r["ResourceId"] == by_host["gpu-a100-0"])
    assert a100["BilledCost"] == Decimal("32.7726") * 24
    assert '"owner": "ml-platform"' in a100["Tags"]
    shared = [r for r in rows if r["Tags"] == '{"shared": "true"}']
    assert len(shared) == 3
    assert not [r for r in rows if r["ChargeCategory"] in ("Tax", "Credit")]
    month_end = focus.focus_rows(org, date(2026, 10, 31))
    by_category = {r["ChargeCategory"]: r["BilledCost"] for r in month_end}
    assert by_category["Credit"] < 0 < by_category["Tax"]
    assert all(r["ChargePeriodStart"].date() == date(2026, 10, 31) for r in month_end)
