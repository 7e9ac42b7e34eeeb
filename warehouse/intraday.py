"""Today's spend so far: the steps of the intraday DAG (dags/ai_finops_intraday.py).

Every hour, the usage of today (day D, the as-of date) up to the last complete hour
is pulled at one-hour buckets from the token sources of the sources file (OpenAI
usage, Anthropic usage report, LiteLLM SpendLogs; never a cost report) into the
intraday landing area, gated, priced from the price book by dbt into
``mart_ops__spend_today``, gated again and published blue/green to its own file
(``Settings.intraday_warehouse_file``). Nothing here reads or writes the daily's
landing, fact or warehouse file. See docs/intraday.md.

The as-of moment is floored to the whole hour: only complete hours are pulled. At
midnight no hour of the new day is complete yet, so an as-of of 00:00 estimates the
whole previous day (24 hours) until the daily run supersedes it.

The intraday landing holds one day only: each extraction replaces the day's
partition of its source (the landing writer's atomic swap) and removes the source's
partitions of every other day. Gate runs are logged under
``Settings.intraday_ops_dir`` with the gate names ``intraday_landing`` and
``intraday_marts``, so the daily's ``ops_data_quality_runs`` only ever holds the
daily's gates; the intraday file carries its own copy as ``ops_intraday_quality_runs``.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from expectations.result import GateFailed
from landing.window import midnight
from warehouse.settings import Settings

log = logging.getLogger(__name__)

MART = "mart_ops__spend_today"
# Source type -> its usage datasets (``datasets`` option values) the estimate needs.
INTRADAY_DATASETS: dict[str, tuple[str, ...]] = {
    "openai": ("usage_completions", "usage_embeddings"),
    "anthropic": ("usage_messages",),
    "litellm": ("spend_logs",),
}
# Types whose API buckets usage by time (extractors' option ``bucket_width``).
HOURLY_BUCKETS = ("openai", "anthropic")
PUBLICATIONS_TABLE = "ops_intraday_publications"
QUALITY_TABLE = "ops_intraday_quality_runs"
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class AsOf:
    """The end of the last complete hour an intraday run estimates up to (UTC, whole hour)."""

    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() != timedelta(0):
            raise ValueError(f"as_of must be a UTC datetime, got {self.at!r}")
        if self.at != floor_hour(self.at):
            raise ValueError(f"as_of must be a whole hour, got {self.at.isoformat()}")

    @property
    def spend_date(self) -> date:
        """Day D: the day of the last complete hour (00:00 closes the day before)."""
        return (self.at - _HOUR).date()

    @property
    def start(self) -> datetime:
        return midnight(self.spend_date)

    @property
    def end(self) -> datetime:
        return self.at

    @property
    def hours_covered(self) -> int:
        return int((self.at - self.start) / _HOUR)

    def __str__(self) -> str:
        return (
            f"{self.spend_date} as of {self.at:%H:%M} UTC "
            f"(window [{self.start.isoformat()}, {self.end.isoformat()}))"
        )

    def as_dict(self) -> dict[str, str]:
        return {"as_of": self.at.isoformat(), "spend_date": self.spend_date.isoformat()}

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> AsOf:
        return cls(datetime.fromisoformat(d["as_of"]))


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _as_utc(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"as_of must be an ISO datetime (UTC), got {text!r}") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    # pendulum's DateTime is a datetime: make it a plain one (XCom, dataclass equality).
    return datetime(*moment.timetuple()[:6], moment.microsecond, tzinfo=UTC)


def plan_as_of(params: dict[str, Any] | None, interval_end: datetime | None) -> AsOf:
    """The run's as-of moment, floored to the hour: the ``as_of`` param (tests, the demo)
    wins over the scheduled run's data interval end. No clock is read."""
    moment = _as_utc((params or {}).get("as_of")) or _as_utc(interval_end)
    if moment is None:
        raise ValueError("this run has no data interval: trigger it with the param as_of")
    return AsOf(floor_hour(moment))


def _raw_sources(settings: Settings) -> list[dict[str, Any]]:
    """The sources file's entries, ``${VAR}``s unexpanded (listing needs no secret)."""
    import yaml

    document = yaml.safe_load(Path(settings.sources_file).read_text(encoding="utf-8")) or {}
    return list(document.get("sources") or [])


def _intraday_options(source_type: str | None, options: dict[str, Any]) -> list[str]:
    """The usage datasets of a source the estimate pulls (empty: not an intraday source)."""
    from extractors.base import extractor_class

    if source_type is None or source_type not in INTRADAY_DATASETS:
        return []
    usage = INTRADAY_DATASETS[source_type]
    selected = options.get("datasets") or list(extractor_class(source_type).datasets)
    return [d for d in selected if d in usage]


def source_names(settings: Settings) -> list[str]:
    """Every configured OpenAI, Anthropic and LiteLLM source with a usage dataset."""
    return [
        entry["name"]
        for entry in _raw_sources(settings)
        if _intraday_options(entry.get("type"), entry.get("options") or {})
    ]


def configured_datasets(settings: Settings) -> list[dict[str, str]]:
    """(source, landing dataset[, active_from]) the intraday landing gate expects for D."""
    from extractors.base import extractor_class

    expected = []
    for entry in _raw_sources(settings):
        options = entry.get("options") or {}
        for option in _intraday_options(entry.get("type"), options):
            item = {
                "source": entry["name"],
                "dataset": extractor_class(entry["type"]).datasets[option].name,
            }
            if options.get("active_from") is not None:
                item["active_from"] = str(options["active_from"])
            expected.append(item)
    return expected


def intraday_source(source):
    """The source as the intraday run extracts it: usage datasets only, no lookback, and
    hourly buckets where the API buckets by time."""
    from extractors.config import SourceConfig

    datasets = _intraday_options(source.type, source.options)
    if not datasets:
        raise ValueError(f"source {source.name!r} ({source.type}) has no intraday usage dataset")
    options = {**source.options, "datasets": datasets, "lookback_days": 0}
    if source.type in HOURLY_BUCKETS:
        options["bucket_width"] = "1h"
    return SourceConfig(source.name, source.type, options)


def extract(settings: Settings, source_name: str, as_of: AsOf, secrets=None) -> dict:
    """Land one source's usage of [D 00:00, as_of) into the intraday landing, replacing D,
    and remove the source's intraday partitions of every other day."""
    from extractors import run_source
    from extractors.config import load_sources
    from landing.layout import ensure_schema_files

    sources = {s.name: s for s in load_sources(settings.sources_file)}
    if source_name not in sources:
        raise KeyError(f"source {source_name!r} is not in {settings.sources_file}")
    ensure_schema_files(settings.intraday_landing_root)
    summary = run_source(
        intraday_source(sources[source_name]),
        as_of.start,
        as_of.end,
        landing_root=settings.intraday_landing_root,
        quarantine_root=settings.intraday_quarantine_root,
        secrets=secrets,
    )
    summary["removed_days"] = drop_other_days(settings, source_name, as_of.spend_date)
    return summary


def drop_other_days(settings: Settings, source_name: str, spend_date: date) -> list[str]:
    """Remove the source's intraday landing and quarantine partitions of days other than D."""
    keep = f"date={spend_date.isoformat()}"
    removed = set()
    for root in (settings.intraday_landing_root, settings.intraday_quarantine_root):
        for partition in sorted((Path(root) / source_name).glob("*/date=*")):
            dataset = partition.parent.name
            if dataset.startswith("_") or partition.name == keep or not partition.is_dir():
                continue  # the writer's staging, or today
            shutil.rmtree(partition)
            removed.add(partition.name.removeprefix("date="))
    return sorted(removed)


class IntradayGateFailed(GateFailed):
    """An intraday gate blocked: the last good estimate stays published."""

    def __init__(self, result, as_of: AsOf):
        super().__init__(result)
        self.as_of = as_of
        self.args = (
            f"today's estimate for {as_of} is held back; the last good estimate "
            f"stays published.\n{result.summary()}",
        )

    def __str__(self) -> str:
        return self.args[0]


def _record(settings: Settings, result, gate: str, run_id: str, as_of: AsOf):
    from warehouse.quality_log import record_gate_run

    result = dataclasses.replace(result, gate=gate)
    record_gate_run(settings.intraday_ops_dir, result, run_id)
    if not result.success:
        raise IntradayGateFailed(result, as_of)
    return {
        "gate": gate,
        "warnings": len(result.warnings),
        "data_docs": str(result.data_docs_index),
    }


def validate_landing(settings: Settings, as_of: AsOf, run_id: str = "manual") -> dict:
    """The landing gate over the intraday landing of [D, D+1), every intraday dataset
    configured; recorded in the intraday ops log, then raises when blocked."""
    from expectations import run_landing_gate
    from landing.layout import ensure_schema_files

    ensure_schema_files(settings.intraday_landing_root)
    result = run_landing_gate(
        settings.intraday_landing_root,
        as_of.spend_date,
        as_of.spend_date + timedelta(days=1),
        data_docs_dir=settings.data_docs_dir,
        configured=configured_datasets(settings),
    )
    return _record(settings, result, "intraday_landing", run_id, as_of)


def build(settings: Settings, as_of: AsOf, run_id: str) -> str:
    """dbt build of mart_ops__spend_today and what it reads into the next intraday file."""
    from landing.layout import ensure_schema_files
    from warehouse.build import build_next

    ensure_schema_files(settings.intraday_landing_root)
    next_file = build_next(
        published=settings.intraday_warehouse_file,
        build_dir=settings.intraday_build_dir,
        landing_root=settings.intraday_landing_root,
        start=as_of.spend_date,
        end=as_of.spend_date + timedelta(days=1),
        run_id=run_id,
        dbt_vars={"intraday": True},
        select=[f"+{MART}"],
        project_dir=settings.dbt_project_dir,
    )
    return str(next_file)


def validate_marts(settings: Settings, as_of: AsOf, next_file: str, run_id: str = "manual") -> dict:
    """The intraday marts gate on the next file, before anyone can read it."""
    from expectations import run_intraday_marts_gate

    result = run_intraday_marts_gate(
        Path(next_file), as_of.spend_date, as_of.at, data_docs_dir=settings.data_docs_dir
    )
    return _record(settings, result, "intraday_marts", run_id, as_of)


def publish(settings: Settings, as_of: AsOf, next_file: str, run_id: str) -> dict:
    """Leave the next file standing alone, record the run, and swap it in atomically."""
    import duckdb

    from warehouse.publish import drop_build_relations, swap_in
    from warehouse.quality_log import read_log

    next_path = Path(next_file)
    if not next_path.exists():
        raise FileNotFoundError(f"no built intraday file to publish at {next_path}")
    con = duckdb.connect(str(next_path))
    try:
        con.execute("begin")
        drop_build_relations(con)
        con.execute(
            f"create table if not exists {PUBLICATIONS_TABLE} (run_id varchar,"
            " spend_date date, as_of_at timestamptz, published_at timestamptz)"
        )
        con.execute(
            f"insert into {PUBLICATIONS_TABLE} values (?, ?, ?, current_timestamp)",
            [run_id, as_of.spend_date, as_of.at],
        )
        gate_runs = read_log(settings.intraday_ops_dir)
        con.register("gate_runs", gate_runs)
        con.execute(f"create or replace table {QUALITY_TABLE} as select * from gate_runs")
        con.unregister("gate_runs")
        con.execute("commit")
        con.execute("checkpoint")
    finally:
        con.close()
    published = swap_in(next_path, settings.intraday_warehouse_file)
    log.info("published today's estimate for %s: %s", as_of, published)
    return {"intraday_warehouse": str(published), **as_of.as_dict()}


def run_intraday(
    settings: Settings, as_of: AsOf | datetime | str, run_id: str = "manual", secrets=None
) -> dict:
    """Everything, in the DAG's order: extract each source, gate, build, gate, publish."""
    if not isinstance(as_of, AsOf):
        as_of = plan_as_of({"as_of": as_of}, None)
    extracted = [extract(settings, name, as_of, secrets) for name in source_names(settings)]
    validate_landing(settings, as_of, run_id)
    next_file = build(settings, as_of, run_id)
    validate_marts(settings, as_of, next_file, run_id)
    return {**publish(settings, as_of, next_file, run_id), "sources": extracted}


def superseded(spend_date: date, daily_warehouse: Path) -> bool:
    """Has the daily run replaced the estimate of ``spend_date`` with billed cost?

    True when the published daily warehouse holds the day as final (ops_day_status:
    every configured source landed it or recorded it empty), which is when the role
    marts show it (macro final_days_only). Then a reader shows the daily's billed
    cost for the day and not mart_ops__spend_today. False when the file, the table
    or the day is missing, or the day is still provisional: the estimate is then the
    best number there is. Reads the file read-only; needs no dbt.
    """
    import duckdb

    path = Path(daily_warehouse)
    if not path.exists():
        return False
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(
            "select count(*), bool_and(is_final_day) from ops_day_status where landing_date = ?",
            [spend_date],
        ).fetchone()
    except duckdb.CatalogException:
        return False
    finally:
        con.close()
    return row is not None and bool(row[0]) and bool(row[1])
