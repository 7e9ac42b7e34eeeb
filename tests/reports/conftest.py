"""Fixtures of the renderers' tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where the tests leave what a person should look at (screenshots, first PDF pages):
    $COSTBRIDGE_TEST_ARTIFACTS, else .costbridge/test-artifacts in the checkout (git-ignored)."""
    folder = Path(
        os.environ.get("COSTBRIDGE_TEST_ARTIFACTS") or REPO_ROOT / ".costbridge" / "test-artifacts"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def month_warehouse(month_home) -> Path:
    """The published file of the October home (never modify it)."""
    return month_home / "warehouse" / "costbridge.duckdb"
