"""The DAG's deliver_alerts task, run by Airflow itself (dag.test) on a published home:
the Connections resolve inside a real task, and a failed delivery fails only that task."""

from __future__ import annotations

import pytest

from tests.reliability.secret_scan import scan_files
from tests.reports.alert_servers import (
    SMTP_PASSWORD,
    WEBHOOK_TOKEN,
    free_port,
    point_smtp_at,
    point_webhook_at,
)
from tests.reports.test_alert_delivery import EVERY_EMAIL, log_rows, write_alerts_mart


@pytest.fixture
def published_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    write_alerts_mart(home / "warehouse" / "costbridge.duckdb")
    monkeypatch.setenv("COSTBRIDGE_HOME", str(home))
    return home


def _deliver_task(dagbag):
    dag = dagbag.dags["ai_finops_daily"].partial_subset(["deliver_alerts"], include_upstream=False)
    for t in dag.tasks:
        t.retries = 0  # Airflow's retries would only wait here: the delivery retries still run
    return dag


@pytest.mark.slow
def test_the_task_delivers_each_alert_once(dagbag, published_home, smtp_server, webhook):
    mailbox, receiver = smtp_server(), webhook()
    dag = _deliver_task(dagbag)

    assert dag.test().state == "success"
    assert dag.test().state == "success"  # a rerun: nothing new

    assert mailbox.received() == EVERY_EMAIL
    assert receiver.delivered() == ["a-spike-growth"]
    assert {status for status, _, _ in log_rows(published_home).values()} == {"sent"}


@pytest.mark.slow
def test_an_outage_fails_only_the_delivery_task_and_leaks_no_secret(
    dagbag, published_home, monkeypatch
):
    import os
    from pathlib import Path

    # Both refused; requests' error for the webhook carries its URL, token path included.
    point_smtp_at(monkeypatch, free_port())
    point_webhook_at(monkeypatch, f"http://127.0.0.1:{free_port()}/services")
    warehouse = published_home / "warehouse" / "costbridge.duckdb"
    published = warehouse.read_bytes()

    dagrun = _deliver_task(dagbag).test()

    states = {ti.task_id: ti.state for ti in dagrun.get_task_instances()}
    assert states == {"deliver_alerts": "failed"}
    assert warehouse.read_bytes() == published
    assert {status for status, _, _ in log_rows(published_home).values()} == {"failed"}
    assert len(log_rows(published_home)) == 4
    # The task log, Airflow's database and the home, delivery log included.
    roots = [published_home, Path(os.environ["AIRFLOW_HOME"])]
    assert scan_files(roots, [SMTP_PASSWORD, WEBHOOK_TOKEN, "webhook-canary-token"]) == []
    assert scan_files(roots, ["a-spike-growth"]), "the scan must see what was written"
