"""Alert delivery against a real SMTP server (aiosmtpd) and a real webhook receiver,
both on loopback (tests/reports/alert_servers.py): what arrived, what the delivery
log says, and what never leaks."""

from __future__ import annotations

import logging
import os
import sqlite3
from datetime import date
from pathlib import Path

import duckdb
import pytest

from reports import alerts
from reports.alerts import RetryPolicy, deliver_alerts, delivery_log_path
from tests.reliability.secret_scan import scan_files, scan_text
from tests.reports.alert_servers import (
    SMTP_PASSWORD,
    WEBHOOK_TOKEN,
    free_port,
    point_smtp_at,
    point_webhook_at,
)

FAST = RetryPolicy(attempts=3, first_wait=0.01, max_wait=0.05, timeout=5)

ALERTS = [
    # alert_id, alert_date, team, feature, model_id, alert_kind, rule_id, metric, observed,
    # expected, threshold, severity, events, message, email, webhook_conn_id
    (
        "a-spike-growth",
        date(2026, 10, 20),
        "growth",
        "ad-copy-gen",
        None,
        "spike",
        "spike-default",
        "daily_cost",
        912.40,
        301.10,
        2.0,
        "warning",
        "Autumn launch",
        "growth spend x3.0 day over day (912.40 USD vs 301.10 USD): campaign 'Autumn launch'",
        "growth-leads@northwind.example, finops@northwind.example",
        "growth_webhook",
    ),
    (
        "a-budget-search",
        date(2026, 10, 25),
        "search",
        None,
        None,
        "budget_threshold",
        "budget-80",
        "month_to_date_cost",
        4100.00,
        5000.00,
        0.8,
        "info",
        None,
        "search passed 80% of its October budget (4,100.00 of 5,000.00 USD)",
        "search-leads@northwind.example",
        None,
    ),
]


def write_alerts_mart(path: Path, rows=ALERTS) -> Path:
    """A published warehouse holding `mart_ops__alerts` with the contract's columns.

    Stands in for the lead's mart until the end-to-end test reads the real one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(
        """
        create or replace table mart_ops__alerts (
            alert_id varchar, alert_date date, team varchar, feature varchar, model_id varchar,
            alert_kind varchar, rule_id varchar, metric varchar, observed decimal(18, 2),
            expected decimal(18, 2), threshold decimal(18, 4), severity varchar,
            events varchar, message varchar, reporting_currency varchar, email varchar,
            webhook_conn_id varchar
        )
        """
    )
    for row in rows:
        con.execute(
            "insert into mart_ops__alerts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " 'USD', ?, ?)",
            list(row),
        )
    con.close()
    return path


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    write_alerts_mart(home / "warehouse" / "costbridge.duckdb")
    return home


def deliver(home: Path, **kwargs):
    return deliver_alerts(
        home / "warehouse" / "costbridge.duckdb",
        home / "ops",
        policy=kwargs.pop("policy", FAST),
        **kwargs,
    )


def log_rows(home: Path) -> dict[tuple[str, str, str], tuple[str, int, str | None]]:
    con = sqlite3.connect(delivery_log_path(home / "ops"))
    rows = con.execute(
        "select alert_id, channel, destination, status, attempts, last_error from alert_deliveries"
    ).fetchall()
    con.close()
    return {(a, c, d): (s, n, e) for a, c, d, s, n, e in rows}


EVERY_EMAIL = [
    ("finops@northwind.example", "a-spike-growth"),
    ("growth-leads@northwind.example", "a-spike-growth"),
    ("search-leads@northwind.example", "a-budget-search"),
]


def test_each_alert_arrives_once_by_email_and_webhook(home, smtp_server, webhook):
    mailbox, receiver = smtp_server(), webhook()
    summary = deliver(home)

    assert (summary.sent, summary.skipped_already_sent, summary.failed) == (4, 0, 0)
    assert mailbox.received() == EVERY_EMAIL
    assert receiver.delivered() == ["a-spike-growth"]
    path, body, _ = receiver.posts[0]
    assert path == f"/services/{WEBHOOK_TOKEN}"
    assert "Autumn launch" in body["text"] and body["blocks"]
    _, mail = next(m for m in mailbox.messages if m[1]["X-Costbridge-Alert-Id"] == "a-spike-growth")
    assert mail["From"] == "costbridge@northwind.example"
    assert "campaign 'Autumn launch'" in mail.get_payload(decode=True).decode()
    assert {v[0] for v in log_rows(home).values()} == {"sent"}
    # The log names the webhook by its Connection id, never by its URL.
    assert ("a-spike-growth", "webhook", "growth_webhook") in log_rows(home)


def test_a_rerun_sends_nothing_new(home, smtp_server, webhook):
    mailbox, receiver = smtp_server(), webhook()
    deliver(home)
    again = deliver(home)

    assert (again.sent, again.skipped_already_sent, again.failed) == (0, 4, 0)
    assert mailbox.received() == EVERY_EMAIL
    assert len(receiver.posts) == 1


def test_a_republished_warehouse_with_the_same_alerts_sends_only_what_is_new(
    home, smtp_server, webhook
):
    """Blue/green publishing swaps in a new file: the log outside it still knows."""
    mailbox, receiver = smtp_server(), webhook()
    deliver(home)
    warehouse = home / "warehouse" / "costbridge.duckdb"
    next_file = write_alerts_mart(
        home / "warehouse" / "build" / "next.duckdb",
        ALERTS
        + [
            (
                "a-zscore-growth",
                date(2026, 10, 27),
                "growth",
                None,
                "gpt-4o",
                "zscore",
                "z-3",
                "daily_cost",
                700.0,
                400.0,
                3.0,
                "warning",
                None,
                "growth cost 3.1 sd above Tuesdays",
                None,
                "growth_webhook",
            ),
        ],
    )
    os.replace(next_file, warehouse)

    summary = deliver(home)

    assert (summary.sent, summary.skipped_already_sent) == (1, 4)
    assert mailbox.received() == EVERY_EMAIL
    assert receiver.delivered() == ["a-spike-growth", "a-zscore-growth"]


def test_a_down_smtp_server_is_retried_recorded_and_delivered_by_a_later_run(
    home, smtp_server, webhook, monkeypatch
):
    receiver = webhook()
    port = free_port()  # nothing listens here yet: connection refused
    point_smtp_at(monkeypatch, port)
    warehouse = home / "warehouse" / "costbridge.duckdb"
    published = warehouse.read_bytes()

    first = deliver(home)

    assert (first.sent, first.failed) == (1, 3)  # the webhook still went out
    with pytest.raises(alerts.AlertsUndelivered, match="3 alert deliveries failed"):
        first.raise_for_failures()
    emails = {k: v for k, v in log_rows(home).items() if k[1] == "email"}
    assert {status for status, _, _ in emails.values()} == {"failed"}
    assert {attempts for _, attempts, _ in emails.values()} == {FAST.attempts}
    assert all("unreachable" in error for _, _, error in emails.values())
    assert warehouse.read_bytes() == published, "delivery must never touch the published file"

    mailbox = smtp_server(port=port)
    later = deliver(home)

    assert (later.sent, later.skipped_already_sent, later.failed) == (3, 1, 0)
    assert mailbox.received() == EVERY_EMAIL
    assert len(receiver.posts) == 1
    assert {v[0] for v in log_rows(home).values()} == {"sent"}
    # Attempts add up over runs: three refused, then one that went through.
    assert log_rows(home)[("a-budget-search", "email", "search-leads@northwind.example")][1] == 4


def test_an_smtp_server_that_says_later_is_retried_within_the_run(home, smtp_server, webhook):
    mailbox = smtp_server(busy=1)  # the first DATA gets a 451
    webhook()
    summary = deliver(home)

    assert (summary.sent, summary.failed) == (4, 0)
    assert mailbox.received() == EVERY_EMAIL
    attempts = sorted(
        n for (_, channel, _), (_, n, _) in log_rows(home).items() if channel == "email"
    )
    assert attempts == [1, 1, 2]


def test_a_webhook_answering_500_then_200_is_retried(home, smtp_server, webhook):
    smtp_server()
    receiver = webhook(statuses=[(500, {}), (429, {"Retry-After": "0"})])
    summary = deliver(home)

    assert summary.failed == 0
    assert [status for _, _, status in receiver.posts] == [500, 429, 200]
    assert receiver.delivered() == ["a-spike-growth"]
    assert log_rows(home)[("a-spike-growth", "webhook", "growth_webhook")][:2] == ("sent", 3)


def test_a_retry_after_is_honoured_but_bounded(home, smtp_server, webhook):
    """An hour's Retry-After would stall the day's delivery: it is capped at max_wait."""
    smtp_server()
    receiver = webhook(statuses=[(429, {"Retry-After": "3600"})])
    summary = deliver(home)

    assert summary.failed == 0
    assert [status for _, _, status in receiver.posts] == [429, 200]
    con = sqlite3.connect(delivery_log_path(home / "ops"))
    waited = con.execute(
        "select tries, waited_seconds from alert_delivery_attempts where channel = 'webhook'"
    ).fetchall()
    con.close()
    assert waited == [(2, FAST.max_wait)]


def test_a_webhook_failing_every_try_is_recorded_failed_then_delivered_later(
    home, smtp_server, webhook
):
    smtp_server()
    receiver = webhook(statuses=[(503, {})] * FAST.attempts)
    first = deliver(home)

    assert (first.sent, first.failed) == (3, 1)
    status, attempts, error = log_rows(home)[("a-spike-growth", "webhook", "growth_webhook")]
    assert (status, attempts) == ("failed", FAST.attempts)
    assert error == "webhook growth_webhook answered HTTP 503"

    later = deliver(home)
    assert (later.sent, later.skipped_already_sent, later.failed) == (1, 3, 0)
    assert receiver.delivered() == ["a-spike-growth"]


def test_a_client_error_is_not_retried(home, smtp_server, webhook):
    smtp_server()
    receiver = webhook(statuses=[(404, {})])
    summary = deliver(home)

    assert summary.failed == 1
    assert len(receiver.posts) == 1
    assert log_rows(home)[("a-spike-growth", "webhook", "growth_webhook")][:2] == ("failed", 1)


def test_no_secret_reaches_the_logs_the_delivery_log_or_the_errors(
    home, smtp_server, webhook, monkeypatch, caplog
):
    """Refused connections put the URL, token path included, into requests' exceptions."""
    caplog.set_level(logging.INFO)
    smtp_server()
    point_webhook_at(monkeypatch, f"http://127.0.0.1:{free_port()}/services")  # refused
    first = deliver(home)
    # And a wrong SMTP password: the server's refusal must not echo ours.
    monkeypatch.setenv(
        "AIRFLOW_CONN_COSTBRIDGE_SMTP",
        os.environ["AIRFLOW_CONN_COSTBRIDGE_SMTP"].replace(SMTP_PASSWORD, SMTP_PASSWORD + "-wrong"),
    )
    (home / "ops" / "alert_deliveries.sqlite").unlink()
    second = deliver(home)

    assert first.failed == 1 and second.failed == 4
    errors = " ".join(first.failures + second.failures)
    assert "unreachable" in errors and "SMTP 535" in errors
    canaries = [WEBHOOK_TOKEN, "webhook-canary-token-abcdef", SMTP_PASSWORD]
    assert scan_files([home], canaries) == []
    assert scan_text("logs", caplog.text + errors, canaries) == []
    assert scan_text("logs", caplog.text, ["a-spike-growth"]), "the scan must see the log"


def test_a_route_whose_connection_is_not_defined_waits_unrecorded(home, smtp_server):
    mailbox = smtp_server()  # no AIRFLOW_CONN_GROWTH_WEBHOOK
    summary = deliver(home)

    assert (summary.sent, summary.not_configured, summary.failed) == (3, 1, 0)
    assert mailbox.received() == EVERY_EMAIL
    assert not any(channel == "webhook" for _, channel, _ in log_rows(home))


def test_the_cli_delivers_reports_status_and_resends(home, smtp_server, webhook, capsys):
    mailbox = smtp_server()
    webhook()
    assert alerts.main(["deliver", "--home", str(home)]) == 0
    assert "sent=4" in capsys.readouterr().out

    assert alerts.main(["status", "--home", str(home)]) == 0
    out = capsys.readouterr().out
    assert "4 deliveries: sent=4 failed=0 skipped=0" in out and WEBHOOK_TOKEN not in out

    assert alerts.main(["resend", "a-budget-search", "--home", str(home)]) == 0
    assert alerts.main(["deliver", "--home", str(home)]) == 0
    assert "sent=1 skipped_already_sent=3" in capsys.readouterr().out
    assert mailbox.received().count(("search-leads@northwind.example", "a-budget-search")) == 2


def test_baseline_sets_the_history_aside_and_delivers_from_its_day_on(
    home, smtp_server, webhook, capsys
):
    mailbox, receiver = smtp_server(), webhook()
    # The spike (2026-10-20) is history; the budget alert (2026-10-25) is not.
    assert alerts.main(["baseline", "--before", "2026-10-21", "--home", str(home)]) == 0
    assert "set aside 3 deliveries" in capsys.readouterr().out

    summary = deliver(home)

    assert (summary.sent, summary.skipped_baseline, summary.skipped_already_sent) == (1, 3, 0)
    assert mailbox.received() == [("search-leads@northwind.example", "a-budget-search")]
    assert receiver.posts == []
    assert log_rows(home)[("a-spike-growth", "webhook", "growth_webhook")][:2] == ("skipped", 0)


def test_a_warehouse_without_the_alerts_mart_says_so(tmp_path):
    warehouse = tmp_path / "costbridge.duckdb"
    duckdb.connect(str(warehouse)).close()
    with pytest.raises(LookupError, match="mart_ops__alerts"):
        deliver_alerts(warehouse, tmp_path / "ops")
