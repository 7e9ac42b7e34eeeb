"""Errors carry their kind into Airflow (warehouse.airflow_tasks.airflow_outcome): what a
retry cannot cure fails the task at once, what a retry may cure is left to Airflow's
retries. Unit-level over every kind, then through dag.test on the daily DAG's extract."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta

import pytest
from airflow.sdk.exceptions import AirflowFailException

from expectations import GateFailed, GateResult
from extractors.errors import ConfigError, FatalSourceError, RetriableSourceError, SchemaDriftError
from warehouse.airflow_tasks import airflow_outcome
from warehouse.build import BuildFailed, DbtTestsFailed, build_failure
from warehouse.publish import PublishTargetBehind, TargetOutcome

START, END = date(2026, 10, 19), date(2026, 10, 20)
FINAL = [
    FatalSourceError("bad credentials", source="openai_main"),
    SchemaDriftError("column cost vanished", source="focus_aws"),
    ConfigError("source 'x': unknown option 'y'"),
    DbtTestsFailed("dbt build failed: fail: test.conservation"),
    GateFailed(GateResult("landing", START, END, success=False)),
    PublishTargetBehind("r1", START, END, [TargetOutcome("postgres", "behind", "refused")]),
]
TRANSIENT = [
    RetriableSourceError("HTTP 503 after retries", source="openai_main"),
    BuildFailed("dbt build failed: error: model.fct_ai_cost: IO Error"),
    TimeoutError("read timed out"),
    OSError("database is locked"),
]


@pytest.mark.parametrize("error", FINAL, ids=lambda e: type(e).__name__)
def test_a_final_error_fails_the_task_without_retries(error):
    with pytest.raises(AirflowFailException) as failed:
        with airflow_outcome():
            raise error
    assert failed.value.__cause__ is error
    assert str(failed.value) == str(error)


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: type(e).__name__)
def test_a_transient_error_is_raised_as_it_is_for_airflow_to_retry(error):
    with pytest.raises(type(error)) as raised:
        with airflow_outcome():
            raise error
    assert raised.value is error


def _dbt_exit(tmp_path, *statuses: str):
    results = tmp_path / "run_results.json"
    nodes = [
        {"status": s, "unique_id": f"node.{i}", "message": f"{s} {i}"}
        for i, s in enumerate(statuses)
    ]
    results.write_text(json.dumps({"results": nodes}))
    proc = subprocess.CompletedProcess(["dbt", "build"], 1, stdout="", stderr="")
    return build_failure(["build"], proc, results)


def test_a_failed_dbt_test_is_a_verdict_and_a_model_error_is_not(tmp_path):
    failed_test = _dbt_exit(tmp_path, "success", "fail", "error")
    assert isinstance(failed_test, DbtTestsFailed)
    assert "fail: node.1: fail 1" in str(failed_test) and "error: node.2" in str(failed_test)
    model_error = _dbt_exit(tmp_path, "success", "error", "skipped")
    assert type(model_error) is BuildFailed
    crashed = build_failure(
        ["build"], subprocess.CompletedProcess([], 2, "", "boom"), tmp_path / "absent.json"
    )
    assert type(crashed) is BuildFailed and "boom" in str(crashed)


@pytest.fixture
def one_source_extract(dagbag, monkeypatch):
    """The daily DAG over one source whose extraction raises what the test queues (then
    succeeds); one retry without delay, so a retry shows in try_number. (The whole DAG:
    partial_subset copies a mapped @task so that it no longer runs.)"""
    from warehouse import pipeline

    raised: list[Exception] = []
    monkeypatch.setattr(pipeline, "source_names", lambda settings: ["openai_main"])

    def extract(settings, source_name, window, secrets=None):
        if raised:
            raise raised.pop(0)
        return {"source": source_name, "window": window.as_dict()}

    monkeypatch.setattr(pipeline, "extract", extract)
    dag = dagbag.dags["ai_finops_daily"]
    for t in dag.tasks:
        monkeypatch.setattr(t, "retries", 1)
        monkeypatch.setattr(t, "retry_delay", timedelta(0))
        monkeypatch.setattr(t, "retry_exponential_backoff", False)
    return dag, raised


def _run(dag):
    """Every task after extract is marked successful without running: only extract is tried."""
    after = "|".join(sorted(dag.get_task("extract").get_flat_relative_ids(upstream=False)))
    window = {"start": START.isoformat(), "end": END.isoformat()}
    return dag.test(run_conf=window, mark_success_pattern=after)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("error", "run_state", "extract_ends"),
    [
        (FatalSourceError("401 bad key", source="openai_main"), "failed", ("failed", 1)),
        (RetriableSourceError("HTTP 503", source="openai_main"), "success", ("success", 2)),
    ],
    ids=["fatal-fails-at-its-first-try", "retriable-is-retried"],
)
def test_extract_is_retried_only_when_a_retry_can_help(
    one_source_extract, error, run_state, extract_ends
):
    dag, raised = one_source_extract
    raised.append(error)

    dagrun = _run(dag)

    assert dagrun.state == run_state
    [extract] = [ti for ti in dagrun.get_task_instances() if ti.task_id == "extract"]
    assert (extract.state, extract.try_number) == extract_ends
