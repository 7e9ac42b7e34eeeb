"""Baseline for the LiteLLM extractor benchmark: the cheapest possible read of one day.

A raw `COPY (SELECT <cost columns> ...) TO STDOUT` drained by psycopg 3 and thrown
away. The extractor's run over the same day is reported as a ratio to this (see
bench/README.md); nothing here asserts on wall time.

    LITELLM_DATABASE_URL=postgresql://... python -m bench.litellm_copy_baseline --day 2026-10-15
    python -m bench.litellm_copy_baseline --day 2026-10-15 --self-hosted --rows-per-day 1000000

Prints one JSON object: rows, bytes, seconds, peak_rss_mib.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

DSN_ENV = "LITELLM_DATABASE_URL"
TABLE = "LiteLLM_SpendLogs"
REPO_ROOT = Path(__file__).resolve().parents[1]

# What a cost extractor needs. Never messages, response or proxy_server_request:
# they hold prompt and completion text.
COST_COLUMNS = (
    "request_id",
    "call_type",
    "api_key",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
    "endTime",
    "model",
    "model_id",
    "model_group",
    "custom_llm_provider",
    "user",
    "team_id",
    "end_user",
    "metadata",
    "cache_hit",
    "request_tags",
    "status",
)


def baseline_statement(day: date) -> sql.Composed:
    return sql.SQL(
        "COPY (SELECT {cols} FROM {table} WHERE {ts} >= {lo} AND {ts} < {hi}) TO STDOUT"
    ).format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in COST_COLUMNS),
        table=sql.Identifier(TABLE),
        ts=sql.Identifier("startTime"),
        lo=sql.Literal(day),
        hi=sql.Literal(day + timedelta(days=1)),
    )


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB.

    Linux carries ru_maxrss over fork and exec, so a process started by a big parent
    reports the parent's peak; VmHWM belongs to the current address space only.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def copy_baseline(
    dsn: str, day: date, *, sink: Callable[[bytes], None] | None = None
) -> dict[str, object]:
    """Drain one day's cost columns with COPY TO STDOUT; `sink` (tests) sees every block."""
    rows = nbytes = 0
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(baseline_statement(day)) as copy:
            for block in copy:
                data = bytes(block)
                nbytes += len(data)
                # Text COPY escapes newlines inside values: one "\n" per row.
                rows += data.count(b"\n")
                if sink is not None:
                    sink(data)
    seconds = time.perf_counter() - started
    return {
        "benchmark": "litellm_copy_baseline",
        "day": day.isoformat(),
        "rows": rows,
        "bytes": nbytes,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds) if seconds > 0 else None,
        "peak_rss_mib": peak_rss_mib(),
    }


def _self_hosted(day: date, rows_per_day: int, seed: int) -> dict[str, object]:
    """Start a throwaway PostgreSQL, fill `day`, then measure in a fresh process."""
    from sandbox.litellm_db import (
        create_spend_logs_indexes,
        create_spend_logs_table,
        fill_spend_logs,
    )
    from sandbox.services import running_postgres

    with running_postgres() as pg:
        dsn = pg.create_database("litellm")
        create_spend_logs_table(dsn, indexes=False)
        t0 = time.perf_counter()
        filled = fill_spend_logs(
            dsn, day, day + timedelta(days=1), rows_per_day=rows_per_day, seed=seed
        )
        t1 = time.perf_counter()
        create_spend_logs_indexes(dsn)
        t2 = time.perf_counter()
        # The DSN holds a password: pass it by environment, never on a command line.
        proc = subprocess.run(
            [sys.executable, "-m", "bench.litellm_copy_baseline", "--day", day.isoformat()],
            env={**os.environ, DSN_ENV: dsn},
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    setup = {
        "rows_filled": filled,
        "fill_seconds": round(t1 - t0, 1),
        "index_seconds": round(t2 - t1, 1),
    }
    return {**json.loads(proc.stdout), "setup": setup}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="COPY baseline for the LiteLLM extractor")
    parser.add_argument("--day", type=date.fromisoformat, required=True)
    parser.add_argument(
        "--self-hosted", action="store_true", help="start a throwaway PostgreSQL and fill it first"
    )
    parser.add_argument("--rows-per-day", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261101)
    args = parser.parse_args(argv)
    if args.self_hosted:
        report = _self_hosted(args.day, args.rows_per_day, args.seed)
    else:
        dsn = os.environ.get(DSN_ENV)
        if not dsn:
            parser.error(f"set {DSN_ENV} (or pass --self-hosted)")
        report = copy_baseline(dsn, args.day)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
