"""`make demo`: run the daily DAG through Airflow over the demo organisation.

Generates the demo org's files, serves its APIs on loopback, runs
`airflow dags test ai_finops_daily` over the 31 demo days (October 2026), then
`airflow dags test ai_finops_intraday` for "today" (the demo's end date) as of
INTRADAY_AS_OF_HOUR UTC, and prints where everything is and a short summary read
from the published marts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

from sandbox.server import DEMO_KEYS  # the doubles' own keys: `python -m sandbox serve` takes them

REPO_ROOT = Path(__file__).resolve().parent.parent
# Requests per day through the demo's LiteLLM proxy: enough to see, quick to load.
LITELLM_ROWS_PER_DAY = 5_000
LITELLM_SEED = 20261101
# "Now" in the demo: today (org.demo_end_date, the day after the daily window) at 14:00 UTC.
INTRADAY_AS_OF_HOUR = 14
# Lines of `airflow dags test` worth showing: a task starting, a task's new state, the run's end.
TASK_STARTS = re.compile(
    r"\[DAG TEST\] running task <TaskInstance: [\w.]+?\.(\w+) \S+(?: map_index=(\d+))?"
)
TASK_STATE = re.compile(r"Task instance state updated.*new_state=(\w+)")
RUN_ENDS = re.compile(r"DagRun Finished: .*?run_duration=([\d.]+), state=(\w+)")


def _step(msg: str) -> None:
    print(f"\n\033[1m==> {msg}\033[0m", flush=True)


def _airflow_env(home: Path, url: str, sandbox_dir: Path) -> dict[str, str]:
    airflow_home = home / "airflow"
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COSTBRIDGE_HOME": str(home),
        "COSTBRIDGE_SANDBOX_DIR": str(sandbox_dir),
        "COSTBRIDGE_OPENAI_BASE_URL": url,
        "COSTBRIDGE_ANTHROPIC_BASE_URL": url,
        "COSTBRIDGE_PROMETHEUS_URL": url,
        "OPENAI_ADMIN_KEY": DEMO_KEYS["openai"],
        "ANTHROPIC_ADMIN_KEY": DEMO_KEYS["anthropic"],
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def _airflow(env: dict[str, str], *args: str, log: Path, show_progress: bool = False) -> None:
    cmd = [str(Path(sys.executable).parent / "airflow"), *args]
    with (
        log.open("a") as fh,
        subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as proc,
    ):
        run_state = None
        assert proc.stdout is not None  # stdout=PIPE
        for line in proc.stdout:
            fh.write(line)
            if not show_progress:
                continue
            if m := TASK_STARTS.search(line):
                task = m[1] + (f"[{m[2]}]" if m[2] is not None else "")
                print(f"    {time.strftime('%H:%M:%S')}  {task:<22}", end="", flush=True)
            elif m := TASK_STATE.search(line):
                print(f" {m[1]}", flush=True)
            elif m := RUN_ENDS.search(line):
                run_state = m[2]
                print(f"    DAG run {run_state} in {float(m[1]):.0f} s", flush=True)
        rc = proc.wait()
    if rc != 0 or (show_progress and run_state != "success"):
        raise SystemExit(f"`airflow {' '.join(args)}` did not succeed (exit {rc}); full log: {log}")


def _postgres_marts(dsn: str) -> str:
    """What the BI schema holds, as a reader would see it: tables and the fact's rows."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'costbridge'"
        ).fetchall()[0][0]
        facts = conn.execute("select count(*) from costbridge.fct_ai_cost").fetchall()[0][0]
    return f"{tables} tables, {facts:,} rows in fct_ai_cost"


def _spend_today(path: Path) -> str:
    """Today's estimate in one line, as the intraday file holds it."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        total, currency, as_of = con.execute(
            "select sum(estimated_cost), max(reporting_currency), max(as_of_at)"
            " from mart_ops__spend_today"
        ).fetchone() or (None, None, None)
    if total is None:
        return "no usage landed today yet"
    moment = as_of.astimezone(UTC)
    return f"today so far (estimated), as of {moment:%H:%M} UTC: {total:,.2f} {currency}"


def main() -> None:
    from sandbox.files import write_focus_export, write_value_kpis
    from sandbox.litellm_db import create_spend_logs_table, fill_spend_logs
    from sandbox.org import DemoOrg
    from sandbox.server import serve
    from sandbox.services import running_postgres
    from sandbox.telemetry import write_nvidia_smi_logs, write_otel_spans
    from warehouse.settings import costbridge_home

    started = time.monotonic()
    home = costbridge_home()
    org = DemoOrg.load()
    end = date.fromisoformat(str(org.demo_end_date))
    start = end - timedelta(days=int(org.demo_days))
    as_of = datetime.combine(end, dt_time(INTRADAY_AS_OF_HOUR), tzinfo=UTC)
    sandbox_dir = home / "sandbox"
    log = home / "demo.log"
    home.mkdir(parents=True, exist_ok=True)
    log.write_text("")

    _step(f"Demo organisation: {start} .. {end - timedelta(days=1)} ({org.demo_days} days)")
    shutil.rmtree(sandbox_dir, ignore_errors=True)
    # Billing sources re-pull a lookback window, so the files cover it too.
    files_start = start - timedelta(days=7)
    write_focus_export(org, sandbox_dir / "focus", files_start, end)
    write_value_kpis(org, sandbox_dir / "value", files_start, end)
    write_nvidia_smi_logs(org, sandbox_dir / "nvidia_smi", files_start, end)
    write_otel_spans(org, sandbox_dir / "otel", files_start, end)
    print(f"    files under {sandbox_dir} (FOCUS bill, KPIs, nvidia-smi logs, OTel spans)")

    keys = DEMO_KEYS
    with running_postgres() as pg, serve(org, admin_keys=keys) as api:
        print(f"    provider APIs and Prometheus served on {api.url}")
        litellm_dsn = pg.create_database("litellm")
        create_spend_logs_table(litellm_dsn)
        # Through today's as-of hour too, for the intraday estimate; the daily window
        # ends before today, so its numbers are the same rows as ever.
        requests = fill_spend_logs(
            litellm_dsn,
            start - timedelta(days=3),
            end + timedelta(days=1),
            rows_per_day=LITELLM_ROWS_PER_DAY,
            seed=LITELLM_SEED,
            until=as_of,
        )
        print(f"    LiteLLM proxy spend logs: {requests} requests in PostgreSQL on port {pg.port}")
        # The DSN holds the throwaway cluster's password: environment only, never printed.
        env = {**_airflow_env(home, api.url, sandbox_dir), "LITELLM_DATABASE_URL": litellm_dsn}
        # BI publication goes to the reader's own PostgreSQL when one is configured;
        # otherwise the demo shows it on its throwaway server, gone when the demo ends.
        own_bi_postgres = bool(os.environ.get("COSTBRIDGE_POSTGRES_DSN"))
        if not own_bi_postgres:
            env["COSTBRIDGE_POSTGRES_DSN"] = pg.create_database("costbridge_bi")

        _step("Airflow metadata DB and the one-slot DuckDB writer pool")
        _airflow(env, "db", "migrate", log=log)
        _airflow(env, "pools", "set", "duckdb_writer", "1", "one DuckDB writer at a time", log=log)

        _step(
            "Running ai_finops_daily through Airflow"
            " (extract → landing gate → dbt build → marts gate → publish)"
        )
        conf = json.dumps({"start": start.isoformat(), "end": end.isoformat()})
        _airflow(env, "dags", "test", "ai_finops_daily", "-c", conf, log=log, show_progress=True)
        bi_tables = _postgres_marts(env["COSTBRIDGE_POSTGRES_DSN"])

        _step(
            f"Running ai_finops_intraday through Airflow: today ({end}) so far, as of"
            f" {as_of:%H:%M} UTC (hourly usage → landing gate → dbt → marts gate → publish)"
        )
        conf = json.dumps({"as_of": as_of.isoformat()})
        _airflow(env, "dags", "test", "ai_finops_intraday", "-c", conf, log=log, show_progress=True)

    from reports.summary import print_summary

    _step("Published")
    warehouse = home / "warehouse" / "costbridge.duckdb"
    print(f"    warehouse:  {warehouse}")
    print(f"    landing:    {home / 'landing'}")
    print(f"    quarantine: {home / 'quarantine'}")
    print(f"    data docs:  {home / 'data_docs' / 'index.html'}")
    print(f"    parquet:    {home / 'exports' / 'parquet'}  (one folder per mart, by month)")
    print(f"    gate runs:  {home / 'ops' / 'data_quality_runs'}  (also ops_data_quality_runs)")
    where = "your server" if own_bi_postgres else "the demo's throwaway server (stopped now)"
    print(f"    postgres:   schema costbridge on {where}: {bi_tables}")
    intraday = home / "intraday" / "costbridge_intraday.duckdb"
    print(f"    intraday:   {intraday}  ({_spend_today(intraday)})")
    print(f"    full log:   {log}")
    # dbt build writes the semantic manifest beside its other artefacts (warehouse/build.py).
    print_summary(
        warehouse, home / "warehouse" / "build" / "dbt" / "target" / "semantic_manifest.json"
    )
    _step("What people see")
    print(f"    dashboard:  {home / 'dashboard' / 'index.html'}  (offline; open it in a browser)")
    _print_reports(home)
    _print_alerts_not_sent(warehouse)
    print(f"\n    demo finished in {time.monotonic() - started:.0f} s")


def _print_reports(home: Path) -> None:
    """The latest whole week's team and leadership reports and the latest whole month's, as
    the reports DAG would render them (docs/leadership.md); archived, not mailed."""
    from reports.run import latest_whole_periods, leadership_report, weekly_reports
    from warehouse.settings import Settings

    settings = Settings(home=home, sources_file=Settings.from_env().sources_file)
    periods = latest_whole_periods(settings)
    runs = [
        *weekly_reports(settings, periods["week"], require_final=True),
        leadership_report(settings, periods["week"], require_final=True),
        leadership_report(settings, periods["month"], require_final=True),
    ]
    print(
        f"    reports:    {home / 'reports' / 'index.html'}  (python -m reports; mailed by"
        " ai_finops_reports)"
    )
    for run in runs:
        where = run.files.get("pdf") or f"skipped: {run.reason}"
        print(f"      {run.kind:<19} {run.period:<9} {run.name:<13} {where}")


def _print_alerts_not_sent(warehouse: Path) -> None:
    """Each alert's routes. The demo defines no SMTP or webhook Connection of its own: unless
    yours are in the environment (AIRFLOW_CONN_*), every delivery waits for them."""
    from collections import Counter

    from reports.alerts import SMTP_CONN_ID, read_alerts, routes

    waiting = Counter(
        (channel, destination) for _, channel, destination in routes(read_alerts(warehouse))
    )
    smtp = f"AIRFLOW_CONN_{SMTP_CONN_ID.upper()}" in os.environ
    how = (
        "routed, sent through your Connections"
        if smtp
        else "it would have sent: no Connection costbridge_smtp or webhook defined, so they wait"
    )
    print(f"    alerts {how} (docs/alerts.md): {sum(waiting.values())}")
    for (channel, destination), count in sorted(waiting.items()):
        print(f"      {count:>3} by {channel:<7} to {destination}")


if __name__ == "__main__":
    main()
