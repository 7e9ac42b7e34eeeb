"""Named pause points inside publication, so crash tests can SIGKILL between two steps.

The mechanism is ``extractors.pause`` (``COSTBRIDGE_PAUSE_AT`` and
``COSTBRIDGE_PAUSE_MARKER``); the landing writer's own points are
``extractors.landing.PAUSE_POINTS``.
"""

from __future__ import annotations

from extractors.pause import pause_point

__all__ = ["POINTS", "POSTGRES_POINTS", "pause_point"]

POINTS = (
    "publish:ops_tables_open",  # the next file is open for writing, inside a transaction
    "publish:before_replace",  # the next file is complete and synced, not yet swapped in
    "publish:after_replace",  # swapped in, the directory entry not yet synced
)
# Reached only when a PostgreSQL DSN is configured, so kept apart from POINTS.
POSTGRES_POINTS = (
    "postgres:before_swap",  # every relation COPYed into the staging schema, not yet swapped
)
