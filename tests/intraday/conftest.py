"""Fixtures for the intraday tests: the loopback API doubles, LiteLLM in a real PostgreSQL,
the extractor tests' double and the Airflow metadata DB."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.conftest import REPO_ROOT
from tests.dags.conftest import airflow_db, dagbag  # noqa: F401 (fixtures, re-exported)
from tests.extractors.conftest import org, running, server  # noqa: F401 (fixtures, re-exported)

OPENAI_KEY = "sk-admin-canary-intraday-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-admin-canary-intraday-0123456789abcdef"
TODAY = date(2026, 10, 21)
AS_OF = datetime(2026, 10, 21, 10, tzinfo=UTC)


@pytest.fixture
def intraday_env(tmp_path, monkeypatch, postgres_database):
    """The demo org's provider APIs on loopback and its LiteLLM SpendLogs (in PostgreSQL)
    up to AS_OF, and costbridge pointed at them with the demo's sources file."""
    from sandbox.litellm_db import create_spend_logs_table, fill_spend_logs
    from sandbox.org import DemoOrg
    from sandbox.server import serve
    from warehouse.settings import Settings

    create_spend_logs_table(postgres_database)
    fill_spend_logs(
        postgres_database,
        TODAY - timedelta(days=1),
        TODAY + timedelta(days=1),
        rows_per_day=480,
        seed=11,
        until=AS_OF + timedelta(hours=3),
    )
    keys = {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}
    with serve(DemoOrg.load(), admin_keys=keys) as api:
        for var, value in {
            "COSTBRIDGE_HOME": str(tmp_path / "home"),
            "COSTBRIDGE_SOURCES": str(REPO_ROOT / "config" / "sources.demo.yml"),
            "COSTBRIDGE_SANDBOX_DIR": str(tmp_path / "sandbox"),
            "COSTBRIDGE_OPENAI_BASE_URL": api.url,
            "COSTBRIDGE_ANTHROPIC_BASE_URL": api.url,
            "OPENAI_ADMIN_KEY": OPENAI_KEY,
            "ANTHROPIC_ADMIN_KEY": ANTHROPIC_KEY,
            "LITELLM_DATABASE_URL": postgres_database,
        }.items():
            monkeypatch.setenv(var, value)
        yield api, Settings.from_env()
