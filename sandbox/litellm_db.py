"""LiteLLM proxy's `LiteLLM_SpendLogs` table in PostgreSQL, filled with demo traffic.

The table is created as LiteLLM's Prisma migrations create it (same names, types,
defaults, indexes). Rows come from the demo organisation's catalogue
(sandbox/demo_org.yml): each row is one request of one api key, so its team,
feature tags, model and price follow the catalogue; `rows_per_day` sets the volume.

`messages`, `response` and `proxy_server_request` carry canary text
(PROMPT-CANARY-..., COMPLETION-CANARY-...) so tests can prove that nothing
downstream copies prompts or completions.

Rows are built a chunk at a time with numpy and pyarrow compute (no per-row
Python) and streamed to PostgreSQL with COPY ... FROM STDIN in CSV.

CLI:  python -m sandbox.litellm_db --start 2026-10-01 --end 2026-10-02 --rows-per-day 100000
      (DSN from $LITELLM_DATABASE_URL; --create-table to create the table first)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import yaml
from psycopg.copy import QueuedLibpqWriter

from sandbox.org import model_on

TABLE = "LiteLLM_SpendLogs"
DEMO_ORG = Path(__file__).with_name("demo_org.yml")
PROMPT_CANARY = "PROMPT-CANARY-"
COMPLETION_CANARY = "COMPLETION-CANARY-"
CHUNK_ROWS = 100_000  # part of the determinism contract: chunks seed their own RNG

# As LiteLLM's Prisma schema maps to PostgreSQL: String -> text, Float -> double
# precision, Int -> integer, DateTime -> timestamp(3) (UTC, no zone), Json -> jsonb.
DDL = f"""
CREATE TABLE "{TABLE}" (
    "request_id" TEXT NOT NULL,
    "call_type" TEXT NOT NULL,
    "api_key" TEXT NOT NULL DEFAULT '',
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    "total_tokens" INTEGER NOT NULL DEFAULT 0,
    "prompt_tokens" INTEGER NOT NULL DEFAULT 0,
    "completion_tokens" INTEGER NOT NULL DEFAULT 0,
    "startTime" TIMESTAMP(3) NOT NULL,
    "endTime" TIMESTAMP(3) NOT NULL,
    "request_duration_ms" INTEGER,
    "completionStartTime" TIMESTAMP(3),
    "model" TEXT NOT NULL DEFAULT '',
    "model_id" TEXT DEFAULT '',
    "model_group" TEXT DEFAULT '',
    "custom_llm_provider" TEXT DEFAULT '',
    "api_base" TEXT DEFAULT '',
    "user" TEXT DEFAULT '',
    "metadata" JSONB DEFAULT '{{}}',
    "cache_hit" TEXT DEFAULT '',
    "cache_key" TEXT DEFAULT '',
    "request_tags" JSONB DEFAULT '[]',
    "team_id" TEXT,
    "organization_id" TEXT,
    "end_user" TEXT,
    "requester_ip_address" TEXT,
    "messages" JSONB DEFAULT '{{}}',
    "response" JSONB DEFAULT '{{}}',
    "session_id" TEXT,
    "status" TEXT,
    "mcp_namespaced_tool_name" TEXT,
    "billing_agent_id" TEXT,
    "agent_id" TEXT,
    "proxy_server_request" JSONB DEFAULT '{{}}',
    "litellm_call_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "{TABLE}_pkey" PRIMARY KEY ("request_id")
)
"""

INDEXES = [
    ("startTime",),
    ("startTime", "request_id"),
    ("end_user",),
    ("session_id",),
    ("litellm_call_id",),
    ("api_key", "startTime"),
]

COLUMNS = [
    "request_id",
    "call_type",
    "api_key",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
    "endTime",
    "request_duration_ms",
    "completionStartTime",
    "model",
    "model_id",
    "model_group",
    "custom_llm_provider",
    "api_base",
    "user",
    "metadata",
    "cache_hit",
    "cache_key",
    "request_tags",
    "team_id",
    "organization_id",
    "end_user",
    "requester_ip_address",
    "messages",
    "response",
    "session_id",
    "status",
    "mcp_namespaced_tool_name",
    "billing_agent_id",
    "agent_id",
    "proxy_server_request",
    "litellm_call_id",
    "created_at",
    "updated_at",
]

# Shares of requests that LiteLLM answers from its own cache (spend 0) or that fail.
PROXY_CACHE_HIT_RATE = 0.02
FAILURE_RATE = 0.005
TOKEN_SIGMA = 0.35  # lognormal spread of tokens per request around the catalogue mean

API_BASES = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com/v1"}
DAY_MS = 86_400_000


def create_spend_logs_table(dsn: str, *, indexes: bool = True) -> None:
    """Create the table (and its indexes unless `indexes=False`, to load faster first)."""
    with psycopg.connect(dsn) as conn:
        conn.execute(DDL)
        if indexes:
            _create_indexes(conn)


def create_spend_logs_indexes(dsn: str) -> None:
    """Create LiteLLM's secondary indexes (after a bulk fill made without them)."""
    with psycopg.connect(dsn) as conn:
        _create_indexes(conn)


def _create_indexes(conn: psycopg.Connection) -> None:
    for cols in INDEXES:
        name = f"{TABLE}_{'_'.join(cols)}_idx"
        col_list = ", ".join(f'"{c}"' for c in cols)
        conn.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{TABLE}"({col_list})')
    conn.execute(f'ANALYZE "{TABLE}"')


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _json_str(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


@dataclass(frozen=True)
class KeyCatalogue:
    """One entry per api key of the demo org: the per-key constants of every row."""

    weights: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    cache_rate: np.ndarray
    price_input: np.ndarray  # USD per 1M tokens
    price_cached: np.ndarray
    price_output: np.ndarray
    is_embedding: np.ndarray
    daily_users: np.ndarray  # 0: the key serves no end users (batch / research)
    text: dict[str, pa.Array]  # string constants per key, taken per row with pc.take

    # The catalogues in force from each dated model switch on (demo_org.yml
    # `model_switches`), earliest first; before the first, this one.
    later: tuple[tuple[date, KeyCatalogue], ...] = ()

    def on(self, day: date) -> KeyCatalogue:
        """The catalogue of `day`: keys that switched model by then price and name the new one."""
        current = self
        for since, catalogue in self.later:
            if since <= day:
                current = catalogue
        return current

    @classmethod
    def load(cls, path: Path | str = DEMO_ORG) -> KeyCatalogue:
        with open(path, encoding="utf-8") as fh:
            org = yaml.safe_load(fh)
        switch_days = sorted(
            {
                date.fromisoformat(str(switch["from"]))
                for k in org["api_keys"]
                for switch in k.get("model_switches") or ()
            }
        )
        later = tuple((day, cls._of_day(org, day)) for day in switch_days)
        return replace(cls._of_day(org, date.min), later=later)

    @classmethod
    def _of_day(cls, org: dict, day: date) -> KeyCatalogue:
        models = {m["model"]: m for m in org["models"]}
        features = {f["feature"]: f for f in org["features"]}
        keys = [
            {**k, "model": model_on(k["model"], k.get("model_switches"), day)}
            for k in org["api_keys"]
        ]
        weights, users = [], []
        text: dict[str, list] = {name: [] for name in _KEY_TEXT}
        for k in keys:
            feature = features.get(k.get("feature"))
            f_users = int(feature["daily_users"]) if feature else 0
            if k.get("requests_per_user") is not None:
                weights.append(float(k["requests_per_user"]) * f_users)
            else:
                weights.append(float(k.get("requests_per_day") or 0))
            users.append(f_users if k.get("requests_per_user") is not None else 0)
            for name, build in _KEY_TEXT.items():
                text[name].append(build(k, models[k["model"]], feature))
        w = np.array(weights, dtype=float)

        def arr(field: str, source: str = "key") -> np.ndarray:
            rows = keys if source == "key" else [models[k["model"]] for k in keys]
            return np.array([float(r.get(field, 0.0)) for r in rows])

        return cls(
            weights=w / w.sum(),
            input_tokens=arr("input_tokens"),
            output_tokens=arr("output_tokens"),
            cache_rate=arr("cache_rate"),
            price_input=arr("input", "model"),
            price_cached=arr("cached_input", "model"),
            price_output=arr("output", "model"),
            is_embedding=np.array([models[k["model"]].get("kind") == "embedding" for k in keys]),
            daily_users=np.array(users, dtype=np.int64),
            text={name: pa.array(values, type=pa.string()) for name, values in text.items()},
        )


def _metadata_prefix(k: dict, m: dict, feature: dict | None) -> str:
    team = feature["team"] if feature else None
    return (
        f'{{"user_api_key_alias": "{k["api_key_id"]}", '
        f'"user_api_key_team_id": {_json_str(team)}, '
        f'"usage_object": {{"prompt_tokens_details": {{"cached_tokens": '
    )


def _tags(k: dict) -> str:
    tags = []
    if k.get("feature"):
        tags.append(f'"feature:{k["feature"]}"')
    if k.get("environment"):
        tags.append(f'"env:{k["environment"]}"')
    return "[" + ", ".join(tags) + "]"


# Per-key string constants. `api_key` is what LiteLLM stores: a hash of the virtual key.
_KEY_TEXT: dict[str, Any] = {
    "call_type": lambda k, m, f: "aembedding" if m.get("kind") == "embedding" else "acompletion",
    "api_key": lambda k, m, f: _sha256(f"sk-{k['api_key_id']}"),
    "model": lambda k, m, f: m["model"],
    "model_id": lambda k, m, f: _sha256(f"deployment:{m['provider']}:{m['model']}")[:32],
    "model_group": lambda k, m, f: m["family"],
    "custom_llm_provider": lambda k, m, f: m["provider"],
    "api_base": lambda k, m, f: API_BASES.get(m["provider"], ""),
    "user": lambda k, m, f: f"svc-{k.get('feature') or 'unmapped'}",
    "team_id": lambda k, m, f: f["team"] if f else None,
    "request_tags": lambda k, m, f: _tags(k),
    "metadata_prefix": _metadata_prefix,
    "requester_ip_address": lambda k, m, f: f"10.20.0.{int(_sha256(k['api_key_id'])[:2], 16)}",
}


def _s(values: np.ndarray | pa.Array) -> pa.Array:
    """Integers as their decimal strings."""
    return pc.cast(pa.array(values) if isinstance(values, np.ndarray) else values, pa.string())


def _join(*parts: Any) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _ts(ms: np.ndarray) -> pa.Array:
    return pa.array(ms, type=pa.timestamp("ms"))


def spend_log_chunks(
    start: date, end: date, *, rows_per_day: int, seed: int, catalogue: KeyCatalogue | None = None
) -> Iterator[pa.Table]:
    """The rows of days [start, end) as Arrow tables of at most CHUNK_ROWS rows, columns as COLUMNS.

    Deterministic: the same (day, rows_per_day, seed) always gives the same rows,
    whatever range they are asked in.
    """
    cat = catalogue or KeyCatalogue.load()
    day = start
    while day < end:
        for first in range(0, rows_per_day, CHUNK_ROWS):
            n = min(CHUNK_ROWS, rows_per_day - first)
            yield _chunk(cat.on(day), day, first, n, rows_per_day, seed)
        day += timedelta(days=1)


def _chunk(cat: KeyCatalogue, day: date, first: int, n: int, per_day: int, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, day.toordinal(), first])
    j = np.arange(first, first + n, dtype=np.int64)  # row number within the day
    k = rng.choice(len(cat.weights), size=n, p=cat.weights)
    k_arr = pa.array(k)

    def key_text(name: str) -> pa.Array:
        return pc.take(cat.text[name], k_arr)

    # Requests spread evenly over the day, in row order, so startTime rises with j.
    day_ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    start_ms = day_ms + ((j + rng.random(n)) * (DAY_MS / per_day)).astype(np.int64)

    failed = rng.random(n) < FAILURE_RATE
    proxy_hit = ~failed & (rng.random(n) < PROXY_CACHE_HIT_RATE)
    prompt = np.maximum(1, np.rint(cat.input_tokens[k] * rng.lognormal(0, TOKEN_SIGMA, n)))
    completion = np.rint(cat.output_tokens[k] * rng.lognormal(0, TOKEN_SIGMA, n))
    completion[failed] = 0
    cached = np.minimum(prompt, np.rint(prompt * cat.cache_rate[k] * rng.uniform(0.5, 1.5, n)))
    spend = (
        (prompt - cached) * cat.price_input[k]
        + cached * cat.price_cached[k]
        + completion * cat.price_output[k]
    ) / 1e6
    spend[failed | proxy_hit] = 0.0
    prompt, completion, cached = (a.astype(np.int64) for a in (prompt, completion, cached))

    embedding = cat.is_embedding[k]
    duration = np.where(
        embedding,
        40 + prompt * 0.05 * rng.lognormal(0, 0.3, n),
        250 + completion * 12 * rng.lognormal(0, 0.3, n),
    ).astype(np.int64)
    duration[proxy_hit] = rng.integers(2, 15, size=int(proxy_hit.sum()))
    end_ms = start_ms + duration
    # Non-streaming embeddings: LiteLLM sets completionStartTime to endTime.
    first_token_ms = np.where(
        embedding, end_ms, start_ms + np.minimum(duration, 150 + duration // 8)
    )

    day_tag = day.strftime("%Y%m%d")
    row_no = _s(j)
    request_id = _join(f"chatcmpl-{seed}-{day_tag}-", pc.utf8_lpad(row_no, 9, "0"))
    canary = _join(f"{day_tag}-", row_no)
    messages = _join(f'[{{"role": "user", "content": "{PROMPT_CANARY}', canary, '"}]')
    response = pc.if_else(
        pa.array(failed),
        "{}",
        _join(
            f'{{"choices": [{{"message": {{"role": "assistant", "content": "{COMPLETION_CANARY}',
            canary,
            '"}}]}',
        ),
    )
    proxy_request = _join('{"model": "', key_text("model_group"), '", "messages": ', messages, "}")
    metadata = _join(key_text("metadata_prefix"), _s(cached), "}}}")
    status = pc.if_else(pa.array(failed), "failure", "success")
    cache_hit = pc.if_else(pa.array(proxy_hit), "True", pc.if_else(pa.array(failed), "", "False"))
    cache_key = pc.if_else(pa.array(proxy_hit), _join("cache-", key_text("model"), "-", row_no), "")
    users = rng.integers(0, np.maximum(cat.daily_users[k], 1))
    end_user = pc.if_else(
        pa.array(cat.daily_users[k] > 0), _join("cust-", _s(users)), pa.scalar(None, pa.string())
    )
    call_id = _join(
        f"{day.toordinal():08d}-{seed % 10000:04d}-4000-8000-", pc.utf8_lpad(row_no, 12, "0")
    )
    null_text = pa.nulls(n, pa.string())

    columns = {
        "request_id": request_id,
        "call_type": key_text("call_type"),
        "api_key": key_text("api_key"),
        "spend": pa.array(spend),
        "total_tokens": pa.array(prompt + completion),
        "prompt_tokens": pa.array(prompt),
        "completion_tokens": pa.array(completion),
        "startTime": _ts(start_ms),
        "endTime": _ts(end_ms),
        "request_duration_ms": pa.array(duration),
        "completionStartTime": _ts(first_token_ms),
        "model": key_text("model"),
        "model_id": key_text("model_id"),
        "model_group": key_text("model_group"),
        "custom_llm_provider": key_text("custom_llm_provider"),
        "api_base": key_text("api_base"),
        "user": key_text("user"),
        "metadata": metadata,
        "cache_hit": cache_hit,
        "cache_key": cache_key,
        "request_tags": key_text("request_tags"),
        "team_id": key_text("team_id"),
        "organization_id": null_text,
        "end_user": end_user,
        "requester_ip_address": key_text("requester_ip_address"),
        "messages": messages,
        "response": response,
        "session_id": null_text,
        "status": status,
        "mcp_namespaced_tool_name": null_text,
        "billing_agent_id": null_text,
        "agent_id": null_text,
        "proxy_server_request": proxy_request,
        "litellm_call_id": call_id,
        "created_at": _ts(end_ms),
        "updated_at": _ts(end_ms),
    }
    return pa.table([columns[c] for c in COLUMNS], names=COLUMNS)


def _until(table: pa.Table, until: datetime) -> pa.Scalar:
    moment = until.astimezone(UTC).replace(tzinfo=None)  # startTime is naive UTC
    return pa.scalar(moment, type=table.schema.field("startTime").type)


def fill_spend_logs(
    dsn: str,
    start: date,
    end: date,
    *,
    rows_per_day: int,
    seed: int,
    org_path: Path | str = DEMO_ORG,
    until: datetime | None = None,
) -> int:
    """COPY `rows_per_day` demo requests for each day of [start, end) into the table.

    ``until`` (UTC) stops the requests there: with ``end`` the day after it, the
    requests of its day so far, the same rows a whole day holds before that moment
    (today's traffic up to now, for the intraday estimate).
    One transaction: either every row is written or none. Returns the rows written.
    """
    if rows_per_day < 0 or end < start:
        raise ValueError(f"bad range for {TABLE}: {start}..{end}, rows_per_day={rows_per_day}")
    catalogue = KeyCatalogue.load(org_path)
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    options = pacsv.WriteOptions(include_header=False)
    written = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        # The queued writer sends in a thread, so the next chunk is built meanwhile.
        writer = QueuedLibpqWriter(cur)
        sql = f'COPY "{TABLE}" ({cols}) FROM STDIN WITH (FORMAT csv)'
        with cur.copy(sql, writer=writer) as copy:
            for table in spend_log_chunks(
                start, end, rows_per_day=rows_per_day, seed=seed, catalogue=catalogue
            ):
                if until is not None:
                    table = table.filter(pc.less(table["startTime"], _until(table, until)))
                sink = pa.BufferOutputStream()
                pacsv.write_csv(table, sink, options)
                copy.write(sink.getvalue())
                written += table.num_rows
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True, help="exclusive")
    parser.add_argument("--rows-per-day", type=int, required=True)
    parser.add_argument("--seed", type=int, default=20261101)
    parser.add_argument("--create-table", action="store_true")
    args = parser.parse_args(argv)
    dsn = os.environ.get("LITELLM_DATABASE_URL")
    if not dsn:
        parser.error("set LITELLM_DATABASE_URL to the target database's DSN")
    if args.create_table:
        create_spend_logs_table(dsn, indexes=False)
    rows = fill_spend_logs(
        dsn, args.start, args.end, rows_per_day=args.rows_per_day, seed=args.seed
    )
    if args.create_table:
        create_spend_logs_indexes(dsn)
    print(f"{TABLE}: wrote {rows} rows for {args.start}..{args.end} (end exclusive)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
