"""Helpers for the insight marts' tests: the month-long demo home (fixture
`month_home`, tests/warehouse/demo_fixtures.py) and rebuilding a few models into a
private copy of its warehouse after changing their inputs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.dbt.dbt_helpers import run_dbt

# The published file keeps tables only; the views a rebuild reads come back with it.
VIEWS = ("path:models/staging", "path:models/intermediate")


def published_warehouse(home: Path) -> Path:
    return home / "warehouse" / "costbridge.duckdb"


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def rebuild(
    home: Path, work: Path, models: list[str], *, before: str = ""
) -> tuple[Path, subprocess.CompletedProcess]:
    """Copy home's warehouse, run `before` (SQL) on the copy, then `dbt run` models into it."""
    work.mkdir(parents=True, exist_ok=True)
    warehouse = work / "costbridge.duckdb"
    shutil.copyfile(published_warehouse(home), warehouse)
    if before:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(before)
    result = run_dbt(
        [
            "run",
            "--select",
            *models,
            *VIEWS,
            "--vars",
            '{"start_date": "2026-10-01", "end_date": "2026-11-01"}',
        ],
        warehouse,
        home / "landing",
        work,
    )
    return warehouse, result


@pytest.fixture(scope="session")
def month_warehouse(month_home) -> Path:
    return published_warehouse(month_home)
