"""ai_finops_reports: the weekly team reports and the leadership ROI report, weekly and monthly.

For team leads and leadership: every Monday at 06:00 UTC each team's report on
the Monday-Sunday week before goes to its lead (seed team_leads) and the
leadership ROI report of that week to report_recipients; on the 1st the
leadership report of the month before. The DAG also runs whenever the daily DAG
publishes the marts (the Asset costbridge_published_marts, Airflow 3's
asset-or-time schedule), so a week whose last day was published late is
reported as soon as it is.

It never reports on a day the gates held back: a period goes out only when every
day of it is published final and no blocked gate run since the last publication
covers it; otherwise its task is skipped with the reason, and a later run (the
next publication) reports it. A report already archived and mailed is left as it
was sent. Reports are kept under $COSTBRIDGE_HOME/reports/<kind>/<period>/ with
an index page and mailed with the PDF attached through the alerts' SMTP
Connection (costbridge_smtp) and delivery log, each once. A team with no lead
address is archived, not mailed, with a warning in the task log. A manual run
takes `week` (2026-W43) and `month` (2026-10) to report those periods.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    MultipleCronTriggerTimetable,
    Param,
    dag,
    task,
)

# The daily DAG's publish outlet (dags/ai_finops_daily.py): the same Asset by name.
PUBLISHED_MARTS = Asset("costbridge_published_marts")
WEEKLY, MONTHLY = "0 6 * * 1", "0 6 1 * *"


def _tasks():
    from warehouse import airflow_tasks

    return airflow_tasks


@dag(
    schedule=AssetOrTimeSchedule(
        timetable=MultipleCronTriggerTimetable(WEEKLY, MONTHLY, timezone="UTC"),
        assets=[PUBLISHED_MARTS],
    ),
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["costbridge", "finops", "reports"],
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
    },
    params={
        "week": Param(None, type=["null", "string"], description="ISO week to report, 2026-W43"),
        "month": Param(None, type=["null", "string"], description="month to report, 2026-10"),
    },
    doc_md=__doc__,
)
def ai_finops_reports():
    @task
    def plan(params=None, data_interval_end=None, dag_run=None) -> dict:
        return _tasks().plan_reports(params, data_interval_end, dag_run.run_after)

    @task
    def weekly_team_reports(periods) -> list[str]:
        return _tasks().weekly_team_reports(periods)

    @task
    def leadership_weekly(periods) -> list[str]:
        return _tasks().leadership_report(periods, "week")

    @task
    def leadership_monthly(periods) -> list[str]:
        return _tasks().leadership_report(periods, "month")

    periods = plan()
    weekly_team_reports(periods)
    leadership_weekly(periods)
    leadership_monthly(periods)


ai_finops_reports()
