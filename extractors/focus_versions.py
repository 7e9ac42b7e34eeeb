"""The catalogue of FOCUS export deliveries: which version of which export each file is,
and which billing periods it is the newest delivery of.

Providers re-deliver a billing period's export when they restate it (AWS Data Exports
and Azure exports write a new run with a new execution or run id). For each billing
period only the files of the newest version are read, so two deliveries of one month
never both land; one export file may carry several billing periods.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import fsspec
import pyarrow as pa

from extractors.focus_files import ExportFileError, read_batches, utc_timestamp

SUFFIXES = (".csv", ".csv.gz", ".parquet")
_VERSIONED_NAME = re.compile(r"-\d{4}-\d{2}-([0-9A-Za-z]{6,})\.(?:csv|csv\.gz|parquet)$")
_RUN_FOLDER = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# Manifest keys that name an export run, and that date it, across AWS and Azure.
_VERSION_KEYS = ("executionId", "assemblyId", "runId", "exportVersion", "version")
_TIME_KEYS = ("submittedTime", "exportCreationTime", "createdAt", "creationTime", "timestamp")


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
    stamp = next((utc_timestamp(s[k]) for s in sections for k in _TIME_KEYS if s.get(k)), None)
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
            start = utc_timestamp(pair.get("BillingPeriodStart"))
            if start is None:
                continue  # the row is quarantined with the reason when it is read
            end = utc_timestamp(pair.get("BillingPeriodEnd")) or start
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
