"""The landing writer: coerce, quarantine, partition by UTC day, replace atomically.

The layout is ``landing.layout``'s. Every day of the window gets a landing partition,
even an empty one, so a restated day that became empty is cleared. A partition is
written into a staging folder on the same file system
(``<landing_root>/<source>/_staging/``, outside dbt's glob) and swapped in by rename
(``extractors.swap``): re-extracting a day replaces it, never doubles it, and a crash
never leaves half a partition. A run holds an exclusive lock per source and dataset
(``<landing_root>/<source>/.<dataset>.lock``) and first clears what a killed run left
in staging, putting back an old partition a crash took out and never replaced.

A rejected row is filed in quarantine under the day its data belongs to (its home
day): the row's own partition date when it parses, else the day its extractor names
(``Reject.day``: a bucket's start, a bill's period), and only as a last resort the
window's first day. Each run replaces the quarantine days of its window, so a reject
re-read by the next run's lookback replaces itself under the same day: it is filed
once, whatever the windows.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from extractors.coerce import Coercer, RejectReasons, RowError, control_character_masks
from extractors.pause import pause_point
from extractors.secrets import scrub, scrub_json
from extractors.swap import locked, recover, remove_if_empty, swap, swap_out
from landing.layout import PART, STAGING, partition_dir, partition_name, write_manifest
from landing.schemas import QUARANTINE, Dataset
from landing.window import Window

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
    # Where a reader looks for rejects exists from the first extraction, rejects or not.
    Path(quarantine_root).mkdir(parents=True, exist_ok=True)
    extracted_at = extracted_at or datetime.now(UTC)
    run = _Landing(dataset, source, window, Path(landing_root), Path(quarantine_root), secrets)
    result = LandingResult(dataset=dataset.name, partitions=[d.isoformat() for d in run.days])
    # Held until the swaps are done: a second landing of this dataset waits, and what
    # staging holds from any other run is a killed run's, safe to clear.
    with locked(run.landing / source / f".{dataset.name}.lock"):
        run.recover()
        try:
            for record in records:
                run.take(record)
            # Read only now: extractors learn their ignored columns while they are iterated.
            result.ignored_columns = sorted(ignored_columns)
            run.stage(
                {
                    "ignored_columns": result.ignored_columns,
                    **(dict(manifest_extra) if manifest_extra else {}),
                    "extracted_at": extracted_at.isoformat(),
                }
            )
            pause_point("land:staged")
            run.swap()
        finally:
            run.clean_up()
    for day in run.days.values():
        result.rows_in += day.rows_in
        result.rows_loaded += day.rows_loaded
        result.rows_quarantined += day.rows_quarantined
    return result


@dataclass
class _Day:
    """One window day of a landing: its rows so far, its open file and its rejects."""

    buffer: list[dict[str, Any]] = field(default_factory=list)
    writer: pq.ParquetWriter | None = None
    rejects: list[dict[str, Any]] = field(default_factory=list)
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "rows_in": self.rows_in,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
        }


class _Landing:
    """One run of ``land``: records in, each window day staged, then swapped in."""

    def __init__(
        self,
        dataset: Dataset,
        source: str,
        window: Window,
        landing: Path,
        quarantine: Path,
        secrets: Iterable[str],
    ):
        self.dataset, self.source, self.window = dataset, source, window
        self.landing, self.quarantine, self.secrets = landing, quarantine, secrets
        run = uuid.uuid4().hex[:12]
        self.staging = landing / source / STAGING / dataset.name / run
        self.q_staging = quarantine / source / STAGING / dataset.name / run
        self.window_days = window.days()
        self.days = {day: _Day() for day in self.window_days}
        self.schema = dataset.file_schema
        self.coerce = Coercer(dataset.schema)
        self.partition_moment = Coercer(
            pa.schema([dataset.schema.field(dataset.partition_by).with_nullable(True)])
        )

    def recover(self) -> None:
        recover(self.staging.parent, self.landing / self.source / self.dataset.name)
        recover(self.q_staging.parent, self.quarantine / self.source / self.dataset.name)

    def take(self, record: Mapping[str, Any] | Reject | pa.RecordBatch | pa.Table) -> None:
        if isinstance(record, pa.RecordBatch):
            self.take_arrow(pa.table(record))
        elif isinstance(record, pa.Table):
            self.take_arrow(record)
        elif isinstance(record, Reject):
            self.reject(record.day, record.record_ref, record.reason, record.raw)
        else:
            self.take_row(record)

    def take_row(self, record: Mapping[str, Any]) -> None:
        ref = str(record.get("record_ref") or "")
        try:
            row = self.coerce({**record, "source_name": self.source})
        except RowError as exc:
            self.reject(self.own_day(record), ref, str(exc), record)
            return
        moment = row[self.dataset.partition_by]
        if not self.window.contains(moment):
            where = f"{self.dataset.partition_by}={moment.isoformat()}"
            self.reject(moment.date(), ref, f"outside window: {where} not in {self.window}", record)
            return
        day = self.days[moment.date()]
        day.buffer.append(row)
        day.rows_in += 1
        day.rows_loaded += 1
        if len(day.buffer) >= BATCH_ROWS:
            self.flush(moment.date())

    def take_arrow(self, table: pa.Table) -> None:
        table = _conform(table, self.dataset, self.source)
        reasons = _arrow_reasons(table, self.dataset, self.window)
        if reasons is not None:
            failing = pc.is_valid(reasons)
            for ref, reason, row in zip(
                table.filter(failing).column("record_ref").to_pylist(),
                reasons.filter(failing).to_pylist(),
                table.filter(failing).to_pylist(),
                strict=True,
            ):
                moment = row.get(self.dataset.partition_by)
                self.reject(moment.date() if moment else None, ref, reason, row)
            table = table.filter(pc.invert(failing))
        if table.num_rows == 0:
            return
        table = table.cast(self.schema)
        micros = pc.cast(table.column(self.dataset.partition_by), pa.int64())
        day_index = pc.divide(micros, _DAY_US)  # integer division; the window is after 1970
        for index in pc.unique(day_index).to_pylist():
            day = date(1970, 1, 1) + timedelta(days=index)
            part = table.filter(pc.equal(day_index, index))
            self.writer(day).write_table(part)
            self.days[day].rows_in += part.num_rows
            self.days[day].rows_loaded += part.num_rows

    def own_day(self, record: Mapping[str, Any]) -> date | None:
        """The day of a record that failed coercion, if its partition column alone parses."""
        try:
            moment = self.partition_moment(record)[self.dataset.partition_by]
        except RowError:
            return None
        return None if moment is None else moment.date()

    def home(self, day: date | None) -> date:
        """The window day a reject is filed under: its own day, held inside the window."""
        first, last = self.window_days[0], self.window_days[-1]
        return first if day is None else min(max(day, first), last)

    def reject(self, day: date | None, ref: str, reason: str, raw: Any) -> None:
        home = self.days[self.home(day)]
        home.rejects.append(
            {
                "source_name": self.source,
                "dataset": self.dataset.name,
                "window_start": self.window.start,
                "window_end": self.window.end,
                "record_ref": ref or "?",
                # A source can echo a secret back inside a bad value, so the reason is scrubbed too.
                "reason": scrub(reason, self.secrets),
                "raw_payload": None if raw is None else scrub_json(raw, self.secrets),
            }
        )
        home.rows_in += 1
        home.rows_quarantined += 1

    def writer(self, day: date) -> pq.ParquetWriter:
        state = self.days[day]
        if state.writer is None:
            folder = self.staging / partition_name(day)
            folder.mkdir(parents=True, exist_ok=True)
            state.writer = pq.ParquetWriter(folder / PART, self.schema)
        return state.writer

    def flush(self, day: date) -> None:
        buffer = self.days[day].buffer
        if buffer:
            self.writer(day).write_table(pa.Table.from_pylist(buffer, schema=self.schema))
            buffer.clear()

    def stage(self, manifest_tail: dict[str, Any]) -> None:
        """Every window day's file and manifest, and its rejects, complete in staging."""
        for day, state in self.days.items():
            self.flush(day)
            folder = self.staging / partition_name(day)
            if state.writer is not None:
                state.writer.close()
                state.writer = None
            else:
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(self.schema.empty_table(), folder / PART)
            write_manifest(folder, {**self.manifest_head(day), **manifest_tail})
        for day, state in self.days.items():
            if state.rejects:
                folder = self.q_staging / partition_name(day)
                folder.mkdir(parents=True, exist_ok=True)
                table = pa.Table.from_pylist(state.rejects, schema=QUARANTINE)
                pq.write_table(table, folder / PART)

    def manifest_head(self, day: date) -> dict[str, Any]:
        return {
            "source": self.source,
            "dataset": self.dataset.name,
            "schema_version": self.dataset.version,
            "partition_date": day.isoformat(),
            "window_start": self.window.start.isoformat(),
            "window_end": self.window.end.isoformat(),
            **self.days[day].counts(),
        }

    def swap(self) -> None:
        """Each staged day in place of the live one, day by day."""
        for index, (day, state) in enumerate(self.days.items()):
            if index == 1:
                pause_point("land:between_days")
            name = partition_name(day)
            live = partition_dir(self.landing, self.source, self.dataset.name, day)
            swap(self.staging / name, live, self.staging)
            filed = partition_dir(self.quarantine, self.source, self.dataset.name, day)
            if state.rejects:
                swap(self.q_staging / name, filed, self.q_staging)
            elif filed.exists():
                # A re-extracted day without rejects clears the day's old rejects.
                swap_out(filed, self.q_staging)

    def clean_up(self) -> None:
        for state in self.days.values():
            if state.writer is not None:
                state.writer.close()
        shutil.rmtree(self.staging, ignore_errors=True)
        shutil.rmtree(self.q_staging, ignore_errors=True)
        remove_if_empty(self.staging.parent, self.staging.parent.parent)
        remove_if_empty(self.q_staging.parent, self.q_staging.parent.parent)


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
    reasons = RejectReasons()
    for column_field in dataset.schema:
        if not column_field.nullable:
            column = table.column(column_field.name)
            missing = pc.is_null(column)
            if pa.types.is_string(column_field.type):
                missing = pc.or_kleene(missing, pc.equal(column, ""))
            reasons.check(missing, f"missing required field {column_field.name}")
    for column_field in dataset.schema:
        if pa.types.is_string(column_field.type):
            for failing, reason in control_character_masks(
                column_field.name, table.column(column_field.name)
            ):
                reasons.check(failing, reason)
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

    reasons.check(outside, outside_reason)
    return reasons.array
