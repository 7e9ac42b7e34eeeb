"""A small landing tree, built from code, in the exact Arrow schemas of landing.schemas.

Four days (2026-10-13 .. 2026-10-16, straddling the gpt-4o-mini price change
of 2026-10-15) of a tiny organisation:

- OpenAI: proj_search (gpt-4o-mini shared by a mapped key and the unmapped
  key_unknown_01; embeddings), proj_research (gpt-4o, batch and not),
  proj_growth (ad-copy-gen; its last day has usage but no cost bucket, so it is
  only estimated), proj_legacy (a cost bucket with no usage at all), and
  proj_support, billed like the sandbox bills: gpt-4o at list price + 0.5 %,
  gpt-4o-mini at the old price also after the price book's 2026-10-15 cut.
- LiteLLM: traffic to OpenAI gpt-4o-mini (the same calls the Usage API
  reports: it drives GATEWAY_MINI_SHARE of the gpt-4o-mini pools, ADR 0004),
  to a self-hosted vLLM model (priced from the price book, estimated) with a
  proxy cache hit (no cost), and to Bedrock (no price: LiteLLM's own spend).
- OTel GenAI spans: Bedrock and OpenAI spans of the calls LiteLLM already
  logged (ignored), and Vertex AI spans nobody else saw.
- GPU: node gpu-a10g-0 (4 GPUs): inference-llama holds 3 GPUs at 50 % all day,
  notebooks 1 GPU at 20 % for 8 hours; on the last day nobody uses the node.
- Anthropic: wrkspc_content's claude-haiku-4-5 pool shared by translation and
  doc-summarizer (cache reads and 5-minute cache writes priced apart).
- FOCUS: that node's daily line, an S3 and an RDS line tagged to features,
  a CloudWatch line tagged shared=true, an untagged line, and one Tax line.
- Value: daily KPIs for semantic-search (profitable) and ad-copy-gen (not).

Module-level constants are the numbers the tests assert against.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from landing.schemas import DATASETS

UTC = dt.UTC
DAYS = [dt.date(2026, 10, 13) + dt.timedelta(days=i) for i in range(4)]
GPU_NODE = "gpu-a10g-0"
GPU_NODE_DAILY_COST = Decimal("136.128")  # 4 x A10G, 5.672 per hour x 24
# Day-level GPU numbers while the node is used (days 0..2).
GPU_CAPACITY_HOURS = 4 * 24.0
LLAMA_BUSY_HOURS = 3 * 24 * 0.5
NOTEBOOKS_BUSY_HOURS = 1 * 8 * 0.2
NOTEBOOKS_ALLOCATED_HOURS = 8.0
GPU_USED_DAYS = DAYS[:3]
GPU_IDLE_DAY = DAYS[3]

# Costs API buckets: (day, project, line_item, amount). Amounts are arbitrary
# invoice numbers: the warehouse must carry them, not recompute them.
MINI = "gpt-4o-mini-2024-07-18"
GPT4O = "gpt-4o-2024-08-06"
EMBED = "text-embedding-3-small"


# proj_support per day, billed as the sandbox bills (sandbox/org.py BILLING_DEVIATION):
# gpt-4o: 0.6M uncached x 2.50 + 0.4M cached x 1.25 + 0.1M out x 10.00 = 3.00 at list, +0.5 %;
# gpt-4o-mini: 1.4M x 0.15 + 0.6M x 0.075 + 0.2M x 0.60 = 0.375 at the old price, every day,
# while the price book's new price (0.12 / 0.06 / 0.48) estimates 0.30 from 2026-10-15.
SUPPORT_GPT4O_ESTIMATE = Decimal("3.00")
GPT4O_BILLING_DEVIATION = Decimal("0.005")
SUPPORT_MINI_OLD_ESTIMATE = Decimal("0.375")
SUPPORT_MINI_NEW_ESTIMATE = Decimal("0.30")
MINI_PRICE_CHANGE = dt.date(2026, 10, 15)
SUPPORT_BILL_LINES = [
    (f"{GPT4O}, input", Decimal("1.50") * (1 + GPT4O_BILLING_DEVIATION)),
    (f"{GPT4O}, cached input", Decimal("0.50") * (1 + GPT4O_BILLING_DEVIATION)),
    (f"{GPT4O}, output", Decimal("1.00") * (1 + GPT4O_BILLING_DEVIATION)),
    (f"{MINI}, input", Decimal("0.21")),
    (f"{MINI}, cached input", Decimal("0.045")),
    (f"{MINI}, output", Decimal("0.12")),
]


def _cost_rows() -> list[tuple[dt.date, str, str, Decimal]]:
    rows = []
    for i, day in enumerate(DAYS):
        rows += [
            (day, "proj_search", f"{MINI}, input", Decimal("1.20") + i),
            (day, "proj_search", f"{MINI}, cached input", Decimal("0.30")),
            (day, "proj_search", f"{MINI}, output", Decimal("0.90")),
            (day, "proj_search", f"{EMBED}, input", Decimal("0.05")),
            (day, "proj_research", f"{GPT4O}, input (batch)", Decimal("4.00")),
            (day, "proj_research", f"{GPT4O}, output (batch)", Decimal("2.50")),
            (day, "proj_research", f"{GPT4O}, input", Decimal("1.50")),
            (day, "proj_research", f"{GPT4O}, output", Decimal("0.75")),
        ]
        if day != DAYS[3]:
            rows.append((day, "proj_growth", f"{GPT4O}, input", Decimal("30.00")))
            rows.append((day, "proj_growth", f"{GPT4O}, output", Decimal("20.00")))
        rows += [(day, "proj_support", item, amount) for item, amount in SUPPORT_BILL_LINES]
    # A bucket nobody's usage explains: must land in 'unallocated'.
    rows.append((DAYS[1], "proj_legacy", f"{GPT4O}, input", Decimal("3.33")))
    return rows


COST_ROWS = _cost_rows()


# Usage buckets: (endpoint, day, project, api_key, model, is_batch, input, cached, output, requests)
def _usage_rows() -> list[tuple]:
    rows = []
    for day in DAYS:
        rows += [
            (
                "completions",
                day,
                "proj_search",
                "key_srch_prod_02",
                MINI,
                False,
                2_000_000,
                1_000_000,
                300_000,
                4000,
            ),
            (
                "completions",
                day,
                "proj_search",
                "key_unknown_01",
                MINI,
                False,
                500_000,
                0,
                100_000,
                1000,
            ),
            (
                "embeddings",
                day,
                "proj_search",
                "key_srch_prod_01",
                EMBED,
                False,
                2_500_000,
                0,
                0,
                40000,
            ),
            (
                "completions",
                day,
                "proj_research",
                "key_ds_research_01",
                GPT4O,
                True,
                1_600_000,
                0,
                250_000,
                320,
            ),
            (
                "completions",
                day,
                "proj_research",
                "key_ds_research_01",
                GPT4O,
                False,
                400_000,
                0,
                60_000,
                80,
            ),
            (
                "completions",
                day,
                "proj_support",
                "key_supp_prod_01",
                GPT4O,
                False,
                1_000_000,
                400_000,
                100_000,
                500,
            ),
            (
                "completions",
                day,
                "proj_support",
                "key_supp_prod_02",
                MINI,
                False,
                2_000_000,
                600_000,
                200_000,
                2000,
            ),
            (
                "completions",
                day,
                "proj_growth",
                "key_grow_prod_02",
                GPT4O,
                False,
                10_000_000,
                500_000,
                2_000_000,
                7200,
            ),
        ]
    return rows


USAGE_ROWS = _usage_rows()

HAIKU = "claude-haiku-4-5"
# Anthropic cost report rows per day: (description, token_type, amount).
ANTHROPIC_COST_ROWS = [
    ("Claude Haiku 4.5 Usage - Input Tokens", "uncached_input_tokens", Decimal("2.00")),
    ("Claude Haiku 4.5 Usage - Output Tokens", "output_tokens", Decimal("3.00")),
]
# Anthropic usage per day: (api key, uncached, cache read, cache write 5m, cache write 1h, output)
ANTHROPIC_USAGE_ROWS = [
    ("wrk_content_prod_02", 1_000_000, 500_000, 100_000, 0, 800_000),  # translation: 5.175 at list
    ("wrk_content_prod_03", 2_000_000, 2_000_000, 0, 0, 200_000),  # doc-summarizer: 3.2 at list
]
TRANSLATION_SHARE = Decimal("5.175") / Decimal("8.375")

# FOCUS lines other than the GPU node: (sku, service, category, daily cost, tags, charge_category)
CLOUD_LINES = [
    (
        "S3-STD-GB",
        "Amazon Simple Storage Service",
        "Storage",
        Decimal("85.0"),
        {"feature": "recsys-embeddings"},
        "Usage",
    ),
    (
        "RDS-PG-R6G",
        "Amazon Relational Database Service",
        "Databases",
        Decimal("140.0"),
        {"feature": "semantic-search", "team": "search"},
        "Usage",
    ),
    (
        "CW-LOGS",
        "Amazon CloudWatch",
        "Management and Governance",
        Decimal("38.0"),
        {"shared": "true"},
        "Usage",
    ),
    ("DT-OUT", "AWS Data Transfer", "Networking", Decimal("22.0"), None, "Usage"),
]
TAX_AMOUNT = Decimal("10.00")  # once, on DAYS[0]

# Value KPIs: (feature, active users, conversions, revenue) per day.
KPI_ROWS = [
    ("semantic-search", 42000, 840, Decimal("15120.00")),
    ("ad-copy-gen", 800, 1, Decimal("12.00")),
]


VLLM_MODEL = "meta-llama/Llama-3.1-8B-Instruct"
BEDROCK_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
# LiteLLM requests per day:
# (provider, model, team_id, tags, prompt, cached, completion, spend, cache hit)
LITELLM_ROWS = [
    (
        "openai",
        MINI,
        "search",
        ["feature:query-rewrite", "env:production"],
        900_000,
        0,
        90_000,
        Decimal("0.19"),
        False,
    ),
    (
        "hosted_vllm",
        VLLM_MODEL,
        "search",
        ["feature:code-assistant", "env:production"],
        2_000_000,
        0,
        600_000,
        Decimal("0"),
        False,
    ),
    (
        "hosted_vllm",
        VLLM_MODEL,
        "search",
        ["feature:code-assistant", "env:production"],
        1_000_000,
        0,
        400_000,
        Decimal("0"),
        False,
    ),
    (
        "hosted_vllm",
        VLLM_MODEL,
        "search",
        ["feature:code-assistant", "env:production"],
        5_000_000,
        0,
        500_000,
        Decimal("0"),
        True,
    ),
    (
        "bedrock",
        BEDROCK_MODEL,
        "support-ai",
        ["feature:ticket-triage", "env:staging"],
        300_000,
        0,
        20_000,
        Decimal("0.80"),
        False,
    ),
]
# The gateway's OpenAI traffic is gpt-4o-mini, which proj_search (2.3M in + 0.6M out a day)
# and proj_support (2.0M + 0.2M) report: its 990k tokens a day are spread over both pools by
# those tokens, so it explains the same share of each pool, and takes that share of the money.
LITELLM_OPENAI_KEY = f"{0:064x}"
LITELLM_OPENAI_END_USER = "cust-acme"
MINI_PROVIDER_TOKENS = {"proj_search": 2_900_000, "proj_support": 2_200_000}
GATEWAY_MINI_SHARE = Decimal(990_000) / Decimal(sum(MINI_PROVIDER_TOKENS.values()))
# vLLM at the price book's self-hosted price: 3M input x 0.05 + 1M output x 0.10;
# the proxy cache hit is free.
VLLM_DAILY_ESTIMATE = Decimal("0.25")
BEDROCK_DAILY_SPEND = Decimal("0.80")
# OTel spans per day: (gen_ai.provider.name, model, service, namespace, input, output)
OTEL_ROWS = [
    ("aws.bedrock", BEDROCK_MODEL, "svc-triage", None, 300_000, 20_000),  # the calls LiteLLM logged
    ("openai", MINI, "svc-rewrite", None, 900_000, 90_000),  # the Usage API has them
    ("gcp.vertex_ai", "gemini-2.0-flash", "svc-assist", "inference-llama", 400_000, 40_000),
]


def _ts(day: dt.date, hour: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _write(root: Path, source: str, dataset: str, day: dt.date, rows: list[dict]) -> None:
    schema = DATASETS[dataset].schema
    folder = root / source / dataset / f"date={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, folder / "part-0.parquet")
    # As the landing writer does: the manifest says the day was landed (ops_day_status).
    manifest = {
        "source": source,
        "dataset": dataset,
        "partition_date": day.isoformat(),
        "rows_in": len(rows),
        "rows_loaded": len(rows),
        "rows_quarantined": 0,
    }
    (folder / "_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def write_schema_files(root: Path) -> None:
    """Zero-row files so every dataset's glob matches even before any extraction."""
    try:
        from landing.layout import ensure_schema_files  # the contract's own, once it exists
    except ImportError:
        ensure_schema_files = None
    if ensure_schema_files is not None:
        ensure_schema_files(root)
        return
    for name, dataset in DATASETS.items():
        folder = root / "_schema" / name / "empty"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(dataset.schema.empty_table(), folder / "part-0.parquet")


def _openai_costs(day: dt.date) -> list[dict]:
    return [
        {
            "source_name": "openai",
            "record_ref": f"costs:{day}:{project}:{item}",
            "organization_id": "org_demo",
            "project_id": project,
            "line_item": item,
            "currency": "USD",
            "amount": amount,
            "bucket_start_at": _ts(day),
            "bucket_end_at": _ts(day + dt.timedelta(days=1)),
        }
        for d, project, item, amount in COST_ROWS
        if d == day
    ]


def _openai_usage(day: dt.date, endpoint: str) -> list[dict]:
    return [
        {
            "source_name": "openai",
            "record_ref": f"usage_{endpoint}:{day}:{key}:{batch}",
            "project_id": project,
            "user_id": None,
            "api_key_id": key,
            "model": model,
            "is_batch": batch,
            "input_tokens": inp,
            "input_cached_tokens": cached,
            "output_tokens": out,
            "input_audio_tokens": 0,
            "output_audio_tokens": 0,
            "num_model_requests": requests,
            "bucket_start_at": _ts(day),
            "bucket_end_at": _ts(day + dt.timedelta(days=1)),
        }
        for ep, d, project, key, model, batch, inp, cached, out, requests in USAGE_ROWS
        if d == day and ep == endpoint
    ]


def _anthropic_costs(day: dt.date) -> list[dict]:
    return [
        {
            "source_name": "anthropic",
            "record_ref": f"cost_report:{day}:{description}",
            "workspace_id": "wrkspc_content",
            "description": description,
            "cost_type": "tokens",
            "model": HAIKU,
            "token_type": token_type,
            "service_tier": "standard",
            "context_window": "0-200k",
            "currency": "USD",
            "amount": amount,
            "bucket_start_at": _ts(day),
            "bucket_end_at": _ts(day + dt.timedelta(days=1)),
        }
        for description, token_type, amount in ANTHROPIC_COST_ROWS
    ]


def _anthropic_usage(day: dt.date) -> list[dict]:
    return [
        {
            "source_name": "anthropic",
            "record_ref": f"usage_report:{day}:{key}",
            "api_key_id": key,
            "workspace_id": "wrkspc_content",
            "model": HAIKU,
            "service_tier": "standard",
            "uncached_input_tokens": uncached,
            "cache_read_input_tokens": read,
            "cache_creation_5m_input_tokens": write_5m,
            "cache_creation_1h_input_tokens": write_1h,
            "output_tokens": output,
            "bucket_start_at": _ts(day),
            "bucket_end_at": _ts(day + dt.timedelta(days=1)),
        }
        for key, uncached, read, write_5m, write_1h, output in ANTHROPIC_USAGE_ROWS
    ]


def _dcgm(day: dt.date) -> list[dict]:
    rows = []
    for hour in range(24):
        for gpu in range(4):
            namespace, util = None, 0.0
            if day in GPU_USED_DAYS:
                if gpu < 3:
                    namespace, util = "inference-llama", 50.0
                elif 9 <= hour < 17:
                    namespace, util = "notebooks", 20.0
            rows.append(
                {
                    "source_name": "gpu_cluster",
                    "record_ref": f"{GPU_NODE}/{gpu}/{day}T{hour:02}",
                    "metric_name": "DCGM_FI_DEV_GPU_UTIL",
                    "hostname": GPU_NODE,
                    "gpu": str(gpu),
                    "uuid": f"GPU-{gpu:04}",
                    "model_name": "NVIDIA A10G",
                    "namespace": namespace,
                    "pod": f"{namespace}-0" if namespace else None,
                    "container": None,
                    "value": util,
                    "step_seconds": 3600,
                    "sample_at": _ts(day, hour),
                }
            )
    return rows


def _focus_row(day: dt.date, ref: str, **values) -> dict:
    month = dt.date(day.year, day.month, 1)
    next_month = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    row = {
        "source_name": "aws_focus",
        "record_ref": ref,
        "focus_version": "1.2",
        "export_version": "v1",
        "billing_account_id": "111122223333",
        "billing_account_name": "northwind",
        "sub_account_id": "444455556666",
        "sub_account_name": "ml",
        "invoice_issuer_name": "AWS",
        "provider_name": "AWS",
        "publisher_name": "AWS",
        "billing_currency": "USD",
        "billing_period_start": _ts(month),
        "billing_period_end": _ts(next_month),
        "charge_period_start": _ts(day),
        "charge_period_end": _ts(day + dt.timedelta(days=1)),
        "charge_category": "Usage",
        "region_id": "us-east-1",
    }
    row.update(values)
    row["effective_cost"] = row["billed_cost"]
    row["list_cost"] = row["billed_cost"]
    return row


def _focus(day: dt.date) -> list[dict]:
    rows = [
        _focus_row(
            day,
            f"{day}:{GPU_NODE}",
            service_name="Amazon Elastic Compute Cloud",
            service_category="Compute",
            sku_id="g5.12xlarge",
            resource_id="i-0a10g0",
            resource_name=GPU_NODE,
            consumed_unit="Hours",
            consumed_quantity=24.0,
            billed_cost=GPU_NODE_DAILY_COST,
            tags=json.dumps({"cluster": "ml-gpu"}),
        )
    ]
    for sku, service, category, cost, tags, charge_category in CLOUD_LINES:
        rows.append(
            _focus_row(
                day,
                f"{day}:{sku}",
                service_name=service,
                service_category=category,
                sku_id=sku,
                billed_cost=cost,
                tags=json.dumps(tags) if tags else None,
                charge_category=charge_category,
            )
        )
    if day == DAYS[0]:
        rows.append(_focus_row(day, f"{day}:tax", charge_category="Tax", billed_cost=TAX_AMOUNT))
    return rows


def _litellm(day: dt.date) -> list[dict]:
    rows = []
    for i, (provider, model, team, tags, prompt, cached, completion, spend, hit) in enumerate(
        LITELLM_ROWS
    ):
        rows.append(
            {
                "source_name": "litellm",
                "record_ref": f"{day}:{i}",
                "request_id": f"req-{day}-{i}",
                "call_type": "acompletion",
                "api_key_id": f"{i:064x}",
                "model": model,
                "model_id": f"deployment-{provider}",
                "model_group": model,
                "custom_llm_provider": provider,
                "user_id": None,
                "team_id": team,
                "end_user_id": LITELLM_OPENAI_END_USER if provider == "openai" else None,
                "status": "success",
                "request_tags": json.dumps(tags),
                "metadata": json.dumps({"user_api_key_team_id": team}),
                "currency": "USD",
                "spend": spend,
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "cached_prompt_tokens": cached,
                "is_cache_hit": hit,
                "started_at": _ts(day, 10 + i),
                "ended_at": _ts(day, 10 + i),
            }
        )
    return rows


def _otel(day: dt.date) -> list[dict]:
    return [
        {
            "source_name": "otel",
            "record_ref": f"{day}:{i}",
            "trace_id": f"{day.toordinal():016x}{i:016x}",
            "span_id": f"{i:016x}",
            "span_name": f"chat {model}",
            "provider_name": provider,
            "operation_name": "chat",
            "request_model": model,
            "response_model": model,
            "service_name": service,
            "deployment_environment": "production",
            "k8s_namespace_name": namespace,
            "resource_attributes": "{}",
            "input_tokens": inp,
            "output_tokens": out,
            "cached_input_tokens": None,
            "span_start_at": _ts(day, 12),
            "span_end_at": _ts(day, 12),
        }
        for i, (provider, model, service, namespace, inp, out) in enumerate(OTEL_ROWS)
    ]


def _kpis(day: dt.date) -> list[dict]:
    return [
        {
            "source_name": "feature_kpis",
            "record_ref": f"{day}:{feature}",
            "feature_id": feature,
            "currency": "USD",
            "active_users": users,
            "conversions": conversions,
            "revenue": revenue,
            "kpi_at": _ts(day),
        }
        for feature, users, conversions, revenue in KPI_ROWS
    ]


def build_landing(root: Path) -> Path:
    """Write the whole fixture landing tree under root; returns root."""
    write_schema_files(root)
    for day in DAYS:
        _write(root, "openai", "openai_costs", day, _openai_costs(day))
        _write(root, "openai", "openai_usage_completions", day, _openai_usage(day, "completions"))
        _write(root, "openai", "openai_usage_embeddings", day, _openai_usage(day, "embeddings"))
        _write(root, "anthropic", "anthropic_costs", day, _anthropic_costs(day))
        _write(root, "anthropic", "anthropic_usage_messages", day, _anthropic_usage(day))
        _write(root, "gpu_cluster", "dcgm_gpu_metrics", day, _dcgm(day))
        _write(root, "aws_focus", "focus_cost_and_usage", day, _focus(day))
        _write(root, "feature_kpis", "value_feature_kpis", day, _kpis(day))
        _write(root, "litellm", "litellm_spend_logs", day, _litellm(day))
        _write(root, "otel", "otel_genai_spans", day, _otel(day))
    return root


def landed_billed_total() -> Decimal:
    """Every billed dollar the fixture lands: OpenAI and Anthropic buckets, FOCUS lines."""
    openai = sum(amount for *_, amount in COST_ROWS)
    anthropic = len(DAYS) * sum(amount for *_, amount in ANTHROPIC_COST_ROWS)
    focus = len(DAYS) * (GPU_NODE_DAILY_COST + sum(line[3] for line in CLOUD_LINES)) + TAX_AMOUNT
    return openai + anthropic + focus
