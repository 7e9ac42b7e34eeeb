"""The weekly team reports on the month-long demo warehouse, and how the reports are
mailed: a real SMTP server on loopback (tests/reports/alert_servers.py), the alerts'
delivery log, a team with no lead address."""

from __future__ import annotations

import logging
import re

import pytest

from reports.alerts import RetryPolicy, delivery_log_path
from reports.marts import Period, money
from reports.run import Mailer, leadership_report, weekly_reports
from tests.reports.report_helpers import copy_home, first_page_png, flat_text, ink, sql

FAST = RetryPolicy(attempts=3, first_wait=0.01, max_wait=0.05, timeout=5)
CAMPAIGN_WEEK = Period.parse("week", "2026-W43")  # Autumn launch, 2026-10-20 .. 22


@pytest.fixture
def settings(month_home, tmp_path):
    return copy_home(month_home, tmp_path / "home")


def _mails(mailbox):
    return [(rcpt, message) for rcpts, message in mailbox.messages for rcpt in rcpts]


def test_the_campaign_week_report_names_the_campaign(settings):
    (run,) = weekly_reports(settings, CAMPAIGN_WEEK, teams=["growth"])
    assert run.status == "rendered"
    text = flat_text(run.files["pdf"])
    assert "Autumn launch" in text
    # The narrative tells the campaign as the driver of the feature it drove.
    assert "from ad-copy-gen (campaign 'Autumn launch'" in text
    ((spend,),) = sql(
        settings,
        """
        select sum(effective_cost) from mart_finance__unit_cost where period_grain = 'day'
          and team = 'growth' and period_start between '2026-10-19' and '2026-10-25'""",
    )
    assert f"Spend this week {money(spend, 'USD')}" in text
    png = first_page_png(run.files["pdf"], "weekly-team-growth-2026-W43-page1")
    assert ink(png) > 0.03


def test_a_team_without_a_lead_is_skipped_with_a_warning_and_the_others_go(
    settings, smtp_server, caplog
):
    mailbox = smtp_server()
    sql(settings, "update team_leads set email = null where team = 'content'")
    leads = dict(sql(settings, "select team, email from team_leads where email is not null"))
    mailer = Mailer(settings.ops_dir, policy=FAST)

    with caplog.at_level(logging.WARNING, logger="reports.run"):
        runs = weekly_reports(settings, CAMPAIGN_WEEK, send=True, mailer=mailer)

    assert {r.name: r.status for r in runs} == {t: "rendered" for t in [*leads, "content"]}
    assert "team content has no lead address" in caplog.text
    content = next(r for r in runs if r.name == "content")
    assert content.deliveries == {} and content.warning
    assert (settings.home / "reports" / "weekly-team" / "2026-W43" / "content.pdf").exists()
    received = _mails(mailbox)
    assert sorted(rcpt for rcpt, _ in received) == sorted(leads.values())
    for rcpt, message in received:
        team = message["X-Costbridge-Report"].rsplit(":", 1)[1]
        assert leads[team] == rcpt
        pdfs = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
        assert len(pdfs) == 1
        assert pdfs[0].get_filename() == f"costbridge-weekly-team-2026-W43-{team}.pdf"
        assert pdfs[0].get_payload(decode=True).startswith(b"%PDF")

    # A rerun (the DAG's retry, the next publication, a hand-run CLI) mails nothing again.
    again = weekly_reports(settings, CAMPAIGN_WEEK, send=True, mailer=mailer)
    assert len(_mails(mailbox)) == len(leads)
    assert {s for r in again for s in r.deliveries.values()} == {"already_sent"}
    # One log for alerts and reports, keyed report:<kind>:<period>:<team>.
    import sqlite3

    with sqlite3.connect(delivery_log_path(settings.ops_dir)) as con:
        keys = {k for (k,) in con.execute("select alert_id from alert_deliveries")}
    assert "report:weekly-team:2026-W43:growth" in keys


def test_the_leadership_report_is_mailed_once_with_its_pdf_and_charts(settings, smtp_server):
    mailbox = smtp_server()
    mailer = Mailer(settings.ops_dir, policy=FAST)
    recipients = [
        e
        for (e,) in sql(
            settings, "select email from report_recipients where report_kind = 'leadership-monthly'"
        )
    ]
    october = Period.parse("month", "2026-10")

    run = leadership_report(settings, october, send=True, mailer=mailer)
    leadership_report(settings, october, send=True, mailer=mailer)

    received = _mails(mailbox)
    assert sorted(r for r, _ in received) == sorted(recipients)
    _, message = received[0]
    assert message["X-Costbridge-Report"] == "report:leadership-monthly:2026-10"
    parts = list(message.walk())
    images = [p for p in parts if p.get_content_type() == "image/png"]
    html = next(p for p in parts if p.get_content_type() == "text/html").get_payload(decode=True)
    cids = set(re.findall(rb'src="cid:([^"]+)"', html))
    assert len(images) == 4 and {p["Content-ID"].strip("<>").encode() for p in images} == cids
    pdf = next(p for p in parts if p.get_content_type() == "application/pdf")
    assert pdf.get_payload(decode=True) == open(run.files["pdf"], "rb").read()
