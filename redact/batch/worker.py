"""The worker side of a batch: one item cleaned in a worker process (or in this one), its threads limited to its share
of the CPUs."""


from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..cpus import usable_cpus
from ..errors import RedactError
from ..manifest import safe_error
from .folders import _make_parent

log = logging.getLogger(__name__)


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



_WORKER: dict[str, Any] = {}


def limit_threads(threads: int, cpus: list[int] | None = None) -> None:
    """Keep this process to ``threads`` threads: pin it to ``cpus`` (onnxruntime and the OCR engine size their
    pools from the CPUs the process may use), and cap OpenMP/BLAS/OpenCV pools. Call before the first model
    is loaded."""
    threads = max(1, int(threads))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(threads)
    if cpus and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, cpus)
        except OSError as e:
            log.debug("could not pin the worker to CPUs %s: %s", cpus, e)
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:
        pass
    _WORKER["threads"] = threads


def cpu_slices(workers: int, threads: int | None = None) -> tuple[int, list[list[int]]]:
    """``(threads per worker, the CPUs of each worker slot)``. By default the usable CPUs are split into
    ``workers`` disjoint shares (one CPU each, round robin, when there are more workers than CPUs); with
    ``threads`` each slot gets that many CPUs, consecutive and wrapping around."""
    cpus = usable_cpus()
    workers = max(1, workers)
    per = max(1, min(len(cpus), threads if threads else len(cpus) // workers))
    return per, [[cpus[(i * per + j) % len(cpus)] for j in range(per)] for i in range(workers)]


def _detector_stack(scan_options: Any) -> list[Any]:
    """The default detector stack (``redact.detect.stack.default_stack``, the very stack ``redact run`` builds), built
    once per worker and settings (loading models per clip would cost more than a small clip's analysis; ``scan``
    resets a stack before every clip)."""
    from ..detect.stack import default_stack

    key = repr(sorted(scan_options.to_dict().items()))
    cache = _WORKER.setdefault("stacks", {})
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
    try:
        _make_parent(out, Path(task.out_root))
        own = [Path(p) for p in (task.output, task.plan, task.report_json, task.report_html) if p]
        digest = sha256_file(src)
        timings["hash_s"] = round(time.perf_counter() - t0, 3)
        scan_opts = ScanOptions(**task.settings["scan"])
        render_opts = RenderOptions(**task.settings["render"])
        s = scan(src, scan_opts, detectors=_detector_stack(scan_opts), recorded_as=task.rel)  # never IN_DIR's path
        if s.plan.input.sha256 != digest:
            raise RedactError("the input changed while it was being processed")
        s.plan.settings["render"] = render_opts.to_dict()
        # the copy, report and plan appear together, after the input is hashed once more: a file changed during
        # the run writes nothing (the plan must describe the bytes that were rendered)
        r, _rep, jpath, hpath = render_and_report(
            src, s.plan, out, render_opts, models=s.models, warnings=s.warnings, timings={"scan_s": round(s.seconds, 3)},
            html=task.report_html is not None, plan_path=task.plan, input_checked=True,
            output_recorded_as=out.relative_to(task.out_root).as_posix())
        written += [p for p in (out, jpath, hpath, Path(task.plan)) if p is not None]
        timings.update(scan_s=round(s.seconds, 3), render_s=round(r.seconds, 3))
        files = {"output": out, "plan": Path(task.plan), "report_json": jpath, "report_html": hpath}
        tracks: dict[str, int] = {}
        for t in s.plan.tracks:
            if t.action == "redact":
                tracks[t.kind] = tracks.get(t.kind, 0) + 1
        result = {
            "status": "done",
            "input": {"path": task.rel, "sha256": digest, "size": src.stat().st_size},
            "kind": s.plan.input.kind,
            "files": {k: (str(p), sha256_file(p), p.stat().st_size) if p is not None else None
                      for k, p in files.items()},
            "models": [_model_version(m) for m in s.models],
            "summary": {"tracks_by_kind": dict(sorted(tracks.items())), "frames": s.plan.input.frames},
            "warnings": len(s.warnings) + len(r.warnings),
        }
    except Exception as e:  # one bad file must never stop the batch: recorded as failed (type + safe message)
        log.debug("item failed", exc_info=True)
        _remove(written + own)  # also an earlier run's outputs of this item: the record will say failed
        result = _failed(task, e, digest)
    except BaseException:  # an interrupt: leave none of this item's files and let it propagate
        _remove(written)
        raise
    timings["total_s"] = round(time.perf_counter() - t0, 3)
    result["timings"] = timings
    return result


def _model_version(m: dict[str, Any]) -> dict[str, Any]:
    keep = ("name", "package", "package_version", "weights", "sha256", "provider")
    out = {k: m[k] for k in keep if k in m}
    if "parts" in m:
        out["parts"] = [_model_version(p) for p in m["parts"]]
    return out


def _remove(paths: Iterable[Path]) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("could not remove a partial output: %s", e.strerror or e)


def _failed(task: Task, e: BaseException, digest: str | None = None) -> dict[str, Any]:
    """A failed result; absolute folder paths in the message are cut to paths relative to IN_DIR/OUT_DIR."""
    cut = [(task.source, task.rel)] + [(root + os.sep, "") for root in (task.out_root, task.in_root) if root]
    return {"status": "failed", "input": {"path": task.rel, "sha256": digest}, "error": safe_error(e, cut)}
