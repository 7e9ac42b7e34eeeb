"""Source options: one frozen dataclass per source type, checked by ``parse_options``.

A field's type and default say what the source reads; its rule (``option(..., rule)``)
says what the sources file may hold, so a typo is one ConfigError naming the source
and the key before any work starts, never a traceback. The same option name means
the same in every source, so each rule is written here once.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from extractors.errors import ConfigError, redact_urls
from extractors.secrets import SecretRef

# A provider restates at most the last billing month or two; 400 days re-pulls a year
# and a month. Beyond that a value is a typo (100000000 days would reach before year 1
# and overflow the window), not a lookback.
MAX_LOOKBACK_DAYS = 400


def shown(value: Any) -> str:
    """An option value as a message may echo it: short, and with URL credentials removed."""
    text = redact_urls(repr(value))
    return text if len(text) <= 80 else text[:77] + "..."


class Rule:
    """What one option accepts. ``what`` completes "must be ..."."""

    what = ""

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError

    def complaint(self, name: str, value: Any) -> str | None:
        """The message (after ``source 'x': ``) for a value it refuses, else None."""
        if self.accepts(value):
            return None
        return f"option {name!r} must be {self.what}, got {shown(value)}"


@dataclass(frozen=True)
class Number(Rule):
    what: str
    integer: bool = False
    minimum: float = 0
    above: bool = False  # minimum itself is not allowed
    maximum: float | None = None

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False  # YAML gave a string ("30s", "many") or a list
        if self.integer and not isinstance(value, int):
            return False
        if value != value or (value <= self.minimum if self.above else value < self.minimum):
            return False
        return self.maximum is None or value <= self.maximum


@dataclass(frozen=True)
class Timeout(Rule):
    """Seconds: one number for connect and read, or a [connect, read] pair."""

    seconds: Number

    @property
    def what(self) -> str:  # type: ignore[override]
        return f"{self.seconds.what}, or a [connect, read] pair of them"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, list | tuple):
            return len(value) == 2 and all(self.seconds.accepts(v) for v in value)
        return self.seconds.accepts(value)

    def complaint(self, name: str, value: Any) -> str | None:
        if not isinstance(value, list | tuple) and not self.seconds.accepts(value):
            return self.seconds.complaint(name, value)
        return super().complaint(name, value)


@dataclass(frozen=True)
class OneOf(Rule):
    choices: tuple[str, ...]

    @property
    def what(self) -> str:  # type: ignore[override]
        return f"one of {sorted(self.choices)}"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.choices


class Flag(Rule):
    what = "true or false"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)


class HttpUrl(Rule):
    what = "an http(s) URL"

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.netloc)


class NonEmptyText(Rule):
    def complaint(self, name: str, value: Any) -> str | None:
        return None if isinstance(value, str) and value else f"{name} must be a non-empty string"


class IsoDate(Rule):
    def complaint(self, name: str, value: Any) -> str | None:
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return f"{name} must be a date YYYY-MM-DD, got {shown(value)}"
        return None


class TimeZone(Rule):
    def complaint(self, name: str, value: Any) -> str | None:
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            return f"{name} must be an IANA name such as Europe/Berlin, got {value!r}"
        return None


@dataclass(frozen=True)
class PatternWithGroup(Rule):
    """A regular expression with a named group the source reads."""

    group: str

    def complaint(self, name: str, value: Any) -> str | None:
        try:
            pattern = re.compile(value)
        except re.error as exc:
            return f"{name} is not a regex: {exc}"
        if self.group not in pattern.groupindex:
            return f"{name} needs a (?P<{self.group}>...) group"
        return None


@dataclass(frozen=True)
class SubsetOf(Rule):
    choices: tuple[str, ...]

    def complaint(self, name: str, value: Any) -> str | None:
        unknown = set(value) - set(self.choices)
        return f"unknown {name} {sorted(unknown)}" if unknown else None


SECONDS = Number("a number of seconds > 0 (at most 3600)", minimum=0, above=True, maximum=3600)
LOOKBACK_DAYS = Number(
    f"an integer number of days from 0 to {MAX_LOOKBACK_DAYS} (a provider restates "
    "at most a month or two back)",
    integer=True,
    maximum=MAX_LOOKBACK_DAYS,
)
RETRY_TOTAL = Number("an integer number of retries from 0 to 100", True, maximum=100)
BACKOFF_FACTOR = Number("a number of seconds from 0 to 600", maximum=600)
CONNECT_TIMEOUT = Number(
    "an integer number of seconds from 1 to 3600", True, minimum=1, maximum=3600
)
PAGE_LIMIT = Number("an integer from 1 to 10000", True, minimum=1, maximum=10_000)
BLOCK_SIZE_MIB = Number("an integer number of MiB from 1 to 1024", True, 1, False, 1024)
STEP_SECONDS = Number(
    "an integer number of seconds from 1 to 86400", True, minimum=1, maximum=86_400
)
CHUNK_HOURS = Number("a number of hours > 0 (at most 8784)", False, 0, True, 8784)


def option(default: Any = dataclasses.MISSING, rule: Rule | None = None) -> Any:
    """A field of an options dataclass; without a default the option is required."""
    return field(default=default, metadata={"rule": rule})


def secret() -> Any:
    """A required option naming where a secret lives (see ``extractors.secrets``)."""
    return field(metadata={"secret": True})


@dataclass(frozen=True, kw_only=True)
class SourceOptions:
    """The options every source takes."""

    datasets: list[str] | None = None  # the offered datasets to extract; default all
    lookback_days: int = option(0, LOOKBACK_DAYS)
    allow_added_columns: bool = option(False, Flag())
    # First day the source has data for (YYYY-MM-DD): earlier days do not wait for
    # it to be final (ops_day_status), e.g. a source added to a running warehouse.
    active_from: str | None = option(None, IsoDate())

    def check(self, source: str) -> None:
        """What spans several options; raises ConfigError. Each field is already checked."""


@dataclass(frozen=True, kw_only=True)
class FileSourceOptions(SourceOptions):
    path: str = option()


@dataclass(frozen=True, kw_only=True)
class HttpSourceOptions(SourceOptions):
    """An API source: its URL and its retry policy, whose defaults are RetryPolicy's
    (``extractors.http``, which reads these options)."""

    base_url: str = option(rule=HttpUrl())
    retry_total: int | None = option(None, RETRY_TOTAL)
    retry_backoff_factor: float | None = option(None, BACKOFF_FACTOR)
    retry_backoff_max: float | None = option(None, SECONDS)
    retry_after_max: float | None = option(None, SECONDS)
    timeout: float | list[float] | None = option(None, Timeout(SECONDS))


OptionsT = TypeVar("OptionsT", bound=SourceOptions)


def parse_options(
    spec: type[OptionsT],
    options: Mapping[str, Any],
    *,
    source: str,
    source_type: str,
    datasets: Collection[str],
) -> OptionsT:
    """``options`` of one source as ``spec``, or a ConfigError naming the source and key.

    ``datasets`` are the names the source type offers for its ``datasets`` option.
    """
    fields = {f.name: f for f in dataclasses.fields(spec)}
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise ConfigError(
            f"source {source!r} ({source_type}): unknown options {unknown}; "
            f"allowed: {sorted(fields)}"
        )
    required = [name for name, f in fields.items() if _required(f)]
    missing = [name for name in required if options.get(name) in (None, "")]
    if missing:
        raise ConfigError(f"source {source!r} ({source_type}): missing options {missing}")
    for name, f in fields.items():
        if f.metadata.get("secret"):
            SecretRef.from_option(source, name, options[name])
    for name, f in fields.items():
        rule = f.metadata.get("rule")
        complaint = rule.complaint(name, options[name]) if rule and name in options else None
        if complaint:
            raise ConfigError(f"source {source!r}: {complaint}")
    _check_datasets(options.get("datasets", list(datasets)), source, source_type, datasets)
    parsed = spec(**options)
    parsed.check(source)
    return parsed


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _check_datasets(selected: Any, source: str, source_type: str, offered: Collection[str]) -> None:
    if not isinstance(selected, list) or not selected:
        raise ConfigError(f"source {source!r}: datasets must be a non-empty list")
    bad = [d for d in selected if d not in offered]
    if bad:
        raise ConfigError(
            f"source {source!r}: unknown datasets {bad}; {source_type} offers {sorted(offered)}"
        )
