"""Fixtures for the extractor tests: a loopback HTTP double and fast retries.

The double is a plain ``http.server`` on 127.0.0.1 whose routes the test supplies;
it records every request (path, query, headers) so tests can check what was asked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3.util.retry


def landed_days(landing: Path) -> list[Path]:
    """The day partitions under ``landing``: what a failed run must not have left.

    The per-dataset lock file a run takes is not a landing, so the source folder
    may exist; a ``date=`` folder may not.
    """
    return sorted(p for p in landing.rglob("date=*") if p.is_dir())


# (query as parse_qs gives it, request headers) -> (status, headers, body)
Handler = Callable[[dict[str, list[str]], dict[str, str]], tuple[int, dict[str, str], Any]]


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Double:
    url: str
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def api() -> Double:
    double = Double(url="")

    class Handle(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            headers = {k.lower(): v for k, v in self.headers.items()}
            double.requests.append(Seen(parts.path, query, headers))
            handler = double.routes.get(parts.path)
            if handler is None:
                status, extra, body = 404, {}, {"error": {"message": f"no route {parts.path}"}}
            else:
                status, extra, body = handler(query, headers)
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", extra.pop("Content-Type", "application/json"))
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    double.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield double
    server.shutdown()
    server.server_close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record urllib3's retry sleeps instead of sleeping, so backoff is checked, not waited."""
    recorded: list[float] = []
    monkeypatch.setattr(urllib3.util.retry.time, "sleep", recorded.append)
    return recorded


FAST = {"retry_total": 3, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}


@pytest.fixture(scope="module")
def org():
    from sandbox.org import DemoOrg

    return DemoOrg.load()


@pytest.fixture(scope="module")
def running(org, request):
    """One sandbox double per module (stopping one takes half a second).

    It accepts the module's ``ADMIN_KEYS`` (canary values the tests then look for).
    """
    from sandbox.server import serve

    with serve(org, admin_keys=request.module.ADMIN_KEYS) as double:
        yield double


@pytest.fixture
def server(running):
    """The module's double, with no faults and an empty request log for each test."""
    running.faults.clear()
    running.requests.clear()
    yield running
    running.faults.clear()


def api_source(name: str, server, secret: dict[str, str], **options):
    """A source of type ``name`` pointed at the double, with fast retries."""
    from extractors.config import SourceConfig

    return SourceConfig(name, name, {"base_url": server.url, "api_key": secret, **FAST, **options})


def extract_into(tmp_path, src, start, end, secrets):
    from extractors import run_source

    return run_source(
        src,
        start,
        end,
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
        secrets=secrets,
    )


def landed_table(tmp_path, source_name: str, dataset: str):
    import pyarrow.dataset as ds

    return ds.dataset(tmp_path / "landing" / source_name / dataset, format="parquet").to_table()
