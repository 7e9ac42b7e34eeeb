"""The landing gate on small landing trees built in code with the exact Arrow schemas."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from expectations import GateFailed, run_landing_gate
from expectations.__main__ import main
from landing.schemas import DATASETS
from tests.expectations.conftest import END, START, build_landing, clean_rows, write_partition


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    base = tmp_path_factory.mktemp("clean_landing")
    root = build_landing(base / "landing")
    return root, run_landing_gate(root, START, END, data_docs_dir=base / "docs")


def test_clean_batch_passes_and_writes_data_docs(clean):
    root, result = clean
    assert result.gate == "landing"
    assert result.success, result.summary()
    assert result.blocking_failures == [] and result.warnings == []
    assert result.data_docs_index is not None and result.data_docs_index.is_file()
    assert "landing.focus_cost_and_usage.rows" in result.data_docs_index.read_text(encoding="utf-8")
    result.raise_for_status()  # does not raise


def test_credit_with_negative_cost_passes(clean):
    root, result = clean
    credits = pa.parquet.read_table(
        root / "aws_focus" / "focus_cost_and_usage" / f"date={START}" / "part-0.parquet"
    ).filter(pa.compute.equal(pa.compute.field("charge_category"), "Credit"))
    assert credits.num_rows == 1 and credits["billed_cost"][0].as_py() < 0
    assert result.success


def _break(name: str, day: date, rows: list[dict]) -> list[dict]:
    """One breakage per dataset, each aimed at one check."""
    first = START
    if name == "focus_cost_and_usage" and day == first:
        usage, credit = rows
        # a Usage row with a negative cost, and a row charged outside the window
        late = datetime(END.year, END.month, END.day, 3, tzinfo=UTC)
        return [{**usage, "billed_cost": Decimal("-1.00")}, {**credit, "charge_period_start": late}]
    if name == "openai_costs" and day == first:
        return [{**rows[0], "currency": "usd?"}, rows[1]]
    if name == "openai_usage_completions" and day == first:
        return [rows[0], {**rows[0], "record_ref": "usage:dup"}]  # same key twice
    if name == "dcgm_gpu_metrics" and day == first:
        return [{**rows[0], "value": 140.0}, rows[1]]
    return rows


# check id -> (suite, column, dataset, source) that the broken tree must report
EXPECTED_FAILURES = {
    "in_window.charge_period_start": (
        "landing.focus_cost_and_usage.rows",
        "charge_period_start",
        "focus_cost_and_usage",
        "aws_focus",
    ),
    "iso_4217.currency": ("landing.openai_costs.rows", "currency", "openai_costs", "openai"),
    "unique_key": (
        "landing.openai_usage_completions.rows",
        None,
        "openai_usage_completions",
        "openai",
    ),
    "range.DCGM_FI_DEV_GPU_UTIL": (
        "landing.dcgm_gpu_metrics.rows",
        "value",
        "dcgm_gpu_metrics",
        "gpu_cluster",
    ),
    "manifest_row_count": ("landing.partitions", None, "value_feature_kpis", "feature_kpis"),
    "schema_matches": ("landing.partitions", None, "anthropic_usage_messages", "anthropic"),
}


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    base = tmp_path_factory.mktemp("broken_landing")
    root = build_landing(base / "landing", _break)
    kpis = DATASETS["value_feature_kpis"]
    # the manifest claims one row more than the file holds
    write_partition(root, kpis, START, clean_rows(kpis.name, START), rows_loaded=2)
    # tokens landed as floats: the file no longer matches the contract's types
    usage = DATASETS["anthropic_usage_messages"]
    part = root / "anthropic" / usage.name / f"date={START}"
    table = pa.parquet.read_table(part / "part-0.parquet")
    index = table.schema.get_field_index("output_tokens")
    table = table.set_column(index, "output_tokens", table["output_tokens"].cast(pa.float64()))
    pa.parquet.write_table(table, part / "part-0.parquet")
    return root, base, run_landing_gate(root, START, END, data_docs_dir=base / "docs")


def test_each_breakage_fails_its_check_and_nothing_else(broken):
    _, _, result = broken
    assert not result.success
    failed = {f["expectation"] for f in result.blocking_failures}
    assert failed == set(EXPECTED_FAILURES), result.summary()


@pytest.mark.parametrize("check", sorted(EXPECTED_FAILURES))
def test_breakage_is_reported_with_suite_dataset_and_source(broken, check):
    _, _, result = broken
    suite, column, dataset, source = EXPECTED_FAILURES[check]
    finding = next(f for f in result.blocking_failures if f["expectation"] == check)
    assert finding["suite"] == suite
    assert finding["dataset"] == dataset
    assert source in finding["sources"]
    if column:
        assert finding["column"] == column
    with pytest.raises(GateFailed) as raised:
        result.raise_for_status()
    message = str(raised.value)
    assert f"{suite} / {check}" in message and source in message


def test_reasons_carry_the_offending_values(broken):
    _, _, result = broken
    reasons = {f["expectation"]: f["reason"] for f in result.blocking_failures}
    assert "'usd?'" in reasons["iso_4217.currency"]
    assert "140.0" in reasons["range.DCGM_FI_DEV_GPU_UTIL"]
    assert "output_tokens is double, expected int64" in reasons["schema_matches"]


def test_negative_usage_cost_warns_with_the_row_and_never_blocks(broken):
    # FOCUS allows negative costs on Usage rows (the FinOps Foundation sample has 12)
    _, _, result = broken
    warned = {f["expectation"]: f for f in result.warnings}
    finding = warned["negative_amount.billed_cost"]
    assert finding["dataset"] == "focus_cost_and_usage" and "aws_focus" in finding["sources"]
    assert "-1.0" in finding["reason"] and "focus-2026-10-01.csv:2" in finding["reason"]
    assert "legal in FOCUS" in finding["reason"]
    assert not any(f["expectation"].startswith("negative_amount") for f in result.blocking_failures)


def test_negative_usage_cost_alone_passes_the_gate(tmp_path):
    def negative_usage(name, day, rows):
        if name == "focus_cost_and_usage":
            usage, credit = rows
            return [
                {**usage, "billed_cost": Decimal("-0.0004"), "effective_cost": Decimal("-0.0004")},
                credit,
            ]
        return rows

    root = build_landing(tmp_path / "landing", negative_usage)
    result = run_landing_gate(root, START, END, data_docs_dir=tmp_path / "docs")
    assert result.success, result.summary()
    assert {w["expectation"] for w in result.warnings} == {
        "negative_amount.billed_cost",
        "negative_amount.effective_cost",
    }


def test_missing_day_and_missing_manifest_block(tmp_path):
    root = build_landing(tmp_path / "landing")
    kpis = root / "feature_kpis" / "value_feature_kpis"
    # the day after the window's first is gone; the first day's manifest is gone
    for f in (kpis / f"date={START + timedelta(days=1)}").iterdir():
        f.unlink()
    (kpis / f"date={START + timedelta(days=1)}").rmdir()
    (kpis / f"date={START}" / "_manifest.json").unlink()
    result = run_landing_gate(root, START, END, data_docs_dir=tmp_path / "docs")
    failed = {f["expectation"] for f in result.blocking_failures}
    assert {"partition_present", "manifest_readable"} <= failed, result.summary()
    assert all(f["dataset"] == "value_feature_kpis" for f in result.blocking_failures)


def test_dataset_without_partitions_only_warns(tmp_path):
    root = build_landing(tmp_path / "landing")
    for part in sorted((root / "gpu_cluster" / "dcgm_gpu_metrics").iterdir()):
        for f in part.iterdir():
            f.unlink()
        part.rmdir()
    result = run_landing_gate(root, START, END, data_docs_dir=tmp_path / "docs")
    assert result.success, result.summary()
    assert [(w["expectation"], w["dataset"]) for w in result.warnings] == [
        ("partitions_landed", "dcgm_gpu_metrics")
    ]


def test_cli_exits_1_when_blocked(broken, capsys):
    root, base, _ = broken
    code = main(
        [
            "landing",
            "--landing",
            str(root),
            "--start",
            str(START),
            "--end",
            str(END),
            "--data-docs",
            str(base / "cli_docs"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "landing gate BLOCKED" in out and "in_window.charge_period_start" in out
    assert (base / "cli_docs" / "index.html").is_file()


def test_missing_landing_root_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="landing root .* is not a directory"):
        run_landing_gate(tmp_path / "nope", START, END, data_docs_dir=tmp_path / "docs")
    with pytest.raises(ValueError, match="must be before"):
        run_landing_gate(tmp_path, END, START, data_docs_dir=tmp_path / "docs")


def test_manifest_fixture_matches_extractor_shape(clean):
    # the gate relies on rows_loaded only; guard the fixture against drifting from it
    root, _ = clean
    manifest = json.loads(
        (root / "openai" / "openai_costs" / f"date={START}" / "_manifest.json").read_text()
    )
    assert manifest["rows_loaded"] == 2
    assert Path(root / "_schema").is_dir()
