"""The batch manifest: one JSON line per finished item, appended atomically, and its verification.

A line is written with a single ``write()`` on a descriptor opened with ``O_APPEND``, then flushed to disk
(``fsync``) before the next item is recorded: a crash leaves either the whole line or, at worst, one torn last
line, which :func:`read_records` ignores (the item it described is then simply done again). The manifest records
paths, hashes, kinds, settings, versions, timings and error *types* with a short library-composed message; never
recognised text (see :func:`safe_error`).

Record (``"record": "item"``, ``"manifest_version": 1``)::

    {"record": "item", "manifest_version": 1, "time": "2026-01-01T12:00:00Z", "run_id": "...",
     "status": "done" | "failed" | "skipped",
     "input": {"path": "ward/clip.mp4", "sha256": "...", "size": 123},        # path relative to IN_DIR
     "kind": "video" | "image" | null,
     "output": {"path": "ward/clip.clean.mp4", "sha256": "...", "size": 456},  # relative to OUT_DIR; null unless done
     "plan": {...same...}, "report_json": {...}, "report_html": {...} | null,
     "error": {"type": "InputError", "message": "..."} | null,
     "summary": {"tracks_by_kind": {"face": 2}, "frames": 120, "truncated": false},  # done items only
     "settings": {...}, "settings_key": "<sha256 of the canonical settings>",
     "tool": {"name": "redact", "version": "..."}, "models": [{"name": ..., "package_version": ...}],
     "timings": {"hash_s": ..., "scan_s": ..., "render_s": ..., "total_s": ...}}
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .errors import OutputError, RedactError

log = logging.getLogger(__name__)

MANIFEST_NAME = "redact-manifest.jsonl"
LOCK_NAME = ".redact-batch.lock"
"""Held (flock) by the batch writing to the folder; empty."""
MANIFEST_VERSION = 1
STATUSES = ("done", "failed", "skipped")
FILE_KEYS = ("output", "plan", "report_json", "report_html")
"""The record fields naming a file under OUT_DIR (``{"path", "sha256", "size"}``) that ``verify`` re-hashes."""
MAX_MESSAGE = 200


def settings_key(settings: dict[str, Any]) -> str:
    """A stable digest of ``settings`` (canonical JSON): items are redone when it changes."""
    canon = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_SAFE_MESSAGE = re.compile(r"[^\x20-\x7e]")


def safe_error(exc: BaseException, replace: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """``{"type", "message"}`` for ``exc``, with a message that cannot carry recognised text.

    Only messages the library composes itself are kept: those of :class:`RedactError` (the library never puts
    recognised words in them; the text detector's own failures are wrapped with their type only) and the
    operating system's ``strerror`` of an :class:`OSError`. Anything else keeps its type only, as the CLI does.
    ``replace`` maps absolute folder prefixes to shorter labels; the message is one line of printable ASCII,
    at most 200 characters."""
    if isinstance(exc, RedactError):
        message = str(exc)
    elif isinstance(exc, OSError):
        message = exc.strerror or "operating system error"
    else:
        message = "unexpected error (run `redact --debug run` on this file for details)"
    for old, new in replace:
        if old:
            message = message.replace(old, new)
    message = _SAFE_MESSAGE.sub("?", message.splitlines()[0] if message else "")
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return {"type": type(exc).__name__, "message": message}


class Manifest:
    """The manifest file of one output folder."""

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / MANIFEST_NAME

    def append(self, record: dict[str, Any]) -> None:
        """Append ``record`` as one line: one ``write()`` with ``O_APPEND``, then ``fsync``."""
        line = (json.dumps(record, sort_keys=True, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags, 0o666)
        except OSError as e:
            raise OutputError(f"cannot open the manifest {self.path}: {e.strerror or e}") from e
        try:
            written = os.write(fd, line)
            if written != len(line):  # a short write on a regular file means the disk is full
                raise OutputError(f"cannot append to the manifest {self.path}: short write")
            os.fsync(fd)
        except OSError as e:
            raise OutputError(f"cannot append to the manifest {self.path}: {e.strerror or e}") from e
        finally:
            os.close(fd)

    def exists(self) -> bool:
        return self.path.is_file()

    def read(self) -> list[dict[str, Any]]:
        return read_records(self.path)

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last record of each input path (later lines win)."""
        latest: dict[str, dict[str, Any]] = {}
        for rec in self.read():
            latest[rec["input"]["path"]] = rec
        return latest


def read_records(path: Path) -> list[dict[str, Any]]:
    """The item records of a manifest; a torn or unreadable line is skipped with a warning."""
    if path.is_symlink():
        raise RedactError(f"the manifest is a symbolic link; refusing to use it: {path}")
    if not path.exists():
        return []
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RedactError(f"cannot read the manifest {path}: {e.strerror or e}") from e
    records = []
    for n, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw.decode("ascii"))
            ok = (isinstance(rec, dict) and rec.get("record") == "item" and rec.get("status") in STATUSES
                  and isinstance(rec.get("input"), dict) and isinstance(rec["input"].get("path"), str))
        except (UnicodeDecodeError, ValueError):
            ok = False
        if not ok:
            log.warning("manifest line %d is not a valid record (torn write?); ignored", n)
            continue
        records.append(rec)
    return records


@dataclass
class VerifyResult:
    checked: int = 0  # files re-hashed
    items: int = 0  # done items checked
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path relative to OUT_DIR, what is wrong)
    failed_items: list[str] = field(default_factory=list)  # input paths whose latest record is "failed"
    unrecorded: list[str] = field(default_factory=list)  # files in OUT_DIR that no latest record names

    @property
    def ok(self) -> bool:
        return not self.problems


def _inside(root: Path, rel: str) -> Path | None:
    """``root / rel`` if ``rel`` is a plain relative path that stays inside ``root`` (else None)."""
    p = Path(rel)
    if p.is_absolute() or not p.parts or any(part in ("", ".", "..") for part in p.parts):
        return None
    full = root / p
    try:
        full.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return None
    return full


def verify(out_dir: str | os.PathLike[str]) -> VerifyResult:
    """Re-hash every file the manifest's latest ``done`` records name and compare with the recorded SHA-256."""
    from .io import sha256_file

    out = Path(out_dir)
    man = Manifest(out)
    if not man.exists():
        raise RedactError(f"no manifest in {out} ({MANIFEST_NAME} not found)")
    res = VerifyResult()
    named: set[str] = set()
    for rel_in, rec in sorted(man.latest().items()):
        if rec["status"] == "failed":
            res.failed_items.append(rel_in)
        if rec["status"] != "done":
            continue
        res.items += 1
        for key in FILE_KEYS:
            entry = rec.get(key)
            if entry is None:
                if key != "report_html":
                    res.problems.append((rel_in, f"{key} missing from the manifest record"))
                continue
            rel = entry.get("path") if isinstance(entry, dict) else None
            full = _inside(out, rel) if isinstance(rel, str) else None
            named.add(str(rel))
            if full is None or not isinstance(rel, str):
                res.problems.append((str(rel), f"{key} path is not inside the output folder"))
                continue
            if not full.is_file() or full.is_symlink():
                res.problems.append((rel, "missing"))
                continue
            try:
                digest = sha256_file(full)
            except OSError as e:
                res.problems.append((rel, f"unreadable ({e.strerror or type(e).__name__})"))
                continue
            res.checked += 1
            if digest != entry.get("sha256"):
                res.problems.append((rel, "sha256 mismatch"))
    for dirpath, _dirs, files in os.walk(out, followlinks=False):
        for name in files:
            rel = (Path(dirpath) / name).relative_to(out).as_posix()
            if rel not in (MANIFEST_NAME, LOCK_NAME) and rel not in named:
                res.unrecorded.append(rel)
    res.unrecorded.sort()
    return res
