"""The extractor base class, the registry of source types, and ``run_source``."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from extractors.config import SourceConfig
from extractors.drift import check_columns
from extractors.errors import ConfigError, redact_urls
from extractors.landing import LandingResult, Reject, land
from extractors.secrets import Secret, SecretRef, SecretResolver, resolve_secret
from landing.schemas import Dataset
from landing.window import Window

log = logging.getLogger(__name__)

Record = Mapping[str, Any] | Reject

# A provider restates at most the last billing month or two; 400 days re-pulls a year
# and a month. Beyond that a value is a typo (100000000 days would reach before year 1
# and overflow the window), not a lookback.
MAX_LOOKBACK_DAYS = 400


@dataclass(frozen=True)
class NumberRule:
    """What a numeric option accepts; the same option name means the same in every source."""

    what: str  # completes "must be ...", e.g. "an integer from 0 to 100"
    integer: bool = False
    minimum: float = 0
    above: bool = False  # minimum itself is not allowed
    maximum: float | None = None

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False  # YAML gave a string ("30s", "many") or a list
        if self.integer and not isinstance(value, int):
            return False
        if value != value or (value <= self.minimum if self.above else value < self.minimum):
            return False
        return self.maximum is None or value <= self.maximum


_SECONDS = NumberRule("a number of seconds > 0 (at most 3600)", minimum=0, above=True, maximum=3600)
# Every numeric option any source takes (see each class's optional_options and
# extractors.http.RetryPolicy), checked up front so a typo never becomes a traceback.
NUMBER_OPTIONS: dict[str, NumberRule] = {
    "lookback_days": NumberRule(
        f"an integer number of days from 0 to {MAX_LOOKBACK_DAYS} (a provider restates "
        "at most a month or two back)",
        integer=True,
        maximum=MAX_LOOKBACK_DAYS,
    ),
    "retry_total": NumberRule("an integer number of retries from 0 to 100", True, maximum=100),
    "retry_backoff_factor": NumberRule("a number of seconds from 0 to 600", maximum=600),
    "retry_backoff_max": _SECONDS,
    "retry_after_max": _SECONDS,
    "timeout": _SECONDS,  # or a [connect, read] pair of them, see _check_timeout
    "connect_timeout": NumberRule(
        "an integer number of seconds from 1 to 3600", True, minimum=1, maximum=3600
    ),
    "page_limit": NumberRule("an integer from 1 to 10000", True, minimum=1, maximum=10_000),
    "block_size_mib": NumberRule("an integer number of MiB from 1 to 1024", True, 1, False, 1024),
    "step_seconds": NumberRule(
        "an integer number of seconds from 1 to 86400", True, minimum=1, maximum=86_400
    ),
    "chunk_hours": NumberRule("a number of hours > 0 (at most 8784)", False, 0, True, 8784),
}
BOOL_OPTIONS = ("allow_added_columns",)


def _shown(value: Any) -> str:
    """An option value as a message may echo it: short, and with URL credentials removed."""
    text = redact_urls(repr(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _check_option_types(source: str, options: Mapping[str, Any]) -> None:
    for name, rule in NUMBER_OPTIONS.items():
        if name not in options:
            continue
        value = options[name]
        if name == "timeout" and isinstance(value, list | tuple):
            if len(value) == 2 and all(rule.accepts(v) for v in value):
                continue
            raise ConfigError(
                f"source {source!r}: option 'timeout' must be {rule.what}, or a "
                f"[connect, read] pair of them, got {_shown(value)}"
            )
        if not rule.accepts(value):
            raise ConfigError(
                f"source {source!r}: option {name!r} must be {rule.what}, got {_shown(value)}"
            )
    for name in BOOL_OPTIONS:
        if name in options and not isinstance(options[name], bool):
            raise ConfigError(
                f"source {source!r}: option {name!r} must be true or false, "
                f"got {_shown(options[name])}"
            )
    url = options.get("base_url")
    if url is not None and not (
        isinstance(url, str) and urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc
    ):
        raise ConfigError(
            f"source {source!r}: option 'base_url' must be an http(s) URL, got {_shown(url)}"
        )


_REGISTRY: dict[str, type[Extractor]] = {}


def register(cls: type[Extractor]) -> type[Extractor]:
    _REGISTRY[cls.type] = cls
    return cls


def extractor_class(source_type: Any, *, where: str = "") -> type[Extractor]:
    import extractors  # noqa: F401  (importing the package registers every source type)

    if source_type not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise ConfigError(f"{where}: unknown source type {source_type!r} (known: {known})")
    return _REGISTRY[source_type]


class Extractor:
    """One source type. Subclasses declare their datasets and options and yield records.

    ``extract(dataset)`` yields dicts keyed by landing column name (with ``record_ref``)
    or ``Reject`` markers; the landing writer does coercion, quarantine and partitions.
    """

    type: ClassVar[str]
    # Option value in ``datasets: [...]`` -> landing dataset.
    datasets: ClassVar[dict[str, Dataset]]
    required_options: ClassVar[tuple[str, ...]] = ()
    optional_options: ClassVar[tuple[str, ...]] = ()
    secret_options: ClassVar[tuple[str, ...]] = ()
    # Billing sources restate recent days; they re-pull this many days by default.
    default_lookback_days: ClassVar[int] = 0
    _common_options: ClassVar[tuple[str, ...]] = (
        "datasets",
        "lookback_days",
        "allow_added_columns",
        # First day the source has data for (YYYY-MM-DD): earlier days do not wait for
        # it to be final (ops_day_status), e.g. a source added to a running warehouse.
        "active_from",
    )

    def __init__(self, source: SourceConfig, window: Window, secrets: SecretResolver | None = None):
        self.source = source
        self.name = source.name
        self.options = source.options
        self.window = window
        self._resolver = secrets
        self._secrets: dict[str, Secret] = {}
        self.ignored_columns: dict[str, set[str]] = {}
        self.manifest_extra: dict[str, dict[str, Any]] = {}

    # --- options -------------------------------------------------------------------

    @classmethod
    def validate_options(cls, source: str, options: Mapping[str, Any]) -> None:
        allowed = {
            *cls.required_options,
            *cls.optional_options,
            *cls.secret_options,
            *cls._common_options,
        }
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ConfigError(
                f"source {source!r} ({cls.type}): unknown options {unknown}; "
                f"allowed: {sorted(allowed)}"
            )
        missing = [
            o for o in (*cls.required_options, *cls.secret_options) if options.get(o) in (None, "")
        ]
        if missing:
            raise ConfigError(f"source {source!r} ({cls.type}): missing options {missing}")
        for option in cls.secret_options:
            SecretRef.from_option(source, option, options[option])
        _check_option_types(source, options)
        selected = options.get("datasets", list(cls.datasets))
        if not isinstance(selected, list) or not selected:
            raise ConfigError(f"source {source!r}: datasets must be a non-empty list")
        bad = [d for d in selected if d not in cls.datasets]
        if bad:
            raise ConfigError(
                f"source {source!r}: unknown datasets {bad}; "
                f"{cls.type} offers {sorted(cls.datasets)}"
            )
        active_from = options.get("active_from")
        if active_from is not None:
            try:
                date.fromisoformat(str(active_from))
            except ValueError:
                raise ConfigError(
                    f"source {source!r}: active_from must be a date YYYY-MM-DD, "
                    f"got {_shown(active_from)}"
                ) from None

    @property
    def allow_added_columns(self) -> bool:
        return bool(self.options.get("allow_added_columns", False))

    def selected(self) -> list[tuple[str, Dataset]]:
        names = self.options.get("datasets", list(self.datasets))
        return [(n, self.datasets[n]) for n in names]

    def secret(self, option: str) -> Secret:
        if option not in self._secrets:
            self._secrets[option] = resolve_secret(
                self.name, option, self.options.get(option), self._resolver
            )
        return self._secrets[option]

    def secret_values(self) -> list[str]:
        return [s.reveal() for s in self._secrets.values()]

    def ignore_columns(self, dataset: Dataset, columns: list[str]) -> None:
        if columns:
            self.ignored_columns.setdefault(dataset.name, set()).update(columns)

    def check_bucket_columns(
        self, dataset: Dataset, bucket: Any, expected: Iterable[str], where: str
    ) -> None:
        """Schema drift of a time-bucketed API page: each result against the expected fields.

        Raises SchemaDriftError; with ``allow_added_columns`` the extra fields are
        recorded for the manifest instead. Malformed buckets are left to the parser.
        """
        results = bucket.get("results") if isinstance(bucket, Mapping) else None
        for result in results or []:
            if isinstance(result, Mapping):
                self.ignore_columns(
                    dataset,
                    check_columns(
                        result,
                        expected=expected,
                        required=(),
                        allow_added=self.allow_added_columns,
                        source=self.name,
                        window=self.window,
                        where=where,
                    ),
                )

    # --- the work --------------------------------------------------------------------

    def extract(self, dataset: Dataset) -> Iterator[Record]:
        raise NotImplementedError


def lookback_days(source: SourceConfig) -> int:
    cls = extractor_class(source.type, where=f"source {source.name!r}")
    return int(source.options.get("lookback_days", cls.default_lookback_days))


def run_source(
    source: SourceConfig,
    start: date | datetime,
    end: date | datetime,
    *,
    landing_root: Path,
    quarantine_root: Path,
    secrets: SecretResolver | None = None,
) -> dict[str, Any]:
    """Extract every dataset of ``source`` for [start - lookback, end) and land it.

    Returns a JSON-serialisable summary:
    ``{source, type, window: {start, end}, datasets: {name: {partitions, rows_in,
    rows_loaded, rows_quarantined, ignored_columns}}}``.
    Raises ``RetriableSourceError`` / ``FatalSourceError`` (naming source, window, record).
    """
    cls = extractor_class(source.type, where=f"source {source.name!r}")
    cls.validate_options(source.name, source.options)
    window = Window(start, end).with_lookback(lookback_days(source))
    extractor = cls(source, window, secrets)
    # A source may widen its window: FOCUS replaces a restated billing period whole.
    plan = getattr(extractor, "plan_window", None)
    if plan is not None:
        window = extractor.window = plan(Path(landing_root))
    extracted_at = datetime.now(UTC)
    results: dict[str, LandingResult] = {}
    for _, dataset in extractor.selected():
        log.info("extracting %s/%s for %s", source.name, dataset.name, window)
        records = extractor.extract(dataset)
        result = land(
            records,
            dataset=dataset,
            source=source.name,
            window=window,
            landing_root=Path(landing_root),
            quarantine_root=Path(quarantine_root),
            # The secret values are known only once extraction has started; scrub lazily.
            secrets=_LazySecrets(extractor),
            ignored_columns=extractor.ignored_columns.setdefault(dataset.name, set()),
            manifest_extra=extractor.manifest_extra.setdefault(dataset.name, {}),
            extracted_at=extracted_at,
        )
        results[dataset.name] = result
        log.info(
            "landed %s/%s: %s in, %s loaded, %s quarantined",
            source.name,
            dataset.name,
            result.rows_in,
            result.rows_loaded,
            result.rows_quarantined,
        )
    return {
        "source": source.name,
        "type": source.type,
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "datasets": {
            name: {k: v for k, v in r.summary().items() if k != "dataset"}
            for name, r in results.items()
        },
    }


class _LazySecrets:
    """Iterates the extractor's resolved secret values at the moment of scrubbing."""

    def __init__(self, extractor: Extractor):
        self.extractor = extractor

    def __iter__(self):
        return iter(self.extractor.secret_values())
