"""Deliver the published alerts (`mart_ops__alerts`) by email and Slack-compatible webhook.

Reads the mart from the published DuckDB file, opened read-only, and sends each
alert to every route it names: its ``email`` addresses over SMTP and its
``webhook_conn_id`` Connections as a Slack-compatible incoming webhook. Servers
and secrets come from Airflow Connections only (which include the environment
variables ``AIRFLOW_CONN_<ID>``): the SMTP server is the Connection
``costbridge_smtp``, each webhook is the Connection its route names. A route
whose Connection is not defined is off, like an unconfigured BI target: the
alert waits, unsent and unrecorded, until it is defined.

The same alert is never sent twice: every delivery is recorded in a SQLite log
under ``$COSTBRIDGE_HOME/ops/alert_deliveries.sqlite``, keyed by (alert_id,
channel, destination). Blue/green publishing replaces the warehouse file, so the
log lives outside it; a rerun or backfill that publishes the same alerts again
finds them sent. Each delivery is retried (tenacity) on connection errors, SMTP
4xx replies, HTTP 5xx and 429 (honouring Retry-After, bounded); one that still
fails is recorded as failed and tried again by the next run. Delivery never
touches the warehouse: a failure cannot un-publish the day.

The weekly team reports and the leadership report are mailed through the same
path (`deliver_email_once`: `send_message`, the retries, the lock and the log),
keyed ``report:<kind>:<period>:<team>``, so a rerun never mails a report twice.

    python -m reports.alerts deliver [--home H]
    python -m reports.alerts status [--home H]
    python -m reports.alerts resend ALERT_ID [--home H]
    python -m reports.alerts baseline --before YYYY-MM-DD [--home H]

See docs/alerts.md.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import re
import smtplib
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import quote

import duckdb
import requests
import tenacity

log = logging.getLogger(__name__)

MART = "mart_ops__alerts"
ALERT_COLUMNS = (
    "alert_id",
    "alert_date",
    "team",
    "feature",
    "model_id",
    "alert_kind",
    "rule_id",
    "metric",
    "observed",
    "expected",
    "threshold",
    "severity",
    "events",
    "message",
    "reporting_currency",
    "email",
    "webhook_conn_id",
)
SMTP_CONN_ID = "costbridge_smtp"
EMAIL, WEBHOOK = "email", "webhook"
DEFAULT_FROM = "costbridge@localhost"
# A route cell may name several destinations ("a@x, b@y"); each is delivered and logged alone.
_LIST_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class Alert:
    alert_id: str
    alert_date: date
    team: str
    feature: str | None
    model_id: str | None
    alert_kind: str
    rule_id: str | None
    metric: str | None
    observed: object
    expected: object
    threshold: object
    severity: str | None
    events: str | None
    message: str
    reporting_currency: str | None
    email: str | None
    webhook_conn_id: str | None


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one delivery tries before it is recorded as failed (the next run tries again)."""

    attempts: int = 4
    first_wait: float = 1.0  # seconds, doubled each attempt
    max_wait: float = 30.0  # also the cap on a server's Retry-After
    timeout: float = 10.0  # per connection / request


@dataclass
class DeliverySummary:
    sent: int = 0
    skipped_already_sent: int = 0
    failed: int = 0
    skipped_baseline: int = 0  # set aside by `baseline`: history never to be sent
    # Routes whose Connection is not defined: nothing sent, nothing recorded.
    not_configured: int = 0
    failures: list[str] = field(default_factory=list)  # "alert_id channel destination: error"

    def __str__(self) -> str:
        return (
            f"alerts delivered: sent={self.sent} skipped_already_sent="
            f"{self.skipped_already_sent} failed={self.failed} not_configured={self.not_configured}"
            f" skipped_baseline={self.skipped_baseline}"
        )

    def raise_for_failures(self) -> None:
        if self.failed:
            raise AlertsUndelivered(
                f"{self.failed} alert deliveries failed (recorded; the next run retries them): "
                + "; ".join(self.failures[:10])
            )


class AlertsUndelivered(RuntimeError):
    """Some deliveries failed after their retries. The day stays published."""


class DeliveryError(Exception):
    """A delivery failed; the message is already free of secrets."""

    def __init__(self, message: str, retriable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.retriable = retriable
        self.retry_after = retry_after


def read_alerts(warehouse: Path) -> list[Alert]:
    """Every alert in the published mart, oldest first."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = con.execute(
            "select count(*) from information_schema.tables where table_name = ?", [MART]
        ).fetchall()[0][0]
        if not found:
            raise LookupError(f"{warehouse} has no {MART}: was it built and published?")
        rows = con.execute(
            f"select {', '.join(ALERT_COLUMNS)} from {MART} order by alert_date, alert_id"
        ).fetchall()
    finally:
        con.close()
    return [Alert(*row) for row in rows]


def destinations(cell: str | None) -> list[str]:
    return [d for d in _LIST_SEPARATORS.split(cell or "") if d]


def routes(alerts: Iterable[Alert]) -> Iterator[tuple[Alert, str, str]]:
    """(alert, channel, destination) once each, whether the mart names several destinations
    in one cell or repeats the alert once per route."""
    seen = set()
    for alert in alerts:
        for channel, cell in ((EMAIL, alert.email), (WEBHOOK, alert.webhook_conn_id)):
            for destination in destinations(cell):
                key = (alert.alert_id, channel, destination)
                if key not in seen:
                    seen.add(key)
                    yield alert, channel, destination


def delivery_log_path(ops_dir: Path) -> Path:
    return Path(ops_dir) / "alert_deliveries.sqlite"


_SCHEMA = """
create table if not exists alert_deliveries (
    alert_id text not null,
    channel text not null,
    destination text not null,   -- an address or a Connection id, never a URL
    -- skipped: set aside by `baseline` (the history before delivery was switched on)
    status text not null check (status in ('sent', 'failed', 'skipped')),
    attempts integer not null,   -- every try, over every run
    last_error text,             -- redacted
    alert_date text,
    alert_kind text,
    team text,
    first_attempted_at text not null,
    last_attempted_at text not null,
    sent_at text,
    primary key (alert_id, channel, destination)
);
create table if not exists alert_delivery_attempts (
    alert_id text not null,
    channel text not null,
    destination text not null,
    attempted_at text not null,
    tries integer not null,      -- tries within this run (tenacity attempts)
    waited_seconds real not null, -- backoff and Retry-After waits between them
    status text not null check (status in ('sent', 'failed', 'skipped')),
    error text
);
"""


class DeliveryLog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(self.path)
        self.con.executescript(_SCHEMA)

    def close(self) -> None:
        self.con.close()

    def status(self, alert_id: str, channel: str, destination: str) -> str | None:
        row = self.con.execute(
            "select status from alert_deliveries"
            " where alert_id = ? and channel = ? and destination = ?",
            (alert_id, channel, destination),
        ).fetchone()
        return row[0] if row else None

    def record(
        self,
        alert: Alert,
        channel: str,
        destination: str,
        tries: int,
        error: str | None,
        status: str | None = None,
        waited: float = 0.0,
    ) -> None:
        self.record_key(
            alert.alert_id,
            channel,
            destination,
            tries,
            error,
            status,
            waited,
            day=str(alert.alert_date),
            kind=alert.alert_kind,
            team=alert.team,
        )

    def record_key(
        self,
        key: str,
        channel: str,
        destination: str,
        tries: int,
        error: str | None,
        status: str | None = None,
        waited: float = 0.0,
        *,
        day: str | None = None,
        kind: str | None = None,
        team: str | None = None,
    ) -> None:
        """Record one delivery of anything mailed: an alert (its alert_id) or a report
        (``report:<kind>:<period>:<team>``), in the same table, so neither goes twice."""
        now = datetime.now(UTC).isoformat()
        status = status or ("failed" if error else "sent")
        with self.con:
            self.con.execute(
                """
                insert into alert_deliveries values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                on conflict (alert_id, channel, destination) do update set
                    status = excluded.status,
                    attempts = attempts + excluded.attempts,
                    last_error = excluded.last_error,
                    last_attempted_at = excluded.last_attempted_at,
                    sent_at = excluded.sent_at
                """,
                (
                    key,
                    channel,
                    destination,
                    status,
                    tries,
                    error,
                    day,
                    kind,
                    team,
                    now,
                    now,
                    now if status == "sent" else None,
                ),
            )
            self.con.execute(
                "insert into alert_delivery_attempts values (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, channel, destination, now, tries, waited, status, error),
            )

    def forget(self, alert_id: str) -> int:
        """Drop an alert's delivery records, so the next run sends it again."""
        with self.con:
            return self.con.execute(
                "delete from alert_deliveries where alert_id = ?", (alert_id,)
            ).rowcount

    def rows(self) -> list[dict]:
        cur = self.con.execute(
            "select * from alert_deliveries order by first_attempted_at, alert_id, channel"
        )
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@contextmanager
def _one_delivery_run(ops_dir: Path) -> Iterator[None]:
    """Two delivery runs at once (the DAG and a hand-run CLI) would both see an alert
    unsent; the second waits for the first and then finds it sent."""
    lock = Path(ops_dir) / "alert_deliveries.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def airflow_connection(conn_id: str):
    """The Airflow Connection `conn_id` (metadata DB in a task, AIRFLOW_CONN_<ID> anywhere),
    or None when it is not defined."""
    from airflow.sdk import Connection

    try:
        return Connection.get(conn_id)
    except Exception:  # AirflowNotFoundException and friends: the route is off
        return None


def _secrets_of(conn) -> list[str]:
    """Every form in which a Connection's secrets could show up in an error message."""
    found = [conn.password] if conn.password else []
    if conn.conn_type != "smtp":
        url = webhook_url(conn)
        found += [url, url.split("://", 1)[-1].split("/", 1)[-1]]
    return [s for s in found if s and len(s) > 3]


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        for form in {secret, quote(secret), quote(secret, safe="")}:
            text = text.replace(form, "***")
    return text


def webhook_url(conn) -> str:
    """A webhook Connection's URL. The host may be a whole URL; the password (the
    Slack provider's convention for the token path, e.g. T000/B000/XXXX) is appended."""
    host = (conn.host or "").rstrip("/")
    if "://" not in host:
        scheme = (conn.extra_dejson or {}).get("scheme", "https")
        port = f":{conn.port}" if conn.port else ""
        path = f"/{conn.schema}" if conn.schema else ""
        host = f"{scheme}://{host}{port}{path}"
    return f"{host}/{conn.password.lstrip('/')}" if conn.password else host


def _truthy(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _figure(value) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}" if isinstance(value, int | float | Decimal) else str(value)


def subject(alert: Alert) -> str:
    severity = f"[{alert.severity}] " if alert.severity else ""
    return f"costbridge {severity}{alert.alert_kind} · {alert.team} · {alert.alert_date}"


def details(alert: Alert) -> list[tuple[str, str]]:
    currency = alert.reporting_currency or ""
    pairs = [
        ("Day", str(alert.alert_date)),
        ("Team", alert.team),
        ("Feature", alert.feature),
        ("Model", alert.model_id),
        ("Kind", alert.alert_kind),
        ("Metric", alert.metric),
        ("Observed", f"{_figure(alert.observed)} {currency}".strip()),
        ("Expected", f"{_figure(alert.expected)} {currency}".strip()),
        ("Threshold", _figure(alert.threshold)),
        ("Severity", alert.severity),
        ("Events", alert.events),
        ("Rule", alert.rule_id),
        ("Alert id", alert.alert_id),
    ]
    return [(k, str(v)) for k, v in pairs if v not in (None, "")]


def email_message(alert: Alert, sender: str, recipient: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject(alert)
    msg["From"] = sender
    msg["To"] = recipient
    # Stable per alert and address: a mail system that sees it twice can tell.
    msg["Message-ID"] = make_msgid(idstring=f"{alert.alert_id}", domain="costbridge.alerts")
    msg["X-Costbridge-Alert-Id"] = alert.alert_id
    body = [alert.message, ""] + [f"{k}: {v}" for k, v in details(alert)]
    msg.set_content("\n".join(body) + "\n")
    return msg


def webhook_payload(alert: Alert) -> dict:
    fields = [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in details(alert)[:10]]
    return {
        "text": f"{subject(alert)}: {alert.message}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": subject(alert)[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": alert.message}},
            {"type": "section", "fields": fields},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"alert_id `{alert.alert_id}`"}],
            },
        ],
    }


def _retrying(policy: RetryPolicy) -> tenacity.Retrying:
    exponential = tenacity.wait_exponential(multiplier=policy.first_wait, max=policy.max_wait)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, DeliveryError) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), policy.max_wait)
        return exponential(state)

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=wait,
        retry=tenacity.retry_if_exception(lambda e: isinstance(e, DeliveryError) and e.retriable),
        reraise=True,
    )


def smtp_sender(conn) -> str:
    extra = conn.extra_dejson or {}
    return extra.get("from_email") or conn.login or DEFAULT_FROM


def send_message(conn, message: EmailMessage, policy: RetryPolicy) -> None:
    """One mail over SMTP, whatever it carries (an alert, a report with its PDF). The
    Connection's extras mean what they mean to the Airflow SMTP provider (disable_ssl,
    disable_tls, from_email, timeout), so one Connection serves both."""
    extra = conn.extra_dejson or {}
    use_ssl = not _truthy(extra.get("disable_ssl", False))
    starttls = not use_ssl and not _truthy(extra.get("disable_tls", False))
    timeout = float(extra.get("timeout", policy.timeout))
    client_class = smtplib.SMTP_SSL if use_ssl else smtplib.SMTP
    port = conn.port or (465 if use_ssl else 25)
    recipient = message["To"]
    try:
        with client_class(conn.host, port, timeout=timeout) as client:
            if starttls:
                client.starttls()
            if conn.login and conn.password:
                client.login(conn.login, conn.password)
            client.send_message(message)
    except smtplib.SMTPResponseException as exc:
        # 4xx is the server saying "later"; 5xx is a refusal that retrying will not change.
        raise DeliveryError(
            f"SMTP {exc.smtp_code} from {conn.host}:{port}: {_smtp_text(exc.smtp_error)}",
            retriable=400 <= exc.smtp_code < 500,
        ) from None
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryError(f"SMTP refused recipient {recipient}", retriable=False) from None
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
        raise DeliveryError(
            f"SMTP server {conn.host}:{port} unreachable: {type(exc).__name__}: {exc}",
            retriable=True,
        ) from None


def send_email(conn, alert: Alert, recipient: str, policy: RetryPolicy) -> None:
    send_message(conn, email_message(alert, smtp_sender(conn), recipient), policy)


def _smtp_text(error) -> str:
    return error.decode(errors="replace") if isinstance(error, bytes) else str(error)


def post_webhook(conn, alert: Alert, policy: RetryPolicy) -> None:
    url = webhook_url(conn)
    try:
        response = requests.post(url, json=webhook_payload(alert), timeout=policy.timeout)
    except (TimeoutError, requests.ConnectionError, requests.Timeout) as exc:
        raise DeliveryError(
            f"webhook {conn.conn_id} unreachable: {type(exc).__name__}: {exc}", retriable=True
        ) from None
    if response.status_code < 300:
        return
    retry_after = response.headers.get("Retry-After")
    raise DeliveryError(
        f"webhook {conn.conn_id} answered HTTP {response.status_code}",
        retriable=response.status_code == 429 or response.status_code >= 500,
        retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
    )


def deliver_alerts(
    warehouse: Path,
    ops_dir: Path,
    *,
    policy: RetryPolicy = RetryPolicy(),
    smtp_conn_id: str = SMTP_CONN_ID,
    get_connection: Callable[[str], object] = airflow_connection,
) -> DeliverySummary:
    """Send every published alert not yet sent to each of its routes; return what happened.

    Failures are recorded and counted, never raised: the caller decides whether a
    failed delivery fails its task (`DeliverySummary.raise_for_failures`)."""
    summary = DeliverySummary()
    alerts = read_alerts(warehouse)
    connections: dict[str, object] = {}

    def connection(conn_id: str):
        if conn_id not in connections:
            connections[conn_id] = get_connection(conn_id)
            if connections[conn_id] is None:
                log.warning("Connection %s is not defined: its alerts wait until it is", conn_id)
        return connections[conn_id]

    with _one_delivery_run(ops_dir), closing(DeliveryLog(delivery_log_path(ops_dir))) as book:
        for alert, channel, destination in routes(alerts):
            status = book.status(alert.alert_id, channel, destination)
            if status == "sent":
                summary.skipped_already_sent += 1
                continue
            if status == "skipped":
                summary.skipped_baseline += 1
                continue
            conn = connection(smtp_conn_id if channel == EMAIL else destination)
            if conn is None:
                summary.not_configured += 1
                continue
            tries, waited, error = _deliver_one(conn, alert, channel, destination, policy)
            book.record(alert, channel, destination, tries, error, waited=waited)
            if error:
                summary.failed += 1
                summary.failures.append(f"{alert.alert_id} {channel} {destination}: {error}")
                log.warning(
                    "alert %s %s to %s failed after %d tries: %s",
                    alert.alert_id,
                    channel,
                    destination,
                    tries,
                    error,
                )
            else:
                summary.sent += 1
                log.info("alert %s sent by %s to %s", alert.alert_id, channel, destination)
    log.info("%s", summary)
    return summary


def _deliver_one(conn, alert: Alert, channel: str, destination: str, policy: RetryPolicy):
    """(tries, seconds waited, None) when delivered, (..., redacted error) when not."""
    if channel == EMAIL:
        return _attempt(conn, lambda: send_email(conn, alert, destination, policy), policy)
    return _attempt(conn, lambda: post_webhook(conn, alert, policy), policy)


def _attempt(conn, send: Callable[[], None], policy: RetryPolicy):
    """Run one delivery under the retry policy: (tries, seconds waited, redacted error or None)."""
    retrying = _retrying(policy)
    error = None
    try:
        for attempt in retrying:
            with attempt:
                send()
    except DeliveryError as exc:
        error = redact(str(exc), _secrets_of(conn))
    except Exception as exc:  # a bug or an odd server: record it, keep the other deliveries going
        error = redact(f"{type(exc).__name__}: {exc}", _secrets_of(conn))
    stats = retrying.statistics
    return stats.get("attempt_number", 1), round(stats.get("idle_for", 0.0), 6), error


def deliver_email_once(
    ops_dir: Path,
    key: str,
    recipient: str,
    build: Callable[[str], EmailMessage],
    *,
    kind: str | None = None,
    day: str | None = None,
    team: str | None = None,
    policy: RetryPolicy = RetryPolicy(),
    smtp_conn_id: str = SMTP_CONN_ID,
    get_connection: Callable[[str], object] = airflow_connection,
) -> str:
    """Mail ``build(sender)`` to one recipient unless the delivery log says ``key`` was
    already sent to them: the path every report takes, the same SMTP function, retries,
    lock and log as the alerts. Returns sent | already_sent | failed | not_configured."""
    with _one_delivery_run(ops_dir), closing(DeliveryLog(delivery_log_path(ops_dir))) as book:
        if book.status(key, EMAIL, recipient) in ("sent", "skipped"):
            return "already_sent"
        conn = get_connection(smtp_conn_id)
        if conn is None:
            log.warning("Connection %s is not defined: %s waits until it is", smtp_conn_id, key)
            return "not_configured"
        message = build(smtp_sender(conn))
        tries, waited, error = _attempt(conn, lambda: send_message(conn, message, policy), policy)
        book.record_key(
            key, EMAIL, recipient, tries, error, waited=waited, day=day, kind=kind, team=team
        )
    if error:
        log.warning("%s to %s failed after %d tries: %s", key, recipient, tries, error)
        return "failed"
    log.info("%s sent to %s", key, recipient)
    return "sent"


def deliver_for_settings(settings, **kwargs) -> DeliverySummary:
    return deliver_alerts(settings.warehouse_file, settings.ops_dir, **kwargs)


def baseline_alerts(warehouse: Path, ops_dir: Path, before: date) -> int:
    """Set aside every published alert of a day before `before` that was never delivered,
    on every route it names: recorded as skipped, never sent. For switching delivery on
    (or adding a route) without mailing the mart's whole history."""
    count = 0
    with _one_delivery_run(ops_dir), closing(DeliveryLog(delivery_log_path(ops_dir))) as book:
        for alert, channel, destination in routes(read_alerts(warehouse)):
            if (
                alert.alert_date < before
                and book.status(alert.alert_id, channel, destination) is None
            ):
                book.record(alert, channel, destination, 0, None, status="skipped")
                count += 1
    return count


def _settings(home: str | None):
    from warehouse.settings import Settings

    settings = Settings.from_env()
    if home:
        settings = Settings(home=Path(home).resolve(), sources_file=settings.sources_file)
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reports.alerts",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("deliver", "send every alert not yet sent"),
        ("status", "print the delivery log"),
        ("resend", "forget an alert's deliveries so the next run sends it again"),
        ("baseline", "set aside the unsent alerts of days before --before"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--home", help="COSTBRIDGE_HOME (default: the environment)")
        if name == "baseline":
            cmd.add_argument(
                "--before",
                type=date.fromisoformat,
                required=True,
                help="first day (YYYY-MM-DD) whose alerts are delivered",
            )
        if name == "resend":
            cmd.add_argument("alert_id")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    settings = _settings(args.home)

    if args.command == "deliver":
        summary = deliver_for_settings(settings)
        print(summary)
        for failure in summary.failures:
            print(f"  failed: {failure}")
        return 1 if summary.failed else 0
    if args.command == "baseline":
        count = baseline_alerts(settings.warehouse_file, settings.ops_dir, args.before)
        print(f"set aside {count} deliveries of alerts before {args.before}")
        return 0
    with closing(DeliveryLog(delivery_log_path(settings.ops_dir))) as book:
        if args.command == "resend":
            print(
                f"forgot {book.forget(args.alert_id)} deliveries of {args.alert_id};"
                " the next `deliver` sends it again"
            )
            return 0
        rows = book.rows()
    for row in rows:
        print(
            f"{row['status']:6} {row['alert_id']} {row['channel']:7} {row['destination']}"
            f" attempts={row['attempts']} last={row['last_attempted_at']}"
            + (f" error={row['last_error']}" if row["last_error"] else "")
        )
    counts = {s: sum(r["status"] == s for r in rows) for s in ("sent", "failed", "skipped")}
    print(f"{len(rows)} deliveries: " + " ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
