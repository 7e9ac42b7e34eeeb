"""The sources file: which sources exist, their type, and their options.

``${VAR}`` and ``${VAR:-default}`` in string values are read from the environment
when the file is loaded; ``$$`` is a literal dollar. Secrets are never written here:
options name where a secret lives (see ``extractors.secrets``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from extractors.errors import ConfigError
from extractors.registry import extractor_class

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class SourceConfig:
    name: str
    type: str
    options: dict[str, Any] = field(default_factory=dict)


def expand(value: Any, env: Mapping[str, str], where: str) -> Any:
    """Expand ``${VAR}`` / ``${VAR:-default}`` in every string of a YAML value."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            if env.get(name):
                return env[name]
            if default is not None:
                return default
            raise ConfigError(f"{where}: environment variable {name} is not set and has no default")

        return _VAR.sub(substitute, value)
    if isinstance(value, Mapping):
        return {k: expand(v, env, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, env, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def parse_sources(
    document: Any, *, origin: str, env: Mapping[str, str] | None = None
) -> list[SourceConfig]:
    env = os.environ if env is None else env
    if not isinstance(document, Mapping) or not isinstance(document.get("sources"), list):
        raise ConfigError(f"{origin}: expected a top-level 'sources:' list")
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for index, entry in enumerate(document["sources"]):
        where = f"{origin}: sources[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: expected a mapping with name, type, options")
        unknown = set(entry) - {"name", "type", "options"}
        if unknown:
            raise ConfigError(
                f"{where}: unknown keys {sorted(unknown)} (allowed: name, type, options)"
            )
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(f"{where}: name must be lower_snake_case, got {name!r}")
        if name in seen:
            raise ConfigError(f"{where}: duplicate source name {name!r}")
        seen.add(name)
        where = f"{origin}: source {name!r}"
        options = entry.get("options") or {}
        if not isinstance(options, Mapping):
            raise ConfigError(f"{where}: options must be a mapping")
        cls = extractor_class(entry.get("type"), where=where)
        options = expand(dict(options), env, f"{where} options")
        cls.validate_options(name, options)
        sources.append(SourceConfig(name=name, type=cls.type, options=options))
    return sources


def load_sources(path: str | Path, *, env: Mapping[str, str] | None = None) -> list[SourceConfig]:
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read sources file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_sources(document, origin=str(path), env=env)


def get_source(sources: list[SourceConfig], name: str) -> SourceConfig:
    for source in sources:
        if source.name == name:
            return source
    known = ", ".join(s.name for s in sources) or "none"
    raise ConfigError(f"no source named {name!r} (configured: {known})")
