"""Why cost moved, in each role's words: the top drivers of `mart_ops__cost_drivers` as sentences.

Reads the published DuckDB file (read-only; marts only) and takes every word a
role reads from dbt's compiled semantic layer (``semantic_manifest.json``, the
labels in dbt_project/models/semantic/_semantic__metrics.yml): the engineer's
"Spend" and "Cost per 1k tokens" are finance's "Effective cost" and "Unit cost
(per 1k tokens)", so renaming a label renames it in the story.

    python -m reports.narrative --warehouse F --role finance --grain week \
        [--period-start D] [--team T] [--manifest dbt_project/target/semantic_manifest.json]

Example: "Spend +9.1% w/w (+$1,239.76) in the week of 2026-10-19: +5.0 pts from
ad-copy-gen (campaign 'Autumn launch'; Tokens +168%, Cost per 1k tokens +1%), ..."
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from reports.marts import money, scalar
from warehouse.glossary import ROLES, load_semantic_manifest, role_metrics
from warehouse.settings import dbt_project_dir_from_env

GRAIN_ABBREVIATION = {"week": "w/w", "month": "m/m"}
TOP_DRIVERS = 3

# Which semantic-layer metric names each volume unit and its price per unit.
# The role metrics have a label per role; the volume counts are building blocks
# with one label for everyone, and GPU-hours have no role metric for their price.
VOLUME_METRIC = {"tokens": "tokens", "requests": "requests", "gpu_hours": "gpu_hours_paid"}
UNIT_PRICE_METRIC = {"tokens": "cost_per_1k_tokens", "requests": "cost_per_request"}
SPEND_METRIC = "total_cost"


class NarrativeError(ValueError):
    """Nothing to tell: no compared period, an unknown team or role."""


@dataclass(frozen=True)
class RoleWords:
    """The labels one role reads, from the semantic manifest."""

    spend: str
    volume: dict[str, str]
    unit_price: dict[str, str]

    @classmethod
    def from_manifest(cls, manifest: dict, role: str) -> RoleWords:
        if role not in ROLES:
            raise NarrativeError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        role_labels = {
            m["name"]: m["config"]["meta"]["roles"][role]["label"] for m in role_metrics(manifest)
        }
        plain_labels = {m["name"]: m.get("label") or m["name"] for m in manifest["metrics"]}
        volume = {unit: plain_labels[name] for unit, name in VOLUME_METRIC.items()}
        unit_price = {unit: role_labels[name] for unit, name in UNIT_PRICE_METRIC.items()}
        # No role metric prices a GPU-hour: "<spend> per <paid GPU-hour>" in the role's spend word.
        unit_price["gpu_hours"] = (
            f"{role_labels[SPEND_METRIC]} per {_singular(volume['gpu_hours'])}"
        )
        return cls(spend=role_labels[SPEND_METRIC], volume=volume, unit_price=unit_price)


@dataclass(frozen=True)
class Driver:
    """One row of mart_ops__cost_drivers."""

    driver_level: str
    team: str
    feature: str | None
    model_id: str | None
    volume_unit: str
    events_described: str | None
    currency: str
    prior_volume: Decimal | None
    current_volume: Decimal | None
    prior_cost: Decimal
    current_cost: Decimal
    cost_change: Decimal
    volume_effect: Decimal
    price_effect: Decimal
    mix_effect: Decimal
    cost_change_pct: float | None
    period_start: date
    prior_period_start: date


@dataclass(frozen=True)
class Narrative:
    role: str
    period_grain: str
    period_start: date
    team: str
    sentences: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


_COLUMNS = (
    "driver_level, team, feature, model_id, volume_unit, events_described, reporting_currency,"
    " prior_volume, current_volume, prior_cost, current_cost, cost_change, volume_effect,"
    " price_effect, mix_effect, cost_change_pct, period_start, prior_period_start"
)


def read_drivers(
    warehouse: Path, grain: str, period_start: date | None = None, team: str | None = None
) -> tuple[Driver, list[Driver]]:
    """The scope's total row (the org's, or the team's) and its item rows, for one period.

    Without period_start, the latest period compared at that grain.
    """
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        if period_start is None:
            period_start = scalar(
                con,
                "select max(period_start) from mart_ops__cost_drivers where period_grain = ?",
                [grain],
            )
            if period_start is None:
                raise NarrativeError(
                    f"no whole {grain} has a whole {grain} before it to compare with"
                )
        level, scope = ("team", team) if team else ("org", "all")
        rows = con.execute(
            f"select {_COLUMNS} from mart_ops__cost_drivers"
            " where period_grain = ? and period_start = ?"
            " and (driver_level = ? and team = ?"
            " or driver_level = 'item' and (? = 'all' or team = ?))"
            " order by abs(cost_change) desc, team, feature, model_id, volume_unit",
            [grain, period_start, level, scope, scope, scope],
        ).fetchall()
    finally:
        con.close()
    drivers = [Driver(*row) for row in rows]
    totals = [d for d in drivers if d.driver_level != "item"]
    if not totals:
        raise NarrativeError(
            f"no {grain} starting {period_start} compared"
            + (f" for team {team!r}" if team else "")
            + " (only whole periods of final days are compared)"
        )
    return totals[0], [d for d in drivers if d.driver_level == "item"]


def tell(manifest: dict, role: str, total: Driver, items: list[Driver], grain: str) -> Narrative:
    """The sentences for one role: the headline with the top drivers, then the split."""
    words = RoleWords.from_manifest(manifest, role)
    subject = words.spend if total.team == "all" else f"{words.spend} of {total.team}"
    headline = (
        f"{subject} {_percent(total.cost_change_pct)} {GRAIN_ABBREVIATION[grain]}"
        f" ({_money(total.cost_change, total.currency)}) in the {grain} of {total.period_start}"
        f" against the {grain} of {total.prior_period_start}"
    )
    top = [item for item in items if _shown(item.cost_change, total.prior_cost)][:TOP_DRIVERS]
    named_twice = _features_named_twice(top)
    parts = []
    for item in top:
        points = _points(item.cost_change, total.prior_cost)
        notes = "; ".join(n for n in (item.events_described, _effect_notes(item, words)) if n)
        parts.append(
            f"{points} from {_driver_name(item, named_twice)}" + (f" ({notes})" if notes else "")
        )
    sentences = [headline + (": " + ", ".join(parts) if parts else "") + "."]
    sentences.append(
        f"Volume {_money(total.volume_effect, total.currency)},"
        f" unit prices {_money(total.price_effect, total.currency)},"
        f" mix {_money(total.mix_effect, total.currency)}."
    )
    return Narrative(role, grain, total.period_start, total.team, sentences)


def narrative(
    warehouse: Path,
    manifest_path: Path,
    role: str,
    grain: str,
    period_start: date | None = None,
    team: str | None = None,
) -> Narrative:
    total, items = read_drivers(warehouse, grain, period_start, team)
    return tell(load_semantic_manifest(manifest_path), role, total, items, grain)


def _effect_notes(item: Driver, words: RoleWords) -> str:
    """How the item's volume and price per unit moved, in the role's words; and a mix shift."""
    notes = []
    unit = item.volume_unit
    mix_led = bool(item.mix_effect) and abs(item.mix_effect) >= max(
        abs(item.volume_effect), abs(item.price_effect)
    )
    if unit in words.volume and item.prior_volume and item.current_volume:
        volume_pct = 100 * float(item.current_volume / item.prior_volume - 1)
        prior_price = item.prior_cost / item.prior_volume
        price_pct = (
            100 * float((item.current_cost / item.current_volume) / prior_price - 1)
            if prior_price
            else None
        )
        notes.append(f"{words.volume[unit]} {_percent(volume_pct)}")
        if price_pct is not None:
            notes.append(f"{words.unit_price[unit]} {_percent(price_pct)}")
    elif unit in words.volume and not item.prior_volume and item.current_volume and not mix_led:
        notes.append(f"new {words.volume[unit].lower()}")
    elif unit == "none" and item.cost_change_pct is not None:
        # No volume to split: the mart puts the whole change in price.
        notes.append(f"flat charges {_percent(item.cost_change_pct)}")
    if mix_led:
        toward = "more" if item.mix_effect > 0 else "less"
        notes.append(f"{toward} of its traffic on {item.model_id}")
    return ", ".join(notes)


def _driver_name(item: Driver, named_twice: set[str | None]) -> str:
    if item.feature is None:
        return f"{item.team}'s shared cost"
    if item.feature not in named_twice:
        return item.feature
    what = item.model_id or {"gpu_hours": "GPUs", "none": "infrastructure"}.get(
        item.volume_unit, item.volume_unit
    )
    return f"{item.feature} on {what}"


def _features_named_twice(items: list[Driver]) -> set[str | None]:
    seen: set[str | None] = set()
    twice: set[str | None] = set()
    for item in items:
        (twice if item.feature in seen else seen).add(item.feature)
    return twice


def _singular(label: str) -> str:
    label = label[0].lower() + label[1:]
    return label[:-1] if label.endswith("s") else label


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%"


def _shown(change: Decimal, scope_prior_cost: Decimal) -> bool:
    """A driver that rounds to 0.0 pts (or, with no prior cost, $0.00) explains nothing visible."""
    if not scope_prior_cost:
        return abs(change) >= Decimal("0.005")
    return abs(100 * change / scope_prior_cost) >= Decimal("0.05")


def _points(change: Decimal, scope_prior_cost: Decimal) -> str:
    """Percentage points of the scope's change: the items of a period add up to its % change."""
    if not scope_prior_cost:
        return _money(change, "")
    return f"{100 * float(change / scope_prior_cost):+.1f} pts"


def _money(amount: Decimal, currency: str) -> str:
    return money(amount, currency, signed=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reports.narrative",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--warehouse", type=Path, required=True, help="the published DuckDB file")
    parser.add_argument("--role", choices=ROLES, required=True)
    parser.add_argument("--grain", choices=tuple(GRAIN_ABBREVIATION), default="week")
    parser.add_argument(
        "--period-start", type=date.fromisoformat, help="YYYY-MM-DD; default the latest"
    )
    parser.add_argument("--team", help="one team's drivers; default the whole organisation")
    parser.add_argument(
        "--manifest",
        type=Path,
        default=Path(
            os.environ.get(
                "COSTBRIDGE_SEMANTIC_MANIFEST",
                dbt_project_dir_from_env() / "target" / "semantic_manifest.json",
            )
        ),
        help="dbt's compiled semantic_manifest.json (`dbt parse`); default %(default)s",
    )
    args = parser.parse_args(argv)
    try:
        told = narrative(
            args.warehouse, args.manifest, args.role, args.grain, args.period_start, args.team
        )
    except (NarrativeError, ValueError) as error:
        print(f"narrative: {error}", file=sys.stderr)
        return 1
    print(told.text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
