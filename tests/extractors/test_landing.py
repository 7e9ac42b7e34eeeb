import json
from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pyarrow.parquet as pq
import pytest

from extractors.landing import Reject, land
from landing.layout import ensure_schema_files, partition_dir
from landing.schemas import DATASETS, OPENAI_USAGE_COMPLETIONS, VALUE_FEATURE_KPIS
from landing.window import Window
from warehouse.quarantine import quarantine_table, reconcile

WINDOW = Window.parse("2026-10-01", "2026-10-04")


def usage(day: int, ref: str, **overrides):
    row = {
        "record_ref": ref,
        "project_id": "proj_a",
        "user_id": None,
        "api_key_id": "key_1",
        "model": "gpt-4o-mini",
        "is_batch": False,
        "input_tokens": 100,
        "input_cached_tokens": 20,
        "output_tokens": 10,
        "input_audio_tokens": 0,
        "output_audio_tokens": 0,
        "num_model_requests": 2,
        "bucket_start_at": datetime(2026, 10, day, tzinfo=UTC),
        "bucket_end_at": datetime(2026, 10, day + 1, tzinfo=UTC),
    }
    return row | overrides


def run(tmp_path, records, window=WINDOW, dataset=OPENAI_USAGE_COMPLETIONS, **kw):
    return land(
        records,
        dataset=dataset,
        source="openai",
        window=window,
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
        **kw,
    )


def read_day(root, day, dataset=OPENAI_USAGE_COMPLETIONS):
    return pq.read_table(partition_dir(root, "openai", dataset.name, day) / "part-0.parquet")


def test_good_rows_land_in_their_day_and_every_window_day_gets_a_partition(tmp_path):
    result = run(tmp_path, [usage(1, "a"), usage(1, "b"), usage(3, "c")])
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 3, 0)
    landing = tmp_path / "landing"
    assert [read_day(landing, date(2026, 10, d)).num_rows for d in (1, 2, 3)] == [2, 0, 1]
    table = read_day(landing, date(2026, 10, 1))
    assert table.schema.equals(OPENAI_USAGE_COMPLETIONS.schema)  # exactly the declared schema
    assert table.column("source_name").to_pylist() == ["openai", "openai"]
    manifest = json.loads(
        (
            partition_dir(landing, "openai", OPENAI_USAGE_COMPLETIONS.name, date(2026, 10, 1))
            / "_manifest.json"
        ).read_text()
    )
    assert manifest["rows_loaded"] == 2 and manifest["schema_version"] == 1
    assert manifest["window_start"] == "2026-10-01T00:00:00+00:00"
    assert manifest["files"][0]["rows"] == 2 and len(manifest["files"][0]["sha256"]) == 64
    assert not (landing / "openai" / "_staging").exists()


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"input_tokens": -5}, "input_tokens: negative count -5"),
        ({"output_tokens": "12.5"}, "output_tokens: not an integer"),
        ({"num_model_requests": None}, "missing required field num_model_requests"),
        ({"bucket_start_at": "yesterday"}, "bucket_start_at: unparseable timestamp 'yesterday'"),
        ({"is_batch": "maybe"}, "is_batch: not a boolean"),
    ],
)
def test_rows_that_do_not_fit_go_to_quarantine_with_reason(tmp_path, override, reason):
    result = run(tmp_path, [usage(1, "good"), usage(2, "bad", **override)])
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    (row,) = quarantine_table(tmp_path / "quarantine").to_pylist()
    assert row["record_ref"] == "bad" and reason in row["reason"]
    assert json.loads(row["raw_payload"])["record_ref"] == "bad"
    # Filed under the day the row is for; only a row whose own day does not parse
    # falls back to the window's first day.
    unparseable = "bucket_start_at" in override
    assert row["partition_date"] == date(2026, 10, 1 if unparseable else 2)


def test_rows_outside_the_window_are_quarantined_not_landed(tmp_path):
    result = run(tmp_path, [usage(1, "in"), usage(5, "late")])
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    (row,) = quarantine_table(tmp_path / "quarantine").to_pylist()
    assert row["reason"].startswith("outside window: bucket_start_at=2026-10-05")
    assert row["partition_date"] == date(2026, 10, 3)  # the window day nearest its own


def test_a_reject_reread_by_the_next_windows_lookback_is_filed_once(tmp_path):
    """Three daily runs with a 2-day lookback all re-read one bad row of Oct 2."""
    for last_day in (2, 3, 4):
        window = Window(date(2026, 10, max(1, last_day - 2)), date(2026, 10, last_day + 1))
        run(tmp_path, [usage(2, "bad", input_tokens=-5)], window=window)
    rows = quarantine_table(tmp_path / "quarantine").to_pylist()
    assert [(r["record_ref"], r["partition_date"]) for r in rows] == [("bad", date(2026, 10, 2))]
    assert reconcile(tmp_path / "landing", tmp_path / "quarantine") == []


def test_reject_markers_are_counted_and_quarantined(tmp_path):
    result = run(tmp_path, [Reject("page 1 bucket 0", "result is not an object", ["x"])])
    assert (result.rows_in, result.rows_quarantined) == (1, 1)


def test_a_restated_day_is_replaced_not_doubled_and_an_emptied_day_is_cleared(tmp_path):
    run(tmp_path, [usage(1, "a"), usage(2, "b"), usage(2, "c", input_tokens=-1)])
    landing, quarantine = tmp_path / "landing", tmp_path / "quarantine"
    # The provider restates: day 1 now has other numbers, day 2 has nothing any more.
    run(
        tmp_path, [usage(1, "a", input_tokens=999)], window=Window.parse("2026-10-01", "2026-10-03")
    )
    assert read_day(landing, date(2026, 10, 1)).column("input_tokens").to_pylist() == [999]
    assert read_day(landing, date(2026, 10, 2)).num_rows == 0
    assert read_day(landing, date(2026, 10, 3)).num_rows == 0  # outside the second run: untouched
    # The first run's reject is gone with the re-extracted day.
    assert not partition_dir(
        quarantine, "openai", OPENAI_USAGE_COMPLETIONS.name, date(2026, 10, 1)
    ).exists()
    total = duckdb.sql(
        f"select count(*) from read_parquet('{landing}/*/{OPENAI_USAGE_COMPLETIONS.name}"
        "/*/*.parquet')"
    ).fetchall()[0][0]
    assert total == 1


def test_a_failure_while_extracting_leaves_the_landed_days_untouched(tmp_path):
    run(tmp_path, [usage(1, "a")])

    def broken():
        yield usage(1, "new")
        raise RuntimeError("connection lost mid-way")

    with pytest.raises(RuntimeError):
        run(tmp_path, broken())
    assert read_day(tmp_path / "landing", date(2026, 10, 1)).column("record_ref").to_pylist() == [
        "a"
    ]
    assert not (tmp_path / "landing" / "openai" / "_staging").exists()


def test_money_and_currency_are_coerced_to_the_declared_types(tmp_path):
    rows = [
        {
            "record_ref": "f:2",
            "feature_id": "search",
            "currency": "usd",
            "active_users": "10",
            "conversions": 1,
            "revenue": "12.345",
            "kpi_at": "2026-10-01",
        },
        {
            "record_ref": "f:3",
            "feature_id": "chat",
            "currency": "dollars",
            "active_users": 1,
            "conversions": 1,
            "revenue": "1",
            "kpi_at": "2026-10-01",
        },
        {
            "record_ref": "f:4",
            "feature_id": "chat",
            "currency": "USD",
            "active_users": 1,
            "conversions": 1,
            "revenue": "NaN",
            "kpi_at": "2026-10-01",
        },
    ]
    result = run(tmp_path, rows, dataset=VALUE_FEATURE_KPIS)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 2)
    landed = read_day(tmp_path / "landing", date(2026, 10, 1), VALUE_FEATURE_KPIS).to_pylist()[0]
    assert landed["currency"] == "USD" and landed["revenue"] == Decimal("12.345")
    assert landed["kpi_at"] == datetime(2026, 10, 1, tzinfo=UTC)
    reasons = (
        pq.read_table(
            partition_dir(
                tmp_path / "quarantine", "openai", VALUE_FEATURE_KPIS.name, date(2026, 10, 1)
            )
        )
        .column("reason")
        .to_pylist()
    )
    assert any("not an ISO 4217 currency code" in r for r in reasons)
    assert any("revenue: not a finite number" in r for r in reasons)


def test_schema_files_let_duckdb_read_a_glob_before_anything_landed(tmp_path):
    ensure_schema_files(tmp_path)
    for name, dataset in DATASETS.items():
        relation = duckdb.sql(f"select * from read_parquet('{tmp_path}/*/{name}/*/*.parquet')")
        assert relation.columns == dataset.schema.names
        assert relation.fetchall() == []


def test_the_quarantine_folder_exists_after_a_clean_extraction(tmp_path):
    # The README sends readers to quarantine/: it is there, empty, when nothing was rejected.
    result = run(tmp_path, [usage(1, "r1")])
    assert result.rows_quarantined == 0
    assert (tmp_path / "quarantine").is_dir()
    assert list((tmp_path / "quarantine").rglob("*.parquet")) == []
