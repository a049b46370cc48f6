"""Atomic output files and small file helpers.

Everything the tool writes goes through :func:`atomic_path`: the data is written to a hidden
temporary file in the destination directory and renamed onto the destination only when the
whole write succeeded. On any exception (``KeyboardInterrupt`` included) the temporary file
is removed, so a failed run never leaves a partial or unredacted file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ..errors import InputError, OutputError

log = logging.getLogger(__name__)

_TMP_TAG = ".redact-tmp-"


def _check_destination(dst: Path) -> None:
    parent = dst.parent
    if not parent.exists():
        raise OutputError(f"output directory does not exist: {parent}")
    if not parent.is_dir():
        raise OutputError(f"output directory is not a directory: {parent}")
    if dst.is_dir():
        raise OutputError(f"output path is a directory: {dst}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"output directory is not writable: {parent}")


def _create_temp(dst: Path) -> Path:
    """Create an empty temp file next to ``dst`` (same suffix), honouring the umask."""
    for _ in range(100):
        tmp = dst.with_name(f".{dst.stem}{_TMP_TAG}{secrets.token_hex(6)}{dst.suffix}")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        except OSError as e:
            raise OutputError(f"cannot create a file in {dst.parent}: {e.strerror or e}") from e
        os.close(fd)
        return tmp
    raise OutputError(f"cannot create a temporary file in {dst.parent}")


def _fsync_path(path: Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems do not support fsync on directories
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as e:
        log.warning("could not remove temporary file %s: %s", path, e)


@contextlib.contextmanager
def atomic_path(dst: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in ``dst``'s directory (same suffix) to write the output to.

    On normal exit the temp file is fsynced and renamed onto ``dst`` (replacing it); on any
    exception, including ``KeyboardInterrupt``, it is removed and the exception propagates
    unchanged. The temp file exists (empty) when the block starts.
    """
    dst = Path(dst)
    _check_destination(dst)
    tmp = _create_temp(dst)
    try:
        yield tmp
        if not tmp.exists():
            raise OutputError(f"output was not written: {dst}")
        _fsync_path(tmp)
        try:
            os.replace(tmp, dst)
        except OSError as e:
            raise OutputError(f"cannot write output {dst}: {e.strerror or e}") from e
    except BaseException:
        _unlink_quietly(tmp)
        raise
    _fsync_path(dst.parent, directory=True)


@contextlib.contextmanager
def signals_deferred() -> Iterator[list[int]]:
    """Hold SIGINT/SIGTERM, and SIGUSR1 (a batch driver's stop request to its workers), delivered when the block
    ends, while files or records that belong together are put in place (main thread only; elsewhere a no-op).
    Yields the list of signals held so far (the block may undo its work when it is not empty).

    The handlers are swapped for one that notes the signal, and the signals noted are raised again once the old
    handlers are back. (Masking the signals with ``pthread_sigmask`` held them only in the calling thread: a
    process with other threads, such as a batch driver with its pool's threads, got them in another thread, and
    Python ran the handler in the main thread inside the block all the same.)"""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield []
        return
    sigs = [s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGUSR1")) if s is not None]
    pending: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        pending.append(signum)

    old = {s: signal.signal(s, hold) for s in sigs}
    try:
        yield pending
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(pending):
            signal.raise_signal(s)


@contextlib.contextmanager
def atomic_group(dsts: Sequence[str | os.PathLike[str]],
                 before_commit: Callable[[], None] | None = None) -> Iterator[list[Path]]:
    """Temporary paths for several outputs that appear together or not at all (a cleaned copy, its report, its
    plan). On normal exit ``before_commit`` runs (a last check: it may raise) and every temporary file is renamed
    onto its destination, the first destination last and with SIGINT/SIGTERM held, so an interrupt cannot fall
    between the renames. On any exception, ``KeyboardInterrupt`` included, every temporary file is removed (and a
    destination already renamed in a failed commit, with it) and the exception propagates. An interrupt that
    arrives during the renames undoes them before it is let through: an interrupted run leaves no output (and a
    batch no cleaned copy that its manifest does not record)."""
    paths = [Path(d) for d in dsts]
    for d in paths:
        _check_destination(d)
    tmps: list[Path] = []
    placed: list[Path] = []
    try:
        for d in paths:
            tmps.append(_create_temp(d))
        yield list(tmps)
        for d, t in zip(paths, tmps):
            if not t.exists() or t.stat().st_size == 0:
                raise OutputError(f"output was not written: {d}")
            _fsync_path(t)
        if before_commit is not None:
            before_commit()
        with signals_deferred() as held:
            for d, t in list(zip(paths, tmps))[1:] + [(paths[0], tmps[0])]:
                try:
                    os.replace(t, d)
                except OSError as e:
                    raise OutputError(f"cannot write output {d}: {e.strerror or e}") from e
                placed.append(d)
            for parent in {d.parent for d in paths}:
                _fsync_path(parent, directory=True)
            if held:  # interrupted while the files were put in place: undone, as an interrupt before would have
                for d in placed:
                    _unlink_quietly(d)
                placed.clear()
    except BaseException:
        for t in tmps:
            _unlink_quietly(t)
        if len(placed) < len(paths):
            for d in placed:
                _unlink_quietly(d)
        raise


def atomic_write_text(dst: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``dst`` atomically."""
    with atomic_path(dst) as tmp:
        try:
            tmp.write_text(text, encoding="utf-8")
        except OSError as e:
            raise OutputError(f"cannot write output {dst}: {e.strerror or e}") from e


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True if ``a`` and ``b`` name the same file (also through symlinks or hard links)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        pass
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError):
        return False


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (read in chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(chunk_size)
            if not chunk:
                break
            h.update(chunk)
    return h.hexdigest()


def check_unchanged(src: str | os.PathLike[str], expect_sha256: str | None) -> None:
    """Raise :class:`InputError` if ``src``'s bytes no longer hash to ``expect_sha256`` (``None``: no check).

    Called by the writers just before an output is renamed into place: a file replaced or still being copied
    between the analysis and the end of the write must not produce an output with frames nobody analysed."""
    if expect_sha256 is None:
        return
    try:
        digest = sha256_file(src)
    except OSError as e:
        raise InputError(f"cannot read the input again to check it did not change: {src} ({e.strerror or e})") from None
    if digest != expect_sha256:
        raise InputError(f"the input changed while it was being processed; nothing was written: {src}")
