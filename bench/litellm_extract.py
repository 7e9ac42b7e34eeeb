"""`make bench`: the LiteLLM extractor against the raw COPY baseline, on one full day.

In one run: start a throwaway PostgreSQL, fill one day of `LiteLLM_SpendLogs` with
the demo organisation's traffic, then, each in a fresh process so that peak memory
(VmHWM) is its own, drain the day with the raw COPY baseline and run the extractor
(`run_source` into a temporary landing zone). Prints one JSON report with both
timings, their ratio and the extractor's peak memory against the targets. Nothing
asserts on wall time: the report is for people (see bench/README.md).

    .venv/bin/python -m bench.litellm_extract                      # 10,000,000 rows
    .venv/bin/python -m bench.litellm_extract --rows-per-day 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.litellm_copy_baseline import DSN_ENV, REPO_ROOT, peak_rss_mib

TARGET_RATIO = 2.0  # extractor seconds / baseline seconds
TARGET_PEAK_MIB = 2048.0  # the extractor's peak resident memory
DEFAULT_DAY = date(2026, 10, 15)


def measure_extractor(dsn_env: str, day: date, landing: Path) -> dict[str, Any]:
    """Run the extractor over `day` into `landing`; this process's time and peak memory."""
    from extractors import SourceConfig, run_source

    # Only the day itself: a lookback would read more than the baseline does.
    source = SourceConfig("litellm", "litellm", {"dsn": {"env": dsn_env}, "lookback_days": 0})
    started = time.perf_counter()
    summary = run_source(
        source,
        day,
        day + timedelta(days=1),
        landing_root=landing / "landing",
        quarantine_root=landing / "quarantine",
    )
    seconds = time.perf_counter() - started
    result = summary["datasets"]["litellm_spend_logs"]
    parquet = landing / "landing" / "litellm" / "litellm_spend_logs" / f"date={day}"
    return {
        "benchmark": "litellm_extractor",
        "day": day.isoformat(),
        "rows": result["rows_in"],
        "rows_loaded": result["rows_loaded"],
        "rows_quarantined": result["rows_quarantined"],
        "parquet_bytes": sum(f.stat().st_size for f in parquet.glob("*.parquet")),
        "seconds": round(seconds, 3),
        "rows_per_second": round(result["rows_in"] / seconds) if seconds > 0 else None,
        "peak_rss_mib": peak_rss_mib(),
    }


def _child(args: list[str], dsn: str) -> dict[str, Any]:
    # The DSN holds a password: pass it by environment, never on a command line.
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        env={**os.environ, DSN_ENV: dsn},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"`python -m {' '.join(args)}` failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_benchmark(
    day: date, rows_per_day: int, *, seed: int = 20261101, work_dir: Path | None = None
) -> dict[str, Any]:
    """Fill a throwaway PostgreSQL with one day, then measure baseline and extractor."""
    from sandbox.litellm_db import (
        create_spend_logs_indexes,
        create_spend_logs_table,
        fill_spend_logs,
    )
    from sandbox.services import running_postgres

    scratch = Path(tempfile.mkdtemp(prefix="costbridge-bench-", dir=work_dir))
    try:
        with running_postgres(work_dir) as pg:
            dsn = pg.create_database("litellm")
            create_spend_logs_table(dsn, indexes=False)
            t0 = time.perf_counter()
            filled = fill_spend_logs(
                dsn, day, day + timedelta(days=1), rows_per_day=rows_per_day, seed=seed
            )
            t1 = time.perf_counter()
            create_spend_logs_indexes(dsn)  # also ANALYZE, so both plans see real statistics
            t2 = time.perf_counter()
            baseline = _child(["bench.litellm_copy_baseline", "--day", day.isoformat()], dsn)
            extractor = _child(
                [
                    "bench.litellm_extract",
                    "--measure-extractor",
                    "--day",
                    day.isoformat(),
                    "--landing",
                    str(scratch),
                ],
                dsn,
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ratio = extractor["seconds"] / baseline["seconds"] if baseline["seconds"] > 0 else None
    return {
        "benchmark": "litellm_extract",
        "day": day.isoformat(),
        "rows_per_day": rows_per_day,
        "setup": {
            "rows_filled": filled,
            "fill_seconds": round(t1 - t0, 1),
            "index_seconds": round(t2 - t1, 1),
        },
        "baseline": baseline,
        "extractor": extractor,
        "rows_match": baseline["rows"] == extractor["rows"] == filled,
        "ratio_seconds": None if ratio is None else round(ratio, 2),
        "targets": {
            "ratio_seconds_max": TARGET_RATIO,
            "extractor_peak_rss_mib_max": TARGET_PEAK_MIB,
        },
        "meets_targets": {
            "ratio_seconds": ratio is not None and ratio <= TARGET_RATIO,
            "extractor_peak_rss_mib": extractor["peak_rss_mib"] < TARGET_PEAK_MIB,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=date.fromisoformat, default=DEFAULT_DAY)
    parser.add_argument("--rows-per-day", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=20261101)
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="where the cluster and landing go (default: system temp); as root, "
        "the postgres OS user must be able to enter it",
    )
    # Internal: the harness runs the extractor side in a fresh process with this flag.
    parser.add_argument("--measure-extractor", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--landing", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_extractor:
        if not os.environ.get(DSN_ENV) or args.landing is None:
            parser.error(f"--measure-extractor needs {DSN_ENV} and --landing")
        report = measure_extractor(DSN_ENV, args.day, args.landing)
    else:
        report = run_benchmark(args.day, args.rows_per_day, seed=args.seed, work_dir=args.work_dir)
    print(json.dumps(report, indent=None if args.measure_extractor else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
