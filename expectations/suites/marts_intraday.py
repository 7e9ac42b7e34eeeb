"""Intraday marts suite (``intraday_marts.<batch>``): today's estimate before it is published.

One suite per batch read by ``expectations.marts_data.read_spend_today``.
"""

from __future__ import annotations

from datetime import date, datetime

from expectations.suites._build import (
    expect,
    finite,
    in_set,
    non_negative,
    not_null,
    relation_usable,
)
from expectations.suites.marts import CENT


def expectations_by_batch(spend_date: date, as_of: datetime) -> dict[str, list]:
    return {
        "relations": [
            relation_usable("mart_ops__spend_today and the priced usage it is checked against")
        ],
        "spend_today": [
            in_set("cost_basis", ["estimated"], description="cost_basis is always 'estimated'"),
            not_null("estimated_cost"),
            finite("estimated_cost"),
            non_negative("estimated_cost"),
            not_null("team"),
            in_set(
                "spend_date",
                [spend_date.isoformat()],
                check="as_of.spend_date",
                description=f"every row is of {spend_date} (today's estimate only)",
            ),
            in_set(
                "as_of_problem",
                [""],
                check="as_of.landed_through",
                description=f"as_of_at is the run's as-of {as_of.isoformat()}, inside "
                f"{spend_date}: every source landed the day up to it",
            ),
        ],
        "conservation": [
            expect(
                "ExpectColumnValuesToBeBetween",
                "conservation",
                f"mart_ops__spend_today's total for {spend_date} equals the priced usage "
                "(int_token_usage_priced, each call counted once) to the cent",
                column="difference",
                min_value=-CENT,
                max_value=CENT,
                strict_min=True,
                strict_max=True,
            ),
        ],
    }
