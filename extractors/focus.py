"""FOCUS cost and usage exports (FOCUS 1.0 to 1.3) from a folder or any fsspec URL.

Reads CSV, CSV.gz and Parquet files batch by batch (a month never sits in memory at
once), maps FOCUS PascalCase columns to the landing's snake_case names, and keeps
rows whose ChargePeriodStart falls inside the window. Literal ``NULL`` is null, a
UTF-8 byte-order mark is ignored, Tags stay JSON text.

Versions. ``extractors.focus_versions`` gives every file a version and the billing
periods it is the newest delivery of; only those are read (``extractors.focus_files``
reads a file).

When a period's version differs from the one recorded in the landing manifests,
every day of that period must be replaced, not only the lookback days:
``FocusExtractor.plan_window(landing_root)`` widens the window to the whole period.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pyarrow as pa

from extractors.base import Extractor, Record
from extractors.drift import check_columns
from extractors.errors import FatalSourceError, SchemaDriftError
from extractors.focus_files import ExportFileError, read_batches, utc_timestamp
from extractors.focus_versions import ExportFile, catalogue
from extractors.landing import Reject
from extractors.options import LOOKBACK_DAYS, FileSourceOptions, option
from landing.layout import partitions, read_manifest
from landing.schemas import FOCUS_COST_AND_USAGE, Dataset
from landing.window import Window, midnight

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
# FOCUS 1.3 deprecated ProviderName for ServiceProviderName (who sold the service) and
# HostProviderName (whose infrastructure ran it); the landing's provider_name is the
# former. PublisherName is deprecated in 1.3 too and is simply null when absent.
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
# Real bills carry charges from outside their billing period: late usage (the FOCUS
# sample bills an Oracle hour of 30 September in October) and corrections of earlier
# periods. Beyond a quarter either way the date is a data error (1990 or 2099 on an
# October bill): such a row is quarantined, not landed on a day it cannot belong to.
CHARGE_PERIOD_TOLERANCE = timedelta(days=92)


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


def landed_versions(landing_root: Path, source: str) -> dict[date, dict[str, Any]]:
    """Per landed day: the manifest's ``export_versions`` (period -> version) and row count."""
    days = {}
    for partition in partitions(landing_root, source=source, dataset=FOCUS_COST_AND_USAGE.name):
        try:
            days[partition.day] = read_manifest(partition.path)
        except (OSError, ValueError):
            continue
    return days


@dataclass(frozen=True, kw_only=True)
class FocusOptions(FileSourceOptions):
    focus_version: str | None = None  # default: told by the columns
    storage_options: dict[str, Any] | None = None  # passed to fsspec, e.g. S3 credentials
    # A provider restates recent days; re-pull them by default.
    lookback_days: int = option(3, LOOKBACK_DAYS)


class FocusExtractor(Extractor):
    type = "focus"
    datasets: ClassVar[dict[str, Dataset]] = {"cost_and_usage": FOCUS_COST_AND_USAGE}
    Options = FocusOptions
    options: FocusOptions

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._files: list[ExportFile] | None = None

    def filesystem(self) -> tuple[fsspec.AbstractFileSystem, str]:
        url = str(self.options.path)
        fs, root = fsspec.core.url_to_fs(url, **(self.options.storage_options or {}))
        if not fs.exists(root):
            raise FatalSourceError(
                f"export folder does not exist: {url}",
                source=self.name,
                window=self.window,
                record=url,
            )
        return fs, root

    def files(self) -> list[ExportFile]:
        if self._files is None:
            fs, root = self.filesystem()
            try:
                self._files = catalogue(fs, root)
            except ExportFileError as exc:
                raise FatalSourceError(
                    f"cannot read export file: {exc.detail}",
                    source=self.name,
                    window=self.window,
                    record=exc.record(exc.name or "?"),
                ) from None
            except (OSError, pa.ArrowInvalid) as exc:
                raise FatalSourceError(
                    f"cannot catalogue export files: {exc}",
                    source=self.name,
                    window=self.window,
                    record=str(self.options.path),
                ) from None
        return self._files

    def chosen_versions(self) -> dict[tuple[date, str], tuple[str, datetime]]:
        """(billing period start, export key) -> (chosen version, period end)."""
        chosen: dict[tuple[date, str], tuple[str, datetime]] = {}
        for f in self.files():
            for period in f.selected:
                chosen[(period, f.export_key)] = (f.version, f.periods[period])
        return chosen

    def _touched(self, window: Window) -> dict[tuple[date, str], tuple[str, datetime]]:
        return {
            (period, key): (version, end)
            for (period, key), (version, end) in self.chosen_versions().items()
            if midnight(period) < window.end and window.start < end
        }

    def plan_window(self, landing_root: Path) -> Window:
        """The window to land: widened to whole billing periods whose version changed.

        A period counts when it overlaps the run's window and some landed day of it
        records another version of it (or, landed before versions were recorded, no
        version at all). Periods the run does not touch are left for a backfill: the
        exports of months in between may be gone, and re-landing them empty would lose
        money.
        """
        landed = landed_versions(Path(landing_root), self.name)
        start, end = self.window.start, self.window.end
        for (period, key), (version, period_end) in self._touched(self.window).items():
            for day, manifest in landed.items():
                if not midnight(period) <= midnight(day) < period_end:
                    continue
                recorded = (manifest.get("export_versions") or {}).get(period.isoformat(), {})
                legacy = "export_versions" not in manifest and manifest.get("rows_loaded", 0)
                if legacy or recorded.get(key, version) != version:
                    start, end = min(start, midnight(period)), max(end, period_end)
                    break
        return Window(start, end)

    def extract(self, dataset: Dataset) -> Iterator[Record]:
        fs, _ = self.filesystem()
        files = self.files()
        # Recorded in every landed day's manifest, so a later run can tell a new version:
        # {billing period start: {export key: version}}.
        versions: dict[str, dict[str, str]] = {}
        for (period, key), (version, _) in sorted(self._touched(self.window).items()):
            versions.setdefault(period.isoformat(), {})[key] = version
        self.manifest_extra.setdefault(dataset.name, {})["export_versions"] = versions
        for f in files:
            yield from self._file(fs, f)

    def _file(self, fs: fsspec.AbstractFileSystem, f: ExportFile) -> Iterator[Record]:
        try:
            columns, batches = read_batches(fs, f.path)
            plain = [c for c in columns if not c.startswith("x_")]
            present = sorted(set(plain) & set(REQUIRED))
            # A provider's own format (CUR, EA, OCI) shares a name or two with FOCUS at most.
            if len(present) < len(REQUIRED) // 2:
                raise SchemaDriftError(
                    f"not a FOCUS export: only {present} of the mandatory FOCUS columns "
                    f"{list(REQUIRED)} are present (first columns {plain[:4]}); convert the "
                    "provider's export to FOCUS first, e.g. with the FinOps Foundation's "
                    "focus_converters, or export FOCUS directly",
                    source=self.name,
                    window=self.window,
                    record=f.name,
                )
            known = check_columns(
                plain,
                expected=FOCUS_COLUMNS,
                required=REQUIRED,
                allow_added=self.allow_added_columns,
                source=self.name,
                window=self.window,
                where=f.name,
            )
            self.ignore_columns(FOCUS_COST_AND_USAGE, known)
            mapping = [(c, snake(c)) for c in columns if snake(c) in LANDED]
            if "ServiceProviderName" in columns:  # 1.3: the deprecated ProviderName must not win
                mapping = [(c, s) for c, s in mapping if c != "ProviderName"]
            fixed = {
                "focus_version": self.options.focus_version or focus_version(set(columns)),
                "export_version": f.version,
            }
            line = 1
            # Per file, what became of every row; "in_window" per home day, so each day's
            # manifest can be checked on its own (warehouse.quarantine.unaccounted_file_rows).
            tally: dict[str, Any] = {
                "rows": 0,
                "in_window": {},
                "other_windows": 0,
                "superseded": 0,
            }
            self.manifest_extra.setdefault(FOCUS_COST_AND_USAGE.name, {}).setdefault(
                "source_files", {}
            )[f.name] = tally
            for batch in batches:
                for row in batch.to_pylist():
                    line += 1
                    tally["rows"] += 1
                    yield from self._row(row, mapping, fixed, f, f"{f.name}:{line}", tally)
        except ExportFileError as exc:
            raise FatalSourceError(
                f"cannot read export file: {exc.detail}",
                source=self.name,
                window=self.window,
                record=exc.record(f.name),
            ) from None
        except (OSError, pa.ArrowInvalid) as exc:
            raise FatalSourceError(
                f"cannot read export file: {exc}",
                source=self.name,
                window=self.window,
                record=f.name,
            ) from None

    def _row(
        self, row: dict[str, Any], mapping, fixed, f: ExportFile, ref: str, tally: dict[str, Any]
    ) -> Iterator[Record]:
        """The row as a landing record or a Reject, or nothing when another run owns it.

        Every row is counted in ``tally``: ``in_window`` per home day (handed to the
        landing writer, which loads or quarantines it), ``other_windows`` (its home day
        is outside this window: the run whose window holds that day files it) or
        ``superseded`` (a newer export version of its billing period is read instead).
        """
        record = {"record_ref": ref, **fixed}
        for column, landed in mapping:
            value = row.get(column)
            record[landed] = None if value == "NULL" else value
        period = utc_timestamp(record.get("billing_period_start"))
        if period is not None and period.date() not in f.selected:
            tally["superseded"] += 1
            return
        period_end = utc_timestamp(record.get("billing_period_end"))
        raw_start = record.get("charge_period_start")
        start = utc_timestamp(raw_start)
        # The home day decides which run owns the row: the day it is charged on, or, for
        # a date too far from its billing period (1990 or 2099 on an October bill), the
        # nearest day of that period: the row is quarantined once, by whichever run
        # covers that day, never re-filed under each window's first day.
        home, reason = self._home_day(start, raw_start, period, period_end, f)
        if home is None or not self.window.start.date() <= home < _end_day(self.window):
            tally["other_windows"] += 1
            return
        tally["in_window"][home.isoformat()] = tally["in_window"].get(home.isoformat(), 0) + 1
        details = record.get("sku_price_details")
        if isinstance(details, list):  # a MAP column too; text that is not JSON lands as is
            record["sku_price_details"] = json.dumps(dict(details), sort_keys=True)
        tags = record.get("tags")
        if isinstance(tags, list):  # a Parquet MAP column arrives as key/value pairs
            record["tags"] = tags = json.dumps(dict(tags), sort_keys=True)
        if reason is None and isinstance(tags, str):
            try:
                json.loads(tags)
            except ValueError:
                reason = "Tags is not valid JSON"
        if reason is not None:
            yield Reject(ref, reason, record, day=home)
            return
        yield record

    def _home_day(
        self, start, raw_start, period, period_end, f: ExportFile
    ) -> tuple[date | None, str | None]:
        """(home day, quarantine reason or None) of a row of file ``f``."""
        fallback = period.date() if period is not None else min(f.selected, default=None)
        if start is None:  # worded as the landing writer words it for any column
            if raw_start in (None, ""):
                return fallback, "missing required field charge_period_start"
            return fallback, f"charge_period_start: unparseable timestamp {raw_start!r}"
        if (
            period is None
            or period_end is None
            or period - CHARGE_PERIOD_TOLERANCE <= start < period_end + CHARGE_PERIOD_TOLERANCE
        ):
            return start.date(), None
        last_day = (period_end - timedelta(microseconds=1)).date()
        home = min(max(start.date(), period.date()), last_day)
        return home, (
            f"ChargePeriodStart {start.isoformat()} is more than "
            f"{CHARGE_PERIOD_TOLERANCE.days} days outside its billing period "
            f"[{period.date().isoformat()}, {period_end.date().isoformat()})"
        )


def _end_day(window: Window) -> date:
    """The day after the window's last day (a window ends at midnight or mid-day)."""
    return (window.end - timedelta(microseconds=1)).date() + timedelta(days=1)
