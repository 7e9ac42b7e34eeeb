"""Loopback HTTP double of the OpenAI, Anthropic and Prometheus APIs.

    with serve(admin_keys={"openai": "sk-admin-canary-1"}) as api:
        requests.get(api.url + "/v1/organization/costs", ...)
        api.faults.add("/v1/organization/costs", status=429, count=1, retry_after=1)
        api.requests  # what was asked, secrets removed

Auth and error bodies follow each provider, so clients are tested against
the real failure shapes.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox import apis
from sandbox.org import DemoOrg

DEMO_KEYS = {"openai": "sk-admin-demo-northwind", "anthropic": "sk-ant-admin01-demo-northwind"}
SECRET_HEADERS = {"authorization", "x-api-key", "cookie", "proxy-authorization"}


def provider_of(path: str) -> str:
    if path.startswith("/v1/organization/"):
        return "openai"
    if path.startswith("/v1/organizations/"):
        return "anthropic"
    return "prometheus"


def default_message(status: int) -> str:
    if status == 429:
        return "Rate limit reached for requests. Please try again later."
    if status == 529:
        return "Overloaded"
    return "The server had an error while processing your request. Sorry about that!"


def error_body(provider: str, status: int, message: str | None = None) -> dict[str, Any]:
    """The error body each provider sends for a status."""
    message = message or default_message(status)
    if provider == "openai":
        kinds = {
            400: ("invalid_request_error", None),
            401: ("invalid_request_error", "invalid_api_key"),
            404: ("invalid_request_error", "unknown_url"),
            429: ("requests", "rate_limit_exceeded"),
        }
        kind, code = kinds.get(status, ("server_error", None))
        return {"error": {"message": message, "type": kind, "param": None,
                          "code": code}}
    if provider == "anthropic":
        kinds = {400: "invalid_request_error", 401: "authentication_error",
                 404: "not_found_error", 429: "rate_limit_error", 529: "overloaded_error"}
        return {"type": "error", "error": {"type": kinds.get(status, "api_error"),
                                           "message": message}}
    kinds = {400: "bad_data", 422: "execution", 503: "unavailable"}
    return {"status": "error", "errorType": kinds.get(status, "internal"),
            "error": message}


@dataclass
class Fault:
    path_prefix: str
    status: int
    count: int
    retry_after: float | None
    body: str | bytes | None


@dataclass
class Faults:
    """Failures to inject: the next `count` requests under a path fail."""

    _items: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path_prefix: str, *, status: int = 429, count: int = 1,
            retry_after: float | None = None, body: str | bytes | None = None) -> None:
        """Fail the next `count` matching requests with `status`.

        `body` None sends the provider's own error body; a string or bytes is
        sent verbatim (e.g. truncated JSON with status 200).
        """
        with self._lock:
            self._items.append(Fault(path_prefix, status, count, retry_after, body))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._items:
                if path.startswith(fault.path_prefix) and fault.count > 0:
                    fault.count -= 1
                    return fault
        return None


class SandboxServer:
    """A running double: `.url`, `.stop()`, `.faults`, `.requests`."""

    def __init__(self, org: DemoOrg, host: str, port: int,
                 admin_keys: Mapping[str, str | Iterable[str]]):
        self.org = org
        self.keys = {p: {k} if isinstance(k, str) else set(k) for p, k in admin_keys.items()}
        self.faults = Faults()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.sandbox = self  # type: ignore[attr-defined]
        # A short poll interval makes stop() quick (the default waits 0.5 s).
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True, name="sandbox-server")
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)

    # -- dispatch ------------------------------------------------------------

    def handle(self, method: str, path: str, params: apis.Params,
               headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        provider = provider_of(path)
        fault = self.faults.take(path)
        if fault:
            return self._fault_response(provider, fault)
        denied = self._check_auth(provider, headers)
        if denied:
            return self._json(denied[0], denied[1])
        routes = {
            "/v1/organization/costs": lambda: apis.openai_costs(self.org, params),
            "/v1/organization/usage/completions":
                lambda: apis.openai_usage(self.org, "completions", params),
            "/v1/organization/usage/embeddings":
                lambda: apis.openai_usage(self.org, "embeddings", params),
            "/v1/organizations/usage_report/messages":
                lambda: apis.anthropic_usage(self.org, params),
            "/v1/organizations/cost_report": lambda: apis.anthropic_costs(self.org, params),
            "/api/v1/query_range": lambda: apis.prometheus_query_range(self.org, params),
        }
        route = routes.get(path.rstrip("/"))
        if route is None or (method == "POST" and provider != "prometheus"):
            return self._json(404, error_body(provider, 404, f"Unknown path {path}"))
        try:
            status, body = route()
        except apis.BadRequest as exc:
            return self._json(400, error_body(provider, 400, str(exc)))
        return self._json(status, body)

    def _check_auth(self, provider: str, headers: Mapping[str, str]):
        if provider == "openai":
            auth = headers.get("authorization", "")
            token = auth[7:] if auth.lower().startswith("bearer ") else ""
            if token not in self.keys.get("openai", set()):
                return 401, error_body("openai", 401, "Incorrect API key provided. You can "
                                       "find your API key at https://platform.openai.com.")
        elif provider == "anthropic":
            if headers.get("x-api-key", "") not in self.keys.get("anthropic", set()):
                return 401, error_body("anthropic", 401, "invalid x-api-key")
            if not headers.get("anthropic-version"):
                return 400, error_body("anthropic", 400,
                                       "anthropic-version: header is required")
        return None

    def _fault_response(self, provider: str, fault: Fault):
        extra = {}
        if fault.retry_after is not None:
            extra["Retry-After"] = f"{fault.retry_after:g}"
        if fault.body is None:
            status, headers, body = self._json(fault.status, error_body(provider, fault.status))
        else:
            body = fault.body.encode() if isinstance(fault.body, str) else fault.body
            status, headers = fault.status, {"Content-Type": "application/json"}
        return status, headers | extra, body

    @staticmethod
    def _json(status: int, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients with sessions expect

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve("GET", "")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self._serve("POST", self.rfile.read(length).decode("utf-8", "replace"))

    def _serve(self, method: str, form: str) -> None:
        sandbox: SandboxServer = self.server.sandbox  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        params = parse_qs(parts.query, keep_blank_values=True)
        for k, v in parse_qs(form, keep_blank_values=True).items():
            params.setdefault(k, []).extend(v)
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, out_headers, body = sandbox.handle(method, parts.path, params, headers)
        sandbox.log({
            "method": method,
            "path": parts.path,
            "query": params,
            "headers": {k: v for k, v in headers.items() if k not in SECRET_HEADERS},
            "status": status,
        })
        self.send_response(status)
        for k, v in out_headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request log is `.requests`; stderr stays quiet in tests


def default_admin_keys() -> dict[str, str]:
    return {
        "openai": os.environ.get("OPENAI_ADMIN_KEY") or DEMO_KEYS["openai"],
        "anthropic": os.environ.get("ANTHROPIC_ADMIN_KEY") or DEMO_KEYS["anthropic"],
    }


def serve(org: DemoOrg | None = None, host: str = "127.0.0.1", port: int = 0,
          admin_keys: Mapping[str, str | Iterable[str]] | None = None) -> SandboxServer:
    """Start the double in a daemon thread; port 0 picks a free port."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"sandbox.serve: loopback only, not {host!r}")
    return SandboxServer(org or DemoOrg.load(), host, port, admin_keys or default_admin_keys())
