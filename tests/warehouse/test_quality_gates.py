"""A blocked gate holds the day back, leaves the published file alone, and is on record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import duckdb
import pytest

from expectations import GateFailed
from extractors.landing import land
from landing.schemas import DATASETS
from landing.window import Window
from tests.warehouse.conftest import DEMO_END, DEMO_START
from warehouse import pipeline
from warehouse.build import prepare_next_file
from warehouse.quality_log import read_log

pytestmark = pytest.mark.slow


def _land_bad_focus_day(settings, day):
    """The FOCUS export for `day` now carries a line of a charge category FOCUS has not got.

    (A negative Usage cost is legal FOCUS and only warns: see tests/expectations.)
    """
    at = datetime(day.year, day.month, day.day, tzinfo=UTC)
    row = {
        "record_ref": f"focus-{day}.csv:2",
        "focus_version": "1.2",
        "export_version": "v9",
        "billing_account_id": "111122223333",
        "provider_name": "AWS",
        "billing_currency": "USD",
        "billing_period_start": at.replace(day=1),
        "billing_period_end": at.replace(month=11, day=1),
        "charge_period_start": at,
        "charge_period_end": at + timedelta(days=1),
        "charge_category": "Fee",
        "service_name": "Amazon EC2",
        "resource_name": "gpu-a10g-0",
        "billed_cost": Decimal("42.00"),
        "effective_cost": Decimal("42.00"),
        "list_cost": Decimal("42.00"),
    }
    result = land(
        [row],
        dataset=DATASETS["focus_cost_and_usage"],
        source="aws_focus",
        window=Window(day, day + timedelta(days=1)),
        landing_root=settings.landing_root,
        quarantine_root=settings.quarantine_root,
    )
    assert result.rows_loaded == 1


def test_a_bad_landing_batch_blocks_dbt_and_is_recorded(home):
    published = home.warehouse_file
    before = published.read_bytes()
    day = DEMO_END - timedelta(days=1)
    _land_bad_focus_day(home, day)

    with pytest.raises(GateFailed, match="accepted_values.charge_category"):
        pipeline.run_day(home, Window(day, DEMO_END), "bad-landing-run")

    assert published.read_bytes() == before, "the last good warehouse must stay published"
    assert not list(home.build_dir.glob("*.duckdb")), "dbt must not have started a next file"
    runs = read_log(home.ops_dir).to_pylist()
    blocked = [r for r in runs if r["run_id"] == "bad-landing-run"]
    assert len(blocked) == 1
    record = blocked[0]
    assert (record["gate"], record["success"]) == ("landing", False)
    assert (record["window_start"], record["window_end"]) == (day, DEMO_END)
    assert record["blocking_failures"] >= 1
    assert record["data_docs_path"] and record["data_docs_path"].endswith("index.html")
    findings = json.loads(record["findings_json"])
    assert any(
        f["expectation"] == "accepted_values.charge_category" and f["severity"] == "block"
        for f in findings
    )
    # The good run's passes are on record too, before it.
    assert [(r["run_id"], r["gate"], r["success"]) for r in runs[:2]] == [
        ("good-run", "landing", True),
        ("good-run", "marts", True),
    ]


def test_a_failing_marts_gate_blocks_publication_and_shows_at_the_next_publish(home):
    published = home.warehouse_file
    before = published.read_bytes()
    window = Window(DEMO_START, DEMO_END)
    tampered = prepare_next_file(published, home.build_dir, "tampered-run")
    con = duckdb.connect(str(tampered))
    # One cent of money appears from nowhere: conservation against landing must catch it.
    con.execute(
        "update fct_ai_cost set billed_cost = billed_cost + 0.01 where rowid = (select min(rowid)"
        " from fct_ai_cost where cost_basis = 'billed' and billed_cost > 0 and charge_date >= ?)",
        [DEMO_START],
    )
    con.close()

    with pytest.raises(GateFailed, match="marts gate BLOCKED"):
        pipeline.validate_marts(home, window, str(tampered), "tampered-run")
    assert published.read_bytes() == before

    # The next good publish carries the failure into the file readers open.
    good = prepare_next_file(published, home.build_dir, "next-good-run")
    pipeline.publish(home, window, str(good), "next-good-run")
    con = duckdb.connect(str(published), read_only=True)
    rows = con.execute(
        "select run_id, gate, success, blocking_failures from ops_data_quality_runs"
        " order by recorded_at"
    ).fetchall()
    runs = con.execute("select run_id from ops_publications order by published_at").fetchall()
    con.close()
    assert rows[-1][:3] == ("tampered-run", "marts", False) and rows[-1][3] >= 1
    assert ("good-run", "landing", True, 0) in rows
    assert runs == [("good-run",), ("next-good-run",)]


def test_the_published_demo_warehouse_carries_its_ops_tables(demo_home):
    con = duckdb.connect(str(demo_home / "warehouse" / "costbridge.duckdb"), read_only=True)
    try:
        tables = {
            r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
        }
        gates = con.execute("select gate, success from ops_data_quality_runs").fetchall()
    finally:
        con.close()
    assert {"ops_publications", "ops_quarantine", "ops_data_quality_runs"} <= tables
    assert sorted(gates) == [("landing", True), ("marts", True)]
