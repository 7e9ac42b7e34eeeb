"""Cheap checks: severity config, suite coverage of the contract, import cost."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from expectations.severity import load_severity, parse_severity
from expectations.suites.landing import has_own_module, row_expectations_for
from landing.schemas import DATASETS

REPO = Path(__file__).parents[2]


def test_severity_first_matching_pattern_wins_and_default_applies():
    config = parse_severity(
        {
            "default": "block",
            "checks": {"marts.unallocated_share.*": "warn", "marts.*": "block"},
        }
    )
    assert config.severity_for("marts.unallocated_share", "max_share") == "warn"
    assert config.severity_for("marts.conservation", "conservation") == "block"
    assert config.severity_for("landing.partitions", "schema_matches") == "block"


def test_severity_rejects_unknown_levels():
    with pytest.raises(ValueError, match="severity must be one of"):
        parse_severity({"checks": {"marts.*": "maybe"}})


def test_shipped_severity_file_warns_on_unallocated_share_and_sets_the_threshold():
    config = load_severity()
    assert config.severity_for("marts.unallocated_share", "max_share") == "warn"
    assert config.severity_for("landing.focus_cost_and_usage.rows", "unique_key") == "block"
    assert 0 < config.threshold("max_unallocated_share") < 1


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_landed_dataset_gets_key_window_and_not_null_checks(name):
    # A dataset added to the contract before its module still gets the derived checks.
    dataset = DATASETS[name]
    checks = {
        e.meta["check"] for e in row_expectations_for(name)(date(2026, 10, 1), date(2026, 10, 2))
    }
    assert "unique_key" in checks
    assert f"in_window.{dataset.partition_by}" in checks
    assert {f"not_null.{f.name}" for f in dataset.schema if not f.nullable} <= checks


def test_money_checks_exist_for_every_decimal_column():
    for name, dataset in DATASETS.items():
        checks = {
            e.meta["check"]
            for e in row_expectations_for(name)(date(2026, 10, 1), date(2026, 10, 2))
        }
        money = {f.name for f in dataset.schema if str(f.type).startswith("decimal")}
        assert {f"finite.{m}" for m in money} <= checks, name


def test_the_shipped_datasets_have_their_own_modules():
    shipped = {
        "focus_cost_and_usage",
        "openai_costs",
        "openai_usage_completions",
        "openai_usage_embeddings",
        "anthropic_usage_messages",
        "anthropic_costs",
        "otel_genai_spans",
        "dcgm_gpu_metrics",
        "value_feature_kpis",
        "nvidia_smi_gpu_samples",
    }
    assert all(has_own_module(name) for name in shipped)


def test_importing_the_package_does_not_import_great_expectations():
    code = (
        "import sys, expectations; "
        "assert 'great_expectations' not in sys.modules; "
        "assert 'pandas' not in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
