"""Great Expectations quality gates: landing (before dbt) and marts (before publishing).

Importing this package is cheap: GX, pandas and duckdb load on the first gate run.

    result = run_landing_gate(landing_root, start, end, data_docs_dir=home / "data_docs")
    result.raise_for_status()   # GateFailed names suite, dataset/source and checks

- ``run_landing_gate``: landing partitions dated in [start, end): schema, keys, money,
  currencies, manifests, and a partition for every day of every configured source.
- ``run_marts_gate``: the warehouse for [start, end): conservation, freshness, accepted
  values, ranges.
- ``run_intraday_marts_gate``: today's estimate (mart_ops__spend_today) as of a UTC
  time, before it is published.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from expectations.result import GateFailed, GateResult

if TYPE_CHECKING:
    from expectations.gate import run_intraday_marts_gate, run_landing_gate, run_marts_gate

__all__ = [
    "GateFailed",
    "GateResult",
    "run_intraday_marts_gate",
    "run_landing_gate",
    "run_marts_gate",
]

_GATES = ("run_intraday_marts_gate", "run_landing_gate", "run_marts_gate")


def __getattr__(name: str) -> Any:
    # The gates import pandas and GX: load them when a gate is first asked for.
    if name in _GATES:
        from expectations import gate

        return getattr(gate, name)
    raise AttributeError(f"module 'expectations' has no attribute {name!r}")
