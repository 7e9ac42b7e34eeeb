from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from landing.window import Window


def test_days_of_a_half_open_window():
    window = Window.parse("2026-10-30", "2026-11-02")
    assert window.days() == [date(2026, 10, 30), date(2026, 10, 31), date(2026, 11, 1)]
    assert window.start == datetime(2026, 10, 30, tzinfo=UTC)
    assert window.contains(datetime(2026, 11, 1, 23, 59, tzinfo=UTC))
    assert not window.contains(datetime(2026, 11, 2, tzinfo=UTC))
    assert str(window) == "[2026-10-30, 2026-11-02)"


def test_lookback_moves_only_the_start():
    window = Window(date(2026, 10, 10), date(2026, 10, 11)).with_lookback(3)
    assert window.days()[0] == date(2026, 10, 7) and window.days()[-1] == date(2026, 10, 10)


def test_aware_datetimes_are_converted_to_utc_and_naive_read_as_utc():
    plus2 = timezone(timedelta(hours=2))
    window = Window(datetime(2026, 10, 10, 2, tzinfo=plus2), datetime(2026, 10, 10, 12))
    assert window.start == datetime(2026, 10, 10, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 10, 10, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end"), [("2026-10-02", "2026-10-01"), ("2026-10-01", "2026-10-01")]
)
def test_start_must_be_before_end(start, end):
    with pytest.raises(ValueError, match="start must be before end"):
        Window.parse(start, end)


def test_bad_date_text_is_named():
    with pytest.raises(ValueError, match="not a YYYY-MM-DD date: '2026-13-01'"):
        Window.parse("2026-13-01", "2026-12-01")


def test_chunks_are_half_open_and_cover_the_window():
    window = Window.parse("2026-10-01", "2026-10-03")
    chunks = list(window.chunks(timedelta(hours=20)))
    assert [c.start.hour for c in chunks] == [0, 20, 16]
    assert chunks[0].end == chunks[1].start and chunks[-1].end == window.end
