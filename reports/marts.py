"""What every renderer reads: the published marts, the state of the data, and each role's words.

The dashboard, the weekly team reports and the leadership report read marts only,
from the published DuckDB file opened read-only; never landing files, never the
build. This module is the one place that knows:

- which columns a renderer needs of a mart, so a mart that lost one fails with a
  message naming the mart and the column (`MartColumnMissing`), not a KeyError
  deep in a chart;
- what "published" means for a period: the final days of ``ops_day_status`` (a
  day every configured source landed), and the gate runs that held days back
  (``ops_data_quality_runs`` in the file, and the ops log beside it, which is newer
  when a gate blocked after the last publish);
- each role's label of a metric, from dbt's compiled semantic layer;
- how money is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from babel.numbers import format_currency

from warehouse.glossary import ROLES, load_semantic_manifest, role_metrics
from warehouse.quality_log import TABLE as GATE_RUNS
from warehouse.quality_log import read_log as read_gate_log


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> Any:
    """The one value of a query that returns one row (an aggregate), or None."""
    row = con.execute(sql, list(params)).fetchone()
    return row[0] if row else None


class MartColumnMissing(LookupError):
    """A mart lacks a relation or column a renderer needs."""


class NoPublishedData(LookupError):
    """The period asked for holds no published (final) day."""


@dataclass(frozen=True)
class GateRun:
    gate: str
    run_id: str
    window_start: date
    window_end: date
    success: bool
    blocking_failures: int
    warnings: int
    recorded_at: datetime

    @property
    def verdict(self) -> str:
        return "passed" if self.success else f"blocked ({self.blocking_failures} failures)"


@dataclass(frozen=True)
class DataStatus:
    """When the data is from, and what the gates said of it."""

    first_day: date | None
    data_as_of: date | None  # the last final day: what the marts tell
    published_at: datetime | None
    last_gate: GateRun | None
    # Days in the fact but not the marts: billed, a source not landed yet.
    provisional_days: list[tuple[date, list[str]]] = field(default_factory=list)
    # Windows whose last gate run blocked after the last publication.
    held_back: list[GateRun] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return self.data_as_of is not None


@dataclass(frozen=True)
class Period:
    """A half-open range of days, [start, end), that a report tells."""

    grain: str  # day | week | month
    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.grain == "month":
            return f"{self.start:%B %Y}"
        if self.grain == "week":
            return f"week of {self.start.isoformat()}"
        return self.start.isoformat()

    @property
    def key(self) -> str:
        """A folder name: 2026-10 for a month, 2026-W43 for a week, the date for a day."""
        if self.grain == "month":
            return f"{self.start:%Y-%m}"
        if self.grain == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return self.start.isoformat()

    @classmethod
    def week_of(cls, day: date) -> Period:
        start = day - timedelta(days=day.weekday())
        return cls("week", start, start + timedelta(days=7))

    @classmethod
    def month_of(cls, day: date) -> Period:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return cls("month", start, end)

    @classmethod
    def parse(cls, grain: str, text: str) -> Period:
        """``2026-10`` or any day of the month; ``2026-W43`` or any day of the week."""
        if grain == "month":
            day = date.fromisoformat(text + "-01" if len(text) == 7 else text)
            return cls.month_of(day)
        if grain == "week":
            if "-W" in text:
                year, week = text.split("-W")
                return cls.week_of(date.fromisocalendar(int(year), int(week), 1))
            return cls.week_of(date.fromisoformat(text))
        raise ValueError(f"unknown period grain {grain!r}: week or month")


class PublishedMarts:
    """The published warehouse, read-only, for one renderer (named in its errors)."""

    def __init__(self, warehouse: Path, reader: str, ops_dir: Path | None = None):
        self.path = Path(warehouse)
        self.reader = reader
        self.ops_dir = ops_dir
        if not self.path.exists():
            raise NoPublishedData(
                f"no published warehouse at {self.path}: run the daily pipeline first"
            )
        self.con = duckdb.connect(str(self.path), read_only=True)
        self._columns: dict[str, set[str]] = {}
        for table, column in self.con.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'main'"
        ).fetchall():
            self._columns.setdefault(table, set()).add(column)

    def __enter__(self) -> PublishedMarts:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def require(self, mart: str, columns: Iterable[str]) -> None:
        if mart not in self._columns:
            raise MartColumnMissing(
                f"{self.reader} needs the mart {mart}, which {self.path} does not hold"
            )
        missing = [c for c in columns if c not in self._columns[mart]]
        if missing:
            raise MartColumnMissing(
                f"{self.reader} needs column{'s' if len(missing) > 1 else ''}"
                f" {', '.join(missing)} of the mart {mart}, which has none"
                f" (in {self.path})"
            )

    def rows(
        self,
        mart: str,
        columns: Sequence[str],
        where: str = "",
        params: Sequence = (),
        order_by: str = "",
        limit: int | None = None,
    ) -> list[dict]:
        """The mart's rows as dicts of Python values (DECIMAL stays Decimal).

        ``columns`` may be expressions (``sum(spend) as spend``): every column they name
        is required, so a missing one fails naming the mart and the column."""
        self.require(mart, _named_columns([*columns, where, order_by]))
        sql = f"select {', '.join(columns)} from {mart}"
        sql += f" where {where}" if where else ""
        sql += f" order by {order_by}" if order_by else ""
        sql += f" limit {int(limit)}" if limit is not None else ""
        cursor = self.con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def query(self, needs: dict[str, Sequence[str]], sql: str, params: Sequence = ()) -> list[dict]:
        """Rows of an aggregate query, after checking that every mart it reads has the
        columns it needs (``needs``: mart -> columns), so a lost column is named, not a
        Binder Error."""
        for mart, columns in needs.items():
            self.require(mart, columns)
        cursor = self.con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def frame(
        self,
        mart: str,
        columns: Sequence[str],
        where: str = "",
        params: Sequence = (),
        order_by: str = "",
    ) -> pd.DataFrame:
        """The mart's rows as a DataFrame, for charts (money as float)."""
        return pd.DataFrame(
            self.rows(mart, columns, where, params, order_by), columns=list(columns)
        )

    def final_days(self) -> list[date]:
        self.require("ops_day_status", ("landing_date", "is_final_day"))
        return [
            d
            for (d,) in self.con.execute(
                "select distinct landing_date from ops_day_status where is_final_day order by 1"
            ).fetchall()
        ]

    def status(self) -> DataStatus:
        days = self.final_days()
        self.require("ops_day_status", ("source_name", "source_status"))
        provisional = self.con.execute(
            "select landing_date, list(source_name order by source_name)"
            " filter (where source_status = 'missing')"
            " from ops_day_status where not is_final_day group by landing_date order by 1"
        ).fetchall()
        published_at = None
        if "ops_publications" in self._columns:
            published_at = scalar(self.con, "select max(published_at) from ops_publications")
        runs = self._gate_runs()
        last_gate = runs[-1] if runs else None
        held_back = _held_back(runs, published_at)
        return DataStatus(
            first_day=days[0] if days else None,
            data_as_of=days[-1] if days else None,
            published_at=published_at,
            last_gate=last_gate,
            provisional_days=[(d, list(m or [])) for d, m in provisional],
            held_back=held_back,
        )

    def _gate_runs(self) -> list[GateRun]:
        """Every gate run on record, oldest first: the ops log when there is one (it is
        written at once, so it knows of a block after the last publish), else the file's copy."""
        columns = (
            "gate",
            "run_id",
            "window_start",
            "window_end",
            "success",
            "blocking_failures",
            "warnings",
            "recorded_at",
        )
        if self.ops_dir is not None and Path(self.ops_dir).exists():
            table = read_gate_log(Path(self.ops_dir)).select(list(columns))
            records = table.to_pylist()
        elif GATE_RUNS in self._columns:
            records = self.rows(GATE_RUNS, columns)
        else:
            return []
        runs = [GateRun(**r) for r in records]
        return sorted(runs, key=lambda r: r.recorded_at)

    def period_days(self, period: Period) -> list[date]:
        """The period's published days; raises NoPublishedData when it has none."""
        days = [d for d in self.final_days() if period.start <= d < period.end]
        if not days:
            raise NoPublishedData(
                f"no published data for {period.label} ({period.start} .. {period.last_day}):"
                " no day of it has passed the gates yet"
            )
        return days

    def not_reportable(self, period: Period) -> str | None:
        """Why the period may not be reported yet, or None when it may: every day of it is
        published final (ops_day_status) and no blocked gate run newer than the last
        publication covers any of its days. A report never tells a day the gates held back."""
        final = set(self.final_days())
        days = [period.start + timedelta(days=i) for i in range((period.end - period.start).days)]
        missing = [d for d in days if d not in final]
        if missing:
            return (
                f"{period.label} ({period.key}) is not reported yet: {len(missing)} of its"
                f" {len(days)} days {'is' if len(missing) == 1 else 'are'} not published final"
                f" ({_day_list(missing)})"
            )
        for run in self.status().held_back:
            if run.window_start < period.end and run.window_end > period.start:
                return (
                    f"{period.label} ({period.key}) is not reported: the {run.gate} gate run"
                    f" {run.run_id} over {run.window_start} .. {run.window_end} (end exclusive)"
                    f" {run.verdict} after the last publication, so its days are held back"
                )
        return None


def _day_list(days: list[date]) -> str:
    if len(days) <= 3:
        return ", ".join(d.isoformat() for d in days)
    return f"{days[0]} .. {days[-1]}"


_SQL_WORDS = {
    "as",
    "and",
    "or",
    "not",
    "filter",
    "where",
    "null",
    "nulls",
    "last",
    "first",
    "is",
    "distinct",
    "case",
    "when",
    "then",
    "else",
    "end",
    "true",
    "false",
    "desc",
    "asc",
    "group",
    "by",
    "all",
    "in",
    "between",
    "like",
    "interval",
    "day",
    "month",
    "week",
}


def _named_columns(expressions: Iterable[str]) -> list[str]:
    """The column names in SQL expressions: identifiers that are not a function call, an
    alias, a keyword, a string or a ? parameter."""
    names: list[str] = []
    for expression in expressions:
        text = re.sub(r"'[^']*'", "", expression or "")
        text = re.sub(r"\bas\s+\w+", "", text, flags=re.IGNORECASE)
        for match in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*)\b(\s*\()?", text):
            word, call = match.group(1), match.group(2)
            if call or word.lower() in _SQL_WORDS or word in names:
                continue
            names.append(word)
    return names


def _held_back(runs: list[GateRun], published_at: datetime | None) -> list[GateRun]:
    """Blocked gate runs newer than the last publication: those windows are not in the marts."""
    return [
        r for r in runs if not r.success and (published_at is None or r.recorded_at > published_at)
    ]


@dataclass(frozen=True)
class RoleLabels:
    """Each role's label of every role metric, from dbt's compiled semantic layer."""

    by_role: dict[str, dict[str, str]]
    plain: dict[str, str]

    @classmethod
    def load(cls, manifest_path: Path) -> RoleLabels:
        manifest = load_semantic_manifest(Path(manifest_path))
        by_role = {
            role: {
                m["name"]: m["config"]["meta"]["roles"][role]["label"]
                for m in role_metrics(manifest)
            }
            for role in ROLES
        }
        plain = {m["name"]: m.get("label") or m["name"] for m in manifest["metrics"]}
        return cls(by_role, plain)

    def of(self, role: str, metric: str) -> str:
        if role not in self.by_role:
            raise KeyError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        label = self.by_role[role].get(metric) or self.plain.get(metric)
        if label is None:
            raise KeyError(f"the semantic layer defines no metric {metric!r}")
        return label

    def as_json(self) -> str:
        return json.dumps({"roles": self.by_role, "plain": self.plain}, sort_keys=True)


def money(
    amount: Decimal | float | int | None, currency: str, *, signed: bool = False, digits: int = 2
) -> str:
    """An amount as people read it: ``$1,234.56`` (``+$1,234.56`` when signed); n/a for none.
    ``digits=4`` for unit prices (``$0.0023`` per 1k tokens)."""
    if amount is None:
        return "n/a"
    value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    if not currency:
        text = f"{abs(value):,.{digits}f}"
    elif digits == 2:
        text = format_currency(abs(value), currency, locale="en_US")
    else:
        text = format_currency(
            abs(value),
            currency,
            format="\u00a4#,##0." + "0" * digits,
            locale="en_US",
            currency_digits=False,
        )
    if value < 0:
        return "-" + text
    return ("+" if signed else "") + text


def percent(value: float | Decimal | None, *, digits: int = 1, signed: bool = False) -> str:
    """A share (0.25) as ``25.0%``; n/a for none."""
    if value is None:
        return "n/a"
    return f"{100 * float(value):{'+' if signed else ''}.{digits}f}%"
