"""Clean a whole folder: walk it, plan one item per media file, run the items on an executor (local processes or
Ray tasks) and record each finished item in the manifest (:mod:`redact.manifest`).

Rules:

* **Outputs stay inside OUT_DIR.** Every output path is OUT_DIR + the input's path relative to IN_DIR, built from
  directory listings (a component is never ``.``, ``..`` or contains a separator) and checked again after
  resolving; an existing directory or file under OUT_DIR that is a symbolic link is refused. OUT_DIR equal to
  IN_DIR, or IN_DIR inside OUT_DIR, is refused; OUT_DIR inside IN_DIR is left out of the walk.
* **Symbolic links.** Symlinked directories are never followed (no loops, nothing outside IN_DIR). A symlinked
  file is followed only when its target is a regular file inside IN_DIR (it is then cleaned under the link's
  name); one pointing outside IN_DIR, or at something that is not a regular file (a FIFO would block, a device
  never ends), is recorded as ``skipped``: the user named a folder, and reading files elsewhere through it would
  be a surprise. Nothing is written for a skipped file, so nothing unredacted leaks either way.
* **One bad file never stops the rest**: each item's error is recorded (``failed``); a worker process that dies
  is replaced and the items it may have been running are retried one at a time, so only the culprit fails.
* **Resume**: an item whose latest record is ``done`` (or ``failed``) for the same input SHA-256 and the same
  settings key, its files still as recorded (re-hashed), is skipped; with ``retry_failed`` failed ones are tried
  again. An item saved again from ``redact review`` has a ``reviewed`` record, its latest state: it resumes the
  same way and is never cleaned again over the reviewer's choices (other settings or a changed input leave it
  alone, named in ``BatchSummary.refused``). Nor is any file that differs from its record ever overwritten. An interrupted item has no record
  and no output (outputs are written to temporary files and renamed; stale temporaries in OUT_DIR are removed at
  the start of a run), so it is simply done again.
* **Threads**: each worker is given ``threads`` CPUs (a disjoint share of the machine where it can be pinned) so
  that ``N`` workers do not oversubscribe the cores: onnxruntime sizes its pool from the CPUs the process may use.

Modules: :mod:`.folders` (the walk, output names, paths kept inside OUT_DIR), :mod:`.worker` (one item in a worker,
its CPU share), :mod:`.executors` (inline, local processes, Ray), :mod:`.driver` (settings, resume, the manifest).
"""

from __future__ import annotations

from ..cpus import cpu_slices  # noqa: F401 (tests)
from .driver import BatchSettings, BatchSummary, run_batch, settings_from
from .executors import Executor, InlineExecutor, LocalExecutor, OnResult, RayExecutor, Worker, WorkerCrashed
from .folders import OUTPUT_PROBLEMS, Item, Walk, assign_outputs, check_folders, remove_stale_temporaries, walk
from .worker import Task, limit_threads, process_item

__all__ = ["OUTPUT_PROBLEMS", "BatchSettings", "BatchSummary", "Executor", "InlineExecutor", "Item", "LocalExecutor",
           "OnResult", "RayExecutor", "Task", "Walk", "Worker", "WorkerCrashed", "assign_outputs", "check_folders",
           "cpu_slices", "limit_threads", "process_item", "remove_stale_temporaries", "run_batch", "settings_from",
           "walk"]
