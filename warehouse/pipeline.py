"""The steps of the daily pipeline, as plain functions over a data window.

The Airflow DAG (dags/ai_finops_daily.py) is wiring around these; tests and the
CLI call them directly. Every step takes its window explicitly: no step asks the
clock what day it is.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from landing.layout import partitions, read_manifest
from landing.window import Window
from warehouse.build import build_next
from warehouse.pause import pause_point
from warehouse.publish import drop_build_relations, swap_in
from warehouse.quality_log import TABLE as QUALITY_TABLE
from warehouse.quality_log import read_log as read_gate_log
from warehouse.quality_log import record_gate_run
from warehouse.quarantine import load_quarantine
from warehouse.quarantine import reconcile as reconcile_quarantine
from warehouse.settings import Settings

log = logging.getLogger(__name__)


def _as_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def resolve_window(
    params: dict[str, Any] | None,
    interval_start: datetime | None,
    interval_end: datetime | None,
) -> Window:
    """The run's window: `start`/`end` params (backfills, the demo) win over the data interval.

    A scheduled daily run has interval [D, D+1). A manual run without params has
    no usable interval and must say which days it is for.
    """
    params = params or {}
    start, end = _as_date(params.get("start")), _as_date(params.get("end"))
    if start and end:
        return Window(start, end)
    if start or end:
        raise ValueError("give both `start` and `end` (YYYY-MM-DD, end exclusive), or neither")
    s, e = _as_date(interval_start), _as_date(interval_end)
    if s and e and s < e:
        return Window(s, e)
    if e:  # a manual run's interval can be a point in time: take the day before it
        return Window(e - timedelta(days=1), e)
    raise ValueError("this run has no data interval: trigger it with params start and end")


def source_names(settings: Settings) -> list[str]:
    from extractors.config import load_sources

    return [s.name for s in load_sources(settings.sources_file)]


def configured_datasets(settings: Settings) -> list[dict[str, str]]:
    """Every (source, landing dataset) the sources file configures: what a final day needs.

    Passed to dbt as the var ``configured_datasets`` (model ops_day_status). Read
    without expanding the file's ``${VAR}``s: knowing which datasets a source lands
    needs no path or secret, and the build step does not have the extraction's
    environment.
    """
    import yaml

    from extractors.base import extractor_class

    document = yaml.safe_load(Path(settings.sources_file).read_text(encoding="utf-8")) or {}
    expected = []
    for entry in document.get("sources") or []:
        name = entry["name"]
        cls = extractor_class(entry.get("type"), where=f"source {name!r}")
        options = entry.get("options") or {}
        active_from = options.get("active_from")
        for option in options.get("datasets") or list(cls.datasets):
            item = {"source": name, "dataset": cls.datasets[option].name}
            if active_from is not None:
                item["active_from"] = str(active_from)
            expected.append(item)
    return expected


def extract(settings: Settings, source_name: str, window: Window, secrets=None) -> dict:
    """Extract one configured source over the window (plus its lookback) into landing."""
    from extractors import run_source
    from extractors.config import load_sources
    from landing.layout import ensure_schema_files

    sources = {s.name: s for s in load_sources(settings.sources_file)}
    if source_name not in sources:
        raise KeyError(f"source {source_name!r} is not in {settings.sources_file}")
    ensure_schema_files(settings.landing_root)
    return run_source(
        sources[source_name],
        window.start_date,
        window.end_date,
        landing_root=settings.landing_root,
        quarantine_root=settings.quarantine_root,
        secrets=secrets,
    )


def validate_landing(settings: Settings, window: Window, run_id: str = "manual") -> dict:
    """Landing gate: recorded in the ops log, then raises (holding the day back) when blocked.

    Every configured source must have landed each day of the window, or recorded it
    as empty: a source that failed or was never run holds the day back, by the CLI
    and the DAG alike.
    """
    from expectations import run_landing_gate

    result = run_landing_gate(
        settings.landing_root,
        window.start_date,
        window.end_date,
        data_docs_dir=settings.data_docs_dir,
        configured=configured_datasets(settings),
    )
    record_gate_run(settings.ops_dir, result, run_id)
    result.raise_for_status()
    return _gate_summary(result)


def _gate_summary(result) -> dict:
    return {
        "gate": result.gate,
        "warnings": len(result.warnings),
        "data_docs": str(result.data_docs_index),
    }


def build(settings: Settings, window: Window, run_id: str, dbt_vars: dict | None = None) -> str:
    """dbt build (models and tests, conservation included) into the next file."""
    from landing.layout import ensure_schema_files

    ensure_schema_files(settings.landing_root)
    dbt_vars = {"configured_datasets": configured_datasets(settings), **(dbt_vars or {})}
    lookback = int(dbt_vars.get("lookback_days", _dbt_default_var(settings, "lookback_days", 3)))
    relanded = fact_lookback_days(settings, window, lookback)
    if relanded > lookback:
        log.info(
            "landing changed since the last publication back to %s: the fact rebuilds %d days"
            " before %s, not %d",
            window.start_date - timedelta(days=relanded),
            relanded,
            window.start_date,
            lookback,
        )
        dbt_vars["lookback_days"] = relanded
    next_file = build_next(
        published=settings.warehouse_file,
        build_dir=settings.build_dir,
        landing_root=settings.landing_root,
        start=window.start_date,
        end=window.end_date,
        run_id=run_id,
        dbt_vars=dbt_vars,
        project_dir=settings.dbt_project_dir,
    )
    return str(next_file)


def _dbt_default_var(settings: Settings, name: str, default: Any) -> Any:
    import yaml

    project_file = settings.dbt_project_dir / "dbt_project.yml"
    project = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    return (project.get("vars") or {}).get(name, default)


def fact_lookback_days(settings: Settings, window: Window, lookback: int) -> int:
    """How many days before the window the fact must rebuild: ``lookback``, or more.

    The fact rebuilds [start - lookback, end) from landing. An extraction may have
    re-landed earlier days since the last publication: a FOCUS re-delivery of a closed
    month replaces the whole billing period (FocusExtractor.plan_window), and a source
    may look back further than the fact. Those days are rebuilt too, from the earliest
    day landed after the last publication, or the fact would keep the old version (and
    conservation would hold every later day back). Days from the window's end on are
    not this run's.
    """
    import duckdb

    published = settings.warehouse_file
    if not published.exists():
        return lookback  # the first build rebuilds every landed day anyway
    con = duckdb.connect(str(published), read_only=True)
    try:
        row = con.execute("select epoch(max(published_at)) from ops_publications").fetchone()
    except duckdb.CatalogException:
        row = None
    finally:
        con.close()
    if row is None or row[0] is None:
        return lookback
    published_at = float(row[0])
    earliest = window.start_date - timedelta(days=lookback)
    for partition in partitions(settings.landing_root):
        try:
            manifest = read_manifest(partition.path)
            day = date.fromisoformat(manifest["partition_date"])
            extracted = datetime.fromisoformat(manifest["extracted_at"]).timestamp()
        except (OSError, ValueError, KeyError, TypeError):
            continue  # the landing gate names unreadable manifests
        if extracted > published_at and day < min(earliest, window.end_date):
            earliest = day
    return (window.start_date - earliest).days


def validate_marts(
    settings: Settings, window: Window, next_file: str, run_id: str = "manual"
) -> dict:
    """Marts gate on the next file, before anyone can read it; recorded in the ops log."""
    from expectations import run_marts_gate

    result = run_marts_gate(
        Path(next_file), window.start_date, window.end_date, data_docs_dir=settings.data_docs_dir
    )
    record_gate_run(settings.ops_dir, result, run_id)
    result.raise_for_status()
    return _gate_summary(result)


def publish(
    settings: Settings,
    window: Window,
    next_file: str,
    run_id: str,
    postgres_dsn: str | None = None,
) -> dict:
    """Publish the next file to every target as one unit, then swap it in.

    The ops records go into the next file; PostgreSQL (when configured) and the
    Parquet exports are published from it, read-only, each one's outcome recorded
    in ``ops_publish_targets`` (and ``ops_alerts`` when it is behind); then the
    DuckDB file is swapped in. A target that could not take the run does not hold
    DuckDB back, but raises `PublishTargetBehind` after the swap, so the run fails
    visibly; the next run republishes every target.
    """
    import duckdb

    from warehouse.publish import (
        ALERT_QUARANTINE,
        PublishTargetBehind,
        TargetOutcome,
        ensure_ops_tables,
        record_alerts,
        record_targets,
    )

    next_path = Path(next_file)
    if not next_path.exists():
        raise FileNotFoundError(f"no built warehouse to publish at {next_path}")
    problems = reconcile_quarantine(settings.landing_root, settings.quarantine_root)
    if problems:
        # Visible, not blocking: ops_quarantine still shows every row that was filed, and
        # each disagreement is an ops_alerts row.
        log.error("quarantine does not reconcile with the manifests:\n  %s", "\n  ".join(problems))
    con = duckdb.connect(str(next_path))
    try:
        con.execute("begin")
        dropped = drop_build_relations(con)
        log.info("the published file stands alone: dropped %s", ", ".join(dropped) or "nothing")
        # Operational bookkeeping, not a transformation: readers can ask which days are live.
        con.execute(
            "create table if not exists ops_publications ("
            " run_id varchar, window_start date, window_end date, published_at timestamptz)"
        )
        con.execute(
            "insert into ops_publications values (?, ?, ?, current_timestamp)",
            [run_id, window.start_date, window.end_date],
        )
        ensure_ops_tables(con)
        record_alerts(con, run_id, ALERT_QUARANTINE, "quarantine", problems)
        quarantined = load_quarantine(con, settings.quarantine_root)
        gate_runs = read_gate_log(settings.ops_dir)
        con.register("gate_runs", gate_runs)
        con.execute(f"create or replace table {QUALITY_TABLE} as select * from gate_runs")
        con.unregister("gate_runs")
        pause_point("publish:ops_tables_open")
        con.execute("commit")
        con.execute("checkpoint")
    finally:
        con.close()

    result: dict[str, Any] = {"warehouse": str(settings.warehouse_file), **window.as_dict()}
    outcomes = [TargetOutcome("duckdb", "ok")]
    for target, step in (
        ("postgres", lambda: publish_postgres(settings, run_id, postgres_dsn, source=next_path)),
        ("parquet", lambda: export_parquet(settings, run_id, source=next_path)),
    ):
        outcome, value = _publish_target(target, step, postgres_dsn)
        outcomes.append(outcome)
        result.update(value)

    con = duckdb.connect(str(next_path))
    try:
        con.execute("begin")
        record_targets(con, run_id, window.start_date, window.end_date, outcomes)
        con.execute("commit")
        con.execute("checkpoint")
    finally:
        con.close()
    published = swap_in(next_path, settings.warehouse_file)
    log.info(
        "published %s for %s..%s (%d quarantined rows, %d gate runs on record): %s",
        published,
        window.start_date,
        window.end_date,
        quarantined,
        gate_runs.num_rows,
        ", ".join(f"{o.target} {o.status}" for o in outcomes),
    )
    behind = [o for o in outcomes if o.status == "behind"]
    if behind:
        raise PublishTargetBehind(run_id, window.start_date, window.end_date, behind)
    return result


def _publish_target(target: str, step, postgres_dsn: str | None):
    """Run one BI target's publication; a failure is its outcome, not the run's end."""
    from warehouse.postgres import describe_failure, resolve_dsn
    from warehouse.publish import TargetOutcome

    try:
        value = step()
    except Exception as exc:  # noqa: BLE001 - recorded as the target's cause, raised after the swap
        cause = describe_failure(exc, postgres_dsn or resolve_dsn())
        log.error("publishing to %s failed, it stays on its last good run: %s", target, cause)
        return TargetOutcome(target, "behind", cause), {target: "behind"}
    skipped = value[target] == "skipped"
    return TargetOutcome(target, "skipped" if skipped else "ok"), value


def publish_postgres(
    settings: Settings, run_id: str, dsn: str | None = None, source: Path | None = None
) -> dict:
    """Copy a warehouse file (default: the published one) to PostgreSQL for BI tools.

    ``{"postgres": "skipped"}`` when no PostgreSQL is configured, else rows per relation.
    """
    from warehouse.postgres import DSN_ENV, publish_to_postgres, resolve_dsn

    dsn = dsn or resolve_dsn()
    if not dsn:
        log.info(
            "no PostgreSQL configured (Airflow Connection costbridge_postgres or %s): "
            "skipping the PostgreSQL publication",
            DSN_ENV,
        )
        return {"postgres": "skipped"}
    counts = publish_to_postgres(
        source or settings.warehouse_file, dsn, run_id=run_id, recorded_as=settings.warehouse_file
    )
    return {"postgres": counts}


def export_parquet(settings: Settings, run_id: str, source: Path | None = None) -> dict:
    """Monthly Parquet files of every mart of a warehouse file (default: the published one)."""
    from warehouse.parquet_export import export_parquet as export

    return {"parquet": export(source or settings.warehouse_file, settings.exports_dir, run_id)}


def run_day(
    settings: Settings, window: Window, run_id: str, postgres_dsn: str | None = None
) -> dict:
    """Everything after extraction, in the DAG's order: gates, build, publish to every target."""
    validate_landing(settings, window, run_id)
    next_file = build(settings, window, run_id)
    validate_marts(settings, window, next_file, run_id)
    return publish(settings, window, next_file, run_id, postgres_dsn)
