"""Quarantine that multiplied and rows that vanished: a FOCUS bill re-read by daily runs.

Each test fails on the landing writer that filed rejects under the window's first
day, and on the FOCUS reader that dropped rows dated far outside their billing period.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from extractors import run_source
from extractors.config import SourceConfig
from landing.window import Window
from tests.extractors.test_focus import row, write_csv
from warehouse.quarantine import quarantine_table, reconcile


def _bill(tmp_path, rows):
    folder = tmp_path / "exports"
    folder.mkdir(exist_ok=True)
    write_csv(folder / "bill.csv", rows)
    return SourceConfig("cloud", "focus", {"path": str(folder), "lookback_days": 3})


def _run(tmp_path, source, start: date, end: date) -> dict:
    summary = run_source(
        source,
        start,
        end,
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
    )
    return summary["datasets"]["focus_cost_and_usage"]


def test_a_bad_row_reread_by_four_daily_runs_is_filed_once_under_its_own_day(tmp_path, chaos):
    bad_tags = row(9, "4.00", Tags="{not json")
    source = _bill(tmp_path, [row(day, "10.00") for day in range(5, 13)] + [bad_tags])
    for day in (10, 11, 12, 13):  # each run's 3-day lookback re-reads Oct 9 or not
        _run(tmp_path, source, date(2026, 10, day - 1), date(2026, 10, day))
    rows = quarantine_table(tmp_path / "quarantine").to_pylist()
    assert [(r["partition_date"], r["reason"]) for r in rows] == [
        (date(2026, 10, 9), "Tags is not valid JSON")
    ]
    assert reconcile(tmp_path / "landing", tmp_path / "quarantine") == []
    chaos(
        "quarantine",
        "1 bad FOCUS row, 3-day lookback, 4 daily runs",
        rows_in=9,
        loaded="8 days",
        quarantined=len(rows),
        duplicates=len(rows) - 1,
    )


def test_reconcile_reports_a_reject_filed_under_two_days(tmp_path):
    source = _bill(tmp_path, [row(9, "4.00", Tags="{not json")])
    _run(tmp_path, source, date(2026, 10, 9), date(2026, 10, 10))
    # What the old writer did: the same record filed again under another window's first day.
    quarantine = tmp_path / "quarantine" / "cloud" / "focus_cost_and_usage"
    copy = quarantine / "date=2026-10-07"
    copy.mkdir()
    (copy / "part-0.parquet").write_bytes(
        (quarantine / "date=2026-10-09" / "part-0.parquet").read_bytes()
    )
    problems = reconcile(tmp_path / "landing", tmp_path / "quarantine")
    assert any("filed 2 times, under 2026-10-07, 2026-10-09" in p for p in problems), problems


def test_rows_dated_far_outside_their_billing_period_are_quarantined_not_lost(tmp_path, chaos):
    rows = [row(day, "10.00") for day in range(1, 31)]
    rows += [
        row(
            5,
            "7.00",
            ChargePeriodStart="2099-10-05T00:00:00Z",
            ChargePeriodEnd="2099-10-06T00:00:00Z",
        ),
        row(
            5,
            "3.00",
            ChargePeriodStart="1990-10-05T00:00:00Z",
            ChargePeriodEnd="1990-10-06T00:00:00Z",
        ),
        # Real bills carry late usage from just before the period: it lands on its day.
        row(
            5,
            "0.24",
            ChargePeriodStart="2026-09-30T22:00:00Z",
            ChargePeriodEnd="2026-09-30T23:00:00Z",
        ),
    ]
    source = _bill(tmp_path, rows)
    counts = _run(tmp_path, source, date(2026, 10, 1), date(2026, 11, 1))
    assert (counts["rows_in"], counts["rows_loaded"], counts["rows_quarantined"]) == (33, 31, 2)
    filed = {
        r["partition_date"]: r["reason"]
        for r in quarantine_table(tmp_path / "quarantine").to_pylist()
    }
    assert set(filed) == {date(2026, 10, 31), date(2026, 10, 1)}
    assert (
        "2099-10-05" in filed[date(2026, 10, 31)] and "billing period" in filed[date(2026, 10, 31)]
    )
    assert "1990-10-05" in filed[date(2026, 10, 1)]
    assert reconcile(tmp_path / "landing", tmp_path / "quarantine") == []
    # Every row of the file is accounted for in the manifests.
    manifest = json.loads(
        (tmp_path / "landing/cloud/focus_cost_and_usage/date=2026-10-01/_manifest.json").read_text()
    )
    tally = manifest["source_files"]["bill.csv"]
    assert tally["rows"] == len(rows) == 33
    assert sum(tally["in_window"].values()) + tally["other_windows"] + tally["superseded"] == 33
    chaos(
        "rows vanish",
        "ChargePeriodStart 2099 and 1990 on an October bill",
        rows_in=counts["rows_in"],
        loaded=counts["rows_loaded"],
        quarantined=counts["rows_quarantined"],
        published="n/a",
    )


def test_daily_runs_over_a_month_account_for_every_row_once(tmp_path, chaos):
    rows = [row(day, "10.00") for day in range(1, 31)]
    rows.append(
        row(
            5,
            "7.00",
            ChargePeriodStart="2099-10-05T00:00:00Z",
            ChargePeriodEnd="2099-10-06T00:00:00Z",
        )
    )
    source = _bill(tmp_path, rows)
    day = date(2026, 10, 2)
    while day <= date(2026, 11, 1):
        _run(tmp_path, source, day - timedelta(days=1), day)
        day += timedelta(days=1)
    filed = quarantine_table(tmp_path / "quarantine").to_pylist()
    manifests = sorted(
        (tmp_path / "landing/cloud/focus_cost_and_usage").glob("date=*/_manifest.json")
    )
    loaded = sum(json.loads(p.read_text())["rows_loaded"] for p in manifests)
    assert (loaded, len(filed)) == (30, 1)
    assert reconcile(tmp_path / "landing", tmp_path / "quarantine") == []
    chaos(
        "quarantine",
        "31 daily runs with lookback over one bill with a 2099 row",
        rows_in=len(rows),
        loaded=loaded,
        quarantined=len(filed),
        duplicates=0,
    )


def test_a_reject_filed_twice_raises_an_ops_alert_at_publish(home, monkeypatch, chaos):
    """reconcile() used to report nothing; now each disagreement is an ops_alerts row."""
    import shutil

    import duckdb

    from tests.warehouse.demo_fixtures import DEMO_END, DEMO_START
    from warehouse import pipeline

    filed = sorted(home.quarantine_root.glob("*/*/date=*/part-0.parquet"))
    if not filed:  # the demo has no reject: file one the way the old writer doubled it
        source = home.quarantine_root / "aws_focus" / "focus_cost_and_usage"
        pq_path = source / "date=2026-10-19" / "part-0.parquet"
        pq_path.parent.mkdir(parents=True)
        import pyarrow as pa
        import pyarrow.parquet as pq

        from landing.schemas import QUARANTINE

        pq.write_table(
            pa.Table.from_pylist(
                [
                    {
                        "source_name": "aws_focus",
                        "dataset": "focus_cost_and_usage",
                        "window_start": datetime(2026, 10, 19, tzinfo=UTC),
                        "window_end": datetime(2026, 10, 20, tzinfo=UTC),
                        "record_ref": "bill.csv:9",
                        "reason": "Tags is not valid JSON",
                        "raw_payload": None,
                    }
                ],
                schema=QUARANTINE,
            ),
            pq_path,
        )
        filed = [pq_path]
    twin = filed[0].parent.with_name("date=2026-10-20")
    twin.mkdir(exist_ok=True)
    shutil.copy(filed[0], twin / "part-0.parquet")
    next_file = home.build_dir / "next.duckdb"
    next_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(home.warehouse_file, next_file)
    monkeypatch.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)
    pipeline.publish(home, Window(DEMO_START, DEMO_END), str(next_file), "alerts")
    con = duckdb.connect(str(home.warehouse_file), read_only=True)
    try:
        alerts = con.execute(
            "select detail from ops_alerts where kind = 'quarantine_unreconciled'"
            " and run_id = 'alerts'"
        ).fetchall()
    finally:
        con.close()
    assert any("filed 2 times" in a[0] for a in alerts), alerts
    chaos(
        "quarantine",
        "a reject filed under two days, at publish",
        duplicates=1,
        published="yes, with an ops_alerts row",
    )
