"""Marts suite: conservation, freshness, accepted values, ranges, unallocated share.

One suite per batch read by ``expectations.marts_data.read_marts``; the suite
name is ``marts.<batch>``.
"""

from __future__ import annotations

from datetime import date

from expectations.marts_data import ENGINEERING_MART
from expectations.suites._build import (
    between,
    column_exists,
    expect,
    finite,
    in_set,
    not_null,
    relation_usable,
)

ENVIRONMENTS = ["production", "staging", "research", "experiment", "unallocated"]
COST_BASES = ["billed", "estimated"]
ALLOCATION_METHODS = ["direct", "rule", "proportional", "even", "fixed", "idle", "unallocated"]
COST_TYPES = ["tokens", "gpu", "infra", "other"]
# A cent, exclusive: sums that round to the same cent pass.
CENT = 0.005
# Engineering mart shares: column -> (low, high). Every ratio the marts carry is a 0-1 share
# (a percent would be named *_pct), so a value above 1 is a broken formula, not a busy day.
MART_RANGES = {
    ENGINEERING_MART: {
        "cache_hit_rate": (0, 1),
        "gpu_utilisation": (0, 1),
        "gpu_busy_share_of_allocated": (0, 1),
    },
}


def expectations_by_batch(start: date, end: date, max_unallocated_share: float) -> dict[str, list]:
    ranges = {
        mart: [
            check
            for column, (low, high) in columns.items()
            for check in (column_exists(column), between(column, low, high))
        ]
        for mart, columns in MART_RANGES.items()
    }
    return {
        "relations": [relation_usable("the fact, the conservation model and the marts")],
        "fct_ai_cost": [
            not_null("charge_date"),
            not_null("billed_cost"),
            finite("billed_cost"),
            in_set("environment", ENVIRONMENTS),
            in_set("cost_basis", COST_BASES),
            in_set("allocation_method", ALLOCATION_METHODS),
            in_set("cost_type", COST_TYPES),
        ],
        "conservation": [
            expect(
                "ExpectColumnValuesToBeBetween",
                "conservation",
                f"per charge_date in [{start}, {end}), fct_ai_cost billed cost equals the landed "
                "billed cost (int_billed_cost_conservation: its pools, and the raw landed day "
                "total) to the cent",
                column="difference",
                min_value=-CENT,
                max_value=CENT,
                strict_min=True,
                strict_max=True,
            ),
        ],
        "freshness": [
            in_set(
                "problem",
                [""],
                check="freshness",
                description="every day of the window is present and final: each configured "
                "source landed it or recorded it empty, and fct_ai_cost holds "
                "the days that landed rows",
            ),
        ],
        **ranges,
        "unallocated_share": [
            expect(
                "ExpectColumnValuesToBeBetween",
                "max_share",
                f"unallocated share of billed cost at most {max_unallocated_share:.0%}",
                column="unallocated_share",
                min_value=0,
                max_value=max_unallocated_share,
            ),
        ],
    }
