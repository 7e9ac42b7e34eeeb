"""OpenAI organization Costs and Usage APIs (admin key), daily (or hourly usage) buckets.

- ``GET /v1/organization/costs``: bucket_width=1d, group_by project_id and line_item;
  ``amount.value`` in dollars, ``amount.currency`` lower-case ISO 4217.
- ``GET /v1/organization/usage/{completions,embeddings}``: start_time/end_time in
  Unix seconds, bucket_width=1d (option ``bucket_width: 1h`` for hourly usage), grouped
  by project, user, API key, model (and batch for completions). ``input_tokens``
  INCLUDES ``input_cached_tokens``.

All are cursor-paged: ``page`` = previous ``next_page`` while ``has_more``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from extractors.base import Extractor, Record
from extractors.buckets import BucketApiOptions, bucket_results
from extractors.http import ApiClient, RetryPolicy, paginate_cursor
from extractors.landing import Reject
from landing.schemas import (
    OPENAI_COSTS,
    OPENAI_USAGE_COMPLETIONS,
    OPENAI_USAGE_EMBEDDINGS,
    Dataset,
)

COSTS_PATH = "/v1/organization/costs"
USAGE_PATHS = {
    OPENAI_USAGE_COMPLETIONS.name: "/v1/organization/usage/completions",
    OPENAI_USAGE_EMBEDDINGS.name: "/v1/organization/usage/embeddings",
}
# Largest page (in buckets) the API accepts: costs are daily only; usage per bucket width.
COSTS_PAGE_LIMIT = 180
USAGE_PAGE_LIMITS = {"1d": 31, "1h": 168}
USAGE_DATASETS = ("usage_completions", "usage_embeddings")

_GROUPING = ("project_id", "user_id", "api_key_id", "model")
COMPLETIONS_KEYS = {
    "object",
    "input_tokens",
    "output_tokens",
    "input_cached_tokens",
    "input_audio_tokens",
    "output_audio_tokens",
    "num_model_requests",
    *_GROUPING,
    "batch",
}
EMBEDDINGS_KEYS = {"object", "input_tokens", "num_model_requests", *_GROUPING}
COSTS_KEYS = {"object", "amount", "line_item", "project_id", "organization_id"}


def _bucket_times(bucket: Mapping[str, Any]) -> tuple[datetime, datetime]:
    start, end = bucket.get("start_time"), bucket.get("end_time")
    if not isinstance(start, int | float) or not isinstance(end, int | float):
        raise ValueError(f"bucket start_time/end_time must be Unix seconds, got {start!r}/{end!r}")
    return datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)


def _results(bucket: Any, where: str) -> Iterator[tuple[str, datetime, datetime, Any] | Reject]:
    return bucket_results(
        bucket, where, times=_bucket_times, stamp=lambda start: str(int(start.timestamp()))
    )


def parse_usage_bucket(
    bucket: Mapping[str, Any], *, embeddings: bool = False, where: str = "bucket"
) -> Iterator[dict[str, Any] | Reject]:
    """Rows of one usage bucket (``{"object": "bucket", "start_time", "end_time", "results"}``).

    A result that is not an object becomes a ``Reject``; missing or bad numbers are left
    for the landing writer to quarantine with the field named.
    """
    for item in _results(bucket, where):
        if isinstance(item, Reject):
            yield item
            continue
        ref, start, end, result = item
        yield {
            "record_ref": ref,
            "project_id": result.get("project_id"),
            "user_id": result.get("user_id"),
            "api_key_id": result.get("api_key_id"),
            "model": result.get("model"),
            "is_batch": None if embeddings else result.get("batch"),
            "input_tokens": result.get("input_tokens"),
            # Embeddings have input tokens only; the schema keeps the other counts at 0.
            "input_cached_tokens": 0 if embeddings else result.get("input_cached_tokens"),
            "output_tokens": 0 if embeddings else result.get("output_tokens"),
            "input_audio_tokens": 0 if embeddings else result.get("input_audio_tokens"),
            "output_audio_tokens": 0 if embeddings else result.get("output_audio_tokens"),
            "num_model_requests": result.get("num_model_requests"),
            "bucket_start_at": start,
            "bucket_end_at": end,
        }


def parse_costs_bucket(
    bucket: Mapping[str, Any], *, where: str = "bucket"
) -> Iterator[dict[str, Any] | Reject]:
    for item in _results(bucket, where):
        if isinstance(item, Reject):
            yield item
            continue
        ref, start, end, result = item
        amount = result.get("amount")
        if not isinstance(amount, Mapping):
            yield Reject(
                ref, "result has no amount object {value, currency}", result, day=start.date()
            )
            continue
        currency = amount.get("currency")
        yield {
            "record_ref": ref,
            "organization_id": result.get("organization_id"),
            "project_id": result.get("project_id"),
            "line_item": result.get("line_item"),
            "currency": currency.upper() if isinstance(currency, str) else currency,
            "amount": amount.get("value"),
            "bucket_start_at": start,
            "bucket_end_at": end,
        }


@dataclass(frozen=True, kw_only=True)
class OpenAIOptions(BucketApiOptions):
    project_ids: list[str] | None = None  # default: every project of the organization
    usage_datasets: ClassVar[tuple[str, ...]] = USAGE_DATASETS


class OpenAIExtractor(Extractor):
    type = "openai"
    datasets: ClassVar[dict[str, Dataset]] = {
        "costs": OPENAI_COSTS,
        "usage_completions": OPENAI_USAGE_COMPLETIONS,
        "usage_embeddings": OPENAI_USAGE_EMBEDDINGS,
    }
    Options = OpenAIOptions
    options: OpenAIOptions

    def client(self) -> ApiClient:
        return ApiClient(
            source=self.name,
            window=self.window,
            base_url=self.options.base_url,
            headers={"Authorization": f"Bearer {self.secret('api_key').reveal()}"},
            policy=RetryPolicy.from_options(self.source.options),
        )

    def _params(self, limits: dict[str, int], group_by: list[str], width: str) -> dict[str, Any]:
        return {
            "start_time": self.window.start_unix,
            "end_time": self.window.end_unix,
            "bucket_width": width,
            "group_by": group_by,
            # The page limit counts buckets: a day is 24 of them at 1h.
            "limit": self.options.page_size(limits[width], self.window, width),
            "project_ids": self.options.project_ids,
        }

    def extract(self, dataset: Dataset) -> Iterator[Record]:
        client = self.client()
        if dataset is OPENAI_COSTS:
            path, expected = COSTS_PATH, COSTS_KEYS
            params = self._params({"1d": COSTS_PAGE_LIMIT}, ["project_id", "line_item"], "1d")
        else:
            embeddings = dataset is OPENAI_USAGE_EMBEDDINGS
            path = USAGE_PATHS[dataset.name]
            expected = EMBEDDINGS_KEYS if embeddings else COMPLETIONS_KEYS
            group_by = list(_GROUPING) if embeddings else [*_GROUPING, "batch"]
            params = self._params(USAGE_PAGE_LIMITS, group_by, self.options.bucket_width)
        for number, page in enumerate(paginate_cursor(client, path, params, what=path), start=1):
            for bucket in page["data"]:
                where = f"{path} page {number}"
                if not isinstance(bucket, Mapping):
                    yield Reject(where, "bucket is not an object", bucket)
                    continue
                self.check_bucket_columns(dataset, bucket, expected, where)
                if dataset is OPENAI_COSTS:
                    yield from parse_costs_bucket(bucket, where=where)
                else:
                    yield from parse_usage_bucket(bucket, embeddings=embeddings, where=where)
