"""ai_finops_intraday: today's AI spend so far, every hour, always an estimate.

For everyone who asks "what are we spending right now": each hour pull today's token
usage up to the last complete hour, at one-hour buckets (OpenAI usage, the Anthropic
usage report, LiteLLM SpendLogs: every such source of the sources file, usage only)
into the intraday landing area, gate it, price it from the price book with dbt into
mart_ops__spend_today (cost_basis 'estimated'), gate that, and publish it blue/green
to its own file ($COSTBRIDGE_HOME/intraday/costbridge_intraday.duckdb). It never
touches the daily landing, fact or warehouse; tomorrow's ai_finops_daily replaces the
estimate with billed cost (warehouse.intraday.superseded). A failed run leaves the
last good estimate published and its gate run on record (intraday/ops). A manual run
takes `as_of` (ISO datetime, UTC; floored to the hour) for tests and the demo; a
scheduled run is as of its data interval end. After every run the cost dashboard is
drawn again ("today so far (estimated), as of HH:MM UTC"). See docs/intraday.md.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, TriggerRule, dag, task


def _tasks():
    from warehouse import airflow_tasks

    return airflow_tasks


@dag(
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["costbridge", "finops", "intraday"],
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
    },
    params={
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date-time",
            description="estimate up to this moment (ISO datetime, UTC; floored to the hour)",
        ),
    },
    doc_md=__doc__,
)
def ai_finops_intraday():
    @task
    def plan_as_of(params=None, data_interval_end=None) -> dict:
        return _tasks().plan_as_of(params, data_interval_end)

    @task
    def list_sources() -> list[str]:
        return _tasks().today_so_far.list_sources()

    @task(map_index_template="{{ source_name }}")
    def extract(source_name, as_of) -> dict:
        return _tasks().today_so_far.extract(source_name, as_of)

    # `extracted` and `landing_gate` are waited for, not read: the gate reads the landing.
    @task
    def validate_landing(as_of, extracted, run_id=None) -> dict:
        return _tasks().today_so_far.validate_landing(as_of, run_id)

    # Its own file, not the daily's: no need to queue behind the daily's duckdb_writer pool.
    @task
    def build_estimate(as_of, landing_gate, run_id=None) -> str:
        return _tasks().today_so_far.build(as_of, run_id)

    @task
    def validate_marts(as_of, next_file, run_id=None) -> str:
        return _tasks().today_so_far.validate_marts(as_of, next_file, run_id)

    @task
    def publish(as_of, next_file, run_id=None) -> dict:
        return _tasks().today_so_far.publish(as_of, next_file, run_id)

    # After a published or a held-back estimate alike: the page shows the last good one.
    @task(trigger_rule=TriggerRule.ALL_DONE)
    def render_dashboard() -> str:
        return _tasks().render_dashboard()

    as_of = plan_as_of()
    extracted = extract.partial(as_of=as_of).expand(source_name=list_sources())
    next_file = build_estimate(as_of, validate_landing(as_of, extracted))
    publish(as_of, validate_marts(as_of, next_file)) >> render_dashboard()


ai_finops_intraday()
