"""The driver of a batch: settings, resume from the manifest, one record per finished item, the summary."""


from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import __version__
from ..errors import OutputError
from ..io import signals_deferred
from ..naming import batch_recorded_path
from ..manifest import (FILE_KEYS, MANIFEST_VERSION, WITH_FILES, Manifest, file_states, folder_lock, now_iso,
                        safe_error, settings_key, run_record)
from .executors import Executor, LocalExecutor, Worker
from .folders import OUTPUT_PROBLEMS, assign_outputs, check_folders, remove_stale_temporaries, walk
from .worker import Task, remove_outputs, process_item

log = logging.getLogger(__name__)


@dataclass
class BatchSettings:
    """What decides an item's output: changing any of it redoes the item."""

    scan: dict[str, Any]
    render: dict[str, Any]
    html: bool = True
    report_path: str = "relative"  # see redact.naming.BATCH_PATH_RECORDS

    def to_dict(self) -> dict[str, Any]:
        d = {"scan": self.scan, "render": self.render, "html": self.html, "tool_version": __version__}
        if self.report_path != "relative":  # so that batches begun before the option resume as they were
            d["report_path"] = self.report_path
        return d

    @property
    def key(self) -> str:
        return settings_key(self.to_dict())



@dataclass
class BatchSummary:
    done: list[str] = field(default_factory=list)  # processed now
    failed: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (input, error) now or earlier
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (input, reason)
    resumed: list[str] = field(default_factory=list)  # finished earlier, not redone
    failed_earlier: int = 0  # of ``failed``: recorded by an earlier run, not retried
    reviewed: int = 0  # of ``resumed``: saved again from ``redact review`` since (their latest record is "reviewed")
    refused: list[tuple[str, str]] = field(default_factory=list)  # (input, why): files changed since, not redone
    ignored: int = 0
    ignored_files: list[str] = field(default_factory=list)  # not media by their suffix (relative to IN_DIR)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.refused


Progress = Callable[[str, str, dict[str, Any]], None]
"""progress(input_rel, status, record) after each item is recorded."""
Starting = Callable[[int, BatchSummary], None]
"""starting(items_to_clean, summary_so_far) once the folder is walked, before the first item is cleaned."""


def _file_entry(out_root: Path, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    path, digest, size = value
    return {"path": Path(path).relative_to(out_root).as_posix(), "sha256": digest, "size": size}


def _held_back(rec: dict[str, Any], rout: Path, same_key: bool, source: Path) -> tuple[str, str | None]:
    """What to do with an item whose latest record is ``done`` or ``reviewed``: ``("resume", None)``, ``("redo",
    None)`` or ``("refuse", why)``. ``same_key``: the settings are those recorded; ``source``: the input (hashed
    only when the rest would resume).

    A batch never overwrites what it did not write: a file that differs from its record (edited or saved again
    after the batch, e.g. by ``redact review`` before reviews were recorded) is refused, and so is redoing an item
    a review saved (its latest record is ``reviewed``) while any of its files is there."""
    st = file_states(rout, rec)
    if st.not_as_recorded:
        return "refuse", (f"{st.not_as_recorded[0]} changed after the batch recorded it (reviewed?); not overwritten "
                          "(see `redact verify`; move the item's files away to clean it again)")
    from ..io import sha256_file

    if not st.missing and same_key and rec["input"].get("sha256") == sha256_file(source):
        return "resume", None
    if rec["status"] == "reviewed" and st.present:
        why = "some of its files are missing" if st.missing else "its input or the settings changed"
        return "refuse", (f"reviewed after the batch and {why}; not cleaned again over the reviewer's choices "
                          "(move its cleaned copy, plan and reports away to clean it again)")
    return "redo", None


def run_batch(in_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], settings: BatchSettings,
              executor: Executor | None = None, *, retry_failed: bool = False, progress: Progress | None = None,
              worker: Worker = process_item, starting: Starting | None = None) -> BatchSummary:
    """Clean every media file under ``in_dir`` into ``out_dir`` (see the module docstring for the rules)."""
    t0 = time.perf_counter()
    in_path, out_path = Path(in_dir), Path(out_dir)
    check_folders(in_path, out_path)
    try:
        out_path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the output folder {out_path}: {e.strerror or e}") from e
    rin, rout = check_folders(in_path, out_path)
    with folder_lock(rout):
        return _run_batch(rin, rout, settings, executor or LocalExecutor(1), retry_failed, progress, worker, t0,
                          starting)


def _run_batch(rin: Path, rout: Path, settings: BatchSettings, executor: Executor, retry_failed: bool,
               progress: Progress | None, worker: Worker, t0: float, starting: Starting | None = None
               ) -> BatchSummary:
    from ..io import sha256_file

    manifest = Manifest(rout)
    previous = manifest.latest()
    stale = remove_stale_temporaries(rout)
    if stale:
        log.info("removed %d temporary file(s) left by an interrupted run", stale)
    found = walk(rin, rout)
    assign_outputs(found.items, rout, html=settings.html)
    summary = BatchSummary(ignored=found.ignored, ignored_files=found.ignored_files)
    key = settings.key
    run_id = uuid.uuid4().hex[:12]
    common = {"record": "item", "manifest_version": MANIFEST_VERSION, "run_id": run_id,
              "settings": settings.to_dict(), "settings_key": key, "tool": {"name": "redact", "version": __version__},
              "executor": executor.describe()}

    def record(rec: dict[str, Any]) -> None:
        full = dict(common, time=now_iso(), **rec)
        for k in ("input", "kind", "output", "plan", "report_json", "report_html", "error", "models", "summary",
                  "timings"):
            full.setdefault(k, None)
        manifest.append(full)
        rel = full["input"]["path"]
        if full["status"] == "done":
            summary.done.append(rel)
        elif full["status"] == "failed":
            summary.failed.append((rel, full["error"]))
        else:
            summary.skipped.append((rel, (full["error"] or {}).get("message", "")))
        if progress:
            progress(rel, full["status"], full)

    for rel in found.unreadable_dirs:
        record({"status": "failed", "input": {"path": rel},
                "error": {"type": "PermissionError", "message": "this folder could not be listed"}})
    tasks: list[Task] = []
    for item in found.items:
        if item.skip_reason:
            # input-side reasons (links out of IN_DIR, FIFOs) skip the file; output-side ones fail it
            status, etype = ("failed", "OutputError") if item.skip_reason in OUTPUT_PROBLEMS else ("skipped", "Skipped")
            err = {"type": etype, "message": item.skip_reason}
            prev = previous.get(item.rel)
            if not (prev and prev["status"] == status and prev["settings_key"] == key and prev.get("error") == err):
                record({"status": status, "input": {"path": item.rel}, "error": err})
            elif status == "failed":  # already recorded: counted, not recorded again
                summary.failed.append((item.rel, err))
            else:
                summary.skipped.append((item.rel, item.skip_reason))
            continue
        prev = previous.get(item.rel)
        try:
            if prev is not None and prev["status"] in WITH_FILES:
                what, why = _held_back(prev, rout, prev.get("settings_key") == key, item.source)
                if what == "resume":
                    summary.resumed.append(item.rel)
                    summary.reviewed += prev["status"] == "reviewed"
                    continue
                if what == "refuse":
                    summary.refused.append((item.rel, str(why)))
                    continue
            elif prev is not None and prev["status"] == "failed" and prev.get("settings_key") == key \
                    and not retry_failed:
                if prev["input"].get("sha256") in (None, sha256_file(item.source)):
                    summary.failed.append((item.rel, prev["error"]))
                    summary.failed_earlier += 1
                    continue
        except OSError as e:
            record({"status": "failed", "input": {"path": item.rel}, "error": safe_error(e)})
            continue
        assert item.output and item.plan and item.report_json
        tasks.append(Task(item.rel, str(item.source), str(item.output), str(item.plan), str(item.report_json),
                          str(item.report_html) if item.report_html else None,
                          {"scan": settings.scan, "render": settings.render, "report_path": settings.report_path},
                          str(rin), str(rout)))

    def on_result(task: Task, res: dict[str, Any]) -> None:
        files = res.pop("files", None) or {}
        rec = dict(res)
        for k in FILE_KEYS:
            rec[k] = _file_entry(rout, files.get(k))
        recorded = False
        try:
            with signals_deferred():  # an interrupt waits until the line is written and counted
                record(rec)
                recorded = True
        except BaseException:  # no manifest line (a full disk, a signal in another thread): no cleaned copy either
            # (an interrupt held while the line was written is raised as the block ends: the line is there, and
            # so must the files be)
            if rec.get("status") == "done" and not recorded:
                remove_outputs(Path(p) for p in (task.output, task.plan, task.report_json, task.report_html) if p)
            raise

    if starting:
        starting(len(tasks), summary)
    traced = bool(tasks)  # nothing to clean: the manifest is left as it is (a finished batch's re-run writes nothing)
    if traced:
        manifest.append(run_record(run_id, "start", settings_key=key, executor=executor.describe(),
                                   items=len(tasks), already_done=len(summary.resumed)))
    finished = False
    try:
        executor.run(worker, tasks, on_result)
        finished = True
    finally:
        summary.seconds = time.perf_counter() - t0
        if traced:
            with contextlib.suppress(OutputError), signals_deferred():  # the trace must not hide why it stopped
                manifest.append(run_record(run_id, "end", interrupted=not finished, cleaned=len(summary.done),
                                           failed=len(summary.failed), skipped=len(summary.skipped),
                                           refused=len(summary.refused), seconds=round(summary.seconds, 3)))
    return summary


def settings_from(scan_options: Any, render_options: Any, html: bool = True, report_path: str = "relative"
                  ) -> BatchSettings:
    batch_recorded_path("", report_path)  # an unknown choice fails here, before any item
    return BatchSettings(asdict(scan_options), asdict(render_options), html, report_path)
