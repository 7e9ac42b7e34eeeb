"""What the reports do with a period that has nothing published, a held-back period, and
a mart that lost a column."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from reports.marts import MartColumnMissing, Period
from reports.run import leadership_report, weekly_reports
from tests.reports.report_helpers import copy_home, flat_text, sql


@pytest.fixture
def settings(month_home, tmp_path):
    return copy_home(month_home, tmp_path / "home")


def _money_in(text: str) -> list[str]:
    return re.findall(r"\$\s?[\d,]+\.\d\d", text)


@pytest.mark.parametrize("grain, key", [("week", "2026-W45"), ("month", "2026-11")])
def test_an_empty_period_renders_the_no_published_data_page(settings, grain, key):
    run = leadership_report(settings, Period.parse(grain, key))
    assert run.status == "no_data"
    for path in run.files.values():
        text = flat_text(path) if path.endswith(".pdf") else open(path, encoding="utf-8").read()
        assert "No published data for this period" in text
        assert _money_in(text) == [], "an empty period must show no amount, not $0.00"


def test_a_week_of_a_team_with_nothing_published_renders_no_zeros(settings):
    (run,) = weekly_reports(settings, Period.parse("week", "2026-W45"), teams=["growth"])
    text = flat_text(run.files["pdf"])
    assert run.status == "no_data" and "No published data for this period" in text
    assert _money_in(text) == []


def test_a_period_with_a_day_not_final_is_not_reportable(settings):
    from reports.marts import PublishedMarts

    with PublishedMarts(settings.warehouse_file, "test", settings.ops_dir) as marts:
        assert marts.not_reportable(Period.parse("month", "2026-10")) is None
        why = marts.not_reportable(Period.parse("week", "2026-W44"))
    assert "1 of its 7 days is not published final (2026-11-01)" in why


def test_a_gate_that_blocked_after_the_last_publish_holds_the_period_back(settings):
    hold_back(settings, date(2026, 10, 20), date(2026, 10, 21))
    run = leadership_report(settings, Period.parse("week", "2026-W43"), require_final=True)
    assert run.status == "skipped" and run.files == {}
    assert "gate run blocked-run over 2026-10-20 .. 2026-10-21" in run.reason
    # Another week is not touched by that window.
    assert (
        leadership_report(settings, Period.parse("week", "2026-W42"), require_final=True).status
        == "rendered"
    )


def hold_back(settings, start: date, end: date) -> None:
    """Record a blocked marts gate run over [start, end), later than the last publication."""
    from types import SimpleNamespace

    from warehouse.quality_log import record_gate_run

    ((published,),) = sql(settings, "select max(published_at) from ops_publications")
    result = SimpleNamespace(
        gate="marts",
        start=start,
        end=end,
        success=False,
        blocking_failures=[{"reason": "conservation broken"}],
        warnings=[],
        data_docs_index=None,
    )
    later = max(published.astimezone(UTC), datetime(2026, 11, 1, tzinfo=UTC))
    record_gate_run(settings.ops_dir, result, "blocked-run", recorded_at=later + timedelta(hours=1))


def test_a_mart_without_a_needed_column_fails_naming_the_mart_and_the_column(settings):
    sql(settings, "alter table mart_leadership__roi_summary drop column credited_value")
    with pytest.raises(MartColumnMissing) as failure:
        leadership_report(settings, Period.parse("month", "2026-10"))
    message = str(failure.value)
    assert "credited_value" in message and "mart_leadership__roi_summary" in message
    assert "leadership ROI report" in message


def test_a_missing_seed_column_is_named_too(settings):
    sql(settings, "alter table team_leads drop column email")
    with pytest.raises(MartColumnMissing, match=r"email of the mart team_leads"):
        weekly_reports(settings, Period.parse("week", "2026-W43"), teams=["growth"])
