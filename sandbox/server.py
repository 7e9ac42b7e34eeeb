"""Loopback HTTP double of the OpenAI, Anthropic and Prometheus APIs.

    with serve(admin_keys={"openai": "sk-admin-canary-1"}) as api:
        requests.get(api.url + "/v1/organization/costs", ...)
        api.faults.add("/v1/organization/costs", status=429, count=1, retry_after=1)
        api.faults.add("/api/v1/query_range", kind="drop")  # cut the next answer mid-body
        api.requests  # what was asked, secrets removed

    with serve(fault_plan=FaultPlan(rate=0.3, seed=7)) as api:  # a seeded 30% of calls fail
        ...

Auth and error bodies follow each provider, so clients are tested against
the real failure shapes. The fault kinds (FAULT_KINDS) are the ones a real API and
the network between give: 429 with Retry-After, 500, 503, a timeout, a 200 cut in
half (honest or lying Content-Length), a connection dropped mid-body, and an empty
page that says has_more. `python -m sandbox serve` takes a plan from
COSTBRIDGE_SANDBOX_FAULTS, e.g. "rate=0.3,seed=7" (see FaultPlan.parse).
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
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
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}
    if provider == "anthropic":
        anthropic_kinds = {
            400: "invalid_request_error",
            401: "authentication_error",
            404: "not_found_error",
            429: "rate_limit_error",
            529: "overloaded_error",
        }
        return {
            "type": "error",
            "error": {"type": anthropic_kinds.get(status, "api_error"), "message": message},
        }
    prometheus_kinds = {400: "bad_data", 422: "execution", 503: "unavailable"}
    return {
        "status": "error",
        "errorType": prometheus_kinds.get(status, "internal"),
        "error": message,
    }


# What a fault does to an answer. Status faults replace it with the provider's error;
# "empty_page" answers a paged list with no data, has_more true and the cursor that was
# asked for (only where the API pages: OpenAI and Anthropic); the others break the
# transport: "timeout" stalls past the client's read timeout before any byte,
# "truncated" sends half the JSON with a Content-Length that matches it, "short_body"
# promises the whole length and closes after half, and "drop" cuts a chunked body
# mid-chunk (the client sees ChunkedEncodingError).
STATUS_FAULTS = {"429": 429, "500": 500, "503": 503}
TRANSPORT_FAULTS = ("timeout", "truncated", "short_body", "drop")
FAULT_KINDS = (*STATUS_FAULTS, *TRANSPORT_FAULTS, "empty_page")
# Bugs of an API, not passing faults: only scripted (Faults.add), never drawn by a plan.
# "repeat_cursor" answers a page asked with a cursor with the real page whose
# next_page is that same cursor again (a client that follows it loops for ever).
API_BUGS = ("repeat_cursor",)
PAGED_PROVIDERS = ("openai", "anthropic")


@dataclass
class Fault:
    path_prefix: str
    status: int
    count: int
    retry_after: float | None
    body: str | bytes | None
    kind: str | None = None
    stall: float = 2.0


@dataclass
class Faults:
    """Failures to inject: the next `count` requests under a path fail."""

    _items: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        path_prefix: str,
        *,
        status: int = 429,
        count: int = 1,
        retry_after: float | None = None,
        body: str | bytes | None = None,
        kind: str | None = None,
        stall: float = 2.0,
    ) -> None:
        """Fail the next `count` matching requests with `status`, or with a `kind`.

        `body` None sends the provider's own error body; a string or bytes is
        sent verbatim (e.g. truncated JSON with status 200). `kind` is one of
        FAULT_KINDS, as the seeded FaultPlan draws them; a "timeout" holds the
        answer back `stall` seconds.
        """
        if kind is not None and kind not in (*FAULT_KINDS, *API_BUGS):
            raise ValueError(
                f"unknown fault kind {kind!r}; known: {', '.join((*FAULT_KINDS, *API_BUGS))}"
            )
        with self._lock:
            self._items.append(Fault(path_prefix, status, count, retry_after, body, kind, stall))

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


@dataclass
class FaultPlan:
    """A seeded share of calls that fail, each with a kind drawn from `kinds`.

    The same seed and the same order of calls give the same faults, so a failing
    chaos run can be replayed. `retry_after` is the 429's Retry-After in seconds;
    `stall` is how long a "timeout" holds the answer back (longer than the client's
    read timeout). Rate 1.0 is a source that is down through every retry.
    """

    rate: float = 0.3
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    retry_after: float = 1.0
    stall: float = 2.0
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds:
            raise ValueError(
                f"FaultPlan: unknown fault kinds {sorted(unknown)}; known: {', '.join(FAULT_KINDS)}"
            )
        if not 0 <= self.rate <= 1:
            raise ValueError(f"FaultPlan: rate must be in [0, 1], got {self.rate!r}")
        self.kinds = tuple(self.kinds)
        self._random = random.Random(self.seed)

    def draw(self, provider: str) -> str | None:
        """The fault for the next call to `provider`, or None for a clean answer."""
        kinds = [k for k in self.kinds if k != "empty_page" or provider in PAGED_PROVIDERS] or [
            "503"
        ]
        with self._lock:
            if self._random.random() >= self.rate:
                return None
            return self._random.choice(kinds)

    @classmethod
    def parse(cls, text: str) -> FaultPlan:
        """`rate=0.3,seed=7[,kinds=429+drop,retry_after=0,stall=1]` (COSTBRIDGE_SANDBOX_FAULTS)."""
        fields: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, _, value = item.partition("=")
            key = key.strip()
            try:
                if key == "kinds":
                    fields[key] = tuple(filter(None, value.split("+")))
                elif key == "seed":
                    fields[key] = int(value)
                elif key in ("rate", "retry_after", "stall"):
                    fields[key] = float(value)
                else:
                    raise ValueError(f"unknown key {key!r}")
            except ValueError as exc:
                raise ValueError(f"COSTBRIDGE_SANDBOX_FAULTS {text!r}: {exc}") from None
        return cls(**fields)


class SandboxServer:
    """A running double: `.url`, `.stop()`, `.faults`, `.requests`."""

    def __init__(
        self,
        org: DemoOrg,
        host: str,
        port: int,
        admin_keys: Mapping[str, str | Iterable[str]],
        fault_plan: FaultPlan | None = None,
    ):
        self.org = org
        self.keys = {p: {k} if isinstance(k, str) else set(k) for p, k in admin_keys.items()}
        self.faults = Faults()
        # Seeded faults on a share of all calls; None (or rate 0) answers every call.
        self.fault_plan = fault_plan
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.sandbox = self  # type: ignore[attr-defined]
        # A short poll interval makes stop() quick (the default waits 0.5 s).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), daemon=True, name="sandbox-server"
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

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

    def respond(
        self, method: str, path: str, params: apis.Params, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes, str | None, float]:
        """The answer, the fault to send it with (None: send it whole), and the stall
        before any byte of it (the "timeout" fault's)."""
        provider = provider_of(path)
        fault = self.faults.take(path)
        if fault is not None and fault.kind is None:
            return (*self._fault_response(provider, fault), str(fault.status), 0.0)
        if fault is not None:
            kind, retry_after, stall = fault.kind, fault.retry_after, fault.stall
        elif self.fault_plan is not None:
            plan = self.fault_plan
            kind, retry_after, stall = plan.draw(provider), plan.retry_after, plan.stall
        else:
            kind, retry_after, stall = None, None, 0.0
        if kind in STATUS_FAULTS:
            status = STATUS_FAULTS[kind]
            after = (retry_after if retry_after is not None else 1.0) if status == 429 else None
            return (*self._fault_response(provider, Fault(path, status, 1, after, None)), kind, 0.0)
        status, out_headers, body = self.handle(method, path, params, headers)
        if kind == "repeat_cursor" and apis.one(params, "page") and status == 200:
            page = json.loads(body)
            return (
                *self._json(200, page | {"has_more": True, "next_page": apis.one(params, "page")}),
                kind,
                0.0,
            )
        if kind == "empty_page":
            page = json.loads(body) if status == 200 else None
            if not isinstance(page, dict) or "has_more" not in page:
                # Not a paged answer: fail it as an overloaded server would instead.
                return (*self._json(503, error_body(provider, 503)), "503", 0.0)
            empty = page | {"data": [], "has_more": True, "next_page": apis.one(params, "page")}
            return (*self._json(200, empty), kind, 0.0)
        return status, out_headers, body, kind, stall if kind == "timeout" else 0.0

    def handle(
        self, method: str, path: str, params: apis.Params, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        provider = provider_of(path)
        denied = self._check_auth(provider, headers)
        if denied:
            return self._json(denied[0], denied[1])
        routes = {
            "/v1/organization/costs": lambda: apis.openai_costs(self.org, params),
            "/v1/organization/usage/completions": lambda: apis.openai_usage(
                self.org, "completions", params
            ),
            "/v1/organization/usage/embeddings": lambda: apis.openai_usage(
                self.org, "embeddings", params
            ),
            "/v1/organizations/usage_report/messages": lambda: apis.anthropic_usage(
                self.org, params
            ),
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
                return 401, error_body(
                    "openai",
                    401,
                    "Incorrect API key provided. You can "
                    "find your API key at https://platform.openai.com.",
                )
        elif provider == "anthropic":
            if headers.get("x-api-key", "") not in self.keys.get("anthropic", set()):
                return 401, error_body("anthropic", 401, "invalid x-api-key")
            if not headers.get("anthropic-version"):
                return 400, error_body("anthropic", 400, "anthropic-version: header is required")
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
        status, out_headers, body, fault, stall = sandbox.respond(
            method, parts.path, params, headers
        )
        sandbox.log(
            {
                "method": method,
                "path": parts.path,
                "query": params,
                "headers": {k: v for k, v in headers.items() if k not in SECRET_HEADERS},
                "status": status,
                "fault": fault,
            }
        )
        if stall:
            time.sleep(stall)  # no byte before the client's read timeout; then the answer
        try:
            self._send(status, out_headers, body, fault)
        except OSError:
            # The client gave up first (it timed out, or saw the cut): nothing to answer.
            self.close_connection = True

    def _send(
        self, status: int, headers: Mapping[str, str], body: bytes, fault: str | None
    ) -> None:
        half = body[: len(body) // 2]
        if fault in ("truncated", "short_body", "drop"):
            # The rest of a cut answer would be read as the next response: close after it.
            self.close_connection = True
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if fault == "drop":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            # One chunk that promises the whole body and stops half way, then the socket
            # closes: no final chunk ever comes.
            self.wfile.write(f"{len(body):x}\r\n".encode() + half)
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        sent = half if fault == "truncated" else body
        self.send_header("Content-Length", str(len(sent)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if fault == "short_body":
            self.wfile.write(half)
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(sent)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request log is `.requests`; stderr stays quiet in tests


def default_admin_keys() -> dict[str, str]:
    return {
        "openai": os.environ.get("OPENAI_ADMIN_KEY") or DEMO_KEYS["openai"],
        "anthropic": os.environ.get("ANTHROPIC_ADMIN_KEY") or DEMO_KEYS["anthropic"],
    }


def serve(
    org: DemoOrg | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    admin_keys: Mapping[str, str | Iterable[str]] | None = None,
    fault_plan: FaultPlan | None = None,
) -> SandboxServer:
    """Start the double in a daemon thread; port 0 picks a free port.

    `fault_plan` None takes one from COSTBRIDGE_SANDBOX_FAULTS when that is set.
    """
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"sandbox.serve: loopback only, not {host!r}")
    if fault_plan is None and os.environ.get("COSTBRIDGE_SANDBOX_FAULTS"):
        fault_plan = FaultPlan.parse(os.environ["COSTBRIDGE_SANDBOX_FAULTS"])
    return SandboxServer(
        org or DemoOrg.load(), host, port, admin_keys or default_admin_keys(), fault_plan
    )
