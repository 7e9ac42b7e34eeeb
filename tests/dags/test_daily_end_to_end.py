"""The daily DAG end to end through Airflow's dag.test(), on the sandbox over loopback."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import REPO_ROOT

OPENAI_KEY = "sk-admin-canary-e2e-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-admin-canary-e2e-0123456789abcdef"
START, END = date(2026, 10, 19), date(2026, 10, 22)  # includes a campaign day
MARTS = (
    "fct_ai_cost",
    "mart_engineering__token_efficiency",
    "mart_engineering__spend_by_key_and_user",
    "mart_finance__unit_cost",
    "mart_product__feature_roi",
    "mart_leadership__roi_summary",
)


@pytest.fixture
def demo_env(tmp_path, monkeypatch, postgres_database, postgres_server):
    """The demo org's files, APIs and LiteLLM database, and costbridge pointed at them."""
    from sandbox.files import write_focus_export, write_value_kpis
    from sandbox.litellm_db import create_spend_logs_table, fill_spend_logs
    from sandbox.org import DemoOrg
    from sandbox.server import serve
    from sandbox.telemetry import write_nvidia_smi_logs, write_otel_spans

    org = DemoOrg.load()
    files = tmp_path / "sandbox"
    write_focus_export(org, files / "focus", START - timedelta(days=7), END)
    write_value_kpis(org, files / "value", START - timedelta(days=7), END)
    write_nvidia_smi_logs(org, files / "nvidia_smi", START - timedelta(days=7), END)
    write_otel_spans(org, files / "otel", START - timedelta(days=7), END)
    create_spend_logs_table(postgres_database)
    fill_spend_logs(postgres_database, START - timedelta(days=3), END, rows_per_day=500, seed=3)
    with serve(org, admin_keys={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}) as api:
        for var, value in {
            "COSTBRIDGE_HOME": str(tmp_path / "home"),
            "COSTBRIDGE_SOURCES": str(REPO_ROOT / "config" / "sources.demo.yml"),
            "COSTBRIDGE_SANDBOX_DIR": str(files),
            "COSTBRIDGE_OPENAI_BASE_URL": api.url,
            "COSTBRIDGE_ANTHROPIC_BASE_URL": api.url,
            "COSTBRIDGE_PROMETHEUS_URL": api.url,
            "OPENAI_ADMIN_KEY": OPENAI_KEY,
            "ANTHROPIC_ADMIN_KEY": ANTHROPIC_KEY,
            "LITELLM_DATABASE_URL": postgres_database,
            # The BI schema goes beside LiteLLM's tables; its DSN carries a password.
            "COSTBRIDGE_POSTGRES_DSN": postgres_database,
        }.items():
            monkeypatch.setenv(var, value)
        yield api, tmp_path / "home"


def _run(dag, start: date, end: date):
    return dag.test(run_conf={"start": start.isoformat(), "end": end.isoformat()})


def _count(warehouse, table: str) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(f"select count(*) from {table}").fetchall()[0][0]
    finally:
        con.close()


@pytest.mark.slow
def test_daily_dag_publishes_the_fact_and_every_mart(
    dagbag, demo_env, postgres_server, caplog, capsys, chaos
):
    api, home = demo_env
    dagrun = _run(dagbag.dags["ai_finops_daily"], START, END)
    assert dagrun.state == "success"

    warehouse = home / "warehouse" / "costbridge.duckdb"
    for table in MARTS:
        assert _count(warehouse, table) > 0, f"{table} is empty"
    con = duckdb.connect(str(warehouse), read_only=True)
    published = con.execute("select window_start, window_end from ops_publications").fetchall()
    days = con.execute("select min(charge_date), max(charge_date) from fct_ai_cost").fetchall()[0]
    con.close()
    assert published == [(START, END)]
    assert days[1] == END - timedelta(days=1)
    # The dashboard was drawn from what was published.
    page = (home / "dashboard" / "index.html").read_text()
    assert f"Data as of <b>{END - timedelta(days=1)}</b>" in page
    # Every source was pulled through its extractor, over loopback.
    paths = {r["path"] for r in api.requests}
    assert any(p.startswith("/v1/organization/costs") for p in paths)
    assert any(p.startswith("/v1/organization/usage/completions") for p in paths)
    assert any(p.startswith("/api/v1/query_range") for p in paths)
    assert any((home / "landing" / "litellm_proxy").rglob("date=*/part-0.parquet"))
    # No secret and no prompt or completion text anywhere costbridge wrote: landing,
    # quarantine, the warehouse, Parquet exports, data docs, ops logs (all under the
    # home), Airflow's own files and task logs, PostgreSQL, the summary report.
    import os

    from reports.summary import print_summary
    from sandbox.litellm_db import COMPLETION_CANARY, PROMPT_CANARY
    from tests.reliability.secret_scan import scan_files, scan_postgres, scan_text

    canaries = [
        OPENAI_KEY,
        ANTHROPIC_KEY,
        postgres_server.superuser_password,
        PROMPT_CANARY,
        COMPLETION_CANARY,
    ]
    print_summary(warehouse)
    assert any(True for _ in (home / "exports").rglob("*.parquet"))
    assert (home / "data_docs").is_dir()
    hits = scan_files([home, Path(os.environ["AIRFLOW_HOME"])], canaries)
    hits += scan_postgres(os.environ["COSTBRIDGE_POSTGRES_DSN"], canaries)
    captured = capsys.readouterr()
    hits += scan_text("logs", caplog.text + captured.out + captured.err, canaries)
    assert hits == []
    # The scan can see: LiteLLM's own table (the source) holds the prompt canary.
    assert scan_postgres(os.environ["LITELLM_DATABASE_URL"], [PROMPT_CANARY], "public")
    chaos(
        "secrets",
        "canary keys for every API source, a DSN password, LiteLLM messages and "
        "response canaries; scanned: landing, quarantine, warehouse, PostgreSQL, Parquet, "
        "data docs, Airflow files and logs, the summary report",
        published="DuckDB+PostgreSQL+Parquet",
        secret_hits=len(hits),
    )


@pytest.mark.slow
def test_a_source_that_is_down_holds_the_day_back(dagbag, demo_env, monkeypatch):
    api, home = demo_env
    dag = dagbag.dags["ai_finops_daily"]
    assert _run(dag, START, START + timedelta(days=1)).state == "success"
    warehouse = home / "warehouse" / "costbridge.duckdb"
    before = warehouse.read_bytes()

    # The OpenAI API answers 503 to everything: its extract task fails after its HTTP
    # retries (kept short here: the real backoff would only make the test wait).
    config = yaml.safe_load((REPO_ROOT / "config" / "sources.demo.yml").read_text())
    for source in config["sources"]:
        if source["type"] == "openai":
            source["options"].update(retry_total=2, retry_backoff_factor=0.01)
    fast = home.parent / "sources.fast-retries.yml"
    fast.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("COSTBRIDGE_SOURCES", str(fast))
    api.faults.add("/v1/organization", status=503, count=10_000)
    for t in dag.tasks:
        # Airflow-level retries would only wait here; the HTTP retries still run.
        monkeypatch.setattr(t, "retries", 0)
    dagrun = _run(dag, START + timedelta(days=1), START + timedelta(days=2))

    assert dagrun.state == "failed"
    states = {ti.task_id: ti.state for ti in dagrun.get_task_instances()}
    assert states["publish"] != "success"
    assert warehouse.read_bytes() == before, "the last good warehouse must stay published"
    # The dashboard is drawn anyway, and tells the last published day, not the failed one.
    assert states["render_dashboard"] == "success"
    page = (home / "dashboard" / "index.html").read_text()
    assert f"Data as of <b>{START}</b>" in page
