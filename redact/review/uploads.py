"""The private folder that holds a review's uploads, and the sweep of folders left by earlier reviews.

An upload is an unblurred copy of the user's clip, so it must not outlive its review:

- each review gets one folder, ``<temp dir>/redact-review-<pid>-<random>`` (mode 0700), and holds an exclusive
  :func:`fcntl.flock` on it while it runs;
- :func:`remove` deletes it (:meth:`ReviewSession.close <redact.review.session.ReviewSession.close>`), and at
  interpreter exit (:mod:`atexit`) whatever this process still holds is deleted too (an interrupt that cut the
  close short, a session that was never closed);
- :func:`sweep` (run when a review starts) deletes the folders of reviews that are gone (a crash, SIGKILL): the
  current user's folders whose process is not running *and* whose lock nobody holds. A folder of a running
  review is never touched, whether its pid is alive here or its lock is held (a review in another PID
  namespace that shares this temp dir). A pid reused by an unrelated process only delays the sweep.

Nothing here prints; what happened goes to :mod:`logging`.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import re
import shutil
import stat
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "redact-review-"
_NAME = re.compile(re.escape(PREFIX) + r"([0-9]{1,10})-[A-Za-z0-9_]+")

_held: dict[Path, tuple[int, int]] = {}  # folder -> (pid that created it, fd holding its lock)
_held_lock = threading.Lock()


def create(base: str | Path | None = None) -> Path:
    """A new private folder (mode 0700) in ``base`` (default: the system temp dir), locked until :func:`remove`."""
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)  # not inherited by child processes (PEP 446)
    fcntl.flock(fd, fcntl.LOCK_EX)
    with _held_lock:
        _held[folder] = (os.getpid(), fd)
    return folder


def remove(folder: Path) -> None:
    """Delete ``folder`` (made by :func:`create`) with everything in it and release its lock."""
    with _held_lock:
        _, fd = _held.pop(folder, (0, -1))
    try:
        shutil.rmtree(folder, ignore_errors=True)
        if os.path.lexists(folder):
            log.warning("could not remove the review's temporary folder %s", folder)
    finally:
        if fd >= 0:
            os.close(fd)


@atexit.register
def remove_all() -> None:
    """Delete every folder this process made and still holds (at interpreter exit; a forked child skips them)."""
    with _held_lock:
        mine = [f for f, (pid, _) in _held.items() if pid == os.getpid()]
    for folder in mine:
        remove(folder)


def sweep(base: str | Path | None = None) -> list[Path]:
    """Delete the folders in ``base`` (default: the system temp dir) left by reviews that no longer run."""
    root = Path(base if base is not None else tempfile.gettempdir())
    try:
        names = os.listdir(root)
    except OSError:
        return []
    removed = []
    for name in names:
        m = _NAME.fullmatch(name)
        if m is not None and _remove_if_abandoned(root / name, int(m[1])):
            removed.append(root / name)
    if removed:
        log.info("removed %d temporary folder(s) left by earlier reviews", len(removed))
    return removed


def _remove_if_abandoned(folder: Path, pid: int) -> bool:
    if _alive(pid):
        return False
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:  # gone meanwhile, a symlink, not a folder, not ours to read
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a running review holds it
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return not os.path.lexists(folder)
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user counts; so does any pid that cannot be checked)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


__all__ = ["PREFIX", "create", "remove", "remove_all", "sweep"]
