"""The marts gate on a small DuckDB warehouse built in code."""

from __future__ import annotations

from datetime import timedelta

import pytest

from expectations import GateFailed, run_marts_gate
from tests.expectations.conftest import END, START


def _run(warehouse_path, tmp_path, end=END):
    return run_marts_gate(warehouse_path, START, end, data_docs_dir=tmp_path / "docs")


def _failed(result) -> set[str]:
    return {f["expectation"] for f in result.blocking_failures}


def test_clean_warehouse_passes_and_writes_data_docs(warehouse, tmp_path):
    result = _run(warehouse(), tmp_path)
    assert result.success, result.summary()
    assert result.blocking_failures == [] and result.warnings == []
    assert result.data_docs_index.is_file()
    assert "marts.conservation" in result.data_docs_index.read_text(encoding="utf-8")


def test_conservation_broken_by_a_cent_and_unknown_environment_block(warehouse, tmp_path):
    path = warehouse(
        "update fct_ai_cost set billed_cost = billed_cost + 0.01 "
        "where charge_date = '2026-10-02' and allocation_method = 'rule'",
        "update fct_ai_cost set environment = 'prod' "
        "where charge_date = '2026-10-01' and allocation_method = 'direct'",
    )
    result = _run(path, tmp_path)
    assert not result.success
    assert _failed(result) == {"conservation", "accepted_values.environment"}, result.summary()
    conservation = next(f for f in result.blocking_failures if f["expectation"] == "conservation")
    assert conservation["suite"] == "marts.conservation"
    assert "2026-10-02" in conservation["reason"]  # names the day that does not conserve
    assert conservation["observed"] == [pytest.approx(0.01)]
    environment = next(f for f in result.blocking_failures if f["column"] == "environment")
    assert set(environment["observed"]) == {"prod"}
    with pytest.raises(GateFailed, match=r"marts\.conservation / conservation"):
        result.raise_for_status()


def test_sub_cent_rounding_difference_passes(warehouse, tmp_path):
    path = warehouse(
        "update fct_ai_cost set billed_cost = billed_cost + 0.004 "
        "where charge_date = '2026-10-02' and allocation_method = 'rule'"
    )
    assert _run(path, tmp_path).success


def test_a_day_the_warehouse_does_not_hold_fails_freshness(warehouse, tmp_path):
    # The window reaches one day further than the warehouse: that day is missing.
    result = _run(warehouse(), tmp_path, end=END + timedelta(days=1))
    assert _failed(result) == {"freshness"}, result.summary()
    assert "2026-10-03" in result.blocking_failures[0]["reason"]
    assert result.blocking_failures[0]["observed"] == ["ops_day_status has no row for the day"]


def test_a_provisional_day_fails_freshness_naming_the_source(warehouse, tmp_path):
    path = warehouse(
        "update ops_day_status set source_status = 'missing', is_final_day = false,"
        " missing_datasets = 'openai_costs' where landing_date = '2026-10-02' and"
        " source_name = 'openai'",
        "update ops_day_status set is_final_day = false where landing_date = '2026-10-02'",
    )
    (finding,) = _run(path, tmp_path).blocking_failures
    assert finding["observed"] == ["provisional: waiting for openai (openai_costs)"]


def test_landed_rows_the_fact_lacks_fail_freshness(warehouse, tmp_path):
    path = warehouse("delete from fct_ai_cost where charge_date = '2026-10-02'")
    result = _run(path, tmp_path)
    assert "freshness" in _failed(result)
    finding = next(f for f in result.blocking_failures if f["expectation"] == "freshness")
    assert finding["observed"] == ["6 rows landed but fct_ai_cost holds none"]


def test_a_past_day_passes_freshness_though_later_days_exist(warehouse, tmp_path):
    """A rerun or backfill of an earlier range: its days are final, later ones do not matter."""
    result = run_marts_gate(
        warehouse(), START, START + timedelta(days=1), data_docs_dir=tmp_path / "docs"
    )
    assert "freshness" not in _failed(result), result.summary()


def test_every_pool_the_conservation_model_holds_joins_the_gate(warehouse, tmp_path):
    staged = "insert into stg_anthropic__costs values ('2026-10-01', 3.42)"
    result = _run(warehouse(staged), tmp_path)
    assert _failed(result) == {"conservation"}, result.summary()
    assert result.blocking_failures[0]["observed"] == [pytest.approx(-3.42)]
    fact_row = (
        "insert into fct_ai_cost values ('2026-10-01', 'anthropic:wrkspc_content', "
        "'content', 'production', 'billed', 'direct', 'tokens', 3.42)"
    )
    assert _run(warehouse(staged, fact_row), tmp_path).success


def test_a_raw_landed_day_total_the_fact_misses_blocks_naming_the_comparison(warehouse, tmp_path):
    path = warehouse(
        "alter view int_billed_cost_conservation rename to pool_rows",
        "create view int_billed_cost_conservation as select * from pool_rows union all"
        " select '2026-10-02'::date, 'landed_day_total', 'day_total', 1.02, 1.00",
    )
    result = _run(path, tmp_path)
    assert _failed(result) == {"conservation"}, result.summary()
    (finding,) = result.blocking_failures
    assert "2026-10-02 (landed_day_total)" in finding["reason"]
    assert finding["observed"] == [pytest.approx(-0.02)]


def test_missing_conservation_model_fails_with_its_name(warehouse, tmp_path):
    result = _run(warehouse("drop view int_billed_cost_conservation"), tmp_path)
    assert not result.success
    finding = next(f for f in result.blocking_failures if f["expectation"] == "relation_usable")
    missing = "relation int_billed_cost_conservation is missing from the warehouse"
    assert missing in finding["reason"]


def test_a_missing_insight_mart_blocks_with_its_name(warehouse, tmp_path):
    result = _run(warehouse("drop table mart_ops__alerts"), tmp_path)
    finding = next(f for f in result.blocking_failures if f["expectation"] == "relation_usable")
    assert "relation mart_ops__alerts is missing from the warehouse" in finding["reason"]


def test_out_of_range_mart_ratio_blocks(warehouse, tmp_path):
    result = _run(
        warehouse(
            "update mart_engineering__token_efficiency set cache_hit_rate = 1.7 "
            "where charge_date = '2026-10-01'"
        ),
        tmp_path,
    )
    assert _failed(result) == {"range.cache_hit_rate"}, result.summary()


@pytest.mark.parametrize("column", ["gpu_utilisation", "gpu_busy_share_of_allocated"])
def test_a_gpu_share_above_one_blocks(warehouse, tmp_path, column):
    # 1.3 is what a share computed over the wrong denominator looks like; the old 0-100 range
    # let it (and a percent written into a share column) through.
    result = _run(
        warehouse(
            f"update mart_engineering__token_efficiency set {column} = 1.3 "
            "where charge_date = '2026-10-02'"
        ),
        tmp_path,
    )
    assert not result.success
    assert _failed(result) == {f"range.{column}"}, result.summary()
    finding = result.blocking_failures[0]
    assert finding["observed"] == [pytest.approx(1.3)]


def test_a_share_column_missing_from_the_mart_blocks(warehouse, tmp_path):
    result = _run(
        warehouse("alter table mart_engineering__token_efficiency drop column gpu_utilisation"),
        tmp_path,
    )
    assert not result.success
    assert "exists.gpu_utilisation" in _failed(result), result.summary()


def test_unallocated_share_over_maximum_only_warns(warehouse, tmp_path):
    # Move most of the day's GPU cost to unallocated: totals still conserve.
    path = warehouse(
        "update fct_ai_cost set allocation_method = 'unallocated', "
        "team = 'unallocated', environment = 'unallocated' "
        "where allocation_method = 'proportional'"
    )
    result = _run(path, tmp_path)
    assert result.success, result.summary()
    assert [w["expectation"] for w in result.warnings] == ["max_share"]
    assert result.warnings[0]["suite"] == "marts.unallocated_share"
    assert result.warnings[0]["observed"][0] > 0.5
    result.raise_for_status()  # a warning never blocks


def test_missing_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="warehouse file .* does not exist"):
        _run(tmp_path / "nope.duckdb", tmp_path)
