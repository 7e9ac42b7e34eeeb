"""Anthropic usage report (messages) buckets: non-negative integer token counts."""

from __future__ import annotations

from datetime import date

from expectations.suites.landing._common import non_negative_all, row_checks
from landing.schemas import ANTHROPIC_USAGE_MESSAGES as DATASET

TOKEN_COLUMNS = [
    "uncached_input_tokens",
    "cache_read_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "output_tokens",
]


def row_expectations(start: date, end: date) -> list:
    # Integer types are enforced per file by the partitions' schema check.
    return [*row_checks(DATASET, start, end), *non_negative_all(TOKEN_COLUMNS)]
