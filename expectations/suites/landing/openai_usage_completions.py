"""OpenAI Usage API completions buckets: non-negative integer token counts."""

from __future__ import annotations

from datetime import date

from expectations.suites.landing._usage import usage_row_expectations
from landing.schemas import OPENAI_USAGE_COMPLETIONS as DATASET


def row_expectations(start: date, end: date) -> list:
    return usage_row_expectations(DATASET, start, end)
