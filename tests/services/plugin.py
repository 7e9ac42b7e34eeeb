"""pytest fixtures for real services on loopback. Register once in tests/conftest.py:

    pytest_plugins = ["tests.services.plugin"]

Services that cannot start FAIL the test (never skip): CI installs them (.ci/run).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.services._proc import ServiceError
from tests.services.openmetrics import write_dcgm_sample
from tests.services.postgres import PostgresServer, running_postgres
from tests.services.prometheus import PrometheusServer, running_prometheus


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session; give each test its own database."""
    try:
        with running_postgres() as server:
            yield server
    except ServiceError as exc:
        pytest.fail(f"test PostgreSQL failed: {exc}", pytrace=False)


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for one test; yields its superuser DSN, drops it after."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    dsn = postgres_server.create_database(name)
    yield dsn
    postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def prometheus_factory() -> Iterator[Callable[[str | os.PathLike], PrometheusServer]]:
    """Start a Prometheus per OpenMetrics file (memoised); all stop at session end."""
    started: dict[Path, PrometheusServer] = {}
    with contextlib.ExitStack() as stack:

        def start(openmetrics: str | os.PathLike) -> PrometheusServer:
            key = Path(openmetrics).resolve()
            if key not in started:
                try:
                    started[key] = stack.enter_context(running_prometheus(key))
                except ServiceError as exc:
                    pytest.fail(f"cannot start the test Prometheus: {exc}", pytrace=False)
            return started[key]

        yield start


@pytest.fixture(scope="session")
def prometheus_openmetrics(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The OpenMetrics file `prometheus_server` serves. Override (session scope) for other data."""
    return write_dcgm_sample(tmp_path_factory.mktemp("openmetrics") / "dcgm.om")


@pytest.fixture(scope="session")
def prometheus_server(
    prometheus_factory: Callable[[str | os.PathLike], PrometheusServer],
    prometheus_openmetrics: Path,
) -> PrometheusServer:
    return prometheus_factory(prometheus_openmetrics)
