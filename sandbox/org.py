"""The demo organisation: a deterministic generator of every day's facts.

Every random value for a (day, entity) comes from its own RNG seeded with
f"{seed}:{day}:{entity}", so any date range can be generated on demand and a
day never changes with the range that was asked for. Money here is what the
providers would bill; the pipeline must recover it, never compute it from us.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import yaml

DEFAULT_PATH = Path(__file__).with_name("demo_org.yml")

# Provider-side deviation from list price on billed amounts, so that billed vs
# estimated reconciliation has something to show. Not on gpt-4o-mini: the dbt
# price book changes that model's price, and the two effects must stay apart.
BILLING_DEVIATION = {"gpt-4o-2024-08-06": 0.005}

# Anthropic cache writes, as shares of the cache reads (prompt caching writes a
# prefix once, then reads it many times).
CACHE_WRITE_5M_SHARE = 0.08
CACHE_WRITE_1H_SHARE = 0.02

# Daily decay of the conversion rate of features marked `value_decays`.
VALUE_DECAY_PER_DAY = 0.015

NOISE = 0.03  # relative standard deviation of daily noise: "a few percent"

ANTHROPIC_NAMES = {
    "claude-sonnet-4-5": "Claude Sonnet 4.5",
    "claude-haiku-4-5": "Claude Haiku 4.5",
    "claude-opus-4-1": "Claude Opus 4.1",
}


def model_on(model: str, switches: Any, day: date) -> str:
    """The model of a key with dated `switches` ({from, model}) on `day`."""
    current, since = model, date.min
    for switch in switches or ():
        start = date.fromisoformat(str(switch["from"]))
        if since <= start <= day:
            current, since = switch["model"], start
    return current


def days_between(start: date, end: date) -> list[date]:
    """The days of the half-open range [start, end)."""
    return [start + timedelta(days=i) for i in range((end - start).days)]


@dataclass(frozen=True)
class Model:
    model: str
    provider: str
    family: str
    input: float
    cached_input: float
    output: float
    batch_discount: float = 1.0
    cache_write_5m: float = 0.0
    cache_write_1h: float = 0.0
    kind: str = "chat"


@dataclass(frozen=True)
class ApiKey:
    api_key_id: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_rate: float
    feature: str | None = None
    environment: str | None = None
    project_id: str | None = None
    workspace_id: str | None = None
    requests_per_user: float | None = None
    requests_per_day: float | None = None
    batch_share: float = 0.0
    cost_growth_per_day: float = 0.0
    # Dated model switches, as demo_org.yml writes them: [{from: day, model: id}, ...].
    model_switches: tuple[dict[str, Any], ...] = ()

    def model_on(self, day: date) -> str:
        """The model the key calls on `day`: the latest switch in force, else `model`."""
        return model_on(self.model, self.model_switches, day)


@dataclass(frozen=True)
class KeyUsage:
    """One api key's usage on one day, split by batch / not batch."""

    day: date
    api_key_id: str
    provider: str
    model: str
    project_id: str | None
    workspace_id: str | None
    is_batch: bool
    requests: int
    input_tokens: int  # all input, cached included (the OpenAI convention)
    cached_input_tokens: int  # cache reads
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    output_tokens: int

    @property
    def uncached_input_tokens(self) -> int:
        return (
            self.input_tokens
            - self.cached_input_tokens
            - self.cache_write_5m_tokens
            - self.cache_write_1h_tokens
        )


@dataclass
class DemoOrg:
    """The catalogue of demo_org.yml plus the per-day generators."""

    raw: dict[str, Any]
    # Memo of generated days, shared by the generators (days are immutable).
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path | str | None = None) -> DemoOrg:
        with open(path or DEFAULT_PATH, encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh))

    @property
    def seed(self) -> int:
        return int(self.raw["seed"])

    @property
    def currency(self) -> str:
        return self.raw["currency"]

    @property
    def demo_end(self) -> date:
        """The exclusive end of the demo calendar."""
        return date.fromisoformat(str(self.raw["demo_end_date"]))

    @property
    def demo_days(self) -> int:
        return int(self.raw["demo_days"])

    @property
    def demo_start(self) -> date:
        return self.demo_end - timedelta(days=self.demo_days)

    # The catalogue's own names, as `make demo` reads them.
    demo_end_date = demo_end

    @cached_property
    def models(self) -> dict[str, Model]:
        return {m["model"]: Model(**m) for m in self.raw["models"]}

    @cached_property
    def api_keys(self) -> list[ApiKey]:
        return [
            ApiKey(**{**k, "model_switches": tuple(k.get("model_switches") or ())})
            for k in self.raw["api_keys"]
        ]

    @cached_property
    def features(self) -> dict[str, dict[str, Any]]:
        return {f["feature"]: f for f in self.raw["features"]}

    @property
    def teams(self) -> list[dict[str, Any]]:
        return self.raw["teams"]

    @property
    def gpu_cluster(self) -> dict[str, Any]:
        return self.raw["gpu_cluster"]

    @property
    def cloud_services(self) -> list[dict[str, Any]]:
        return self.raw["cloud_services"]

    @property
    def gpu_boxes(self) -> list[dict[str, Any]]:
        """GPU hosts outside Kubernetes: billed on the bill, seen only by nvidia-smi."""
        return self.raw.get("gpu_boxes") or []

    @property
    def otel_apps(self) -> list[dict[str, Any]]:
        """Apps that trace their model calls as OpenTelemetry GenAI spans."""
        return self.raw.get("otel_apps") or []

    def rng(self, day: date | str, entity: str) -> np.random.Generator:
        """The RNG of one (day, entity): independent of any requested range."""
        text = f"{self.seed}:{day}:{entity}"
        digest = hashlib.sha256(text.encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "big"))

    def noise(self, day: date, entity: str, sd: float = NOISE) -> float:
        return float(max(0.0, self.rng(day, entity).normal(1.0, sd)))

    def weekend_factor(self, feature: str) -> float:
        """Weekend share of weekday traffic for a user-driven feature (0.4-0.6)."""
        return 0.4 + 0.2 * float(self.rng("weekend", feature).random())

    def in_campaign(self, feature: str | None, day: date) -> bool:
        c = self.raw["campaign"]
        return feature in c["features"] and date.fromisoformat(
            c["start"]
        ) <= day <= date.fromisoformat(c["end"])

    def traffic_factor(self, feature: str | None, day: date) -> float:
        """Seasonality times campaign, before noise."""
        factor = 1.0
        if feature and self.features.get(feature, {}).get("daily_users", 0) > 0:
            if day.weekday() >= 5:
                factor *= self.weekend_factor(feature)
        if self.in_campaign(feature, day):
            factor *= float(self.raw["campaign"]["multiplier"])
        return factor

    def active_users(self, feature: str, day: date) -> int:
        base = self.features[feature]["daily_users"]
        value = base * self.traffic_factor(feature, day) * self.noise(day, f"users:{feature}")
        return int(round(value))

    def growth(self, key: ApiKey, day: date) -> float:
        # Growing keys reach their catalogue volume on the last demo day.
        anchor = self.demo_end - timedelta(days=1)
        return (1.0 + key.cost_growth_per_day) ** (day - anchor).days

    def key_usage(self, day: date) -> list[KeyUsage]:
        """Usage of every api key on one day (cached per day)."""
        cache_key = ("key_usage", day)
        if cache_key not in self.cache:
            rows: list[KeyUsage] = []
            for key in self.api_keys:
                rows.extend(self._usage_of_key(key, day))
            self.cache[cache_key] = rows
        return self.cache[cache_key]

    def _usage_of_key(self, key: ApiKey, day: date) -> list[KeyUsage]:
        rng = self.rng(day, f"key:{key.api_key_id}")
        if key.requests_per_user is not None:
            if key.feature is None:
                raise ValueError(f"api key {key.api_key_id}: requests_per_user needs a feature")
            base = self.active_users(key.feature, day) * key.requests_per_user
        else:
            base = float(key.requests_per_day or 0) * self.traffic_factor(key.feature, day)
        requests = int(round(base * self.growth(key, day) * max(0.0, rng.normal(1, NOISE))))
        in_per_req = key.input_tokens * max(0.0, rng.normal(1, NOISE))
        out_per_req = key.output_tokens * max(0.0, rng.normal(1, NOISE))
        cache_rate = min(1.0, key.cache_rate * max(0.0, rng.normal(1, NOISE)))
        batch_requests = int(round(requests * key.batch_share))
        parts = [(False, requests - batch_requests), (True, batch_requests)]
        out = []
        for is_batch, n in parts:
            if n <= 0:  # the APIs return no result for a group without usage
                continue
            input_tokens = int(round(n * in_per_req))
            cached = int(round(input_tokens * cache_rate))
            w5 = w1 = 0
            if key.provider == "anthropic":
                w5 = int(round(cached * CACHE_WRITE_5M_SHARE))
                w1 = int(round(cached * CACHE_WRITE_1H_SHARE))
            out.append(
                KeyUsage(
                    day=day,
                    api_key_id=key.api_key_id,
                    provider=key.provider,
                    model=key.model_on(day),
                    project_id=key.project_id,
                    workspace_id=key.workspace_id,
                    is_batch=is_batch,
                    requests=n,
                    input_tokens=input_tokens,
                    cached_input_tokens=cached,
                    cache_write_5m_tokens=w5,
                    cache_write_1h_tokens=w1,
                    output_tokens=int(round(n * out_per_req)),
                )
            )
        return out

    def openai_usage(self, day: date, kind: str) -> list[dict[str, Any]]:
        """Usage API results (fully grouped) for `completions` or `embeddings`."""
        want_embedding = kind == "embeddings"
        rows = []
        for u in self.key_usage(day):
            if u.provider != "openai":
                continue
            if (self.models[u.model].kind == "embedding") != want_embedding:
                continue
            row = {
                "project_id": u.project_id,
                "user_id": None,  # service keys belong to no user
                "api_key_id": u.api_key_id,
                "model": u.model,
                "input_tokens": u.input_tokens,
                "num_model_requests": u.requests,
            }
            if not want_embedding:
                row |= {
                    "batch": u.is_batch,
                    "output_tokens": u.output_tokens,
                    "input_cached_tokens": u.cached_input_tokens,
                    "input_audio_tokens": 0,
                    "output_audio_tokens": 0,
                }
            rows.append(row)
        return rows

    def openai_cost_lines(self, day: date) -> list[dict[str, Any]]:
        """Costs API results per project and line_item, amounts in dollars."""
        amounts: dict[tuple[str | None, str], float] = {}
        for u in self.key_usage(day):
            if u.provider != "openai":
                continue
            m = self.models[u.model]
            factor = (m.batch_discount if u.is_batch else 1.0) / 1e6
            factor *= 1.0 + BILLING_DEVIATION.get(u.model, 0.0)
            suffix = " (batch)" if u.is_batch else ""
            lines = {
                f"{m.model}, input{suffix}": (u.input_tokens - u.cached_input_tokens) * m.input,
                f"{m.model}, cached input{suffix}": u.cached_input_tokens * m.cached_input,
                f"{m.model}, output{suffix}": u.output_tokens * m.output,
            }
            for line_item, value in lines.items():
                if value > 0:
                    k = (u.project_id, line_item)
                    amounts[k] = amounts.get(k, 0.0) + value * factor
        return [
            # The real API returns unrounded float dollars; 10 places keep
            # them exact in the landing decimal(38, 12).
            {"project_id": p, "line_item": li, "amount": round(v, 10)}
            for (p, li), v in sorted(amounts.items())
        ]

    def anthropic_usage(self, day: date) -> list[dict[str, Any]]:
        """Usage report (messages) results grouped by key, workspace, model."""
        return [
            {
                "api_key_id": u.api_key_id,
                "workspace_id": u.workspace_id,
                "model": u.model,
                "service_tier": "batch" if u.is_batch else "standard",
                "context_window": "0-200k",
                "uncached_input_tokens": u.uncached_input_tokens,
                "cache_read_input_tokens": u.cached_input_tokens,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": u.cache_write_5m_tokens,
                    "ephemeral_1h_input_tokens": u.cache_write_1h_tokens,
                },
                "output_tokens": u.output_tokens,
                "server_tool_use": {"web_search_requests": 0},
            }
            for u in self.key_usage(day)
            if u.provider == "anthropic"
        ]

    def anthropic_cost_lines(self, day: date) -> list[dict[str, Any]]:
        """Cost report results per workspace and description; amounts in CENTS."""
        token_types = [
            ("uncached_input_tokens", "Input Tokens", "input"),
            ("cache_read_input_tokens", "Input Tokens, Cache Read", "cached_input"),
            (
                "cache_creation.ephemeral_5m_input_tokens",
                "Input Tokens, Cache Write 5m",
                "cache_write_5m",
            ),
            (
                "cache_creation.ephemeral_1h_input_tokens",
                "Input Tokens, Cache Write 1h",
                "cache_write_1h",
            ),
            ("output_tokens", "Output Tokens", "output"),
        ]
        cents: dict[tuple[str | None, str, str, str], float] = {}
        for u in self.key_usage(day):
            if u.provider != "anthropic":
                continue
            m = self.models[u.model]
            counts = {
                "uncached_input_tokens": u.uncached_input_tokens,
                "cache_read_input_tokens": u.cached_input_tokens,
                "cache_creation.ephemeral_5m_input_tokens": u.cache_write_5m_tokens,
                "cache_creation.ephemeral_1h_input_tokens": u.cache_write_1h_tokens,
                "output_tokens": u.output_tokens,
            }
            name = ANTHROPIC_NAMES.get(m.model, m.model)
            for token_type, label, price_attr in token_types:
                value = counts[token_type] * getattr(m, price_attr) / 1e6 * 100
                if value > 0:
                    k = (u.workspace_id, f"{name} Usage - {label}", m.model, token_type)
                    cents[k] = cents.get(k, 0.0) + value
        return [
            {
                "workspace_id": ws,
                "description": desc,
                "model": model,
                "token_type": token_type,
                "amount_cents": Decimal(f"{v:.6f}"),
            }
            for (ws, desc, model, token_type), v in sorted(cents.items())
        ]

    def value_kpis(self, day: date) -> list[dict[str, Any]]:
        """Daily business value per feature (revenue in the org currency)."""
        out = []
        for name, f in self.features.items():
            users = self.active_users(name, day)
            rate = float(f["conversion_rate"])
            if f.get("value_decays"):
                rate *= (1.0 - VALUE_DECAY_PER_DAY) ** (day - self.demo_start).days
            conversions = int(self.rng(day, f"conversions:{name}").binomial(users, min(rate, 1)))
            revenue = Decimal(str(round(conversions * float(f["revenue_per_conversion"]), 2)))
            out.append(
                {
                    "date": day,
                    "feature_id": name,
                    "active_users": users,
                    "conversions": conversions,
                    "revenue": revenue,
                    "currency": self.currency,
                }
            )
        return out
