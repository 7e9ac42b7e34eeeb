"""costbridge extractors: sources -> Parquet landing zone, with quarantine and manifests.

The DAG and the CLI call ``run_source``; nothing here imports Airflow, dbt or GX.
"""

from extractors import (  # noqa: F401  (register the source types)
    anthropic,
    focus,
    litellm,
    nvidia_smi,
    openai,
    otel,
    prometheus,
    value,
)
from extractors.base import Extractor, extractor_class, run_source
from extractors.config import SourceConfig, get_source, load_sources
from extractors.errors import (
    ConfigError,
    FatalSourceError,
    RetriableSourceError,
    SchemaDriftError,
    SourceError,
)
from extractors.landing import land
from extractors.secrets import SecretRef, SecretResolver, env_resolver
from landing.layout import ensure_schema_files
from landing.window import Window

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
