"""HTTP for API sources: a retrying session, classified errors, and a cursor paginator.

Retries are urllib3's ``Retry`` (429 and 5xx, ``Retry-After`` honoured, exponential
backoff), not a hand-written loop. Headers are never logged (they carry the bearer
token); URLs in messages lose their user, password and credential-like query values
(``extractors.errors.redact_url``, one rule for every message).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from extractors.errors import FatalSourceError, RetriableSourceError, redact_url

log = logging.getLogger(__name__)

USER_AGENT = "costbridge-extractors/0.1 (+https://github.com/costbridge)"
# 529 is Anthropic's "overloaded", a transient answer like 503.
RETRY_STATUSES = (429, 500, 502, 503, 504, 529)
# Option names every API source accepts for its RetryPolicy.
RETRY_OPTIONS = (
    "retry_total",
    "retry_backoff_factor",
    "retry_backoff_max",
    "retry_after_max",
    "timeout",
)


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


def make_session(
    policy: RetryPolicy | None = None, *, user_agent: str = USER_AGENT
) -> requests.Session:
    """A session that retries idempotent GETs on 429/5xx and connection errors."""
    policy = policy or RetryPolicy()
    retry = Retry(
        total=policy.total,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        respect_retry_after_header=True,
        retry_after_max=policy.retry_after_max,  # type: ignore[arg-type]  (float is fine)
        # Return the last response instead of raising, so its body can go in the error.
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
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
        log.info("GET %s (%s)", shown, what)
        try:
            response = self.session.get(
                url, params=params, headers=self.headers, timeout=self.policy.timeout
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
            raise RetriableSourceError(
                f"{what}: response is not JSON (content-type "
                f"{response.headers.get('content-type')!r}, starts {response.text[:80]!r})",
                source=self.source,
                window=self.window,
                record=shown,
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
) -> Iterator[dict[str, Any]]:
    """Yield the pages of a cursor-paged list.

    ``page`` = the previous answer's ``next_page``, for as long as ``has_more``.
    """
    cursor: str | None = None
    for number in range(1, max_pages + 1):
        query = dict(params)
        if cursor:
            query["page"] = cursor
        page = client.get_json(path, _flatten(query), what=f"{what} page {number}")
        if not isinstance(page, Mapping) or not isinstance(page.get("data"), list):
            raise FatalSourceError(
                f"{what} page {number}: expected an object with a 'data' list, "
                f"got {str(page)[:120]!r}",
                source=client.source,
                window=client.window,
                record=f"{path} page {number}",
            )
        yield page
        if not page.get("has_more"):
            return
        cursor = page.get("next_page")
        if not cursor:
            raise FatalSourceError(
                f"{what} page {number}: has_more is true but next_page is empty",
                source=client.source,
                window=client.window,
                record=f"{path} page {number}",
            )
    raise FatalSourceError(
        f"{what}: more than {max_pages} pages; refusing to loop forever",
        source=client.source,
        window=client.window,
        record=path,
    )


def _flatten(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Lists become repeated parameters (``group_by=a&group_by=b``), as the APIs expect."""
    pairs: list[tuple[str, Any]] = []
    for key, value in params.items():
        if isinstance(value, list | tuple):
            pairs.extend((key, v) for v in value)
        elif value is not None:
            pairs.append((key, value))
    return pairs
