"""FOCUS cost and usage exports (FOCUS 1.0 to 1.3) from a folder or any fsspec URL.

Reads CSV, CSV.gz and Parquet files batch by batch (a month never sits in memory at
once), maps FOCUS PascalCase columns to the landing's snake_case names, and keeps
rows whose ChargePeriodStart falls inside the window. Literal ``NULL`` is null, a
UTF-8 byte-order mark is ignored, Tags stay JSON text.

Versions. Providers re-deliver a billing period's export when they restate it (AWS
Data Exports and Azure exports write a new run with a new execution or run id). The
catalogue (``catalogue``) gives every file a version (``export_version``) and the
billing periods it holds; for each billing period only the newest version is read
(by manifest time, else file modification time), so two deliveries of one month
never both land. One export file may carry several billing periods.

When a period's version differs from the one recorded in the landing manifests,
every day of that period must be replaced, not only the lookback days:
``FocusExtractor.plan_window(landing_root)`` widens the window to the whole period.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from extractors.base import Extractor, Record, register
from extractors.coerce import Coercer, RowError
from extractors.drift import check_columns
from extractors.errors import FatalSourceError, SchemaDriftError
from extractors.landing import Reject
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
SUFFIXES = (".csv", ".csv.gz", ".parquet")
_VERSIONED_NAME = re.compile(r"-\d{4}-\d{2}-([0-9A-Za-z]{6,})\.(?:csv|csv\.gz|parquet)$")
_RUN_FOLDER = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# Manifest keys that name an export run, and that date it, across AWS and Azure.
_VERSION_KEYS = ("executionId", "assemblyId", "runId", "exportVersion", "version")
_TIME_KEYS = ("submittedTime", "exportCreationTime", "createdAt", "creationTime", "timestamp")
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


def _timestamp(value: Any) -> datetime | None:
    try:
        return _ts({"t": value})["t"]
    except RowError:
        return None


# --- files and their versions --------------------------------------------------------


@dataclass
class ExportFile:
    """One data file of an export: its version and the billing periods it holds."""

    path: str
    name: str  # relative to the configured root, for record references
    version: str
    version_time: datetime
    export_key: str  # files with one key are deliveries of one export (see export_version)
    # BillingPeriodStart date -> BillingPeriodEnd, as found in the file.
    periods: dict[date, datetime] = field(default_factory=dict)
    # The periods this file is the newest version of: only their rows are read.
    selected: set[date] = field(default_factory=set)


def find_files(fs: fsspec.AbstractFileSystem, root: str) -> list[str]:
    if fs.isfile(root):
        return [root]
    return sorted(p for p in fs.find(root) if p.lower().endswith(SUFFIXES))


def _parent(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[0] if "/" in path.rstrip("/") else ""


def _manifests(fs: fsspec.AbstractFileSystem, path: str) -> list[str]:
    """Manifests that may describe ``path``: beside it, one folder up, and AWS's
    ``metadata/BILLING_PERIOD=...`` folder that mirrors ``data/BILLING_PERIOD=...``."""
    folders = [_parent(path), _parent(_parent(path))]
    if "/data/" in path:
        folders.append(_parent(path).replace("/data/", "/metadata/", 1))
    found = []
    for folder in folders:
        if folder and fs.isdir(folder):
            found += sorted(
                p for p in fs.ls(folder, detail=False) if re.search(r"anifest[^/]*\.json$", p)
            )
    return found


def _manifest_version(document: Any) -> tuple[str | None, datetime | None]:
    if not isinstance(document, Mapping):
        return None, None
    sections = [document, *(v for v in document.values() if isinstance(v, Mapping))]
    version = next((str(s[k]) for s in sections for k in _VERSION_KEYS if s.get(k)), None)
    stamp = next((_timestamp(s[k]) for s in sections for k in _TIME_KEYS if s.get(k)), None)
    return version, stamp


def export_version(fs: fsspec.AbstractFileSystem, path: str) -> tuple[str, datetime, str]:
    """The export version of a file, when that version was made, and which export it is.

    Version, in order: a manifest beside the data (AWS ``executionId``, legacy CUR
    ``assemblyId``, Azure ``runInfo.runId``), dated by its own time field or its
    modification time; an export id in the file name (``<prefix>-<YYYY-MM>-<id>.csv``);
    an Azure run folder (a GUID); else the file name, dated by modification time.

    The export key says which files are deliveries of the same export, so only they
    compete for a billing period: the folder without its run folder, plus the name's
    prefix for named versions. A file with no version at all is its own export: two
    unversioned files (an AWS and an Azure bill in one folder) never hide each other.
    """
    folder = _parent(path)
    modified = fs.modified(path).astimezone(UTC)
    for manifest in _manifests(fs, path):
        try:
            document = json.loads(fs.cat_file(manifest))
        except (OSError, ValueError):
            continue
        version, stamp = _manifest_version(document)
        if version:
            key = _parent(folder) if _RUN_FOLDER.match(folder.rsplit("/", 1)[-1]) else folder
            return version, stamp or fs.modified(manifest).astimezone(UTC), key
    named = _VERSIONED_NAME.search(path)
    if named:
        return named.group(1), modified, path[: named.start()]
    run_folder = folder.rsplit("/", 1)[-1]
    if _RUN_FOLDER.match(run_folder):
        return run_folder, modified, _parent(folder)
    return path.rsplit("/", 1)[-1], modified, path


def _open(fs: fsspec.AbstractFileSystem, path: str):
    return fs.open(path, "rb", compression="gzip" if path.lower().endswith(".gz") else None)


class ExportFileError(Exception):
    """One export file cannot be read: what is wrong with it and, for CSV, on which line.

    The extractor turns it into a FatalSourceError whose record is ``<file>:<line>``,
    relative to the configured root, so on-call opens the right file at the right place.
    """

    def __init__(self, detail: str, line: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.line = line

    def record(self, name: str) -> str:
        return f"{name}:{self.line}" if self.line else name


_BLOCK = 1 << 22
# The compression layer's own errors: a cut upload ends the gzip stream before its trailer.
_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


def _gzip_problem(fs: fsspec.AbstractFileSystem, path: str, exc: Exception) -> ExportFileError:
    """The gzip error with the line where the readable data stops (decompressed afresh)."""
    newlines = 0
    inflate = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
    try:
        with fs.open(path, "rb") as raw:
            while block := raw.read(_BLOCK):
                newlines += inflate.decompress(block).count(b"\n")
    except zlib.error:
        pass
    if isinstance(exc, EOFError):
        detail = "truncated gzip: the compressed stream ends before its end marker"
    else:
        detail = f"corrupt gzip data ({exc})"
    line = newlines + 1
    return ExportFileError(f"{detail}; the readable data stops in line {line}", line)


class _Counted(io.RawIOBase):
    """The bytes pyarrow reads, passed through while counting quotes.

    Counting is a C-speed ``bytes.count`` a block. An odd count at the end says the
    file may end inside a quoted field, which pyarrow would read as a short last value.
    """

    def __init__(self, raw: Any):
        self.raw = raw
        self.quotes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.quotes += data.count(b'"')
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


def _blocks(fs: fsspec.AbstractFileSystem, path: str) -> Iterator[bytes]:
    with _open(fs, path) as raw:
        while block := raw.read(_BLOCK):
            yield block


def _invalid_utf8(fs: fsspec.AbstractFileSystem, path: str) -> ExportFileError | None:
    """Where the first byte that is not UTF-8 is (line and byte offset), if there is one."""
    offset = newlines = 0
    carry = b""
    for block in _blocks(fs, path):
        data = carry + block
        try:
            data.decode("utf-8")
            good, carry = len(data), b""
        except UnicodeDecodeError as exc:
            if exc.end == len(data) and exc.reason == "unexpected end of data":
                good, carry = exc.start, data[exc.start :]  # a character split by the block
            else:
                newlines += data.count(b"\n", 0, exc.start)
                byte = data[exc.start : exc.start + 1].hex()
                return ExportFileError(
                    f"byte 0x{byte} at byte offset {offset + exc.start} is not UTF-8 "
                    "(FOCUS exports are UTF-8; was this file saved as Latin-1 or Windows-1252?)",
                    line=newlines + 1,
                )
        newlines += data.count(b"\n", 0, good)
        offset += good
    if carry:
        return ExportFileError(
            f"the file ends inside a UTF-8 character at byte offset {offset}", line=newlines + 1
        )
    return None


# One CSV field as pyarrow reads it: a quote opens a quoted field only at the field's
# start, "" inside is a quote, and a quoted field without its closing quote runs to EOF.
_FIELD = re.compile(rb'"(?:[^"]|"")*("?)[^,\r\n]*|[^,\r\n]*')


def _open_quote(fs: fsspec.AbstractFileSystem, path: str) -> ExportFileError | None:
    """The line where a quoted field starts that the file never closes, if one does.

    Run only when the quotes do not pair up (or pyarrow failed), so the slow scan is
    paid by broken files alone; it holds the file in memory, as only a cut file needs it.
    """
    data = b"".join(_blocks(fs, path))
    position, end = 0, len(data)
    while position < end:
        match = _FIELD.match(data, position)
        if match.group(0).startswith(b'"') and not match.group(1):
            line = data.count(b"\n", 0, match.start()) + 1
            return ExportFileError(
                f"the file ends inside a quoted field that starts on line {line} "
                "(a truncated export: the quote is never closed)",
                line=line,
            )
        position = match.end() + 1  # past the delimiter or newline
        if data[match.end() : match.end() + 2] == b"\r\n":
            position += 1
    return None


def _header(fs: fsspec.AbstractFileSystem, path: str) -> list[str]:
    # Bytes first: a bad byte in the first rows must not be blamed on the header.
    try:
        with _open(fs, path) as raw:
            line = raw.readline()
    except _GZIP_ERRORS as exc:
        raise _gzip_problem(fs, path, exc) from None
    if not line.strip():
        raise ExportFileError("the file has no header line (an empty CSV)", line=1)
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportFileError(
            f"byte 0x{line[exc.start : exc.start + 1].hex()} at byte offset {exc.start} of the "
            "header is not UTF-8 (FOCUS exports are UTF-8)",
            line=1,
        ) from None
    return [c.strip() for c in next(csv.reader([text.rstrip("\r\n")]), [])]


def _csv_problem(fs: fsspec.AbstractFileSystem, path: str, exc: Exception) -> ExportFileError:
    """The real cause behind pyarrow's CSV error: a non-UTF-8 byte, a cut quote, or its own."""
    found = _invalid_utf8(fs, path) or _open_quote(fs, path)
    return found or ExportFileError(f"not valid CSV: {exc}")


def read_batches(
    fs: fsspec.AbstractFileSystem,
    path: str,
    columns: list[str] | None = None,
    batch_rows: int = 65_536,
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """Column names and string-typed batches of one export file (only ``columns`` if given).

    Raises ``ExportFileError`` (also while iterating) when the file is empty, cut short,
    not UTF-8 or not the format its name says, naming the line where it can.
    """
    if fs.size(path) == 0:
        raise ExportFileError("the file is 0 bytes (an empty or failed upload)")
    if path.lower().endswith(".parquet"):
        handle = _open(fs, path)
        try:
            parquet = pq.ParquetFile(handle)
        except (OSError, pa.ArrowInvalid) as exc:
            handle.close()
            raise ExportFileError(f"not a Parquet file, or a truncated one ({exc})") from None
        names = parquet.schema_arrow.names
        wanted = [c for c in columns if c in names] if columns else None

        def batches() -> Iterator[pa.RecordBatch]:
            with handle:
                try:
                    yield from parquet.iter_batches(batch_size=batch_rows, columns=wanted)
                except (OSError, pa.ArrowInvalid) as exc:
                    raise ExportFileError(f"corrupt Parquet data ({exc})") from None

        return names, batches()
    names = _header(fs, path)
    counted = _Counted(_open(fs, path))
    handle = io.BufferedReader(counted, buffer_size=_BLOCK)
    try:
        reader = pacsv.open_csv(
            handle,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=_BLOCK),
            # Tags and descriptions may hold quoted newlines: rows must not split inside them.
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in names},
                null_values=["NULL", ""],
                strings_can_be_null=True,
                include_columns=[c for c in columns if c in names] if columns else None,
            ),
        )
    except _GZIP_ERRORS as exc:
        handle.close()
        raise _gzip_problem(fs, path, exc) from None
    except pa.ArrowInvalid as exc:
        handle.close()
        raise _csv_problem(fs, path, exc) from None

    def csv_batches() -> Iterator[pa.RecordBatch]:
        with handle:
            try:
                yield from reader
            except _GZIP_ERRORS as exc:
                raise _gzip_problem(fs, path, exc) from None
            except pa.ArrowInvalid as exc:
                raise _csv_problem(fs, path, exc) from None
            if counted.quotes % 2:
                problem = _open_quote(fs, path)
                if problem:
                    raise problem

    return names, csv_batches()


def billing_periods(fs: fsspec.AbstractFileSystem, path: str) -> dict[date, datetime]:
    """BillingPeriodStart -> BillingPeriodEnd of every period in a file (two columns read)."""
    periods: dict[date, datetime] = {}
    names, batches = read_batches(fs, path, ["BillingPeriodStart", "BillingPeriodEnd"])
    if "BillingPeriodStart" not in names:
        return periods  # not FOCUS: the drift check names the missing columns later
    for batch in batches:
        table = pa.Table.from_batches([batch])
        pairs = (
            table.group_by(["BillingPeriodStart", "BillingPeriodEnd"]).aggregate([]).to_pylist()
            if "BillingPeriodEnd" in table.column_names
            else [{"BillingPeriodStart": s} for s in set(table["BillingPeriodStart"].to_pylist())]
        )
        for pair in pairs:
            start = _timestamp(pair.get("BillingPeriodStart"))
            if start is None:
                continue  # the row is quarantined with the reason when it is read
            end = _timestamp(pair.get("BillingPeriodEnd")) or start
            periods[start.date()] = max(end, periods.get(start.date(), end))
    return periods


def catalogue(fs: fsspec.AbstractFileSystem, root: str) -> list[ExportFile]:
    """Every export file under ``root`` with its version and the periods it is chosen for.

    For each billing period, the files of the newest version holding it are chosen
    (newest by version time, then by version id so the choice is deterministic).
    """
    base = root.rstrip("/")
    files = []
    for path in find_files(fs, root):
        version, stamp, key = export_version(fs, path)
        name = path[len(base) :].lstrip("/") or path.rsplit("/", 1)[-1]
        key = key[len(base) :].lstrip("/") or key.rsplit("/", 1)[-1]  # stable across mounts
        try:
            periods = billing_periods(fs, path)
        except ExportFileError as exc:
            exc.name = name
            raise
        files.append(ExportFile(path, name, version, stamp, key, periods))
    versions: dict[tuple[str, date], dict[str, datetime]] = {}
    for f in files:
        for period in f.periods:
            known = versions.setdefault((f.export_key, period), {})
            known[f.version] = max(known.get(f.version, f.version_time), f.version_time)
    newest = {
        k: max(v.items(), key=lambda item: (item[1], item[0]))[0] for k, v in versions.items()
    }
    for f in files:
        f.selected = {p for p in f.periods if newest[(f.export_key, p)] == f.version}
    return files


def landed_versions(landing_root: Path, source: str) -> dict[date, dict[str, Any]]:
    """Per landed day: the manifest's ``export_versions`` (period -> version) and row count."""
    days = {}
    for partition in partitions(landing_root, source=source, dataset=FOCUS_COST_AND_USAGE.name):
        try:
            days[partition.day] = read_manifest(partition.path)
        except (OSError, ValueError):
            continue
    return days


# --- the extractor -------------------------------------------------------------------


@register
class FocusExtractor(Extractor):
    type = "focus"
    datasets: ClassVar[dict[str, Dataset]] = {"cost_and_usage": FOCUS_COST_AND_USAGE}
    required_options = ("path",)
    optional_options = ("focus_version", "storage_options")
    default_lookback_days = 3

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._files: list[ExportFile] | None = None

    def filesystem(self) -> tuple[fsspec.AbstractFileSystem, str]:
        url = str(self.options["path"])
        fs, root = fsspec.core.url_to_fs(url, **(self.options.get("storage_options") or {}))
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
                    record=exc.record(getattr(exc, "name", "?")),
                ) from None
            except (OSError, pa.ArrowInvalid) as exc:
                raise FatalSourceError(
                    f"cannot catalogue export files: {exc}",
                    source=self.name,
                    window=self.window,
                    record=str(self.options["path"]),
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
                "focus_version": self.options.get("focus_version") or focus_version(set(columns)),
                "export_version": f.version,
            }
            line = 1
            # Per file, what became of every row; "in_window" per home day, so each day's
            # manifest can be checked on its own (warehouse.quarantine.unaccounted_file_rows).
            tally = {"rows": 0, "in_window": {}, "other_windows": 0, "superseded": 0}
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
        self, row: dict[str, Any], mapping, fixed, f: ExportFile, ref: str, tally: dict[str, int]
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
        period = _timestamp(record.get("billing_period_start"))
        if period is not None and period.date() not in f.selected:
            tally["superseded"] += 1
            return
        period_end = _timestamp(record.get("billing_period_end"))
        raw_start = record.get("charge_period_start")
        start = _timestamp(raw_start)
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
