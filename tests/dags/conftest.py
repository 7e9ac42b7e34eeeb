from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def airflow_db():
    """A fresh Airflow metadata DB for the session (about 2 s), with the writer pool."""
    from airflow.utils import db

    db.resetdb()
    from airflow.models.pool import Pool

    Pool.create_or_update_pool(
        "duckdb_writer", slots=1, description="single DuckDB writer", include_deferred=False
    )
    yield


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO_ROOT

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))
