"""Run dbt as a subprocess against a landing tree and read the warehouse it builds.

dbt always runs as a subprocess: in-process it keeps the DuckDB file locked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
CENT = Decimal("0.005")


def run_dbt(
    args: list[str], warehouse: Path, landing: Path, work: Path
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "COSTBRIDGE_DBT_DUCKDB_PATH": str(warehouse),
        "COSTBRIDGE_LANDING_ROOT": str(landing),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # Keep target/ and logs/ out of the repo and apart per run.
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    return subprocess.run(
        [str(DBT), *args, "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def assert_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"dbt failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).fetchall()


def scalar(warehouse: Path, sql: str):
    return query(warehouse, sql)[0][0]
