"""GPU utilisation from Prometheus ``GET /api/v1/query_range`` over DCGM exporter metrics.

Prometheus answers ``{"status": "success", "data": {"resultType": "matrix", "result":
[{"metric": {labels}, "values": [[unix_ts, "value"], ...]}]}}``; sample values are
strings. It refuses more than 11,000 points per series, so the window is cut into
half-open chunks; the inclusive ``end`` of each query is trimmed so a sample on a
chunk boundary is landed once.

The same Prometheus usually scrapes kube-state-metrics too: ``kube_node_info{node,
provider_id}`` (dataset ``node_info``) names the cloud instance behind each Kubernetes
node, which is how a FOCUS line that carries only a ResourceId (``i-0abc...``) finds
its node's GPU metrics.

DCGM's own ``Hostname`` label is the host name the exporter sees, which in
Kubernetes is the exporter pod (or its container id), not the node. Scrape configs
relabel ``__meta_kubernetes_pod_node_name`` into a node label (``kubernetes_node`` in
NVIDIA's GPU Operator guide, ``node`` or ``nodename`` in other charts); the first of
those present is the landed ``hostname``, and ``Hostname`` only when none is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from extractors.base import Extractor, Record
from extractors.errors import FatalSourceError
from extractors.http import ApiClient, RetryPolicy
from extractors.landing import Reject
from extractors.options import CHUNK_HOURS, STEP_SECONDS, HttpSourceOptions, SubsetOf, option
from landing.schemas import DCGM_GPU_METRICS, KUBE_NODE_INFO, Dataset

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
# Node labels relabelling adds to DCGM series, most specific first; Hostname is last.
NODE_LABELS = ("kubernetes_node", "node", "nodename", "Hostname")
NODE_INFO_METRIC = "kube_node_info"
NODE_INFO_LABELS = {  # kube-state-metrics label -> landing column
    "node": "node",
    "provider_id": "provider_id",
    "internal_ip": "internal_ip",
    "os_image": "os_image",
    "kubelet_version": "kubelet_version",
}


def node_of(labels: Mapping[str, Any]) -> Any:
    """The Kubernetes node of a DCGM series: a relabelled node label, else Hostname."""
    return next((labels[k] for k in NODE_LABELS if labels.get(k)), None)


def chunk_length(step_seconds: int, chunk_hours: float) -> timedelta:
    """The requested chunk, shrunk so no query returns more than 11,000 points per series."""
    longest = step_seconds * (MAX_POINTS - 1)
    return timedelta(seconds=min(int(chunk_hours * 3600), longest))


def _matrix(body: Any) -> list[Any]:
    """The series of a successful query_range answer, or ValueError."""
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
    return data["result"]


def parse_matrix(
    body: Any, *, metric: str, step_seconds: int, chunk_end: datetime, where: str
) -> Iterator[dict[str, Any] | Reject]:
    """Rows from one query_range answer; samples at or after ``chunk_end`` are left out."""
    cutoff = chunk_end.timestamp()
    for series_index, series in enumerate(_matrix(body)):
        labels = series.get("metric") if isinstance(series, Mapping) else None
        values = series.get("values") if isinstance(series, Mapping) else None
        if not isinstance(labels, Mapping) or not isinstance(values, list):
            yield Reject(
                f"{where} series {series_index}", "series without metric labels or values", series
            )
            continue
        base = {column: labels.get(label) for label, column in LABELS.items()}
        base["hostname"] = node_of(labels)
        name = f"{metric}{{node={base['hostname']},gpu={labels.get('gpu')}}}"
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


def parse_node_info(
    body: Any, *, chunk_end: datetime, where: str
) -> Iterator[dict[str, Any] | Reject]:
    """One row per kube_node_info series in a query_range answer, at its first sample
    before ``chunk_end``: the series is constant 1, only its labels carry facts."""
    cutoff = chunk_end.timestamp()
    for series_index, series in enumerate(_matrix(body)):
        labels = series.get("metric") if isinstance(series, Mapping) else None
        values = series.get("values") if isinstance(series, Mapping) else None
        if (
            not isinstance(labels, Mapping)
            or not isinstance(values, list)
            or not labels.get("node")
        ):
            yield Reject(
                f"{where} series {series_index}",
                "kube_node_info series without node label or values",
                series,
            )
            continue
        stamps = [
            s[0]
            for s in values
            if isinstance(s, list | tuple)
            and len(s) == 2
            and isinstance(s[0], int | float)
            and s[0] < cutoff
        ]
        if not stamps:
            continue
        first = min(stamps)
        yield {
            **{column: labels.get(label) for label, column in NODE_INFO_LABELS.items()},
            "record_ref": f"{NODE_INFO_METRIC}{{node={labels['node']}}}@{first}",
            "observed_at": datetime.fromtimestamp(first, UTC),
        }


@dataclass(frozen=True, kw_only=True)
class PrometheusOptions(HttpSourceOptions):
    step_seconds: int = option(300, STEP_SECONDS)
    chunk_hours: float = option(24, CHUNK_HOURS)  # of one query; see chunk_length
    metrics: list[str] | tuple[str, ...] = option(METRICS, SubsetOf(METRICS))
    selector: str = ""  # label matchers for every query, e.g. '{cluster="ml-gpu"}'


class PrometheusDcgmExtractor(Extractor):
    type = "prometheus_dcgm"
    datasets: ClassVar[dict[str, Dataset]] = {
        "gpu_metrics": DCGM_GPU_METRICS,
        "node_info": KUBE_NODE_INFO,
    }
    Options = PrometheusOptions
    options: PrometheusOptions

    def extract(self, dataset: Dataset) -> Iterator[Record]:
        step = int(self.options.step_seconds)
        length = chunk_length(step, float(self.options.chunk_hours))
        selector = self.options.selector
        client = ApiClient(
            source=self.name,
            window=self.window,
            base_url=self.options.base_url,
            policy=RetryPolicy.from_options(self.source.options),
        )
        if dataset is KUBE_NODE_INFO:
            yield from self._node_info(client, step=step, length=length, selector=selector)
            return
        for metric in self.options.metrics:
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

    def _node_info(
        self, client: ApiClient, *, step: int, length: timedelta, selector: str
    ) -> Iterator[Record]:
        # The DCGM selector (e.g. a cluster label) scopes kube-state-metrics alike.
        for chunk in self.window.chunks(length):
            params = {
                "query": f"{NODE_INFO_METRIC}{selector}",
                "start": chunk.start_unix,
                "end": chunk.end_unix,
                "step": f"{step}s",
            }
            what = f"{NODE_INFO_METRIC} {chunk}"
            body = client.get_json(QUERY_RANGE, params, what=what)
            try:
                yield from parse_node_info(body, chunk_end=chunk.end, where=what)
            except ValueError as exc:
                raise FatalSourceError(
                    str(exc), source=self.name, window=self.window, record=f"{QUERY_RANGE} {what}"
                ) from None
