"""Walking the time buckets of provider usage and cost APIs (OpenAI, Anthropic).

Both answer ``{"data": [bucket, ...]}`` with each bucket holding a start, an end
and a ``results`` list; they differ only in how a bucket states its times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from extractors.errors import ConfigError
from extractors.landing import Reject
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


def bucket_width_of(source: str, options: Mapping[str, Any], usage_only: Iterable[str]) -> str:
    """The ``bucket_width`` option of a source, checked: ``"1d"`` (default) or ``"1h"``.

    Hourly buckets exist for usage only (the cost reports are daily), so a source
    asking for ``1h`` must select only the datasets named in ``usage_only``.
    """
    width = options.get("bucket_width", DEFAULT_BUCKET_WIDTH)
    if width not in BUCKET_WIDTHS:
        raise ConfigError(
            f"source {source!r}: option 'bucket_width' must be one of "
            f"{sorted(BUCKET_WIDTHS)}, got {width!r}"
        )
    if width != DEFAULT_BUCKET_WIDTH:
        usage = set(usage_only)
        selected = options.get("datasets")
        others = sorted(d for d in (selected or ["costs"]) if d not in usage)
        if others:
            raise ConfigError(
                f"source {source!r}: bucket_width {width!r} applies to usage datasets only "
                f"({sorted(usage)}); the cost reports are daily, so drop {others} from its "
                "datasets"
            )
    return width


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
