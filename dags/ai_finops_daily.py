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

from landing.window import Window

PUBLISHED_MARTS = Asset("costbridge_published_marts")


def _publish(step, *args):
    """Publish. A target left behind fails the run without a task retry: the DuckDB
    file has already moved and its next file is gone, so the next run retries it."""
    from airflow.sdk.exceptions import AirflowFailException

    from warehouse.publish import PublishTargetBehind

    try:
        return step(*args)
    except PublishTargetBehind as exc:
        raise AirflowFailException(str(exc)) from exc


def _settings():
    from warehouse.settings import Settings

    return Settings.from_env()


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
        from warehouse.pipeline import resolve_window

        return resolve_window(params, data_interval_start, data_interval_end).as_dict()

    @task
    def list_sources() -> list[str]:
        from warehouse.pipeline import source_names

        return source_names(_settings())

    @task(map_index_template="{{ source_name }}")
    def extract(source_name: str, window: dict) -> dict:
        from warehouse.airflow_secrets import airflow_secret_resolver
        from warehouse.pipeline import extract

        return extract(_settings(), source_name, Window.from_dict(window), airflow_secret_resolver)

    @task
    def validate_landing(window: dict, run_id=None) -> dict:
        from warehouse.airflow_tasks import run_gate
        from warehouse.pipeline import validate_landing

        return run_gate(validate_landing, _settings(), Window.from_dict(window), run_id)

    @task(pool="duckdb_writer")
    def build_warehouse(window: dict, run_id=None) -> str:
        from warehouse.pipeline import build

        return build(_settings(), Window.from_dict(window), run_id)

    @task
    def validate_marts(window: dict, next_file: str, run_id=None) -> str:
        from warehouse.airflow_tasks import run_gate
        from warehouse.pipeline import validate_marts

        run_gate(validate_marts, _settings(), Window.from_dict(window), next_file, run_id)
        return next_file

    @task(pool="duckdb_writer", outlets=[PUBLISHED_MARTS])
    def publish(window: dict, next_file: str, run_id=None) -> dict:
        from warehouse.airflow_secrets import airflow_postgres_dsn
        from warehouse.pipeline import publish

        return _publish(
            publish,
            _settings(),
            Window.from_dict(window),
            next_file,
            run_id,
            airflow_postgres_dsn(),
        )

    @task
    def deliver_alerts() -> dict:
        from dataclasses import asdict

        from reports.alerts import deliver_for_settings

        summary = deliver_for_settings(_settings())
        summary.raise_for_failures()
        return asdict(summary)

    # After the publish or a held-back day alike, so the page says which day the gates held.
    @task(trigger_rule=TriggerRule.ALL_DONE)
    def render_dashboard() -> str:
        from reports.dashboard import write_dashboard

        return str(write_dashboard(_settings()))

    window = plan_window()
    extracted = extract.partial(window=window).expand(source_name=list_sources())
    landing_ok = validate_landing(window)
    extracted >> landing_ok
    next_file = build_warehouse(window)
    landing_ok >> next_file
    published = publish(window, validate_marts(window, next_file))
    published >> deliver_alerts()
    published >> render_dashboard()


ai_finops_daily()
