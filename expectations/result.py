"""What a gate run returns: findings split into blocking failures and warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any


class GateFailed(RuntimeError):
    """A gate found at least one blocking failure; the message lists them."""

    def __init__(self, result: GateResult):
        self.result = result
        super().__init__(result.summary())


@dataclass
class GateResult:
    gate: str
    start: date
    end: date
    success: bool
    blocking_failures: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    data_docs_index: Path | None = None

    def summary(self) -> str:
        verdict = "passed" if self.success else "BLOCKED"
        lines = [
            f"{self.gate} gate {verdict} for window [{self.start}, {self.end}): "
            f"{len(self.blocking_failures)} blocking failure(s), {len(self.warnings)} warning(s)"
        ]
        for label, findings in (("BLOCK", self.blocking_failures), ("WARN", self.warnings)):
            lines.extend(f"  {label} {describe(f)}" for f in findings)
        if self.data_docs_index:
            lines.append(f"  data docs: {self.data_docs_index}")
        return "\n".join(lines)

    def raise_for_status(self) -> GateResult:
        if not self.success:
            raise GateFailed(self)
        return self


def describe(finding: dict) -> str:
    where = f" column {finding['column']}" if finding.get("column") else ""
    sources = f" [source {', '.join(finding['sources'])}]" if finding.get("sources") else ""
    return f"{finding['suite']} / {finding['expectation']}{where}{sources}: {finding['reason']}"


def _short(values: list, limit: int = 5) -> str:
    shown = ", ".join(repr(_plain(v)) for v in values[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def _plain(value: Any) -> Any:
    """numpy/pandas scalars -> Python scalars, so messages and JSON read cleanly."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _raised(info: Any) -> dict:
    """GX reports exceptions either at the top level or keyed by metric id."""
    if not isinstance(info, dict):
        return {}
    if info.get("raised_exception"):
        return info
    nested = (v for v in info.values() if isinstance(v, dict) and v.get("raised_exception"))
    return next(nested, {})


def finding_from(suite: str, evr: Any, severity: str, dataset: str | None) -> dict:
    """A small dict from one GX ExpectationValidationResult that did not succeed."""
    config = evr.expectation_config
    kwargs = config.kwargs
    columns = kwargs.get("column_list") or [kwargs.get("column_A"), kwargs.get("column_B")]
    column = kwargs.get("column") or ", ".join(str(c) for c in columns if c)
    result = evr.result or {}
    locators = [
        row.get("locator")
        for row in result.get("partial_unexpected_index_list") or []
        if isinstance(row, dict) and row.get("locator") is not None
    ]
    exception = _raised(evr.exception_info)
    if exception:
        observed = None
        reason = f"could not be evaluated: {exception.get('exception_message')}"
    elif "unexpected_count" in result:
        observed = [_plain(v) for v in result.get("partial_unexpected_list") or []]
        reason = (
            f"{result['unexpected_count']} of {result.get('element_count')} rows unexpected, "
            f"e.g. {_short(observed)}"
        )
        if locators:
            reason += f" at {_short(locators)}"
    else:
        observed = _plain(result.get("observed_value"))
        reason = f"observed {observed!r}"
    reason += f" (expected: {config.description or config.type})"
    # Landing locators read "<source>:<record_ref>" (rows) or "<source>/<dataset>/date=..."
    # (partitions); marts locators name dates or relations, not sources.
    sources = []
    if suite.startswith("landing."):
        sources = sorted({str(loc).split(":")[0].split("/")[0] for loc in locators} - {"-"})
        if dataset is None:
            found = sorted({str(loc).split("/")[1] for loc in locators if str(loc).count("/") >= 2})
            dataset = ", ".join(found) or None
    return {
        "suite": suite,
        "expectation": config.meta.get("check", config.type),
        "expectation_type": config.type,
        "column": column or None,
        "observed": observed,
        "reason": reason,
        "severity": severity,
        "dataset": dataset,
        "sources": sources,
    }
