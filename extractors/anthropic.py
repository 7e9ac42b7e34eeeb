"""Anthropic Admin API usage and cost reports (admin key ``sk-ant-admin...``), daily buckets
(hourly usage with the option ``bucket_width: 1h``).

- ``GET /v1/organizations/usage_report/messages``: starting_at/ending_at RFC 3339,
  bucket_width=1d, ``group_by[]`` api_key_id, workspace_id, model, service_tier.
  Input tokens come split: uncached, cache reads, cache creation (5 minute and 1 hour).
- ``GET /v1/organizations/cost_report``: ``group_by[]`` workspace_id, description.
  ``amount`` is a decimal STRING in CENTS; it is converted to currency units here, once,
  exactly (``Decimal``, never float), so nothing downstream ever sees cents.

Both are cursor-paged (``page`` = previous ``next_page`` while ``has_more``) and
authenticated with ``x-api-key`` plus ``anthropic-version``.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from extractors.base import Extractor, Record
from extractors.buckets import BucketApiOptions, bucket_results
from extractors.http import ApiClient, RetryPolicy, paginate_cursor
from extractors.landing import Reject
from landing.schemas import ANTHROPIC_COSTS, ANTHROPIC_USAGE_MESSAGES, Dataset
from landing.window import to_utc

USAGE_PATH = "/v1/organizations/usage_report/messages"
COSTS_PATH = "/v1/organizations/cost_report"
API_VERSION = "2023-06-01"
# Largest page (in buckets) the reports accept: the cost report is daily only.
PAGE_LIMITS = {"1d": 31, "1h": 168}
USAGE_DATASETS = ("usage_messages",)

USAGE_GROUP_BY = ["api_key_id", "workspace_id", "model", "service_tier"]
COSTS_GROUP_BY = ["workspace_id", "description"]
USAGE_KEYS = {
    *USAGE_GROUP_BY,
    "context_window",
    "inference_geo",
    "uncached_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "output_tokens",
    "server_tool_use",
}
COSTS_KEYS = {
    *COSTS_GROUP_BY,
    "currency",
    "amount",
    "cost_type",
    "context_window",
    "model",
    "service_tier",
    "token_type",
    "inference_geo",
}


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cents_to_units(amount: Any) -> Decimal:
    """The cost report's cents (a decimal string) as currency units, exactly.

    Raises ``ValueError`` for anything that is not a finite decimal string or integer;
    a float is refused because it has already lost the exact amount.
    """
    if isinstance(amount, bool) or not isinstance(amount, str | int):
        raise ValueError(f"amount must be a decimal string of cents, got {amount!r}")
    try:
        cents = Decimal(str(amount).strip())
    except decimal.InvalidOperation:
        raise ValueError(f"amount is not a decimal number of cents: {amount!r}") from None
    if not cents.is_finite():
        raise ValueError(f"amount is not a finite number of cents: {amount!r}")
    return cents.scaleb(-2)  # exact: moves the decimal point, no rounding


def _bucket_times(bucket: Mapping[str, Any]) -> tuple[datetime, datetime]:
    times = []
    for name in ("starting_at", "ending_at"):
        text = bucket.get(name)
        try:
            times.append(to_utc(datetime.fromisoformat(str(text))))
        except ValueError:
            raise ValueError(f"bucket {name} is not an RFC 3339 time: {text!r}") from None
    return times[0], times[1]


def _results(bucket: Any, where: str) -> Iterator[tuple[str, datetime, datetime, Any] | Reject]:
    return bucket_results(bucket, where, times=_bucket_times, stamp=rfc3339)


def parse_usage_bucket(bucket: Any, *, where: str = "bucket") -> Iterator[dict[str, Any] | Reject]:
    """Rows of one usage report bucket; bad numbers are left for the landing writer."""
    for item in _results(bucket, where):
        if isinstance(item, Reject):
            yield item
            continue
        ref, start, end, result = item
        creation = result.get("cache_creation")
        if creation is not None and not isinstance(creation, Mapping):
            yield Reject(ref, "cache_creation is not an object", result, day=start.date())
            continue
        creation = creation or {}
        yield {
            "record_ref": ref,
            "api_key_id": result.get("api_key_id"),
            "workspace_id": result.get("workspace_id"),
            "model": result.get("model"),
            "service_tier": result.get("service_tier"),
            "uncached_input_tokens": result.get("uncached_input_tokens"),
            "cache_read_input_tokens": result.get("cache_read_input_tokens"),
            "cache_creation_5m_input_tokens": creation.get("ephemeral_5m_input_tokens"),
            "cache_creation_1h_input_tokens": creation.get("ephemeral_1h_input_tokens"),
            "output_tokens": result.get("output_tokens"),
            "bucket_start_at": start,
            "bucket_end_at": end,
        }


def parse_costs_bucket(bucket: Any, *, where: str = "bucket") -> Iterator[dict[str, Any] | Reject]:
    """Rows of one cost report bucket, the amount converted from cents to units."""
    for item in _results(bucket, where):
        if isinstance(item, Reject):
            yield item
            continue
        ref, start, end, result = item
        try:
            amount = cents_to_units(result.get("amount"))
        except ValueError as exc:
            yield Reject(ref, str(exc), result, day=start.date())
            continue
        yield {
            "record_ref": ref,
            "workspace_id": result.get("workspace_id"),
            "description": result.get("description"),
            "cost_type": result.get("cost_type"),
            "model": result.get("model"),
            "token_type": result.get("token_type"),
            "service_tier": result.get("service_tier"),
            "context_window": result.get("context_window"),
            "currency": result.get("currency"),
            "amount": amount,
            "bucket_start_at": start,
            "bucket_end_at": end,
        }


@dataclass(frozen=True, kw_only=True)
class AnthropicOptions(BucketApiOptions):
    usage_datasets: ClassVar[tuple[str, ...]] = USAGE_DATASETS


class AnthropicExtractor(Extractor):
    type = "anthropic"
    datasets: ClassVar[dict[str, Dataset]] = {
        "usage_messages": ANTHROPIC_USAGE_MESSAGES,
        "costs": ANTHROPIC_COSTS,
    }
    Options = AnthropicOptions
    options: AnthropicOptions

    def client(self) -> ApiClient:
        return ApiClient(
            source=self.name,
            window=self.window,
            base_url=self.options.base_url,
            headers={
                "x-api-key": self.secret("api_key").reveal(),
                "anthropic-version": API_VERSION,
            },
            policy=RetryPolicy.from_options(self.source.options),
        )

    def extract(self, dataset: Dataset) -> Iterator[Record]:
        costs = dataset is ANTHROPIC_COSTS
        path = COSTS_PATH if costs else USAGE_PATH
        expected = COSTS_KEYS if costs else USAGE_KEYS
        width = "1d" if costs else self.options.bucket_width
        params = {
            "starting_at": rfc3339(self.window.start),
            "ending_at": rfc3339(self.window.end),
            "bucket_width": width,
            "group_by[]": COSTS_GROUP_BY if costs else USAGE_GROUP_BY,
            # The page limit counts buckets: a day is 24 of them at 1h.
            "limit": self.options.page_size(PAGE_LIMITS[width], self.window, width),
        }
        client = self.client()
        for number, page in enumerate(paginate_cursor(client, path, params, what=path), start=1):
            where = f"{path} page {number}"
            parse = parse_costs_bucket if costs else parse_usage_bucket
            for bucket in page["data"]:
                self.check_bucket_columns(dataset, bucket, expected, where)
                # Reasons may quote an echoed key: the landing writer scrubs every reason.
                yield from parse(bucket, where=where)
