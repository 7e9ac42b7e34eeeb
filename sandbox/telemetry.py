"""Telemetry the demo organisation keeps outside Prometheus, in the files real systems write.

- nvidia-smi logs of the GPU boxes outside Kubernetes (`gpu_boxes` in demo_org.yml):
  `nvidia-smi --query-gpu=... --format=csv -l 60 >> <hostname>.csv`, header with units,
  values with their units, the host's local time (UTC here) without an offset.
- OpenTelemetry GenAI spans of the instrumented apps (`otel_apps`): OTLP/JSON lines, as
  the collector's file exporter writes them, one `resourceSpans` batch per line, one file
  per day. Token counts only: no prompt or completion is ever written.

Deterministic per (day, entity), like every other generator of the sandbox.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from sandbox.gpu import DEFAULT_SPEC, GPU_SPECS, MINUTES_PER_DAY
from sandbox.org import DemoOrg, days_between

NVIDIA_SMI_QUERY = (
    "timestamp",
    "name",
    "pci.bus_id",
    "uuid",
    "index",
    "utilization.gpu",
    "memory.used",
    "memory.total",
    "power.draw",
)
NVIDIA_SMI_HEADER = (
    "timestamp, name, pci.bus_id, uuid, index, utilization.gpu [%], memory.used [MiB], "
    "memory.total [MiB], power.draw [W]"
)
SPANS_PER_LINE = 100


def box_gpu_uuid(org: DemoOrg, hostname: str, index: int) -> str:
    digest = org.rng("uuid", f"{hostname}:{index}").integers(0, 16, 32)
    h = "".join(f"{d:x}" for d in digest)
    return f"GPU-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def box_utilisation(org: DemoOrg, box: dict, index: int, day: date) -> np.ndarray:
    """Per-minute GPU utilisation (%) of one GPU of a box: busy in working hours."""
    start, end = (int(h) for h in str(box.get("hours", "0-24")).split("-"))
    hours = np.arange(MINUTES_PER_DAY) // 60
    working = (hours >= start) & (hours < end)
    if box.get("weekdays_only") and day.weekday() >= 5:
        working[:] = False
    rng = org.rng(day, f"box:{box['hostname']}:{index}")
    busy = np.clip(rng.normal(float(box["busy_util"]) * 100, 6.0, MINUTES_PER_DAY), 1, 100)
    return np.where(working, busy, 0).round()


def nvidia_smi_lines(org: DemoOrg, box: dict, day: date) -> list[str]:
    """One day of a box's nvidia-smi log, a sample a minute per GPU (no header)."""
    fb_total, idle_w, max_w = GPU_SPECS.get(box["gpu_model"], DEFAULT_SPEC)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    lines = []
    utils = [box_utilisation(org, box, i, day) for i in range(int(box["gpus"]))]
    for minute in range(MINUTES_PER_DAY):
        stamp = (midnight + timedelta(minutes=minute)).strftime("%Y/%m/%d %H:%M:%S.000")
        for index, util in enumerate(utils):
            u = int(util[minute])
            used = int(fb_total * 0.7) if u else 0
            power = idle_w + (max_w - idle_w) * u / 100
            lines.append(
                f"{stamp}, {box['gpu_model']}, 00000000:{index:02X}:1E.0, "
                f"{box_gpu_uuid(org, box['hostname'], index)}, {index}, {u} %, {used} MiB, "
                f"{fb_total} MiB, {power:.2f} W"
            )
    return lines


def write_nvidia_smi_logs(org: DemoOrg, out_dir: Path | str, start: date, end: date) -> list[Path]:
    """`<hostname>.csv` per box over [start, end), as `nvidia-smi ... -l 60` appends it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for box in org.gpu_boxes:
        path = out / f"{box['hostname']}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            fh.write(NVIDIA_SMI_HEADER + "\n")
            for day in days_between(start, end):
                fh.write("\n".join(nvidia_smi_lines(org, box, day)) + "\n")
        written.append(path)
    return written


def _attr(key: str, value: object) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}  # OTLP/JSON: int64 as string
    return {"key": key, "value": {"stringValue": str(value)}}


def app_spans(org: DemoOrg, app: dict, day: date) -> list[dict]:
    """The app's GenAI spans of one day: one `chat` span per model call."""
    rng = org.rng(day, f"otel:{app['service_name']}")
    calls = int(
        round(
            float(app["requests_per_day"])
            * org.traffic_factor(app["feature"], day)
            * org.noise(day, f"otel:{app['service_name']}")
        )
    )
    midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 10**9
    starts = np.sort(rng.integers(0, 86_400 * 10**9 - 10**10, calls))
    spans = []
    for n, start_ns in enumerate(starts):
        duration = int(rng.integers(200, 4000)) * 10**6
        spans.append(
            {
                "traceId": f"{day.toordinal():08x}{n:024x}",
                "spanId": f"{n:016x}",
                "name": f"chat {app['model']}",
                "kind": 3,
                "startTimeUnixNano": str(midnight + int(start_ns)),
                "endTimeUnixNano": str(midnight + int(start_ns) + duration),
                "attributes": [
                    _attr("gen_ai.operation.name", "chat"),
                    _attr("gen_ai.provider.name", app["provider"]),
                    _attr("gen_ai.request.model", app["model"]),
                    _attr("gen_ai.response.model", app["model"]),
                    _attr(
                        "gen_ai.usage.input_tokens",
                        max(1, int(rng.normal(app["input_tokens"], app["input_tokens"] * 0.2))),
                    ),
                    _attr(
                        "gen_ai.usage.output_tokens",
                        max(1, int(rng.normal(app["output_tokens"], app["output_tokens"] * 0.2))),
                    ),
                ],
            }
        )
    return spans


def write_otel_spans(org: DemoOrg, out_dir: Path | str, start: date, end: date) -> list[Path]:
    """`genai-spans-YYYY-MM-DD.jsonl` per day over [start, end), OTLP/JSON lines."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for day in days_between(start, end):
        path = out / f"genai-spans-{day.isoformat()}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for app in org.otel_apps:
                resource = {
                    "attributes": [
                        _attr("service.name", app["service_name"]),
                        _attr("deployment.environment.name", app["environment"]),
                        _attr("k8s.namespace.name", app["namespace"]),
                    ]
                }
                spans = app_spans(org, app, day)
                for i in range(0, len(spans), SPANS_PER_LINE):
                    line = {
                        "resourceSpans": [
                            {
                                "resource": resource,
                                "scopeSpans": [
                                    {
                                        "scope": {"name": "opentelemetry.instrumentation.openai"},
                                        "spans": spans[i : i + SPANS_PER_LINE],
                                    }
                                ],
                            }
                        ]
                    }
                    fh.write(json.dumps(line, separators=(",", ":")) + "\n")
        written.append(path)
    return written
