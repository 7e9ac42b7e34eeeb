"""File outputs: FOCUS export, value KPI drops, OpenMetrics, and the CLI."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sandbox import files, focus
from sandbox.__main__ import main

REALDATA = Path(__file__).parents[2].parent / "shared" / "realdata"
FOCUS_12_MANDATORY = {
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ServiceCategory",
    "ServiceName",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "BillingAccountId",
    "BillingAccountName",
    "SubAccountId",
    "SubAccountName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "SkuId",
    "SkuPriceId",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "CommitmentDiscountId",
    "CommitmentDiscountType",
    "AvailabilityZone",
    "Tags",
}


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_focus_export_one_file_per_month_with_mandatory_columns(org, tmp_path):
    paths = files.write_focus_export(org, tmp_path, date(2026, 9, 29), date(2026, 10, 3))
    assert [p.name.split("-")[2:4] for p in paths] == [["2026", "09"], ["2026", "10"]]
    september = _read(paths[0])
    assert FOCUS_12_MANDATORY <= set(september[0])
    # Sep 30 is the month end: its Tax and Credit lines are in the export.
    assert {r["ChargeCategory"] for r in september} == {"Usage", "Tax", "Credit"}
    assert {r["ChargePeriodStart"] for r in september} == {
        "2026-09-29T00:00:00Z",
        "2026-09-30T00:00:00Z",
    }
    assert "NULL" in {r["CommitmentDiscountId"] for r in september}
    total = sum(Decimal(r["BilledCost"]) for p in paths for r in _read(p))
    expected = sum(
        r["BilledCost"]
        for d in (date(2026, 9, 29), date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 2))
        for r in focus.focus_rows(org, d)
    )
    assert total == expected


def test_restated_month_replaces_the_older_export(org, tmp_path):
    first = files.write_focus_export(org, tmp_path, date(2026, 10, 2), date(2026, 10, 4))
    again = files.write_focus_export(org, tmp_path, date(2026, 10, 2), date(2026, 10, 4))
    assert first == again  # same content, same export id
    longer = files.write_focus_export(org, tmp_path, date(2026, 10, 2), date(2026, 10, 6))
    assert longer != first
    assert sorted(tmp_path.iterdir()) == longer


def test_focus_parquet_export(org, tmp_path):
    [path] = files.write_focus_export(
        org, tmp_path, date(2026, 10, 2), date(2026, 10, 3), fmt="parquet"
    )
    table = pq.read_table(path)
    assert set(table.column_names) == set(focus.COLUMNS)
    assert table.num_rows == len(focus.focus_rows(org, date(2026, 10, 2)))
    with pytest.raises(ValueError, match="csv or parquet"):
        files.write_focus_export(org, tmp_path, date(2026, 10, 2), date(2026, 10, 3), fmt="xls")


def test_value_kpi_drop_per_day(org, tmp_path):
    paths = files.write_value_kpis(org, tmp_path, date(2026, 10, 19), date(2026, 10, 22))
    assert [p.name for p in paths] == [f"feature_kpis_2026-10-{d}.csv" for d in (19, 20, 21)]
    rows = _read(paths[1])
    assert list(rows[0]) == [
        "date",
        "feature_id",
        "active_users",
        "conversions",
        "revenue",
        "currency",
    ]
    assert {r["feature_id"] for r in rows} == set(org.features)
    assert all(r["date"] == "2026-10-20" and r["currency"] == "USD" for r in rows)


def test_openmetrics_file(org, tmp_path):
    path = files.write_openmetrics(
        org, tmp_path / "dcgm.om", date(2026, 10, 2), date(2026, 10, 3), step_seconds=900
    )
    lines = path.read_text().splitlines()
    assert lines[-1] == "# EOF"
    samples = [line for line in lines if not line.startswith("#")]
    # GPUs x metrics x samples in the day, then kube_node_info of the 3 nodes.
    assert len(samples) == 16 * 4 * 96 + 3 * 96
    assert sum(line.startswith("# TYPE ") for line in lines) == 4 + 1
    assert sum(line.startswith("kube_node_info{node=") for line in samples) == 3 * 96
    stamps = [int(line.rsplit(" ", 1)[1]) for line in samples]
    assert min(stamps) == 1790899200 and max(stamps) == 1790899200 + 86400 - 900


def test_cli_files(tmp_path, capsys):
    assert (
        main(
            [
                "files",
                "--out",
                str(tmp_path),
                "--start",
                "2026-10-02",
                "--end",
                "2026-10-04",
                "--step",
                "3600",
            ]
        )
        == 0
    )
    assert len(list((tmp_path / "focus").glob("*.csv"))) == 1
    assert len(list((tmp_path / "value").glob("*.csv"))) == 2
    assert (tmp_path / "prometheus" / "dcgm.om").exists()
    assert (
        main(["files", "--out", str(tmp_path), "--start", "2026-10-04", "--end", "2026-10-04"]) == 2
    )
    assert "must be before" in capsys.readouterr().err


@pytest.mark.realdata
@pytest.mark.skipif(not REALDATA.exists(), reason=f"real data folder {REALDATA} is absent")
def test_focus_columns_cover_the_real_sample():
    sample = REALDATA / "focus_1.0_sample_finops" / "focus_sample.csv"
    with open(sample, encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    # `Id` is the sample's own row number, not a FOCUS column.
    assert set(header) - {"Id"} <= set(focus.COLUMNS)


@pytest.mark.realdata
@pytest.mark.skipif(not REALDATA.exists(), reason=f"real data folder {REALDATA} is absent")
def test_dcgm_labels_cover_the_real_exporter(org):
    from sandbox import gpu

    scrape = (REALDATA / "dcgm_exporter_scrape_fixture" / "metrics_excerpt.prom").read_text()
    line = next(x for x in scrape.splitlines() if x.startswith("DCGM_FI_DEV_GPU_UTIL{"))
    real_labels = {
        kv.split("=")[0] for kv in line[line.index("{") + 1 : line.index("}")].split(",")
    }
    ours = set(gpu.cluster_gpus(org)[0].labels)
    assert real_labels - {"DCGM_FI_DRIVER_VERSION", "DCGM_FI_PROCESS_NAME"} <= ours
