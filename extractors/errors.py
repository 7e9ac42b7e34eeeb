"""Errors of the extractors: retriable (try again later) or fatal (a person must act).

Every message names the source, the window and the record, page or URL that failed,
so an on-call reader knows where to look without the stack trace. Messages never
carry a secret: callers pass redacted payloads, and every URL in a message or record
is redacted here (``redact_urls``), once for all sources, whatever the caller passed.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Keys whose values are credentials, in payloads (extractors.secrets.scrub) and in URL
# query strings. Id fields such as ``api_key_id`` name a key and do not match.
SECRET_KEY_PATTERN = re.compile(
    r"(api[_-]?key|authorization|token|secret|password|signature)$", re.I
)
REDACTED = "***"
# A URL inside free text, up to whitespace, a quote or a bracket.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
# userinfo: everything between :// and the last @ of the URL. Greedy on purpose: a
# password with an unescaped / or @ in it must not leave a piece behind.
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^\s'\"<>]*@")


def redact_url(url: str) -> str:
    """``url`` without its user and password and with credential-like query values masked.

    ``https://user:secret@host/v1?api_key=k&limit=2`` -> ``https://***@host/v1?api_key=***&limit=2``.
    """
    url = _USERINFO.sub(rf"\1{REDACTED}@", url)
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host: mask the whole query to be safe
        head, _, query = url.partition("?")
        return f"{head}?{REDACTED}" if query else head
    if not parts.query:
        return url
    masked = [
        (k, REDACTED if SECRET_KEY_PATTERN.search(k) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(masked, safe="*:,")))


def redact_urls(text: str) -> str:
    """Every URL in ``text`` passed through ``redact_url``."""
    return _URL.sub(lambda match: redact_url(match.group(0)), text)


class ConfigError(ValueError):
    """The sources file or a source's options are wrong. URLs it echoes are redacted."""

    def __init__(self, message: str):
        super().__init__(redact_urls(str(message)))


class SourceError(Exception):
    """A source could not be extracted."""

    retriable = False

    def __init__(
        self, message: str, *, source: str, window: object = None, record: str | None = None
    ):
        # A base_url or DSN with a password in it may reach any message: redact here.
        message, record = redact_urls(str(message)), record and redact_urls(str(record))
        self.source = source
        self.window = window
        self.record = record
        self.detail = message
        where = [f"source={source}"]
        if window is not None:
            where.append(f"window={window}")
        if record:
            where.append(f"record={record}")
        super().__init__(f"[{' '.join(where)}] {message}")


class RetriableSourceError(SourceError):
    """Transient: rate limits, 5xx after retries, timeouts, connection resets."""

    retriable = True


class FatalSourceError(SourceError):
    """Permanent until someone acts: bad credentials, missing files, bad requests."""


class SchemaDriftError(FatalSourceError):
    """The source's columns differ from what the extractor expects."""
