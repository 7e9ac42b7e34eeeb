"""The landing writer: coerce, quarantine, partition by UTC day, replace atomically.

Layout (dbt reads ``<landing_root>/*/<dataset>/*/*.parquet``)::

    <landing_root>/<source>/<dataset>/date=YYYY-MM-DD/part-0.parquet
    <landing_root>/<source>/<dataset>/date=YYYY-MM-DD/_manifest.json
    <quarantine_root>/<source>/<dataset>/date=YYYY-MM-DD/part-0.parquet
    <landing_root>/_schema/<dataset>/empty/part-0.parquet      (zero rows)

Every day of the window gets a landing partition, even an empty one, so a restated
day that became empty is cleared. A partition is written into a staging folder on
the same file system (``<landing_root>/<source>/_staging/``, outside dbt's glob) and
swapped in by rename: re-extracting a day replaces it, never doubles it, and a crash
never leaves half a partition. On Linux the swap is one step (renameat2 with
RENAME_EXCHANGE), so a reader or a crash sees the old day or the new one, never
neither. A run holds an exclusive lock per source and dataset
(``<landing_root>/<source>/.<dataset>.lock``) and first clears what a killed run
left in staging, putting back an old partition a crash took out and never replaced.

A rejected row is filed in quarantine under the day its data belongs to (its home
day): the row's own partition date when it parses, else the day its extractor names
(``Reject.day``: a bucket's start, a bill's period), and only as a last resort the
window's first day. Each run replaces the quarantine days of its window, so a reject
re-read by the next run's lookback replaces itself under the same day: it is filed
once, whatever the windows.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from extractors.coerce import Coercer, RowError, control_character_masks
from extractors.pause import pause_point
from extractors.schemas import DATASETS, QUARANTINE, Dataset
from extractors.secrets import scrub, scrub_json
from extractors.window import Window

PART = "part-0.parquet"
MANIFEST = "_manifest.json"
# A manifest of no partition: every key dbt reads, no source (stg_landing__manifests drops it).
EMPTY_MANIFEST = {
    "source": None,
    "dataset": None,
    "partition_date": None,
    "rows_in": 0,
    "rows_loaded": 0,
    "rows_quarantined": 0,
    "window_start": None,
    "window_end": None,
    "extracted_at": None,
}
STAGING = "_staging"
# Rows held per day before they are flushed to the day's Parquet file.
BATCH_ROWS = 50_000
_DAY_US = 86_400_000_000
# Where crash tests SIGKILL a landing (extractors.pause): every day staged and no day
# swapped; one day swapped and the next not yet; a day exchanged, its old copy not yet
# removed from staging.
PAUSE_POINTS = ("land:staged", "land:between_days", "land:exchanged")


@dataclass(frozen=True)
class Reject:
    """A record the extractor could not even map; it goes to quarantine as is."""

    record_ref: str
    reason: str
    raw: Any = None
    # The partition the record belongs to, when the extractor knows it: without it a
    # reject re-read by several windows would be filed under each window's first day.
    day: date | None = None


@dataclass
class LandingResult:
    dataset: str
    partitions: list[str]
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return asdict(self)


def partition_dir(root: Path, source: str, dataset: str, day: date) -> Path:
    return Path(root) / source / dataset / f"date={day.isoformat()}"


def land(
    records: Iterable[Mapping[str, Any] | Reject | pa.RecordBatch | pa.Table],
    *,
    dataset: Dataset,
    source: str,
    window: Window,
    landing_root: Path,
    quarantine_root: Path,
    secrets: Iterable[str] = (),
    ignored_columns: Iterable[str] = (),
    manifest_extra: Mapping[str, Any] | None = None,
    extracted_at: datetime | None = None,
) -> LandingResult:
    """Land one dataset of one source for ``window``; returns the counts.

    ``records`` are dicts keyed by landing column name (``source_name`` is filled in
    here) or ``Reject`` markers, or, for bulk sources, Arrow record batches (or tables)
    whose columns already have the landing types: those are checked column-wise
    (required fields, window) and written without per-row Python; only their failing
    rows become Python objects, in quarantine. ``secrets`` are values scrubbed from quarantined
    payloads, read each time a row is quarantined; ``ignored_columns`` (added source
    columns let through) and ``manifest_extra`` are read once ``records`` is
    exhausted. Both may be filled by the extractor while it runs. If iterating
    ``records`` raises, nothing under landing or quarantine changes.
    """
    landing_root, quarantine_root = Path(landing_root), Path(quarantine_root)
    # Where a reader looks for rejects exists from the first extraction, rejects or not.
    quarantine_root.mkdir(parents=True, exist_ok=True)
    extracted_at = extracted_at or datetime.now(UTC)
    days = window.days()
    first_day = days[0]
    run = uuid.uuid4().hex[:12]
    staging = landing_root / source / STAGING / dataset.name / run
    q_staging = quarantine_root / source / STAGING / dataset.name / run
    coerce = Coercer(dataset.schema)
    result = LandingResult(dataset=dataset.name, partitions=[d.isoformat() for d in days])
    counts = {d: {"rows_in": 0, "rows_loaded": 0, "rows_quarantined": 0} for d in days}
    buffers: dict[date, list[dict[str, Any]]] = {d: [] for d in days}
    writers: dict[date, pq.ParquetWriter] = {}
    quarantined: dict[date, list[dict[str, Any]]] = {d: [] for d in days}
    # Held until the swaps are done: a second landing of this dataset waits, and what
    # staging holds from any other run is a killed run's, safe to clear.
    lock = _lock(landing_root / source / f".{dataset.name}.lock")
    try:
        _recover(staging.parent, landing_root / source / dataset.name)
        _recover(q_staging.parent, quarantine_root / source / dataset.name)
    except BaseException:
        os.close(lock)
        raise

    def home(day: date | None) -> date:
        """The window day a reject is filed under: its own day, held inside the window."""
        if day is None:
            return first_day
        return min(max(day, first_day), days[-1])

    partition_moment = Coercer(
        pa.schema([dataset.schema.field(dataset.partition_by).with_nullable(True)])
    )

    def own_day(record: Mapping[str, Any]) -> date | None:
        """The day of a record that failed coercion, if its partition column alone parses."""
        try:
            moment = partition_moment(record)[dataset.partition_by]
        except RowError:
            return None
        return None if moment is None else moment.date()

    def quarantine(day: date, ref: str, reason: str, raw: Any) -> None:
        day = home(day)
        quarantined[day].append(
            {
                "source_name": source,
                "dataset": dataset.name,
                "window_start": window.start,
                "window_end": window.end,
                "record_ref": ref or "?",
                # A source can echo a secret back inside a bad value, so the reason is scrubbed too.
                "reason": scrub(reason, secrets),
                "raw_payload": None if raw is None else scrub_json(raw, secrets),
            }
        )
        counts[day]["rows_in"] += 1
        counts[day]["rows_quarantined"] += 1

    schema = _with_version(dataset)

    def writer(day: date) -> pq.ParquetWriter:
        if day not in writers:
            folder = staging / f"date={day.isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            writers[day] = pq.ParquetWriter(folder / PART, schema)
        return writers[day]

    def flush(day: date) -> None:
        if not buffers[day]:
            return
        writer(day).write_table(pa.Table.from_pylist(buffers[day], schema=schema))
        buffers[day].clear()

    def land_arrow(table: pa.Table) -> None:
        table = _conform(table, dataset, source)
        reasons = _arrow_reasons(table, dataset, window)
        if reasons is not None:
            failing = pc.is_valid(reasons)
            for ref, reason, row in zip(
                table.filter(failing).column("record_ref").to_pylist(),
                reasons.filter(failing).to_pylist(),
                table.filter(failing).to_pylist(),
                strict=True,
            ):
                moment = row.get(dataset.partition_by)
                quarantine(moment.date() if moment else None, ref, reason, row)
            table = table.filter(pc.invert(failing))
        if table.num_rows == 0:
            return
        table = table.cast(schema)
        micros = pc.cast(table.column(dataset.partition_by), pa.int64())
        day_index = pc.divide(micros, _DAY_US)  # integer division; the window is after 1970
        for index in pc.unique(day_index).to_pylist():
            day = date(1970, 1, 1) + timedelta(days=index)
            part = table.filter(pc.equal(day_index, index))
            writer(day).write_table(part)
            counts[day]["rows_in"] += part.num_rows
            counts[day]["rows_loaded"] += part.num_rows

    try:
        for record in records:
            if isinstance(record, pa.RecordBatch | pa.Table):
                land_arrow(pa.table(record) if isinstance(record, pa.RecordBatch) else record)
                continue
            if isinstance(record, Reject):
                quarantine(record.day, record.record_ref, record.reason, record.raw)
                continue
            ref = str(record.get("record_ref") or "")
            try:
                row = coerce({**record, "source_name": source})
            except RowError as exc:
                quarantine(own_day(record), ref, str(exc), record)
                continue
            moment = row[dataset.partition_by]
            if not window.contains(moment):
                quarantine(
                    moment.date(),
                    ref,
                    f"outside window: {dataset.partition_by}={moment.isoformat()} not in {window}",
                    record,
                )
                continue
            day = moment.date()
            buffers[day].append(row)
            counts[day]["rows_in"] += 1
            counts[day]["rows_loaded"] += 1
            if len(buffers[day]) >= BATCH_ROWS:
                flush(day)
        # Read only now: extractors learn their ignored columns while they are iterated.
        result.ignored_columns = sorted(ignored_columns)
        for day in days:
            flush(day)
            if day in writers:
                writers.pop(day).close()
            else:
                folder = staging / f"date={day.isoformat()}"
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(_with_version(dataset).empty_table(), folder / PART)
            _write_manifest(
                staging / f"date={day.isoformat()}",
                {
                    "source": source,
                    "dataset": dataset.name,
                    "schema_version": dataset.version,
                    "partition_date": day.isoformat(),
                    "window_start": window.start.isoformat(),
                    "window_end": window.end.isoformat(),
                    **counts[day],
                    "ignored_columns": result.ignored_columns,
                    **(dict(manifest_extra) if manifest_extra else {}),
                    "extracted_at": extracted_at.isoformat(),
                },
            )
        for day in days:
            rows = quarantined[day]
            if rows:
                folder = q_staging / f"date={day.isoformat()}"
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(pa.Table.from_pylist(rows, schema=QUARANTINE), folder / PART)
        # Everything is staged: now swap, day by day.
        pause_point("land:staged")
        for index, day in enumerate(days):
            if index == 1:
                pause_point("land:between_days")
            name = f"date={day.isoformat()}"
            _swap(staging / name, partition_dir(landing_root, source, dataset.name, day), staging)
            target = partition_dir(quarantine_root, source, dataset.name, day)
            if quarantined[day]:
                _swap(q_staging / name, target, q_staging)
            elif target.exists():
                # A re-extracted day without rejects clears the day's old rejects.
                _swap_out(target, q_staging)
    finally:
        for writer in writers.values():
            writer.close()
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(q_staging, ignore_errors=True)
        _remove_if_empty(staging.parent, staging.parent.parent)
        _remove_if_empty(q_staging.parent, q_staging.parent.parent)
        os.close(lock)  # releases the lock

    for day in days:
        result.rows_in += counts[day]["rows_in"]
        result.rows_loaded += counts[day]["rows_loaded"]
        result.rows_quarantined += counts[day]["rows_quarantined"]
    return result


def ensure_schema_files(landing_root: Path) -> list[Path]:
    """A zero-row file per dataset so dbt's glob over landing never comes up empty."""
    written = []
    for dataset in DATASETS.values():
        target = Path(landing_root) / "_schema" / dataset.name / "empty" / PART
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{PART}.{uuid.uuid4().hex[:8]}")
        pq.write_table(_with_version(dataset).empty_table(), temporary)
        os.replace(temporary, target)
        written.append(target)
    # The manifests' placeholder: dbt reads every partition's manifest (ops_day_status)
    # through one glob, <source>/<dataset>/<partition>/_manifest.json, which this matches.
    placeholder = Path(landing_root) / "_schema" / "_manifests" / "empty" / MANIFEST
    placeholder.parent.mkdir(parents=True, exist_ok=True)
    temporary = placeholder.with_name(f".{MANIFEST}.{uuid.uuid4().hex[:8]}")
    temporary.write_text(json.dumps(EMPTY_MANIFEST), encoding="utf-8")
    os.replace(temporary, placeholder)
    written.append(placeholder)
    return written


def _conform(table: pa.Table, dataset: Dataset, source: str) -> pa.Table:
    """The batch with ``source_name`` filled in and exactly the dataset's columns and types.

    A batch with missing or mistyped columns is the extractor's bug, not bad data:
    it raises instead of quarantining.
    """
    if "source_name" not in table.column_names:
        table = table.append_column("source_name", pa.array([source] * table.num_rows, pa.string()))
    missing = [n for n in dataset.schema.names if n not in table.column_names]
    if missing:
        raise ValueError(f"{dataset.name}: Arrow batch lacks columns {missing}")
    table = table.select(dataset.schema.names)
    # Nullability is checked per row once the batch is in; this cast checks the types.
    loose = pa.schema([f.with_nullable(True) for f in dataset.schema])
    return table.cast(loose, safe=True)


def _arrow_reasons(table: pa.Table, dataset: Dataset, window: Window) -> pa.Array | None:
    """Per row, why it cannot land (null where it can), as the row-wise Coercer says it."""
    reasons = None

    # Reasons are built only for batches that have a failing row: most have none.
    def add(failing: pa.Array, reason: Callable[[], pa.Array | str]) -> None:
        nonlocal reasons
        failing = pc.fill_null(failing, False)
        if not pc.any(failing).as_py():
            return
        new = pc.if_else(failing, reason(), pa.scalar(None, pa.string()))
        reasons = new if reasons is None else pc.coalesce(reasons, new)

    for column_field in dataset.schema:
        if not column_field.nullable:
            column = table.column(column_field.name)
            missing = pc.is_null(column)
            if pa.types.is_string(column_field.type):
                missing = pc.or_kleene(missing, pc.equal(column, ""))
            add(missing, lambda name=column_field.name: f"missing required field {name}")
    for column_field in dataset.schema:
        if pa.types.is_string(column_field.type):
            for failing, reason in control_character_masks(
                column_field.name, table.column(column_field.name)
            ):
                add(failing, lambda reason=reason: reason)
    moment = table.column(dataset.partition_by)
    outside = pc.or_(
        pc.less(moment, pa.scalar(window.start, moment.type)),
        pc.greater_equal(moment, pa.scalar(window.end, moment.type)),
    )

    def outside_reason() -> pa.Array:
        text = pc.strftime(moment, format="%Y-%m-%dT%H:%M:%S")
        return pc.binary_join_element_wise(
            f"outside window: {dataset.partition_by}=", text, f" not in {window}", ""
        )

    add(outside, outside_reason)
    return reasons


def _with_version(dataset: Dataset) -> pa.Schema:
    return dataset.schema.with_metadata(
        {
            "costbridge.dataset": dataset.name,
            "costbridge.schema_version": str(dataset.version),
        }
    )


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    part = folder / PART
    manifest["files"] = [
        {
            "path": PART,
            "rows": pq.ParquetFile(part).metadata.num_rows,
            # A day can be gigabytes: hash it in blocks, never read it whole.
            "sha256": _sha256(part),
        }
    ]
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _swap(staged: Path, target: Path, scratch: Path) -> None:
    """Replace ``target`` with ``staged`` on one file system.

    One atomic exchange where the kernel has it (the old day then sits in staging until
    it is removed); elsewhere two renames, between which the day is briefly absent
    (never half-written), and a crash there is put right by the next run (``_recover``).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.rename(staged, target)
        return
    if _exchange(staged, target):
        pause_point("land:exchanged")
        shutil.rmtree(staged, ignore_errors=True)
        return
    _swap_out(target, scratch)
    os.rename(staged, target)


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not Linux, or a libc without it (glibc < 2.28)
        return None
    path, fd = ctypes.c_char_p, ctypes.c_int
    function.argtypes = [fd, path, fd, path, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing directory entries in one step; False where the system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # an old kernel, or a file system without exchange
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _lock(path: Path) -> int:
    """An exclusive lock on ``path`` (created if need be), released when the fd is closed
    or the process dies, however it dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _recover(runs: Path, live: Path) -> None:
    """Clear the staging runs a killed landing left under ``runs`` (the caller holds the lock).

    A partition a two-rename swap took out (``old-date=...-<id>``) and never replaced is
    put back first: the day keeps its old data until a run lands it anew.
    """
    if not runs.is_dir():
        return
    for run in sorted(runs.iterdir()):
        for old in sorted(run.glob("old-date=*")):
            target = live / old.name.removeprefix("old-")[: -len("-00000000")]
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(old, target)
        shutil.rmtree(run, ignore_errors=True)


def _swap_out(target: Path, scratch: Path) -> None:
    scratch.mkdir(parents=True, exist_ok=True)
    old = scratch / f"old-{target.name}-{uuid.uuid4().hex[:8]}"
    os.rename(target, old)
    shutil.rmtree(old, ignore_errors=True)


def _remove_if_empty(*folders: Path) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return
