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
