"""The reports DAG through Airflow's dag.test() on the month-long demo warehouse: a run of
its schedule, a run the published-marts Asset starts, a rerun, and a held-back week.

dag.test() always creates a manual run, so the asset-triggered run is reproduced by its
shape: an asset event's run has no logical date and no data interval, only run_after
(the test of the timetable itself, AssetOrTimeSchedule over the daily DAG's outlet, is
in test_dag_integrity.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.reports.report_helpers import copy_home
from tests.reports.test_report_bad_input import hold_back


@pytest.fixture
def settings(month_home, tmp_path, monkeypatch):
    settings = copy_home(month_home, tmp_path / "home")
    monkeypatch.setenv("COSTBRIDGE_HOME", str(settings.home))
    return settings


@pytest.fixture
def reports_dag(dagbag, monkeypatch):
    dag = dagbag.dags["ai_finops_reports"]
    for t in dag.tasks:
        monkeypatch.setattr(t, "retries", 0)  # a failure would only wait here
    return dag


def _states(dagrun) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in dagrun.get_task_instances()}


def _recipients(mailbox) -> list[tuple[str, str]]:
    return sorted((m["X-Costbridge-Report"], r) for rcpts, m in mailbox.messages for r in rcpts)


@pytest.mark.slow
def test_the_monday_schedule_reports_last_month_and_skips_a_week_still_landing(
    reports_dag, settings, smtp_server
):
    mailbox = smtp_server()
    # Monday 2 November 06:00 UTC: the week of 26 October ends on 1 November, not final yet.
    dagrun = reports_dag.test(logical_date=datetime(2026, 11, 2, 6, tzinfo=UTC))

    assert dagrun.state == "success"
    assert _states(dagrun) == {
        "plan": "success",
        "weekly_team_reports": "skipped",
        "leadership_weekly": "skipped",
        "leadership_monthly": "success",
    }
    assert {key for key, _ in _recipients(mailbox)} == {"report:leadership-monthly:2026-10"}
    assert len(_recipients(mailbox)) == 3
    reports = settings.home / "reports"
    assert (reports / "leadership-monthly" / "2026-10" / "report.pdf").exists()
    assert not (reports / "weekly-team" / "2026-W44").exists()
    assert 'href="leadership-monthly/2026-10/report.pdf"' in (reports / "index.html").read_text()


@pytest.mark.slow
def test_a_publication_reports_the_week_it_completed_once(reports_dag, settings, smtp_server):
    mailbox = smtp_server()
    # The run an asset event starts: no logical date, no data interval; the publication of
    # 25 October finished on the 26th.
    published = datetime(2026, 10, 26, 8, tzinfo=UTC)
    dagrun = reports_dag.test(logical_date=None, run_after=published)

    assert dagrun.state == "success"
    assert dagrun.logical_date is None and dagrun.data_interval_start is None
    assert _states(dagrun) == {
        "plan": "success",
        "weekly_team_reports": "success",
        "leadership_weekly": "success",
        # September has no published day: nothing to tell, skipped.
        "leadership_monthly": "skipped",
    }
    sent = _recipients(mailbox)
    assert sum(key.startswith("report:weekly-team:2026-W43:") for key, _ in sent) == 6
    assert sum(key == "report:leadership-weekly:2026-W43" for key, _ in sent) == 2
    pdf = settings.home / "reports" / "weekly-team" / "2026-W43" / "growth.pdf"
    written = pdf.stat().st_mtime_ns

    # The next publication starts another run: the week is archived and mailed already.
    again = reports_dag.test(logical_date=None, run_after=published.replace(hour=9))
    assert again.state == "success"
    assert _states(again)["weekly_team_reports"] == "skipped"
    assert _states(again)["leadership_weekly"] == "skipped"
    assert _recipients(mailbox) == sent
    assert pdf.stat().st_mtime_ns == written


@pytest.mark.slow
def test_a_week_the_gates_held_back_is_not_reported(reports_dag, settings, smtp_server):
    mailbox = smtp_server()
    hold_back(settings, date(2026, 10, 21), date(2026, 10, 22))

    dagrun = reports_dag.test(logical_date=datetime(2026, 10, 26, 6, tzinfo=UTC))

    assert dagrun.state == "success"
    states = _states(dagrun)
    assert states["weekly_team_reports"] == states["leadership_weekly"] == "skipped"
    assert mailbox.messages == []
    assert not (settings.home / "reports" / "weekly-team" / "2026-W43").exists()
