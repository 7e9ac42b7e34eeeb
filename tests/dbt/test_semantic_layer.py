"""The semantic layer: MetricFlow answers on DuckDB, with the same numbers as SQL over the fact.

`mf` reads `<project>/target/semantic_manifest.json` and nothing else, so the
module builds a private COPY of dbt_project (one `dbt build` into a temp
DuckDB file) and runs `mf query` as a subprocess in it.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.dbt import landing_fixture as fx
from warehouse import glossary
from warehouse.mart_docs import mart_models

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROLE_METRICS = {
    "total_cost",
    "cost_per_1k_tokens",
    "cache_hit_rate",
    "gpu_utilisation",
    "cost_per_request",
    "feature_roi",
    "budget_burn",
}


# Read at collection time so a metric added to the YAML gets its own test case.
SEMANTIC_METRICS = yaml.safe_load(
    (REPO / "dbt_project" / "models" / "semantic" / "_semantic__metrics.yml").read_text()
)["metrics"]
ROLE_METRIC_YAML = {
    m["name"]: m for m in SEMANTIC_METRICS if m["config"]["meta"].get("kind") == "role_metric"
}


def _env(built: dict) -> dict[str, str]:
    return {
        **os.environ,
        "COSTBRIDGE_DBT_DUCKDB_PATH": str(built["warehouse"]),
        "COSTBRIDGE_LANDING_ROOT": str(built["landing"]),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(built["project"]),
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("semantic")
    project = root / "dbt_project"
    shutil.copytree(
        REPO / "dbt_project",
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    built = {
        "project": project,
        "landing": fx.build_landing(root / "landing"),
        "warehouse": root / "warehouse.duckdb",
        "root": root,
    }
    result = subprocess.run(
        [str(BIN / "dbt"), "build", "--project-dir", str(project)],
        cwd=project,
        env=_env(built),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}"
    return built


def mf_query(built: dict, metrics: list[str], group_by: list[str]) -> list[dict]:
    out = built["root"] / f"mf_{'_'.join(metrics)}_{'_'.join(group_by)}.csv"
    result = subprocess.run(
        [
            str(BIN / "mf"),
            "query",
            "--metrics",
            ",".join(metrics),
            "--group-by",
            ",".join(group_by),
            "--csv",
            str(out),
            "--quiet",
        ],
        cwd=built["project"],
        env=_env(built),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0 and out.exists(), f"mf query failed:\n{result.stdout[-4000:]}"
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def query(built: dict, sql: str) -> list[tuple]:
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        return con.sql(sql).fetchall()


def number(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def assert_same(got: str, expected: float | None, what) -> None:
    """An mf CSV cell equals a SQL value (both empty when the denominator is 0)."""
    if expected is None:
        assert got == "", what
    else:
        assert number(got) == pytest.approx(expected, rel=1e-9), what


def semantic_manifest(built: dict) -> dict:
    return json.loads((built["project"] / "target" / "semantic_manifest.json").read_text())


def test_engineers_cost_per_1k_tokens_and_finances_unit_cost_are_one_metric(built):
    labels = glossary.role_label_index(semantic_manifest(built))
    assert labels[("engineering", "Cost per 1k tokens")] == "cost_per_1k_tokens"
    assert labels[("finance", "Unit cost (per 1k tokens)")] == "cost_per_1k_tokens"


def test_mf_cost_per_1k_tokens_equals_sql_over_the_fact(built):
    rows = mf_query(built, ["cost_per_1k_tokens", "cost_per_request", "cache_hit_rate"], ["team"])
    by_team = {r["team"]: r for r in rows}
    expected = query(
        built,
        """
        select
            team,
            sum(case when cost_type = 'tokens' then effective_cost_reporting else 0 end)::double
                * 1000 / nullif(sum(input_tokens + output_tokens), 0),
            sum(case when cost_type = 'tokens' then effective_cost_reporting else 0 end)::double
                / nullif(sum(requests), 0),
            sum(cached_input_tokens)::double / nullif(sum(input_tokens), 0)
        from fct_ai_cost group by team""",
    )
    assert by_team.keys() == {row[0] for row in expected}
    # search spends on tokens, so the comparison is not between two empty values.
    assert number(by_team["search"]["cost_per_1k_tokens"]) > 0
    for team, per_1k, per_request, cache_rate in expected:
        got = by_team[team]
        assert_same(got["cost_per_1k_tokens"], per_1k, team)
        assert_same(got["cost_per_request"], per_request, team)
        assert_same(got["cache_hit_rate"], cache_rate, team)


def test_mf_unit_cost_equals_the_finance_marts_unit_cost(built):
    # Finance reads per 1M tokens in its mart; the semantic metric is per 1k: same number x 1000.
    rows = mf_query(
        built,
        ["cost_per_1k_tokens"],
        ["metric_time__month", "team", "ai_cost__provider_name", "ai_cost__service_name"],
    )
    got = {
        (
            r["metric_time__month"][:10],
            r["team"],
            r["ai_cost__provider_name"],
            r["ai_cost__service_name"],
        ): number(r["cost_per_1k_tokens"])
        for r in rows
    }
    mart = query(
        built,
        """
        select cast(period_start as varchar), team, provider_name, service_name,
            cost_per_1m_tokens::double / 1000
        from mart_finance__unit_cost
        where period_grain = 'month' and tokens > 0""",
    )
    assert len(mart) >= 3
    for *key, unit_cost in mart:
        assert_same(got[tuple(key)], unit_cost, key)


def test_mf_feature_roi_matches_the_product_mart(built):
    rows = mf_query(built, ["feature_roi"], ["metric_time__week", "feature"])
    got = {(r["metric_time__week"][:10], r["feature"]): r["feature_roi"] for r in rows}
    mart = query(
        built,
        """
        select cast(week_start as varchar), feature_id, roi
        from mart_product__feature_roi where cost > 0""",
    )
    assert ("2026-10-12", "ad-copy-gen") in {(w, f) for w, f, _ in mart}
    for week, feature, roi in mart:
        assert_same(got[(week, feature)], roi, (week, feature))
    # The fixture's loss-maker: half of its 48 of value is credited to AI, (24 - 150) / 150.
    assert number(got[("2026-10-12", "ad-copy-gen")]) == pytest.approx(-0.84)


def test_mf_gpu_utilisation_and_budget_burn_equal_sql(built):
    rows = mf_query(built, ["gpu_utilisation", "budget_burn"], ["metric_time__month", "team"])
    got = {(r["metric_time__month"][:10], r["team"]): r for r in rows}
    gpu = query(
        built,
        """
        select team, sum(gpu_hours_busy) / sum(gpu_hours_busy + gpu_hours_idle)
        from fct_ai_cost where cost_type = 'gpu' group by team""",
    )
    assert {team for team, _ in gpu} == {"search", "data-science", "ml-platform"}
    for team, utilisation in gpu:
        assert_same(got[("2026-10-01", team)]["gpu_utilisation"], utilisation, team)
    burn = query(
        built,
        """
        with cost as (
            select team, sum(effective_cost_reporting) as cost from fct_ai_cost
            where date_trunc('month', charge_date) = date '2026-10-01' group by team
        )
        select cost.team, cost.cost::double / budgets.budget_amount::double
        from cost
        inner join budgets
            on budgets.team = cost.team and budgets.budget_month = date '2026-10-01'""",
    )
    assert burn
    for team, value in burn:
        assert_same(got[("2026-10-01", team)]["budget_burn"], value, team)


def test_every_role_metric_speaks_to_every_role(built):
    manifest = semantic_manifest(built)
    metrics = {m["name"]: m for m in glossary.role_metrics(manifest)}
    assert metrics.keys() == ROLE_METRICS
    for metric in metrics.values():
        roles = metric["config"]["meta"]["roles"]
        assert set(roles) == set(glossary.ROLES), metric["name"]
        assert all(words["label"] and words["description"] for words in roles.values())


def test_glossary_rejects_a_metric_missing_a_role(built):
    manifest = semantic_manifest(built)
    victim = next(m for m in manifest["metrics"] if m["name"] == "cache_hit_rate")
    del victim["config"]["meta"]["roles"]["finance"]
    with pytest.raises(glossary.GlossaryError, match="cache_hit_rate.*finance"):
        glossary.render_glossary(manifest)


def test_committed_glossary_is_generated_from_this_semantic_layer(built):
    expected = glossary.render_glossary(semantic_manifest(built))
    committed = (REPO / "docs" / "metrics.md").read_text()
    assert committed == expected, "docs/metrics.md is stale: run `make docs`"
    # Both roles' words link to the one definition.
    assert "[Unit cost (per 1k tokens)](#cost_per_1k_tokens)" in committed
    assert "[Cost per 1k tokens](#cost_per_1k_tokens)" in committed


def mart_columns_carrying(project: Path, metric: str) -> list[dict]:
    """Mart columns whose config.meta.metric names `metric`, with the grain mf reads them at."""
    found = []
    for model in mart_models(project):
        model_meta = (model.get("config") or {}).get("meta") or {}
        for column in model.get("columns") or []:
            meta = (column.get("config") or {}).get("meta") or {}
            if meta.get("metric") != metric:
                continue
            grain = meta.get("semantic_grain") or model_meta.get("semantic_grain")
            assert grain, f"{model['name']}.{column['name']}: no semantic_grain in its meta"
            found.append(
                {
                    "model": model["name"],
                    "column": column["name"],
                    "grain": {
                        name: spec if isinstance(spec, dict) else {"group_by": spec}
                        for name, spec in grain.items()
                    },
                    "where": meta.get("semantic_where", model_meta.get("semantic_where")),
                }
            )
    return found


def _mf_key(row: dict, grain: dict) -> tuple:
    key = []
    for spec in grain.values():
        value = row[spec["group_by"]]
        if spec["group_by"].startswith("metric_time__"):
            value = value[:10]
        key.append(value if value != "" else spec.get("null_as"))
    return tuple(key)


@pytest.mark.parametrize("metric", sorted(ROLE_METRIC_YAML))
def test_every_mart_column_with_a_metrics_label_equals_mf_query(built, metric):
    """A role metric's number in a mart is MetricFlow's number for the mart's grain.

    Every role metric must be carried by at least one mart column (config.meta.metric in the
    mart's YAML), so a new metric, or a mart re-deriving a formula, fails here.
    """
    columns = mart_columns_carrying(built["project"], metric)
    assert columns, f"no mart column carries the {metric!r} metric (config.meta.metric)"
    additive = ROLE_METRIC_YAML[metric]["type"] == "simple"
    for carried in columns:
        grain = carried["grain"]
        rows = mf_query(built, [metric], [spec["group_by"] for spec in grain.values()])
        got = {_mf_key(row, grain): row[metric] for row in rows}
        assert len(got) == len(rows), "the grain must name one mf row per key"
        where = f"where {carried['where']}" if carried["where"] else ""
        keys = ", ".join(f"cast({name} as varchar)" for name in grain)
        mart = query(
            built,
            f"select distinct {keys}, cast({carried['column']} as double) "
            f"from {carried['model']} {where}",
        )
        what = f"{carried['model']}.{carried['column']}"
        assert len({tuple(r[:-1]) for r in mart}) == len(mart), f"{what} is not one value per key"
        assert any(r[-1] not in (None, 0) for r in mart), f"{what}: nothing to compare"
        for *key, value in mart:
            cell = got.get(tuple(key), "")
            if cell == "" and additive and value == 0:
                continue  # a sum over no rows is 0 in the mart and absent in mf
            assert_same(cell, value, (what, key))
