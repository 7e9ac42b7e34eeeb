"""Secrets named by a source's options, resolved only at run time.

A source option such as ``api_key: {env: OPENAI_ADMIN_KEY, airflow_conn: openai_admin}``
says where a secret lives. A ``SecretResolver`` (a callable the caller passes in) reads
it: the default reads the environment only; the DAG passes one that reads Airflow
Connections, so this package never imports Airflow.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from extractors.errors import REDACTED as _REDACTED
from extractors.errors import SECRET_KEY_PATTERN, ConfigError, FatalSourceError


@dataclass(frozen=True)
class SecretRef:
    """Where a secret may be found; the resolver decides the order."""

    env: str | None = None
    airflow_conn: str | None = None

    @classmethod
    def from_option(cls, source: str, option: str, value: Any) -> SecretRef:
        if not isinstance(value, Mapping) or not (value.get("env") or value.get("airflow_conn")):
            raise ConfigError(
                f"source {source!r}: option {option!r} must name where the secret lives, "
                "e.g. {env: OPENAI_ADMIN_KEY, airflow_conn: openai_admin}; never the secret itself"
            )
        unknown = set(value) - {"env", "airflow_conn"}
        if unknown:
            raise ConfigError(
                f"source {source!r}: option {option!r} has unknown keys {sorted(unknown)}"
            )
        return cls(env=value.get("env"), airflow_conn=value.get("airflow_conn"))

    def describe(self) -> str:
        places = []
        if self.env:
            places.append(f"environment variable {self.env}")
        if self.airflow_conn:
            places.append(f"Airflow connection {self.airflow_conn}")
        return " or ".join(places)

    def as_mapping(self) -> dict[str, str]:
        return {k: v for k, v in (("env", self.env), ("airflow_conn", self.airflow_conn)) if v}


# Called with the option's mapping, e.g. {"env": "OPENAI_ADMIN_KEY", "airflow_conn":
# "openai_admin"}; returns the secret, or None when it is not where the mapping points.
SecretResolver = Callable[[Mapping[str, str]], "str | None"]


def env_resolver(ref: Mapping[str, str]) -> str | None:
    """The default resolver: the environment only."""
    name = ref.get("env")
    return (os.environ.get(name) or None) if name else None


class Secret:
    """A secret value that does not print itself by accident (repr, str, f-strings)."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def resolve_secret(
    source: str, option: str, value: Any, resolver: SecretResolver | None = None
) -> Secret:
    ref = SecretRef.from_option(source, option, value)
    secret = (resolver or env_resolver)(ref.as_mapping())
    if not secret:
        raise FatalSourceError(
            f"secret {option!r} not found: looked in {ref.describe()}", source=source
        )
    return Secret(secret)


def scrub(payload: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a JSON-like payload with secret-looking keys and known secret values removed.

    Id fields such as ``api_key_id`` are kept: they name a key, they are not one.
    """
    known = [s for s in secrets if s]

    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                k: (_REDACTED if SECRET_KEY_PATTERN.search(str(k)) and v is not None else clean(v))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        if isinstance(value, str):
            for secret in known:
                value = value.replace(secret, _REDACTED)
        return value

    return clean(payload)


def scrub_json(payload: Any, secrets: Iterable[str] = ()) -> str:
    return json.dumps(scrub(payload, secrets), default=str, sort_keys=True)
