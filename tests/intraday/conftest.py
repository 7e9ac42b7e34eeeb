"""Fixtures for the intraday tests: the extractor tests' loopback double and the Airflow DB."""

from __future__ import annotations

from tests.dags.conftest import airflow_db, dagbag  # noqa: F401 (fixtures, re-exported)
from tests.extractors.conftest import org, running, server  # noqa: F401 (fixtures, re-exported)
