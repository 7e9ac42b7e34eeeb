"""The intraday run end to end over loopback: the DAG through dag.test(), and a failing gate."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from tests.intraday.conftest import ANTHROPIC_KEY, AS_OF, OPENAI_KEY, TODAY

COMPLETIONS = "/v1/organization/usage/completions"


def _mart(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select provider, spend_date, as_of_at, hours_covered, cost_basis,"
            " sum(estimated_cost), sum(input_tokens) from mart_ops__spend_today"
            " group by all order by provider"
        ).fetchall()


def test_the_dag_estimates_today_as_of_a_param(dagbag, intraday_env):
    api, settings = intraday_env
    dagrun = dagbag.dags["ai_finops_intraday"].test(
        run_conf={"as_of": (AS_OF + timedelta(minutes=42)).isoformat()}
    )
    assert dagrun.state == "success"
    rows = _mart(settings.intraday_warehouse_file)
    # Every intraday source type landed its hours and was priced; only complete hours count.
    assert {r[0] for r in rows} >= {"openai", "anthropic"}
    assert all(r[1:5] == (TODAY, AS_OF, 10, "estimated") for r in rows)
    assert all(r[5] > 0 for r in rows)
    litellm = settings.intraday_landing_root / "litellm_proxy"
    assert any(litellm.glob("*/date=2026-10-21/part-0.parquet"))
    # The proxy logged requests until 13:00 (fill_spend_logs until=): the estimate took
    # those of the ten complete hours only.
    import psycopg

    with psycopg.connect(os.environ["LITELLM_DATABASE_URL"]) as conn:
        last = conn.execute('select max("startTime") from "LiteLLM_SpendLogs"').fetchone()[0]
    assert (
        AS_OF.replace(tzinfo=None) + timedelta(hours=2)
        < last
        < AS_OF.replace(tzinfo=None) + timedelta(hours=3)
    )
    import pyarrow.dataset as ds

    landed = ds.dataset(litellm / "litellm_spend_logs", format="parquet").to_table()
    assert landed.num_rows and max(landed.column("started_at").to_pylist()) < AS_OF
    # Hourly usage, usage only, no lookback: never a cost report, never the daily's folders.
    asked = [r for r in api.requests if r["path"].startswith("/v1/organization/")]
    assert asked and all(r["path"] != "/v1/organization/costs" for r in asked)
    assert all(r["query"]["bucket_width"] == ["1h"] for r in asked)
    assert {r["query"]["start_time"][0] for r in asked} == {str(int(AS_OF.timestamp()) - 36000)}
    assert not (settings.home / "landing").exists()
    assert not settings.warehouse_file.exists()
    # The dashboard was drawn after the run; with no daily published yet it says so.
    page = (settings.home / "dashboard" / "index.html").read_text()
    assert "No published data for this period." in page
    # No secret in anything the intraday run wrote.
    from tests.reliability.secret_scan import scan_files

    assert scan_files([settings.intraday_root], [OPENAI_KEY, ANTHROPIC_KEY]) == []


def _bad_hour_body() -> str:
    """An OpenAI usage page whose hour 09:00 claims more cached tokens than input tokens."""
    start = int((AS_OF - timedelta(hours=1)).timestamp())
    return json.dumps(
        {
            "object": "page",
            "has_more": False,
            "next_page": None,
            "data": [
                {
                    "object": "bucket",
                    "start_time": start,
                    "end_time": start + 3600,
                    "results": [
                        {
                            "object": "organization.usage.completions.result",
                            "input_tokens": 1000,
                            "input_cached_tokens": 5000,
                            "output_tokens": 10,
                            "input_audio_tokens": 0,
                            "output_audio_tokens": 0,
                            "num_model_requests": 1,
                            "project_id": "proj_x",
                            "user_id": None,
                            "api_key_id": None,
                            "model": "gpt-4o-2024-08-06",
                            "batch": False,
                        }
                    ],
                }
            ],
        }
    )


def test_a_bad_landed_hour_keeps_the_last_good_estimate(intraday_env):
    from warehouse.intraday import IntradayGateFailed, run_intraday

    api, settings = intraday_env
    run_intraday(settings, AS_OF - timedelta(hours=1), "good-run")
    published = settings.intraday_warehouse_file
    before = published.read_bytes()

    api.faults.add(COMPLETIONS, status=200, body=_bad_hour_body(), count=1)
    with pytest.raises(IntradayGateFailed) as raised:
        run_intraday(settings, AS_OF, "bad-run")
    message = str(raised.value)
    assert "2026-10-21 as of 10:00 UTC" in message
    assert "[2026-10-21T00:00:00+00:00, 2026-10-21T10:00:00+00:00)" in message
    assert "source openai" in message and "cached_within_input" in message
    assert published.read_bytes() == before, "the last good estimate must stay, byte for byte"
    assert _mart(published)[0][2] == AS_OF - timedelta(hours=1)
    # The blocked gate is on record, in the intraday log only.
    from warehouse.quality_log import read_log

    log = read_log(settings.intraday_ops_dir).to_pylist()
    assert [(r["run_id"], r["gate"], r["success"]) for r in log][-1] == (
        "bad-run",
        "intraday_landing",
        False,
    )
    assert not os.path.exists(settings.ops_dir)
