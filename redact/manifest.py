"""The batch manifest: one JSON line per finished item, appended atomically, and its verification.

A line is written with a single ``write()`` on a descriptor opened with ``O_APPEND``, then flushed to disk
(``fsync``) before the next item is recorded: a crash leaves either the whole line or, at worst, one torn last
line, which :func:`read_records` ignores (the item it described is then simply done again). The manifest records
paths, hashes, kinds, settings, versions, timings and error *types* with a short library-composed message; never
recognised text (see :func:`safe_error`).

Record (``"record": "item"``, ``"manifest_version": 1``)::

    {"record": "item", "manifest_version": 1, "time": "2026-01-01T12:00:00Z", "run_id": "...",
     "status": "done" | "failed" | "skipped" | "reviewed",
     "input": {"path": "ward/clip.mp4", "sha256": "...", "size": 123},        # path relative to IN_DIR
     "kind": "video" | "image" | null,
     "output": {"path": "ward/clip.clean.mp4", "sha256": "...", "size": 456},  # relative to OUT_DIR; null unless done
     "plan": {...same...}, "report_json": {...}, "report_html": {...} | null,
     "error": {"type": "InputError", "message": "..."} | null,
     "summary": {"tracks_by_kind": {"face": 2}, "frames": 120, "truncated": false},  # done items only
     "settings": {...}, "settings_key": "<sha256 of the canonical settings>",
     "tool": {"name": "redact", "version": "..."}, "models": [{"name": ..., "package_version": ...}],
     "timings": {"hash_s": ..., "scan_s": ..., "render_s": ..., "total_s": ...}}

A ``"reviewed"`` record is appended by ``redact review`` when it saves the cleaned copy of an item a batch recorded
(:func:`reviewed_record`): the item's files as the review left them (new hashes), the settings of the record it
amends, the tool version that saved it, and ``"review": {"kept", "drawn", "changed_action", "added", "removed"}``
(counts of tracks; never text). It is then the item's latest state: ``verify`` checks its hashes and a batch re-run
treats the item as done, and never redoes it over the reviewer's choices.

Each batch run that cleans something also leaves two ``"record": "run"`` lines (:func:`run_record`), an auditor's trace of when it ran, on
which machine, with which settings and what became of it: ``"event": "start"`` (items to clean, already done) before
the first item, and ``"event": "end"`` (cleaned, failed, skipped, refused, seconds; ``"interrupted": true`` when a
signal or an error stopped it) after the last. They name no file or folder. Readers of items skip them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import contextlib
import json
import logging
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import OutputError, RedactError

log = logging.getLogger(__name__)

MANIFEST_NAME = "redact-manifest.jsonl"
LOCK_NAME = ".redact-batch.lock"
"""Held (flock) by the batch writing to the folder; empty."""
MANIFEST_VERSION = 1
STATUSES = ("done", "failed", "skipped", "reviewed")
WITH_FILES = ("done", "reviewed")
"""The statuses whose record names the item's files in OUT_DIR."""
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

    def find_output(self, rel_output: str) -> dict[str, Any] | None:
        """The latest record, ``done`` or ``reviewed``, of the item whose cleaned copy is ``rel_output``."""
        for rec in self.latest().values():
            if rec["status"] in WITH_FILES and (rec.get("output") or {}).get("path") == rel_output:
                return rec
        return None

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last record of each input path (later lines win)."""
        latest: dict[str, dict[str, Any]] = {}
        for rec in self.read():
            latest[rec["input"]["path"]] = rec
        return latest


def run_record(run_id: str, event: str, **fields: Any) -> dict[str, Any]:
    """A ``"run"`` line (see the module notes): the run, the event, the time, the machine and the tool."""
    import platform

    from . import __version__

    return {"record": "run", "manifest_version": MANIFEST_VERSION, "run_id": run_id, "event": event,
            "time": now_iso(), "host": platform.node(), "tool": {"name": "redact", "version": __version__}, **fields}


def read_records(path: Path) -> list[dict[str, Any]]:
    """The item records of a manifest (run lines are skipped); a torn or unreadable line is skipped with a
    warning."""
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
            if isinstance(rec, dict) and rec.get("record") == "run":
                continue  # a run's start or end: not an item
            ok = (isinstance(rec, dict) and rec.get("record") == "item" and rec.get("status") in STATUSES
                  and isinstance(rec.get("input"), dict) and isinstance(rec["input"].get("path"), str))
        except (UnicodeDecodeError, ValueError):
            ok = False
        if not ok:
            log.warning("manifest line %d is not a valid record (torn write?); ignored", n)
            continue
        records.append(rec)
    return records


class FolderBusy(RedactError):
    """Another batch (or a review saving one of its items) holds OUT_DIR's lock."""


@contextlib.contextmanager
def folder_lock(rout: Path) -> Iterator[None]:
    """One writer at a time per OUT_DIR: a batch, or a review saving one of its items (a second batch would remove
    the first's temporary files as stale; a batch redoing an item a review is saving would race it)."""
    import fcntl

    path = rout / LOCK_NAME
    try:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags, 0o666)
    except OSError as e:
        raise OutputError(f"cannot create {path}: {e.strerror or e}") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise FolderBusy(f"another batch is writing to {rout}; wait for it to finish") from None
        yield
    finally:
        os.close(fd)  # releases the lock


@dataclass
class FileStates:
    """How an item's recorded files stand now (paths relative to OUT_DIR)."""

    matching: list[str] = field(default_factory=list)  # present, same SHA-256 as recorded
    changed: list[str] = field(default_factory=list)  # present, another SHA-256
    missing: list[str] = field(default_factory=list)
    not_regular: list[str] = field(default_factory=list)  # a link, a folder, ... where the file was
    bad_paths: list[tuple[str, str]] = field(default_factory=list)  # (path, key): a path outside OUT_DIR
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    digests: dict[str, str] = field(default_factory=dict)  # path -> SHA-256 now, of the files hashed

    @property
    def present(self) -> bool:
        return bool(self.matching or self.changed or self.unreadable or self.not_regular)

    @property
    def not_as_recorded(self) -> list[str]:
        """Files present that are not what the record says (changed, unreadable, not a regular file, or a path
        outside OUT_DIR)."""
        return self.changed + self.not_regular + [p for p, _ in self.unreadable] + [p for p, _ in self.bad_paths]


def file_states(out_root: Path, rec: dict[str, Any]) -> FileStates:
    """Re-hash the files a ``done`` or ``reviewed`` record names (one home for "is this file what was recorded")."""
    from .io import sha256_file

    st = FileStates()
    for key in FILE_KEYS:
        entry = rec.get(key)
        if not isinstance(entry, dict):
            continue
        rel = entry.get("path")
        full = _inside(out_root, rel) if isinstance(rel, str) else None
        if full is None or not isinstance(rel, str):
            st.bad_paths.append((str(rel), key))
            continue
        if full.is_symlink() or (full.exists() and not full.is_file()):
            st.not_regular.append(rel)
            continue
        if not full.exists():
            st.missing.append(rel)
            continue
        try:
            digest = sha256_file(full)
        except FileNotFoundError:
            st.missing.append(rel)
            continue
        except OSError as e:
            st.unreadable.append((rel, f"unreadable ({e.strerror or type(e).__name__})"))
            continue
        st.digests[rel] = digest
        (st.matching if digest == entry.get("sha256") else st.changed).append(rel)
    return st


def _looks_reviewed(out_root: Path, rec: dict[str, Any], st: FileStates) -> bool:
    """True when an item's changed files hang together as ``redact review`` leaves them: the plan is a valid plan
    for the recorded input bytes, and either only the plan changed (edited on the review page, not saved) or the
    cleaned copy changed and the report names the copy's current SHA-256 (saved again). Otherwise a mismatch is
    damage or an edit by something else. Only regular files inside OUT_DIR, already hashed, are read."""
    from .pipeline import load_plan

    try:
        plan_rel, out_rel, rep_rel = (str(rec[k]["path"]) for k in ("plan", "output", "report_json"))
        if st.not_regular or st.unreadable or st.bad_paths or not {plan_rel, out_rel, rep_rel} <= st.digests.keys():
            return False
        if load_plan(out_root / plan_rel).input.sha256 != rec["input"].get("sha256"):
            return False
        if set(st.changed) == {plan_rel}:
            return True
        report = json.loads((out_root / rep_rel).read_text(encoding="utf-8"))
        return out_rel in st.changed and (report.get("output") or {}).get("sha256") == st.digests[out_rel]
    except (RedactError, OSError, ValueError, AttributeError, KeyError, TypeError):
        return False


CHANGED_AFTER = "changed after the batch (reviewed? no review record in the manifest)"
"""What ``verify`` says of a file that differs from its record as a review leaves it (:func:`_looks_reviewed`)."""


def find_batch_item(output: str | os.PathLike[str]) -> tuple[Path, dict[str, Any]] | None:
    """``(OUT_DIR, latest record)`` when a batch manifest in a folder above ``output`` records ``output`` as the
    cleaned copy of one of its items (``done`` or ``reviewed``), else None."""
    out = Path(output).absolute()
    for root in out.parents:
        if (root / MANIFEST_NAME).is_file():
            rec = Manifest(root).find_output(out.relative_to(root).as_posix())
            if rec is not None:
                return root, rec
    return None


def plan_summary(plan: Any) -> dict[str, Any]:
    """A done item's ``summary`` from its plan (:class:`redact.types.Plan`): tracks redacted by kind, frames,
    whether the input was truncated (a damaged input cleaned up to the damage)."""
    tracks: dict[str, int] = {}
    for t in plan.tracks:
        if t.action == "redact":
            tracks[t.kind] = tracks.get(t.kind, 0) + 1
    return {"tracks_by_kind": dict(sorted(tracks.items())), "frames": plan.input.frames,
            "truncated": bool(plan.input.extra.get("truncated"))}


def reviewed_record(previous: dict[str, Any], files: dict[str, dict[str, Any] | None], summary: dict[str, Any],
                    review: dict[str, Any], timings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``reviewed`` record of an item saved again from ``redact review``: ``files`` the new entries of
    :data:`FILE_KEYS` (``{"path", "sha256", "size"}`` relative to OUT_DIR), ``summary`` as a batch records it,
    ``review`` counts of tracks (kept, drawn, changed_action, added, removed; never text). The input, kind,
    settings and models are those of ``previous``, the record it amends."""
    from . import __version__

    rec = {k: previous.get(k) for k in ("input", "kind", "settings", "settings_key", "models")}
    rec.update({"record": "item", "manifest_version": MANIFEST_VERSION, "time": now_iso(),
                "run_id": "review-" + uuid.uuid4().hex[:12], "status": "reviewed", "error": None,
                "summary": summary, "review": review, "timings": timings,
                "tool": {"name": "redact", "version": __version__},
                "amends": {"status": previous.get("status"), "run_id": previous.get("run_id"),
                           "time": previous.get("time")}})
    for key in FILE_KEYS:
        rec[key] = files.get(key)
    return rec


@dataclass
class VerifyResult:
    checked: int = 0  # files re-hashed
    items: int = 0  # done items checked
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path relative to OUT_DIR, what is wrong)
    failed_items: list[str] = field(default_factory=list)  # input paths whose latest record is "failed"
    unrecorded: list[str] = field(default_factory=list)  # files in OUT_DIR that no latest record names
    reviewed: list[str] = field(default_factory=list)  # input paths whose latest record is "reviewed"
    changed_after: list[str] = field(default_factory=list)  # files of ``problems`` changed as a review leaves them

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
    """Re-hash every file the manifest's latest ``done`` or ``reviewed`` records name and compare with the recorded
    SHA-256. A mismatch is told apart: files changed after the batch as ``redact review`` leaves them (its plan for
    the same input, its report naming the copy) are :data:`CHANGED_AFTER`, anything else ``sha256 mismatch``."""
    out = Path(out_dir)
    man = Manifest(out)
    if not man.exists():
        raise RedactError(f"no manifest in {out} ({MANIFEST_NAME} not found)")
    res = VerifyResult()
    named: set[str] = set()
    for rel_in, rec in sorted(man.latest().items()):
        if rec["status"] == "failed":
            res.failed_items.append(rel_in)
        if rec["status"] not in WITH_FILES:
            continue
        res.items += 1
        if rec["status"] == "reviewed":
            res.reviewed.append(rel_in)
        for key in FILE_KEYS:
            entry = rec.get(key)
            if entry is None and key != "report_html":
                res.problems.append((rel_in, f"{key} missing from the manifest record"))
            elif isinstance(entry, dict):
                named.add(str(entry.get("path")))
        st = file_states(out, rec)
        res.checked += len(st.matching) + len(st.changed)
        res.problems += [(rel, f"{key} path is not inside the output folder") for rel, key in st.bad_paths]
        res.problems += [(rel, "missing") for rel in st.missing + st.not_regular] + st.unreadable
        if st.changed:
            reviewed = _looks_reviewed(out, rec, st)
            for rel in st.changed:
                res.problems.append((rel, CHANGED_AFTER if reviewed else "sha256 mismatch"))
                if reviewed:
                    res.changed_after.append(rel)
    for dirpath, _dirs, files in os.walk(out, followlinks=False):
        for name in files:
            rel = (Path(dirpath) / name).relative_to(out).as_posix()
            if rel not in (MANIFEST_NAME, LOCK_NAME) and rel not in named:
                res.unrecorded.append(rel)
    res.unrecorded.sort()
    return res
