"""GPU samples from ``nvidia-smi --query-gpu=... --format=csv`` log files.

The query this source reads::

    nvidia-smi --query-gpu=timestamp,name,pci.bus_id,uuid,index,utilization.gpu,\\
memory.used,memory.total,power.draw --format=csv -l 60 >> /var/log/gpu/$(hostname).csv

nvidia-smi prints the header with units (``utilization.gpu [%]``) and, unless
``nounits`` is given, the unit inside every value (``45 %``, ``1234 MiB``, ``70.50 W``);
``[N/A]`` or ``[Not Supported]`` means no reading. Its timestamp (``2026/10/07
12:00:00.123``) is in the host's local time without an offset: the ``timezone`` option
says which (default UTC). nvidia-smi does not print the host, so it comes from the file
name (``<hostname>.csv``, ``<hostname>_2026-10-07.csv``) or the ``hostname`` option.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from extractors.base import Extractor, Record
from extractors.drift import check_columns
from extractors.errors import FatalSourceError
from extractors.landing import Reject
from extractors.options import FileSourceOptions, PatternWithGroup, TimeZone, option
from landing.schemas import NVIDIA_SMI_GPU_SAMPLES, Dataset
from landing.window import to_utc

# nvidia-smi field -> (landing column, unit it prints, or None for text).
FIELDS = {
    "timestamp": ("sample_at", None),
    "name": ("gpu_name", None),
    "pci.bus_id": ("pci_bus_id", None),
    "uuid": ("gpu_uuid", None),
    "index": ("gpu_index", None),
    "utilization.gpu": ("utilization_gpu_pct", "%"),
    "memory.used": ("memory_used_mib", "MiB"),
    "memory.total": ("memory_total_mib", "MiB"),
    "power.draw": ("power_draw_w", "W"),
}
REQUIRED = ("timestamp", "uuid", "utilization.gpu")
SUFFIXES = (".csv", ".csv.gz", ".log")
# Default: the host is the file name up to an optional date suffix.
HOSTNAME_PATTERN = r"^(?P<hostname>.+?)(?:[_-]\d{4}-?\d{2}-?\d{2}[^.]*)?\.(?:csv|csv\.gz|log)$"
_HEADER_FIELD = re.compile(r"^(?P<name>[A-Za-z0-9_.]+)(?:\s*\[(?P<unit>[^\]]*)\])?$")
_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S")


def parse_header(cells: list[str]) -> list[tuple[str, str | None]]:
    """``["utilization.gpu [%]", ...]`` -> ``[("utilization.gpu", "%"), ...]``."""
    parsed = []
    for cell in cells:
        match = _HEADER_FIELD.match(cell.strip())
        parsed.append((match["name"], match["unit"]) if match else (cell.strip(), None))
    return parsed


def reading(text: str, unit: str | None, field: str) -> str | None:
    """A cell without its unit; ``None`` for nvidia-smi's "no reading" markers.

    Raises ``ValueError`` when the value carries a different unit than the field's.
    """
    text = text.strip()
    if not text or (text.startswith("[") and text.endswith("]")) or text == "N/A":
        return None
    if unit is None:
        return text
    number, _, suffix = text.partition(" ")
    if suffix and suffix.strip() != unit:
        raise ValueError(f"{field}: unit {suffix.strip()!r} is not {unit!r} in {text!r}")
    return number


def parse_timestamp(text: str, zone: ZoneInfo) -> datetime | str:
    """nvidia-smi's local timestamp as UTC; unparseable text is returned for quarantine."""
    for fmt in _TIME_FORMATS:
        try:
            return to_utc(datetime.strptime(text.strip(), fmt).replace(tzinfo=zone))
        except ValueError:
            continue
    return text


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


@dataclass(frozen=True, kw_only=True)
class NvidiaSmiOptions(FileSourceOptions):
    hostname: str | None = None  # default: from the file name, by hostname_pattern
    hostname_pattern: str = option(HOSTNAME_PATTERN, PatternWithGroup("hostname"))
    timezone: str = option("UTC", TimeZone())  # of the timestamps nvidia-smi prints


class NvidiaSmiExtractor(Extractor):
    type = "nvidia_smi"
    datasets: ClassVar[dict[str, Dataset]] = {"gpu_samples": NVIDIA_SMI_GPU_SAMPLES}
    Options = NvidiaSmiOptions
    options: NvidiaSmiOptions

    def extract(self, dataset: Dataset) -> Iterator[Record]:
        root = Path(self.options.path)
        if not root.exists():
            raise FatalSourceError(
                f"nvidia-smi log folder does not exist: {root}",
                source=self.name,
                window=self.window,
                record=str(root),
            )
        files = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in files:
            if path.is_file() and path.name.lower().endswith(SUFFIXES):
                yield from self._file(
                    path, path.name if path == root else str(path.relative_to(root))
                )

    def _hostname(self, path: Path, name: str) -> str:
        if self.options.hostname:
            return str(self.options.hostname)
        match = re.match(self.options.hostname_pattern, path.name)
        if not match or not match["hostname"]:
            raise FatalSourceError(
                "cannot tell the host from the file name; set the option hostname or "
                "hostname_pattern",
                source=self.name,
                window=self.window,
                record=name,
            )
        return match["hostname"]

    def _file(self, path: Path, name: str) -> Iterator[Record]:
        host = self._hostname(path, name)
        zone = ZoneInfo(str(self.options.timezone))
        try:
            with _open_text(path) as handle:
                lines = csv.reader(handle, skipinitialspace=True)
                header = next(lines, None)
                if header is None:
                    return
                fields = parse_header(header)
                self.ignore_columns(
                    NVIDIA_SMI_GPU_SAMPLES,
                    check_columns(
                        [f for f, _ in fields],
                        expected=FIELDS,
                        required=REQUIRED,
                        allow_added=self.allow_added_columns,
                        source=self.name,
                        window=self.window,
                        where=name,
                    ),
                )
                for line, cells in enumerate(lines, start=2):
                    if not cells or cells == header:  # blank, or the header of an appended run
                        continue
                    yield from self._row(cells, fields, host, zone, f"{name}:{line}")
        except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
            raise FatalSourceError(
                f"cannot read nvidia-smi log: {exc}",
                source=self.name,
                window=self.window,
                record=name,
            ) from None

    def _row(self, cells, fields, host: str, zone: ZoneInfo, ref: str) -> Iterator[Record]:
        raw = {"line": ref, "cells": cells}
        if len(cells) != len(fields):
            yield Reject(ref, f"{len(cells)} cells for {len(fields)} header columns", raw)
            return
        record: dict[str, Any] = {"record_ref": ref, "hostname": host}
        try:
            for (field, _), cell in zip(fields, cells, strict=True):
                if field not in FIELDS:
                    continue
                column, unit = FIELDS[field]
                record[column] = reading(cell, unit, field)
        except ValueError as exc:
            yield Reject(ref, str(exc), raw)
            return
        stamp = record.get("sample_at")
        if stamp is not None:
            record["sample_at"] = stamp = parse_timestamp(stamp, zone)
        # A log file runs over many days: samples of other days belong to other windows.
        if not isinstance(stamp, datetime) or self.window.contains(stamp):
            yield record
