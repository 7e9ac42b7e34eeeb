"""The fixture warehouse, built once per session and shared by the dbt test modules."""

from __future__ import annotations

import pytest

from tests.dbt import landing_fixture as fx
from tests.dbt.dbt_helpers import assert_ok, run_dbt


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict:
    """landing_fixture's tree -> `dbt build` (default vars) into a temp DuckDB file.

    Tests that change the warehouse work on a copy under built["root"].
    """
    root = tmp_path_factory.mktemp("dbt_build")
    landing = fx.build_landing(root / "landing")
    warehouse = root / "proportional" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    result = run_dbt(["build"], warehouse, landing, root / "proportional")
    assert_ok(result)
    return {"root": root, "landing": landing, "warehouse": warehouse, "stdout": result.stdout}
