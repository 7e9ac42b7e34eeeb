"""FOCUS cost and usage rows: money signs, currency, charge category, window."""

from __future__ import annotations

from datetime import date

from expectations.suites._build import column_is_not_in, expect, in_set
from expectations.suites.landing._common import currency_check, row_checks
from landing.schemas import FOCUS_COST_AND_USAGE as DATASET

CHARGE_CATEGORIES = ["Usage", "Purchase", "Tax", "Credit", "Adjustment"]
# Credits and adjustments carry negative amounts by nature, so they are not even reported.
SIGNED_CATEGORIES = ["Credit", "Adjustment"]
COSTS = ["billed_cost", "effective_cost", "list_cost", "contracted_cost"]


def negative_amount(column: str, row_condition) -> object:
    # FOCUS allows negative costs on any charge category (the FinOps Foundation's own sample has
    # Microsoft Usage rows with small negative costs: refunds and rounding corrections), so this
    # check is `warn` in severity.yml: it names the rows for a look and never blocks the day.
    return expect(
        "ExpectColumnValuesToBeBetween",
        f"negative_amount.{column}",
        f"{column} is negative on a Usage, Purchase or Tax row: legal in FOCUS (a refund or a "
        "correction), reported for a look, never blocks",
        column=column,
        min_value=0,
        row_condition=row_condition,
    )


def row_expectations(start: date, end: date) -> list:
    signed = column_is_not_in("charge_category", SIGNED_CATEGORIES)
    return [
        *row_checks(DATASET, start, end),
        *(negative_amount(c, signed) for c in COSTS),
        currency_check("billing_currency"),
        in_set("charge_category", CHARGE_CATEGORIES),
    ]
