"""Daily feature KPIs: non-negative counts and revenue in an ISO 4217 currency."""

from __future__ import annotations

from datetime import date

from expectations.suites.landing._common import (
    currency_check,
    non_negative_all,
    row_checks,
)
from landing.schemas import VALUE_FEATURE_KPIS as DATASET


def row_expectations(start: date, end: date) -> list:
    return [
        *row_checks(DATASET, start, end),
        *non_negative_all(["active_users", "conversions", "revenue"]),
        currency_check("currency"),
    ]
