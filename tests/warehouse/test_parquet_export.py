"""Parquet exports per mart, partitioned by month, replaced whole on every publish."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.warehouse.conftest import MARTS
from warehouse.parquet_export import export_parquet


def _warehouse(path: Path, first_day: str, days: int) -> Path:
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute(
        "create table fct_ai_cost as select (?::date + i::int) as charge_date,"
        " (i * 1.5)::decimal(38, 12) as billed_cost from range(?) t(i)",
        [first_day, days],
    )
    con.execute(
        "create table mart_finance__unit_cost as select 'month' as period_grain,"
        " date_trunc('month', charge_date)::date as period_start, sum(billed_cost) as billed_cost"
        " from fct_ai_cost group by all"
    )
    con.execute("create table int_not_exported as select 1 as x")
    con.close()
    return path


def _months(root: Path, mart: str) -> dict[str, int]:
    return {
        part.name: sum(pq.ParquetFile(f).metadata.num_rows for f in part.glob("*.parquet"))
        for part in sorted((root / mart).glob("month=*"))
    }


def test_every_mart_lands_in_monthly_folders(tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb", "2026-09-25", 10)
    counts = export_parquet(warehouse, tmp_path / "exports", "run-1")
    root = tmp_path / "exports" / "parquet"
    assert counts == {"fct_ai_cost": 10, "mart_finance__unit_cost": 2}
    assert sorted(p.name for p in root.iterdir()) == ["fct_ai_cost", "mart_finance__unit_cost"]
    assert _months(root, "fct_ai_cost") == {"month=2026-09": 6, "month=2026-10": 4}
    assert _months(root, "mart_finance__unit_cost") == {"month=2026-09": 1, "month=2026-10": 1}
    # BI tools read the folder as one hive-partitioned dataset.
    got = duckdb.sql(
        f"select month, sum(billed_cost) from read_parquet('{root}/fct_ai_cost/*/*.parquet',"
        " hive_partitioning = true) group by month order by month"
    ).fetchall()
    assert [(m, float(c)) for m, c in got] == [("2026-09", 22.5), ("2026-10", 45.0)]


def test_the_next_export_replaces_the_whole_tree(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    exports = tmp_path / "exports"
    export_parquet(_warehouse(warehouse, "2026-09-25", 10), exports, "run-1")
    old_file = next((exports / "parquet" / "fct_ai_cost" / "month=2026-09").glob("*.parquet"))
    held = old_file.resolve()
    export_parquet(_warehouse(warehouse, "2026-10-05", 3), exports, "run-2")
    root = exports / "parquet"
    assert _months(root, "fct_ai_cost") == {"month=2026-10": 3}, "September must be gone"
    # A reader that listed the previous version a moment ago can still open its files...
    assert pq.ParquetFile(held).metadata.num_rows == 6
    export_parquet(_warehouse(warehouse, "2026-10-05", 4), exports, "run-3")
    # ...until the publish after, which removes it.
    assert not held.exists()
    assert len(list((exports / "parquet_versions").iterdir())) == 2
    assert _months(root, "fct_ai_cost") == {"month=2026-10": 4}


def test_a_mart_without_a_date_is_a_clear_error(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table mart_x__undated as select 1 as x")
    con.close()
    with pytest.raises(ValueError, match="mart_x__undated has no date column"):
        export_parquet(path, tmp_path / "exports", "run-1")
    assert not (tmp_path / "exports" / "parquet").exists(), "nothing half-exported is published"


@pytest.mark.slow
def test_the_demo_run_exports_every_mart(demo_home):
    root = demo_home / "exports" / "parquet"
    con = duckdb.connect(str(demo_home / "warehouse" / "costbridge.duckdb"), read_only=True)
    try:
        for mart in MARTS:
            months = _months(root, mart)
            assert months, f"{mart} was not exported"
            assert all(m.startswith("month=2026-") for m in months)
            total = con.execute(f"select count(*) from {mart}").fetchall()[0][0]
            assert sum(months.values()) == total, mart
    finally:
        con.close()
