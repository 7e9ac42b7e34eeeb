"""OpenTelemetry GenAI spans: non-negative integer token counts (when the span has them)."""

from __future__ import annotations

from datetime import date

from expectations.suites.landing._common import non_negative_all, row_checks
from landing.schemas import OTEL_GENAI_SPANS as DATASET

TOKEN_COLUMNS = ["input_tokens", "output_tokens", "cached_input_tokens"]


def row_expectations(start: date, end: date) -> list:
    # Integer types are enforced per file by the partitions' schema check.
    return [*row_checks(DATASET, start, end), *non_negative_all(TOKEN_COLUMNS)]
