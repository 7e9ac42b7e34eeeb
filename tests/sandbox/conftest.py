"""Fixtures of the sandbox tests: one demo organisation, one running double."""

from __future__ import annotations

import pytest

from sandbox.org import DemoOrg
from sandbox.server import serve

OPENAI_KEY = "sk-admin-canary-openai-7f3a"
ANTHROPIC_KEY = "sk-ant-admin01-canary-9c1e"


@pytest.fixture(scope="session")
def org() -> DemoOrg:
    return DemoOrg.load()


@pytest.fixture
def api(org):
    with serve(org, admin_keys={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}) as handle:
        yield handle


@pytest.fixture
def openai_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {OPENAI_KEY}"}


@pytest.fixture
def anthropic_headers() -> dict[str, str]:
    return {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}


@pytest.fixture
def canary_keys() -> tuple[str, str]:
    return OPENAI_KEY, ANTHROPIC_KEY
