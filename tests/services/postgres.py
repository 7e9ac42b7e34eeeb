"""A throwaway PostgreSQL cluster on loopback, owned by the test run.

The starter lives in ``sandbox.services`` so that the demo and the benchmark can
use it without importing the tests; the fixtures import it from here.
"""

from __future__ import annotations

from sandbox.services import (  # noqa: F401  (re-exported for the fixtures)
    FAST_SETTINGS,
    INSTALL_HINT,
    SUPERUSER,
    PostgresServer,
    find_pg_bin,
    running_postgres,
)
