"""Blue/green publication of the DuckDB warehouse file."""

from __future__ import annotations

import duckdb
import pytest

from warehouse.build import prepare_next_file
from warehouse.publish import swap_in


def _warehouse(path, day_count: int):
    con = duckdb.connect(str(path))
    con.execute(
        "create or replace table fct_ai_cost as select range as day from range(?)", [day_count]
    )
    con.close()


def test_swap_publishes_the_next_file(tmp_path):
    published, nxt = tmp_path / "costbridge.duckdb", tmp_path / "build" / "next.duckdb"
    nxt.parent.mkdir()
    _warehouse(published, 30)
    _warehouse(nxt, 31)
    swap_in(nxt, published)
    assert not nxt.exists()
    con = duckdb.connect(str(published), read_only=True)
    assert con.execute("select count(*) from fct_ai_cost").fetchall() == [(31,)]


def test_a_reader_holding_the_old_file_keeps_reading_it(tmp_path):
    published, nxt = tmp_path / "costbridge.duckdb", tmp_path / "next.duckdb"
    _warehouse(published, 30)
    reader = duckdb.connect(str(published), read_only=True)
    assert reader.execute("select count(*) from fct_ai_cost").fetchall() == [(30,)]
    _warehouse(nxt, 31)
    swap_in(nxt, published)
    # The old inode stays alive for the reader that has it open...
    assert reader.execute("select count(*) from fct_ai_cost").fetchall() == [(30,)]
    reader.close()
    # ...and the next reader sees the new day.
    assert duckdb.connect(str(published), read_only=True).execute(
        "select count(*) from fct_ai_cost"
    ).fetchall() == [(31,)]


def test_nothing_to_publish_leaves_the_last_good_file(tmp_path):
    published = tmp_path / "costbridge.duckdb"
    _warehouse(published, 30)
    with pytest.raises(FileNotFoundError):
        swap_in(tmp_path / "missing.duckdb", published)
    assert duckdb.connect(str(published), read_only=True).execute(
        "select count(*) from fct_ai_cost"
    ).fetchall() == [(30,)]


def test_next_file_starts_from_the_published_one_and_clears_stale_builds(tmp_path):
    published, build = tmp_path / "costbridge.duckdb", tmp_path / "build"
    build.mkdir()
    (build / "costbridge.crashed-run.duckdb").write_bytes(b"half a file")
    _warehouse(published, 30)
    nxt = prepare_next_file(published, build, "manual__2026-11-01T00:00:00+00:00")
    assert [p.name for p in build.iterdir()] == [nxt.name]
    assert duckdb.connect(str(nxt), read_only=True).execute(
        "select count(*) from fct_ai_cost"
    ).fetchall() == [(30,)]


# Publication as one unit: DuckDB, PostgreSQL and Parquet, with each target's outcome on record.

UNREACHABLE_PASSWORD = "pw-canary-unreachable-0123456789"


def _home(tmp_path):
    from warehouse.settings import Settings

    settings = Settings(home=tmp_path / "home", sources_file=tmp_path / "sources.yml")
    settings.build_dir.mkdir(parents=True)
    return settings


def _next(settings, run_id: str, rows: int = 10):
    from tests.warehouse.test_postgres_publication import _warehouse as small_warehouse

    return small_warehouse(settings.build_dir / f"costbridge.{run_id}.duckdb", rows, run_id)


def _targets(settings) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_file), read_only=True)
    try:
        return con.execute(
            "select run_id, target, status, detail from ops_publish_targets order by all"
        ).fetchall()
    finally:
        con.close()


def _alerts(settings) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_file), read_only=True)
    try:
        return con.execute("select kind, subject, detail, run_id from ops_alerts").fetchall()
    finally:
        con.close()


WINDOW = ("2026-10-01", "2026-10-02")


def _window():
    from datetime import date

    from landing.window import Window

    return Window(*(date.fromisoformat(d) for d in WINDOW))


def test_without_postgres_every_target_is_on_record_and_history_is_kept(tmp_path, monkeypatch):
    from warehouse import pipeline

    monkeypatch.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)
    settings = _home(tmp_path)
    first = pipeline.publish(settings, _window(), str(_next(settings, "r1")), "r1")
    assert first["postgres"] == "skipped" and first["parquet"]["fct_ai_cost"] == 10
    # The next run starts from the published file (as build_next does) and appends.
    nxt = prepare_next_file(settings.warehouse_file, settings.build_dir, "r2")
    pipeline.publish(settings, _window(), str(nxt), "r2")
    assert _targets(settings) == [
        (run, target, status, "")
        for run in ("r1", "r2")
        for target, status in (("duckdb", "ok"), ("parquet", "ok"), ("postgres", "skipped"))
    ]
    assert _alerts(settings) == []


def test_an_unreachable_postgres_is_behind_duckdb_and_parquet_move_and_the_run_fails(
    tmp_path, monkeypatch, caplog
):
    from warehouse import pipeline
    from warehouse.publish import PublishTargetBehind

    monkeypatch.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)
    settings = _home(tmp_path)
    dsn = f"host=127.0.0.1 port=1 dbname=finops user=costbridge password={UNREACHABLE_PASSWORD}"
    with pytest.raises(PublishTargetBehind, match="postgres is behind: OperationalError") as err:
        pipeline.publish(settings, _window(), str(_next(settings, "r1", 7)), "r1", dsn)
    assert "\n" not in str(err.value)
    # DuckDB moved to the run, and so did the Parquet export.
    con = duckdb.connect(str(settings.warehouse_file), read_only=True)
    assert con.execute("select run_id from ops_publications").fetchall() == [("r1",)]
    con.close()
    assert (settings.exports_dir / "parquet").resolve().name == "r1"
    targets = {t[1]: t for t in _targets(settings)}
    assert targets["duckdb"][2] == targets["parquet"][2] == "ok"
    assert targets["postgres"][2] == "behind"
    assert "Connection refused" in targets["postgres"][3]
    [alert] = _alerts(settings)
    assert alert == ("publish_target_behind", "postgres", targets["postgres"][3], "r1")
    for text in (str(err.value), caplog.text, targets["postgres"][3]):
        assert UNREACHABLE_PASSWORD not in text
