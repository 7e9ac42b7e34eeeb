"""The Anthropic extractor against the sandbox's loopback double of the Admin usage/cost APIs."""

import json
import logging
from datetime import date
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from extractors.anthropic import cents_to_units
from extractors.config import SourceConfig
from extractors.errors import FatalSourceError, RetriableSourceError, SchemaDriftError
from sandbox import apis
from tests.extractors.conftest import FAST, api_source, extract_into, landed_days, landed_table

CANARY = "sk-ant-admin01-CANARY-5c1e"
START, END = date(2026, 10, 10), date(2026, 10, 12)  # with the 3-day lookback: Oct 7 to 11
USAGE = "/v1/organizations/usage_report/messages"
COSTS = "/v1/organizations/cost_report"


ADMIN_KEYS = {"anthropic": CANARY}


def source(server, **options) -> SourceConfig:
    secret = {"env": "ANTHROPIC_ADMIN_KEY", "airflow_conn": "anthropic_admin"}
    return api_source("anthropic", server, secret, **options)


def run(tmp_path, src, secrets=lambda ref: CANARY):
    return extract_into(tmp_path, src, START, END, secrets)


def landed(tmp_path, dataset):
    return landed_table(tmp_path, "anthropic", dataset)


def api_answer(org, handler, group_by):
    _, body = handler(
        org,
        {
            "starting_at": ["2026-10-07T00:00:00Z"],
            "ending_at": ["2026-10-12T00:00:00Z"],
            "group_by[]": group_by,
            "limit": ["31"],
        },
    )
    return [r for b in body["data"] for r in b["results"]]


def test_usage_and_costs_land_every_result_over_several_pages(tmp_path, server, org):
    summary = run(tmp_path, source(server, page_limit=2))
    assert summary["window"]["start"] == "2026-10-07T00:00:00+00:00"
    for path in (USAGE, COSTS):
        pages = [r["query"].get("page") for r in server.requests if r["path"] == path]
        assert len(pages) == 3 and pages[0] is None and all(pages[1:])  # 5 days, 2 per page
    first = next(r for r in server.requests if r["path"] == USAGE)
    assert first["query"]["group_by[]"] == ["api_key_id", "workspace_id", "model", "service_tier"]
    assert first["query"]["starting_at"] == ["2026-10-07T00:00:00Z"]
    assert first["query"]["ending_at"] == ["2026-10-12T00:00:00Z"]
    assert first["query"]["bucket_width"] == ["1d"]
    assert first["headers"]["anthropic-version"] == "2023-06-01"

    usage = landed(tmp_path, "anthropic_usage_messages")
    expected = api_answer(
        org, apis.anthropic_usage, ["api_key_id", "workspace_id", "model", "service_tier"]
    )
    assert usage.num_rows == len(expected) > 0
    for column, pick in [
        ("uncached_input_tokens", lambda r: r["uncached_input_tokens"]),
        ("cache_read_input_tokens", lambda r: r["cache_read_input_tokens"]),
        (
            "cache_creation_5m_input_tokens",
            lambda r: r["cache_creation"]["ephemeral_5m_input_tokens"],
        ),
        (
            "cache_creation_1h_input_tokens",
            lambda r: r["cache_creation"]["ephemeral_1h_input_tokens"],
        ),
        ("output_tokens", lambda r: r["output_tokens"]),
    ]:
        assert sum(usage.column(column).to_pylist()) == sum(pick(r) for r in expected), column
    assert sum(usage.column("cache_creation_1h_input_tokens").to_pylist()) > 0

    costs = landed(tmp_path, "anthropic_costs")
    cost_results = api_answer(org, apis.anthropic_costs, ["workspace_id", "description"])
    assert costs.num_rows == len(cost_results)
    # The API's cents become units exactly: the landed sum is the cents' sum / 100.
    cents = sum(Decimal(r["amount"]) for r in cost_results)
    assert sum(costs.column("amount").to_pylist()) == cents / 100
    assert set(costs.column("currency").to_pylist()) == {"USD"}
    assert summary["datasets"]["anthropic_costs"]["rows_quarantined"] == 0


@pytest.mark.parametrize(
    ("cents", "units"),
    [
        ("123.4567", Decimal("1.234567")),
        ("0.0001", Decimal("0.000001")),
        ("1000000000.01", Decimal("10000000.0001")),
        ("-250", Decimal("-2.50")),
        (7, Decimal("0.07")),
    ],
)
def test_cents_convert_to_units_exactly(cents, units):
    converted = cents_to_units(cents)
    assert converted == units and isinstance(converted, Decimal)


@pytest.mark.parametrize("bad", [0.1, "12,5", "NaN", None, True])
def test_cents_that_are_not_a_decimal_string_are_refused(bad):
    with pytest.raises(ValueError, match="amount"):
        cents_to_units(bad)


def _cost_page(*results, start="2026-10-07T00:00:00Z", end="2026-10-08T00:00:00Z") -> str:
    return json.dumps(
        {
            "data": [{"starting_at": start, "ending_at": end, "results": list(results)}],
            "has_more": False,
            "next_page": None,
        }
    )


def _cost(amount, **extra):
    return {
        "currency": "USD",
        "amount": amount,
        "workspace_id": "wrkspc_a",
        "description": "Claude Sonnet 4 Usage - Input Tokens",
        "cost_type": "tokens",
        "context_window": "0-200k",
        "model": "claude-sonnet-4-20250514",
        "service_tier": "standard",
        "token_type": "uncached_input_tokens",
        "inference_geo": None,
        **extra,
    }


def test_a_malformed_result_is_quarantined_with_reason_and_the_rest_loads(tmp_path, server):
    server.faults.add(
        COSTS, status=200, count=1, body=_cost_page(_cost("1234.5"), _cost(12.5), _cost("x1"))
    )
    summary = run(tmp_path, source(server, datasets=["costs"]))
    counts = summary["datasets"]["anthropic_costs"]
    assert (counts["rows_loaded"], counts["rows_quarantined"]) == (1, 2)
    assert landed(tmp_path, "anthropic_costs").column("amount").to_pylist() == [Decimal("12.345")]
    rejected = pq.read_table(
        tmp_path / "quarantine" / "anthropic" / "anthropic_costs" / "date=2026-10-07"
    ).to_pylist()
    reasons = sorted(r["reason"] for r in rejected)
    assert reasons == [
        "amount is not a decimal number of cents: 'x1'",
        "amount must be a decimal string of cents, got 12.5",
    ]
    assert all("page 1@2026-10-07T00:00:00Z#" in r["record_ref"] for r in rejected)


def test_a_restated_day_is_replaced_not_doubled(tmp_path, server):
    server.faults.add(
        COSTS,
        status=200,
        count=1,
        body=_cost_page(_cost("1000"), _cost("500", workspace_id="wrkspc_b")),
    )
    run(tmp_path, source(server, datasets=["costs"]))
    # The provider restates Oct 7: one line less, one amount changed.
    server.faults.add(COSTS, status=200, count=1, body=_cost_page(_cost("1100")))
    run(tmp_path, source(server, datasets=["costs"]))
    table = landed(tmp_path, "anthropic_costs")
    assert table.column("amount").to_pylist() == [Decimal("11")]


def test_rate_limit_with_retry_after_is_waited_out(tmp_path, server, sleeps):
    server.faults.add(USAGE, status=429, count=1, retry_after=3)
    summary = run(tmp_path, source(server, datasets=["usage_messages"]))
    assert summary["datasets"]["anthropic_usage_messages"]["rows_loaded"] > 0
    assert [r["status"] for r in server.requests][:2] == [429, 200]
    assert 3 in sleeps


def test_overloaded_until_retries_run_out_fails_clearly_and_lands_nothing(tmp_path, server, sleeps):
    server.faults.add(COSTS, status=529, count=99)
    with pytest.raises(RetriableSourceError) as caught:
        run(tmp_path, source(server, datasets=["costs"]))
    message = str(caught.value)
    assert "source=anthropic" in message and "window=[2026-10-07, 2026-10-12)" in message
    assert COSTS in message and "HTTP 529" in message and "Overloaded" in message
    assert len(server.requests) == FAST["retry_total"] + 1
    assert not landed_days(tmp_path / "landing" / "anthropic")


def test_server_errors_until_retries_run_out_are_retriable(tmp_path, server, sleeps):
    server.faults.add(USAGE, status=500, count=99)
    with pytest.raises(RetriableSourceError) as caught:
        run(tmp_path, source(server, datasets=["usage_messages"]))
    assert "source=anthropic" in str(caught.value) and "HTTP 500" in str(caught.value)
    assert f"{USAGE} page 1" in str(caught.value)


def test_an_added_field_is_schema_drift_unless_allowed(tmp_path, server):
    page = _cost_page(_cost("100", discount_cents="5"))
    server.faults.add(COSTS, status=200, count=1, body=page)
    with pytest.raises(SchemaDriftError, match=r"unexpected columns \['discount_cents'\]"):
        run(tmp_path, source(server, datasets=["costs"]))
    server.faults.add(COSTS, status=200, count=1, body=page)
    summary = run(tmp_path, source(server, datasets=["costs"], allow_added_columns=True))
    assert summary["datasets"]["anthropic_costs"]["ignored_columns"] == ["discount_cents"]


def test_the_key_never_reaches_logs_landing_or_quarantine(tmp_path, server, caplog):
    caplog.set_level(logging.DEBUG)
    server.faults.add(COSTS, status=200, count=1, body=_cost_page(_cost(f"leak {CANARY}")))
    summary = run(tmp_path, source(server))
    assert summary["datasets"]["anthropic_costs"]["rows_quarantined"] == 1
    assert CANARY not in caplog.text
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):
        assert CANARY.encode() not in path.read_bytes(), path


def test_a_wrong_key_is_fatal_with_the_api_message(tmp_path, server, sleeps):
    with pytest.raises(FatalSourceError, match="HTTP 401: invalid x-api-key"):
        run(tmp_path, source(server, datasets=["costs"]), secrets=lambda ref: "sk-ant-wrong")
    assert len(server.requests) == 1


def test_a_huge_retry_after_is_capped_so_a_server_cannot_hold_the_task(tmp_path, server, sleeps):
    # Without the cap urllib3 would sleep up to six hours on "Retry-After: 3600".
    server.faults.add(COSTS, status=429, count=1, retry_after=3600)
    run(tmp_path, source(server, datasets=["costs"], retry_after_max=7))
    assert 7 in sleeps and max(sleeps) == 7


def test_the_retry_after_cap_defaults_to_five_minutes():
    from extractors.http import RetryPolicy, make_session

    assert RetryPolicy.from_options({}).retry_after_max == 300
    retry = (
        make_session(RetryPolicy.from_options({"retry_after_max": 42}))
        .adapters["https://"]
        .max_retries
    )
    assert retry.retry_after_max == 42 and 529 in retry.status_forcelist
