"""SIGKILL the pipeline mid-build and mid-swap: the last good file stays published and openable,
and the next run cleans up and publishes."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from landing.window import Window
from tests.conftest import REPO_ROOT
from tests.warehouse.conftest import DEMO_END, DEMO_START, MARTS
from warehouse import pipeline
from warehouse.build import prepare_next_file
from warehouse.pause import POINTS

pytestmark = pytest.mark.slow
WAIT_SECONDS = 300  # a bound on waiting for a state, never an assertion on speed


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _published_runs(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        for mart in MARTS:  # every mart is there and readable
            con.execute(f"select count(*) from {mart}").fetchall()
        return [
            r[0] for r in con.execute("select run_id from ops_publications order by 1").fetchall()
        ]
    finally:
        con.close()


def _start(settings, *args: str, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "COSTBRIDGE_HOME": str(settings.home),
        "COSTBRIDGE_SOURCES": str(settings.sources_file),
        **env,
    }
    environment.pop("COSTBRIDGE_POSTGRES_DSN", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "warehouse",
            *args,
            "--start",
            DEMO_START.isoformat(),
            "--end",
            DEMO_END.isoformat(),
        ],
        cwd=REPO_ROOT,
        env=environment,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(check, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        if proc.poll() is not None:
            pytest.fail(
                f"the process ended (exit {proc.returncode}) before {what}:\n{proc.stdout.read()}"
            )
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


def _kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # the whole group: the pipeline and its dbt
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_during_the_dbt_build_keeps_the_last_good_file_and_the_next_run_recovers(
    home, chaos
):
    published = home.warehouse_file
    before, runs_before = _digest(published), _published_runs(published)
    dbt_log = home.build_dir / "dbt" / "logs" / "dbt.log"
    dbt_log.unlink(missing_ok=True)

    proc = _start(home, "build", "--run-id", "killed-build")
    # dbt has started building models into the next file.
    _wait_for(
        lambda: dbt_log.exists() and " START " in dbt_log.read_text(errors="replace"),
        "dbt to start a model",
        proc,
    )
    _kill(proc)

    assert _digest(published) == before
    assert _published_runs(published) == runs_before
    stale = sorted(p.name for p in home.build_dir.glob("*.duckdb*"))
    assert "costbridge.killed-build.duckdb" in stale, stale

    recovery = _start(home, "run", "--run-id", "recovery-run")
    output, _ = recovery.communicate(timeout=WAIT_SECONDS * 2)
    assert recovery.returncode == 0, output
    assert not list(home.build_dir.glob("*.duckdb*")), "stale next files must be gone"
    assert _published_runs(published) == sorted([*runs_before, "recovery-run"])
    chaos(
        "kill -9",
        "SIGKILL during the dbt build, then a run",
        published="last good kept; next run published",
    )


@pytest.mark.parametrize("point", POINTS)
def test_sigkill_during_publish_leaves_one_good_published_file(home, tmp_path, point, chaos):
    published = home.warehouse_file
    before, runs_before = _digest(published), _published_runs(published)
    next_file = prepare_next_file(published, home.build_dir, "crash-run")
    marker = tmp_path / "paused"

    proc = _start(
        home,
        "publish",
        "--next-file",
        str(next_file),
        "--run-id",
        "crash-run",
        COSTBRIDGE_PAUSE_AT=point,
        COSTBRIDGE_PAUSE_MARKER=str(marker),
    )
    _wait_for(marker.exists, f"the pause point {point}", proc)
    _kill(proc)

    runs = _published_runs(published)  # opens, and every mart reads
    if point == "publish:after_replace":
        # The rename happened: the new file is the last good one, complete.
        assert runs == sorted([*runs_before, "crash-run"])
        assert not next_file.exists()
    else:
        assert _digest(published) == before and runs == runs_before
        assert next_file.exists(), "the killed build is left for the next run to clean up"

    # The next run starts from the published file, clears the leftovers and publishes.
    recovered = prepare_next_file(published, home.build_dir, "after-crash")
    assert [p.name for p in home.build_dir.glob("*.duckdb*")] == [recovered.name]
    pipeline.publish(home, Window(DEMO_START, DEMO_END), str(recovered), "after-crash")
    assert "after-crash" in _published_runs(published)
    chaos(
        "kill -9",
        f"SIGKILL during the DuckDB publish at {point}",
        published="one good file; next run published",
    )
