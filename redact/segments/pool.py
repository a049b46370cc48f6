"""Segment workers: one spawned process per segment, each pinned to its share of this process's CPUs
(:func:`redact.cpus.cpu_slices`, :func:`redact.cpus.limit_threads`, as batch workers are), results and progress
through one queue. The first failure stops every worker and is raised here; so is an interrupt (Ctrl-C, SIGTERM):
no worker outlives :func:`run_segments`."""

from __future__ import annotations

import importlib
import logging
import multiprocessing as mp
import queue
import signal
from typing import Any, Callable

from ..cpus import cpu_slices, limit_threads
from ..errors import AnalysisError, RedactError
from .index import SegmentMismatch

log = logging.getLogger(__name__)

PROGRESS_EVERY = 5
"""A worker reports its progress every this many frames."""


def can_spawn() -> bool:
    """Whether this process may start segment workers (a daemonic process, such as a pool worker, may not)."""
    return not mp.current_process().daemon


def run_segments(fn: Callable[..., Any], jobs: list[Any], progress: Callable[[int], None] | None = None) -> list[Any]:
    """``[fn(job, report) for job in jobs]``, each in its own worker process; ``progress(frames done in all)``.
    ``fn`` must be importable by name (spawned workers import it)."""
    ctx = mp.get_context("spawn")
    results_q = ctx.Queue()
    per, slices = cpu_slices(len(jobs))
    procs = [ctx.Process(target=_entry, args=(fn.__module__, fn.__name__, k, job, per, slices[k], results_q),
                         daemon=True, name=f"redact-segment-{k}") for k, job in enumerate(jobs)]
    done: dict[int, Any] = {}
    counts = [0] * len(jobs)
    try:
        for p in procs:
            p.start()
        while len(done) < len(procs):
            try:
                what, k, payload = results_q.get(timeout=0.5)
            except queue.Empty:
                for k, p in enumerate(procs):
                    if k not in done and p.exitcode not in (None, 0):
                        raise AnalysisError(f"segment worker {k} died (exit status {p.exitcode}); nothing was written") from None
                continue
            if what == "progress":
                counts[k] = payload
                if progress is not None:
                    progress(sum(counts))
            elif what == "done":
                done[k] = payload
            else:
                raise _rebuilt(what, k, payload)
        return [done[k] for k in range(len(procs))]
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join()
        results_q.close()
        results_q.cancel_join_thread()


def _rebuilt(what: str, k: int, payload: Any) -> BaseException:
    if what == "mismatch":
        return SegmentMismatch(f"segment {k}: {payload}")
    module, name, message = payload
    if module is not None:
        cls = getattr(importlib.import_module(module), name, None)
        if isinstance(cls, type) and issubclass(cls, RedactError):
            try:
                return cls(message)
            except TypeError:
                return RedactError(message)
    # not the tool's own error: only its type, its message could quote recognised text
    return AnalysisError(f"segment {k} failed ({name}); nothing was written")


def _entry(module: str, name: str, k: int, job: Any, threads: int, cpus: list[int], results_q: Any) -> None:
    """A segment worker: pinned first (before any model is loaded), then ``module.name(job, report)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers on Ctrl-C
    limit_threads(threads, cpus)
    last = [0]

    def report(frames: int) -> None:
        if frames - last[0] >= PROGRESS_EVERY:
            last[0] = frames
            results_q.put(("progress", k, frames))

    try:
        fn = getattr(importlib.import_module(module), name)
        result = fn(job, report)
    except SegmentMismatch as e:
        results_q.put(("mismatch", k, str(e)))
    except RedactError as e:
        results_q.put(("error", k, (type(e).__module__, type(e).__name__, str(e))))
    except Exception as e:  # reported by type only (see _rebuilt); the parent fails the run
        log.debug("segment %d failed", k, exc_info=True)
        results_q.put(("error", k, (None, type(e).__name__, "")))
    else:
        results_q.put(("progress", k, getattr(result, "frames", 0)))
        results_q.put(("done", k, result))
