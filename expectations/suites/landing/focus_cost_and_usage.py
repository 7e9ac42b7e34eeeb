"""FOCUS cost and usage rows: money signs, currency, charge category, window."""

from __future__ import annotations

from datetime import date

from expectations.suites._build import column_is_not_in, in_set, non_negative
from expectations.suites.landing._common import currency_check, row_checks
from extractors.schemas import FOCUS_COST_AND_USAGE as DATASET

CHARGE_CATEGORIES = ["Usage", "Purchase", "Tax", "Credit", "Adjustment"]
# Credits and adjustments legitimately carry negative amounts.
SIGNED_CATEGORIES = ["Credit", "Adjustment"]
COSTS = ["billed_cost", "effective_cost", "list_cost", "contracted_cost"]


def row_expectations(start: date, end: date) -> list:
    signed = column_is_not_in("charge_category", SIGNED_CATEGORIES)
    return [
        *row_checks(DATASET, start, end),
        *(non_negative(c, signed, " (except Credit and Adjustment rows)") for c in COSTS),
        currency_check("billing_currency"),
        in_set("charge_category", CHARGE_CATEGORIES),
    ]

