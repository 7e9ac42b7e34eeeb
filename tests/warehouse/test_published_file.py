"""What a reader of the published warehouse gets: a file that stands alone, and one
set of numbers, on complete days only (docs/adr/0003).

The demo run of tests/warehouse/conftest.py covers 2026-10-19..20; billing re-pulls
its 3-day lookback (10-16..18), which GPU metrics and value do not: those days are
billed without their drivers and must be held back as provisional.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from decimal import Decimal

import duckdb

from reports.summary import read_summary
from tests.warehouse.conftest import DEMO_END, DEMO_START

LOOKBACK_DAYS = [DEMO_START - timedelta(days=d) for d in (3, 2, 1)]
WINDOW_DAYS = [DEMO_START + timedelta(days=d) for d in range((DEMO_END - DEMO_START).days)]
CENT = Decimal("0.01")


def _rows(con, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def test_the_published_file_holds_tables_only_and_works_without_landing(home, tmp_path):
    # Another host: the file alone, and no landing zone anywhere it could reach.
    elsewhere = tmp_path / "another_host" / "costbridge.duckdb"
    elsewhere.parent.mkdir()
    shutil.copyfile(home.warehouse_file, elsewhere)
    shutil.rmtree(home.landing_root)
    con = duckdb.connect(str(elsewhere), read_only=True)
    try:
        relations = _rows(
            con,
            "select table_schema, table_name, table_type from information_schema.tables"
            " where table_catalog = current_database()",
        )
        views = _rows(con, "select view_name from duckdb_views() where not internal")
        assert {"fct_ai_cost", "focus_cost_and_usage", "ops_day_status"} <= {
            name for _, name, _ in relations
        }
        assert {(schema, kind) for schema, _, kind in relations} == {("main", "BASE TABLE")}
        assert views == []
        assert not [n for _, n, _ in relations if n.startswith(("stg_", "int_"))]
        for _, name, _ in relations:
            con.execute(f'select count(*) from main."{name}"').fetchall()
    finally:
        con.close()


def test_lookback_days_without_their_drivers_are_provisional(demo_home):
    con = duckdb.connect(str(demo_home / "warehouse" / "costbridge.duckdb"), read_only=True)
    try:
        days = dict(
            _rows(
                con,
                "select landing_date, any_value(day_status) from ops_day_status"
                " group by landing_date",
            )
        )
        missing = _rows(
            con,
            "select distinct source_name from ops_day_status"
            " where landing_date = ? and source_status = 'missing' order by 1",
            [LOOKBACK_DAYS[0]],
        )
        billed_lookback = _rows(
            con,
            "select count(*) from fct_ai_cost where charge_date < ? and billed_cost <> 0",
            [DEMO_START],
        )[0][0]
        in_marts = _rows(
            con,
            """
            select count(*) from (
                select charge_date as d from mart_engineering__token_efficiency
                union all select period_start from mart_finance__unit_cost
                    where period_grain = 'day'
                union all select charge_date from mart_finance__reconciliation
            ) where d < ?
            """,
            [DEMO_START],
        )[0][0]
    finally:
        con.close()
    assert {d: days[d] for d in LOOKBACK_DAYS} == dict.fromkeys(LOOKBACK_DAYS, "provisional")
    assert {d: days[d] for d in WINDOW_DAYS} == dict.fromkeys(WINDOW_DAYS, "final")
    assert [m for (m,) in missing] == ["feature_kpis", "gpu_cluster"]
    # The fact keeps the billed lookback days (conservation), the role marts do not.
    assert billed_lookback > 0
    assert in_marts == 0


def test_summary_marts_and_fact_agree_on_the_final_days(demo_home):
    warehouse = demo_home / "warehouse" / "costbridge.duckdb"
    summary = read_summary(warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        final = "(select landing_date from ops_day_status where is_final_day)"

        def total(sql: str) -> Decimal:
            return Decimal(_rows(con, sql)[0][0] or 0)

        fact = total(
            f"select sum(effective_cost_reporting) from fct_ai_cost where charge_date in {final}"
        )
        fact_ai = total(
            "select sum(effective_cost_reporting) from fct_ai_cost"
            f" where charge_date in {final} and cost_type in ('tokens', 'gpu')"
        )
        fact_features = total(
            "select sum(effective_cost_reporting) from fct_ai_cost"
            f" where charge_date in {final}"
            " and feature in (select feature_id from feature_catalogue)"
        )
        fact_billed_tokens = total(
            "select sum(billed_cost) from fct_ai_cost"
            f" where charge_date in {final} and cost_type = 'tokens'"
        )
        finance_days = total(
            "select sum(effective_cost) from mart_finance__unit_cost where period_grain = 'day'"
        )
        finance_months = total(
            "select sum(effective_cost) from mart_finance__unit_cost where period_grain = 'month'"
        )
        leadership = total("select sum(spend) from mart_leadership__roi_summary")
        engineering = total("select sum(effective_cost) from mart_engineering__token_efficiency")
        product = total("select sum(cost) from mart_product__feature_roi")
        reconciliation = total("select sum(billed_cost) from mart_finance__reconciliation")
        first_final, last_final = _rows(
            con,
            "select min(landing_date), max(landing_date) from ops_day_status where is_final_day",
        )[0]
    finally:
        con.close()
    assert fact > 0
    assert (summary.first_day, summary.last_day) == (first_final, last_final)
    for name, number in {
        "summary": summary.total_spend,
        "finance (days)": finance_days,
        "finance (months)": finance_months,
        "leadership": leadership,
    }.items():
        assert abs(number - fact) < CENT, f"{name} says {number}, the fact {fact}"
    assert abs(engineering - fact_ai) < CENT
    assert abs(product - fact_features) < CENT
    assert abs(reconciliation - fact_billed_tokens) < CENT
    assert first_final == date(2026, 10, 19)
