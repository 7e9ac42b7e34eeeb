"""DCGM GPU samples: each metric inside its physical range."""

from __future__ import annotations

from datetime import date

from expectations.suites._build import column_equals, expect
from expectations.suites.landing._common import row_checks
from landing.schemas import DCGM_GPU_METRICS as DATASET

# metric -> (low, high): utilisation in %, engine activity as a ratio, memory and power >= 0.
METRIC_RANGES = {
    "DCGM_FI_DEV_GPU_UTIL": (0, 100),
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": (0, 1),
    "DCGM_FI_DEV_FB_USED": (0, None),
    "DCGM_FI_DEV_POWER_USAGE": (0, None),
}


def row_expectations(start: date, end: date) -> list:
    ranges = [
        expect(
            "ExpectColumnValuesToBeBetween",
            f"range.{metric}",
            f"{metric} value within {low}..{high if high is not None else 'any'}",
            column="value",
            min_value=low,
            max_value=high,
            row_condition=column_equals("metric_name", metric),
        )
        for metric, (low, high) in METRIC_RANGES.items()
    ]
    step = expect(
        "ExpectColumnValuesToBeBetween",
        "positive.step_seconds",
        "step_seconds is positive",
        column="step_seconds",
        min_value=1,
    )
    return [*row_checks(DATASET, start, end), *ranges, step]
