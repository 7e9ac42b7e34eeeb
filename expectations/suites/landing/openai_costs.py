"""OpenAI Costs API buckets: non-negative amounts in an ISO 4217 currency."""

from __future__ import annotations

from datetime import date

from expectations.suites._build import non_negative
from expectations.suites.landing._common import currency_check, row_checks
from landing.schemas import OPENAI_COSTS as DATASET


def row_expectations(start: date, end: date) -> list:
    return [*row_checks(DATASET, start, end), non_negative("amount"), currency_check("currency")]
