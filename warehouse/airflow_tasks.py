"""The bodies of every DAG's tasks, written once: the DAG files stay wiring.

A body takes what Airflow hands a task (XCom values as plain dicts and strings, context
values such as ``run_id``), reads the settings, runs one step of ``warehouse.pipeline``,
``warehouse.intraday`` or ``reports``, and returns what the next task takes. Each runs
under ``airflow_outcome``: an error a retry cannot cure fails the task at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from types import ModuleType
from typing import Any, ParamSpec, TypeVar

from landing.window import Window
from warehouse import intraday, pipeline
from warehouse.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")


def is_final(exc: BaseException) -> bool:
    """Whether a retry would only meet ``exc`` again: a verdict on the data (a blocked
    gate, a failed dbt test, a source's schema drift), a mistake a person must fix (the
    sources file, credentials, a missing export), or a BI target left behind after the
    DuckDB file moved (the next run republishes it). Transient errors are not final:
    RetriableSourceError, timeouts, a locked file."""
    from expectations import GateFailed
    from extractors.errors import ConfigError, FatalSourceError
    from warehouse.build import DbtTestsFailed
    from warehouse.publish import PublishTargetBehind

    final = (GateFailed, DbtTestsFailed, FatalSourceError, ConfigError, PublishTargetBehind)
    return isinstance(exc, final)


@contextmanager
def airflow_outcome() -> Iterator[None]:
    """A final error fails the task without its retries (AirflowFailException); any other
    error propagates as it is, and Airflow retries the task."""
    try:
        yield
    except Exception as exc:
        if not is_final(exc):
            raise
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc


def task_body(body: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(body)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with airflow_outcome():
            return body(*args, **kwargs)

    return run


def _settings() -> Settings:
    return Settings.from_env()


class PipelineTasks:
    """The task bodies over one pipeline's steps: ``warehouse.pipeline`` (the day, its
    window a Window) or ``warehouse.intraday`` (today so far, its window an AsOf).
    The window travels between tasks as its ``as_dict()``."""

    def __init__(self, steps: ModuleType, window_type: Any) -> None:
        self.steps, self.window_type = steps, window_type

    @task_body
    def list_sources(self) -> list[str]:
        return self.steps.source_names(_settings())

    @task_body
    def extract(self, source_name: str, window: dict) -> dict:
        from warehouse.airflow_secrets import airflow_secret_resolver

        run_window = self.window_type.from_dict(window)
        return self.steps.extract(_settings(), source_name, run_window, airflow_secret_resolver)

    @task_body
    def validate_landing(self, window: dict, run_id: str) -> dict:
        return self.steps.validate_landing(_settings(), self.window_type.from_dict(window), run_id)

    @task_body
    def build(self, window: dict, run_id: str) -> str:
        return self.steps.build(_settings(), self.window_type.from_dict(window), run_id)

    @task_body
    def validate_marts(self, window: dict, next_file: str, run_id: str) -> str:
        run_window = self.window_type.from_dict(window)
        self.steps.validate_marts(_settings(), run_window, next_file, run_id)
        return next_file

    @task_body
    def publish(self, window: dict, next_file: str, run_id: str, *targets: Any) -> dict:
        """``targets``: what the daily publication adds (the BI PostgreSQL's DSN)."""
        run_window = self.window_type.from_dict(window)
        return self.steps.publish(_settings(), run_window, next_file, run_id, *targets)


daily = PipelineTasks(pipeline, Window)
today_so_far = PipelineTasks(intraday, intraday.AsOf)


@task_body
def plan_window(params: dict | None, interval_start: Any, interval_end: Any) -> dict:
    return pipeline.resolve_window(params, interval_start, interval_end).as_dict()


@task_body
def plan_as_of(params: dict | None, interval_end: Any) -> dict:
    return intraday.plan_as_of(params, interval_end).as_dict()


def publish_day(window: dict, next_file: str, run_id: str) -> dict:
    """The day's publication, PostgreSQL included when its Connection or DSN is set."""
    from warehouse.airflow_secrets import airflow_postgres_dsn

    return daily.publish(window, next_file, run_id, airflow_postgres_dsn())


@task_body
def deliver_alerts() -> dict:
    from reports.alerts import deliver_for_settings

    summary = deliver_for_settings(_settings())
    summary.raise_for_failures()
    return asdict(summary)


@task_body
def render_dashboard() -> str:
    from reports.dashboard import write_dashboard

    return str(write_dashboard(_settings()))


@task_body
def plan_reports(params: dict | None, interval_end: Any, run_after: Any) -> dict:
    from reports.run import plan

    return plan(params, interval_end, run_after)


@task_body
def weekly_team_reports(periods: dict) -> list[str]:
    from reports.marts import Period
    from reports.run import weekly_reports

    week = Period.parse("week", periods["week"])
    return _reported(weekly_reports(_settings(), week, send=True, require_final=True))


@task_body
def leadership_report(periods: dict, kind: str) -> list[str]:
    """The leadership ROI report of the ``kind`` ("week" or "month") the run reports."""
    from reports.marts import Period
    from reports.run import leadership_report

    period = Period.parse(kind, periods[kind])
    return _reported([leadership_report(_settings(), period, send=True, require_final=True)])


def _reported(runs) -> list[str]:
    """Skip the task when nothing was reported (with the reason); fail it, after every other
    report went, when a delivery failed (its retries and the next run send what is left)."""
    from airflow.sdk.exceptions import AirflowSkipException

    from reports.run import describe

    lines = [describe(r) for r in runs]
    if all(r.status == "skipped" for r in runs):
        raise AirflowSkipException("; ".join(r.reason or "" for r in runs))
    failed = [a for r in runs for a in r.failed]
    if failed:
        raise RuntimeError(
            f"reports rendered, mail failed to {', '.join(failed)}: " + "; ".join(lines)
        )
    return lines
