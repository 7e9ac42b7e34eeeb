"""Bounded reads of the DuckDB warehouse (opened read-only) as pandas frames for GX.

Each frame carries a ``locator`` column naming its rows in gate reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

FACT = "fct_ai_cost"
FOCUS_STAGING = "stg_focus__cost_and_usage"
OPENAI_STAGING = "stg_openai__costs"
ENGINEERING_MART = "mart_engineering__token_efficiency"
DAY_STATUS = "ops_day_status"
# The insight marts: published with the others, so a build that lost one (or its key
# columns) never goes out. Their numbers are checked by their dbt tests.
INSIGHT_MARTS = {
    "mart_ops__alerts": ["alert_id", "alert_date", "alert_kind", "message"],
    "mart_ops__cost_drivers": ["period_start", "cost_change", "volume_effect", "price_effect",
                               "mix_effect"],
    "mart_finance__forecast": ["forecast_date", "forecast_status", "point_forecast"],
    "mart_finance__forecast_period_totals": ["period_grain", "forecast_status", "forecast_total"],
    "mart_finance__forecast_backtest": ["horizon_days", "backtest_status", "mape"],
    "mart_ops__recommendations": ["recommendation_id", "kind", "estimated_monthly_saving",
                                  "evidence"],
    "mart_engineering__team_month_efficiency": ["month_start", "team", "cost_per_1k_tokens",
                                                "cache_hit_rate", "gpu_utilisation"],
}
# relation -> columns the gate reads from it.
REQUIRED = {
    FACT: ["charge_date", "billed_cost", "allocation_method"],
    FOCUS_STAGING: ["charge_date", "billed_cost"],
    OPENAI_STAGING: ["charge_date", "billed_cost|amount"],
    ENGINEERING_MART: [],
    **INSIGHT_MARTS,
}
# Landed billing that joins the conservation sum when its staging model exists.
OPTIONAL_BILLING_STAGING = ["stg_anthropic__costs"]
# The fact's columns the marts suite reads even when the fact is missing (empty frame).
FACT_COLUMNS = ["charge_date", "billed_cost", "environment", "cost_basis", "allocation_method",
                "cost_type"]


@dataclass
class Relation:
    name: str
    qualified: str | None  # "schema"."name", None when absent
    columns: list[str]

    def pick(self, alternatives: str) -> str | None:
        """First existing column of "a|b"."""
        return next((c for c in alternatives.split("|") if c in self.columns), None)


def _relations(con: duckdb.DuckDBPyConnection) -> dict[str, Relation]:
    rows = con.execute(
        """
        select table_schema, table_name, list(column_name order by ordinal_position)
        from information_schema.columns
        where table_name in $names
        group by table_schema, table_name
        -- dbt-duckdb builds into "main" unless a custom schema is configured: prefer it
        order by table_name, table_schema <> 'main', table_schema
        """,
        {"names": [*REQUIRED, *OPTIONAL_BILLING_STAGING]},
    ).fetchall()
    found: dict[str, Relation] = {}
    for schema, name, columns in rows:
        found.setdefault(name, Relation(name, f'"{schema}"."{name}"', list(columns)))
    names = [*REQUIRED, *OPTIONAL_BILLING_STAGING]
    return {name: found.get(name, Relation(name, None, [])) for name in names}


def relations_frame(relations: dict[str, Relation]) -> pd.DataFrame:
    records = []
    for name, needed in REQUIRED.items():
        rel = relations[name]
        if rel.qualified is None:
            problem = f"relation {name} is missing from the warehouse"
        else:
            absent = [c for c in needed if rel.pick(c) is None]
            problem = f"{name} lacks column(s) {absent}" if absent else ""
        records.append({"locator": name, "problem": problem})
    return pd.DataFrame.from_records(records, columns=["locator", "problem"])


def _usable(rel: Relation) -> bool:
    needed = REQUIRED.get(rel.name, ["charge_date", "billed_cost|amount"])
    return rel.qualified is not None and all(rel.pick(c) for c in needed)


def fact_frame(con, fact: Relation, start: date, end: date) -> pd.DataFrame:
    if not _usable(fact):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in [*FACT_COLUMNS, "locator"]})
    pool = "billing_pool_id" if "billing_pool_id" in fact.columns else "''"
    frame = con.execute(
        f"""
        select *, cast(charge_date as varchar) || ' ' || coalesce({pool}, '')
            || ' #' || cast(row_number() over () as varchar) as locator
        from {fact.qualified}
        where charge_date >= $start and charge_date < $end
        """,
        {"start": start, "end": end},
    ).to_arrow_table().to_pandas()
    for column in ("billed_cost", "effective_cost", "list_cost", "effective_cost_reporting"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def conservation_frame(con, rels: dict[str, Relation], start: date, end: date) -> pd.DataFrame:
    """Per charge_date: the fact's billed cost vs the landed billed cost, in exact decimals."""
    columns = ["locator", "fact_billed_cost", "landed_billed_cost", "difference"]
    fact = rels[FACT]
    billing = [rels[FOCUS_STAGING], rels[OPENAI_STAGING]]
    if not all(_usable(r) for r in (fact, *billing)):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    billing += [rels[n] for n in OPTIONAL_BILLING_STAGING if _usable(rels[n])]
    landed_rows = "\n            union all\n".join(
        f"            select charge_date::date as charge_date, "
        f"{rel.pick('billed_cost|amount')}::decimal(38, 12) as billed from {rel.qualified}"
        for rel in billing
    )
    frame = con.execute(
        f"""
        with fact as (
            select charge_date::date as charge_date, sum(billed_cost::decimal(38, 12)) as billed
            from {fact.qualified}
            where charge_date >= $start and charge_date < $end
            group by 1
        ),
        landed_rows as (
{landed_rows}
        ),
        landed as (
            select charge_date, sum(billed) as billed
            from landed_rows
            where charge_date >= $start and charge_date < $end
            group by 1
        )
        select
            cast(coalesce(fact.charge_date, landed.charge_date) as varchar) as locator,
            coalesce(fact.billed, 0)::double as fact_billed_cost,
            coalesce(landed.billed, 0)::double as landed_billed_cost,
            (coalesce(fact.billed, 0) - coalesce(landed.billed, 0))::double as difference
        from fact
        full outer join landed on fact.charge_date = landed.charge_date
        order by 1
        """,
        {"start": start, "end": end},
    ).to_arrow_table().to_pandas()
    return frame[columns]


def freshness_frame(con, fact: Relation, start: date, end: date) -> pd.DataFrame:
    """One row per day of the window: what keeps it from being present and final, or "".

    Fresh means every day of the window is final in ``ops_day_status`` (every
    configured source landed it or recorded it empty) and, when any source landed
    rows for it, the fact holds it. Not "the newest day is the window's last": a
    rerun or backfill of a past range is fresh when its days are, whatever the
    warehouse holds after them.
    """
    days = [start + timedelta(days=i) for i in range((end - start).days)]
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
        fact_rows = dict(con.execute(
            f"select charge_date::date, count(*) from {fact.qualified}"
            " where charge_date >= $start and charge_date < $end group by 1",
            {"start": start, "end": end},
        ).fetchall())
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
    return pd.DataFrame({
        "locator": [day.isoformat() for day in days],
        "problem": problems,
        "fact_rows": [fact_rows.get(day, 0) for day in days],
    })


def _table_exists(con, name: str) -> bool:
    return bool(con.execute(
        "select 1 from information_schema.tables where table_schema = 'main' and table_name = ?",
        [name],
    ).fetchall())


def mart_frame(con, mart: Relation, start: date, end: date) -> pd.DataFrame:
    if mart.qualified is None:
        return pd.DataFrame({"locator": pd.Series(dtype="object")})
    bounded = "charge_date" in mart.columns
    where = "where charge_date >= $start and charge_date < $end" if bounded else ""
    frame = con.execute(
        f"select *, '{mart.name} #' || cast(row_number() over () as varchar) as locator "
        f"from {mart.qualified} {where}",
        {"start": start, "end": end} if bounded else {},
    ).to_arrow_table().to_pandas()
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
        if len(fact) else 0.0
    )
    return pd.DataFrame({
        "locator": ["window"],
        "unallocated_billed_cost": [unallocated],
        "total_billed_cost": [total],
        "unallocated_share": [unallocated / total if total else 0.0],
    })


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
