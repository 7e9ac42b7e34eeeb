"""Errors of the extractors: retriable (try again later) or fatal (a person must act).

Every message names the source, the window and the record, page or URL that failed,
so an on-call reader knows where to look without the stack trace. Messages never
carry a secret: callers pass redacted URLs and payloads.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """The sources file or a source's options are wrong."""


class SourceError(Exception):
    """A source could not be extracted."""

    retriable = False

    def __init__(
        self, message: str, *, source: str, window: object = None, record: str | None = None
    ):
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
