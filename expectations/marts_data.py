"""Bounded reads of the DuckDB warehouse (opened read-only) as pandas frames for GX.

Each frame carries a ``locator`` column naming its rows in gate reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from landing.window import days_between

FACT = "fct_ai_cost"
# Conservation is defined once, in dbt: the gate reads the model its dbt test reads.
CONSERVATION = "int_billed_cost_conservation"
ENGINEERING_MART = "mart_engineering__token_efficiency"
DAY_STATUS = "ops_day_status"
# The insight marts: published with the others, so a build that lost one (or its key
# columns) never goes out. Their numbers are checked by their dbt tests.
INSIGHT_MARTS = {
    "mart_ops__alerts": ["alert_id", "alert_date", "alert_kind", "message"],
    "mart_ops__cost_drivers": [
        "period_start",
        "cost_change",
        "volume_effect",
        "price_effect",
        "mix_effect",
    ],
    "mart_finance__forecast": ["forecast_date", "forecast_status", "point_forecast"],
    "mart_finance__forecast_period_totals": ["period_grain", "forecast_status", "forecast_total"],
    "mart_finance__forecast_backtest": ["horizon_days", "backtest_status", "mape"],
    "mart_ops__recommendations": [
        "recommendation_id",
        "kind",
        "estimated_monthly_saving",
        "evidence",
    ],
    "mart_engineering__team_month_efficiency": [
        "month_start",
        "team",
        "cost_per_1k_tokens",
        "cache_hit_rate",
        "gpu_utilisation",
    ],
}
# relation -> columns the gate reads from it.
REQUIRED = {
    FACT: ["charge_date", "billed_cost", "allocation_method"],
    CONSERVATION: ["charge_date", "comparison", "landed_billed_cost", "fact_billed_cost"],
    ENGINEERING_MART: [],
    **INSIGHT_MARTS,
}
# The fact's columns the marts suite reads even when the fact is missing (empty frame).
FACT_COLUMNS = [
    "charge_date",
    "billed_cost",
    "environment",
    "cost_basis",
    "allocation_method",
    "cost_type",
]


@dataclass
class Relation:
    name: str
    qualified: str | None  # "schema"."name", None when absent
    columns: list[str]

    def pick(self, alternatives: str) -> str | None:
        """First existing column of "a|b"."""
        return next((c for c in alternatives.split("|") if c in self.columns), None)


def _find_relations(con: duckdb.DuckDBPyConnection, names: list[str]) -> dict[str, Relation]:
    """Each of ``names`` with its columns; ``qualified`` is None for one the file lacks."""
    rows = con.execute(
        """
        select table_schema, table_name, list(column_name order by ordinal_position)
        from information_schema.columns
        where table_name in $names
        group by table_schema, table_name
        -- dbt-duckdb builds into "main" unless a custom schema is configured: prefer it
        order by table_name, table_schema <> 'main', table_schema
        """,
        {"names": names},
    ).fetchall()
    found: dict[str, Relation] = {}
    for schema, name, columns in rows:
        found.setdefault(name, Relation(name, f'"{schema}"."{name}"', list(columns)))
    return {name: found.get(name, Relation(name, None, [])) for name in names}


def _relations(con: duckdb.DuckDBPyConnection) -> dict[str, Relation]:
    return _find_relations(con, list(REQUIRED))


def _relation_problems(
    relations: dict[str, Relation], needed: dict[str, list[str]], where: str
) -> pd.DataFrame:
    """One row per needed relation: its problem (missing, or lacking columns), or ""."""
    records = []
    for name, columns in needed.items():
        rel = relations[name]
        if rel.qualified is None:
            problem = f"relation {name} is missing from {where}"
        else:
            absent = [c for c in columns if rel.pick(c) is None]
            problem = f"{name} lacks column(s) {absent}" if absent else ""
        records.append({"locator": name, "problem": problem})
    return pd.DataFrame.from_records(records, columns=["locator", "problem"])


def relations_frame(relations: dict[str, Relation]) -> pd.DataFrame:
    return _relation_problems(relations, REQUIRED, "the warehouse")


def _usable(rel: Relation) -> bool:
    return rel.qualified is not None and all(rel.pick(c) for c in REQUIRED[rel.name])


def fact_frame(con, fact: Relation, start: date, end: date) -> pd.DataFrame:
    if not _usable(fact):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in [*FACT_COLUMNS, "locator"]})
    pool = "billing_pool_id" if "billing_pool_id" in fact.columns else "''"
    frame = (
        con.execute(
            f"""
        select *, cast(charge_date as varchar) || ' ' || coalesce({pool}, '')
            || ' #' || cast(row_number() over () as varchar) as locator
        from {fact.qualified}
        where charge_date >= $start and charge_date < $end
        """,
            {"start": start, "end": end},
        )
        .to_arrow_table()
        .to_pandas()
    )
    for column in ("billed_cost", "effective_cost", "list_cost", "effective_cost_reporting"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def conservation_frame(con, rels: dict[str, Relation], start: date, end: date) -> pd.DataFrame:
    """Per charge_date and comparison: the fact's billed cost vs the landed, in exact decimals.

    The rows are int_billed_cost_conservation's (its pools summed per day), so every
    billing source the dbt model conserves is conserved here too.
    """
    columns = ["locator", "fact_billed_cost", "landed_billed_cost", "difference"]
    conservation = rels[CONSERVATION]
    if not _usable(conservation):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    frame = (
        con.execute(
            f"""
        select
            cast(charge_date as varchar)
                || case when comparison = 'pool' then '' else ' (' || comparison || ')' end
                as locator,
            sum(fact_billed_cost::decimal(38, 12))::double as fact_billed_cost,
            sum(landed_billed_cost::decimal(38, 12))::double as landed_billed_cost,
            sum(fact_billed_cost::decimal(38, 12) - landed_billed_cost::decimal(38, 12))::double
                as difference
        from {conservation.qualified}
        where charge_date >= $start and charge_date < $end
        group by charge_date, comparison
        order by charge_date, comparison desc
        """,
            {"start": start, "end": end},
        )
        .to_arrow_table()
        .to_pandas()
    )
    return frame[columns]


def freshness_frame(con, fact: Relation, start: date, end: date) -> pd.DataFrame:
    """One row per day of the window: what keeps it from being present and final, or "".

    Fresh means every day of the window is final in ``ops_day_status`` (every
    configured source landed it or recorded it empty) and, when any source landed
    rows for it, the fact holds it. Not "the newest day is the window's last": a
    rerun or backfill of a past range is fresh when its days are, whatever the
    warehouse holds after them.
    """
    days = days_between(start, end)
    status: dict[date, tuple[bool, int, str]] = {}
    if _table_exists(con, DAY_STATUS):
        rows = con.execute(
            f"select landing_date, bool_and(is_final_day), sum(rows_loaded),"
            f" string_agg(case when source_status = 'missing' then source_name || ' ('"
            f" || missing_datasets || ')' end, ', ' order by source_name)"
            f" from {DAY_STATUS} where landing_date >= $start and landing_date < $end"
            f" group by landing_date",
            {"start": start, "end": end},
        ).fetchall()
        status = {day: (final, int(n or 0), missing or "") for day, final, n, missing in rows}
    fact_rows: dict[date, int] = {}
    if _usable(fact):
        fact_rows = dict(
            con.execute(
                f"select charge_date::date, count(*) from {fact.qualified}"
                " where charge_date >= $start and charge_date < $end group by 1",
                {"start": start, "end": end},
            ).fetchall()
        )
    problems = []
    for day in days:
        final, loaded, missing = status.get(day, (False, 0, ""))
        if day not in status:
            problems.append(f"{DAY_STATUS} has no row for the day")
        elif not final:
            problems.append(f"provisional: waiting for {missing}")
        elif loaded and not fact_rows.get(day):
            problems.append(f"{loaded} rows landed but {FACT} holds none")
        else:
            problems.append("")
    return pd.DataFrame(
        {
            "locator": [day.isoformat() for day in days],
            "problem": problems,
            "fact_rows": [fact_rows.get(day, 0) for day in days],
        }
    )


def _table_exists(con, name: str) -> bool:
    return bool(
        con.execute(
            "select 1 from information_schema.tables"
            " where table_schema = 'main' and table_name = ?",
            [name],
        ).fetchall()
    )


def mart_frame(con, mart: Relation, start: date, end: date) -> pd.DataFrame:
    if mart.qualified is None:
        return pd.DataFrame({"locator": pd.Series(dtype="object")})
    bounded = "charge_date" in mart.columns
    where = "where charge_date >= $start and charge_date < $end" if bounded else ""
    frame = (
        con.execute(
            f"select *, '{mart.name} #' || cast(row_number() over () as varchar) as locator "
            f"from {mart.qualified} {where}",
            {"start": start, "end": end} if bounded else {},
        )
        .to_arrow_table()
        .to_pandas()
    )
    for column in frame.columns:
        if str(frame[column].dtype) == "object" and column != "locator":
            converted = pd.to_numeric(frame[column], errors="coerce")
            # decimals arrive as objects; convert only wholly numeric columns
            if converted.notna().sum() == frame[column].notna().sum():
                frame[column] = converted.astype("float64")
    return frame


def unallocated_frame(fact: pd.DataFrame) -> pd.DataFrame:
    total = float(fact["billed_cost"].sum()) if len(fact) else 0.0
    unallocated = (
        float(fact.loc[fact["allocation_method"] == "unallocated", "billed_cost"].sum())
        if len(fact)
        else 0.0
    )
    return pd.DataFrame(
        {
            "locator": ["window"],
            "unallocated_billed_cost": [unallocated],
            "total_billed_cost": [total],
            "unallocated_share": [unallocated / total if total else 0.0],
        }
    )


def read_marts(warehouse_path: Path, start: date, end: date) -> dict[str, pd.DataFrame]:
    """Batch name -> frame, for the marts suite."""
    if not Path(warehouse_path).exists():
        raise FileNotFoundError(f"marts gate: warehouse file {warehouse_path} does not exist")
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        rels = _relations(con)
        fact = fact_frame(con, rels[FACT], start, end)
        return {
            "relations": relations_frame(rels),
            "fct_ai_cost": fact,
            "conservation": conservation_frame(con, rels, start, end),
            "freshness": freshness_frame(con, rels[FACT], start, end),
            ENGINEERING_MART: mart_frame(con, rels[ENGINEERING_MART], start, end),
            "unallocated_share": unallocated_frame(fact),
        }
    finally:
        con.close()


# --- today's spend so far (the intraday file, warehouse/intraday.py) -----------------------

SPEND_TODAY = "mart_ops__spend_today"
PRICED_USAGE = "int_token_usage_priced"
FX_RANGED = "int_fx_rates_ranged"
SPEND_TODAY_COLUMNS = [
    "spend_date",
    "as_of_at",
    "hours_covered",
    "team",
    "feature",
    "provider",
    "model_id",
    "estimated_cost",
    "reporting_currency",
    "input_tokens",
    "output_tokens",
    "requests",
    "cost_basis",
]
PROVIDER_USAGE_SOURCES = ("openai_usage", "anthropic_usage")
GATEWAY_USAGE_SOURCES = ("litellm", "otel")


def _intraday_relations(con) -> dict[str, Relation]:
    return _find_relations(con, [SPEND_TODAY, PRICED_USAGE, FX_RANGED])


def _intraday_relations_frame(rels: dict[str, Relation]) -> pd.DataFrame:
    needed = {
        SPEND_TODAY: SPEND_TODAY_COLUMNS,
        PRICED_USAGE: [
            "usage_source",
            "provider",
            "model_id",
            "usage_date",
            "estimated_cost",
            "price_currency",
        ],
        FX_RANGED: ["from_currency", "to_currency", "rate", "valid_from", "valid_to"],
    }
    return _relation_problems(rels, needed, "the intraday file")


def _spend_today_frame(con, mart: Relation, spend_date: date, as_of) -> pd.DataFrame:
    columns = ["locator", "team", "cost_basis", "estimated_cost", "spend_date", "as_of_problem"]
    if mart.qualified is None or any(c not in mart.columns for c in SPEND_TODAY_COLUMNS):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    # Every row, not only D's: a row of another day in today's estimate is itself a finding.
    frame = (
        con.execute(
            f"""
        select
            '{SPEND_TODAY} ' || coalesce(team, '?') || '/' || coalesce(feature, '?') || '/'
                || coalesce(model_id, '?') || ' #' || cast(row_number() over () as varchar)
                as locator,
            team,
            cost_basis,
            estimated_cost::double as estimated_cost,
            cast(spend_date as varchar) as spend_date,
            case
                when as_of_at is null then 'as_of_at is null'
                when as_of_at <> $as_of then 'as_of_at ' || cast(as_of_at as varchar)
                    || ' is not the run''s as-of ' || cast($as_of as varchar)
                    || ' (a source landed less of the day)'
                when hours_covered <> $hours then 'hours_covered ' || cast(hours_covered as varchar)
                    || ' is not ' || cast($hours as varchar)
                else ''
            end as as_of_problem
        from {mart.qualified}
        """,
            {"as_of": as_of, "hours": _hours(spend_date, as_of)},
        )
        .to_arrow_table()
        .to_pandas()
    )
    return frame[columns]


def _hours(spend_date: date, as_of) -> int:
    from datetime import UTC, datetime

    midnight = datetime.combine(spend_date, datetime.min.time(), tzinfo=UTC)
    return int((as_of - midnight).total_seconds() // 3600)


def _spend_today_conservation(con, rels: dict[str, Relation], spend_date: date) -> pd.DataFrame:
    """The mart's total against the priced usage of D, counted once, in exact decimals.

    The priced usage is every provider usage row's estimate (OpenAI, Anthropic usage
    reports) plus the gateway rows (LiteLLM, OTel) of a provider, day and model no
    provider usage covers: ADR 0004's "each call once", summed without the allocation.
    """
    columns = ["locator", "mart_estimated_cost", "priced_estimated_cost", "difference"]
    if any(r.qualified is None for r in rels.values()) or any(
        c not in rels[SPEND_TODAY].columns for c in SPEND_TODAY_COLUMNS
    ):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    priced, fx, mart = (
        rels[PRICED_USAGE].qualified,
        rels[FX_RANGED].qualified,
        rels[SPEND_TODAY].qualified,
    )
    frame = (
        con.execute(
            f"""
        with
        reporting as (
            select coalesce(max(reporting_currency), 'USD') as currency from {mart}
        ),
        usage as (
            select * from {priced} where usage_date = $day
        ),
        counted as (
            select usage.*
            from usage
            where usage.usage_source in $provider_sources
                or (
                    usage.usage_source in $gateway_sources
                    and not exists (
                        select 1 from usage as provider_usage
                        where provider_usage.usage_source in $provider_sources
                            and provider_usage.provider = usage.provider
                            and coalesce(provider_usage.model_id, 'no_model')
                                = coalesce(usage.model_id, 'no_model')
                    )
                )
        ),
        converted as (
            select
                coalesce(counted.estimated_cost, 0) * case
                    when counted.price_currency = reporting.currency
                        or counted.price_currency is null then 1
                    else cast(fx.rate as decimal(38, 12))
                end as cost
            from counted
            cross join reporting
            left join {fx} as fx
                on counted.price_currency = fx.from_currency
                and fx.to_currency = reporting.currency
                and counted.usage_date >= fx.valid_from
                and (fx.valid_to is null or counted.usage_date < fx.valid_to)
        ),
        totals as (
            select
                (select coalesce(sum(estimated_cost), 0) from {mart}
                 where spend_date = $day) as mart_total,
                (select coalesce(sum(cost), 0) from converted) as priced_total
        )
        select
            cast($day as varchar) as locator,
            mart_total::double as mart_estimated_cost,
            priced_total::double as priced_estimated_cost,
            (mart_total - priced_total)::double as difference
        from totals
        """,
            {
                "day": spend_date,
                "provider_sources": list(PROVIDER_USAGE_SOURCES),
                "gateway_sources": list(GATEWAY_USAGE_SOURCES),
            },
        )
        .to_arrow_table()
        .to_pandas()
    )
    return frame[columns]


def read_spend_today(warehouse_path: Path, spend_date: date, as_of) -> dict[str, pd.DataFrame]:
    """Batch name -> frame, for the intraday marts suite (the next intraday file, before
    publishing: its intermediate views still stand)."""
    if not Path(warehouse_path).exists():
        raise FileNotFoundError(f"intraday marts gate: file {warehouse_path} does not exist")
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        rels = _intraday_relations(con)
        return {
            "relations": _intraday_relations_frame(rels),
            "spend_today": _spend_today_frame(con, rels[SPEND_TODAY], spend_date, as_of),
            "conservation": _spend_today_conservation(con, rels, spend_date),
        }
    finally:
        con.close()
