"""LiteLLM proxy spend logs: the cost columns of ``LiteLLM_SpendLogs`` in PostgreSQL.

One row per proxied request. Only cost columns are read, named one by one in the
SELECT: ``messages``, ``response`` and ``proxy_server_request`` hold prompt and
completion text and are never selected, and of ``metadata`` only a few ids and
aliases (plus the cached-token count) are extracted inside PostgreSQL, so the rest
of it never leaves the database.

A day can hold ten million rows, so nothing here is per-row Python: PostgreSQL
validates each row (the reasons a row cannot land are computed in the SELECT) and
streams ``COPY (SELECT ...) TO STDOUT`` as CSV straight into Arrow's CSV reader;
the landing writer gets Arrow batches and writes them in row groups. Only the rare
rejected row becomes a Python object, on its way to quarantine.

Schema drift, for a table rather than a file: the columns are read from
``information_schema.columns`` first. A column costbridge reads that is missing
(or renamed: it then also shows up as unknown) or has an incompatible type stops
the run with ``SchemaDriftError``. Columns LiteLLM adds in a new release are never
selected, so they cannot leak in; they are recorded in the manifest as
``ignored_columns``. With column-level grants (docs/sources.md) the role sees only
the granted columns, which is all this module needs.
"""

from __future__ import annotations

import builtins
import functools
import io
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from extractors.base import Extractor, Record
from extractors.coerce import RejectReasons
from extractors.errors import (
    FatalSourceError,
    RetriableSourceError,
    SchemaDriftError,
    SourceError,
)
from extractors.landing import Reject
from extractors.options import (
    BACKOFF_FACTOR,
    BLOCK_SIZE_MIB,
    CONNECT_TIMEOUT,
    LOOKBACK_DAYS,
    RETRY_TOTAL,
    SECONDS,
    NonEmptyText,
    SourceOptions,
    option,
    secret,
)
from extractors.secrets import Secret, env_resolver, resolve_secret, scrub
from landing.schemas import LITELLM_SPEND_LOGS, TS, Dataset
from landing.window import Window

log = logging.getLogger(__name__)

TABLE = "LiteLLM_SpendLogs"
CURRENCY = "USD"  # LiteLLM's price map and its spend are in US dollars

_TEXT = ("text", "character varying", "character")
_TIMES = ("timestamp without time zone", "timestamp with time zone")
_INTS = ("integer", "bigint", "smallint")
_JSON = ("jsonb", "json")
# Source column -> the PostgreSQL types this module knows how to read.
READ_COLUMNS: dict[str, tuple[str, ...]] = {
    "request_id": _TEXT,
    "call_type": _TEXT,
    "api_key": _TEXT,
    "spend": ("double precision", "real", "numeric"),
    "total_tokens": _INTS,
    "prompt_tokens": _INTS,
    "completion_tokens": _INTS,
    "startTime": _TIMES,
    "endTime": _TIMES,
    "model": _TEXT,
    "model_id": _TEXT,
    "model_group": _TEXT,
    "custom_llm_provider": _TEXT,
    "user": _TEXT,
    "metadata": _JSON,
    "cache_hit": (*_TEXT, "boolean"),
    "request_tags": _JSON,
    "team_id": _TEXT,
    "end_user": _TEXT,
    "status": _TEXT,
}
# LiteLLM columns deliberately not read; anything else in the table is new to us.
NOT_READ = frozenset(
    {
        "messages",
        "response",
        "proxy_server_request",
        "request_duration_ms",
        "completionStartTime",
        "api_base",
        "cache_key",
        "organization_id",
        "requester_ip_address",
        "session_id",
        "mcp_namespaced_tool_name",
        "billing_agent_id",
        "agent_id",
        "litellm_call_id",
        "created_at",
        "updated_at",
    }
)
# The only metadata keys that leave the database: who spent, never what was said.
METADATA_KEYS = (
    "user_api_key_alias",
    "user_api_key_team_id",
    "user_api_key_team_alias",
    "user_api_key_user_id",
    "user_api_key_org_id",
)
# Landing column -> source column, for the columns copied as they are.
_PLAIN = {
    "request_id": "request_id",
    "call_type": "call_type",
    "api_key_id": "api_key",
    "model": "model",
    "model_id": "model_id",
    "model_group": "model_group",
    "custom_llm_provider": "custom_llm_provider",
    "user_id": "user",
    "team_id": "team_id",
    "end_user_id": "end_user",
    "status": "status",
    "request_tags": "request_tags",
    "prompt_tokens": "prompt_tokens",
    "completion_tokens": "completion_tokens",
    "total_tokens": "total_tokens",
    "started_at": "startTime",
    "ended_at": "endTime",
}
# What the COPY hands over, in order, with the Arrow type its CSV is parsed to. Checks
# and conversions happen in Arrow, off PostgreSQL's (single) busy core.
COPY_COLUMNS: dict[str, pa.DataType] = {
    **{name: pa.string() for name in list(_PLAIN)[:12]},
    "prompt_tokens": pa.int64(),
    "completion_tokens": pa.int64(),
    "total_tokens": pa.int64(),
    "started_at": pa.timestamp("us"),  # naive UTC in the CSV; tagged UTC after parsing
    "ended_at": pa.timestamp("us"),
    "spend": pa.float64(),
    "cache_hit": pa.string(),
    "cached_tokens": pa.string(),
    "metadata": pa.string(),
}
MAX_SPEND = 1e26  # decimal(38, 12) holds 26 integer digits
# What LiteLLM writes: str() of a Python bool or None, or "" (its default).
_LITELLM_HIT = pa.array(["True", "False", "None", ""])


# libpq reports a refused login without a SQLSTATE, so its words are all there is.
_NOT_TRANSIENT = ("password authentication failed", "does not exist", "no pg_hba.conf entry")


def _transient(exc: BaseException) -> bool:
    """Connection trouble worth retrying; bad credentials or a wrong database are not."""
    if not isinstance(exc, psycopg.OperationalError):
        return False
    if any(words in str(exc) for words in _NOT_TRANSIENT):
        return False
    state = exc.sqlstate or ""
    # No SQLSTATE: refused, reset or timed out before the server said anything.
    return state == "" or state.startswith("08") or state in ("57P01", "57P03", "53300")


def _failure(state: RetryCallState) -> str:
    """The exception of the attempt that failed, as text."""
    return str(state.outcome.exception() if state.outcome else "")


@dataclass(frozen=True, kw_only=True)
class LiteLLMOptions(SourceOptions):
    dsn: Any = secret()
    schema: str = option("public", NonEmptyText())
    table: str = option(TABLE, NonEmptyText())
    connect_timeout: int = option(10, CONNECT_TIMEOUT)
    retry_total: int = option(5, RETRY_TOTAL)
    retry_backoff_factor: float = option(1.0, BACKOFF_FACTOR)
    retry_backoff_max: float = option(60.0, SECONDS)
    block_size_mib: int = option(16, BLOCK_SIZE_MIB)  # of the CSV the COPY streams
    # LiteLLM writes spend logs from an in-memory queue some seconds after a request
    # ends, so a request started just before midnight can appear after the day's run.
    lookback_days: int = option(1, LOOKBACK_DAYS)


class LiteLLMExtractor(Extractor):
    type = "litellm"
    datasets: ClassVar[dict[str, Dataset]] = {"spend_logs": LITELLM_SPEND_LOGS}
    Options = LiteLLMOptions
    options: LiteLLMOptions

    def secret(self, option: str) -> Secret:
        # Ask the resolver for a whole DSN: from an Airflow Connection it is built from
        # the host, port, login, password and schema fields, not just the password.
        if option == "dsn" and option not in self._secrets:
            base = self._resolver or env_resolver
            self._secrets[option] = resolve_secret(
                self.name,
                option,
                self.options.dsn,
                lambda ref: base({**ref, "format": "dsn"}),
            )
        return super().secret(option)

    def _error(
        self, kind: builtins.type[SourceError], message: str, record: str | None = None
    ) -> SourceError:
        secrets = self.secret_values()
        for dsn in list(secrets):
            try:
                secrets.append(str(conninfo_to_dict(dsn).get("password") or ""))
            except psycopg.ProgrammingError:
                pass
        return kind(scrub(message, secrets), source=self.name, window=self.window, record=record)

    def _log_retry(self, state: RetryCallState) -> None:
        log.warning(
            "source %s: cannot connect to PostgreSQL (attempt %d), retrying in %.1f s: %s",
            self.name,
            state.attempt_number,
            state.next_action.sleep if state.next_action else 0.0,
            self._error(RetriableSourceError, _failure(state)).detail,
        )

    def connect(self) -> psycopg.Connection:
        """A read-only, UTC session; connection trouble is retried with backoff."""
        dsn = self.secret("dsn").reveal()
        retrying = Retrying(
            stop=stop_after_attempt(int(self.options.retry_total) + 1),
            wait=wait_exponential(
                multiplier=float(self.options.retry_backoff_factor),
                max=float(self.options.retry_backoff_max),
            ),
            retry=retry_if_exception(_transient),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            conn = retrying(
                psycopg.connect,
                dsn,
                connect_timeout=int(self.options.connect_timeout),
                # Timestamps are compared and printed in UTC, whatever the server's zone.
                # JIT only slows a plain scan like this one.
                options="-c timezone=UTC -c datestyle=ISO -c jit=off",
                application_name="costbridge-litellm",
            )
        except psycopg.Error as exc:  # also a malformed DSN, whose text may hold the password
            kind = RetriableSourceError if _transient(exc) else FatalSourceError
            attempts = retrying.statistics.get("attempt_number", 1)
            raise self._error(
                kind, f"cannot connect to PostgreSQL (attempts: {attempts}): {exc}"
            ) from None
        conn.read_only = True
        return conn

    def table_columns(self, conn: psycopg.Connection) -> dict[str, str]:
        schema, table = self.options.schema, self.options.table
        rows = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        ).fetchall()
        if not rows:
            raise self._error(
                FatalSourceError,
                f'table "{schema}"."{table}" not found, or the role may not read any column of it',
                record=f"{schema}.{table}",
            )
        return dict(rows)

    def check_drift(self, columns: Mapping[str, str]) -> list[str]:
        """The table's columns new to costbridge (ignored), or ``SchemaDriftError``."""
        missing = sorted(set(READ_COLUMNS) - set(columns))
        unknown = sorted(set(columns) - set(READ_COLUMNS) - NOT_READ)
        mistyped = [
            f"{name} is {columns[name]} (expected {' or '.join(READ_COLUMNS[name])})"
            for name in READ_COLUMNS
            if name in columns and columns[name] not in READ_COLUMNS[name]
        ]
        if missing or mistyped:
            problems = [f"missing columns {missing}"] if missing else []
            problems += mistyped
            hint = (
                f"; columns unknown to costbridge: {unknown} (a renamed column?)" if unknown else ""
            )
            raise SchemaDriftError(
                f"schema drift in {self.options.table}: {'; '.join(problems)}{hint}",
                source=self.name,
                window=self.window,
                record=f"{self.options.schema}.{self.options.table}",
            )
        return unknown

    def copy_statement(self, types: Mapping[str, str]) -> sql.Composed:
        """``COPY (SELECT <cost columns> ...) TO STDOUT`` for the window, as CSV."""
        return sql.SQL(
            "COPY (SELECT {exprs} FROM {table} WHERE {where}) TO STDOUT (FORMAT csv)"
        ).format(
            exprs=sql.SQL(", ").join(_copied(types)),
            table=sql.Identifier(self.options.schema, self.options.table),
            where=_in_window(types, self.window),
        )

    def extract(self, dataset: Dataset) -> Iterator[Record]:
        with self.connect() as conn:
            try:
                columns = self.table_columns(conn)
                self.ignore_columns(dataset, self.check_drift(columns))
                statement = self.copy_statement(columns)
                with conn.cursor() as cur, cur.copy(statement) as copy:
                    yield from self._batches(copy)
            except psycopg.OperationalError as exc:
                kind = RetriableSourceError if _transient(exc) else FatalSourceError
                raise self._error(kind, f"reading {TABLE} failed: {exc}") from None
            except psycopg.Error as exc:
                raise self._error(FatalSourceError, f"reading {TABLE} failed: {exc}") from None

    def _batches(self, copy: psycopg.Copy) -> Iterator[Record]:
        reader = _csv_reader(copy, block_size=int(self.options.block_size_mib) << 20)
        try:
            for batch in reader:
                yield from self._split(batch)
        except pa.ArrowInvalid as exc:
            raise self._error(FatalSourceError, f"unreadable COPY output: {exc}") from None

    def _split(self, batch: pa.RecordBatch) -> Iterator[Record]:
        """Landing rows as one Arrow table, and a ``Reject`` for each row that cannot land."""
        table, reasons = to_landing(batch)
        if reasons is not None:
            failing = pc.is_valid(reasons)
            rejected = batch.filter(failing)
            for reason, row in zip(
                reasons.filter(failing).to_pylist(), rejected.to_pylist(), strict=True
            ):
                yield Reject(f"{TABLE} request_id={row.get('request_id')}", reason, row)
            table = table.filter(pc.invert(failing))
        if table.num_rows:
            yield table


def _column(types: Mapping[str, str], name: str) -> sql.Composable:
    """A source column as the COPY reads it: naive UTC times, float spend, jsonb."""
    column = sql.Identifier(name)
    if types[name] == "timestamp with time zone":
        return sql.SQL("({} AT TIME ZONE 'UTC')").format(column)
    if name == "spend" and types[name] == "numeric":
        return sql.SQL("{}::float8").format(column)  # LiteLLM's own type
    if types[name] in _JSON:
        return sql.SQL("{}::jsonb").format(column)
    return column


def _copied(types: Mapping[str, str]) -> list[sql.Composable]:
    """The SELECT list, in the order of COPY_COLUMNS."""
    meta = _column(types, "metadata")
    exprs = [_column(types, source) for source in _PLAIN.values()]
    exprs[list(_PLAIN).index("request_tags")] = sql.SQL("{}::text").format(
        _column(types, "request_tags")
    )
    return [
        *exprs,
        _column(types, "spend"),
        sql.SQL("{}::text").format(_column(types, "cache_hit")),
        sql.SQL(
            "coalesce({m}->'usage_object'->'prompt_tokens_details'->>'cached_tokens', "
            "{m}->'usage_object'->>'cache_read_input_tokens')"
        ).format(m=meta),
        _metadata_ids(meta),
    ]


def _metadata_ids(meta: sql.Composable) -> sql.Composable:
    """{"key": value, ...} of METADATA_KEYS without the keys LiteLLM left empty.

    As jsonb_strip_nulls would make it, but by plain text concatenation: building jsonb
    costs more than the whole rest of the row. Values are jsonb text, so already escaped.
    """
    return sql.SQL("'{{' || concat_ws(', ', {}) || '}}'").format(
        sql.SQL(", ").join(
            sql.SQL("{} || nullif(({}->{})::text, 'null')").format(
                sql.Literal(f'"{k}": '), meta, sql.Literal(k)
            )
            for k in METADATA_KEYS
        )
    )


def _in_window(types: Mapping[str, str], window: Window) -> sql.Composable:
    """A row's day is its startTime; a row without one is placed by its endTime so it
    reaches quarantine exactly once. Both branches can use LiteLLM's indexes."""
    start, end = sql.Literal(_naive(window.start)), sql.Literal(_naive(window.end))
    return sql.SQL(
        "({st} >= {lo} AND {st} < {hi}) OR ({st} IS NULL AND {et} >= {lo} AND {et} < {hi})"
    ).format(st=_column(types, "startTime"), et=_column(types, "endTime"), lo=start, hi=end)


def _csv_reader(copy: psycopg.Copy, *, block_size: int) -> pacsv.CSVStreamingReader:
    """Arrow batches of COPY_COLUMNS from the CSV that PostgreSQL's COPY streams."""
    return pacsv.open_csv(
        io.BufferedReader(_CopyStream(copy), buffer_size=1 << 20),
        read_options=pacsv.ReadOptions(column_names=list(COPY_COLUMNS), block_size=block_size),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=COPY_COLUMNS,
            # PostgreSQL's CSV writes NULL unquoted and '' quoted: keep them apart.
            null_values=[""],
            true_values=["t"],
            false_values=["f"],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


# Records why rows fail: ``check(failing, reason)`` with a reason built only if any does.
Check = Callable[[pa.Array, Callable[[], pa.Array | str]], None]


def to_landing(batch: pa.RecordBatch) -> tuple[pa.Table, pa.Array | None]:
    """The batch in landing columns, and per row why it cannot land (null: it can).

    Reasons read like the row-wise coercer's, so quarantine reads the same for every
    source; a reason quotes no more than the offending value.
    """
    reasons = RejectReasons(separator="; ")
    check = reasons.check

    check(pc.is_null(batch["request_id"]), lambda: "missing required field request_id")
    check(pc.is_null(batch["started_at"]), lambda: "missing required field startTime")
    spend = _spend(batch["spend"], check)
    _check_token_counts(batch, check)
    is_hit = _cache_hit(batch["cache_hit"], check)
    cached = _cached_tokens(batch["cached_tokens"], check)
    return _landing_table(batch, spend=spend, cached=cached, is_hit=is_hit), reasons.array


def _quoting(prefix: str, values: pa.Array) -> Callable[[], pa.Array]:
    """A reason that quotes each row's value after ``prefix``."""
    return lambda: pc.binary_join_element_wise(prefix, pc.cast(values, pa.string()), "")


def _spend(spend: pa.Array, check: Check) -> pa.Array:
    """LiteLLM's spend, null where it is not an amount the landing can hold."""
    check(pc.is_null(spend), lambda: "missing required field spend")
    bad_spend = pc.invert(pc.and_(pc.greater_equal(spend, 0.0), pc.less(spend, MAX_SPEND)))
    check(bad_spend, _quoting("spend is not an amount >= 0: ", spend))
    if pc.any(pc.fill_null(bad_spend, False)).as_py():
        spend = pc.if_else(bad_spend, pa.scalar(None, pa.float64()), spend)
    return spend


def _check_token_counts(batch: pa.RecordBatch, check: Check) -> None:
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        values = batch[name]
        check(pc.is_null(values), functools.partial(str, f"missing required field {name}"))
        check(pc.less(values, 0), _quoting(f"{name}: negative count ", values))


def _cache_hit(hit: pa.Array, check: Check) -> pa.Array:
    """``cache_hit`` as a boolean, null when LiteLLM did not say."""
    is_hit = pc.equal(hit, "True")  # what LiteLLM writes; anything else is checked below
    if not pc.all(pc.is_in(hit, _LITELLM_HIT)).as_py():
        hit = pc.utf8_lower(pc.utf8_trim_whitespace(hit))
        is_hit = pc.equal(hit, "true")
        check(
            pc.invert(pc.is_in(hit, pa.array(["true", "false", "none", ""]))),
            _quoting("cache_hit: not a boolean: ", hit),
        )
    unknown = pc.or_kleene(pc.is_null(hit), pc.is_in(hit, pa.array(["", "None", "none"])))
    return pc.if_else(unknown, None, is_hit)


def _cached_tokens(cached: pa.Array, check: Check) -> pa.Array:
    """The cached-token count from the metadata (text), as integers."""
    is_count = pc.and_(pc.utf8_is_digit(cached), pc.less_equal(pc.utf8_length(cached), 18))
    if not pc.all(is_count).as_py():
        check(pc.invert(is_count), _quoting("cached_tokens in metadata: not a count: ", cached))
        cached = pc.if_else(pc.fill_null(is_count, False), cached, None)
    return pc.cast(cached, pa.int64())


def _landing_table(
    batch: pa.RecordBatch, *, spend: pa.Array, cached: pa.Array, is_hit: pa.Array
) -> pa.Table:
    columns = {
        "record_ref": batch["request_id"],
        **{name: batch[name] for name in _PLAIN if name not in ("started_at", "ended_at")},
        "metadata": batch["metadata"],
        "currency": pa.array([CURRENCY] * batch.num_rows, pa.string()),
        # The exact binary value of LiteLLM's float, rounded to the landing's 12 decimals.
        "spend": pc.cast(spend, LITELLM_SPEND_LOGS.schema.field("spend").type),
        "cached_prompt_tokens": cached,
        "is_cache_hit": is_hit,
        "started_at": pc.cast(batch["started_at"], TS),
        "ended_at": pc.cast(batch["ended_at"], TS),
    }
    return pa.table(columns)


def _naive(moment: datetime) -> datetime:
    """A UTC datetime without its zone, as LiteLLM's ``timestamp(3)`` columns hold it."""
    return moment.replace(tzinfo=None)


class _CopyStream(io.RawIOBase):
    """COPY TO STDOUT as a readable byte stream (Arrow's CSV reader pulls from it)."""

    def __init__(self, copy: psycopg.Copy):
        self._blocks = iter(copy)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        # psycopg hands over one row per block; a BufferedReader gathers them.
        while not self._pending:
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._pending = memoryview(block)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
