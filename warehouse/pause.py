"""Named pause points inside publication, so crash tests can SIGKILL between two steps.

The mechanism is ``extractors.pause`` (``COSTBRIDGE_PAUSE_AT`` and
``COSTBRIDGE_PAUSE_MARKER``); the landing writer's own points are
``extractors.landing.PAUSE_POINTS``.
"""

from __future__ import annotations

from extractors.pause import pause_point

__all__ = ["POINTS", "pause_point"]

POINTS = (
    "publish:ops_tables_open",  # the next file is open for writing, inside a transaction
    "publish:before_replace",  # the next file is complete and synced, not yet swapped in
    "publish:after_replace",  # swapped in, the directory entry not yet synced
)
