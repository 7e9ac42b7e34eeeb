"""Value KPI drop files, and the command line end to end."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from extractors import run_source
from extractors.__main__ import EXIT_CONFIG, EXIT_FATAL, main
from extractors.config import SourceConfig
from extractors.errors import SchemaDriftError
from sandbox import files
from sandbox.org import DemoOrg

REPO = Path(__file__).resolve().parents[2]


def test_value_files_of_the_window_land_per_day(tmp_path):
    org = DemoOrg.load()
    files.write_value_kpis(org, tmp_path / "value", date(2026, 10, 1), date(2026, 10, 6))
    src = SourceConfig("feature_kpis", "value_file", {"path": str(tmp_path / "value")})
    summary = run_source(
        src,
        date(2026, 10, 2),
        date(2026, 10, 4),
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
    )
    counts = summary["datasets"]["value_feature_kpis"]
    assert counts["partitions"] == ["2026-10-02", "2026-10-03"]  # value files have no lookback
    table = ds.dataset(tmp_path / "landing" / "feature_kpis", format="parquet").to_table()
    expected = [r for d in (2, 3) for r in org.value_kpis(date(2026, 10, d))]
    assert table.num_rows == len(expected) == counts["rows_loaded"]
    assert sum(table.column("active_users").to_pylist()) == sum(r["active_users"] for r in expected)
    assert set(table.column("currency").to_pylist()) == {"USD"}


def test_value_file_with_a_renamed_column_is_drift(tmp_path):
    (tmp_path / "value").mkdir()
    (tmp_path / "value" / "feature_kpis_2026-10-02.csv").write_text(
        "date,feature,active_users,conversions,revenue,currency\n2026-10-02,search,1,1,1.00,USD\n"
    )
    src = SourceConfig("feature_kpis", "value_file", {"path": str(tmp_path / "value")})
    with pytest.raises(
        SchemaDriftError,
        match=r"missing columns \['feature_id'\] and unexpected "
        r"columns \['feature'\]",
    ):
        run_source(
            src,
            date(2026, 10, 2),
            date(2026, 10, 3),
            landing_root=tmp_path / "l",
            quarantine_root=tmp_path / "q",
        )


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "sources.yml"
    config.write_text(
        "sources:\n  - name: feature_kpis\n    type: value_file\n"
        "    options: {path: '${KPI_DIR}'}\n"
    )
    return config


def test_cli_end_to_end_in_a_subprocess(tmp_path):
    files.write_value_kpis(DemoOrg.load(), tmp_path / "value", date(2026, 10, 1), date(2026, 10, 3))
    env = {
        **os.environ,
        "KPI_DIR": str(tmp_path / "value"),
        "COSTBRIDGE_HOME": str(tmp_path / "home"),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "extractors",
            "--config",
            str(write_config(tmp_path)),
            "--source",
            "feature_kpis",
            "--start",
            "2026-10-01",
            "--end",
            "2026-10-03",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["datasets"]["value_feature_kpis"]["rows_loaded"] > 0
    home = tmp_path / "home"
    assert (
        home
        / "landing"
        / "feature_kpis"
        / "value_feature_kpis"
        / "date=2026-10-02"
        / "part-0.parquet"
    ).exists()
    # The schema files come with every run, so dbt's globs always match.
    assert (home / "landing" / "_schema" / "openai_costs" / "empty" / "part-0.parquet").exists()


def test_cli_failures_exit_non_zero_with_the_message(tmp_path, capsys, monkeypatch):
    config = write_config(tmp_path)
    monkeypatch.setenv("KPI_DIR", str(tmp_path / "missing"))
    args = [
        "--config",
        str(config),
        "--source",
        "feature_kpis",
        "--start",
        "2026-10-01",
        "--end",
        "2026-10-02",
        "--landing",
        str(tmp_path / "l"),
        "--quarantine",
        str(tmp_path / "q"),
    ]
    assert main(args) == EXIT_FATAL
    assert (
        "error (fatal): [source=feature_kpis window=[2026-10-01, 2026-10-02)"
        in capsys.readouterr().err
    )
    assert main([*args[:2], "--source", "nope", *args[4:]]) == EXIT_CONFIG
    assert "no source named 'nope'" in capsys.readouterr().err
    assert main([*args[:4], "--start", "2026-10-05", *args[6:]]) == EXIT_CONFIG
    assert "window start must be before end" in capsys.readouterr().err
