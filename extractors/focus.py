"""FOCUS cost and usage exports (FOCUS 1.0 to 1.3) from a local folder.

Reads CSV, CSV.gz and Parquet files batch by batch (a month never sits in memory at
once), maps FOCUS PascalCase columns to the landing's snake_case names, and keeps
rows whose ChargePeriodStart falls inside the window. Literal ``NULL`` is null, a
UTF-8 byte-order mark is ignored, Tags stay JSON text.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from extractors.base import Extractor, Record, register
from extractors.coerce import Coercer, RowError
from extractors.drift import check_columns
from extractors.errors import FatalSourceError
from extractors.landing import Reject
from extractors.schemas import FOCUS_COST_AND_USAGE, Dataset

# Every column name FOCUS 1.0-1.3 defines. Columns the landing does not keep are read
# and ignored; columns outside this list (and not x_ extensions) are schema drift.
FOCUS_COLUMNS = frozenset(
    """
AvailabilityZone BilledCost BillingAccountId BillingAccountName BillingAccountType
BillingCurrency BillingPeriodEnd BillingPeriodStart CapacityReservationId
CapacityReservationStatus ChargeCategory ChargeClass ChargeDescription ChargeFrequency
ChargePeriodEnd ChargePeriodStart CommitmentDiscountCategory CommitmentDiscountId
CommitmentDiscountName CommitmentDiscountQuantity CommitmentDiscountStatus
CommitmentDiscountType CommitmentDiscountUnit ConsumedQuantity ConsumedUnit ContractedCost
ContractedUnitPrice EffectiveCost InvoiceId InvoiceIssuerName ListCost ListUnitPrice
PricingCategory PricingCurrency PricingCurrencyContractedUnitPrice PricingCurrencyEffectiveCost
PricingCurrencyListUnitPrice PricingQuantity PricingUnit ProviderName PublisherName RegionId
RegionName ResourceId ResourceName ResourceType ServiceCategory ServiceName
ServiceSubcategory SkuId SkuMeter SkuPriceDetails SkuPriceId SubAccountId SubAccountName
SubAccountType Tags ServiceProviderName HostProviderName AllocatedMethodId
AllocatedMethodDetails AllocatedResourceId AllocatedResourceName AllocatedTags
ContractApplied
""".split()
)
# FOCUS 1.3 renamed ProviderName to ServiceProviderName; both land as provider_name.
RENAMES = {"ServiceProviderName": "provider_name", "ProviderName": "provider_name"}
LANDED = {f.name for f in FOCUS_COST_AND_USAGE.schema} - {
    "source_name",
    "record_ref",
    "focus_version",
    "export_version",
}
# The columns behind the landing's required fields; without them no row can land.
REQUIRED = (
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
)
SUFFIXES = (".csv", ".csv.gz", ".parquet")
_VERSIONED_NAME = re.compile(r"-\d{4}-\d{2}-([0-9A-Za-z]{6,})\.(?:csv|csv\.gz|parquet)$")
_ts = Coercer(pa.schema([pa.field("t", pa.timestamp("us", tz="UTC"))]))


def snake(name: str) -> str:
    return RENAMES.get(name) or re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def focus_version(columns: set[str]) -> str:
    if columns & {"ServiceProviderName", "HostProviderName", "ContractApplied"}:
        return "1.3"
    if columns & {"InvoiceId", "PricingCurrency", "BillingAccountType", "SubAccountType"}:
        return "1.2"
    if columns & {
        "CapacityReservationId",
        "SkuMeter",
        "ServiceSubcategory",
        "CommitmentDiscountQuantity",
    }:
        return "1.1"
    return "1.0"


def export_version(path: Path) -> str:
    """The export's version: an id from a manifest beside the data, else the file name.

    AWS Data Exports write ``*Manifest.json`` with an ``executionId``; legacy CUR an
    ``assemblyId``; a plain ``version`` key is accepted too. A file named
    ``<prefix>-<YYYY-MM>-<export id>.<ext>`` carries its version as the export id.
    """
    for folder in (path.parent, path.parent.parent):
        for manifest in sorted(folder.glob("*anifest*.json")):
            try:
                document = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(document, Mapping):
                for key in ("executionId", "assemblyId", "exportVersion", "version"):
                    if document.get(key):
                        return str(document[key])
    named = _VERSIONED_NAME.search(path.name)
    return named.group(1) if named else path.name


def find_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES))


def _split_header(line: str) -> list[str]:
    return [c.strip() for c in next(csv.reader([line]))]


def read_batches(
    path: Path, batch_rows: int = 65_536
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """Column names and string-typed batches of one export file."""
    if path.name.lower().endswith(".parquet"):
        parquet = pq.ParquetFile(path)
        return parquet.schema_arrow.names, parquet.iter_batches(batch_size=batch_rows)
    columns = _split_header(_first_line(path))
    reader = pacsv.open_csv(
        pa.input_stream(str(path), compression="detect"),
        read_options=pacsv.ReadOptions(column_names=columns, skip_rows=1, block_size=1 << 22),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in columns},
            null_values=["NULL", ""],
            strings_can_be_null=True,
        ),
    )
    return columns, iter(reader)


def _first_line(path: Path) -> str:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        return handle.readline().rstrip("\r\n")


@register
class FocusExtractor(Extractor):
    type = "focus"
    datasets: ClassVar[dict[str, Dataset]] = {"cost_and_usage": FOCUS_COST_AND_USAGE}
    required_options = ("path",)
    optional_options = ("focus_version",)
    default_lookback_days = 3

    def extract(self, dataset: Dataset) -> Iterator[Record]:
        root = Path(self.options["path"])
        if not root.exists():
            raise FatalSourceError(
                f"export folder does not exist: {root}",
                source=self.name,
                window=self.window,
                record=str(root),
            )
        for path in find_files(root):
            yield from self._file(path, root)

    def _file(self, path: Path, root: Path) -> Iterator[Record]:
        name = str(path.relative_to(root)) if path != root else path.name
        try:
            columns, batches = read_batches(path)
            known = check_columns(
                [c for c in columns if not c.startswith("x_")],
                expected=FOCUS_COLUMNS,
                required=REQUIRED,
                allow_added=self.allow_added_columns,
                source=self.name,
                window=self.window,
                where=name,
            )
            self.ignore_columns(FOCUS_COST_AND_USAGE, known)
            mapping = [(c, snake(c)) for c in columns if snake(c) in LANDED]
            if "ServiceProviderName" in columns:  # 1.3: the deprecated ProviderName must not win
                mapping = [(c, s) for c, s in mapping if c != "ProviderName"]
            fixed = {
                "focus_version": self.options.get("focus_version") or focus_version(set(columns)),
                "export_version": export_version(path),
            }
            line = 1
            for batch in batches:
                for row in batch.to_pylist():
                    line += 1
                    yield from self._row(row, mapping, fixed, f"{name}:{line}")
        except (OSError, pa.ArrowInvalid) as exc:
            raise FatalSourceError(
                f"cannot read export file: {exc}", source=self.name, window=self.window, record=name
            ) from None

    def _row(self, row: dict[str, Any], mapping, fixed, ref: str) -> Iterator[Record]:
        record = {"record_ref": ref, **fixed}
        for column, landed in mapping:
            value = row.get(column)
            record[landed] = None if value == "NULL" else value
        tags = record.get("tags")
        if isinstance(tags, list):  # a Parquet MAP column arrives as key/value pairs
            record["tags"] = tags = json.dumps(dict(tags), sort_keys=True)
        if isinstance(tags, str):
            try:
                json.loads(tags)
            except ValueError:
                yield Reject(ref, "Tags is not valid JSON", record)
                return
        # An export file holds a whole billing period: rows of other days belong to other
        # windows, so they are not selected (not quarantined as "outside window").
        try:
            start = _ts({"t": record.get("charge_period_start")})["t"]
        except RowError:
            yield record  # the landing writer quarantines it with the reason
            return
        if start is None or self.window.contains(start):
            yield record
