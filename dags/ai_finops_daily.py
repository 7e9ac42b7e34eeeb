"""ai_finops_daily: yesterday's AI spend, from every source to the role marts.

For finance, engineering, product and leadership: each day pull billing, token
usage and GPU metrics into the Parquet landing zone, gate it, build the one cost
fact and the role marts with dbt into the next warehouse file, gate the marts,
and only then publish, as one unit: PostgreSQL (when the Connection
costbridge_postgres or COSTBRIDGE_POSTGRES_DSN is set) and monthly Parquet files
for BI tools, then the DuckDB file. A failed day leaves the last good warehouse
published and its gate run on record (ops_data_quality_runs); a BI target that
could not take the day is recorded as behind (ops_publish_targets, ops_alerts),
fails the run, and is retried by the next one. After a publish, the published
alerts (mart_ops__alerts) go out by email (Connection costbridge_smtp) and to
their teams' webhooks, each once (a delivery log under the home's ops/ folder);
a delivery that fails is recorded and fails only this last task, so the day
stays published and the task's retries and the next run send what is left. The
cost dashboard (<home>/dashboard/index.html) is rendered after every run, published
or held back, so it says which day the gates held. A
manual run takes `start` and `end` (YYYY-MM-DD, end exclusive) for backfills and
the demo.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, TriggerRule, dag, task

PUBLISHED_MARTS = Asset("costbridge_published_marts")


def _tasks():
    from warehouse import airflow_tasks

    return airflow_tasks


@dag(
    schedule="@daily",
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["costbridge", "finops", "daily"],
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
    params={
        "start": Param(
            None, type=["null", "string"], format="date", description="first day (backfill)"
        ),
        "end": Param(
            None, type=["null", "string"], format="date", description="day after the last"
        ),
    },
    doc_md=__doc__,
)
def ai_finops_daily():
    @task
    def plan_window(params=None, data_interval_start=None, data_interval_end=None) -> dict:
        return _tasks().plan_window(params, data_interval_start, data_interval_end)

    @task
    def list_sources() -> list[str]:
        return _tasks().daily.list_sources()

    @task(map_index_template="{{ source_name }}")
    def extract(source_name, window) -> dict:
        return _tasks().daily.extract(source_name, window)

    # `extracted` and `landing_gate` are waited for, not read: the gate reads the landing.
    @task
    def validate_landing(window, extracted, run_id=None) -> dict:
        return _tasks().daily.validate_landing(window, run_id)

    @task(pool="duckdb_writer")
    def build_warehouse(window, landing_gate, run_id=None) -> str:
        return _tasks().daily.build(window, run_id)

    @task
    def validate_marts(window, next_file, run_id=None) -> str:
        return _tasks().daily.validate_marts(window, next_file, run_id)

    @task(pool="duckdb_writer", outlets=[PUBLISHED_MARTS])
    def publish(window, next_file, run_id=None) -> dict:
        return _tasks().publish_day(window, next_file, run_id)

    @task
    def deliver_alerts() -> dict:
        return _tasks().deliver_alerts()

    # After the publish or a held-back day alike, so the page says which day the gates held.
    @task(trigger_rule=TriggerRule.ALL_DONE)
    def render_dashboard() -> str:
        return _tasks().render_dashboard()

    window = plan_window()
    extracted = extract.partial(window=window).expand(source_name=list_sources())
    next_file = build_warehouse(window, validate_landing(window, extracted))
    published = publish(window, validate_marts(window, next_file))
    published >> [deliver_alerts(), render_dashboard()]


ai_finops_daily()
