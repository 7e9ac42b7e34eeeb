"""End-to-end: a small landing tree from code -> `dbt build` in a subprocess -> real numbers.

The warehouse is built once per session (fixture `built` in conftest.py,
proportional idle, the default); the
other idle strategies rebuild only the GPU allocation and what depends on it,
in a copy of that warehouse. dbt always runs as a subprocess (dbt_helpers).
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from expectations import run_marts_gate
from tests.dbt import landing_fixture as fx
from tests.dbt.dbt_helpers import CENT, assert_ok, query, run_dbt, scalar  # noqa: F401

pytestmark = pytest.mark.slow


def rebuilt_with(built, strategy: str) -> Path:
    """A copy of the built warehouse with GPU allocation and everything downstream rebuilt."""
    folder = built["root"] / strategy
    folder.mkdir(exist_ok=True)
    warehouse = folder / "warehouse.duckdb"
    shutil.copy(built["warehouse"], warehouse)
    result = run_dbt(
        [
            "build",
            "--select",
            "int_gpu_cost_allocated+",
            "--vars",
            f"{{gpu_idle_strategy: {strategy}}}",
        ],
        warehouse,
        built["landing"],
        folder,
    )
    assert_ok(result)
    return warehouse


def test_build_runs_unit_tests_and_the_conservation_test(built):
    out = built["stdout"]
    assert "assert_fct_ai_cost_conserves_landing_billed_cost" in out
    assert "PASS int_gpu_cost_allocated::int_gpu_cost_allocated_idle_to_owner" in out
    assert " ERROR=0 " in out and " SKIP=0 " in out


def test_fact_carries_every_landed_dollar_once(built):
    wh = built["warehouse"]
    total = scalar(wh, "select sum(billed_cost) from fct_ai_cost")
    assert abs(total - fx.landed_billed_total()) < CENT
    openai = scalar(
        wh, "select sum(billed_cost) from fct_ai_cost where source_system = 'openai_costs'"
    )
    assert abs(openai - sum(row[3] for row in fx.COST_ROWS)) < CENT
    # Effective cost in the reporting currency (USD, rate 1) is the same money.
    assert abs(scalar(wh, "select sum(effective_cost_reporting) from fct_ai_cost") - total) < CENT


def test_unmapped_key_and_unused_pool_land_in_unallocated(built):
    # key_unknown_01's estimated cost is 1/4 of the Usage API's part of its pool
    # every day, before and after the price change (both prices move by the same
    # factor); the gateway (LiteLLM, team search) explains GATEWAY_MINI_SHARE of
    # the pool and takes that part. The proj_legacy bucket has no usage at all.
    pool_totals = sum(
        amount
        for day, project, item, amount in fx.COST_ROWS
        if project == "proj_search" and item.startswith(fx.MINI)
    )
    expected = pool_totals * (1 - fx.GATEWAY_MINI_SHARE) / 4 + Decimal("3.33")
    rows = query(
        built["warehouse"],
        """
        select allocation_method, sum(billed_cost)
        from fct_ai_cost where team = 'unallocated' group by 1""",
    )
    assert dict(rows).keys() == {"unallocated"}
    assert abs(rows[0][1] - expected) < CENT


def test_usage_without_a_bill_is_estimated_never_billed(built):
    rows = query(
        built["warehouse"],
        """
        select
            charge_date, team, feature,
            sum(billed_cost), sum(effective_cost), sum(estimated_cost)
        from fct_ai_cost where cost_basis = 'estimated' and source_system = 'openai_usage'
        group by all""",
    )
    # proj_growth's last day: 9.5M uncached x 2.50 + 0.5M cached x 1.25 + 2M out x 10.00
    assert rows == [
        (fx.DAYS[3], "growth", "ad-copy-gen", Decimal(0), Decimal(0), Decimal("44.375"))
    ]


def test_price_change_applies_from_its_date_only(built):
    rows = query(
        built["warehouse"],
        """
        select usage_date, price_version, estimated_cost
        from intermediate.int_token_usage_priced
        where api_key_id = 'key_srch_prod_02' order by usage_date""",
    )
    assert [r[1] for r in rows] == ["openai-2025-01"] * 2 + ["openai-2026-10-15"] * 2
    assert rows[0][2] == Decimal("0.405") and rows[2][2] == Decimal("0.324")


def _expected_idle_by_team(strategy: str) -> dict[str, float]:
    cost = float(fx.GPU_NODE_DAILY_COST)
    busy = fx.LLAMA_BUSY_HOURS + fx.NOTEBOOKS_BUSY_HOURS
    idle = cost * (fx.GPU_CAPACITY_HOURS - busy) / fx.GPU_CAPACITY_HOURS
    days = len(fx.GPU_USED_DAYS)
    if strategy == "proportional":
        per_day = {
            "search": idle * fx.LLAMA_BUSY_HOURS / busy,
            "data-science": idle * fx.NOTEBOOKS_BUSY_HOURS / busy,
        }
    elif strategy == "even":
        per_day = {"search": idle / 2, "data-science": idle / 2}
    else:
        per_day = {"ml-platform": idle}
    expected = {team: value * days for team, value in per_day.items()}
    # The day nobody used the node is all idle, charged to the owner.
    expected["ml-platform"] = expected.get("ml-platform", 0.0) + cost
    return expected


@pytest.mark.parametrize("strategy", ["proportional", "even", "to_owner"])
def test_idle_gpu_cost_follows_the_strategy(built, strategy):
    wh = built["warehouse"] if strategy == "proportional" else rebuilt_with(built, strategy)
    idle = dict(
        query(
            wh,
            """
        select team, sum(billed_cost)::double from fct_ai_cost
        where is_idle_cost group by team""",
        )
    )
    expected = _expected_idle_by_team(strategy)
    assert idle.keys() == expected.keys()
    for team, value in expected.items():
        assert idle[team] == pytest.approx(value, abs=0.005), team
    # Busy shares never change with the idle strategy, and the pools still add up.
    busy = dict(
        query(
            wh,
            """
        select team, sum(billed_cost)::double from fct_ai_cost
        where cost_type = 'gpu' and not is_idle_cost group by team""",
        )
    )
    cost, cap = float(fx.GPU_NODE_DAILY_COST), fx.GPU_CAPACITY_HOURS
    assert busy["search"] == pytest.approx(3 * cost * fx.LLAMA_BUSY_HOURS / cap, abs=0.005)
    gpu_total = scalar(wh, "select sum(billed_cost) from fct_ai_cost where cost_type = 'gpu'")
    assert abs(gpu_total - fx.GPU_NODE_DAILY_COST * len(fx.DAYS)) < CENT
    idle_hours = scalar(wh, "select sum(gpu_hours_idle) from fct_ai_cost")
    busy_hours = fx.LLAMA_BUSY_HOURS + fx.NOTEBOOKS_BUSY_HOURS
    assert idle_hours == pytest.approx(3 * (cap - busy_hours) + cap)


def test_shared_lines_are_split_over_teams_with_direct_cost(built):
    wh = built["warehouse"]
    shared = dict(
        query(
            wh,
            """
        select team, sum(billed_cost) from fct_ai_cost where is_shared_cost group by team""",
        )
    )
    # CloudWatch (tagged shared), data transfer (untagged) and the tax line.
    assert abs(sum(shared.values()) - (Decimal(38 + 22) * len(fx.DAYS) + fx.TAX_AMOUNT)) < CENT
    assert shared.keys() == {"search", "data-science"}
    # search has more direct cost (RDS 140 + busy GPU) than data-science (S3 85 + notebooks).
    assert shared["search"] > shared["data-science"] > 0


def test_feature_roi_shows_the_loss_making_feature(built):
    rows = dict(
        (r[0], r[1:])
        for r in query(
            built["warehouse"],
            """
            select feature_id, cost, value, roi, is_loss_making, value_method, ai_value_share,
                credited_value
            from mart_product__feature_roi where week_start = date '2026-10-12'""",
        )
    )
    cost, value, roi, loss, method, share, credited = rows["ad-copy-gen"]
    assert cost == Decimal(150) and value == Decimal(4 * 12)  # estimated day 4 is not cost
    # The seed credits AI with half of ad-copy-gen's value, and ROI uses only that half.
    assert (method, share, credited) == ("share", 0.5, Decimal(24))
    assert roi == pytest.approx((24 - 150) / 150) and loss
    assert rows["semantic-search"][2] > 0 and not rows["semantic-search"][3]


def test_role_marts_add_up_to_the_fact(built):
    wh = built["warehouse"]
    fact = scalar(wh, "select sum(effective_cost_reporting) from fct_ai_cost")
    finance_month = scalar(
        wh, "select sum(effective_cost) from mart_finance__unit_cost where period_grain = 'month'"
    )
    finance_day = scalar(
        wh, "select sum(effective_cost) from mart_finance__unit_cost where period_grain = 'day'"
    )
    leadership = scalar(wh, "select sum(spend) from mart_leadership__roi_summary")
    assert abs(finance_month - fact) < CENT and abs(finance_day - fact) < CENT
    assert abs(leadership - fact) < CENT
    # Run-rate of the month row: month-to-date over the days seen, times 31.
    mtd, projected = query(
        wh,
        """
        select sum(month_to_date_cost), sum(run_rate_month_cost)
        from mart_finance__unit_cost where period_grain = 'month'""",
    )[0]
    assert abs(projected - mtd / 16 * 31) < CENT  # last charge day is the 16th


def test_warehouse_works_under_another_file_name(built):
    # Blue/green publishing renames the file; views must not name its catalog.
    published = built["root"] / "published" / "current.duckdb"
    published.parent.mkdir()
    shutil.copy(built["warehouse"], published)
    views = query(published, "select schema_name, view_name from duckdb_views() where not internal")
    assert ("intermediate", "int_gpu_cost_allocated") in views
    for schema, view in views:
        query(published, f"select count(*) from {schema}.{view}")


def test_conservation_test_fails_when_money_goes_missing(built):
    folder = built["root"] / "tampered"
    folder.mkdir()
    warehouse = folder / "warehouse.duckdb"
    shutil.copy(built["warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as con:
        (day,) = con.execute("""
            update fct_ai_cost set billed_cost = billed_cost - 0.01
            where ai_cost_id = (select min(ai_cost_id) from fct_ai_cost where billed_cost > 1)
            returning charge_date""").fetchone()
    result = run_dbt(
        ["test", "--select", "assert_fct_ai_cost_conserves_landing_billed_cost"],
        warehouse,
        built["landing"],
        folder,
    )
    assert result.returncode != 0
    # The pool and its day's total against the raw landed sources both disagree.
    assert "FAIL 2 assert_fct_ai_cost_conserves_landing_billed_cost" in result.stdout

    # The marts gate reads the same model: both comparisons of that day block.
    gate = run_marts_gate(warehouse, day, day + timedelta(days=1), data_docs_dir=folder / "docs")
    (conservation,) = [f for f in gate.blocking_failures if f["expectation"] == "conservation"]
    assert conservation["observed"] == [pytest.approx(-0.01), pytest.approx(-0.01)]
    assert f"{day} (landed_day_total)" in conservation["reason"]


def test_anthropic_pool_is_split_by_estimated_cost_with_cache_prices(built):
    rows = dict(
        query(
            built["warehouse"],
            """
        select feature, sum(billed_cost) from fct_ai_cost
        where source_system = 'anthropic_costs' group by feature""",
        )
    )
    pool = len(fx.DAYS) * sum(amount for *_, amount in fx.ANTHROPIC_COST_ROWS)
    assert rows.keys() == {"translation", "doc-summarizer"}
    assert abs(rows["translation"] - pool * fx.TRANSLATION_SHARE) < CENT
    assert abs(rows["translation"] + rows["doc-summarizer"] - pool) < CENT
