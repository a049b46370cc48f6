"""CPU budgeting, in one place: which CPUs this process may use, and how many threads one inference session gets.

Batch splits :func:`usable_cpus` into disjoint shares for its workers (:func:`redact.batch.worker.cpu_slices`) and
pins each worker to its share; onnxruntime, the OCR engine and the speech model then size their pools from
:func:`session_threads`, so ``N`` workers do not oversubscribe the machine.
"""

from __future__ import annotations

import os

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
