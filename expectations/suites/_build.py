"""Small helpers that build GX expectations tagged with a stable check id.

Every expectation carries ``meta["check"]``: the id that ``severity.yml``
patterns match and that gate reports name. GX is imported here lazily, only
when a suite is built.
"""

from __future__ import annotations

from typing import Any


def expect(kind: str, check: str, description: str, **kwargs: Any) -> Any:
    """``expect("ExpectColumnValuesToNotBeNull", "not_null.x", "...", column="x")``."""
    import great_expectations.expectations as gxe

    return getattr(gxe, kind)(meta={"check": check}, description=description, **kwargs)


def column_is_not_in(column: str, values: list[str]) -> Any:
    from great_expectations.expectations.row_conditions import Column

    return Column(column).is_not_in(values)


def column_equals(column: str, value: Any) -> Any:
    from great_expectations.expectations.row_conditions import Column

    return Column(column) == value


# Finite money: GX treats NaN as missing, so a ceiling also catches +/-inf.
MONEY_LIMIT = 1e15


def finite(column: str) -> Any:
    return expect(
        "ExpectColumnValuesToBeBetween",
        f"finite.{column}",
        f"{column} is a finite amount",
        column=column,
        min_value=-MONEY_LIMIT,
        max_value=MONEY_LIMIT,
    )


def non_negative(column: str, row_condition: Any = None, why: str = "") -> Any:
    extra = {"row_condition": row_condition} if row_condition is not None else {}
    return expect(
        "ExpectColumnValuesToBeBetween",
        f"non_negative.{column}",
        f"{column} is not negative{why}",
        column=column,
        min_value=0,
        **extra,
    )


def between(column: str, low: float, high: float, row_condition: Any = None, what: str = "") -> Any:
    extra = {"row_condition": row_condition} if row_condition is not None else {}
    return expect(
        "ExpectColumnValuesToBeBetween",
        f"range.{column}",
        f"{what or column} within {low}..{high}",
        column=column,
        min_value=low,
        max_value=high,
        **extra,
    )


def in_set(column: str, values: list, check: str | None = None, description: str = "") -> Any:
    return expect(
        "ExpectColumnValuesToBeInSet",
        check or f"accepted_values.{column}",
        description or f"{column} in {values}",
        column=column,
        value_set=list(values),
    )


def not_null(column: str) -> Any:
    return expect(
        "ExpectColumnValuesToNotBeNull",
        f"not_null.{column}",
        f"{column} is not null",
        column=column,
    )


def column_exists(column: str) -> Any:
    return expect(
        "ExpectColumnToExist", f"exists.{column}", f"column {column} exists", column=column
    )


def relation_usable(what: str) -> Any:
    """The ``relations`` batch holds one row per missing relation or column (empty: usable)."""
    description = f"{what} exist with their columns"
    return in_set("problem", [""], check="relation_usable", description=description)
