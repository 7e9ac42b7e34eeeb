"""A half-open UTC time window [start, end): the unit every extraction and every run works on.

A window of whole days (``Window(date(2026, 10, 1), date(2026, 11, 1))``) is what the
daily pipeline passes from step to step; the extractors cut it into chunks and add
their lookback in hours or days.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


def midnight(day: date) -> datetime:
    """The start of a UTC day."""
    return datetime.combine(day, time(), tzinfo=UTC)


def to_utc(value: date | datetime) -> datetime:
    """A date means midnight UTC; a naive datetime is read as UTC."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return midnight(value)
    raise TypeError(f"expected a date or datetime, got {type(value).__name__}: {value!r}")


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}") from None


def days_between(start: date, end: date) -> list[date]:
    """Every date in [start, end)."""
    return [start + timedelta(days=i) for i in range((end - start).days)]


def _text(moment: datetime) -> str:
    """A midnight as its date, any other moment in full."""
    return moment.date().isoformat() if moment.time() == time() else moment.isoformat()


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def __init__(self, start: date | datetime, end: date | datetime):
        start_utc, end_utc = to_utc(start), to_utc(end)
        if not start_utc < end_utc:
            raise ValueError(
                "empty data window: window start must be before end: "
                f"[{start_utc.isoformat()}, {end_utc.isoformat()})"
            )
        object.__setattr__(self, "start", start_utc)
        object.__setattr__(self, "end", end_utc)

    @classmethod
    def parse(cls, start: str, end: str) -> Window:
        return cls(parse_day(start), parse_day(end))

    @property
    def start_date(self) -> date:
        return self.start.date()

    @property
    def end_date(self) -> date:
        """The date of ``end``: for a window of whole days, the first day after it."""
        return self.end.date()

    def days(self) -> list[date]:
        """Every UTC date the window touches."""
        last = (self.end - timedelta(microseconds=1)).date()
        return days_between(self.start_date, last + timedelta(days=1))

    def with_lookback(self, days: int) -> Window:
        if days < 0:
            raise ValueError(f"lookback must be >= 0 days, got {days}")
        return Window(self.start - timedelta(days=days), self.end)

    def contains(self, moment: datetime) -> bool:
        return self.start <= to_utc(moment) < self.end

    def chunks(self, length: timedelta) -> Iterator[Window]:
        """Consecutive half-open pieces of at most `length`; they never overlap."""
        if length <= timedelta(0):
            raise ValueError(f"chunk length must be positive, got {length}")
        cursor = self.start
        while cursor < self.end:
            stop = min(cursor + length, self.end)
            yield Window(cursor, stop)
            cursor = stop

    @property
    def start_unix(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_unix(self) -> int:
        return int(self.end.timestamp())

    def as_dict(self) -> dict[str, str]:
        """The window as text (an XCom, a run summary); a midnight reads as its date."""
        return {"start": _text(self.start), "end": _text(self.end)}

    @classmethod
    def from_dict(cls, d: Mapping[str, str]) -> Window:
        return cls(datetime.fromisoformat(d["start"]), datetime.fromisoformat(d["end"]))

    def __str__(self) -> str:
        return f"[{_text(self.start)}, {_text(self.end)})"
