"""ops_quarantine: every quarantined row, secrets removed, reconciled with the manifests."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import duckdb
import pytest

from extractors.landing import Reject, land
from landing.schemas import DATASETS
from landing.window import Window
from warehouse.quarantine import load_quarantine, manifest_counts, reconcile

SECRET = "sk-admin-canary-quarantine-0123456789"
DAY = date(2026, 10, 5)


def _cost(ref: str, day: date, amount) -> dict:
    at = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return {
        "record_ref": ref,
        "project_id": "proj_search",
        "line_item": "gpt-4o, input",
        "currency": "USD",
        "amount": amount,
        "bucket_start_at": at,
        "bucket_end_at": at + timedelta(days=1),
    }


@pytest.fixture
def landed(tmp_path):
    landing, quarantine = tmp_path / "landing", tmp_path / "quarantine"
    costs = DATASETS["openai_costs"]
    first = land(
        [
            _cost("costs:0", DAY, Decimal("1.25")),
            _cost("costs:1", DAY, "not-a-number"),
            _cost("costs:2", DAY + timedelta(days=9), Decimal("2")),  # outside the window
            Reject("costs:page-3", f"unparseable page (key {SECRET})", {"api_key": SECRET}),
        ],
        dataset=costs,
        source="openai",
        window=Window(DAY, DAY + timedelta(days=2)),
        landing_root=landing,
        quarantine_root=quarantine,
        secrets=[SECRET],
    )
    second = land(
        [_cost("costs:9", DAY + timedelta(days=3), None)],
        dataset=costs,
        source="openai_eu",
        window=Window(DAY + timedelta(days=3), DAY + timedelta(days=4)),
        landing_root=landing,
        quarantine_root=quarantine,
        secrets=[SECRET],
    )
    assert (first.rows_quarantined, second.rows_quarantined) == (3, 1)
    return landing, quarantine


def test_every_quarantined_row_is_queryable_with_its_reason(landed, tmp_path):
    landing, quarantine = landed
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert load_quarantine(con, quarantine) == 4
    rows = con.execute(
        "select source_name, dataset, partition_date, window_start, record_ref, reason, raw_payload"
        " from ops_quarantine order by source_name, record_ref"
    ).fetchall()
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("openai", "openai_costs", DAY, "costs:1"),
        # Outside the window: filed under the window's day nearest its own.
        ("openai", "openai_costs", DAY + timedelta(days=1), "costs:2"),
        ("openai", "openai_costs", DAY, "costs:page-3"),
        ("openai_eu", "openai_costs", DAY + timedelta(days=3), "costs:9"),
    ]
    reasons = {r[4]: r[5] for r in rows}
    assert "amount" in reasons["costs:1"]
    assert reasons["costs:2"].startswith("outside window")
    assert "amount" in reasons["costs:9"]
    assert all(r[6] for r in rows), "the raw payload is kept"
    dump = str(con.execute("select * from ops_quarantine").fetchall())
    assert SECRET not in dump, "a secret reached ops_quarantine"


def test_quarantine_counts_reconcile_with_the_manifests(landed, tmp_path):
    landing, quarantine = landed
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_quarantine(con, quarantine)
    table_counts = Counter(
        {
            (s, d, day): n
            for s, d, day, n in con.execute(
                "select source_name, dataset, partition_date, count(*) from ops_quarantine"
                " group by all"
            ).fetchall()
        }
    )
    assert table_counts == manifest_counts(landing)
    assert sum(table_counts.values()) == 4
    assert reconcile(landing, quarantine) == []


def test_a_lost_quarantine_file_is_reported(landed):
    landing, quarantine = landed
    (
        quarantine
        / "openai_eu"
        / "openai_costs"
        / f"date={DAY + timedelta(days=3)}"
        / "part-0.parquet"
    ).unlink()
    assert reconcile(landing, quarantine) == [
        f"openai_eu/openai_costs/date={DAY + timedelta(days=3)}: manifest says 1 row(s) "
        "quarantined, quarantine holds 0"
    ]


def test_no_quarantine_yet_gives_an_empty_table(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert load_quarantine(con, tmp_path / "nothing-here") == 0
    columns = [r[0] for r in con.execute("describe ops_quarantine").fetchall()]
    assert columns == [
        "source_name",
        "dataset",
        "partition_date",
        "window_start",
        "window_end",
        "record_ref",
        "reason",
        "raw_payload",
    ]
