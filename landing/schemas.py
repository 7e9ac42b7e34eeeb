"""Landing schemas: the contract between extractors and dbt, declared once.

Every landed dataset has one Arrow schema here. Extractors write exactly these
columns (in this order) under ``landing/<source>/<dataset>/date=YYYY-MM-DD/``;
dbt staging reads them with ``read_parquet(..., union_by_name=true)``. Rows
that cannot be coerced to the schema go to quarantine with a reason.

Conventions: snake_case names; money as decimal(38, 12) in currency units
(never cents) with the ISO 4217 currency upper-cased beside it; timestamps in
UTC; every row carries ``source_name`` (the configured source) and
``record_ref`` (where in the source the row came from) for lineage.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

MONEY = pa.decimal128(38, 12)
TS = pa.timestamp("us", tz="UTC")

# Columns every landed row carries, first.
LINEAGE = [
    pa.field("source_name", pa.string(), nullable=False),
    pa.field("record_ref", pa.string(), nullable=False),
]


@dataclass(frozen=True)
class Dataset:
    """A landed dataset: its schema, its key, and the column that dates a row."""

    name: str
    version: int
    schema: pa.Schema
    key: tuple[str, ...]
    # The timestamp column whose UTC date decides the row's partition.
    partition_by: str
    description: str

    @property
    def file_schema(self) -> pa.Schema:
        """The schema as landed files carry it: with the dataset's name and version."""
        return self.schema.with_metadata(
            {
                "costbridge.dataset": self.name,
                "costbridge.schema_version": str(self.version),
            }
        )


def _schema(*fields: pa.Field) -> pa.Schema:
    return pa.schema([*LINEAGE, *fields])


FOCUS_COST_AND_USAGE = Dataset(
    name="focus_cost_and_usage",
    version=1,
    description="FOCUS cost and usage rows, any FOCUS version, normalised to 1.2 names.",
    partition_by="charge_period_start",
    key=("source_name", "record_ref"),
    schema=_schema(
        pa.field("focus_version", pa.string()),
        pa.field("export_version", pa.string()),  # manifest/assembly id of the export, if any
        pa.field("billing_account_id", pa.string()),
        pa.field("billing_account_name", pa.string()),
        pa.field("sub_account_id", pa.string()),
        pa.field("sub_account_name", pa.string()),
        pa.field("invoice_id", pa.string()),  # FOCUS InvoiceId, where the export has it
        pa.field("invoice_issuer_name", pa.string()),
        pa.field("provider_name", pa.string()),
        pa.field("publisher_name", pa.string()),
        pa.field("billing_currency", pa.string(), nullable=False),
        pa.field("billing_period_start", TS, nullable=False),
        pa.field("billing_period_end", TS, nullable=False),
        pa.field("charge_period_start", TS, nullable=False),
        pa.field("charge_period_end", TS, nullable=False),
        pa.field("charge_category", pa.string(), nullable=False),
        pa.field("charge_class", pa.string()),
        pa.field("charge_description", pa.string()),
        pa.field("charge_frequency", pa.string()),
        pa.field("service_category", pa.string()),
        pa.field("service_name", pa.string()),
        pa.field("sku_id", pa.string()),
        pa.field("sku_price_id", pa.string()),
        pa.field("sku_meter", pa.string()),  # FOCUS 1.1+ SkuMeter, e.g. "Output Tokens"
        pa.field("sku_price_details", pa.string()),  # FOCUS 1.1+ SkuPriceDetails, JSON text
        pa.field("region_id", pa.string()),
        pa.field("region_name", pa.string()),
        pa.field("availability_zone", pa.string()),
        pa.field("resource_id", pa.string()),
        pa.field("resource_name", pa.string()),
        pa.field("resource_type", pa.string()),
        pa.field("pricing_category", pa.string()),
        pa.field("pricing_unit", pa.string()),
        pa.field("pricing_quantity", pa.float64()),
        pa.field("consumed_unit", pa.string()),
        pa.field("consumed_quantity", pa.float64()),
        pa.field("list_unit_price", MONEY),
        pa.field("contracted_unit_price", MONEY),
        pa.field("billed_cost", MONEY, nullable=False),
        pa.field("effective_cost", MONEY, nullable=False),
        pa.field("list_cost", MONEY),
        pa.field("contracted_cost", MONEY),
        pa.field("commitment_discount_id", pa.string()),
        pa.field("commitment_discount_type", pa.string()),
        pa.field("tags", pa.string()),  # JSON object text, or null
    ),
)

OPENAI_COSTS = Dataset(
    name="openai_costs",
    version=1,
    description="OpenAI Costs API daily buckets grouped by project_id and line_item.",
    partition_by="bucket_start_at",
    key=("source_name", "bucket_start_at", "project_id", "line_item"),
    schema=_schema(
        pa.field("organization_id", pa.string()),
        pa.field("project_id", pa.string()),
        pa.field("line_item", pa.string()),  # e.g. "gpt-4o-2024-08-06, input"
        pa.field("currency", pa.string(), nullable=False),  # upper-cased ISO 4217
        pa.field("amount", MONEY, nullable=False),  # currency units
        pa.field("bucket_start_at", TS, nullable=False),
        pa.field("bucket_end_at", TS, nullable=False),
    ),
)

_OPENAI_USAGE_FIELDS = (
    pa.field("project_id", pa.string()),
    pa.field("user_id", pa.string()),
    pa.field("api_key_id", pa.string()),
    pa.field("model", pa.string()),
    pa.field("is_batch", pa.bool_()),
    pa.field("input_tokens", pa.int64(), nullable=False),  # INCLUDES input_cached_tokens
    pa.field("input_cached_tokens", pa.int64(), nullable=False),
    pa.field("output_tokens", pa.int64(), nullable=False),
    pa.field("input_audio_tokens", pa.int64()),
    pa.field("output_audio_tokens", pa.int64()),
    pa.field("num_model_requests", pa.int64(), nullable=False),
    pa.field("bucket_start_at", TS, nullable=False),
    pa.field("bucket_end_at", TS, nullable=False),
)
_OPENAI_USAGE_KEY = (
    "source_name",
    "bucket_start_at",
    "project_id",
    "user_id",
    "api_key_id",
    "model",
    "is_batch",
)

OPENAI_USAGE_COMPLETIONS = Dataset(
    name="openai_usage_completions",
    version=1,
    description="OpenAI Usage API completions buckets by project, user, key, model, batch.",
    partition_by="bucket_start_at",
    key=_OPENAI_USAGE_KEY,
    schema=_schema(*_OPENAI_USAGE_FIELDS),
)

OPENAI_USAGE_EMBEDDINGS = Dataset(
    name="openai_usage_embeddings",
    version=1,
    description="OpenAI Usage API embeddings buckets (input tokens only).",
    partition_by="bucket_start_at",
    key=_OPENAI_USAGE_KEY,
    schema=_schema(*_OPENAI_USAGE_FIELDS),
)

DCGM_GPU_METRICS = Dataset(
    name="dcgm_gpu_metrics",
    version=1,
    description="DCGM exporter samples from Prometheus query_range, one row per series and step.",
    partition_by="sample_at",
    key=("source_name", "metric_name", "hostname", "gpu", "sample_at"),
    schema=_schema(
        pa.field("metric_name", pa.string(), nullable=False),  # e.g. DCGM_FI_DEV_GPU_UTIL
        pa.field("hostname", pa.string(), nullable=False),
        pa.field("gpu", pa.string(), nullable=False),
        pa.field("uuid", pa.string()),
        pa.field("model_name", pa.string()),
        pa.field("namespace", pa.string()),  # null when no pod holds the GPU
        pa.field("pod", pa.string()),
        pa.field("container", pa.string()),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("step_seconds", pa.int32(), nullable=False),
        pa.field("sample_at", TS, nullable=False),
    ),
)

KUBE_NODE_INFO = Dataset(
    name="kube_node_info",
    version=1,
    description=(
        "kube-state-metrics kube_node_info from the Prometheus that holds the DCGM metrics: "
        "one row per node series and query chunk, at the series' first sample in the chunk."
    ),
    partition_by="observed_at",
    key=("source_name", "node", "provider_id", "observed_at"),
    schema=_schema(
        pa.field("node", pa.string(), nullable=False),  # Kubernetes node name
        pa.field("provider_id", pa.string()),  # e.g. aws:///us-east-1a/i-0abc123
        pa.field("internal_ip", pa.string()),
        pa.field("os_image", pa.string()),
        pa.field("kubelet_version", pa.string()),
        pa.field("observed_at", TS, nullable=False),
    ),
)

VALUE_FEATURE_KPIS = Dataset(
    name="value_feature_kpis",
    version=1,
    description="Daily business value per feature: active users, conversions, revenue.",
    partition_by="kpi_at",
    key=("source_name", "feature_id", "kpi_at"),
    schema=_schema(
        pa.field("feature_id", pa.string(), nullable=False),
        pa.field("currency", pa.string(), nullable=False),
        pa.field("active_users", pa.int64(), nullable=False),
        pa.field("conversions", pa.int64(), nullable=False),
        pa.field("revenue", MONEY, nullable=False),
        pa.field("kpi_at", TS, nullable=False),  # midnight UTC of the KPI day
    ),
)

ANTHROPIC_USAGE_MESSAGES = Dataset(
    name="anthropic_usage_messages",
    version=1,
    description="Anthropic usage report (messages) daily buckets by key, workspace, model.",
    partition_by="bucket_start_at",
    key=("source_name", "bucket_start_at", "api_key_id", "workspace_id", "model", "service_tier"),
    schema=_schema(
        pa.field("api_key_id", pa.string()),
        pa.field("workspace_id", pa.string()),
        pa.field("model", pa.string()),
        pa.field("service_tier", pa.string()),
        pa.field("uncached_input_tokens", pa.int64(), nullable=False),
        pa.field("cache_read_input_tokens", pa.int64(), nullable=False),
        pa.field("cache_creation_5m_input_tokens", pa.int64(), nullable=False),
        pa.field("cache_creation_1h_input_tokens", pa.int64(), nullable=False),
        pa.field("output_tokens", pa.int64(), nullable=False),
        pa.field("bucket_start_at", TS, nullable=False),
        pa.field("bucket_end_at", TS, nullable=False),
    ),
)

ANTHROPIC_COSTS = Dataset(
    name="anthropic_costs",
    version=1,
    description="Anthropic cost report daily buckets; the API's cents converted to units.",
    partition_by="bucket_start_at",
    key=("source_name", "bucket_start_at", "workspace_id", "description"),
    schema=_schema(
        pa.field("workspace_id", pa.string()),
        pa.field("description", pa.string()),
        pa.field("cost_type", pa.string()),
        pa.field("model", pa.string()),
        pa.field("token_type", pa.string()),
        pa.field("service_tier", pa.string()),
        pa.field("context_window", pa.string()),
        pa.field("currency", pa.string(), nullable=False),  # upper-cased ISO 4217
        pa.field(
            "amount", MONEY, nullable=False
        ),  # currency units: the API's cents / 100, once, here
        pa.field("bucket_start_at", TS, nullable=False),
        pa.field("bucket_end_at", TS, nullable=False),
    ),
)

OTEL_GENAI_SPANS = Dataset(
    name="otel_genai_spans",
    version=1,
    description="OpenTelemetry GenAI spans: model, operation and token counts; never content.",
    partition_by="span_start_at",
    key=("source_name", "trace_id", "span_id"),
    schema=_schema(
        pa.field("trace_id", pa.string(), nullable=False),  # lower-case hex
        pa.field("span_id", pa.string(), nullable=False),
        pa.field("span_name", pa.string()),
        pa.field("provider_name", pa.string()),  # gen_ai.provider.name, else gen_ai.system
        pa.field("operation_name", pa.string()),  # gen_ai.operation.name: chat, embeddings, ...
        pa.field("request_model", pa.string()),
        pa.field("response_model", pa.string()),
        pa.field("service_name", pa.string()),
        pa.field("deployment_environment", pa.string()),
        pa.field("k8s_namespace_name", pa.string()),
        pa.field("resource_attributes", pa.string()),  # JSON object text of the other ones
        pa.field("input_tokens", pa.int64()),  # gen_ai.usage.input_tokens
        pa.field("output_tokens", pa.int64()),
        pa.field("cached_input_tokens", pa.int64()),  # cache reads, when the span says
        pa.field("span_start_at", TS, nullable=False),
        pa.field("span_end_at", TS),
    ),
)

NVIDIA_SMI_GPU_SAMPLES = Dataset(
    name="nvidia_smi_gpu_samples",
    version=1,
    description="nvidia-smi --query-gpu CSV log samples, one row per GPU and timestamp.",
    partition_by="sample_at",
    key=("source_name", "hostname", "gpu_uuid", "sample_at"),
    schema=_schema(
        pa.field("hostname", pa.string(), nullable=False),
        pa.field("gpu_uuid", pa.string(), nullable=False),
        pa.field("gpu_index", pa.string()),
        pa.field("gpu_name", pa.string()),
        pa.field("pci_bus_id", pa.string()),
        pa.field("utilization_gpu_pct", pa.float64()),  # null where nvidia-smi says [N/A]
        pa.field("memory_used_mib", pa.float64()),
        pa.field("memory_total_mib", pa.float64()),
        pa.field("power_draw_w", pa.float64()),
        pa.field("sample_at", TS, nullable=False),
    ),
)

LITELLM_SPEND_LOGS = Dataset(
    name="litellm_spend_logs",
    version=1,
    description="LiteLLM proxy SpendLogs: one row per request, cost columns only, never content.",
    partition_by="started_at",
    key=("source_name", "request_id"),
    schema=_schema(
        pa.field("request_id", pa.string(), nullable=False),
        pa.field("call_type", pa.string()),  # acompletion, aembedding, ...
        pa.field("api_key_id", pa.string()),  # LiteLLM's SHA-256 of the virtual key, never a key
        pa.field("model", pa.string()),
        pa.field("model_id", pa.string()),  # LiteLLM deployment id
        pa.field("model_group", pa.string()),  # the model name the caller asked for
        pa.field("custom_llm_provider", pa.string()),  # openai, anthropic, azure, ...
        pa.field("user_id", pa.string()),  # LiteLLM "user"
        pa.field("team_id", pa.string()),
        pa.field("end_user_id", pa.string()),  # LiteLLM "end_user": the caller's customer
        pa.field("status", pa.string()),  # success, failure
        pa.field("request_tags", pa.string()),  # JSON array text
        pa.field("metadata", pa.string()),  # JSON object text: key alias, team alias, ids only
        pa.field("currency", pa.string(), nullable=False),  # LiteLLM prices in USD
        pa.field("spend", MONEY, nullable=False),  # currency units
        pa.field("prompt_tokens", pa.int64(), nullable=False),  # INCLUDES cached_prompt_tokens
        pa.field("completion_tokens", pa.int64(), nullable=False),
        pa.field("total_tokens", pa.int64(), nullable=False),
        pa.field("cached_prompt_tokens", pa.int64()),  # null when LiteLLM did not record it
        pa.field("is_cache_hit", pa.bool_()),  # answered from LiteLLM's own cache; null unknown
        pa.field("started_at", TS, nullable=False),
        pa.field("ended_at", TS),
    ),
)

QUARANTINE = pa.schema(
    [
        pa.field("source_name", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("window_start", TS, nullable=False),
        pa.field("window_end", TS, nullable=False),
        pa.field("record_ref", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw_payload", pa.string()),  # JSON text, secrets removed, never prompt text
    ]
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        FOCUS_COST_AND_USAGE,
        OPENAI_COSTS,
        OPENAI_USAGE_COMPLETIONS,
        OPENAI_USAGE_EMBEDDINGS,
        ANTHROPIC_USAGE_MESSAGES,
        ANTHROPIC_COSTS,
        DCGM_GPU_METRICS,
        KUBE_NODE_INFO,
        VALUE_FEATURE_KPIS,
        OTEL_GENAI_SPANS,
        NVIDIA_SMI_GPU_SAMPLES,
        LITELLM_SPEND_LOGS,
    )
}
