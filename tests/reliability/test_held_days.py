"""A day is published only when every configured source landed it, by the CLI and the DAG alike.

The DAG's failed extract already held the day; `python -m warehouse run` did not:
the landing gate only warned about a configured source without partitions, and a
landing zone emptied of a source's days passed.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from expectations import GateFailed
from landing.window import Window
from tests.warehouse.demo_fixtures import DEMO_END, DEMO_START
from warehouse import pipeline
from warehouse.__main__ import main as warehouse_cli


def _publications(settings) -> list[str]:
    con = duckdb.connect(str(settings.warehouse_file), read_only=True)
    try:
        return [r[0] for r in con.execute("select run_id from ops_publications").fetchall()]
    finally:
        con.close()


def _cli_run(settings, monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setenv("COSTBRIDGE_HOME", str(settings.home))
    monkeypatch.setenv("COSTBRIDGE_SOURCES", str(settings.sources_file))
    monkeypatch.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)
    status = warehouse_cli(
        [
            "run",
            "--start",
            DEMO_START.isoformat(),
            "--end",
            DEMO_END.isoformat(),
            "--run-id",
            "held",
        ]
    )
    return status, capsys.readouterr().err


def test_a_source_that_never_landed_holds_the_day_by_the_cli(home, monkeypatch, capsys, chaos):
    shutil.rmtree(home.landing_root / "gpu_cluster")  # the GPU source's run never happened
    before = _publications(home)
    status, err = _cli_run(home, monkeypatch, capsys)
    assert status == 1
    assert "gpu_cluster" in err and "dcgm_gpu_metrics/date=2026-10-19" in err
    assert _publications(home) == before, "a day without its GPU source was published"
    chaos(
        "held day",
        "configured source with no partition, CLI run",
        published="held",
        rows_in=0,
        loaded=0,
        quarantined=0,
    )


def test_one_missing_day_of_one_source_blocks_and_names_it(home, chaos):
    day = home.landing_root / "anthropic" / "anthropic_usage_messages" / "date=2026-10-20"
    shutil.rmtree(day)
    with pytest.raises(GateFailed) as failed:
        pipeline.validate_landing(home, Window(DEMO_START, DEMO_END), "held")
    assert "anthropic/anthropic_usage_messages/date=2026-10-20" in str(failed.value)
    assert "anthropic/anthropic_usage_messages/date=2026-10-19" not in str(failed.value)
    chaos("held day", "one source's day deleted from landing", published="held")


def test_an_empty_landing_zone_does_not_pass(home, chaos):
    for child in home.landing_root.iterdir():
        shutil.rmtree(child)
    with pytest.raises(GateFailed) as failed:
        pipeline.validate_landing(home, Window(DEMO_START, DEMO_END), "held")
    message = str(failed.value)
    for source in {item["source"] for item in pipeline.configured_datasets(home)}:
        assert source in message, f"{source} is not named"
    chaos("held day", "empty landing zone", rows_in=0, published="held")


def test_an_explicitly_empty_day_is_final(home):
    """A source's empty day (a manifest with no rows) is a landed day, not a missing one."""
    pipeline.validate_landing(home, Window(DEMO_START, DEMO_END), "ok")


def test_a_wrong_sources_file_is_one_clear_line_from_the_cli(home, tmp_path, monkeypatch, capsys):
    sources = tmp_path / "sources.yml"
    sources.write_text("sources:\n- name: billing\n  type: focus_csv\n  options: {path: /x}\n")
    monkeypatch.setenv("COSTBRIDGE_HOME", str(home.home))
    monkeypatch.setenv("COSTBRIDGE_SOURCES", str(sources))
    status = warehouse_cli(["run", "--start", "2026-10-19", "--end", "2026-10-20"])
    err = capsys.readouterr().err
    assert status == 2
    assert "source 'billing'" in err and "unknown source type 'focus_csv'" in err
    assert "Traceback" not in err
