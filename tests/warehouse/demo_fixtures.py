"""Fixtures: one real demo warehouse per session (sandbox -> extractors -> gates -> dbt -> publish),
copied per test, so every test starts from a last good day it may break.

A plugin (tests/conftest.py), not a conftest: the warehouse tests and the attack
suite (tests/reliability) share the one session demo instead of building it twice.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from landing.window import Window
from tests.conftest import REPO_ROOT

DEMO_START, DEMO_END = date(2026, 10, 19), date(2026, 10, 21)
MONTH_START, MONTH_END = date(2026, 10, 1), date(2026, 11, 1)
OPENAI_KEY = "sk-admin-canary-warehouse-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-admin-canary-warehouse-0123456789abcdef"
SANDBOX_SOURCE_TYPES = {"focus", "openai", "anthropic", "prometheus_dcgm", "value_file"}
MARTS = (
    "fct_ai_cost",
    "mart_engineering__token_efficiency",
    "mart_engineering__spend_by_key_and_user",
    "mart_finance__unit_cost",
    "mart_product__feature_roi",
    "mart_leadership__roi_summary",
)


@pytest.fixture(scope="session", autouse=True)
def gx_root(tmp_path_factory) -> Path:
    """A throwaway GX project for the session, so tests never write into the repo."""
    root = tmp_path_factory.mktemp("gx_project")
    previous = os.environ.get("COSTBRIDGE_GX_ROOT")
    os.environ["COSTBRIDGE_GX_ROOT"] = str(root)
    yield root
    if previous is None:
        os.environ.pop("COSTBRIDGE_GX_ROOT", None)
    else:
        os.environ["COSTBRIDGE_GX_ROOT"] = previous


def _demo_sources(path: Path) -> Path:
    """The demo's sources served by the sandbox (others need services these tests do not start)."""
    config = yaml.safe_load((REPO_ROOT / "config" / "sources.demo.yml").read_text())
    config["sources"] = [s for s in config["sources"] if s["type"] in SANDBOX_SOURCE_TYPES]
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _build_home(base: Path, start: date, end: date, run_id: str) -> Path:
    """Land the sandbox's sources over [start, end) and run the pipeline once: a home."""
    from sandbox.files import write_focus_export, write_value_kpis
    from sandbox.org import DemoOrg
    from sandbox.server import serve
    from warehouse import pipeline
    from warehouse.settings import Settings

    org = DemoOrg.load()
    files = base / "sandbox"
    write_focus_export(org, files / "focus", start - timedelta(days=7), end)
    write_value_kpis(org, files / "value", start - timedelta(days=7), end)
    settings = Settings(home=base / "home", sources_file=_demo_sources(base / "sources.yml"))
    window = Window(start, end)
    keys = {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}
    with serve(org, admin_keys=keys) as api, pytest.MonkeyPatch.context() as mp:
        for var, value in {
            "COSTBRIDGE_SANDBOX_DIR": str(files),
            "COSTBRIDGE_OPENAI_BASE_URL": api.url,
            "COSTBRIDGE_ANTHROPIC_BASE_URL": api.url,
            "COSTBRIDGE_PROMETHEUS_URL": api.url,
            "OPENAI_ADMIN_KEY": OPENAI_KEY,
            "ANTHROPIC_ADMIN_KEY": ANTHROPIC_KEY,
        }.items():
            mp.setenv(var, value)
        for name in pipeline.source_names(settings):
            pipeline.extract(settings, name, window)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)
        pipeline.run_day(settings, window, run_id)
    return settings.home


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory) -> Path:
    """COSTBRIDGE_HOME after one good run over [DEMO_START, DEMO_END). Never modify it."""
    return _build_home(tmp_path_factory.mktemp("demo"), DEMO_START, DEMO_END, "good-run")


@pytest.fixture(scope="session")
def month_home(tmp_path_factory) -> Path:
    """COSTBRIDGE_HOME after one run over the whole of MONTH_START..MONTH_END (October 2026):
    enough history for forecasts, alerts, drivers and recommendations. Never modify it."""
    return _build_home(tmp_path_factory.mktemp("month"), MONTH_START, MONTH_END, "month-run")


@pytest.fixture
def home(demo_home, tmp_path):
    """Settings over a private copy of the demo home (landing, warehouse, ops log)."""
    from warehouse.settings import Settings

    copy = tmp_path / "home"
    shutil.copytree(demo_home, copy, symlinks=True)
    return Settings(home=copy, sources_file=demo_home.parent / "sources.yml")


def count(warehouse: Path, table: str) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(f"select count(*) from {table}").fetchall()[0][0]
    finally:
        con.close()
