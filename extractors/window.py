"""A half-open UTC time window [start, end): the unit every extraction works on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


def to_utc(value: date | datetime) -> datetime:
    """A date means midnight UTC; a naive datetime is read as UTC."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    raise TypeError(f"expected a date or datetime, got {type(value).__name__}: {value!r}")


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}") from None


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def __init__(self, start: date | datetime, end: date | datetime):
        start_utc, end_utc = to_utc(start), to_utc(end)
        if not start_utc < end_utc:
            raise ValueError(
                f"window start must be before end: [{start_utc.isoformat()}, {end_utc.isoformat()})"
            )
        object.__setattr__(self, "start", start_utc)
        object.__setattr__(self, "end", end_utc)

    @classmethod
    def parse(cls, start: str, end: str) -> Window:
        return cls(parse_day(start), parse_day(end))

    def days(self) -> list[date]:
        """Every UTC date the window touches."""
        first = self.start.date()
        last = (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

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

    def __str__(self) -> str:
        def fmt(moment: datetime) -> str:
            return moment.date().isoformat() if moment.time() == time() else moment.isoformat()

        return f"[{fmt(self.start)}, {fmt(self.end)})"
