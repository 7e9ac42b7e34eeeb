"""Real public data from ../shared/realdata, when that folder is present."""

import json
from datetime import date
from decimal import Decimal

import pyarrow.dataset as ds
import pytest

from extractors import run_source
from extractors.config import SourceConfig
from extractors.landing import Reject, land
from extractors.openai import parse_usage_bucket
from landing.schemas import OPENAI_USAGE_COMPLETIONS
from landing.window import Window
from tests.conftest import REALDATA  # honours COSTBRIDGE_REALDATA in a worktree

FOCUS_SAMPLE = REALDATA / "focus_1.0_sample_finops"
COOKBOOK = REALDATA / "openai_usage_api_cookbook_output" / "usage_completions_daily_buckets.json"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(
        not REALDATA.is_dir(), reason=f"real data folder {REALDATA} is absent (fresh clone)"
    ),
]


def test_focus_10_sample_loads_with_its_billed_cost_total_intact(tmp_path):
    import csv

    with (FOCUS_SAMPLE / "focus_sample.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = sum(Decimal(r["BilledCost"]) for r in rows)
    # The sample carries a non-FOCUS "Id" column: drift, unless added columns are allowed.
    src = SourceConfig(
        "focus_sample",
        "focus",
        {"path": str(FOCUS_SAMPLE), "allow_added_columns": True, "lookback_days": 0},
    )
    summary = run_source(
        src,
        date(2024, 8, 1),
        date(2024, 11, 1),
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
    )
    counts = summary["datasets"]["focus_cost_and_usage"]
    assert counts["ignored_columns"] == ["Id"]
    assert (counts["rows_loaded"], counts["rows_quarantined"]) == (len(rows), 0)
    table = ds.dataset(tmp_path / "landing" / "focus_sample", format="parquet").to_table()
    assert sum(table.column("billed_cost").to_pylist()) == expected
    assert set(table.column("provider_name").to_pylist()) == {"AWS", "Microsoft", "Oracle"}


def test_openai_cookbook_usage_buckets_parse_through_the_usage_parser(tmp_path):
    buckets = json.loads(COOKBOOK.read_text())
    parsed = [r for b in buckets for r in parse_usage_bucket(b, where="cookbook")]
    assert not [r for r in parsed if isinstance(r, Reject)]
    assert sum(r["input_tokens"] for r in parsed) == 16_951_009
    assert sum(r["num_model_requests"] for r in parsed) == 19_347
    assert len(parsed) == 26  # the five empty buckets give no rows
    # And every row fits the landing schema (its first bucket starts at 17:31, not midnight).
    result = land(
        parsed,
        dataset=OPENAI_USAGE_COMPLETIONS,
        source="openai",
        window=Window.parse("2025-01-11", "2025-02-11"),
        landing_root=tmp_path / "l",
        quarantine_root=tmp_path / "q",
    )
    assert (result.rows_loaded, result.rows_quarantined) == (26, 0)
