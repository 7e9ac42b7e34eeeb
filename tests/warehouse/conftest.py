"""The warehouse tests' fixtures live in the plugin tests/warehouse/demo_fixtures.py (shared with
tests/reliability); its constants and helpers are re-exported here for the tests that import them.
Only names that are not fixtures: importing a fixture here would build a second session demo."""

from tests.warehouse.demo_fixtures import (  # noqa: F401
    ANTHROPIC_KEY,
    DEMO_END,
    DEMO_START,
    MARTS,
    MONTH_END,
    MONTH_START,
    OPENAI_KEY,
    count,
)
