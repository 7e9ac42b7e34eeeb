"""Every DAG imports cleanly and follows the house rules (tags, retries, thin wiring)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

DAG_FILES = sorted((REPO_ROOT / "dags").glob("*.py"))


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "ai_finops_daily" in dagbag.dags
    assert "ai_finops_reports" in dagbag.dags
    assert "ai_finops_intraday" in dagbag.dags


def test_every_dag_has_tags_and_retries(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        for t in dag.tasks:
            assert t.retries >= 1, f"{dag_id}.{t.task_id} has no retries"


def test_daily_dag_runs_the_day_in_order(dagbag):
    dag = dagbag.dags["ai_finops_daily"]
    assert set(dag.task_ids) == {
        "plan_window",
        "list_sources",
        "extract",
        "validate_landing",
        "build_warehouse",
        "validate_marts",
        "publish",
        "deliver_alerts",
        "render_dashboard",
    }
    # The gates sit between the steps they guard.
    assert "validate_landing" in dag.get_task("build_warehouse").upstream_task_ids
    assert "build_warehouse" in dag.get_task("validate_marts").upstream_task_ids
    assert "validate_marts" in dag.get_task("publish").upstream_task_ids
    assert "extract" in dag.get_task("validate_landing").upstream_task_ids
    # One publication unit: DuckDB, PostgreSQL and Parquet move in one task, or it fails
    # naming the target left behind; nothing publishes after it from another file.
    # Only alert delivery follows, and only a publish that succeeded: it reads the
    # published file, so a failed delivery cannot hold back or undo the day. The
    # dashboard is drawn after any outcome (all_done), so it can say a day was held back.
    assert dag.get_task("publish").downstream_task_ids == {"deliver_alerts", "render_dashboard"}
    dashboard = dag.get_task("render_dashboard")
    assert dashboard.trigger_rule == "all_done"
    assert dashboard.pool != "duckdb_writer"
    deliver = dag.get_task("deliver_alerts")
    assert deliver.downstream_task_ids == set()
    assert deliver.trigger_rule == "all_success"
    assert deliver.pool != "duckdb_writer"
    # One writer at a time on the DuckDB file.
    assert dag.get_task("build_warehouse").pool == "duckdb_writer"
    assert dag.get_task("publish").pool == "duckdb_writer"
    assert dag.catchup is False


def test_intraday_dag_estimates_today_in_order(dagbag):
    dag = dagbag.dags["ai_finops_intraday"]
    assert set(dag.task_ids) == {
        "plan_as_of",
        "list_sources",
        "extract",
        "validate_landing",
        "build_estimate",
        "validate_marts",
        "publish",
        "render_dashboard",
    }
    assert dag.get_task("publish").downstream_task_ids == {"render_dashboard"}
    assert dag.get_task("render_dashboard").trigger_rule == "all_done"
    assert "extract" in dag.get_task("validate_landing").upstream_task_ids
    assert "validate_landing" in dag.get_task("build_estimate").upstream_task_ids
    assert "build_estimate" in dag.get_task("validate_marts").upstream_task_ids
    assert "validate_marts" in dag.get_task("publish").upstream_task_ids
    assert dag.catchup is False and dag.max_active_runs == 1
    assert dag.schedule == "@hourly"
    assert "as_of" in dag.params


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_do_no_work_at_import(path: Path):
    """Top-level code is wiring: only airflow, pendulum and datetime imported at module level."""
    tree = ast.parse(path.read_text())
    allowed = {"__future__", "datetime", "pendulum", "airflow.sdk"}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            assert node.module in allowed, f"{path.name} imports {node.module} at top level"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name in allowed, f"{path.name} imports {alias.name} at top level"


def test_reports_dag_runs_on_its_schedule_or_when_the_marts_are_published(dagbag):
    """Airflow 3's asset-or-time schedule: Mondays and the 1st at 06:00 UTC, and after every
    publish of the daily DAG (its outlet, the same Asset)."""
    from airflow.sdk import AssetOrTimeSchedule, MultipleCronTriggerTimetable

    from dags.ai_finops_daily import PUBLISHED_MARTS

    dag = dagbag.dags["ai_finops_reports"]
    timetable = dag.timetable
    assert isinstance(timetable, AssetOrTimeSchedule), type(timetable)
    assert isinstance(timetable.timetable, MultipleCronTriggerTimetable)
    crons = sorted(t.expression for t in timetable.timetable.timetables)
    assert crons == ["0 6 * * 1", "0 6 1 * *"]
    assert list(timetable.asset_condition.objects) == [PUBLISHED_MARTS]
    publish = dagbag.dags["ai_finops_daily"].get_task("publish")
    assert [o.name for o in publish.outlets] == [PUBLISHED_MARTS.name]
    assert set(dag.task_ids) == {
        "plan",
        "weekly_team_reports",
        "leadership_weekly",
        "leadership_monthly",
    }
    for name in ("weekly_team_reports", "leadership_weekly", "leadership_monthly"):
        assert dag.get_task(name).upstream_task_ids == {"plan"}
    assert dag.catchup is False
