"""Small helpers shared by the service fixtures: ports, waiting, running as a user.

The PostgreSQL starter and most helpers live in ``sandbox.services`` (the demo and
the benchmark start PostgreSQL too); they are re-exported here for the fixtures.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sandbox.services import (  # noqa: F401  (re-exported for the fixtures)
    ServiceError,
    as_user,
    chown_tree,
    free_port,
    run,
    service_user,
    tail,
)


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll `check` until it returns True; raise ServiceError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise ServiceError(f"timed out after {timeout:.0f}s waiting for {what}")
