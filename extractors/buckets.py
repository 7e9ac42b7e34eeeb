"""Walking the time buckets of provider usage and cost APIs (OpenAI, Anthropic).

Both answer ``{"data": [bucket, ...]}`` with each bucket holding a start, an end
and a ``results`` list; they differ only in how a bucket states its times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from extractors.errors import ConfigError
from extractors.landing import Reject
from extractors.options import LOOKBACK_DAYS, PAGE_LIMIT, HttpSourceOptions, OneOf, option, secret
from landing.window import Window

# Bucket widths the usage extractors request (option ``bucket_width``), in seconds. Both
# APIs also offer 1m; nothing here needs it, and a minute grid would multiply the rows 60x.
BUCKET_WIDTHS = {"1d": 86_400, "1h": 3_600}
DEFAULT_BUCKET_WIDTH = "1d"

BucketTimes = Callable[[Mapping[str, Any]], tuple[datetime, datetime]]


def bucket_results(
    bucket: Any, where: str, *, times: BucketTimes, stamp: Callable[[datetime], str]
) -> Iterator[tuple[str, datetime, datetime, Mapping[str, Any]] | Reject]:
    """``(record_ref, start, end, result)`` for each result; a ``Reject`` for what is malformed.

    ``times`` reads the bucket's start and end (raising ValueError when it cannot);
    ``stamp`` writes the start into the record reference, in the API's own notation.
    """
    if not isinstance(bucket, Mapping):
        yield Reject(where, "bucket is not an object", bucket)
        return
    try:
        start, end = times(bucket)
    except ValueError as exc:
        yield Reject(where, str(exc), dict(bucket))
        return
    results = bucket.get("results")
    if not isinstance(results, list):
        yield Reject(where, "bucket has no 'results' list", dict(bucket))
        return
    for index, result in enumerate(results):
        ref = f"{where}@{stamp(start)}#{index}"
        if not isinstance(result, Mapping):
            yield Reject(
                ref, f"result is not an object: {type(result).__name__}", result, day=start.date()
            )
            continue
        yield ref, start, end, result


@dataclass(frozen=True, kw_only=True)
class BucketApiOptions(HttpSourceOptions):
    """A usage and cost API keyed by an admin key, read in daily (or hourly) buckets."""

    api_key: Any = secret()
    page_limit: int | None = option(None, PAGE_LIMIT)  # default: the API's largest page
    bucket_width: str = option(DEFAULT_BUCKET_WIDTH, OneOf(tuple(BUCKET_WIDTHS)))
    # The providers restate recent days; re-pull them by default.
    lookback_days: int = option(3, LOOKBACK_DAYS)
    # The datasets an hourly bucket width applies to: the cost reports are daily.
    usage_datasets: ClassVar[tuple[str, ...]] = ()

    def check(self, source: str) -> None:
        if self.bucket_width == DEFAULT_BUCKET_WIDTH:
            return
        usage = set(self.usage_datasets)
        others = sorted(d for d in (self.datasets or ["costs"]) if d not in usage)
        if others:
            raise ConfigError(
                f"source {source!r}: bucket_width {self.bucket_width!r} applies to usage "
                f"datasets only ({sorted(usage)}); the cost reports are daily, so drop "
                f"{others} from its datasets"
            )

    def page_size(self, largest: int, window: Window, width: str) -> int:
        """Buckets per page: the API's largest, the option's, and no more than the window has."""
        return min(largest, self.page_limit or largest, bucket_count(window, width))


def bucket_count(window: Window, width: str) -> int:
    """How many buckets of ``width`` cover the window (a partial bucket counts): a page
    never needs to ask for more than this."""
    seconds = BUCKET_WIDTHS[width]
    if width == "1d":
        return len(window.days())
    # Anthropic snaps the first bucket down to the hour, OpenAI starts it at start_time:
    # counted from the hour before, both give the same number.
    first = window.start_unix - window.start_unix % seconds
    return max(1, -(-(window.end_unix - first) // seconds))
