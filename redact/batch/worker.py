"""The worker side of a batch: one item cleaned in a worker process (or in this one), its threads limited to its share
of the CPUs."""


from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .. import __version__
from .. import cpus as _cpus
from ..errors import RedactError
from ..manifest import plan_summary, safe_error
from ..naming import batch_recorded_path, report_paths
from .folders import make_parent

log = logging.getLogger(__name__)


@dataclass
class Task:
    """What a worker needs (picklable): paths and settings."""

    rel: str
    source: str
    output: str
    plan: str
    report_json: str
    report_html: str | None
    settings: dict[str, Any]
    in_root: str = ""
    out_root: str = ""
    threads: int = 1


WORKER_STATE: dict[str, Any] = {}
"""This worker process's state: its thread count, its detector stacks (one per scan settings), and the flags the
executors' signal handlers read and set (``busy``, ``stopping``, ``interrupted``)."""


def limit_threads(threads: int, cpus: list[int] | None = None) -> None:
    """:func:`redact.cpus.limit_threads`, remembered for this worker."""
    _cpus.limit_threads(threads, cpus)
    WORKER_STATE["threads"] = max(1, int(threads))


def _detector_stack(scan_options: Any) -> list[Any]:
    """The default detector stack (``redact.detect.stack.default_stack``, the very stack ``redact run`` builds), built
    once per worker and settings (loading models per clip would cost more than a small clip's analysis; ``scan``
    resets a stack before every clip)."""
    from ..detect.stack import default_stack

    key = repr(sorted(scan_options.to_dict().items()))
    cache = WORKER_STATE.setdefault("stacks", {})
    if key not in cache:
        cache.clear()
        cache[key] = default_stack(scan_options)
    return list(cache[key])


def process_item(task: Task) -> dict[str, Any]:
    """Clean one file (runs in a worker). Returns the part of its manifest record the worker knows; every
    ordinary error becomes a ``failed`` result. Either all of the item's files exist at the end or none."""
    from ..io import sha256_file
    from ..pipeline import RenderOptions, ScanOptions, render_and_report, scan

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    written: list[Path] = []
    src, out = Path(task.source), Path(task.output)
    digest: str | None = None
    own: list[Path] = []  # this item's names in OUT_DIR, once they are known to be safe to touch
    committing: list[Path] = []  # the item's files from the moment they are put in place

    def note_commit(staged: dict[str, Path]) -> None:
        jpath, hpath = report_paths(out)
        dest = {"output": out, "report_json": jpath, "report_html": hpath, "plan": Path(task.plan)}
        committing[:] = [dest[role] for role in staged]
    try:
        make_parent(out, Path(task.out_root))
        own = [Path(p) for p in (task.output, task.plan, task.report_json, task.report_html) if p]
        digest = sha256_file(src)
        timings["hash_s"] = round(time.perf_counter() - t0, 3)
        scan_opts = ScanOptions(**task.settings["scan"])
        render_opts = RenderOptions(**task.settings["render"])
        # one job per item: the batch's workers already share the CPUs (redact.cpus); a clip is not split again
        how = task.settings.get("report_path", "relative")
        s = scan(src, scan_opts, detectors=_detector_stack(scan_opts), recorded_as=batch_recorded_path(task.rel, how),
                 jobs=1)  # never IN_DIR's path
        if s.plan.input.sha256 != digest:
            raise RedactError("the input changed while it was being processed")
        s.plan.settings["render"] = render_opts.to_dict()
        # the copy, report and plan appear together, after the input is hashed once more: a file changed during
        # the run writes nothing (the plan must describe the bytes that were rendered)
        r, _rep, jpath, hpath = render_and_report(
            src, s.plan, out, render_opts, models=s.models, warnings=s.warnings, notes=s.notes,
            timings={"scan_s": round(s.seconds, 3)},
            html=task.report_html is not None, plan_path=task.plan, input_checked=True,
            output_recorded_as=batch_recorded_path(out.relative_to(task.out_root).as_posix(), how), jobs=1,
            before_commit=note_commit)
        written += [p for p in (out, jpath, hpath, Path(task.plan)) if p is not None]
        timings.update(scan_s=round(s.seconds, 3), render_s=round(r.seconds, 3))
        files = {"output": out, "plan": Path(task.plan), "report_json": jpath, "report_html": hpath}
        result = {
            "status": "done",
            "input": {"path": task.rel, "sha256": digest, "size": src.stat().st_size},
            "kind": s.plan.input.kind,
            "files": {k: (str(p), sha256_file(p), p.stat().st_size) if p is not None else None
                      for k, p in files.items()},
            "models": [_model_version(m) for m in s.models],
            # frames: those analysed and written; truncated: a damaged input, cleaned up to the damage only
            "summary": plan_summary(s.plan),
            "warnings": len(s.warnings) + len(r.warnings),
            "notes": len(s.notes),  # findings, no fault: e.g. audio checked and found to hold no speech
        }
    except Exception as e:  # one bad file must never stop the batch: recorded as failed (type + safe message)
        log.debug("item failed", exc_info=True)
        remove_outputs(written + own)  # also an earlier run's outputs of this item: the record will say failed
        result = failed_record(task, e, digest)
    except BaseException:  # an interrupt: leave none of this item's files and let it propagate
        remove_outputs(written + committing)  # (one in the instant after the files were put in place, too)
        raise
    timings["total_s"] = round(time.perf_counter() - t0, 3)
    result["timings"] = timings
    # the version that cleaned the item, which on a Ray cluster's other machine need not be the driver's
    result["tool"] = {"name": "redact", "version": __version__}
    return result


def _model_version(m: dict[str, Any]) -> dict[str, Any]:
    # what identifies a model and its pass: the same weights run twice (a fast and a full face pass) differ by
    # threshold, input size and stride; speech also names its runtime and voice-activity model
    keep = ("name", "kind", "package", "package_version", "runtime", "runtime_version", "weights", "sha256",
            "vad", "vad_sha256", "provider", "threshold", "max_side", "every")
    out = {k: m[k] for k in keep if k in m}
    if "parts" in m:
        out["parts"] = [_model_version(p) for p in m["parts"]]
    return out


def remove_outputs(paths: Iterable[Path]) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("could not remove a partial output: %s", e.strerror or e)


def failed_record(task: Task, e: BaseException, digest: str | None = None) -> dict[str, Any]:
    """A failed result; absolute folder paths in the message are cut to paths relative to IN_DIR/OUT_DIR."""
    cut = [(task.source, task.rel)] + [(root + os.sep, "") for root in (task.out_root, task.in_root) if root]
    return {"status": "failed", "input": {"path": task.rel, "sha256": digest}, "error": safe_error(e, cut)}
