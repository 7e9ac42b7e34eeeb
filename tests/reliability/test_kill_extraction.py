"""SIGKILL ``python -m extractors`` mid-landing: every day is the old partition or the new one,
whole; dbt's glob sees no staging; the published file is the last good day; and the next
extraction and run give the marts a clean run gives."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from extractors.landing import PAUSE_POINTS
from tests.conftest import REPO_ROOT
from tests.reliability.restate_home import BASE_END, BASE_START, copy_home, mart_digest

pytestmark = pytest.mark.slow
WAIT_SECONDS = 120  # a bound on waiting for the pause point, never an assertion on speed
RERUN = (date(2026, 9, 29), BASE_END)  # the last published day, rerun: lookback 09-26..09-29


def _partitions(landing: Path) -> dict[str, dict]:
    """Each landed FOCUS day: its manifest, checked against the Parquet file beside it."""
    days = {}
    for folder in sorted((landing / "aws_focus" / "focus_cost_and_usage").glob("date=*")):
        manifest = json.loads((folder / "_manifest.json").read_text())
        (entry,) = manifest["files"]
        part = folder / entry["path"]
        assert pq.ParquetFile(part).metadata.num_rows == entry["rows"] == manifest["rows_loaded"]
        assert hashlib.sha256(part.read_bytes()).hexdigest() == entry["sha256"], folder
        days[folder.name] = manifest
    return days


def _kill_extraction(home, point: str, marker: Path) -> None:
    env = {
        **os.environ,
        "COSTBRIDGE_SANDBOX_DIR": str(home.files),
        "COSTBRIDGE_PAUSE_AT": point,
        "COSTBRIDGE_PAUSE_MARKER": str(marker),
    }
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "extractors",
            "--config", str(home.settings.sources_file), "--source", "aws_focus",
            "--start", RERUN[0].isoformat(), "--end", RERUN[1].isoformat(),
            "--landing", str(home.settings.landing_root),
            "--quarantine", str(home.settings.quarantine_root),
        ],
        cwd=REPO_ROOT, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + WAIT_SECONDS
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"extraction ended (exit {proc.returncode}) before {point}:\n"
                        f"{proc.stdout.read()}")  # fmt: skip
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"gave up waiting for {point}")
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _last_good_day(warehouse: Path) -> tuple[date, list[str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        newest = con.execute("select max(charge_date) from fct_ai_cost").fetchone()[0]
        runs = [r[0] for r in con.execute("select run_id from ops_publications").fetchall()]
    finally:
        con.close()
    return newest, runs


@pytest.mark.parametrize("point", PAUSE_POINTS)
def test_sigkill_during_extraction_leaves_whole_days_and_the_next_run_matches_a_clean_one(
    restate_base, tmp_path, point, chaos
):
    home = copy_home(restate_base, tmp_path / "home")
    landing = home.settings.landing_root
    before = _partitions(landing)
    clean_marts = mart_digest(home.settings.warehouse_file)

    _kill_extraction(home, point, tmp_path / "paused")

    after = _partitions(landing)  # every day whole: rows and hash match its manifest
    assert sorted(after) == sorted(before), "a day went missing"
    replaced = sorted(d for d in after if after[d]["extracted_at"] != before[d]["extracted_at"])
    expected = {"land:staged": 0, "land:between_days": 1, "land:exchanged": 1}[point]
    assert len(replaced) == expected, replaced
    # dbt reads <landing>/*/<dataset>/*/*.parquet: the killed run's staging is not in it.
    seen = {p.parent.name for p in landing.glob("*/focus_cost_and_usage/*/*.parquet")}
    assert seen == {"empty", *before}, seen
    assert _last_good_day(home.settings.warehouse_file) == (
        date(2026, 9, 29),
        ["base-run"],
    )  # the published file still opens, with the last good day

    # The next extraction clears the leftovers and lands every day whole.
    summary = home.extract(*RERUN, sources=["aws_focus"])
    assert not (landing / "aws_focus" / "_staging").exists()
    assert not (home.settings.quarantine_root / "aws_focus" / "_staging").exists()
    recovered = _partitions(landing)
    assert {d: m["files"] for d, m in recovered.items()} == {
        d: m["files"] for d, m in before.items()
    }
    dataset = summary["aws_focus"]["datasets"]["focus_cost_and_usage"]
    published = "n/a"
    if point == "land:between_days":  # one full run is enough to show the marts recover
        home.extract(*RERUN, exclude=["aws_focus"])
        home.run(*RERUN, "after-kill")
        assert mart_digest(home.settings.warehouse_file) == clean_marts
        published = "identical"
    chaos(
        "kill -9",
        f"SIGKILL of python -m extractors at {point}",
        rows_in=dataset["rows_in"],
        loaded=dataset["rows_loaded"],
        quarantined=dataset["rows_quarantined"],
        published=published,
        duplicates=0,
    )


assert BASE_START < RERUN[0]
