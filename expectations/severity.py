"""Severity (block or warn) of each gate check, from ``expectations/severity.yml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

import yaml

SEVERITY_FILE = Path(__file__).with_name("severity.yml")
SEVERITIES = ("block", "warn")


@dataclass(frozen=True)
class SeverityConfig:
    default: str = "block"
    # (pattern, severity) in file order: the first match wins.
    checks: tuple[tuple[str, str], ...] = ()
    thresholds: dict = field(default_factory=dict)

    def severity_for(self, suite: str, check: str) -> str:
        key = f"{suite}.{check}"
        for pattern, severity in self.checks:
            if fnmatchcase(key, pattern):
                return severity
        return self.default

    def threshold(self, name: str) -> float:
        if name not in self.thresholds:
            raise KeyError(f"{SEVERITY_FILE.name}: thresholds.{name} is not set")
        return float(self.thresholds[name])


def _checked(severity: object, where: str) -> str:
    if severity not in SEVERITIES:
        raise ValueError(f"{where}: severity must be one of {SEVERITIES}, got {severity!r}")
    return str(severity)


def parse_severity(raw: dict, where: str = "severity config") -> SeverityConfig:
    raw = raw or {}
    checks = tuple(
        (str(pattern), _checked(severity, f"{where}: checks[{pattern!r}]"))
        for pattern, severity in (raw.get("checks") or {}).items()
    )
    return SeverityConfig(
        default=_checked(raw.get("default", "block"), f"{where}: default"),
        checks=checks,
        thresholds=dict(raw.get("thresholds") or {}),
    )


@lru_cache(maxsize=4)
def load_severity(path: Path = SEVERITY_FILE) -> SeverityConfig:
    with open(path, encoding="utf-8") as fh:
        return parse_severity(yaml.safe_load(fh), where=str(path))
