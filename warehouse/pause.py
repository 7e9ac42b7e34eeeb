"""Named pause points inside publication, so crash tests can SIGKILL between two steps.

With ``COSTBRIDGE_PAUSE_AT=<point>`` the process writes ``<point>`` to the file
named by ``COSTBRIDGE_PAUSE_MARKER`` and then waits forever: the test sees the
marker, kills the process, and checks what a crash at exactly that point leaves
behind. Unset (always, outside tests), a pause point does nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

POINTS = (
    "publish:ops_tables_open",  # the next file is open for writing, inside a transaction
    "publish:before_replace",  # the next file is complete and synced, not yet swapped in
    "publish:after_replace",  # swapped in, the directory entry not yet synced
)
# Reached only when a PostgreSQL DSN is configured, so kept apart from POINTS.
POSTGRES_POINTS = (
    "postgres:before_swap",  # every relation COPYed into the staging schema, not yet swapped
)


def pause_point(name: str) -> None:
    if os.environ.get("COSTBRIDGE_PAUSE_AT") != name:
        return
    marker = os.environ.get("COSTBRIDGE_PAUSE_MARKER")
    if marker:
        Path(marker).write_text(name, encoding="utf-8")
    while True:  # until the test kills us
        time.sleep(3600)
