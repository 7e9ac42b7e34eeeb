"""Per-token lines on FOCUS bills (the FOCUS spec's AI billing examples) become token cost.

Reads ../shared/realdata/focus_spec_ai_billing_examples; skipped when that folder is absent.
The detection rule itself is pinned without real data by the dbt unit tests
stg_focus__cost_and_usage_classifies_token_lines and
int_cloud_cost_attributed_token_lines_are_token_cost."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from extractors import run_source
from extractors.config import SourceConfig
from tests.conftest import REALDATA
from tests.dbt import landing_fixture as fx
from tests.dbt.dbt_helpers import assert_ok, query, run_dbt

AI_EXAMPLES = REALDATA / "focus_spec_ai_billing_examples"
FILES = ("per_token_foundation_model_api.csv", "ai_prompt_caching_a.csv")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.realdata,
    pytest.mark.skipif(
        not AI_EXAMPLES.is_dir(),
        reason=f"real data folder {AI_EXAMPLES} is absent (fresh clone): no FOCUS AI examples",
    ),
]


def _expected() -> dict[str, dict[str, Decimal]]:
    """Per model: billed cost and input/cached/output tokens, from the CSVs themselves."""
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for name in FILES:
        with (AI_EXAMPLES / name).open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                details = json.loads(row["SkuPriceDetails"])
                model = totals[details["ModelId"]]
                quantity = Decimal(row["ConsumedQuantity"])
                model["billed_cost"] += Decimal(row["BilledCost"])
                direction = details.get("TokenDirection") or details.get("TokenType")
                if direction == "Output":
                    model["output_tokens"] += quantity
                else:
                    model["input_tokens"] += quantity
                    if details.get("TokenCacheAction") == "Read":
                        model["cached_input_tokens"] += quantity
    return totals


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("focus_tokens")
    landing = root / "landing"
    fx.write_schema_files(landing)
    # The examples carry PrincipalId, which no FOCUS version defines: an added column.
    source = SourceConfig(
        "ai_bill",
        "focus",
        {"path": str(AI_EXAMPLES), "allow_added_columns": True, "lookback_days": 0},
    )
    summary = run_source(
        source,
        date(2025, 1, 1),
        date(2025, 6, 1),
        landing_root=landing,
        quarantine_root=root / "quarantine",
    )
    counts = summary["datasets"]["focus_cost_and_usage"]
    lines = sum(len((AI_EXAMPLES / name).read_text().splitlines()) - 1 for name in FILES)
    assert (counts["rows_loaded"], counts["rows_quarantined"]) == (lines, 0), summary
    warehouse = root / "warehouse.duckdb"
    assert_ok(run_dbt(["build"], warehouse, landing, root))
    return warehouse


def test_token_lines_become_token_rows_with_model_and_tokens(built):
    rows = query(
        built,
        """
        select model_id, cost_type, workload_type, sum(billed_cost), sum(input_tokens),
            sum(cached_input_tokens), sum(output_tokens)
        from fct_ai_cost where source_system = 'focus:ai_bill' group by all order by 1
    """,
    )
    expected = _expected()
    assert {r[0] for r in rows} == set(expected), rows
    for model_id, cost_type, workload, billed, inputs, cached, outputs in rows:
        want = expected[model_id]
        assert (cost_type, workload) == ("tokens", "inference")
        # money is the FOCUS line's, to the cent
        assert abs(Decimal(str(billed)) - want["billed_cost"]) < Decimal("0.005")
        assert (inputs, cached, outputs) == (
            int(want["input_tokens"]),
            int(want["cached_input_tokens"]),
            int(want["output_tokens"]),
        ), model_id


def test_every_dollar_of_the_ai_bill_is_token_cost(built):
    [(total, token_cost)] = query(
        built,
        """
        select sum(billed_cost), sum(billed_cost) filter (where cost_type = 'tokens')
        from fct_ai_cost where source_system = 'focus:ai_bill'
    """,
    )
    expected = sum(m["billed_cost"] for m in _expected().values())
    assert Decimal(str(total)) == Decimal(str(token_cost))
    assert abs(Decimal(str(total)) - expected) < Decimal("0.005")
