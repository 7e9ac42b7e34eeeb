"""OpenMetrics text for backfilling the test Prometheus: a writer and a small DCGM sample.

Values are exact functions of (gpu, minute) so tests can assert the very numbers
Prometheus returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Family:
    """One metric family: a gauge with its series, each a label set and its samples."""

    name: str
    help: str
    series: list[tuple[Mapping[str, str], list[tuple[float, float]]]]
    type: str = "gauge"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def write_openmetrics(path: Path, families: Iterable[Family]) -> Path:
    """Write families as OpenMetrics text (timestamps in Unix seconds), ending in `# EOF`."""
    with open(path, "w", encoding="utf-8") as out:
        for fam in families:
            out.write(f"# HELP {fam.name} {fam.help}\n# TYPE {fam.name} {fam.type}\n")
            for labels, samples in fam.series:
                label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
                for ts, value in samples:
                    out.write(f"{fam.name}{{{label_text}}} {format_value(value)} {ts:.3f}\n")
        out.write("# EOF\n")
    return path


# A fixed window in the demo month; Prometheus must keep it although it is in the past.
DCGM_START = datetime(2026, 10, 15, 0, 0, tzinfo=UTC)
DCGM_HOURS = 3
DCGM_STEP_SECONDS = 60

DCGM_GPUS = [
    {
        "gpu": "0",
        "UUID": "GPU-5f8e1c2a-0000-4000-8000-000000000000",
        "modelName": "NVIDIA A10G",
        "Hostname": "gpu-a10g-0",
        "namespace": "inference-llama",
        "pod": "llama-server-7d9f8-abcde",
    },
    {
        "gpu": "1",
        "UUID": "GPU-5f8e1c2a-0000-4000-8000-000000000001",
        "modelName": "NVIDIA A10G",
        "Hostname": "gpu-a10g-0",
        "namespace": "notebooks",
        "pod": "jupyter-alice-0",
    },
]


def dcgm_value(metric: str, gpu: int, minute: int) -> float:
    """The sample of `metric` on GPU index `gpu` at `minute` after DCGM_START."""
    util = (minute * 7 + gpu * 13) % 101
    return {
        "DCGM_FI_DEV_GPU_UTIL": float(util),
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE": util / 100 * 0.9,
        "DCGM_FI_DEV_FB_USED": float(1024 + gpu * 2048 + minute % 17),
        "DCGM_FI_DEV_POWER_USAGE": 25.0 + util * 2.5 + 0.125,
    }[metric]


DCGM_HELP = {
    "DCGM_FI_DEV_GPU_UTIL": "GPU utilization (in %).",
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": "Ratio of time the graphics engine is active.",
    "DCGM_FI_DEV_FB_USED": "Framebuffer memory used (in MiB).",
    "DCGM_FI_DEV_POWER_USAGE": "Power draw (in W).",
}


def dcgm_families(
    start: datetime = DCGM_START, hours: int = DCGM_HOURS, step: int = DCGM_STEP_SECONDS
) -> list[Family]:
    t0 = start.timestamp()
    minutes = range(hours * 3600 // step)
    return [
        Family(
            name=metric,
            help=help_text,
            series=[
                (labels, [(t0 + m * step, dcgm_value(metric, i, m)) for m in minutes])
                for i, labels in enumerate(DCGM_GPUS)
            ],
        )
        for metric, help_text in DCGM_HELP.items()
    ]


def write_dcgm_sample(path: Path) -> Path:
    """The default backfill: 2 GPUs x 4 DCGM gauges x 3 hours at 60 s."""
    return write_openmetrics(path, dcgm_families())
