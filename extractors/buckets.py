"""Walking the time buckets of provider usage and cost APIs (OpenAI, Anthropic).

Both answer ``{"data": [bucket, ...]}`` with each bucket holding a start, an end
and a ``results`` list; they differ only in how a bucket states its times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from extractors.landing import Reject

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
