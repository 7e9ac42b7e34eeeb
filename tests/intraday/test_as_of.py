"""The intraday run's as-of moment and the sources it pulls: plain functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pendulum
import pytest

from tests.conftest import REPO_ROOT
from warehouse.intraday import AsOf, configured_datasets, intraday_source, plan_as_of, source_names
from warehouse.settings import Settings


def test_the_as_of_is_floored_to_the_hour_and_the_param_wins():
    as_of = plan_as_of({"as_of": "2026-10-21T14:59:59Z"}, pendulum.datetime(2026, 10, 21, 3))
    assert as_of.at == datetime(2026, 10, 21, 14, tzinfo=UTC)
    assert (as_of.spend_date, as_of.hours_covered) == (date(2026, 10, 21), 14)
    assert as_of.start == datetime(2026, 10, 21, tzinfo=UTC) and as_of.end == as_of.at
    # A scheduled run: its data interval end (pendulum), any time zone, read as UTC.
    paris = pendulum.datetime(2026, 10, 21, 16, 30, tz="Europe/Paris")
    scheduled = plan_as_of({"as_of": None}, paris)
    assert scheduled.at == datetime(2026, 10, 21, 14, tzinfo=UTC)
    # A naive datetime is UTC; an offset is converted.
    assert plan_as_of({"as_of": "2026-10-21T09:10"}, None).at.hour == 9
    offset = datetime(2026, 10, 21, 9, 10, tzinfo=timezone(timedelta(hours=2)))
    assert plan_as_of({"as_of": offset}, None).at.hour == 7
    assert AsOf.from_dict(as_of.as_dict()) == as_of


def test_midnight_closes_the_day_before():
    as_of = plan_as_of({"as_of": "2026-10-22T00:20:00+00:00"}, None)
    assert (as_of.spend_date, as_of.hours_covered) == (date(2026, 10, 21), 24)


def test_a_run_without_as_of_or_interval_says_what_to_give():
    with pytest.raises(ValueError, match="param as_of"):
        plan_as_of({}, None)
    with pytest.raises(ValueError, match="ISO datetime"):
        plan_as_of({"as_of": "yesterday"}, None)


def test_only_usage_datasets_of_token_sources_are_pulled_hourly_without_lookback(monkeypatch):
    monkeypatch.setenv("COSTBRIDGE_SANDBOX_DIR", "/nowhere")
    settings = Settings(
        home=REPO_ROOT / ".unused", sources_file=REPO_ROOT / "config" / "sources.demo.yml"
    )
    assert source_names(settings) == ["openai", "anthropic", "litellm_proxy"]
    assert configured_datasets(settings) == [
        {"source": "openai", "dataset": "openai_usage_completions"},
        {"source": "openai", "dataset": "openai_usage_embeddings"},
        {"source": "anthropic", "dataset": "anthropic_usage_messages"},
        {"source": "litellm_proxy", "dataset": "litellm_spend_logs"},
    ]
    from extractors.config import load_sources

    sources = {
        s.name: intraday_source(s)
        for s in load_sources(settings.sources_file)
        if s.name in source_names(settings)
    }
    assert sources["openai"].options["datasets"] == ["usage_completions", "usage_embeddings"]
    assert sources["anthropic"].options["datasets"] == ["usage_messages"]
    assert all(s.options["lookback_days"] == 0 for s in sources.values())
    assert sources["openai"].options["bucket_width"] == "1h"
    assert "bucket_width" not in sources["litellm_proxy"].options
