"""nvidia-smi GPU samples: utilisation within 0-100 %, memory and power not negative."""

from __future__ import annotations

from datetime import date

from expectations.suites._build import between, expect
from expectations.suites.landing._common import non_negative_all, row_checks
from landing.schemas import NVIDIA_SMI_GPU_SAMPLES as DATASET


def row_expectations(start: date, end: date) -> list:
    return [
        *row_checks(DATASET, start, end),
        between("utilization_gpu_pct", 0, 100, what="GPU utilisation (%)"),
        *non_negative_all(["memory_used_mib", "memory_total_mib", "power_draw_w"]),
        expect(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            "memory_within_total",
            "memory_used_mib <= memory_total_mib",
            column_A="memory_total_mib",
            column_B="memory_used_mib",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
    ]
