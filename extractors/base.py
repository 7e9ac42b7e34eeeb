"""The extractor base class and ``run_source``."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

from extractors.config import SourceConfig
from extractors.drift import check_columns
from extractors.landing import LandingResult, Reject, land
from extractors.options import SourceOptions, parse_options
from extractors.registry import extractor_class
from extractors.secrets import Secret, SecretResolver, resolve_secret
from landing.schemas import Dataset
from landing.window import Window

log = logging.getLogger(__name__)

Record = Mapping[str, Any] | Reject


class Extractor:
    """One source type. Subclasses declare their datasets and options and yield records.

    ``extract(dataset)`` yields dicts keyed by landing column name (with ``record_ref``)
    or ``Reject`` markers; the landing writer does coercion, quarantine and partitions.
    """

    type: ClassVar[str]
    # Option value in ``datasets: [...]`` -> landing dataset.
    datasets: ClassVar[dict[str, Dataset]]
    # The options a source of this type takes, their types, defaults and rules.
    Options: ClassVar[builtins.type[SourceOptions]] = SourceOptions

    def __init__(self, source: SourceConfig, window: Window, secrets: SecretResolver | None = None):
        self.source = source
        self.name = source.name
        self.options = self.validate_options(source.name, source.options)
        self.window = window
        self._resolver = secrets
        self._secrets: dict[str, Secret] = {}
        self.ignored_columns: dict[str, set[str]] = {}
        self.manifest_extra: dict[str, dict[str, Any]] = {}

    @classmethod
    def validate_options(cls, source: str, options: Mapping[str, Any]) -> SourceOptions:
        """The source's options parsed as ``Options``; a ConfigError naming source and key."""
        return parse_options(
            cls.Options, options, source=source, source_type=cls.type, datasets=cls.datasets
        )

    @property
    def allow_added_columns(self) -> bool:
        return self.options.allow_added_columns

    def selected(self) -> list[tuple[str, Dataset]]:
        names = self.options.datasets or list(self.datasets)
        return [(n, self.datasets[n]) for n in names]

    def secret(self, option: str) -> Secret:
        if option not in self._secrets:
            self._secrets[option] = resolve_secret(
                self.name, option, getattr(self.options, option), self._resolver
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

    def plan_window(self, landing_root: Path) -> Window:
        """The window to extract, given what has landed: by default the one asked for.

        A source may widen it: FOCUS replaces a restated billing period whole.
        """
        return self.window

    def extract(self, dataset: Dataset) -> Iterator[Record]:
        raise NotImplementedError


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
    lookback = cls.validate_options(source.name, source.options).lookback_days
    extractor = cls(source, Window(start, end).with_lookback(lookback), secrets)
    window = extractor.window = extractor.plan_window(Path(landing_root))
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
