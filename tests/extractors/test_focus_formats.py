"""FOCUS hardening: versions 1.0-1.3, fsspec URLs, several billing periods per export,
versioned exports (newest only) and whole-period replacement when a version changes."""

import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from extractors import run_source
from extractors.config import SourceConfig
from extractors.errors import SchemaDriftError
from extractors.focus import FocusExtractor, catalogue
from extractors.landing import land
from landing.schemas import FOCUS_COST_AND_USAGE
from landing.window import Window
from tests.extractors.test_focus import COLUMNS_12, row, write_csv

SOURCE = "aws_focus"
COLUMNS_10 = [c for c in COLUMNS_12 if c != "InvoiceId"] + ["InvoiceIssuerName"]
COLUMNS_11 = [*COLUMNS_10, "ServiceSubcategory", "SkuMeter"]
COLUMNS_13 = [c for c in COLUMNS_12 if c not in ("ProviderName", "PublisherName")] + [
    "ServiceProviderName",
    "HostProviderName",
    "InvoiceIssuerName",
]


def september(day: int, billed: str, **overrides) -> dict:
    return row(
        1,
        billed,
        BillingPeriodStart="2026-09-01T00:00:00Z",
        BillingPeriodEnd="2026-10-01T00:00:00Z",
        ChargePeriodStart=f"2026-09-{day:02d}T00:00:00Z",
        ChargePeriodEnd=f"2026-09-{day + 1:02d}T00:00:00Z",
        **overrides,
    )


def source(path, **options) -> SourceConfig:
    return SourceConfig(SOURCE, "focus", {"path": str(path), **options})


def run(tmp_path, path, start, end, **options):
    return run_source(
        source(path, **options),
        start,
        end,
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
    )


def run_planned(tmp_path, path, start, end, **options):
    """What run_source does, with the FOCUS extractor's window plan applied first."""
    extractor = FocusExtractor(source(path, **options), Window(start, end).with_lookback(3))
    extractor.window = extractor.plan_window(tmp_path / "landing")
    dataset = FOCUS_COST_AND_USAGE
    return extractor.window, land(
        extractor.extract(dataset),
        dataset=dataset,
        source=SOURCE,
        window=extractor.window,
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
        ignored_columns=extractor.ignored_columns.setdefault(dataset.name, set()),
        manifest_extra=extractor.manifest_extra.setdefault(dataset.name, {}),
    )


def landed(tmp_path) -> list[dict]:
    folder = tmp_path / "landing" / SOURCE / "focus_cost_and_usage"
    return ds.dataset(folder, format="parquet").to_table().to_pylist()


def by_day(rows) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for r in rows:
        day = r["charge_period_start"].date().isoformat()
        totals[day] = totals.get(day, Decimal(0)) + r["billed_cost"]
    return totals


@pytest.mark.parametrize(
    ("columns", "version", "extra"),
    [
        (COLUMNS_10, "1.0", {"InvoiceIssuerName": "AWS"}),
        (COLUMNS_11, "1.1", {"InvoiceIssuerName": "AWS", "ServiceSubcategory": "Virtual Machines"}),
        (COLUMNS_12, "1.2", {}),
        (
            COLUMNS_13,
            "1.3",
            {"ServiceProviderName": "AWS", "HostProviderName": "AWS", "InvoiceIssuerName": "AWS"},
        ),
    ],
)
def test_every_focus_version_lands_the_same_normalised_row(tmp_path, columns, version, extra):
    write_csv(tmp_path / "export" / "bill.csv", [row(4, "2.50", **extra)], columns=columns)
    run(tmp_path, tmp_path / "export", date(2026, 10, 4), date(2026, 10, 5))
    (landed_row,) = landed(tmp_path)
    assert landed_row["focus_version"] == version
    assert landed_row["provider_name"] == "AWS" and landed_row["billed_cost"] == Decimal("2.5")
    # 1.3 deprecates PublisherName: absent there, so null; present in 1.0-1.2.
    assert landed_row["publisher_name"] == (None if version == "1.3" else "AWS")


def _parquet_bytes(rows: list[dict]) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    return sink.getvalue().to_pybytes()


def test_memory_url_with_csv_gz_and_parquet_and_a_file_url(tmp_path):
    local = write_csv(tmp_path / "gz" / "bill.csv.gz", [row(4, "1.00"), row(5, "2.00")])
    memory = fsspec.filesystem("memory")
    memory.pipe("/exports/focus/a/bill.csv.gz", local.read_bytes())
    memory.pipe(
        "/exports/focus/b/bill.parquet",
        _parquet_bytes([{c: row(5, "4.00")[c] for c in COLUMNS_12}]),
    )
    try:
        summary = run(tmp_path, "memory://exports/focus", date(2026, 10, 4), date(2026, 10, 6))
    finally:
        memory.rm("/exports", recursive=True)
    assert summary["datasets"]["focus_cost_and_usage"]["rows_loaded"] == 3
    assert by_day(landed(tmp_path)) == {"2026-10-04": Decimal(1), "2026-10-05": Decimal(6)}
    refs = sorted(r["record_ref"] for r in landed(tmp_path))
    assert refs == ["a/bill.csv.gz:2", "a/bill.csv.gz:3", "b/bill.parquet:2"]

    other = tmp_path / "via_file_url"
    run(other, f"file://{tmp_path / 'gz'}", date(2026, 10, 4), date(2026, 10, 6))
    assert by_day(landed(other)) == {"2026-10-04": Decimal(1), "2026-10-05": Decimal(2)}


def test_one_export_may_carry_several_billing_periods(tmp_path):
    write_csv(
        tmp_path / "export" / "bill.csv",
        [september(28, "2.00"), september(29, "3.00"), row(1, "5.00"), row(2, "6.00")],
    )
    run(tmp_path, tmp_path / "export", date(2026, 10, 2), date(2026, 10, 3))  # from Sep 29
    assert by_day(landed(tmp_path)) == {
        "2026-09-29": Decimal(3),
        "2026-10-01": Decimal(5),
        "2026-10-02": Decimal(6),
    }
    manifest = json.loads(
        (tmp_path / "landing" / SOURCE / "focus_cost_and_usage" / "date=2026-10-01")
        .joinpath("_manifest.json")
        .read_text()
    )
    # Versions are recorded per billing period and export (an unversioned file is its own).
    assert manifest["export_versions"] == {
        "2026-09-01": {"bill.csv": "bill.csv"},
        "2026-10-01": {"bill.csv": "bill.csv"},
    }


def _set_mtime(path: Path, seconds: int) -> None:
    os.utime(path, (seconds, seconds))


def test_only_the_newest_export_version_of_a_period_is_read_by_file_time(tmp_path):
    folder = tmp_path / "export"
    old = write_csv(folder / "northwind-focus-2026-10-aaaaaa111111.csv", [row(4, "1.00")])
    new = write_csv(folder / "northwind-focus-2026-10-bbbbbb222222.csv", [row(4, "1.50")])
    _set_mtime(old, 2_000_000_000)  # the "older" id sorts first but was written later
    _set_mtime(new, 1_900_000_000)
    run(tmp_path, folder, date(2026, 10, 4), date(2026, 10, 5))
    (only,) = landed(tmp_path)
    assert (only["export_version"], only["billed_cost"]) == ("aaaaaa111111", Decimal(1))


def test_an_older_multi_period_export_gives_way_only_for_the_period_restated(tmp_path):
    folder = tmp_path / "export"
    both = write_csv(
        folder / "northwind-focus-2026-09-cccccc333333.csv",
        [september(29, "4.00"), row(1, "5.00")],
    )
    october = write_csv(folder / "northwind-focus-2026-10-dddddd444444.csv", [row(1, "7.00")])
    _set_mtime(both, 1_900_000_000)
    _set_mtime(october, 2_000_000_000)
    run(tmp_path, folder, date(2026, 10, 1), date(2026, 10, 2))  # from Sep 28
    assert by_day(landed(tmp_path)) == {"2026-09-29": Decimal(4), "2026-10-01": Decimal(7)}


def test_manifests_version_aws_and_azure_layouts(tmp_path):
    aws = tmp_path / "aws" / "focus-export"
    data = aws / "data" / "BILLING_PERIOD=2026-10"
    write_csv(data / "focus-export-00001.csv.gz", [row(4, "2.00")])
    (aws / "metadata" / "BILLING_PERIOD=2026-10").mkdir(parents=True)
    (aws / "metadata" / "BILLING_PERIOD=2026-10" / "focus-export-Manifest.json").write_text(
        json.dumps({"executionId": "exec-42", "exportName": "focus-export"})
    )
    azure = tmp_path / "azure" / "focuscost" / "20261001-20261031"
    for run_id, submitted, billed in [
        ("3f2b1c4d-0000-4000-8000-000000000001", "2026-10-05T06:00:00Z", "9.00"),
        ("3f2b1c4d-0000-4000-8000-000000000002", "2026-10-06T06:00:00Z", "9.50"),
    ]:
        write_csv(azure / run_id / "part_0_0001.csv", [row(4, billed, ProviderName="Microsoft")])
        (azure / run_id / "manifest.json").write_text(
            json.dumps({"runInfo": {"runId": run_id, "submittedTime": submitted}})
        )
    # The older Azure run was copied last: its file time must not win over the manifest.
    _set_mtime(azure / "3f2b1c4d-0000-4000-8000-000000000001" / "part_0_0001.csv", 2_100_000_000)
    fs = fsspec.filesystem("file")
    chosen = {f.version: f.selected for f in catalogue(fs, str(tmp_path))}
    assert chosen["exec-42"] and chosen["3f2b1c4d-0000-4000-8000-000000000002"]
    assert chosen["3f2b1c4d-0000-4000-8000-000000000001"] == set()
    run(tmp_path, tmp_path / "azure", date(2026, 10, 4), date(2026, 10, 5))
    (azure_row,) = landed(tmp_path)
    assert azure_row["billed_cost"] == Decimal("9.5")


def test_a_new_export_version_replaces_the_whole_billing_period(tmp_path):
    folder = tmp_path / "export"
    first = write_csv(
        folder / "northwind-focus-2026-10-eeeeee555555.csv",
        [row(d, "10.00") for d in range(1, 21)],
    )
    # Backfill Oct 1-20 from the first delivery.
    run(tmp_path, folder, date(2026, 10, 4), date(2026, 10, 21))
    assert sum(by_day(landed(tmp_path)).values()) == Decimal(200)

    # The same delivery again: nothing changed, so the plan keeps the lookback window.
    window, _ = run_planned(tmp_path, folder, date(2026, 10, 20), date(2026, 10, 21))
    assert window == Window(date(2026, 10, 17), date(2026, 10, 21))

    # The provider restates Oct 2 (a credit) in a new delivery that replaces the old one.
    first.unlink()
    restated = [row(d, "10.00") for d in range(1, 21)] + [row(2, "-3.00", ChargeCategory="Credit")]
    write_csv(folder / "northwind-focus-2026-10-ffffff666666.csv", restated)
    window, result = run_planned(tmp_path, folder, date(2026, 10, 20), date(2026, 10, 21))
    # Oct 2 is far outside the 3-day lookback, yet the whole period was re-landed.
    assert window == Window(date(2026, 10, 1), date(2026, 11, 1))
    assert result.rows_loaded == 21
    totals = by_day(landed(tmp_path))
    assert totals["2026-10-02"] == Decimal(7) and sum(totals.values()) == Decimal(197)
    assert {r["export_version"] for r in landed(tmp_path)} == {"ffffff666666"}
    manifest = json.loads(
        (tmp_path / "landing" / SOURCE / "focus_cost_and_usage" / "date=2026-10-02")
        .joinpath("_manifest.json")
        .read_text()
    )
    assert manifest["export_versions"] == {"2026-10-01": {"northwind-focus": "ffffff666666"}}


def test_a_period_the_run_does_not_touch_is_left_for_a_backfill(tmp_path):
    folder = tmp_path / "export"
    write_csv(folder / "northwind-focus-2026-09-111111aaaaaa.csv", [september(10, "1.00")])
    run(tmp_path, folder, date(2026, 9, 10), date(2026, 9, 11))
    for old in folder.iterdir():
        old.unlink()
    write_csv(folder / "northwind-focus-2026-09-222222bbbbbb.csv", [september(10, "2.00")])
    write_csv(folder / "northwind-focus-2026-10-333333cccccc.csv", [row(20, "5.00")])
    window, _ = run_planned(tmp_path, folder, date(2026, 10, 20), date(2026, 10, 21))
    assert window == Window(date(2026, 10, 17), date(2026, 10, 21))
    assert by_day(landed(tmp_path))["2026-09-10"] == Decimal(1)


def test_a_provider_export_that_is_not_focus_is_a_clear_error(tmp_path):
    cur = tmp_path / "cur" / "cur.csv"
    cur.parent.mkdir()
    cur.write_text(
        "identity/LineItemId,lineItem/UsageStartDate,lineItem/UnblendedCost\n"
        "abc,2026-10-04T00:00:00Z,0.01\n"
    )
    with pytest.raises(SchemaDriftError, match=r"record=cur.csv\] not a FOCUS export"):
        run(tmp_path, cur.parent, date(2026, 10, 4), date(2026, 10, 5))


from tests.conftest import REALDATA  # noqa: E402  (honours COSTBRIDGE_REALDATA in a worktree)

needs_realdata = pytest.mark.skipif(
    not REALDATA.is_dir(), reason=f"real data folder {REALDATA} is absent (fresh clone)"
)


@needs_realdata
def test_focus_spec_ai_token_billing_examples_land_as_focus_13(tmp_path):
    import csv

    folder = REALDATA / "focus_spec_ai_billing_examples"
    expected = Decimal(0)
    for path in folder.glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            expected += sum(Decimal(r["BilledCost"]) for r in csv.DictReader(handle))
    # PrincipalId is a draft column of a later FOCUS version: let through and recorded.
    summary = run(
        tmp_path,
        folder,
        date(2025, 1, 1),
        date(2025, 6, 1),
        allow_added_columns=True,
        lookback_days=0,
    )
    counts = summary["datasets"]["focus_cost_and_usage"]
    assert counts["rows_quarantined"] == 0 and counts["ignored_columns"] == ["PrincipalId"]
    rows = landed(tmp_path)
    assert len(rows) == counts["rows_loaded"] == 6
    assert sum(r["billed_cost"] for r in rows) == expected
    assert {(r["focus_version"], r["provider_name"]) for r in rows} == {("1.3", "Solora AI")}


@needs_realdata
@pytest.mark.parametrize(
    "path",
    [
        "focus_converters_provider_exports/aws_cur_legacy_sample-anonymous-aws-export-dataset.csv",
        "focus_converters_provider_exports/oci_reports_cost-csv_0000000030000269.csv",
        "focus_converters_provider_exports/azure_ea_sample-anonymous-ea-export-dataset.csv",
        "ms_finops_toolkit_azure_ea_and_open_data/EA_ActualCost_Small.csv",
        "ms_finops_toolkit_azure_ea_and_open_data/EA_AmortizedCost_Small.csv",
    ],
)
def test_raw_provider_exports_are_refused_as_not_focus(tmp_path, path):
    # These are the providers' own formats (AWS CUR, OCI cost report, Azure EA), the
    # INPUT of the FinOps Foundation's converters, not FOCUS: the extractor says so.
    with pytest.raises(SchemaDriftError, match=r"not a FOCUS export.*focus_converters"):
        run(tmp_path, REALDATA / path, date(2023, 9, 1), date(2023, 12, 1), lookback_days=0)
