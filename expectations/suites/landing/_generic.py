"""Checks for a landed dataset that has no module of its own yet.

The contract in ``landing.schemas`` may gain a dataset before its suite is
written; it still gets the checks derived from the contract (not-null, unique
key, window, finite money, non-negative integers) instead of no gate at all.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from expectations.suites.landing._common import non_negative_all, row_checks
from landing.schemas import Dataset


def generic_row_expectations(dataset: Dataset, start: date, end: date) -> list:
    counts = [f.name for f in dataset.schema if pa.types.is_integer(f.type)]
    return [*row_checks(dataset, start, end), *non_negative_all(counts)]
