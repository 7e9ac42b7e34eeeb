"""The real mart_ops__alerts of the month-long demo, delivered to a real SMTP server and
webhook receiver on loopback: every alert reaches each of its routes once, and neither
a rerun nor a rebuilt (republished) warehouse sends anything again."""

from __future__ import annotations

import json
import shutil

from reports.alerts import RetryPolicy, deliver_alerts
from tests.insights.conftest import published_warehouse, rebuild, rows
from tests.reports.alert_servers import WEBHOOK_TOKEN

FAST = RetryPolicy(attempts=2, first_wait=0.01, max_wait=0.05, timeout=5)
ROUTED = """select alert_id, team, alert_kind, alert_date, email, webhook_conn_id
            from mart_ops__alerts"""


def split(cell):
    return [part.strip() for part in (cell or "").split(",") if part.strip()]


def test_the_months_alerts_arrive_once_each_across_reruns_and_republishing(
    month_home, tmp_path, smtp_server, webhook, monkeypatch
):
    warehouse = tmp_path / "published" / "costbridge.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(published_warehouse(month_home), warehouse)
    ops = tmp_path / "ops"
    mailbox = smtp_server()
    receiver = webhook()
    alerts = rows(warehouse, ROUTED)
    for conn_id in {c for *_, hooks in alerts for c in split(hooks)}:
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}",
            json.dumps(
                {"conn_type": "slackwebhook", "host": receiver.base_url, "password": WEBHOOK_TOKEN}
            ),
        )

    first = deliver_alerts(warehouse, ops, policy=FAST)

    mails = sorted(
        (address, alert_id) for alert_id, *_, email, _ in alerts for address in split(email)
    )
    posts = sorted(alert_id for alert_id, *_, hooks in alerts for _ in split(hooks))
    assert (first.sent, first.failed, first.not_configured) == (len(mails) + len(posts), 0, 0)
    assert mailbox.received() == mails
    assert receiver.delivered() == posts
    # The campaign spike reaches growth's own channels and the FinOps lead's.
    spike = [a for a in alerts if a[1] == "growth" and a[2] == "spike"]
    assert len(spike) == 1
    assert ("growth-leads@northwind.example", spike[0][0]) in mails
    assert ("finops@northwind.example", spike[0][0]) in mails
    assert posts.count(spike[0][0]) == 2

    rerun = deliver_alerts(warehouse, ops, policy=FAST)
    assert (rerun.sent, rerun.skipped_already_sent) == (0, first.sent)

    # Blue/green: the same days rebuilt into a new file and published over the old one.
    rebuilt, result = rebuild(month_home, tmp_path / "rebuild", ["mart_ops__alerts"])
    assert result.returncode == 0, result.stdout[-3000:]
    shutil.copyfile(rebuilt, warehouse)
    republished = deliver_alerts(warehouse, ops, policy=FAST)
    assert (republished.sent, republished.skipped_already_sent) == (0, first.sent)
    assert len(mailbox.received()) == len(mails)
