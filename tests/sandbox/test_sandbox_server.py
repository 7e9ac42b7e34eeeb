"""The loopback double: real shapes, paging, limits, auth, faults, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests

from sandbox.org import BILLING_DEVIATION

REALDATA = Path(__file__).parents[2].parent / "shared" / "realdata"
START = int(datetime(2026, 10, 2, tzinfo=UTC).timestamp())
DAY = 86400


def _walk(api, path, params, headers):
    """Follow next_page until has_more is false; return the buckets and pages."""
    buckets, pages, page = [], 0, None
    while True:
        query = dict(params) | ({"page": page} if page else {})
        r = requests.get(api.url + path, params=query, headers=headers, timeout=10)
        assert r.status_code == 200, r.text
        body = r.json()
        buckets += body["data"]
        pages += 1
        if not body["has_more"]:
            assert body["next_page"] is None
            return buckets, pages
        page = body["next_page"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/organization/costs",
        "/v1/organization/usage/completions",
        "/v1/organization/usage/embeddings",
    ],
)
def test_openai_paging_covers_the_range_exactly_once(api, openai_headers, path):
    params = {
        "start_time": START,
        "end_time": START + 10 * DAY,
        "bucket_width": "1d",
        "limit": 3,
        "group_by": ["project_id"],
    }
    buckets, pages = _walk(api, path, params, openai_headers)
    assert pages == 4
    assert [b["start_time"] for b in buckets] == [START + i * DAY for i in range(10)]
    assert all(b["object"] == "bucket" and b["end_time"] - b["start_time"] == DAY for b in buckets)
    assert all(b["results"] for b in buckets)


@pytest.mark.parametrize(
    "path", ["/v1/organizations/usage_report/messages", "/v1/organizations/cost_report"]
)
def test_anthropic_paging_covers_the_range_exactly_once(api, anthropic_headers, path):
    params = {
        "starting_at": "2026-10-02T00:00:00Z",
        "ending_at": "2026-10-12T00:00:00Z",
        "limit": 4,
        "group_by[]": ["workspace_id"],
    }
    buckets, pages = _walk(api, path, params, anthropic_headers)
    assert pages == 3
    assert [b["starting_at"] for b in buckets] == [
        f"2026-10-{d:02d}T00:00:00Z" for d in range(2, 12)
    ]


def test_openai_costs_equal_usage_times_price(api, openai_headers, org):
    window = {"start_time": START, "end_time": START + 3 * DAY, "limit": 31}
    costs, _ = _walk(
        api,
        "/v1/organization/costs",
        window | {"group_by": ["project_id", "line_item"]},
        openai_headers,
    )
    billed: dict[str, float] = defaultdict(float)
    for b in costs:
        for r in b["results"]:
            assert r["object"] == "organization.costs.result"
            assert r["amount"]["currency"] == "usd"
            billed[r["line_item"].split(", ")[0]] += r["amount"]["value"]
    usage, _ = _walk(
        api,
        "/v1/organization/usage/completions",
        window | {"group_by": ["model", "batch"]},
        openai_headers,
    )
    estimated: dict[str, float] = defaultdict(float)
    for b in usage:
        for r in b["results"]:
            m = org.models[r["model"]]
            discount = m.batch_discount if r["batch"] else 1.0
            uncached = r["input_tokens"] - r["input_cached_tokens"]
            list_price = (
                uncached * m.input
                + r["input_cached_tokens"] * m.cached_input
                + r["output_tokens"] * m.output
            ) / 1e6
            estimated[m.model] += discount * list_price
    for model, value in estimated.items():
        assert billed[model] == pytest.approx(
            value * (1 + BILLING_DEVIATION.get(model, 0)), rel=1e-6
        ), model
    assert billed["gpt-4o-2024-08-06"] > estimated["gpt-4o-2024-08-06"] * 1.004


def test_ungrouped_dimensions_come_back_null(api, openai_headers):
    r = requests.get(
        api.url + "/v1/organization/usage/completions",
        headers=openai_headers,
        params={"start_time": START, "end_time": START + DAY, "group_by[]": "api_key_id"},
        timeout=10,
    )
    results = r.json()["data"][0]["results"]
    assert {x["api_key_id"] for x in results} >= {"key_supp_prod_01", "key_unknown_01"}
    assert {x["model"] for x in results} == {None}
    assert {x["project_id"] for x in results} == {None}


def test_partial_first_bucket_like_the_real_api(api, openai_headers):
    r = requests.get(
        api.url + "/v1/organization/usage/embeddings",
        headers=openai_headers,
        params={"start_time": START + DAY // 2, "end_time": START + 2 * DAY},
        timeout=10,
    )
    buckets = r.json()["data"]
    assert [(b["start_time"], b["end_time"]) for b in buckets] == [
        (START + DAY // 2, START + DAY),
        (START + DAY, START + 2 * DAY),
    ]


def test_anthropic_cost_amounts_are_cent_strings(api, anthropic_headers, org):
    r = requests.get(
        api.url + "/v1/organizations/cost_report",
        headers=anthropic_headers,
        params={
            "starting_at": "2026-10-05T00:00:00Z",
            "ending_at": "2026-10-06T00:00:00Z",
            "group_by[]": ["workspace_id", "description"],
        },
        timeout=10,
    )
    results = r.json()["data"][0]["results"]
    assert all(isinstance(x["amount"], str) and x["currency"] == "USD" for x in results)
    total_cents = sum(float(x["amount"]) for x in results)
    expected = sum(
        float(line["amount_cents"]) for line in org.anthropic_cost_lines(date(2026, 10, 5))
    )
    assert total_cents == pytest.approx(expected, rel=1e-6)
    assert {x["token_type"] for x in results} >= {"uncached_input_tokens", "output_tokens"}


def _prom(api, **params):
    return requests.get(api.url + "/api/v1/query_range", params=params, timeout=30)


def test_prometheus_forms_of_the_query(api):
    window = {"start": START, "end": START + 3600, "step": "5m"}
    bare = _prom(api, query="DCGM_FI_DEV_GPU_UTIL", **window).json()
    named = _prom(api, query='{__name__="DCGM_FI_DEV_GPU_UTIL"}', **window).json()
    one = _prom(api, query='DCGM_FI_DEV_GPU_UTIL{kubernetes_node="gpu-a10g-1",gpu="3"}', **window)
    assert bare["status"] == "success" and bare["data"]["resultType"] == "matrix"
    assert bare == named
    assert len({s["metric"]["UUID"] for s in bare["data"]["result"]}) == 16
    series = one.json()["data"]["result"]
    assert len(series) == 1 and len(series[0]["values"]) == 13
    assert all(isinstance(v, str) for _, v in series[0]["values"])
    unknown = _prom(api, query="DCGM_FI_DEV_NOPE", **window).json()
    assert unknown["data"]["result"] == []


def test_prometheus_11000_point_limit(api):
    ok = _prom(
        api,
        query='DCGM_FI_DEV_GPU_UTIL{kubernetes_node="gpu-a10g-1",gpu="3"}',
        start=START,
        end=START + 11_000 * 60,
        step="60",
    )
    assert ok.status_code == 200
    assert len(ok.json()["data"]["result"][0]["values"]) == 11_001
    too_many = _prom(
        api, query="DCGM_FI_DEV_GPU_UTIL", start=START, end=START + 11_001 * 60, step="1m"
    )
    assert too_many.status_code == 400
    assert too_many.json() == {
        "status": "error",
        "errorType": "bad_data",
        "error": "exceeded maximum resolution of 11,000 points per timeseries. "
        "Try decreasing the query resolution (?step=XX)",
    }


def test_prometheus_bad_params(api):
    r = _prom(api, query="DCGM_FI_DEV_GPU_UTIL", start=START, end=START - 60, step=60)
    assert r.status_code == 400 and r.json()["errorType"] == "bad_data"
    r = _prom(api, query="DCGM_FI_DEV_GPU_UTIL", start="yesterday", end=START, step=60)
    assert r.status_code == 400 and "start" in r.json()["error"]


def test_openai_auth_errors(api):
    for headers in ({}, {"Authorization": "Bearer sk-wrong"}):
        r = requests.get(
            api.url + "/v1/organization/costs",
            params={"start_time": START},
            headers=headers,
            timeout=10,
        )
        assert r.status_code == 401
        err = r.json()["error"]
        assert err["code"] == "invalid_api_key" and err["type"] == "invalid_request_error"
        assert set(err) == {"message", "type", "param", "code"}


def test_anthropic_auth_and_version_errors(api, canary_keys):
    r = requests.get(
        api.url + "/v1/organizations/cost_report",
        timeout=10,
        params={"starting_at": "2026-10-02T00:00:00Z"},
        headers={"x-api-key": "sk-ant-wrong", "anthropic-version": "2023-06-01"},
    )
    assert r.status_code == 401
    assert r.json() == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
    }
    r = requests.get(
        api.url + "/v1/organizations/cost_report",
        timeout=10,
        params={"starting_at": "2026-10-02T00:00:00Z"},
        headers={"x-api-key": canary_keys[1]},
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "params",
    [
        {"start_time": START, "bucket_width": "1h"},
        {"start_time": START, "group_by": "model"},
        {"start_time": START, "limit": 181},
        {"start_time": "2026-10-02"},
        {},
    ],
)
def test_openai_bad_params_are_400_in_openai_shape(api, openai_headers, params):
    r = requests.get(
        api.url + "/v1/organization/costs", params=params, headers=openai_headers, timeout=10
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"


def test_faults_rate_limit_then_recover(api, openai_headers):
    api.faults.add("/v1/organization/costs", status=429, count=2, retry_after=1)
    params = {"start_time": START, "end_time": START + DAY}
    statuses = []
    for _ in range(3):
        r = requests.get(
            api.url + "/v1/organization/costs", params=params, headers=openai_headers, timeout=10
        )
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert r.headers["Retry-After"] == "1"
            assert r.json()["error"]["code"] == "rate_limit_exceeded"
    assert statuses == [429, 429, 200]
    assert [e["status"] for e in api.requests] == [429, 429, 200]


def test_faults_only_hit_their_path_and_can_be_malformed(api, openai_headers, anthropic_headers):
    api.faults.add("/v1/organizations/", status=529, count=1)
    api.faults.add("/v1/organization/usage/", status=200, body='{"object": "page", "data": [')
    r = requests.get(
        api.url + "/v1/organization/costs",
        params={"start_time": START},
        headers=openai_headers,
        timeout=10,
    )
    assert r.status_code == 200
    r = requests.get(
        api.url + "/v1/organization/usage/completions",
        params={"start_time": START},
        headers=openai_headers,
        timeout=10,
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)
    r = requests.get(
        api.url + "/v1/organizations/cost_report",
        params={"starting_at": "2026-10-02T00:00:00Z"},
        headers=anthropic_headers,
        timeout=10,
    )
    assert r.status_code == 529 and r.json()["error"]["type"] == "overloaded_error"


def test_request_log_never_holds_the_keys(api, openai_headers, anthropic_headers, canary_keys):
    requests.get(
        api.url + "/v1/organization/costs",
        params={"start_time": START},
        headers=openai_headers,
        timeout=10,
    )
    requests.get(
        api.url + "/v1/organizations/cost_report",
        params={"starting_at": "2026-10-02T00:00:00Z"},
        headers=anthropic_headers,
        timeout=10,
    )
    logged = json.dumps(api.requests)
    assert len(api.requests) == 2
    assert canary_keys[0] not in logged and canary_keys[1] not in logged
    assert api.requests[1]["headers"]["anthropic-version"] == "2023-06-01"


def test_serve_refuses_non_loopback(org):
    from sandbox.server import serve

    with pytest.raises(ValueError, match="loopback"):
        serve(org, host="0.0.0.0")


def test_cli_serve_writes_its_url_and_stops_on_sigterm(tmp_path, canary_keys):
    url_file = tmp_path / "url"
    env = os.environ | {"OPENAI_ADMIN_KEY": canary_keys[0]}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--url-file", str(url_file)],
        cwd=Path(__file__).parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(200):
            if url_file.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        url = url_file.read_text().strip()
        r = requests.get(
            url + "/v1/organization/costs",
            params={"start_time": START},
            headers={"Authorization": f"Bearer {canary_keys[0]}"},
            timeout=10,
        )
        assert r.status_code == 200 and r.json()["object"] == "page"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


@pytest.mark.realdata
@pytest.mark.skipif(not REALDATA.exists(), reason=f"real data folder {REALDATA} is absent")
def test_usage_results_have_the_fields_of_the_real_api(api, openai_headers):
    real = json.loads(
        (
            REALDATA / "openai_usage_api_cookbook_output" / "usage_completions_daily_buckets.json"
        ).read_text()
    )
    real_bucket = next(b for b in real if b["results"])
    r = requests.get(
        api.url + "/v1/organization/usage/completions",
        headers=openai_headers,
        params={"start_time": START, "end_time": START + DAY},
        timeout=10,
    )
    ours = r.json()["data"][0]
    assert set(ours) == set(real_bucket)
    assert set(ours["results"][0]) == set(real_bucket["results"][0])
    assert ours["results"][0]["object"] == real_bucket["results"][0]["object"]


def test_prometheus_serves_kube_node_info_naming_the_billed_instances(api, org):
    from sandbox import focus

    window = {"start": START, "end": START + 3600, "step": "5m"}
    info = _prom(api, query="kube_node_info", **window).json()["data"]["result"]
    provider = {s["metric"]["node"]: s["metric"]["provider_id"] for s in info}
    billed = {
        r["ResourceId"]
        for r in focus.focus_rows(org, datetime.fromtimestamp(START, UTC).date())
        if r["ResourceType"] == "Instance"
    }
    # Every cluster node; the GPU box outside Kubernetes is billed but no node of it.
    outside = {focus.instance_id(org, box["hostname"]) for box in org.gpu_boxes}
    assert {p.rsplit("/", 1)[1] for p in provider.values()} == billed - outside
    assert all(p.startswith("aws:///us-east-1a/i-0") for p in provider.values())
    assert all(v == "1" for s in info for _, v in s["values"])
    # DCGM's Hostname is the exporter pod; kubernetes_node is the node kube_node_info names.
    dcgm = _prom(api, query="DCGM_FI_DEV_GPU_UTIL", **window).json()["data"]["result"]
    assert {s["metric"]["kubernetes_node"] for s in dcgm} == set(provider)
    assert all(s["metric"]["Hostname"].startswith("nvidia-dcgm-exporter-") for s in dcgm)


COSTS_PAGE_2 = {"start_time": START, "end_time": START + 3 * DAY, "limit": 1}


def test_fault_kinds_on_the_wire(api, openai_headers):
    costs = api.url + "/v1/organization/costs"
    clean = requests.get(costs, params=COSTS_PAGE_2, headers=openai_headers, timeout=10)
    cursor = clean.json()["next_page"]

    api.faults.add("/v1/organization/costs", kind="drop")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(costs, params=COSTS_PAGE_2, headers=openai_headers, timeout=10)

    api.faults.add("/v1/organization/costs", kind="short_body")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(costs, params=COSTS_PAGE_2, headers=openai_headers, timeout=10)

    api.faults.add("/v1/organization/costs", kind="truncated")
    r = requests.get(costs, params=COSTS_PAGE_2, headers=openai_headers, timeout=10)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(r.content)
    assert r.content == clean.content[: len(clean.content) // 2]
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)

    api.faults.add("/v1/organization/costs", kind="429", retry_after=0)
    r = requests.get(costs, params=COSTS_PAGE_2, headers=openai_headers, timeout=10)
    assert r.status_code == 429 and r.headers["Retry-After"] == "0"
    assert r.json()["error"]["code"] == "rate_limit_exceeded"

    api.faults.add("/v1/organization/costs", kind="empty_page")
    r = requests.get(
        costs, params=COSTS_PAGE_2 | {"page": cursor}, headers=openai_headers, timeout=10
    )
    assert r.json() == {"object": "page", "data": [], "has_more": True, "next_page": cursor}

    api.faults.add("/v1/organization/costs", kind="timeout", stall=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(costs, params=COSTS_PAGE_2, headers=openai_headers, timeout=(5, 0.1))

    # The fault is in the request log; the next call is clean again.
    assert [e["fault"] for e in api.requests][1:] == [
        "drop",
        "short_body",
        "truncated",
        "429",
        "empty_page",
        "timeout",
    ]
    again = requests.get(costs, params=COSTS_PAGE_2, headers=openai_headers, timeout=10)
    assert again.content == clean.content


def test_a_fault_plan_is_seeded_and_fails_its_share_of_calls(org, openai_headers):
    from sandbox.server import FAULT_KINDS, FaultPlan, serve

    def faults_seen(seed: int) -> list[str | None]:
        plan = FaultPlan(rate=0.3, seed=seed, retry_after=0, stall=0.3)
        with serve(
            org, admin_keys={"openai": openai_headers["Authorization"][7:]}, fault_plan=plan
        ) as api:
            for _ in range(60):
                try:
                    requests.get(
                        api.url + "/v1/organization/costs",
                        params=COSTS_PAGE_2,
                        headers=openai_headers,
                        timeout=(5, 0.1),
                    )
                except requests.RequestException:
                    pass
            return [e["fault"] for e in api.requests]

    first = faults_seen(7)
    assert first == faults_seen(7)  # the same seed fails the same calls, the same way
    assert first != faults_seen(8)
    assert 0.15 < sum(f is not None for f in first) / len(first) < 0.45
    assert {f for f in first if f} <= set(FAULT_KINDS)


def test_prometheus_is_never_given_an_empty_page_and_rate_1_fails_every_call():
    from sandbox.server import FaultPlan

    plan = FaultPlan(rate=1.0, seed=1)
    prometheus = [plan.draw("prometheus") for _ in range(200)]
    assert None not in prometheus and "empty_page" not in prometheus
    assert "empty_page" in {plan.draw("openai") for _ in range(200)}


def test_fault_plan_from_the_environment(org, monkeypatch):
    from sandbox.server import FaultPlan, serve

    plan = FaultPlan.parse("rate=0.5, seed=7, kinds=429+drop, retry_after=0")
    assert (plan.rate, plan.seed, plan.kinds, plan.retry_after) == (0.5, 7, ("429", "drop"), 0)
    with pytest.raises(ValueError, match="COSTBRIDGE_SANDBOX_FAULTS 'rate=0.3,sed=7'"):
        FaultPlan.parse("rate=0.3,sed=7")
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FaultPlan.parse("kinds=429+teapot")
    monkeypatch.setenv("COSTBRIDGE_SANDBOX_FAULTS", "rate=1,seed=3,kinds=503")
    with serve(org) as api:
        r = requests.get(api.url + "/api/v1/query_range", params={"query": "up"}, timeout=10)
    assert r.status_code == 503 and r.json()["errorType"] == "unavailable"
