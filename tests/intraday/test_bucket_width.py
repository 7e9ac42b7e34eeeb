"""The usage extractors' ``bucket_width`` option (1d default, 1h) against the loopback doubles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from extractors.errors import ConfigError
from tests.extractors.conftest import api_source, extract_into, landed_table

OPENAI_KEY = "sk-admin-CANARY-hourly-0123"
ANTHROPIC_KEY = "sk-ant-admin-CANARY-hourly-0123"
ADMIN_KEYS = {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}
KEYS = {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}
# source type -> (usage path, datasets option, landing dataset)
USAGE = {
    "openai": (
        "/v1/organization/usage/completions",
        ["usage_completions"],
        "openai_usage_completions",
    ),
    "anthropic": (
        "/v1/organizations/usage_report/messages",
        ["usage_messages"],
        "anthropic_usage_messages",
    ),
}
DAY = datetime(2026, 10, 20, tzinfo=UTC)


def _source(kind: str, server, **options):
    secret = {"env": f"{kind.upper()}_ADMIN_KEY", "airflow_conn": f"{kind}_admin"}
    return api_source(kind, server, secret, datasets=USAGE[kind][1], lookback_days=0, **options)


def _pages(server, path: str) -> list[dict]:
    return [r["query"] for r in server.requests if r["path"] == path]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_hourly_buckets_are_requested_and_paged_by_bucket(tmp_path, server, kind):
    path, _, _ = USAGE[kind]
    # Ten complete hours at four buckets a page: three pages (4 + 4 + 2), each one hour wide.
    src = _source(kind, server, bucket_width="1h", page_limit=4)
    extract_into(tmp_path, src, DAY, DAY + timedelta(hours=10), lambda ref: KEYS[kind])
    pages = _pages(server, path)
    assert [q["bucket_width"] for q in pages] == [["1h"]] * 3
    assert [q["limit"] for q in pages] == [["4"]] * 3
    assert pages[0].get("page") is None and all(q.get("page") for q in pages[1:])
    table = landed_table(tmp_path, kind, USAGE[kind][2])
    starts = sorted(set(table.column("bucket_start_at").to_pylist()))
    assert starts == [DAY + timedelta(hours=h) for h in range(10)]
    assert all(
        end - start == timedelta(hours=1)
        for start, end in zip(
            table.column("bucket_start_at").to_pylist(),
            table.column("bucket_end_at").to_pylist(),
            strict=True,
        )
    )


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_the_page_limit_counts_hours_not_days(tmp_path, server, kind):
    path, _, _ = USAGE[kind]
    # Eight days are 192 hourly buckets: the API's 168 a page, then the last 24.
    src = _source(kind, server, bucket_width="1h")
    extract_into(tmp_path, src, DAY, DAY + timedelta(days=8), lambda ref: KEYS[kind])
    pages = _pages(server, path)
    assert [q["limit"] for q in pages] == [["168"], ["168"]]
    # A part of a day asks for no more buckets than it has; daily stays daily.
    server.requests.clear()
    extract_into(tmp_path / "b", src, DAY, DAY + timedelta(hours=3), lambda ref: KEYS[kind])
    assert [q["limit"] for q in _pages(server, path)] == [["3"]]
    server.requests.clear()
    daily = _source(kind, server)
    extract_into(tmp_path / "c", daily, DAY, DAY + timedelta(days=2), lambda ref: KEYS[kind])
    assert [(q["bucket_width"], q["limit"]) for q in _pages(server, path)] == [(["1d"], ["2"])]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
@pytest.mark.parametrize("width", ["1m", "2h", 1, None])
def test_other_widths_are_refused_naming_source_and_option(tmp_path, server, kind, width):
    src = _source(kind, server, bucket_width=width)
    with pytest.raises(
        ConfigError,
        match=rf"source '{kind}': option 'bucket_width' must be one "
        r"of \['1d', '1h'\]",
    ):
        extract_into(tmp_path, src, DAY, DAY + timedelta(hours=2), lambda ref: KEYS[kind])
    assert not _pages(server, USAGE[kind][0]), "nothing may be requested with a bad option"


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_hourly_cost_reports_are_refused(tmp_path, server, kind):
    secret = {"env": f"{kind.upper()}_ADMIN_KEY", "airflow_conn": f"{kind}_admin"}
    src = api_source(kind, server, secret, bucket_width="1h")  # every dataset, costs included
    with pytest.raises(ConfigError, match=r"applies to usage datasets only.*drop \['costs'\]"):
        extract_into(tmp_path, src, DAY, DAY + timedelta(hours=2), lambda ref: KEYS[kind])
