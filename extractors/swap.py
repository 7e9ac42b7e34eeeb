"""Replacing a partition folder atomically, and clearing what a killed run left.

On Linux the swap is one step (renameat2 with RENAME_EXCHANGE), so a reader or a
crash sees the old partition or the new one, never neither; elsewhere two renames.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from extractors.pause import pause_point


def swap(staged: Path, target: Path, scratch: Path) -> None:
    """Replace ``target`` with ``staged`` on one file system.

    One atomic exchange where the kernel has it (the old day then sits in staging until
    it is removed); elsewhere two renames, between which the day is briefly absent
    (never half-written), and a crash there is put right by the next run (``recover``).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.rename(staged, target)
        return
    if _exchange(staged, target):
        pause_point("land:exchanged")
        shutil.rmtree(staged, ignore_errors=True)
        return
    swap_out(target, scratch)
    os.rename(staged, target)


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not Linux, or a libc without it (glibc < 2.28)
        return None
    path, fd = ctypes.c_char_p, ctypes.c_int
    function.argtypes = [fd, path, fd, path, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing directory entries in one step; False where the system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # an old kernel, or a file system without exchange
    raise OSError(code, os.strerror(code), str(a), None, str(b))


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created if need be), held for the block and released
    when the fd is closed or the process dies, however it dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def recover(runs: Path, live: Path) -> None:
    """Clear the staging runs a killed landing left under ``runs`` (the caller holds the lock).

    A partition a two-rename swap took out (``old-date=...-<id>``) and never replaced is
    put back first: the day keeps its old data until a run lands it anew.
    """
    if not runs.is_dir():
        return
    for run in sorted(runs.iterdir()):
        for old in sorted(run.glob("old-date=*")):
            target = live / old.name.removeprefix("old-")[: -len("-00000000")]
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(old, target)
        shutil.rmtree(run, ignore_errors=True)


def swap_out(target: Path, scratch: Path) -> None:
    scratch.mkdir(parents=True, exist_ok=True)
    old = scratch / f"old-{target.name}-{uuid.uuid4().hex[:8]}"
    os.rename(target, old)
    shutil.rmtree(old, ignore_errors=True)


def remove_if_empty(*folders: Path) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return
