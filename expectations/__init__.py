"""Great Expectations quality gates: landing (before dbt) and marts (before publishing).

Importing this package is cheap: GX, pandas and duckdb load on the first gate run.

    result = run_landing_gate(landing_root, start, end, data_docs_dir=home / "data_docs")
    result.raise_for_status()   # GateFailed names suite, dataset/source and checks
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from expectations.result import GateFailed, GateResult

__all__ = [
    "GateFailed",
    "GateResult",
    "run_intraday_marts_gate",
    "run_landing_gate",
    "run_marts_gate",
]


def run_landing_gate(
    landing_root: Path,
    start: date,
    end: date,
    *,
    data_docs_dir: Path,
    configured: list[dict[str, str]] | None = None,
) -> GateResult:
    """Landing partitions dated in [start, end): schema, keys, money, currencies, manifests,
    and a partition for every day of every ``configured`` source and dataset."""
    from expectations.gate import run_landing_gate as run

    return run(landing_root, start, end, data_docs_dir=data_docs_dir, configured=configured)


def run_marts_gate(
    warehouse_path: Path, start: date, end: date, *, data_docs_dir: Path
) -> GateResult:
    """The warehouse for [start, end): conservation, freshness, accepted values, ranges."""
    from expectations.gate import run_marts_gate as run

    return run(warehouse_path, start, end, data_docs_dir=data_docs_dir)


def run_intraday_marts_gate(
    warehouse_path: Path, spend_date: date, as_of, *, data_docs_dir: Path
) -> GateResult:
    """The intraday file: today's estimate (mart_ops__spend_today) as of ``as_of`` (a UTC
    datetime): only estimated, non-negative, attributed, of ``spend_date`` landed through
    ``as_of``, and equal in total to the priced usage."""
    from expectations.gate import run_intraday_marts_gate as run

    return run(warehouse_path, spend_date, as_of, data_docs_dir=data_docs_dir)
