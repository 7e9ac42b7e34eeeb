"""Run dbt into the *next* warehouse file; the published file is never written.

Blue/green: the next file starts as a copy of the published one (so incremental
models carry their history), dbt builds and tests into it, the marts gate
validates it, and only then does `warehouse.publish` swap it in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from warehouse.settings import dbt_project_dir_from_env


class BuildFailed(RuntimeError):
    """dbt build failed: a model errored or a dbt test (conservation included) failed."""


class DbtTestsFailed(BuildFailed):
    """A dbt test failed on the data it read: a verdict, which a rerun over the same
    landing would give again (a model or a test that errored is a BuildFailed only)."""


def _dbt_executable() -> str:
    # dbt is installed beside the interpreter running us (the project's venv).
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def prepare_next_file(published: Path, build_dir: Path, run_id: str) -> Path:
    """Start the next warehouse file from the published one, removing stale builds."""
    build_dir.mkdir(parents=True, exist_ok=True)
    for stale in build_dir.glob("*.duckdb*"):
        stale.unlink()
    safe_run_id = "".join(c if c.isalnum() or c in "-_" else "_" for c in run_id)
    next_file = build_dir / f"costbridge.{safe_run_id}.duckdb"
    if published.exists():
        shutil.copyfile(published, next_file)
    return next_file


def dbt_env(target_file: Path, landing_root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "COSTBRIDGE_DBT_DUCKDB_PATH": str(target_file.resolve()),
        "COSTBRIDGE_LANDING_ROOT": str(landing_root.resolve()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # DuckDB's own default: a thread per core (profiles.yml needs a number).
        "COSTBRIDGE_DUCKDB_THREADS": os.environ.get("COSTBRIDGE_DUCKDB_THREADS")
        or str(os.cpu_count() or 1),
    }


def run_dbt(
    command: list[str],
    *,
    target_file: Path,
    landing_root: Path,
    artifacts_dir: Path,
    dbt_vars: dict | None = None,
    project_dir: Path | None = None,
) -> Path:
    """Run one dbt command as a subprocess (in-process dbt keeps the DuckDB file locked).

    Returns the run_results.json path. Raises BuildFailed (DbtTestsFailed when a test
    failed) naming the failed nodes. ``project_dir``: the settings' dbt project (default
    ``$COSTBRIDGE_DBT_PROJECT_DIR``, else the repo's).
    """
    project_dir = project_dir or dbt_project_dir_from_env()
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    args = [
        _dbt_executable(),
        *command,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(artifacts_dir / "target"),
        "--log-path",
        str(artifacts_dir / "logs"),
        # Partial parsing once kept a stale unit test across edits: a build parses afresh.
        "--no-partial-parse",
    ]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    results = artifacts_dir / "target" / "run_results.json"
    # A dbt that dies before writing its results must not be judged by the last run's.
    results.unlink(missing_ok=True)
    proc = subprocess.run(
        args,
        env=dbt_env(target_file, landing_root),
        cwd=project_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise build_failure(command, proc, results)
    return results


def build_failure(
    command: list[str], proc: subprocess.CompletedProcess, results: Path
) -> BuildFailed:
    """The error of a failed dbt command, naming its failed nodes: DbtTestsFailed when a
    test failed (dbt's status ``fail``), else BuildFailed."""
    failed = []
    if results.exists():
        failed = [
            r
            for r in json.loads(results.read_text()).get("results", [])
            if r.get("status") in ("error", "fail")
        ]
    lines = [
        f"  {r['status']}: {r['unique_id']}: {(r.get('message') or '').strip()}" for r in failed
    ]
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
    detail = "\n".join(lines) if lines else tail
    message = f"dbt {' '.join(command)} failed (exit {proc.returncode}):\n{detail}"
    tests_failed = any(r["status"] == "fail" for r in failed)
    return DbtTestsFailed(message) if tests_failed else BuildFailed(message)


def build_next(
    *,
    published: Path,
    build_dir: Path,
    landing_root: Path,
    start: date,
    end: date,
    run_id: str,
    dbt_vars: dict | None = None,
    select: list[str] | None = None,
    project_dir: Path | None = None,
) -> Path:
    """Seed and build every model and test (or the ``select``ed ones) into the next file;
    return its path.

    A selected build runs the tests whose every parent it builds (indirect selection
    ``cautious``): a test that also reads an unselected relation (a seed's relationships
    to another seed) would find it missing from the file.
    """
    next_file = prepare_next_file(published, build_dir, run_id)
    run_vars = {"start_date": start.isoformat(), "end_date": end.isoformat(), **(dbt_vars or {})}
    selection = ["--select", *select, "--indirect-selection", "cautious"] if select else []
    run_dbt(
        ["build", *selection],
        target_file=next_file,
        landing_root=landing_root,
        artifacts_dir=build_dir / "dbt",
        dbt_vars=run_vars,
        project_dir=project_dir,
    )
    return next_file
