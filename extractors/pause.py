"""Named pause points, so crash tests can SIGKILL a process between two steps.

With ``COSTBRIDGE_PAUSE_AT=<point>`` the process writes ``<point>`` to the file
named by ``COSTBRIDGE_PAUSE_MARKER`` and then waits forever: the test sees the
marker, kills the process, and checks what a crash at exactly that point leaves
behind. Unset (always, outside tests), a pause point does nothing.

Here, not in ``warehouse``, because the landing writer has pause points too and
the extractors do not depend on the warehouse.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def pause_point(name: str) -> None:
    if os.environ.get("COSTBRIDGE_PAUSE_AT") != name:
        return
    marker = os.environ.get("COSTBRIDGE_PAUSE_MARKER")
    if marker:
        Path(marker).write_text(name, encoding="utf-8")
    while True:  # until the test kills us
        time.sleep(3600)
