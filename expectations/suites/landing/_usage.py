"""Token checks shared by the OpenAI usage datasets (completions, embeddings)."""

from __future__ import annotations

from datetime import date

from expectations.suites._build import expect
from expectations.suites.landing._common import non_negative_all, row_checks
from landing.schemas import Dataset

TOKEN_COLUMNS = [
    "input_tokens",
    "input_cached_tokens",
    "output_tokens",
    "input_audio_tokens",
    "output_audio_tokens",
    "num_model_requests",
]


def usage_row_expectations(dataset: Dataset, start: date, end: date) -> list:
    # Integer types are enforced per file by the partitions' schema check.
    return [
        *row_checks(dataset, start, end),
        *non_negative_all(TOKEN_COLUMNS),
        expect(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            "cached_within_input",
            "input_tokens include input_cached_tokens, so cached <= input",
            column_A="input_tokens",
            column_B="input_cached_tokens",
            or_equal=True,
        ),
    ]
