"""HTTP for API sources: a retrying session, classified errors, and a cursor paginator.

Retries are urllib3's ``Retry`` (429 and 5xx, ``Retry-After`` honoured, exponential
backoff), not a hand-written backoff. urllib3 retries only what happens before the
response headers arrive, so a body cut mid-read (a dropped connection, a short
Content-Length, a stall) or a 200 whose JSON does not parse is retried here, around
the request, with the same ``Retry`` counting and backoff and within the same
``retry_total``. Headers are never logged (they carry the bearer token); URLs in
messages lose their user, password and credential-like query values
(``extractors.errors.redact_url``, one rule for every message).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ProtocolError
from urllib3.util.retry import Retry

from extractors.errors import FatalSourceError, RetriableSourceError, redact_url

log = logging.getLogger(__name__)

USER_AGENT = "costbridge-extractors/0.1 (+https://github.com/costbridge)"
# 529 is Anthropic's "overloaded", a transient answer like 503.
RETRY_STATUSES = (429, 500, 502, 503, 504, 529)


@dataclass(frozen=True)
class RetryPolicy:
    total: int = 5
    backoff_factor: float = 1.0
    backoff_max: float = 120.0
    # A server's Retry-After is obeyed up to this many seconds, so it cannot hold a task
    # (and its worker slot) for an hour; beyond it the retry comes sooner than asked.
    retry_after_max: float = 300.0
    # Seconds: (connect, read).
    timeout: tuple[float, float] = (10.0, 120.0)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RetryPolicy:
        base = cls()
        timeout = options.get("timeout", base.timeout)
        if isinstance(timeout, int | float):  # one number: the same for connect and read
            timeout = (timeout, timeout)
        return cls(
            total=int(options.get("retry_total", base.total)),
            backoff_factor=float(options.get("retry_backoff_factor", base.backoff_factor)),
            backoff_max=float(options.get("retry_backoff_max", base.backoff_max)),
            retry_after_max=float(options.get("retry_after_max", base.retry_after_max)),
            timeout=(float(timeout[0]), float(timeout[1])),
        )


def make_retry(policy: RetryPolicy) -> Retry:
    """urllib3's retry schedule for the policy: the session's and the body retries' alike."""
    return Retry(
        total=policy.total,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        respect_retry_after_header=True,
        retry_after_max=policy.retry_after_max,  # type: ignore[arg-type]  # a float is fine
        # Return the last response instead of raising, so its body can go in the error.
        raise_on_status=False,
    )


class RetryBudget:
    """What is left of ``retry_total`` for one request (or one page), and its backoff.

    Counting is urllib3's ``Retry.increment``, sleeping is ``Retry.sleep`` (exponential
    backoff, or the server's ``Retry-After`` on a 429/503), so a retry made here waits
    exactly as one made by the session would.
    """

    def __init__(self, policy: RetryPolicy):
        self.retry = make_retry(policy)
        self.used = 0

    def spend(self, reason: str, response: requests.Response | None = None) -> bool:
        """Count one failed attempt; sleep and return True while retries are left."""
        raw = getattr(response, "raw", None)
        # The session's own status retries for this attempt came out of the same budget.
        earlier = getattr(getattr(raw, "retries", None), "history", ()) or ()
        if earlier:
            self.retry = self.retry.new(
                total=self.retry.total - len(earlier),  # type: ignore[operator]
                history=self.retry.history + tuple(earlier),
            )
            self.used += len(earlier)
        try:
            self.retry = self.retry.increment(method="GET", error=ProtocolError(reason))
        except MaxRetryError:
            return False
        self.used += 1
        self.retry.sleep(raw if raw is not None and hasattr(raw, "headers") else None)
        return True


class _BodyFault(Exception):
    """The answer's body could not be read or parsed: transient, worth another GET."""


def make_session(
    policy: RetryPolicy | None = None, *, user_agent: str = USER_AGENT
) -> requests.Session:
    """A session that retries idempotent GETs on 429/5xx and connection errors."""
    policy = policy or RetryPolicy()
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=make_retry(policy))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session


@dataclass
class ApiClient:
    """GETs JSON for one source and window; failures name both and the URL."""

    source: str
    window: object
    base_url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    session: requests.Session | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.session is None:
            self.session = make_session(self.policy)

    def get_json(
        self, path: str, params: Mapping[str, Any] | list[tuple[str, Any]], *, what: str
    ) -> Any:
        url = f"{self.base_url}{path}"
        prepared = requests.Request("GET", url, params=params).prepare()
        shown = redact_url(prepared.url or url)
        budget = RetryBudget(self.policy)
        while True:
            log.info("GET %s (%s)", shown, what)
            response = self._get(url, params, shown=shown, what=what)
            try:
                return self._read(response, shown=shown, what=what)
            except _BodyFault as fault:
                if not budget.spend(str(fault), response):
                    raise RetriableSourceError(
                        f"{what}: {fault}, after {budget.used} retries",
                        source=self.source,
                        window=self.window,
                        record=shown,
                    ) from None
                log.warning("GET %s (%s): %s; retrying", shown, what, fault)

    def _get(self, url: str, params: Any, *, shown: str, what: str) -> requests.Response:
        """Send the GET; the session retries connect errors and 429/5xx before any body."""
        try:
            # stream: the body is read in _read, so a failure there is told apart from
            # one the session has already retried.
            assert self.session is not None  # made in __post_init__
            return self.session.get(
                url,
                params=params,
                headers=self.headers,
                timeout=self.policy.timeout,
                stream=True,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetriableSourceError(
                f"{what}: no answer after {self.policy.total} retries ({type(exc).__name__})",
                source=self.source,
                window=self.window,
                record=shown,
            ) from None
        except requests.RequestException as exc:
            raise FatalSourceError(
                f"{what}: request failed ({type(exc).__name__})",
                source=self.source,
                window=self.window,
                record=shown,
            ) from None

    def _read(self, response: requests.Response, *, shown: str, what: str) -> Any:
        try:
            response.content  # noqa: B018 (reads the whole body, or fails mid-read)
        except (
            requests.exceptions.ChunkedEncodingError,  # the connection dropped mid-body
            requests.exceptions.ContentDecodingError,  # a gzip stream cut short
            requests.ConnectionError,  # a read timeout or a reset while reading the body
            requests.Timeout,
        ) as exc:
            raise _BodyFault(f"body cut mid-read ({type(exc).__name__})") from None
        finally:
            response.close()
        if response.status_code >= 400:
            body = _error_text(response)
            if response.status_code in RETRY_STATUSES:
                raise RetriableSourceError(
                    f"{what}: HTTP {response.status_code} after {self.policy.total} retries: "
                    f"{body}",
                    source=self.source,
                    window=self.window,
                    record=shown,
                )
            raise FatalSourceError(
                f"{what}: HTTP {response.status_code}: {body}",
                source=self.source,
                window=self.window,
                record=shown,
            )
        try:
            return response.json()
        except ValueError:
            # A truncated 200 (its Content-Length honest or not) or a proxy's HTML page.
            raise _BodyFault(
                f"response is not JSON ({len(response.content)} bytes, content-type "
                f"{response.headers.get('content-type')!r}, starts {response.text[:80]!r})"
            ) from None


def _error_text(response: requests.Response) -> str:
    """The API's own error message when it sends one (OpenAI, Anthropic, Prometheus shapes)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason or ""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            return str(error.get("message") or error.get("type") or error)[:300]
        if error:
            return f"{body.get('errorType', 'error')}: {error}"[:300]
    return str(body)[:300]


def paginate_cursor(
    client: ApiClient, path: str, params: Mapping[str, Any], *, what: str, max_pages: int = 10_000
) -> Iterator[Mapping[str, Any]]:
    """Yield the pages of a cursor-paged list.

    ``page`` = the previous answer's ``next_page``, for as long as ``has_more``.

    An empty page that says ``has_more`` but gives no new cursor is a hiccup of the
    API (the data is not ready yet, or a cache answered): the same page is asked again
    within the retry budget, then it is a ``RetriableSourceError``. A cursor that comes
    back after it was followed would loop for ever: that is a ``FatalSourceError``.
    """
    cursor: str | None = None
    followed: dict[str | None, int] = {}  # cursor -> the page number it fetched
    for number in range(1, max_pages + 1):
        followed[cursor] = number
        query = dict(params)
        if cursor:
            query["page"] = cursor
        where = f"{what} page {number}"
        record = f"{path} page {number}" + (f" cursor {_shown(cursor)}" if cursor else "")
        budget = RetryBudget(client.policy)
        while True:
            page = client.get_json(path, _flatten(query), what=where)
            if not isinstance(page, Mapping) or not isinstance(page.get("data"), list):
                raise FatalSourceError(
                    f"{where}: expected an object with a 'data' list, got {str(page)[:120]!r}",
                    source=client.source,
                    window=client.window,
                    record=record,
                )
            following = page.get("next_page") or None
            stuck = page.get("has_more") and not page["data"] and following in (None, cursor)
            if not stuck:
                break
            if not budget.spend("empty page with has_more and no new cursor"):
                raise RetriableSourceError(
                    f"{where}: {budget.used + 1} answers in a row were an empty page with "
                    f"has_more true and next_page {_shown(following)}; the API did not move "
                    "on, try again later",
                    source=client.source,
                    window=client.window,
                    record=record,
                )
            log.warning("%s: empty page with has_more and no new cursor; asking again", where)
        if not page.get("has_more"):
            yield page
            return
        if not following:
            raise FatalSourceError(
                f"{where}: has_more is true but next_page is empty",
                source=client.source,
                window=client.window,
                record=record,
            )
        if following in followed:
            raise FatalSourceError(
                f"{where}: next_page {_shown(following)} repeats the cursor that fetched "
                f"page {followed[following]}; refusing to loop",
                source=client.source,
                window=client.window,
                record=record,
            )
        yield page
        cursor = following
    raise FatalSourceError(
        f"{what}: more than {max_pages} pages; refusing to loop forever",
        source=client.source,
        window=client.window,
        record=path,
    )


def _shown(cursor: Any) -> str:
    """A cursor for a message: opaque API tokens, cut short so a message stays a line."""
    text = repr(cursor)
    return text if len(text) <= 80 else text[:77] + "..."


def _flatten(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Lists become repeated parameters (``group_by=a&group_by=b``), as the APIs expect."""
    pairs: list[tuple[str, Any]] = []
    for key, value in params.items():
        if isinstance(value, list | tuple):
            pairs.extend((key, v) for v in value)
        elif value is not None:
            pairs.append((key, value))
    return pairs
