"""The two gates: landing (before dbt) and marts (before publishing)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from expectations.result import GateResult, finding_from
from expectations.severity import SeverityConfig, load_severity


def _check_window(gate: str, start: date, end: date) -> None:
    if not start < end:
        raise ValueError(f"{gate} gate: window start {start} must be before end {end}")


def _to_gate_result(
    gate: str,
    start: date,
    end: date,
    checkpoint_result: Any,
    severity: SeverityConfig,
    data_docs_dir: Path,
    datasets: Mapping[str, str | None],
) -> GateResult:
    blocking: list[dict] = []
    warnings: list[dict] = []
    for suite_result in checkpoint_result.run_results.values():
        suite = suite_result.suite_name
        for evr in suite_result.results:
            if evr.success:
                continue
            check = evr.expectation_config.meta.get("check", evr.expectation_config.type)
            level = severity.severity_for(suite, check)
            finding = finding_from(suite, evr, level, datasets.get(suite))
            (blocking if level == "block" else warnings).append(finding)
    index = Path(data_docs_dir) / "index.html"
    return GateResult(
        gate=gate,
        start=start,
        end=end,
        success=not blocking,
        blocking_failures=blocking,
        warnings=warnings,
        data_docs_index=index if index.exists() else None,
    )


def run_landing_gate(
    landing_root: Path,
    start: date,
    end: date,
    *,
    data_docs_dir: Path,
    configured: list[dict[str, str]] | None = None,
) -> GateResult:
    """Validate every landed dataset's partitions dated inside [start, end).

    ``configured`` lists the (source, dataset[, active_from]) the sources file sets
    up (warehouse.pipeline.configured_datasets): each must have a partition, landed
    or explicitly empty, for every day of the window, or the gate blocks naming it.
    """
    from expectations.gx_context import run_checkpoint
    from expectations.landing_data import (
        configured_sources_frame,
        find_partitions,
        partitions_frame,
        rows_frame,
    )
    from expectations.suites.landing import row_expectations_for
    from expectations.suites.landing._common import configured_source_checks, partition_checks
    from landing.schemas import DATASETS

    _check_window("landing", start, end)
    landing_root = Path(landing_root)
    if not landing_root.is_dir():
        raise FileNotFoundError(f"landing gate: landing root {landing_root} is not a directory")
    frames, suites, datasets, partitions = {}, {}, {}, []
    for name, dataset in DATASETS.items():
        found = find_partitions(landing_root, dataset, start, end)
        frames[f"{name}.rows"] = rows_frame(dataset, found)
        suites[f"{name}.rows"] = row_expectations_for(name)(start, end)
        datasets[f"landing.{name}.rows"] = name
        expected = {
            item["source"]: date.fromisoformat(str(item["active_from"]))
            if item.get("active_from")
            else None
            for item in configured or []
            if item["dataset"] == name
        }
        partitions.append(partitions_frame(dataset, start, end, found, expected))
    frames["partitions"] = pd.concat(partitions, ignore_index=True)
    suites["partitions"] = partition_checks()
    if configured:
        frames["configured_sources"] = configured_sources_frame(frames["partitions"], configured)
        suites["configured_sources"] = configured_source_checks()
    result = run_checkpoint("landing", frames, suites, data_docs_dir=data_docs_dir)
    return _to_gate_result("landing", start, end, result, load_severity(), data_docs_dir, datasets)


def run_marts_gate(
    warehouse_path: Path, start: date, end: date, *, data_docs_dir: Path
) -> GateResult:
    """Validate the warehouse built for [start, end) before it is published."""
    from expectations.gx_context import run_checkpoint
    from expectations.marts_data import read_marts
    from expectations.suites.marts import expectations_by_batch

    _check_window("marts", start, end)
    severity = load_severity()
    frames = read_marts(Path(warehouse_path), start, end)
    suites = expectations_by_batch(start, end, severity.threshold("max_unallocated_share"))
    result = run_checkpoint("marts", frames, suites, data_docs_dir=data_docs_dir)
    return _to_gate_result("marts", start, end, result, severity, data_docs_dir, {})


def run_intraday_marts_gate(
    warehouse_path: Path, spend_date: date, as_of: Any, *, data_docs_dir: Path
) -> GateResult:
    """Validate the next intraday file (mart_ops__spend_today of ``spend_date`` as of
    ``as_of``) before it is published."""
    from datetime import timedelta

    from expectations.gx_context import run_checkpoint
    from expectations.marts_data import read_spend_today
    from expectations.suites.marts_intraday import expectations_by_batch

    end = spend_date + timedelta(days=1)
    frames = read_spend_today(Path(warehouse_path), spend_date, as_of)
    suites = expectations_by_batch(spend_date, as_of)
    result = run_checkpoint("intraday_marts", frames, suites, data_docs_dir=data_docs_dir)
    return _to_gate_result(
        "intraday_marts", spend_date, end, result, load_severity(), data_docs_dir, {}
    )
