"""Executors run a batch's tasks: one after another here, in local worker processes, or as Ray tasks; signals and
dead workers are handled here."""


from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from typing import Any, Callable, Protocol

from ..cpus import cpu_slices, usable_cpus
from ..errors import RedactError
from .worker import WORKER_STATE, Task, failed_record, limit_threads

log = logging.getLogger(__name__)

Worker = Callable[[Task], dict[str, Any]]

STOP_SIGNAL = getattr(signal, "SIGUSR1", signal.SIGTERM)  # SIGUSR1 does not exist on Windows
"""The driver's request to its workers to stop (on Ctrl-C or SIGTERM of the batch): an item running is interrupted
and removes its files; an idle worker is left for the pool to end, so no finished result in transit is lost."""


class WorkerCrashed(RedactError):
    """The process running an item died (killed, out of memory, a crash in native code)."""


OnResult = Callable[[Task, dict[str, Any]], None]


class Executor(Protocol):
    """Runs tasks and calls ``on_result(task, result)`` in the calling thread as each finishes (any order).
    ``result`` is the worker's dict; a task whose worker died gets a ``failed`` result for that task only. On an
    interrupt (``KeyboardInterrupt``, wherever it lands) the executor stops its workers (a running item removes its
    own files), reports the results of items that still finished, and re-raises."""

    workers: int

    def run(self, fn: Worker, tasks: list[Task], on_result: OnResult) -> None: ...

    def describe(self) -> dict[str, Any]: ...


class InlineExecutor:
    """Runs tasks one after another in this process (tests, debugging)."""

    workers = 1

    def run(self, fn: Worker, tasks: list[Task], on_result: OnResult) -> None:
        for t in tasks:
            try:
                res = fn(t)
            except Exception as e:  # the worker function should return failures; never stop the batch
                res = failed_record(t, e)
            on_result(t, res)

    def describe(self) -> dict[str, Any]:
        return {"executor": "inline", "workers": 1}


def _init_worker(threads: int, slots: Any, cpu_sets: list[list[int]]) -> None:
    """Pool initializer: take the next CPU share and limit threads. Signals: Ctrl-C reaches the whole process
    group, but only the driver acts on it (SIGINT ignored here). The driver's stop request (:data:`STOP_SIGNAL`)
    interrupts a running item like Ctrl-C would (its files are removed) and keeps the worker from starting another;
    an idle worker then ends on the pool's own shutdown. SIGTERM (CPython's pool ends the workers of a broken pool
    with it and joins them since 3.12; or anyone else's) interrupts a running item the same way, and ends an idle
    worker, but never while it is handing a finished item's result back."""
    with slots.get_lock():
        slot = slots.value
        slots.value += 1
    limit_threads(threads, cpu_sets[slot % len(cpu_sets)])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(STOP_SIGNAL, _on_stop_in_worker)
    signal.signal(signal.SIGTERM, _on_sigterm_in_worker)
    signal.signal(signal.SIGALRM, _on_sigterm_in_worker)  # the re-check of a deferred SIGTERM, see below
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        threading.Thread(target=_watch_driver, args=(parent.pid,), name="redact-watch-driver", daemon=True).start()


PARENT_CHECK_S = 1.0


def _watch_driver(driver: int) -> None:
    """End this worker once the driver is gone (killed outright: SIGKILL, out of memory), as SIGTERM would: an
    orphan went on with its item and the items queued for it, writing cleaned copies that no manifest records,
    while the folder's lock, the driver's, was free for another batch. The first SIGTERM interrupts a running item
    (its files are removed); those after it end the worker once it is idle."""
    if hasattr(signal, "pthread_sigmask"):  # the signals go to the main thread, whose handlers act on them
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGALRM, STOP_SIGNAL})
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != driver:
            os.kill(os.getpid(), signal.SIGTERM)


def _on_stop_in_worker(signum: int, frame: Any) -> None:
    WORKER_STATE["stopping"] = True
    _interrupt_item()


def _interrupt_item() -> None:
    if WORKER_STATE.get("busy") and not WORKER_STATE.get("interrupted"):
        WORKER_STATE["interrupted"] = True  # once: a second signal must not cut the item's own clean-up short
        raise KeyboardInterrupt()


def _on_sigterm_in_worker(signum: int, frame: Any) -> None:
    WORKER_STATE["stopping"] = True
    _interrupt_item()
    if WORKER_STATE.get("busy") or _sending(frame):
        # the item is cleaning up, or its result is on its way to the pool: look again shortly
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        return
    raise SystemExit(0)  # idle, waiting for a task: nothing is lost by ending here


def _sending(frame: Any) -> bool:
    """Whether the interrupted code is handing a result back (the pool's ``_sendback_result``, or any queue put:
    cutting a write to the result pipe short would lose the result or corrupt the pipe)."""
    while frame is not None:
        if frame.f_code.co_name in ("_sendback_result", "put", "send_bytes", "_send_bytes"):
            return True
        frame = frame.f_back
    return False


def _call_in_worker(fn: Worker, task: Task) -> dict[str, Any]:
    if WORKER_STATE.get("stopping"):
        raise KeyboardInterrupt()  # queued before the interrupt: do not start it
    WORKER_STATE["busy"] = True
    try:
        return fn(task)
    finally:
        WORKER_STATE["busy"] = False


class LocalExecutor:
    """``workers`` processes on this machine (``spawn``: no inherited model sessions or threads), each limited
    to its share of the CPUs. At most ``2 * workers`` tasks are in flight, so a dead worker can be attributed:
    the pool is replaced and the tasks it was running are retried one per fresh single-worker pool; the one that
    kills its worker again is recorded as failed."""

    def __init__(self, workers: int = 1, threads: int | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self.threads, self.cpu_sets = cpu_slices(workers, threads)

    def describe(self) -> dict[str, Any]:
        return {"executor": "local", "workers": self.workers, "threads_per_worker": self.threads}

    def _pool(self, workers: int) -> Any:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        ctx = mp.get_context("spawn")
        slots = ctx.Value("i", 0)
        # a single-worker pool (retrying the tasks of a pool whose worker died) gets one worker's share, like the
        # task it runs was told (task.threads): the same limits whichever pool an item ends up in
        cpu_sets = self.cpu_sets if workers == self.workers else self.cpu_sets[:1]
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                   initargs=(self.threads, slots, cpu_sets))

    def run(self, fn: Worker, tasks: list[Task], on_result: OnResult) -> None:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        todo = list(reversed(tasks))
        pool = self._pool(self.workers)
        running: dict[Any, Task] = {}
        try:
            while todo or running:
                while todo and len(running) < 2 * self.workers:
                    t = todo.pop()
                    t.threads = self.threads
                    running[pool.submit(_call_in_worker, fn, t)] = t
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                suspects: list[Task] = []
                for fut in done:
                    t = running.pop(fut)
                    try:
                        res = fut.result()
                    except BrokenProcessPool:
                        suspects.append(t)
                        continue
                    except Exception as e:  # the worker function itself raised (it should return failures)
                        res = failed_record(t, e)
                    on_result(t, res)
                if suspects:
                    suspects.extend(running.values())  # every task of a broken pool is lost
                    running.clear()
                    pool.shutdown(wait=True, cancel_futures=True)
                    log.warning("a worker process died; retrying its %d item(s) one at a time", len(suspects))
                    for t in suspects:
                        self._isolated(fn, t, on_result)
                    pool = self._pool(self.workers)
        except BaseException:
            _stop_pool(pool)
            _late_results(running, on_result)
            raise
        pool.shutdown(wait=True)

    def _isolated(self, fn: Worker, task: Task, on_result: OnResult) -> None:
        from concurrent.futures.process import BrokenProcessPool

        pool = self._pool(1)
        fut = pool.submit(_call_in_worker, fn, task)
        try:
            res = fut.result()
        except BrokenProcessPool:
            res = failed_record(task, WorkerCrashed("the worker process died while cleaning this file"))
        except Exception as e:
            res = failed_record(task, e)
        except BaseException:
            _stop_pool(pool)
            _late_results({fut: task}, on_result)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        on_result(task, res)


def _stop_pool(pool: Any) -> None:
    """Interrupt: cancel what has not started, ask running workers to stop (:data:`STOP_SIGNAL`: a running item
    removes its files, as on Ctrl-C) and wait for them and for the pool to deliver what finished meanwhile."""
    procs = list(getattr(pool, "_processes", {}).values())  # no public API lists a pool's processes
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        try:
            os.kill(p.pid, STOP_SIGNAL)
        except (OSError, AttributeError):
            pass
    for p in procs:
        p.join(timeout=60)
    pool.shutdown(wait=True)


def _late_results(running: dict[Any, Task], on_result: OnResult) -> None:
    """Report the items that finished while an interrupt was handled, so that their outputs are recorded."""
    for fut, t in running.items():
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            on_result(t, fut.result())


class RayExecutor:
    """Items as Ray tasks (``pip install '.[ray]'``), on the cluster at ``address`` or on a local Ray started
    here. The driver (this process) collects results and writes the manifest; the workers need the input and
    output folders at the same paths (a shared file system) and this package installed."""

    def __init__(self, address: str | None = None, workers: int | None = None, threads: int = 1,
                 init_kwargs: dict[str, Any] | None = None) -> None:
        try:
            import ray
        except ImportError as e:
            raise RedactError("the Ray executor needs Ray: pip install 'redact[ray]'") from e
        self._ray = ray
        self.address = address
        self.threads = max(1, threads)
        self.init_kwargs = dict(init_kwargs or {})
        self.workers = workers or 0
        self._started = False

    def describe(self) -> dict[str, Any]:
        return {"executor": "ray", "address": "local" if self.address is None else "remote",
                "workers": self.workers, "threads_per_task": self.threads}

    def _start(self) -> None:
        ray = self._ray
        if ray.is_initialized():
            return
        kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        kwargs.update(self.init_kwargs)
        if self.address is not None:
            kwargs["address"] = self.address
        else:
            # a Ray of our own, even where a cluster already runs on this machine (a head node: `ray start
            # --head`), which ray.init() would join and then refuse num_cpus for
            kwargs.setdefault("address", "local")
            if self.workers:
                kwargs.setdefault("num_cpus", self.workers * self.threads)
        try:
            ray.init(**kwargs)
        except (ConnectionError, ValueError, RuntimeError, TimeoutError) as e:
            raise RedactError(_ray_start_failed(self.address, e)) from e
        self._started = True
        if not self.workers:
            self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)) // self.threads)

    def run(self, fn: Worker, tasks: list[Task], on_result: OnResult) -> None:
        ray = self._ray
        self._start()
        remote = ray.remote(num_cpus=self.threads, max_retries=1, retry_exceptions=False)(_ray_call)
        refs: dict[Any, Task] = {}
        todo = list(reversed(tasks))

        def collect(ref: Any, t: Task) -> None:
            try:
                res = ray.get(ref)
            except ray.exceptions.RayError as e:  # the worker died, or the task raised
                log.debug("ray task failed", exc_info=True)
                res = failed_record(t, WorkerCrashed(f"the Ray task failed ({type(e).__name__})"))
            on_result(t, res)

        try:
            while todo or refs:
                while todo and len(refs) < 2 * max(1, self.workers):
                    t = todo.pop()
                    t.threads = self.threads
                    refs[remote.remote(fn, t)] = t
                ready, _ = ray.wait(list(refs), num_returns=1)
                for ref in ready:
                    collect(ref, refs.pop(ref))
        except BaseException:
            for ref in refs:  # KeyboardInterrupt inside each running task: it removes its own files
                ray.cancel(ref, force=False)
            ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=60) if refs else ([], [])
            for ref in ready:
                try:
                    res = ray.get(ref)
                except ray.exceptions.RayError:
                    continue  # cancelled or interrupted: nothing written
                on_result(refs[ref], res)
            raise

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def _ray_start_failed(address: str | None, e: BaseException) -> str:
    """Why Ray did not start, in words of our own (Ray's message is not shown: the CLI shows no library's)."""
    if address is None:
        return f"could not start a local Ray ({type(e).__name__}; run with --debug for where)"
    why = f"could not connect to the Ray cluster at {address} ({type(e).__name__})"
    if address.startswith("ray://"):
        return why + ": a ray:// address needs Ray Client (pip install 'ray[client]'), and the cluster its port"
    return why + ("; the driver must run on a machine of the cluster, and a cluster with token authentication "
                  "(Ray's default) needs RAY_AUTH_MODE=token and its token here (~/.ray/auth_token)")


def _ray_call(fn: Worker, task: Task) -> dict[str, Any]:
    """A Ray task: limit threads once per Ray worker process, then clean the item."""
    if WORKER_STATE.get("threads") is None:
        per, cpus = task.threads, None
        allowed = usable_cpus()
        if per < len(allowed):  # pin to a share chosen by pid: bounded threads even without coordination
            start = (os.getpid() * per) % len(allowed)
            cpus = [allowed[(start + i) % len(allowed)] for i in range(per)]
        limit_threads(per, cpus)
    return fn(task)
