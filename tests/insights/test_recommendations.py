"""mart_ops__recommendations on the demo month: every recommendation the demo org plants
appears, its saving is what the fact and the price book give when recomputed here, and
its id survives a rebuild."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from warehouse.build import run_dbt

SCALE_TO_MONTH = Decimal(30)
MONTH_WINDOW = (date(2026, 10, 4), date(2026, 10, 31))  # the last 28 final days of October
GPT_4O, GPT_4O_MINI = "gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18"
# (kind, team, feature, environment, model_id): what sandbox/demo_org.yml plants.
PLANTED = {
    "idle_gpu": ("data-science", "churn-model", None, None),  # notebooks at 15% GPU use
    "low_cache_hit": ("growth", "ad-copy-gen", "production", GPT_4O),
    "batch_eligible": ("data-science", "churn-model", "research", GPT_4O),
    "smaller_model": ("support-ai", "ticket-triage", "production", GPT_4O),
}


def _warehouse(home: Path) -> Path:
    return home / "warehouse" / "costbridge.duckdb"


@pytest.fixture(scope="module")
def con(month_home):
    connection = duckdb.connect(str(_warehouse(month_home)), read_only=True)
    yield connection
    connection.close()


def _rows(con, sql: str, *params) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _planted(con, kind: str) -> dict:
    team, feature, environment, model_id = PLANTED[kind]
    rows = [
        r
        for r in _rows(con, "select * from mart_ops__recommendations where kind = ?", kind)
        if (r["team"], r["feature"], r["environment"], r["model_id"])
        == (team, feature, environment, model_id)
    ]
    assert len(rows) == 1, (kind, rows)
    return rows[0]


def _window(con) -> tuple[date, date, int]:
    days = [
        r[0]
        for r in con.execute(
            "select distinct landing_date from ops_day_status where is_final_day "
            "order by landing_date desc limit 28"
        ).fetchall()
    ]
    return min(days), max(days), len(days)


def _monthly(window_saving: Decimal, days: int) -> Decimal:
    return window_saving * SCALE_TO_MONTH / days


def _assert_money(mart_value: Decimal, expected: Decimal) -> None:
    # The mart rounds to the cent; the recomputation keeps full precision.
    assert abs(mart_value - expected) <= Decimal("0.01"), (mart_value, expected)
    assert mart_value > 0


def _token_days(con, kind_filter: str, *params) -> list[dict]:
    """Per day of the window: the subject's fact sums and the price book row in force."""
    start, end, _ = _window(con)
    return _rows(
        con,
        f"""
        select f.charge_date, f.workload_type,
               sum(f.effective_cost_reporting) as cost,
               sum(f.input_tokens) as input_tokens,
               sum(f.cached_input_tokens) as cached,
               sum(f.output_tokens) as output_tokens
        from fct_ai_cost as f
        where f.cost_type = 'tokens' and f.charge_date between ? and ? and {kind_filter}
        group by all order by all
        """,
        start,
        end,
        *params,
    )


def _price(con, model_id: str, day: date) -> dict:
    rows = _rows(
        con,
        "select * from price_book where model_id = ? and effective_from <= ? "
        "and (effective_to is null or ? < effective_to)",
        model_id,
        day,
        day,
    )
    assert len(rows) == 1, (model_id, day)
    assert rows[0]["currency"] == "USD"  # the demo reports in USD: no conversion here
    return rows[0]


def test_every_planted_recommendation_appears_once_per_kind(con):
    for kind in PLANTED:
        row = _planted(con, kind)
        assert row["estimated_monthly_saving"] > 0
        assert row["evidence"]
        assert row["confidence"] in {"high", "medium", "low"}
        assert (row["window_start"], row["window_end"]) == MONTH_WINDOW
        assert row["reporting_currency"] == "USD"
    assert _planted(con, "smaller_model")["smaller_model_id"] == GPT_4O_MINI
    assert _planted(con, "idle_gpu")["resource_id"]


def test_idle_gpu_saving_is_the_idle_cost_of_the_window(con):
    row = _planted(con, "idle_gpu")
    start, end, days = _window(con)
    idle_cost, idle_hours = con.execute(
        """
        select sum(effective_cost_reporting), sum(gpu_hours_idle) from fct_ai_cost
        where is_idle_cost and cost_type = 'gpu' and resource_id = ? and team = ?
          and feature = ? and charge_date between ? and ?
        """,
        [row["resource_id"], row["team"], row["feature"], start, end],
    ).fetchone()
    _assert_money(row["estimated_monthly_saving"], _monthly(idle_cost, days))
    assert row["idle_gpu_hours"] == pytest.approx(idle_hours)


def test_low_cache_hit_saving_prices_the_missing_cache_hits_on_the_price_book(con):
    row = _planted(con, "low_cache_hit")
    start, end, days = _window(con)
    best_rate = con.execute(
        """
        select max(cached / input) from (
            select sum(cached_input_tokens) as cached, sum(input_tokens) as input
            from fct_ai_cost
            where cost_type = 'tokens' and model_id = ? and charge_date between ? and ?
            group by team, feature, environment
        )
        """,
        [GPT_4O, start, end],
    ).fetchone()[0]
    assert row["target_cache_hit_rate"] == pytest.approx(best_rate)
    assert row["cache_hit_rate"] < 0.1 and best_rate > 0.5  # 5% planted vs the chatbot's 60%
    saving = Decimal(0)
    for day in _token_days(
        con,
        "f.feature = ? and f.environment = ? and f.model_id = ?",
        "ad-copy-gen",
        "production",
        GPT_4O,
    ):
        price = _price(con, GPT_4O, day["charge_date"])
        extra_cached = Decimal(best_rate) * day["input_tokens"] - day["cached"]
        gap = price["input_price_per_1m"] - price["cached_input_price_per_1m"]
        saving += extra_cached * gap / 1_000_000
    _assert_money(row["estimated_monthly_saving"], _monthly(saving, days))


def test_batch_eligible_saving_is_the_batch_discount_on_the_traffic_off_the_batch_tier(con):
    row = _planted(con, "batch_eligible")
    _, _, days = _window(con)
    saving = Decimal(0)
    for day in _token_days(
        con,
        "f.feature = ? and f.environment = ? and f.model_id = ? and f.workload_type != 'batch'",
        "churn-model",
        "research",
        GPT_4O,
    ):
        price = _price(con, GPT_4O, day["charge_date"])
        saving += day["cost"] * (1 - price["batch_discount"])
    _assert_money(row["estimated_monthly_saving"], _monthly(saving, days))


def test_smaller_model_saving_prices_the_same_tokens_on_the_smaller_model(con):
    row = _planted(con, "smaller_model")
    _, _, days = _window(con)
    current = on_smaller = Decimal(0)
    planted_days = _token_days(
        con,
        "f.feature = ? and f.environment = ? and f.model_id = ?",
        "ticket-triage",
        "production",
        GPT_4O,
    )
    # The switch (events_calendar ticket-triage-to-gpt-4o) is on 2026-10-26.
    assert min(d["charge_date"] for d in planted_days) == date(2026, 10, 26)
    for day in planted_days:
        price = _price(con, GPT_4O_MINI, day["charge_date"])
        current += day["cost"]
        on_smaller += (
            (day["input_tokens"] - day["cached"]) * price["input_price_per_1m"]
            + day["cached"] * price["cached_input_price_per_1m"]
            + day["output_tokens"] * price["output_price_per_1m"]
        ) / 1_000_000
    assert row["avg_output_tokens_per_request"] < 100
    _assert_money(row["estimated_monthly_saving"], _monthly(current - on_smaller, days))


def test_recommendation_ids_survive_a_rebuild(con, month_home, tmp_path):
    before = {
        (r["kind"], r["team"], r["feature"], r["environment"], r["model_id"], r["resource_id"]): r[
            "recommendation_id"
        ]
        for r in _rows(con, "select * from mart_ops__recommendations")
    }
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(_warehouse(month_home), rebuilt)
    run_dbt(
        # The published file keeps tables only: the views under the mart are built again.
        [
            "build",
            "--select",
            "recommendation_rules",
            "path:models/staging",
            "path:models/intermediate",
            "mart_ops__recommendations",
        ],
        target_file=rebuilt,
        landing_root=month_home / "landing",
        artifacts_dir=tmp_path / "dbt",
        dbt_vars={"start_date": "2026-10-01", "end_date": "2026-11-01"},
    )
    after_con = duckdb.connect(str(rebuilt), read_only=True)
    try:
        after = {
            (
                r["kind"],
                r["team"],
                r["feature"],
                r["environment"],
                r["model_id"],
                r["resource_id"],
            ): r["recommendation_id"]
            for r in _rows(after_con, "select * from mart_ops__recommendations")
        }
    finally:
        after_con.close()
    assert after == before and len(before) >= len(PLANTED)
