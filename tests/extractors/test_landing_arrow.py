"""The landing writer's bulk path: Arrow batches checked column-wise, not row by row."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from extractors.landing import Reject, land
from landing.layout import partition_dir
from landing.schemas import VALUE_FEATURE_KPIS
from landing.window import Window
from warehouse.quarantine import quarantine_table

WINDOW = Window.parse("2026-10-01", "2026-10-03")


def kpis(*rows):
    refs, features, days = zip(*rows, strict=True)
    n = len(rows)
    return pa.table(
        {
            "record_ref": pa.array(refs, pa.string()),
            "feature_id": pa.array(features, pa.string()),
            "currency": pa.array(["USD"] * n),
            "active_users": pa.array([5] * n, pa.int64()),
            "conversions": pa.array([1] * n, pa.int64()),
            "revenue": pa.array([1] * n, pa.decimal128(38, 12)),
            "kpi_at": pa.array(days, pa.timestamp("us", tz="UTC")),
        }
    )


def test_arrow_batches_land_by_day_and_bad_rows_go_to_quarantine(tmp_path):
    day1, day2 = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, 6, tzinfo=UTC)
    batches = [
        kpis(("a", "chat", day1), ("b", "chat", day2), ("c", None, day2)),
        Reject("x", "unmappable"),
        kpis(("d", "search", datetime(2026, 10, 3, tzinfo=UTC)), ("e", "search", day1)),
    ]
    result = land(
        batches,
        dataset=VALUE_FEATURE_KPIS,
        source="kpi",
        window=WINDOW,
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
    )
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (6, 3, 3)

    def day(root, d):
        folder = partition_dir(tmp_path / root, "kpi", VALUE_FEATURE_KPIS.name, d)
        return pq.read_table(folder / "part-0.parquet")

    first = day("landing", date(2026, 10, 1))
    assert first.schema.equals(VALUE_FEATURE_KPIS.schema)
    assert sorted(first.column("record_ref").to_pylist()) == ["a", "e"]
    assert first.column("source_name").to_pylist() == ["kpi", "kpi"]
    assert day("landing", date(2026, 10, 2)).column("record_ref").to_pylist() == ["b"]
    reasons = {
        r["record_ref"]: (r["partition_date"], r["reason"])
        for r in quarantine_table(tmp_path / "quarantine").to_pylist()
    }
    assert reasons == {
        "c": (date(2026, 10, 2), "missing required field feature_id"),
        "x": (date(2026, 10, 1), "unmappable"),
        "d": (
            date(2026, 10, 2),
            "outside window: kpi_at=2026-10-03T00:00:00.000000 not in [2026-10-01, 2026-10-03)",
        ),
    }


def test_nul_and_control_bytes_are_quarantined_alike_row_wise_and_in_bulk(tmp_path):
    # PostgreSQL's text cannot hold NUL: the COPY of a published day failed on it.
    day = datetime(2026, 10, 1, tzinfo=UTC)
    values = [("nul", "chat\x00bot"), ("esc", "chat\x1b[0m"), ("ok", "chat\tbot\r\nline 2")]
    reasons = {}
    for path, records in (
        ("bulk", [kpis(*[(ref, feature, day) for ref, feature in values])]),
        ("rows", [r for r in kpis(*[(ref, f, day) for ref, f in values]).to_pylist()]),
    ):
        result = land(
            records,
            dataset=VALUE_FEATURE_KPIS,
            source="kpi",
            window=WINDOW,
            landing_root=tmp_path / path / "landing",
            quarantine_root=tmp_path / path / "quarantine",
        )
        assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
        root = tmp_path / path
        folder = partition_dir(root / "quarantine", "kpi", VALUE_FEATURE_KPIS.name, day.date())
        rows = pq.read_table(folder / "part-0.parquet").to_pylist()
        reasons[path] = {r["record_ref"]: r["reason"] for r in rows}
        landed = partition_dir(root / "landing", "kpi", VALUE_FEATURE_KPIS.name, day.date())
        assert pq.read_table(landed / "part-0.parquet").column("feature_id").to_pylist() == [
            "chat\tbot\r\nline 2"  # tab, newline and CR are data
        ]
    assert (
        reasons["bulk"]
        == reasons["rows"]
        == {
            "nul": "column feature_id holds a NUL byte (\\x00), which PostgreSQL cannot store",
            "esc": "column feature_id holds a C0 control character (other than tab, newline and "
            "carriage return), which is corruption, not text",
        }
    )
