"""What a final day needs, read from the sources file (var configured_datasets of dbt)."""

from __future__ import annotations

import pytest
import yaml

from extractors.base import extractor_class
from extractors.errors import ConfigError
from warehouse.pipeline import configured_datasets
from warehouse.settings import DEFAULT_SOURCES_FILE, Settings


def test_the_demo_sources_need_every_dataset_they_land_without_their_environment(
    tmp_path, monkeypatch
):
    # The build step has no extraction environment: the file's ${VAR}s stay unexpanded.
    monkeypatch.delenv("COSTBRIDGE_SANDBOX_DIR", raising=False)
    expected = configured_datasets(Settings(home=tmp_path, sources_file=DEFAULT_SOURCES_FILE))
    pairs = {(e["source"], e["dataset"]) for e in expected}
    assert ("openai", "openai_costs") in pairs
    assert ("openai", "openai_usage_embeddings") in pairs
    assert ("gpu_cluster", "dcgm_gpu_metrics") in pairs
    assert ("feature_kpis", "value_feature_kpis") in pairs
    assert all("active_from" not in e for e in expected)


def test_active_from_exempts_earlier_days_and_must_be_a_date(tmp_path):
    sources = tmp_path / "sources.yml"
    sources.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "name": "traces",
                        "type": "otel_genai_spans",
                        "options": {"path": "/x", "active_from": "2026-11-01"},
                    }
                ]
            }
        )
    )
    [item] = configured_datasets(Settings(home=tmp_path, sources_file=sources))
    assert item == {"source": "traces", "dataset": "otel_genai_spans", "active_from": "2026-11-01"}
    cls = extractor_class("otel_genai_spans")
    with pytest.raises(ConfigError, match="active_from must be a date"):
        cls.validate_options("traces", {"path": "/x", "active_from": "November"})
