"""Which reports are due, render them into the archive, and mail them once.

The reports DAG (dags/ai_finops_reports.py) and the CLI (python -m reports) both
come here. A scheduled or asset-triggered run asks for the periods due on its
run's day (`due_periods`: the last whole Monday-Sunday week and the last whole
month before it) with ``require_final=True``: a period is reported only when every
day of it is published final and no blocked gate run after the last publication
covers it (`PublishedMarts.not_reportable`); otherwise it is skipped with the
reason, rendered and mailed by a later run once the days are published. The CLI
renders any period as published (a partial period says so; an empty one renders
the "no published data" page), and mails only with ``--send``.

Mail goes through reports/alerts.py (`deliver_email_once`): the same SMTP
Connection, retries and delivery log as the alerts, keyed
``report:<kind>:<period>[:<team>]`` per address, so a rerun mails nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from reports import leadership, weekly
from reports.alerts import (
    SMTP_CONN_ID,
    RetryPolicy,
    airflow_connection,
    deliver_email_once,
    destinations,
)
from reports.marts import NoPublishedData, Period, PublishedMarts, RoleLabels
from reports.render import Rendered, write_index, write_report

log = logging.getLogger(__name__)

RECIPIENTS = ("report_kind", "recipient_name", "email")


@dataclass
class ReportRun:
    """What happened to one report: rendered (and its files), skipped (and why), mailed."""

    kind: str
    period: str
    name: str
    status: str  # rendered | no_data | skipped
    reason: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    deliveries: dict[str, str] = field(default_factory=dict)  # address -> sent | already_sent | ...
    warning: str | None = None

    @property
    def failed(self) -> list[str]:
        return [a for a, s in self.deliveries.items() if s == "failed"]


def semantic_manifest(settings) -> Path:
    """Where dbt build leaves the semantic manifest (warehouse/build.py)."""
    return settings.build_dir / "dbt" / "target" / "semantic_manifest.json"


def due_periods(run_day: date) -> dict[str, Period]:
    """The last whole week (Monday-Sunday) and the last whole month before the run's day."""
    this_week = Period.week_of(run_day)
    this_month = Period.month_of(run_day)
    return {
        "week": Period.week_of(this_week.start - timedelta(days=7)),
        "month": Period.month_of(this_month.start - timedelta(days=1)),
    }


def plan(params: dict | None, data_interval_end, run_after) -> dict[str, str]:
    """The periods a run reports, as Period keys: the params' week / month when given (a
    manual run), else those due on the run's day. A scheduled run's day is its data
    interval's end; an asset-triggered run has no data interval, so its day is run_after
    (when the publication that triggered it finished)."""
    params = params or {}
    moment = data_interval_end or run_after
    due = due_periods(moment.date())
    week = Period.parse("week", params["week"]) if params.get("week") else due["week"]
    month = Period.parse("month", params["month"]) if params.get("month") else due["month"]
    return {"week": week.key, "month": month.key, "run_day": moment.date().isoformat()}


def _already_reported(
    settings, kind: str, period: Period, names_keys: list[tuple[str, str, list[str]]]
) -> bool:
    """True when every report is archived and the delivery log has it sent to every
    address: a later run (the next publication) leaves what was mailed as it was."""
    from contextlib import closing

    from reports.alerts import EMAIL, DeliveryLog, delivery_log_path
    from reports.render import report_dir

    folder = report_dir(settings.home, kind, period.key)
    if not all((folder / f"{name}.pdf").exists() for name, _, _ in names_keys):
        return False
    with closing(DeliveryLog(delivery_log_path(settings.ops_dir))) as book:
        return all(
            book.status(key, EMAIL, address) == "sent"
            for _, key, addresses in names_keys
            for address in addresses
        )


def latest_whole_periods(settings) -> dict[str, Period]:
    """The last whole week and month the published data reaches (the demo shows these)."""
    with _open(settings, "the latest reports") as marts:
        as_of = marts.status().data_as_of
    if as_of is None:
        raise NoPublishedData(f"{settings.warehouse_file} holds no final day yet")
    return due_periods(as_of + timedelta(days=1))


@dataclass
class Mailer:
    """How reports are mailed: the alerts' SMTP Connection, retry policy and delivery log."""

    ops_dir: Path
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    smtp_conn_id: str = SMTP_CONN_ID
    get_connection: Callable[[str], object] = airflow_connection

    def send(self, report: Rendered, key: str, recipient: str, team: str | None) -> str:
        return deliver_email_once(
            self.ops_dir,
            key,
            recipient,
            lambda sender: report_email(report, key, sender, recipient),
            kind=report.kind,
            day=report.period_key,
            team=team,
            policy=self.policy,
            smtp_conn_id=self.smtp_conn_id,
            get_connection=self.get_connection,
        )


def report_email(report: Rendered, key: str, sender: str, recipient: str) -> EmailMessage:
    """The report as mail: a text part, the HTML with its charts as related cid: parts,
    and the PDF attached."""
    msg = EmailMessage()
    msg["Subject"] = f"costbridge · {report.title}"
    msg["From"] = sender
    msg["To"] = recipient
    msg["Message-ID"] = make_msgid(idstring=key.replace(":", "."), domain="costbridge.reports")
    msg["X-Costbridge-Report"] = key
    msg.set_content(report.text)
    msg.add_alternative(report.email_html, subtype="html")
    html_part = msg.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)  # add_alternative above made it
    for chart in report.charts:
        html_part.add_related(
            chart.png, "image", "png", cid=f"<{chart.cid}>", filename=f"{chart.name}.png"
        )
    msg.add_attachment(
        report.pdf,
        maintype="application",
        subtype="pdf",
        filename=f"costbridge-{report.kind}-{report.period_key}-{report.name}.pdf",
    )
    return msg


def _open(settings, reader: str) -> PublishedMarts:
    return PublishedMarts(settings.warehouse_file, reader, settings.ops_dir)


def weekly_reports(
    settings,
    period: Period,
    *,
    manifest: Path | None = None,
    teams: list[str] | None = None,
    send: bool = False,
    require_final: bool = False,
    mailer: Mailer | None = None,
) -> list[ReportRun]:
    """Each team's weekly report for one week: rendered, archived, and (send) mailed to its lead."""
    manifest = manifest or semantic_manifest(settings)
    labels = RoleLabels.load(manifest)
    mailer = mailer or Mailer(settings.ops_dir)
    runs = []
    with _open(settings, weekly.READER) as marts:
        if require_final and (reason := marts.not_reportable(period)):
            log.info("weekly team reports skipped: %s", reason)
            return [ReportRun(weekly.KIND, period.key, "*", "skipped", reason)]
        leads = weekly.leads(marts)
        known = weekly.teams(marts)
        if unknown := sorted(set(teams or ()) - set(known)):
            raise ValueError(
                f"no team {', '.join(unknown)} in the teams seed: one of {', '.join(known)}"
            )
        chosen = teams or known
        if require_final and _already_reported(
            settings,
            weekly.KIND,
            period,
            [
                (
                    t,
                    f"report:{weekly.KIND}:{period.key}:{t}",
                    destinations(leads[t].email if t in leads else None),
                )
                for t in chosen
            ],
        ):
            reason = f"the weekly team reports of {period.key} are archived and mailed already"
            log.info("%s", reason)
            return [ReportRun(weekly.KIND, period.key, "*", "skipped", reason)]
        for team in chosen:
            report = weekly.build(marts, labels, manifest, period, team, leads.get(team))
            run = ReportRun(
                weekly.KIND, period.key, team, "rendered" if report.has_data else "no_data"
            )
            run.files = {k: str(v) for k, v in write_report(settings.home, report).items()}
            if send and report.has_data:
                lead = leads.get(team)
                addresses = destinations(lead.email if lead else None)
                if not addresses:
                    run.warning = (
                        f"team {team} has no lead address in the seed team_leads:"
                        f" its weekly report {period.key} is archived, not mailed"
                    )
                    log.warning("%s", run.warning)
                key = f"report:{weekly.KIND}:{period.key}:{team}"
                for address in addresses:
                    run.deliveries[address] = mailer.send(report, key, address, team)
            runs.append(run)
    return runs


def leadership_report(
    settings,
    period: Period,
    *,
    manifest: Path | None = None,
    send: bool = False,
    require_final: bool = False,
    mailer: Mailer | None = None,
) -> ReportRun:
    """The leadership ROI report of one week or month: rendered, archived, (send) mailed."""
    manifest = manifest or semantic_manifest(settings)
    mailer = mailer or Mailer(settings.ops_dir)
    kind = leadership.KINDS[period.grain]
    with _open(settings, leadership.READER) as marts:
        if require_final and (reason := marts.not_reportable(period)):
            log.info("%s skipped: %s", kind, reason)
            return ReportRun(kind, period.key, "report", "skipped", reason)
        recipients = [
            r["email"]
            for r in marts.rows(
                "report_recipients", RECIPIENTS, "report_kind = ?", [kind], order_by="email"
            )
        ]
        key = f"report:{kind}:{period.key}"
        if (
            require_final
            and recipients
            and _already_reported(settings, kind, period, [("report", key, recipients)])
        ):
            reason = f"the {kind} report of {period.key} is archived and mailed already"
            log.info("%s", reason)
            return ReportRun(kind, period.key, "report", "skipped", reason)
        report = leadership.build(marts, RoleLabels.load(manifest), manifest, period)
    run = ReportRun(kind, period.key, "report", "rendered" if report.has_data else "no_data")
    run.files = {k: str(v) for k, v in write_report(settings.home, report).items()}
    if send and report.has_data:
        if not recipients:
            run.warning = f"the seed report_recipients names nobody for {kind}: archived only"
            log.warning("%s", run.warning)
        for address in recipients:
            run.deliveries[address] = mailer.send(report, key, address, None)
    return run


def index(settings) -> Path:
    return write_index(settings.home)


def describe(run: ReportRun) -> str:
    text = f"{run.kind} {run.period} {run.name}: {run.status}"
    if run.reason:
        text += f" ({run.reason})"
    if run.files.get("pdf"):
        text += f" -> {run.files['pdf']}"
    if run.deliveries:
        text += " mail: " + ", ".join(f"{a}={s}" for a, s in sorted(run.deliveries.items()))
    if run.warning:
        text += f" WARNING: {run.warning}"
    return text
