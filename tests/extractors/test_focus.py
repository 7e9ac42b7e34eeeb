"""The FOCUS extractor on export files built here in the real formats, and on the sandbox's."""

import csv
import gzip
import io
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from extractors import run_source
from extractors.config import SourceConfig
from extractors.errors import FatalSourceError, SchemaDriftError
from sandbox import files
from sandbox import focus as sandbox_focus
from sandbox.org import DemoOrg
from tests.extractors.conftest import landed_days

COLUMNS_12 = [
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "EffectiveCost",
    "InvoiceId",
    "ListCost",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "Tags",
    "x_ServiceCode",
]


def row(day: int, billed: str, **overrides) -> dict:
    values = {
        "BilledCost": billed,
        "BillingAccountId": "111122223333",
        "BillingAccountName": "Northwind",
        "BillingCurrency": "USD",
        "BillingPeriodEnd": "2026-11-01T00:00:00Z",
        "BillingPeriodStart": "2026-10-01T00:00:00Z",
        "ChargeCategory": "Usage",
        "ChargeDescription": "p4d.24xlarge hours",
        "ChargePeriodEnd": f"2026-10-{day + 1:02d}T00:00:00Z",
        "ChargePeriodStart": f"2026-10-{day:02d}T00:00:00Z",
        "EffectiveCost": billed,
        "InvoiceId": "NULL",
        "ListCost": billed,
        "ProviderName": "AWS",
        "PublisherName": "AWS",
        "ServiceCategory": "Compute",
        "ServiceName": "Amazon EC2",
        "Tags": json.dumps({"team": "ml-platform"}),
        "x_ServiceCode": "AmazonEC2",
    }
    return values | overrides


def write_csv(path: Path, rows: list[dict], columns=COLUMNS_12, bom=True) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"
    )
    writer.writeheader()
    for r in rows:
        writer.writerow({c: r.get(c, "NULL") for c in columns})
    data = (("\ufeff" if bom else "") + buffer.getvalue()).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def run(tmp_path, folder, start=date(2026, 10, 4), end=date(2026, 10, 6), **options):
    src = SourceConfig("aws_focus", "focus", {"path": str(folder), **options})
    return run_source(
        src, start, end, landing_root=tmp_path / "landing", quarantine_root=tmp_path / "quarantine"
    )


def landed(tmp_path):
    return ds.dataset(
        tmp_path / "landing" / "aws_focus" / "focus_cost_and_usage", format="parquet"
    ).to_table()


@pytest.mark.parametrize("name", ["export-2026-10-a1b2c3d4.csv", "export-2026-10-a1b2c3d4.csv.gz"])
def test_csv_export_lands_rows_of_the_window_with_nulls_tags_and_lineage(tmp_path, name):
    rows = [row(1, "9.99"), row(2, "1.25"), row(4, "2.50"), row(5, "0.000001"), row(9, "7.00")]
    write_csv(tmp_path / "export" / name, rows)
    summary = run(tmp_path, tmp_path / "export")  # window Oct 4-5 plus 3 days back: Oct 1-5
    counts = summary["datasets"]["focus_cost_and_usage"]
    assert (counts["rows_loaded"], counts["rows_quarantined"]) == (4, 0)  # Oct 9 is not selected
    table = landed(tmp_path).sort_by("record_ref")
    assert sum(table.column("billed_cost").to_pylist()) == Decimal("13.740001")
    first = table.to_pylist()[0]
    assert first["record_ref"] == f"{name}:2"  # line 1 is the header
    assert first["invoice_issuer_name"] is None and first["focus_version"] == "1.2"
    assert first["export_version"] == "a1b2c3d4"
    assert json.loads(first["tags"]) == {"team": "ml-platform"}
    assert str(first["charge_period_start"]) == "2026-10-01 00:00:00+00:00"


def test_bad_rows_are_quarantined_with_reason_and_line(tmp_path):
    write_csv(
        tmp_path / "export" / "bill.csv",
        [
            row(4, "1.00"),
            row(4, "abc"),
            row(5, "2.00", BillingCurrency="NULL"),
            row(5, "3.00", Tags="{not json"),
            row(5, "4.00", ChargePeriodStart="05/10/2026"),
        ],
    )
    counts = run(tmp_path, tmp_path / "export")["datasets"]["focus_cost_and_usage"]
    assert (counts["rows_loaded"], counts["rows_quarantined"]) == (1, 4)
    rejected = (
        ds.dataset(tmp_path / "quarantine" / "aws_focus", format="parquet").to_table().to_pylist()
    )
    reasons = {r["record_ref"]: r["reason"] for r in rejected}
    assert reasons == {
        "bill.csv:3": "billed_cost: unparseable number 'abc'",
        "bill.csv:4": "missing required field billing_currency",
        "bill.csv:5": "Tags is not valid JSON",
        "bill.csv:6": "charge_period_start: unparseable timestamp '05/10/2026'",
    }


def test_focus_13_service_provider_name_wins_over_the_deprecated_provider_name(tmp_path):
    columns = [*COLUMNS_12, "ServiceProviderName", "HostProviderName"]
    write_csv(
        tmp_path / "export" / "bill.csv",
        [
            row(
                4,
                "1.00",
                ServiceProviderName="Anthropic",
                ProviderName="AWS",
                HostProviderName="AWS",
            )
        ],
        columns=columns,
    )
    run(tmp_path, tmp_path / "export")
    landed_row = landed(tmp_path).to_pylist()[0]
    assert landed_row["provider_name"] == "Anthropic" and landed_row["focus_version"] == "1.3"


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (
            [*COLUMNS_12, "DiscountBucket"],
            r"unexpected columns \['DiscountBucket'\]; set the source option",
        ),
        (
            [c if c != "BilledCost" else "BilledCostUSD" for c in COLUMNS_12],
            r"missing columns \['BilledCost'\] and unexpected columns \['BilledCostUSD'\] "
            r"\(a renamed column\?\)",
        ),
        ([c for c in COLUMNS_12 if c != "EffectiveCost"], r"missing columns \['EffectiveCost'\]"),
    ],
)
def test_schema_drift_is_a_clear_error_naming_the_file(tmp_path, columns, message):
    write_csv(tmp_path / "export" / "bill.csv", [row(4, "1.00")], columns=columns)
    with pytest.raises(SchemaDriftError, match=message) as caught:
        run(tmp_path, tmp_path / "export")
    assert "source=aws_focus" in str(caught.value) and "record=bill.csv" in str(caught.value)


def test_added_columns_are_let_through_when_allowed_and_recorded(tmp_path):
    write_csv(
        tmp_path / "export" / "bill.csv", [row(4, "1.00")], columns=[*COLUMNS_12, "DiscountBucket"]
    )
    summary = run(tmp_path, tmp_path / "export", allow_added_columns=True)
    assert summary["datasets"]["focus_cost_and_usage"]["ignored_columns"] == ["DiscountBucket"]
    assert landed(tmp_path).num_rows == 1


def test_a_missing_export_folder_is_fatal(tmp_path):
    with pytest.raises(FatalSourceError, match="export folder does not exist"):
        run(tmp_path, tmp_path / "nowhere")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_sandbox_export_lands_to_the_cent_and_a_rerun_does_not_double(tmp_path, fmt):
    org = DemoOrg.load()
    written = files.write_focus_export(
        org, tmp_path / "focus", date(2026, 10, 1), date(2026, 10, 12), fmt=fmt
    )
    run(tmp_path, tmp_path / "focus", start=date(2026, 10, 8), end=date(2026, 10, 11))
    run(tmp_path, tmp_path / "focus", start=date(2026, 10, 8), end=date(2026, 10, 11))
    expected = [r for d in range(5, 11) for r in sandbox_focus.focus_rows(org, date(2026, 10, d))]
    table = landed(tmp_path)
    assert table.num_rows == len(expected)
    total = sum(table.column("billed_cost").to_pylist())
    assert abs(total - sum(Decimal(str(r["BilledCost"])) for r in expected)) < Decimal("0.005")
    assert set(table.column("export_version").to_pylist()) == {
        written[0].name.split("-")[-1].split(".")[0]
    }
    assert not list((tmp_path / "quarantine").rglob("*.parquet"))
    manifests = list((tmp_path / "landing").rglob("_manifest.json"))
    assert len(manifests) == 6  # Oct 5 to 10: one per window day


def test_parquet_dates_and_map_tags(tmp_path):
    import pyarrow as pa

    table = pa.table({c: [row(4, "1.00")[c]] for c in COLUMNS_12}).set_column(
        COLUMNS_12.index("Tags"),
        "Tags",
        pa.array([[("team", "search")]], pa.map_(pa.string(), pa.string())),
    )
    (tmp_path / "export").mkdir()
    pq.write_table(table, tmp_path / "export" / "bill.parquet")
    run(tmp_path, tmp_path / "export")
    assert json.loads(landed(tmp_path).column("tags")[0].as_py()) == {"team": "search"}


def test_invoice_id_and_token_sku_columns_land_where_the_export_has_them(tmp_path):
    details = '{"ModelId": "m-1", "TokenDirection": "Output"}'
    rows = [row(1, "9.99", InvoiceId="INV-202610-1"), row(2, "1.25")]
    columns = [*COLUMNS_12, "SkuMeter", "SkuPriceDetails"]
    rows = [{**r, "SkuMeter": "Output Tokens", "SkuPriceDetails": details} for r in rows]
    write_csv(tmp_path / "export" / "export-2026-10-a1b2c3d4.csv", rows, columns=columns)
    run(tmp_path, tmp_path / "export")
    landed_rows = landed(tmp_path).sort_by("record_ref").to_pylist()
    assert [r["invoice_id"] for r in landed_rows] == ["INV-202610-1", None]
    assert landed_rows[0]["sku_meter"] == "Output Tokens"
    assert json.loads(landed_rows[0]["sku_price_details"]) == json.loads(details)


def _cut(path: Path, keep) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: keep(data)])


def _write_parquet(path: Path) -> Path:
    import pyarrow as pa

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({c: [row(4, "1.00")[c]] for c in COLUMNS_12}), path)
    return path


def _zero(folder: Path, name: str) -> None:
    folder.mkdir(parents=True)
    (folder / name).write_bytes(b"")


def _latin1(folder: Path, name: str) -> None:
    rows = [row(4, "1.00"), row(4, "2.00", ChargeDescription="café"), row(5, "3.00")]
    path = write_csv(folder / name.removesuffix(".gz"), rows)
    data = path.read_bytes().replace("café".encode(), b"caf\xe9")
    path.unlink()
    (folder / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)


def _cut_quote(folder: Path, name: str) -> None:
    path = write_csv(folder / name, [row(4, "1.00"), row(5, "2.00")])
    _cut(path, lambda d: d.rfind(b'"team') + 3)


def _cut_quote_last(folder: Path, name: str) -> None:
    # Tags last: pyarrow reads the cut quote as a short, well-formed-looking last value.
    columns = [c for c in COLUMNS_12 if c != "Tags"] + ["Tags"]
    path = write_csv(folder / name, [row(4, "1.00"), row(5, "2.00")], columns=columns)
    _cut(path, lambda d: d.rfind(b'"team') + 3)


def _truncated_gzip(folder: Path, name: str) -> None:
    rows = [row(4, f"{i}.00", ChargeDescription=f"hours {i * 7919 % 10007}") for i in range(400)]
    _cut(write_csv(folder / name, rows), lambda d: len(d) // 2)


@pytest.mark.parametrize(
    ("name", "make", "record", "cause"),
    [
        ("bill.csv", _zero, "bill.csv", "0 bytes"),
        ("bill.csv.gz", _zero, "bill.csv.gz", "0 bytes"),
        ("bill.parquet", _zero, "bill.parquet", "0 bytes"),
        (
            "bill.parquet",
            lambda f, n: _cut(_write_parquet(f / n), lambda d: len(d) - 12),
            "bill.parquet",
            "not a Parquet file, or a truncated one",
        ),
        ("bill.csv.gz", _truncated_gzip, r"bill.csv.gz:\d{2,}", "truncated gzip"),
        ("bill.csv", _latin1, "bill.csv:3", r"byte 0xe9 at byte offset \d+ is not UTF-8"),
        ("bill.csv.gz", _latin1, "bill.csv.gz:3", "byte 0xe9 at byte offset"),
        ("bill.csv", _cut_quote, "bill.csv:3", "ends inside a quoted field that starts on line 3"),
        ("bill.csv", _cut_quote_last, "bill.csv:3", "ends inside a quoted field that starts on"),
    ],
)
def test_an_unreadable_file_is_named_with_its_line_and_cause(tmp_path, name, make, record, cause):
    make(tmp_path / "export" / "2026-10", name)
    with pytest.raises(FatalSourceError) as caught:
        run(tmp_path, tmp_path / "export")
    assert caught.value.record is not None
    assert re.fullmatch(f"2026-10/{record}", caught.value.record), caught.value
    assert re.search(cause, caught.value.detail), caught.value
    assert not landed_days(tmp_path / "landing" / "aws_focus")  # nothing landed


def test_a_bare_quote_inside_an_unquoted_field_is_data_not_a_cut_file(tmp_path):
    path = write_csv(tmp_path / "export" / "bill.csv", [row(4, "1.00", ChargeDescription="x")])
    path.write_bytes(path.read_bytes().replace(b",x,", b',12" pipe,'))  # an odd quote count
    summary = run(tmp_path, tmp_path / "export")
    assert summary["datasets"]["focus_cost_and_usage"]["rows_loaded"] == 1
    assert landed(tmp_path).column("charge_description").to_pylist() == ['12" pipe']
