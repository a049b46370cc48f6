"""CPU budgeting, in one place: which CPUs this process may use, how they are shared among worker processes, and how
many threads one inference session gets.

Batch splits :func:`usable_cpus` into disjoint shares for its workers (:func:`cpu_slices`) and pins each worker to
its share (:func:`limit_threads`); onnxruntime, the OCR engine and the speech model then size their pools from
:func:`session_threads`, so ``N`` workers do not oversubscribe the machine. One clip split into segments
(``-j``, :mod:`redact.segments`) shares the same budget: :func:`clip_jobs` never gives a clip more segment workers
than the CPUs this process may use, so inside a batch worker (pinned to its share) a clip gets at most that share,
and the batch itself runs each item with one job (:mod:`redact.batch.worker`).
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

MAX_SESSION_THREADS = 8
"""An inference session's threads are capped here: beyond about 8 the models used here gain nothing on CPU."""


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity on Linux; all of them elsewhere), sorted."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return list(range(os.cpu_count() or 1))


def session_threads() -> int:
    """Threads for one inference session: the CPUs this process may use, at most :data:`MAX_SESSION_THREADS`."""
    return max(1, min(len(usable_cpus()), MAX_SESSION_THREADS))


SEGMENT_WORKER_BYTES = 3 << 29
"""Memory one segment worker may need (1.5 GiB): whole-process peaks of 1183 MiB (720p) and 1114 MiB (a 1080p
segment worker) were measured with faces, badges and text on, with the inference sessions sharing one memory arena
(redact.detect.base), rounded up."""


def available_memory() -> int | None:
    """Bytes of physical memory available now (Linux, most Unixes), None where that cannot be read."""
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def clip_jobs(requested: int | None = None) -> int:
    """Segment workers for one clip (``-j``): ``requested`` (``None``: every CPU this process may use, and no more
    workers than the available memory holds at :data:`SEGMENT_WORKER_BYTES` each), never more than the CPUs this
    process may use (a batch worker pinned to one CPU gets 1), at least 1."""
    cpus = len(usable_cpus())
    if requested is None:
        free = available_memory()
        by_memory = cpus if free is None else max(1, free // SEGMENT_WORKER_BYTES)
        if free is not None and by_memory < cpus:
            log.info("%d segment worker(s), not %d: %.1f GiB of memory available", by_memory, cpus, free / 2**30)
        return max(1, min(cpus, by_memory))
    if requested < 1:
        raise ValueError(f"jobs must be >= 1, got {requested}")
    if requested > cpus:
        log.info("-j %d: only %d CPU(s) usable here, using %d", requested, cpus, cpus)
    return max(1, min(requested, cpus))


def cpu_slices(workers: int, threads: int | None = None) -> tuple[int, list[list[int]]]:
    """``(threads per worker, the CPUs of each worker slot)``. By default the usable CPUs are split into
    ``workers`` disjoint shares (one CPU each, round robin, when there are more workers than CPUs); with
    ``threads`` each slot gets that many CPUs, consecutive and wrapping around."""
    cpus = usable_cpus()
    workers = max(1, workers)
    per = max(1, min(len(cpus), threads if threads else len(cpus) // workers))
    return per, [[cpus[(i * per + j) % len(cpus)] for j in range(per)] for i in range(workers)]


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
