"""The FinOps Foundation's real FOCUS 1.0 sample through the whole pipeline, gates included."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest
import yaml

from landing.window import Window
from tests.conftest import REALDATA

FOCUS_SAMPLE = REALDATA / "focus_1.0_sample_finops"
START, END = date(2024, 9, 1), date(2024, 10, 1)
CENT = Decimal("0.01")

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(
        not FOCUS_SAMPLE.is_dir(),
        reason=f"real data folder {FOCUS_SAMPLE} is absent (fresh clone): no real FOCUS sample",
    ),
]


def _csv_totals() -> dict[str, dict]:
    """Billed cost per provider, charge category and day, summed from the CSV itself."""
    totals: dict[str, dict] = {
        "provider": defaultdict(Decimal),
        "category": defaultdict(Decimal),
        "day": defaultdict(Decimal),
    }
    with (FOCUS_SAMPLE / "focus_sample.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            cost = Decimal(row["BilledCost"])
            day = datetime.fromisoformat(row["ChargePeriodStart"]).date()
            totals["provider"][row["ProviderName"]] += cost
            totals["category"][row["ChargeCategory"]] += cost
            totals["day"][day] += cost
    return totals


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory):
    from warehouse import pipeline
    from warehouse.settings import Settings

    base = tmp_path_factory.mktemp("focus_sample")
    sources = base / "sources.yml"
    # The sample carries a non-FOCUS "Id" column, hence allow_added_columns.
    sources.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "name": "focus_sample",
                        "type": "focus",
                        "options": {
                            "path": str(FOCUS_SAMPLE),
                            "allow_added_columns": True,
                            "lookback_days": 0,
                        },
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    settings = Settings(home=base / "home", sources_file=sources)
    window = Window(START, END)
    extracted = pipeline.extract(settings, "focus_sample", window)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)
        # gates + dbt build + marts gate + publish; raises if a gate blocks
        published = pipeline.run_day(settings, window, "focus-sample")
    return settings, extracted, published


def _fact_totals(warehouse, column: str) -> dict:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            f"select {column}, sum(billed_cost)::decimal(38, 10) from fct_ai_cost group by 1"
        ).fetchall()
    finally:
        con.close()
    return {key: Decimal(value) for key, value in rows}


def test_sample_passes_both_gates_and_publishes(sample_home):
    settings, extracted, published = sample_home
    counts = extracted["datasets"]["focus_cost_and_usage"]
    assert (counts["rows_loaded"], counts["rows_quarantined"]) == (1000, 0)
    assert published["warehouse"] == str(settings.warehouse_file)
    con = duckdb.connect(str(settings.warehouse_file), read_only=True)
    try:
        runs = {
            gate: (success, json.loads(findings))
            for gate, success, findings in con.execute(
                "select gate, success, findings_json from ops_data_quality_runs"
            ).fetchall()
        }
    finally:
        con.close()
    assert runs["landing"][0] and runs["marts"][0], runs
    # The 12 Microsoft Usage rows with small negative costs are reported, not blocked.
    negative = [f for f in runs["landing"][1] if f["expectation"] == "negative_amount.billed_cost"]
    assert [f["severity"] for f in negative] == ["warn"], runs["landing"][1]


@pytest.mark.parametrize(
    "grain, column",
    [
        ("provider", "provider_name"),
        ("category", "charge_category"),
        ("day", "charge_date"),
    ],
)
def test_fact_totals_match_the_csv(sample_home, grain, column):
    settings, _, _ = sample_home
    expected = _csv_totals()[grain]
    actual = _fact_totals(settings.warehouse_file, column)
    assert set(actual) == set(expected)
    for key, total in expected.items():
        assert abs(actual[key] - total) < CENT / 2, (key, actual[key], total)


def test_the_dashboard_tells_the_samples_month(sample_home):
    """The page a reader opens over the real bill: its month equals the fact, to the cent."""
    import re

    from reports.dashboard import write_dashboard

    settings, _, _ = sample_home
    page = write_dashboard(settings).read_text(encoding="utf-8")
    con = duckdb.connect(str(settings.warehouse_file), read_only=True)
    try:
        last_day, month = con.execute(
            "select max(charge_date), sum(effective_cost_reporting) from fct_ai_cost"
            " where charge_date in (select landing_date from ops_day_status where is_final_day)"
        ).fetchone()
    finally:
        con.close()
    assert f"Data as of <b>{last_day}</b>" in page
    shown = re.search(r'data-figure="spend_month" data-kind="money" data-value="([^"]*)"', page)
    assert shown and abs(Decimal(shown[1]) - month) < CENT / 2, (shown and shown[1], month)
    assert "verdict-passed" in page
