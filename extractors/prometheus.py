"""GPU utilisation from Prometheus ``GET /api/v1/query_range`` over DCGM exporter metrics.

Prometheus answers ``{"status": "success", "data": {"resultType": "matrix", "result":
[{"metric": {labels}, "values": [[unix_ts, "value"], ...]}]}}``; sample values are
strings. It refuses more than 11,000 points per series, so the window is cut into
half-open chunks; the inclusive ``end`` of each query is trimmed so a sample on a
chunk boundary is landed once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from extractors.base import Extractor, Record, register
from extractors.errors import ConfigError, FatalSourceError
from extractors.http import RETRY_OPTIONS, ApiClient, RetryPolicy
from extractors.landing import Reject
from extractors.schemas import DCGM_GPU_METRICS, Dataset

QUERY_RANGE = "/api/v1/query_range"
METRICS = (
    "DCGM_FI_DEV_GPU_UTIL",
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    "DCGM_FI_DEV_FB_USED",
    "DCGM_FI_DEV_POWER_USAGE",
)
MAX_POINTS = 11_000
LABELS = {  # DCGM exporter label -> landing column
    "Hostname": "hostname",
    "gpu": "gpu",
    "UUID": "uuid",
    "modelName": "model_name",
    "namespace": "namespace",
    "pod": "pod",
    "container": "container",
}


def chunk_length(step_seconds: int, chunk_hours: float) -> timedelta:
    """The requested chunk, shrunk so no query returns more than 11,000 points per series."""
    longest = step_seconds * (MAX_POINTS - 1)
    return timedelta(seconds=min(int(chunk_hours * 3600), longest))


def parse_matrix(
    body: Any, *, metric: str, step_seconds: int, chunk_end: datetime, where: str
) -> Iterator[dict[str, Any] | Reject]:
    """Rows from one query_range answer; samples at or after ``chunk_end`` are left out."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if (
        not isinstance(body, Mapping)
        or body.get("status") != "success"
        or not isinstance(data, Mapping)
    ):
        raise ValueError(f"not a successful query_range answer: {str(body)[:160]!r}")
    if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        raise ValueError(
            f"expected resultType matrix with a result list, got {data.get('resultType')!r}"
        )
    cutoff = chunk_end.timestamp()
    for series_index, series in enumerate(data["result"]):
        labels = series.get("metric") if isinstance(series, Mapping) else None
        values = series.get("values") if isinstance(series, Mapping) else None
        if not isinstance(labels, Mapping) or not isinstance(values, list):
            yield Reject(
                f"{where} series {series_index}", "series without metric labels or values", series
            )
            continue
        base = {column: labels.get(label) for label, column in LABELS.items()}
        name = f"{metric}{{Hostname={labels.get('Hostname')},gpu={labels.get('gpu')}}}"
        for sample in values:
            if not isinstance(sample, list | tuple) or len(sample) != 2:
                yield Reject(
                    f"{where} {name}",
                    f"sample is not [timestamp, value]: {sample!r}",
                    {"metric": dict(labels), "sample": sample},
                )
                continue
            stamp, value = sample
            if not isinstance(stamp, int | float):
                yield Reject(
                    f"{where} {name}",
                    f"sample timestamp is not a number: {stamp!r}",
                    {"metric": dict(labels), "sample": sample},
                )
                continue
            if stamp >= cutoff:
                continue
            yield {
                **base,
                "record_ref": f"{name}@{stamp}",
                "metric_name": metric,
                "value": value,
                "step_seconds": step_seconds,
                "sample_at": datetime.fromtimestamp(stamp, UTC),
            }


@register
class PrometheusDcgmExtractor(Extractor):
    type = "prometheus_dcgm"
    datasets: ClassVar[dict[str, Dataset]] = {"gpu_metrics": DCGM_GPU_METRICS}
    required_options = ("base_url",)
    optional_options = (
        "step_seconds",
        "chunk_hours",
        "metrics",
        "selector",
        *RETRY_OPTIONS,
    )

    @classmethod
    def validate_options(cls, source: str, options: Mapping[str, Any]) -> None:
        super().validate_options(source, options)
        step = options.get("step_seconds", 300)
        if not isinstance(step, int) or step <= 0:
            raise ConfigError(
                f"source {source!r}: step_seconds must be a positive integer, got {step!r}"
            )
        hours = options.get("chunk_hours", 24)
        if not isinstance(hours, int | float) or hours <= 0:
            raise ConfigError(f"source {source!r}: chunk_hours must be positive, got {hours!r}")
        unknown = set(options.get("metrics", METRICS)) - set(METRICS)
        if unknown:
            raise ConfigError(f"source {source!r}: unknown metrics {sorted(unknown)}")

    def extract(self, dataset: Dataset) -> Iterator[Record]:
        step = int(self.options.get("step_seconds", 300))
        length = chunk_length(step, float(self.options.get("chunk_hours", 24)))
        selector = self.options.get("selector", "")  # e.g. '{cluster="ml-gpu"}'
        client = ApiClient(
            source=self.name,
            window=self.window,
            base_url=self.options["base_url"],
            policy=RetryPolicy.from_options(self.options),
        )
        for metric in self.options.get("metrics", METRICS):
            for chunk in self.window.chunks(length):
                # query_range is inclusive at both ends; parse_matrix drops the end sample.
                params = {
                    "query": f"{metric}{selector}",
                    "start": chunk.start_unix,
                    "end": chunk.end_unix,
                    "step": f"{step}s",
                }
                what = f"{metric} {chunk}"
                body = client.get_json(QUERY_RANGE, params, what=what)
                try:
                    yield from parse_matrix(
                        body, metric=metric, step_seconds=step, chunk_end=chunk.end, where=what
                    )
                except ValueError as exc:
                    raise FatalSourceError(
                        str(exc),
                        source=self.name,
                        window=self.window,
                        record=f"{QUERY_RANGE} {what}",
                    ) from None
