"""Fixtures: small landing trees and warehouses built in code, one GX context per session."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from expectations.marts_data import INSIGHT_MARTS
from landing.schemas import DATASETS, Dataset

START, END = date(2026, 10, 1), date(2026, 10, 3)  # two days, end exclusive


@pytest.fixture(scope="session", autouse=True)
def gx_root(tmp_path_factory) -> Path:
    """A throwaway GX project for the session, so tests never write into the repo."""
    root = tmp_path_factory.mktemp("gx_project")
    previous = os.environ.get("COSTBRIDGE_GX_ROOT")
    os.environ["COSTBRIDGE_GX_ROOT"] = str(root)
    yield root
    if previous is None:
        os.environ.pop("COSTBRIDGE_GX_ROOT", None)
    else:
        os.environ["COSTBRIDGE_GX_ROOT"] = previous


def _at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _money(value: str) -> Decimal:
    return Decimal(value)


def clean_rows(dataset: str, day: date) -> list[dict]:
    """A few valid rows of ``dataset`` dated ``day`` (the demo organisation's shapes)."""
    d = day.isoformat()
    if dataset == "focus_cost_and_usage":
        base = {
            "source_name": "aws_focus",
            "focus_version": "1.2",
            "export_version": "v1",
            "billing_account_id": "111122223333",
            "provider_name": "AWS",
            "billing_currency": "USD",
            "billing_period_start": _at(day.replace(day=1)),
            "billing_period_end": _at(date(2026, 11, 1)),
            "charge_period_start": _at(day),
            "charge_period_end": _at(day + timedelta(days=1)),
            "service_name": "Amazon EC2",
            "resource_name": "gpu-a10g-0",
        }
        return [
            {
                **base,
                "record_ref": f"focus-{d}.csv:2",
                "charge_category": "Usage",
                "billed_cost": _money("136.128"),
                "effective_cost": _money("136.128"),
                "list_cost": _money("136.128"),
            },
            # A credit is negative by nature: it must pass.
            {
                **base,
                "record_ref": f"focus-{d}.csv:3",
                "charge_category": "Credit",
                "billed_cost": _money("-5.25"),
                "effective_cost": _money("-5.25"),
            },
        ]
    if dataset == "openai_costs":
        return [
            {
                "source_name": "openai",
                "record_ref": f"costs:{d}:{i}",
                "project_id": "proj_search",
                "line_item": item,
                "currency": "USD",
                "amount": _money(amount),
                "bucket_start_at": _at(day),
                "bucket_end_at": _at(day + timedelta(days=1)),
            }
            for i, (item, amount) in enumerate(
                [
                    ("gpt-4o-mini-2024-07-18, input", "1.20"),
                    ("gpt-4o-mini-2024-07-18, output", "0.85"),
                ]
            )
        ]
    if dataset in ("openai_usage_completions", "openai_usage_embeddings"):
        return [
            {
                "source_name": "openai",
                "record_ref": f"usage:{d}:0",
                "project_id": "proj_search",
                "api_key_id": "key_srch_prod_02",
                "model": "gpt-4o-mini-2024-07-18",
                "is_batch": False,
                "input_tokens": 4500,
                "input_cached_tokens": 2000,
                "output_tokens": 600,
                "num_model_requests": 10,
                "bucket_start_at": _at(day),
                "bucket_end_at": _at(day + timedelta(days=1)),
            }
        ]
    if dataset == "anthropic_usage_messages":
        return [
            {
                "source_name": "anthropic",
                "record_ref": f"usage_report:{d}:0",
                "api_key_id": "wrk_content_prod_01",
                "workspace_id": "wrkspc_content",
                "model": "claude-sonnet-4-5",
                "service_tier": "standard",
                "uncached_input_tokens": 1800,
                "cache_read_input_tokens": 700,
                "cache_creation_5m_input_tokens": 100,
                "cache_creation_1h_input_tokens": 0,
                "output_tokens": 700,
                "bucket_start_at": _at(day),
                "bucket_end_at": _at(day + timedelta(days=1)),
            }
        ]
    if dataset == "anthropic_costs":
        return [
            {
                "source_name": "anthropic",
                "record_ref": f"cost_report:{d}:0",
                "workspace_id": "wrkspc_content",
                "description": "Claude Sonnet 4.5 Usage - Input Tokens",
                "cost_type": "tokens",
                "model": "claude-sonnet-4-5",
                "token_type": "uncached_input_tokens",
                "currency": "USD",
                "amount": _money("3.42"),
                "bucket_start_at": _at(day),
                "bucket_end_at": _at(day + timedelta(days=1)),
            }
        ]
    if dataset == "dcgm_gpu_metrics":
        return [
            {
                "source_name": "gpu_cluster",
                "record_ref": f"query_range:{metric}:{d}",
                "metric_name": metric,
                "hostname": "gpu-a10g-0",
                "gpu": "0",
                "value": value,
                "step_seconds": 300,
                "sample_at": _at(day, 1),
            }
            for metric, value in [("DCGM_FI_DEV_GPU_UTIL", 55.0), ("DCGM_FI_DEV_FB_USED", 1024.0)]
        ]
    if dataset == "value_feature_kpis":
        return [
            {
                "source_name": "feature_kpis",
                "record_ref": f"feature_kpis_{d}.csv:2",
                "feature_id": "semantic-search",
                "currency": "USD",
                "active_users": 42000,
                "conversions": 840,
                "revenue": _money("15120.00"),
                "kpi_at": _at(day),
            }
        ]
    return [generic_row(DATASETS[dataset], day)]


def generic_row(dataset: Dataset, day: date) -> dict:
    """A valid row for a dataset without a hand-written fixture, from its Arrow schema."""
    row = {}
    for f in dataset.schema:
        if pa.types.is_timestamp(f.type):
            row[f.name] = _at(day, 1)
        elif pa.types.is_decimal(f.type):
            row[f.name] = Decimal("1.5")
        elif pa.types.is_integer(f.type):
            row[f.name] = 3
        elif pa.types.is_floating(f.type):
            row[f.name] = 0.5
        elif pa.types.is_boolean(f.type):
            row[f.name] = False
        else:
            row[f.name] = "USD" if "currency" in f.name else f"{f.name}-{day.isoformat()}"
    row["source_name"] = f"src_{dataset.name}"
    return row


def write_partition(
    root: Path,
    dataset: Dataset,
    day: date,
    rows: list[dict],
    *,
    rows_loaded: int | None = None,
    table: pa.Table | None = None,
) -> Path:
    """One partition: part-0.parquet with the exact schema, plus a matching _manifest.json."""
    source = rows[0]["source_name"] if rows else "empty_source"
    part = root / source / dataset.name / f"date={day.isoformat()}"
    part.mkdir(parents=True, exist_ok=True)
    table = table if table is not None else pa.Table.from_pylist(rows, schema=dataset.schema)
    pq.write_table(table, part / "part-0.parquet")
    manifest = {
        "source": source,
        "dataset": dataset.name,
        "schema_version": dataset.version,
        "partition": day.isoformat(),
        "rows_in": table.num_rows,
        "rows_loaded": table.num_rows if rows_loaded is None else rows_loaded,
        "rows_quarantined": 0,
        "files": [{"path": "part-0.parquet", "rows": table.num_rows}],
    }
    (part / "_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return part


Mutator = Callable[[str, date, list[dict]], list[dict]]


def build_landing(root: Path, mutate: Mutator | None = None) -> Path:
    """A clean landing tree for [START, END) (``mutate`` may break rows), plus _schema files."""
    for name, dataset in DATASETS.items():
        day = START
        while day < END:
            rows = clean_rows(name, day)
            write_partition(root, dataset, day, mutate(name, day, rows) if mutate else rows)
            day += timedelta(days=1)
        schema_dir = root / "_schema" / name / "empty"
        schema_dir.mkdir(parents=True, exist_ok=True)
        pq.write_table(dataset.schema.empty_table(), schema_dir / "part-0.parquet")
    return root


@pytest.fixture
def landing(tmp_path) -> Callable[..., Path]:
    return lambda mutate=None: build_landing(tmp_path / "landing", mutate)


_GPU, _OPENAI = "focus:gpu-a10g-0", "openai:proj_search"
FACT_ROWS = [
    (day, pool, team, env, basis, method, ctype, Decimal(cost))
    for day in ("2026-10-01", "2026-10-02")
    for pool, team, env, basis, method, ctype, cost in [
        (_GPU, "search", "production", "billed", "proportional", "gpu", "100.000"),
        (_GPU, "ml-platform", "research", "billed", "idle", "gpu", "30.878"),
        (
            _OPENAI,
            "search",
            "production",
            "billed",
            "direct" if day == "2026-10-01" else "rule",
            "tokens",
            "1.55",
        ),
        (_OPENAI, "unallocated", "unallocated", "billed", "unallocated", "tokens", "0.50"),
        (_OPENAI, "search", "staging", "estimated", "direct", "tokens", "0.00"),
    ]
]


def build_warehouse(path: Path, statements: list[str] = ()) -> Path:
    """A warehouse for [START, END) whose fact conserves the staging billed cost.

    Per day: FOCUS 136.128 - 5.25 and OpenAI 2.05 landed; the fact splits them
    over attributions, 0.50 of it unallocated (an unmapped key).
    """
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("""
            create table stg_focus__cost_and_usage as
            select d::date as charge_date, c::decimal(38, 12) as billed_cost, cat as charge_category
            from (values ('2026-10-01', 136.128, 'Usage'), ('2026-10-01', -5.25, 'Credit'),
                         ('2026-10-02', 136.128, 'Usage'), ('2026-10-02', -5.25, 'Credit'))
                 t(d, c, cat);
            create table stg_openai__costs as
            select d::date as charge_date, c::decimal(38, 12) as amount
            from (values ('2026-10-01', 1.20), ('2026-10-01', 0.85),
                         ('2026-10-02', 1.20), ('2026-10-02', 0.85)) t(d, c);
            create table fct_ai_cost (
                charge_date date, billing_pool_id varchar, team varchar, environment varchar,
                cost_basis varchar, allocation_method varchar, cost_type varchar,
                billed_cost decimal(38, 12)
            );
            create table stg_anthropic__costs (charge_date date, amount decimal(38, 12));
            -- dbt's int_billed_cost_conservation in miniature: one pool a day.
            create view int_billed_cost_conservation as
            with landed as (
                select charge_date, sum(billed_cost) as billed from (
                    select charge_date, billed_cost from stg_focus__cost_and_usage
                    union all select charge_date, amount from stg_openai__costs
                    union all select charge_date, amount from stg_anthropic__costs
                ) group by charge_date
            ),
            fact as (
                select charge_date, sum(billed_cost) as billed from fct_ai_cost group by charge_date
            )
            select coalesce(landed.charge_date, fact.charge_date) as charge_date,
                'pool' as comparison, 'day' as billing_pool_id,
                coalesce(landed.billed, 0) as landed_billed_cost,
                coalesce(fact.billed, 0) as fact_billed_cost
            from landed full outer join fact on landed.charge_date = fact.charge_date;
            create table mart_engineering__token_efficiency as
            select d::date as charge_date, team, hit as cache_hit_rate, paid as gpu_utilisation,
                busy as gpu_busy_share_of_allocated
            from (values ('2026-10-01', 'search', 0.44, 0.45, 0.55),
                         ('2026-10-02', 'search', 0.40, 0.52, 0.615)) t(d, team, hit, paid, busy);
            create table ops_day_status as
            select d::date as landing_date, s as source_name, st as source_status,
                missing::varchar as missing_datasets, n::bigint as rows_loaded,
                st <> 'missing' as is_final_day
            from (values ('2026-10-01', 'aws_focus', 'landed', null, 4),
                         ('2026-10-01', 'openai', 'landed', null, 2),
                         ('2026-10-02', 'aws_focus', 'landed', null, 4),
                         ('2026-10-02', 'openai', 'landed', null, 2)) t(d, s, st, missing, n);
        """)
        con.executemany("insert into fct_ai_cost values (?, ?, ?, ?, ?, ?, ?, ?)", FACT_ROWS)
        for mart, columns in INSIGHT_MARTS.items():  # present; their numbers are dbt's to test
            con.execute(f"create table {mart} ({', '.join(f'{c} varchar' for c in columns)})")
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    return path


@pytest.fixture
def warehouse(tmp_path) -> Callable[..., Path]:
    return lambda *statements: build_warehouse(tmp_path / "warehouse.duckdb", list(statements))
