"""Which class extracts each source type, imported only when a source of that type is used.

The mapping is written out rather than filled in by importing every source module,
so that importing ``extractors`` (or its errors) loads no driver: psycopg, fsspec,
tenacity and requests come in with the one source that needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from extractors.errors import ConfigError

if TYPE_CHECKING:
    from extractors.base import Extractor

# Source type (the ``type:`` of a sources file entry) -> "module:class".
SOURCE_TYPES: dict[str, str] = {
    "anthropic": "extractors.anthropic:AnthropicExtractor",
    "focus": "extractors.focus:FocusExtractor",
    "litellm": "extractors.litellm:LiteLLMExtractor",
    "nvidia_smi": "extractors.nvidia_smi:NvidiaSmiExtractor",
    "openai": "extractors.openai:OpenAIExtractor",
    "otel_genai_spans": "extractors.otel:OtelGenAiSpansExtractor",
    "prometheus_dcgm": "extractors.prometheus:PrometheusDcgmExtractor",
    "value_file": "extractors.value:ValueFileExtractor",
}


def extractor_class(source_type: Any, *, where: str = "") -> type[Extractor]:
    """The extractor class of ``source_type``; a ConfigError naming ``where`` if unknown."""
    if not isinstance(source_type, str) or source_type not in SOURCE_TYPES:
        known = ", ".join(sorted(SOURCE_TYPES))
        raise ConfigError(f"{where}: unknown source type {source_type!r} (known: {known})")
    module, name = SOURCE_TYPES[source_type].split(":")
    cls: type[Extractor] = getattr(import_module(module), name)
    return cls
