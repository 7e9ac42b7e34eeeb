"""The COPY baseline of the LiteLLM benchmark: counts exactly one day, never prompt text."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

from bench.litellm_copy_baseline import COST_COLUMNS, DSN_ENV, REPO_ROOT, copy_baseline
from sandbox.litellm_db import (
    COMPLETION_CANARY,
    PROMPT_CANARY,
    create_spend_logs_table,
    fill_spend_logs,
)


def test_baseline_drains_exactly_one_day_of_cost_columns(postgres_database):
    create_spend_logs_table(postgres_database)
    fill_spend_logs(
        postgres_database, date(2026, 10, 14), date(2026, 10, 17), rows_per_day=1_500, seed=2
    )
    blocks: list[bytes] = []
    report = copy_baseline(postgres_database, date(2026, 10, 15), sink=blocks.append)
    data = b"".join(blocks)
    assert report["rows"] == 1_500
    assert report["bytes"] == len(data)
    assert PROMPT_CANARY.encode() not in data and COMPLETION_CANARY.encode() not in data
    lines = data.decode().splitlines()
    assert all(line.count("\t") == len(COST_COLUMNS) - 1 for line in lines)
    start_times = {line.split("\t")[COST_COLUMNS.index("startTime")][:10] for line in lines}
    assert start_times == {"2026-10-15"}
    assert report["seconds"] >= 0 and report["peak_rss_mib"] > 0


def test_cli_prints_one_json_report_and_takes_the_dsn_from_env(postgres_database):
    create_spend_logs_table(postgres_database)
    fill_spend_logs(
        postgres_database, date(2026, 10, 15), date(2026, 10, 16), rows_per_day=300, seed=2
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bench.litellm_copy_baseline", "--day", "2026-10-15"],
        env={DSN_ENV: postgres_database, "PATH": "/usr/bin:/bin"},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(proc.stdout)
    assert report["rows"] == 300 and report["day"] == "2026-10-15"
    assert "password" not in proc.stdout + proc.stderr
