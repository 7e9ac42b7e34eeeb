"""Swap the validated next warehouse file in, atomically.

`os.replace` is atomic on POSIX: a reader that opens the published path gets the
old file or the new one, never half of either, and a reader that already holds
the old file keeps reading its inode until it closes. A crash before the rename
leaves the last good file in place; the orphaned next file is removed by the
next build.
"""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.pause import pause_point


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def swap_in(next_file: Path, published: Path) -> Path:
    """Make `next_file` the published warehouse. Durable before it returns."""
    if not next_file.exists():
        raise FileNotFoundError(f"no built warehouse to publish at {next_file}")
    wal = next_file.with_name(next_file.name + ".wal")
    if wal.exists():
        # A WAL means the builder did not close cleanly; publishing it could lose writes.
        raise RuntimeError(
            f"refusing to publish {next_file}: its write-ahead log {wal} is not checkpointed"
        )
    published.parent.mkdir(parents=True, exist_ok=True)
    _fsync(next_file)
    pause_point("publish:before_replace")
    os.replace(next_file, published)
    pause_point("publish:after_replace")
    _fsync(published.parent)
    return published
