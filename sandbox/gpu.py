"""The demo GPU cluster: which pod holds which GPU when, and its DCGM samples.

Each GPU of each node has one base series per metric at one-minute resolution
per day (seeded per day and GPU), and a sample at any time t reads the minute
that holds t, so every query step sees the same underlying values.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from sandbox.focus import instance_id
from sandbox.org import DemoOrg

METRICS = (
    "DCGM_FI_DEV_GPU_UTIL",
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    "DCGM_FI_DEV_FB_USED",
    "DCGM_FI_DEV_POWER_USAGE",
)
METRIC_HELP = {
    "DCGM_FI_DEV_GPU_UTIL": "GPU utilization (in %).",
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": "Ratio of time the graphics engine is active.",
    "DCGM_FI_DEV_FB_USED": "Framebuffer memory used (in MiB).",
    "DCGM_FI_DEV_POWER_USAGE": "Power draw (in W).",
}
MINUTES_PER_DAY = 1440

# Framebuffer size (MiB), idle and maximum board power (W) per GPU model.
GPU_SPECS = {
    "NVIDIA A100-SXM4-40GB": (40960, 55.0, 400.0),
    "NVIDIA A10G": (23028, 25.0, 300.0),
}
DEFAULT_SPEC = (16384, 30.0, 250.0)


@dataclass(frozen=True)
class Workload:
    namespace: str
    feature: str
    environment: str
    workload_type: str
    node_type: str
    gpus: int
    busy_util: float
    start_hour: int
    end_hour: int  # exclusive
    weekdays_only: bool

    @classmethod
    def from_catalogue(cls, w: dict) -> Workload:
        hours = str(w.get("hours", "all"))
        start, end = (0, 24) if hours == "all" else (int(h) for h in hours.split("-"))
        return cls(
            namespace=w["namespace"],
            feature=w["feature"],
            environment=w["environment"],
            workload_type=w["workload_type"],
            node_type=w["node_type"],
            gpus=int(w["gpus"]),
            busy_util=float(w["busy_util"]),
            start_hour=start,
            end_hour=end,
            weekdays_only=bool(w.get("weekdays_only", False)),
        )

    def overlaps(self, other: Workload) -> bool:
        return self.start_hour < other.end_hour and other.start_hour < self.end_hour

    def held_minutes(self, day: date) -> np.ndarray:
        """Boolean mask over the minutes of `day` when this workload runs."""
        hours = np.arange(MINUTES_PER_DAY) // 60
        mask = (hours >= self.start_hour) & (hours < self.end_hour)
        if self.weekdays_only and day.weekday() >= 5:
            mask[:] = False
        return mask


def exporter_pod(hostname: str) -> str:
    """The DaemonSet pod of dcgm-exporter on a node: nvidia-dcgm-exporter-<5 chars>."""
    return "nvidia-dcgm-exporter-" + hashlib.sha256(hostname.encode()).hexdigest()[:5]


@dataclass(frozen=True)
class Gpu:
    hostname: str
    index: int
    uuid: str
    model_name: str
    instance_type: str
    workloads: tuple[Workload, ...]  # the workloads that may hold this GPU

    @property
    def labels(self) -> dict[str, str]:
        return {
            "gpu": str(self.index),
            "UUID": self.uuid,
            "device": f"nvidia{self.index}",
            "modelName": self.model_name,
            # In Kubernetes DCGM's Hostname is the exporter pod; the scrape
            # config relabels the pod's node into kubernetes_node (GPU Operator).
            "Hostname": exporter_pod(self.hostname),
            "kubernetes_node": self.hostname,
        }


def cluster_gpus(org: DemoOrg) -> list[Gpu]:
    """Every GPU with the workloads assigned to it, deterministically.

    Workloads take GPUs of their node type in catalogue order, skipping GPUs
    already held by an earlier workload whose hours overlap; the GPUs left
    over are idle capacity.
    """
    if "gpus" not in org.cache:
        org.cache["gpus"] = _assign_gpus(org)
    return org.cache["gpus"]


def _assign_gpus(org: DemoOrg) -> list[Gpu]:
    cluster = org.gpu_cluster
    workloads = [Workload.from_catalogue(w) for w in cluster["workloads"]]
    slots: list[tuple[str, int, dict]] = [
        (host, i, nt)
        for nt in cluster["node_types"]
        for host in nt["nodes"]
        for i in range(int(nt["gpus_per_node"]))
    ]
    holders: dict[tuple[str, int], list[Workload]] = {(h, i): [] for h, i, _ in slots}
    for w in workloads:
        free = [
            (h, i)
            for h, i, nt in slots
            if nt["instance_type"] == w.node_type
            and not any(w.overlaps(o) for o in holders[(h, i)])
        ]
        if len(free) < w.gpus:
            raise ValueError(
                f"demo_org: workload {w.namespace} needs {w.gpus} GPUs of "
                f"{w.node_type}, only {len(free)} are free at its hours"
            )
        for slot in free[: w.gpus]:
            holders[slot].append(w)
    return [
        Gpu(
            hostname=h,
            index=i,
            uuid="GPU-" + str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{org.seed}.{h}.{i}.gpu")),
            model_name=nt["gpu_model"],
            instance_type=nt["instance_type"],
            workloads=tuple(holders[(h, i)]),
        )
        for h, i, nt in slots
    ]


def pod_name(org: DemoOrg, namespace: str, day: date) -> str:
    # Pods are rescheduled daily, as batch and training jobs are.
    suffix = hashlib.sha256(f"{org.seed}:{day}:{namespace}".encode()).hexdigest()[:5]
    return f"{namespace}-{suffix}"


@dataclass
class GpuDay:
    """One GPU's base series for one day (per-minute arrays)."""

    holder: np.ndarray  # index into gpu.workloads, -1 when idle
    values: dict[str, np.ndarray]


def gpu_day(org: DemoOrg, gpu: Gpu, day: date) -> GpuDay:
    key = ("gpu_day", gpu.hostname, gpu.index, day)
    if key in org.cache:
        return org.cache[key]
    rng = org.rng(day, f"gpu:{gpu.hostname}:{gpu.index}")
    holder = np.full(MINUTES_PER_DAY, -1)
    busy = np.zeros(MINUTES_PER_DAY)
    for n, w in enumerate(gpu.workloads):
        mask = w.held_minutes(day)
        holder[mask] = n
        busy[mask] = w.busy_util * 100
    held = holder >= 0
    util = np.where(held, np.clip(rng.normal(busy, 6.0), 1, 100), 0).round()
    engine = np.clip(util / 100 * rng.normal(0.92, 0.02, MINUTES_PER_DAY), 0, 1).round(6)
    fb_total, idle_w, max_w = GPU_SPECS.get(gpu.model_name, DEFAULT_SPEC)
    fb = np.where(held, fb_total * np.clip(rng.normal(0.7, 0.05, MINUTES_PER_DAY), 0, 1), 0)
    power = idle_w + (max_w - idle_w) * util / 100 * rng.normal(1, 0.03, MINUTES_PER_DAY)
    result = GpuDay(
        holder=holder,
        values={
            "DCGM_FI_DEV_GPU_UTIL": util,
            "DCGM_FI_PROF_GR_ENGINE_ACTIVE": engine,
            "DCGM_FI_DEV_FB_USED": fb.round(),
            "DCGM_FI_DEV_POWER_USAGE": np.clip(power, idle_w * 0.9, None).round(3),
        },
    )
    org.cache[key] = result
    return result


def format_value(metric: str, v: float) -> str:
    if metric in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "kube_node_info"):
        return str(int(v))
    return repr(float(v))


def series(
    org: DemoOrg, metric: str, start: float, end: float, step: float
) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
    """Samples of `metric` at start, start+step, ... <= end (Unix seconds).

    One series per distinct label set, as Prometheus returns them: a GPU's
    series splits whenever the pod that holds it changes.
    """
    if metric not in METRICS:
        return []
    times = start + step * np.arange(int(np.floor((end - start) / step)) + 1)
    days = (times // 86400).astype(int)
    minutes = ((times % 86400) // 60).astype(int)
    out = []
    for gpu in cluster_gpus(org):
        grouped: dict[tuple[str, str] | None, list[tuple[float, float]]] = {}
        for d in np.unique(days):
            day = date(1970, 1, 1) + timedelta(days=int(d))
            base = gpu_day(org, gpu, day)
            sel = days == d
            held_by = base.holder[minutes[sel]]
            values = base.values[metric][minutes[sel]]
            day_times = times[sel]
            for n in np.unique(held_by):
                pod = None
                if n >= 0:
                    ns = gpu.workloads[int(n)].namespace
                    pod = (ns, pod_name(org, ns, day))
                mask = held_by == n
                pairs = zip(day_times[mask].tolist(), values[mask].tolist(), strict=True)
                grouped.setdefault(pod, []).extend(pairs)
        for pod, values in grouped.items():
            labels = {"__name__": metric, **gpu.labels}
            labels |= {"instance": f"{gpu.hostname}:9400", "job": "dcgm-exporter"}
            if pod:
                labels |= {"namespace": pod[0], "pod": pod[1], "container": pod[0]}
            out.append((labels, values))
    return out


def day_start_ts(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def node_info_series(
    org: DemoOrg, start: float, end: float, step: float
) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
    """kube-state-metrics kube_node_info: one constant-1 series per GPU node."""
    cluster = org.gpu_cluster
    times = start + step * np.arange(int(np.floor((end - start) / step)) + 1)
    out = []
    for nt in cluster["node_types"]:
        for host in nt["nodes"]:
            labels = {
                "__name__": "kube_node_info",
                "node": host,
                "provider_id": f"aws:///{cluster['region_id']}a/{instance_id(org, host)}",
                "internal_ip": "10.0.0." + str(1 + sum(host.encode()) % 250),
                "os_image": "Amazon Linux 2",
                "kubelet_version": "v1.30.4-eks",
                "job": "kube-state-metrics",
            }
            out.append((labels, [(float(t), 1.0) for t in times]))
    return out
