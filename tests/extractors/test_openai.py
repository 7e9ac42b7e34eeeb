"""The OpenAI extractor against the sandbox's loopback double of the OpenAI admin APIs."""

import json
import logging
from datetime import date
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from extractors import run_source
from extractors.config import SourceConfig
from extractors.errors import FatalSourceError, RetriableSourceError, SchemaDriftError
from sandbox import apis
from tests.extractors.conftest import api_source, extract_into, landed_table

CANARY = "sk-admin-CANARY-7f3b9d2e"
START, END = date(2026, 10, 10), date(2026, 10, 12)  # with the 3-day lookback: Oct 7 to 11


ADMIN_KEYS = {"openai": CANARY}


def source(server, **options) -> SourceConfig:
    secret = {"env": "OPENAI_ADMIN_KEY", "airflow_conn": "openai_admin"}
    return api_source("openai", server, secret, **options)


def run(tmp_path, src, secrets=lambda ref: CANARY):
    return extract_into(tmp_path, src, START, END, secrets)


def landed(tmp_path, dataset):
    return landed_table(tmp_path, "openai", dataset)


def test_costs_and_usage_land_every_result_over_several_pages(tmp_path, server, org):
    summary = run(tmp_path, source(server, page_limit=2))
    assert summary["window"]["start"] == "2026-10-07T00:00:00+00:00"
    costs = summary["datasets"]["openai_costs"]
    assert costs["partitions"] == [f"2026-10-{d:02d}" for d in range(7, 12)]
    assert costs["rows_quarantined"] == 0 and costs["rows_loaded"] > 0
    # Five daily buckets at two per page: three pages, each following next_page.
    pages = [
        r["query"].get("page") for r in server.requests if r["path"] == "/v1/organization/costs"
    ]
    assert len(pages) == 3 and pages[0] is None and all(pages[1:])
    # Every result the API holds for the window landed, to the cent.
    _, body = apis.openai_costs(
        org,
        {
            "start_time": ["1791331200"],
            "end_time": ["1791763200"],
            "group_by": ["project_id", "line_item"],
            "limit": ["31"],
        },
    )
    expected = sum(Decimal(str(r["amount"]["value"])) for b in body["data"] for r in b["results"])
    table = landed(tmp_path, "openai_costs")
    assert sum(table.column("amount").to_pylist()) == expected.quantize(Decimal("1e-12"))
    assert set(table.column("currency").to_pylist()) == {"USD"}
    assert "gpt-4o-2024-08-06, input" in table.column("line_item").to_pylist()
    completions = landed(tmp_path, "openai_usage_completions")
    assert (
        completions.num_rows == summary["datasets"]["openai_usage_completions"]["rows_loaded"] > 0
    )
    assert set(completions.column("model").to_pylist()) >= {
        "gpt-4o-2024-08-06",
        "gpt-4o-mini-2024-07-18",
    }
    embeddings = landed(tmp_path, "openai_usage_embeddings")
    assert set(embeddings.column("output_tokens").to_pylist()) == {0}
    sent = [r for r in server.requests if r["path"] == "/v1/organization/usage/completions"][0][
        "query"
    ]
    assert sent["group_by"] == ["project_id", "user_id", "api_key_id", "model", "batch"]
    assert sent["bucket_width"] == ["1d"] and sent["start_time"] == ["1791331200"]


def test_rate_limit_with_retry_after_is_waited_out(tmp_path, server, sleeps):
    server.faults.add("/v1/organization/costs", status=429, count=1, retry_after=2)
    summary = run(tmp_path, source(server, datasets=["costs"]))
    assert summary["datasets"]["openai_costs"]["rows_loaded"] > 0
    assert [r["status"] for r in server.requests][:2] == [429, 200]
    assert 2 in sleeps


def test_server_errors_until_retries_run_out_fail_clearly_and_land_nothing(
    tmp_path, server, sleeps
):
    server.faults.add("/v1/organization/usage/completions", status=500, count=99)
    with pytest.raises(RetriableSourceError) as caught:
        run(tmp_path, source(server, datasets=["usage_completions"]))
    message = str(caught.value)
    assert "source=openai" in message and "window=[2026-10-07, 2026-10-12)" in message
    assert "/v1/organization/usage/completions" in message and "HTTP 500" in message
    assert "page 1" in message
    assert not (tmp_path / "landing" / "openai" / "openai_usage_completions").exists()


def test_a_malformed_result_is_quarantined_and_the_rest_of_the_day_loads(tmp_path, server):
    page = {
        "object": "page",
        "has_more": False,
        "next_page": None,
        "data": [
            {
                "object": "bucket",
                "start_time": 1791331200,
                "end_time": 1791417600,
                "results": [
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": 10,
                        "output_tokens": 2,
                        "input_cached_tokens": 0,
                        "num_model_requests": 1,
                        "project_id": "proj_a",
                        "user_id": None,
                        "api_key_id": "key_a",
                        "model": "gpt-4o",
                        "batch": False,
                    },
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": -4,
                        "output_tokens": 2,
                        "input_cached_tokens": 0,
                        "num_model_requests": 1,
                        "project_id": "proj_b",
                        "user_id": None,
                        "api_key_id": "key_b",
                        "model": "gpt-4o",
                        "batch": False,
                    },
                ],
            }
        ],
    }
    server.faults.add(
        "/v1/organization/usage/completions", status=200, count=1, body=json.dumps(page)
    )
    summary = run(tmp_path, source(server, datasets=["usage_completions"]))
    assert summary["datasets"]["openai_usage_completions"]["rows_loaded"] == 1
    assert summary["datasets"]["openai_usage_completions"]["rows_quarantined"] == 1
    rejected = pq.read_table(
        tmp_path
        / "quarantine"
        / "openai"
        / "openai_usage_completions"
        / "date=2026-10-07"
        / "part-0.parquet"
    ).to_pylist()
    assert rejected[0]["reason"] == "input_tokens: negative count -4"
    assert "page 1@1791331200#1" in rejected[0]["record_ref"]
    assert json.loads(rejected[0]["raw_payload"])["project_id"] == "proj_b"


def test_a_page_that_is_not_json_names_source_window_and_page(tmp_path, server, sleeps):
    # A truncated page is retried (tests/extractors/test_http.py); one through every retry
    # fails naming where.
    server.faults.add("/v1/organization/costs", status=200, count=10, body='{"object": "page", "da')
    with pytest.raises(
        RetriableSourceError,
        match=r"source=openai window=\[2026-10-07, 2026-10-12\).*"
        r"costs page 1: response is not JSON",
    ):
        run(tmp_path, source(server, datasets=["costs"]))


def _page_with(extra: dict) -> str:
    result = {
        "object": "organization.costs.result",
        "amount": {"value": 1.5, "currency": "usd"},
        "line_item": "gpt-4o, input",
        "project_id": "proj_a",
        **extra,
    }
    return json.dumps(
        {
            "object": "page",
            "has_more": False,
            "next_page": None,
            "data": [
                {
                    "object": "bucket",
                    "start_time": 1791331200,
                    "end_time": 1791417600,
                    "results": [result],
                }
            ],
        }
    )


def test_an_added_field_is_schema_drift_unless_allowed(tmp_path, server):
    server.faults.add(
        "/v1/organization/costs", status=200, count=1, body=_page_with({"quantity": 3})
    )
    with pytest.raises(
        SchemaDriftError, match=r"unexpected columns \['quantity'\].*allow_added_columns"
    ):
        run(tmp_path, source(server, datasets=["costs"]))
    server.faults.add(
        "/v1/organization/costs", status=200, count=1, body=_page_with({"quantity": 3})
    )
    summary = run(tmp_path, source(server, datasets=["costs"], allow_added_columns=True))
    assert summary["datasets"]["openai_costs"]["ignored_columns"] == ["quantity"]
    manifest = json.loads(
        (
            tmp_path / "landing" / "openai" / "openai_costs" / "date=2026-10-07" / "_manifest.json"
        ).read_text()
    )
    assert manifest["ignored_columns"] == ["quantity"] and manifest["rows_loaded"] == 1


def test_the_secret_never_reaches_logs_landing_or_quarantine(tmp_path, server, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)  # urllib3 and requests log URLs and retries at DEBUG
    monkeypatch.setenv("OPENAI_ADMIN_KEY", CANARY)
    # A bad result that carries the key in a field must be quarantined without it.
    server.faults.add(
        "/v1/organization/costs",
        status=200,
        count=1,
        body=_page_with(
            {"amount": {"value": "lots", "currency": "usd"}, "line_item": f"echo {CANARY}"}
        ),
    )
    server.faults.add("/v1/organization/usage/embeddings", status=503, count=1, retry_after=0)
    summary = run_source(
        source(server),
        START,
        END,
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
    )  # default resolver: environment
    assert summary["datasets"]["openai_costs"]["rows_quarantined"] == 1
    assert CANARY not in caplog.text and "GET" in caplog.text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any("quarantine" in str(p) for p in files)
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path
    assert CANARY not in json.dumps(summary)
    assert all(CANARY not in json.dumps(r["headers"]) for r in server.requests)


def test_a_missing_secret_is_fatal_and_says_where_it_looked(tmp_path, server):
    with pytest.raises(
        FatalSourceError,
        match="secret 'api_key' not found: looked in environment "
        "variable OPENAI_ADMIN_KEY or Airflow connection "
        "openai_admin",
    ):
        run(tmp_path, source(server), secrets=lambda ref: None)


def test_a_wrong_key_is_fatal_with_the_api_message(tmp_path, server, sleeps):
    with pytest.raises(FatalSourceError, match="HTTP 401: Incorrect API key provided"):
        run(tmp_path, source(server, datasets=["costs"]), secrets=lambda ref: "sk-wrong")
    assert len(server.requests) == 1
