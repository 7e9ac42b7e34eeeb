"""costbridge extractors: sources -> Parquet landing zone, with quarantine and manifests.

The DAG and the CLI call ``run_source``; nothing here imports Airflow, dbt or GX.
The names below are imported on first use, so importing the package (or
``extractors.errors``) loads no source module and no driver; the source types are
listed in ``extractors.registry``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from extractors.base import Extractor, run_source
    from extractors.config import SourceConfig, get_source, load_sources
    from extractors.errors import (
        ConfigError,
        FatalSourceError,
        RetriableSourceError,
        SchemaDriftError,
        SourceError,
    )
    from extractors.landing import land
    from extractors.registry import extractor_class
    from extractors.secrets import SecretRef, SecretResolver, env_resolver
    from landing.layout import ensure_schema_files
    from landing.window import Window

_HOMES = {
    "ConfigError": "extractors.errors",
    "Extractor": "extractors.base",
    "FatalSourceError": "extractors.errors",
    "RetriableSourceError": "extractors.errors",
    "SchemaDriftError": "extractors.errors",
    "SecretRef": "extractors.secrets",
    "SecretResolver": "extractors.secrets",
    "SourceConfig": "extractors.config",
    "SourceError": "extractors.errors",
    "Window": "landing.window",
    "ensure_schema_files": "landing.layout",
    "env_resolver": "extractors.secrets",
    "extractor_class": "extractors.registry",
    "get_source": "extractors.config",
    "land": "extractors.landing",
    "load_sources": "extractors.config",
    "run_source": "extractors.base",
}

__all__ = [
    "ConfigError",
    "Extractor",
    "FatalSourceError",
    "RetriableSourceError",
    "SchemaDriftError",
    "SecretRef",
    "SecretResolver",
    "SourceConfig",
    "SourceError",
    "Window",
    "ensure_schema_files",
    "env_resolver",
    "extractor_class",
    "get_source",
    "land",
    "load_sources",
    "run_source",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'extractors' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
