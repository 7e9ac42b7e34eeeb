"""Checks every landed dataset gets, derived from its contract in ``landing.schemas``.

Per dataset, a batch of ``rows`` (the landed rows of the window's partitions,
plus a ``locator`` column "<source_name>:<record_ref>" that names each row in
reports); for the whole gate, one batch of ``partitions`` (one row per dataset
× source × day of the window, computed from the files and their
``_manifest.json``; locator "<source>/<dataset>/date=YYYY-MM-DD").
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa

from expectations.suites._build import expect, finite, in_set, non_negative, not_null
from expectations.suites.currencies import ISO_4217
from landing.schemas import Dataset


def _utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def money_columns(dataset: Dataset) -> list[str]:
    return [f.name for f in dataset.schema if pa.types.is_decimal(f.type)]


def row_checks(dataset: Dataset, start: date, end: date) -> list:
    """Not-null required columns, a unique key, and the dating column inside the window."""
    checks = [not_null(f.name) for f in dataset.schema if not f.nullable]
    key = list(dataset.key)
    if len(key) == 1:
        checks.append(
            expect(
                "ExpectColumnValuesToBeUnique",
                "unique_key",
                f"key {key[0]} is unique",
                column=key[0],
            )
        )
    else:
        checks.append(
            expect(
                "ExpectCompoundColumnsToBeUnique",
                "unique_key",
                f"key ({', '.join(key)}) is unique",
                column_list=key,
            )
        )
    checks.append(
        expect(
            "ExpectColumnValuesToBeBetween",
            f"in_window.{dataset.partition_by}",
            f"{dataset.partition_by} inside the window [{start}, {end})",
            column=dataset.partition_by,
            min_value=_utc_midnight(start),
            max_value=_utc_midnight(end),
            strict_max=True,
        )
    )
    checks.extend(finite(column) for column in money_columns(dataset))
    return checks


def currency_check(column: str) -> object:
    return in_set(
        column,
        sorted(ISO_4217),
        check=f"iso_4217.{column}",
        description=f"{column} is an upper-case ISO 4217 code",
    )


def non_negative_all(columns: list[str]) -> list:
    return [non_negative(column) for column in columns]


def configured_source_checks() -> list:
    """Each configured source landed (or recorded as empty) every day of the window."""
    return [
        in_set(
            "missing",
            [""],
            check="configured_source_landed",
            description="every configured source landed, or recorded as empty, every day "
            "of the window (a source that failed or never ran holds the day)",
        ),
    ]


def partition_checks() -> list:
    """Manifest agreement, schema, and one partition per source and day of the window."""
    return [
        in_set(
            "has_partitions_in_window",
            [True],
            check="partitions_landed",
            description="the dataset has at least one partition in the window",
        ),
        in_set(
            "is_present",
            [True],
            check="partition_present",
            description="every source that landed this dataset, or is configured to, has a "
            "partition for every day",
        ),
        in_set(
            "manifest_problem",
            [""],
            check="manifest_readable",
            description="the partition has a readable _manifest.json with rows_loaded",
        ),
        expect(
            "ExpectColumnPairValuesToBeEqual",
            "manifest_row_count",
            "rows in the parquet files equal the manifest's rows_loaded",
            column_A="rows_in_files",
            column_B="manifest_rows_loaded",
            # an unreadable manifest is reported once, by manifest_readable
            ignore_row_if="either_value_is_missing",
        ),
        in_set(
            "schema_diff",
            [""],
            check="schema_matches",
            description="every file has exactly the declared columns, order and types",
        ),
    ]
