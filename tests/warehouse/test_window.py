from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from landing.window import Window
from warehouse.pipeline import resolve_window


def _utc(*a):
    return datetime(*a, tzinfo=UTC)


def test_params_win_over_the_data_interval():
    w = resolve_window(
        {"start": "2026-10-02", "end": "2026-11-01"}, _utc(2026, 11, 20), _utc(2026, 11, 21)
    )
    assert w == Window(date(2026, 10, 2), date(2026, 11, 1))


def test_scheduled_run_takes_its_data_interval():
    w = resolve_window({}, _utc(2026, 11, 20), _utc(2026, 11, 21))
    assert w == Window(date(2026, 11, 20), date(2026, 11, 21))


def test_point_interval_means_the_day_before():
    w = resolve_window(None, _utc(2026, 11, 21), _utc(2026, 11, 21))
    assert w == Window(date(2026, 11, 20), date(2026, 11, 21))


def test_half_given_params_are_refused():
    with pytest.raises(ValueError, match="both `start` and `end`"):
        resolve_window({"start": "2026-10-02"}, None, None)


def test_no_interval_and_no_params_is_refused():
    with pytest.raises(ValueError, match="no data interval"):
        resolve_window({}, None, None)


def test_empty_window_is_refused():
    with pytest.raises(ValueError, match="empty data window"):
        Window(date(2026, 10, 2), date(2026, 10, 2))
