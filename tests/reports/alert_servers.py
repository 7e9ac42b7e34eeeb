"""Real delivery servers on loopback for the alert tests: an SMTP server (aiosmtpd)
that wants a login, and a Slack-compatible webhook receiver (http.server in a thread).
Each fixture starts its server and points the Airflow Connection (AIRFLOW_CONN_<ID>)
at it; both record what arrived."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER, SMTP_PASSWORD = "costbridge", "smtp-canary-pw-0123456789"
WEBHOOK_TOKEN = "T0CANARY/B0CANARY/webhook-canary-token-abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: keeps every message; answers 451 to the first `busy` DATA commands."""

    def __init__(self, busy: int = 0):
        self.messages = []
        self.busy = busy

    async def handle_DATA(self, server, session, envelope):
        if self.busy:
            self.busy -= 1
            return "451 4.3.0 try again later"
        message = message_from_bytes(envelope.content)
        self.messages.append((tuple(envelope.rcpt_tos), message))
        return "250 OK"

    def received(self) -> list[tuple[str, str]]:
        return sorted(
            (rcpt, m["X-Costbridge-Alert-Id"]) for rcpts, m in self.messages for rcpt in rcpts
        )


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (SMTP_USER, SMTP_PASSWORD)
    return AuthResult(success=ok, handled=False)  # False: the server answers 535 itself


@pytest.fixture
def smtp_server(monkeypatch):
    """A real SMTP server on loopback that wants a login, and the Connection to it."""
    servers = []

    def start(port: int | None = None, busy: int = 0) -> Mailbox:
        mailbox = Mailbox(busy)
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=port or free_port(),
            authenticator=_authenticate,
            auth_require_tls=False,
        )
        controller.start()
        servers.append(controller)
        point_smtp_at(monkeypatch, controller.port)
        return mailbox

    yield start
    for controller in servers:
        controller.stop()


def point_smtp_at(monkeypatch, port: int) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_COSTBRIDGE_SMTP",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": port,
                "login": SMTP_USER,
                "password": SMTP_PASSWORD,
                "extra": {
                    "disable_ssl": True,
                    "disable_tls": True,
                    "from_email": "costbridge@northwind.example",
                },
            }
        ),
    )


class Receiver(ThreadingHTTPServer):
    """A Slack-compatible incoming webhook: records each POST, answers from a script."""

    def __init__(self, statuses=()):
        self.posts = []
        self.statuses = list(statuses)  # (status, headers) answered first, then 200
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/services"

    def delivered(self) -> list[str]:
        """Alert ids of the posts answered 200."""
        return sorted(
            body["blocks"][-1]["elements"][0]["text"].split("`")[1]
            for path, body, status in self.posts
            if status == 200
        )


class _ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status, headers = self.server.statuses.pop(0) if self.server.statuses else (200, {})
        self.server.posts.append((self.path, body, status))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def webhook(monkeypatch):
    receivers = []

    def start(statuses=()) -> Receiver:
        receiver = Receiver(statuses)
        receivers.append(receiver)
        point_webhook_at(monkeypatch, receiver.base_url)
        return receiver

    yield start
    for receiver in receivers:
        receiver.shutdown()
        receiver.server_close()


def point_webhook_at(monkeypatch, base_url: str) -> None:
    # The Slack provider's shape: the token path is the Connection's password.
    monkeypatch.setenv(
        "AIRFLOW_CONN_GROWTH_WEBHOOK",
        json.dumps({"conn_type": "slackwebhook", "host": base_url, "password": WEBHOOK_TOKEN}),
    )
