"""Landing suites: one module per dataset declared in ``landing.schemas``.

Each module exposes ``DATASET`` and ``row_expectations(start, end)`` for the
batch of landed rows; the partitions of all datasets (manifests, schema,
completeness) are one batch checked by ``_common.partition_checks()``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from importlib import import_module, util

from expectations.suites.landing._generic import generic_row_expectations
from landing.schemas import DATASETS


def has_own_module(dataset_name: str) -> bool:
    return util.find_spec(f"{__name__}.{dataset_name}") is not None


def row_expectations_for(dataset_name: str) -> Callable[[date, date], list]:
    """The dataset's own ``row_expectations``, else the checks derived from its contract."""
    if dataset_name not in DATASETS:
        raise KeyError(f"no landed dataset {dataset_name!r} in landing.schemas")
    if has_own_module(dataset_name):
        return import_module(f"{__name__}.{dataset_name}").row_expectations
    dataset = DATASETS[dataset_name]
    return lambda start, end: generic_row_expectations(dataset, start, end)
