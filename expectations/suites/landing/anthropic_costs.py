"""Anthropic cost report buckets: non-negative amounts (already in units) in ISO 4217."""

from __future__ import annotations

from datetime import date

from expectations.suites._build import non_negative
from expectations.suites.landing._common import currency_check, row_checks
from landing.schemas import ANTHROPIC_COSTS as DATASET


def row_expectations(start: date, end: date) -> list:
    return [*row_checks(DATASET, start, end), non_negative("amount"), currency_check("currency")]
