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
  settings key is skipped; with ``retry_failed`` failed ones are tried again. An interrupted item has no record
  and no output (outputs are written to temporary files and renamed; stale temporaries in OUT_DIR are removed at
  the start of a run), so it is simply done again.
* **Threads**: each worker is given ``threads`` CPUs (a disjoint share of the machine where it can be pinned) so
  that ``N`` workers do not oversubscribe the cores: onnxruntime sizes its pool from the CPUs the process may use.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

from . import __version__
from .errors import OutputError, RedactError
from .io import probe, signals_deferred
from .manifest import FILE_KEYS, LOCK_NAME, MANIFEST_NAME, Manifest, now_iso, safe_error, settings_key
from .naming import IMAGE_IN_SUFFIXES, MEDIA_SUFFIXES, cleaned_name, sidecar_names

log = logging.getLogger(__name__)

_TMP_TAG = ".redact-tmp-"  # redact.io.atomic's temporary-file marker
OUTPUT_PROBLEMS = frozenset({"unsafe_name", "output_name_collision", "output_through_symlink"})


# -- settings and items ------------------------------------------------------------------------------------------
@dataclass
class BatchSettings:
    """What decides an item's output: changing any of it redoes the item."""

    scan: dict[str, Any]
    render: dict[str, Any]
    html: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"scan": self.scan, "render": self.render, "html": self.html, "tool_version": __version__}

    @property
    def key(self) -> str:
        return settings_key(self.to_dict())


@dataclass
class Item:
    """One media file to clean. ``rel`` is relative to IN_DIR; the outputs are absolute paths under OUT_DIR."""

    rel: str
    source: Path
    output: Path | None = None
    plan: Path | None = None
    report_json: Path | None = None
    report_html: Path | None = None
    skip_reason: str | None = None  # set: never processed (recorded as skipped, or failed if OUTPUT_PROBLEMS)


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


@dataclass
class Walk:
    items: list[Item] = field(default_factory=list)
    ignored: int = 0  # files that are not media by their suffix
    skipped_dirs: list[str] = field(default_factory=list)  # symlinked directories (never followed)
    unreadable_dirs: list[str] = field(default_factory=list)  # folders that could not be listed


def _is_inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def check_folders(in_dir: Path, out_dir: Path) -> tuple[Path, Path]:
    """Resolved ``(in_dir, out_dir)``; raise when they overlap in a way that could touch the originals."""
    if not in_dir.is_dir():
        raise RedactError(f"input folder not found: {in_dir}")
    rin = in_dir.resolve()
    rout = out_dir.resolve()
    if rout == rin or (out_dir.exists() and os.path.samefile(in_dir, out_dir)):
        raise RedactError("the output folder must not be the input folder")
    if _is_inside(rin, rout):
        raise RedactError("the input folder must not be inside the output folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise RedactError(f"the output path is not a folder: {out_dir}")
    return rin, rout


def walk(in_dir: Path, out_dir: Path) -> Walk:
    """Every media file under ``in_dir`` (sorted), without following symlinked directories, leaving out
    ``out_dir`` when it lies inside ``in_dir``."""
    rin, rout = check_folders(in_dir, out_dir)
    res = Walk()

    def unreadable(e: OSError) -> None:
        where = Path(e.filename) if e.filename else rin
        res.unreadable_dirs.append(where.relative_to(rin).as_posix() if _is_inside(where, rin) else ".")

    for dirpath, dirnames, filenames in os.walk(rin, followlinks=False, onerror=unreadable):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            full = here / d
            if full.is_symlink():
                res.skipped_dirs.append(str(full.relative_to(rin)))
                continue
            if full == rout:
                log.info("leaving the output folder out of the walk")
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            full = here / name
            rel = full.relative_to(rin).as_posix()
            suffix = full.suffix.lower()
            if _TMP_TAG in name or suffix not in MEDIA_SUFFIXES:
                res.ignored += 1
                continue
            res.items.append(Item(rel, full, skip_reason=_link_problem(full, rin)))
    return res


def _link_problem(path: Path, rin: Path) -> str | None:
    """Why ``path`` must not be read (None: it may): symlinks leading out of IN_DIR, non-regular files."""
    try:
        st = os.stat(path)  # follows the link
    except OSError:
        return "unreadable" if not path.is_symlink() else "broken_symlink"
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "broken_symlink"
        if not _is_inside(target, rin):
            return "symlink_outside_input"
    if not stat.S_ISREG(st.st_mode):
        return "not_a_regular_file"
    return None


def _safe_parts(rel: str) -> list[str]:
    parts = rel.split("/")
    for p in parts:
        if p in ("", ".", "..") or "\x00" in p:
            raise OutputError("an input path has an unsafe component")
    return parts


def _output_names(name: str, kind: str, long: bool) -> tuple[str, str, str, str]:
    """(output, plan, report json, report html) file names for input file ``name`` (:mod:`redact.naming`)."""
    out = cleaned_name(name, kind, whole=long)
    return (out, *sidecar_names(out))


def _kind_by_name(path: Path) -> str:
    """``"image"`` or ``"video"`` for naming the output: by suffix, except a GIF, which may be animated (a video)."""
    suffix = path.suffix.lower()
    if suffix == ".gif":
        try:
            return probe(path).kind
        except RedactError:
            return "image"  # it fails when processed, and is recorded so; its name only has to be stable
    return "image" if suffix in IMAGE_IN_SUFFIXES else "video"


def assign_outputs(items: list[Item], rout: Path, html: bool = True) -> None:
    """Give each item its output, plan and report paths under ``rout``, mirroring the input tree.

    ``clip.mov`` -> ``clip.clean.mp4``; when two inputs of a folder would share a name (``clip.mov`` and
    ``clip.mp4``, case-insensitively) the later ones use the whole input name (``clip.mp4.clean.mp4``); an item
    whose names still collide is skipped (``output_name_collision``). The assignment depends only on the set of
    input names, so a re-run with the same files gets the same names."""
    claimed: set[str] = {MANIFEST_NAME.casefold()}
    for item in items:
        if item.skip_reason:
            continue
        try:
            parts = _safe_parts(item.rel)
        except OutputError:
            item.skip_reason = "unsafe_name"
            continue
        parent = rout.joinpath(*parts[:-1])
        kind = _kind_by_name(Path(item.source))
        for long in (False, True):
            names = _output_names(parts[-1], kind, long)
            keys = [(parent / n).as_posix().casefold() for n in (names if html else names[:3])]
            if not claimed.intersection(keys):
                break
        else:
            item.skip_reason = "output_name_collision"
            continue
        claimed.update(keys)
        paths = [parent / n for n in names]
        for p in paths:
            if not _is_inside(p, rout):
                item.skip_reason = "unsafe_name"
                break
            if p.resolve() != p:  # an existing folder or file on the way is a symbolic link
                item.skip_reason = "output_through_symlink"
                break
        else:
            item.output, item.plan, item.report_json = paths[:3]
            item.report_html = paths[3] if html else None


def _make_parent(path: Path, rout: Path) -> None:
    """Create ``path``'s parent folders under ``rout``, refusing any that is a symbolic link or not a folder."""
    cur = rout
    for part in path.relative_to(rout).parts[:-1]:
        cur = cur / part
        try:
            os.mkdir(cur)
        except FileExistsError:
            pass
        except OSError as e:
            raise OutputError(f"cannot create the folder {cur}: {e.strerror or e}") from e
        if cur.is_symlink() or not cur.is_dir():
            raise OutputError("an output folder is a symbolic link or not a folder; refusing to write there")
    if path.is_symlink():
        raise OutputError("an output file is a symbolic link; refusing to write through it")


def remove_stale_temporaries(rout: Path) -> int:
    """Remove temporary files an interrupted or killed run left in OUT_DIR; returns how many."""
    n = 0
    for dirpath, _dirs, files in os.walk(rout, followlinks=False):
        for name in files:
            if name.startswith(".") and _TMP_TAG in name:
                try:
                    os.unlink(os.path.join(dirpath, name))
                    n += 1
                except OSError as e:
                    log.warning("could not remove a stale temporary file: %s", e.strerror or e)
    return n


# -- the worker side ---------------------------------------------------------------------------------------------
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
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:
        cpus = list(range(os.cpu_count() or 1))
    workers = max(1, workers)
    per = max(1, min(len(cpus), threads if threads else len(cpus) // workers))
    return per, [[cpus[(i * per + j) % len(cpus)] for j in range(per)] for i in range(workers)]


def _detector_stack(scan_options: Any) -> list[Any]:
    """The default detector stack (``pipeline.default_stack``, the very stack ``redact run`` builds), built once
    per worker and settings (loading models per clip would cost more than a small clip's analysis; ``scan``
    resets a stack before every clip)."""
    from .pipeline import default_stack

    key = repr(sorted(scan_options.to_dict().items()))
    cache = _WORKER.setdefault("stacks", {})
    if key not in cache:
        cache.clear()
        cache[key] = default_stack(scan_options)
    return list(cache[key])


def process_item(task: Task) -> dict[str, Any]:
    """Clean one file (runs in a worker). Returns the part of its manifest record the worker knows; every
    ordinary error becomes a ``failed`` result. Either all of the item's files exist at the end or none."""
    from .io import sha256_file
    from .pipeline import RenderOptions, ScanOptions, render_and_report, scan

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


# -- executors ---------------------------------------------------------------------------------------------------
Worker = Callable[[Task], dict[str, Any]]


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
                res = _failed(t, e)
            on_result(t, res)

    def describe(self) -> dict[str, Any]:
        return {"executor": "inline", "workers": 1}


def _init_worker(threads: int, slots: Any, cpu_sets: list[list[int]]) -> None:
    """Pool initializer: take the next CPU share and limit threads. Signals: Ctrl-C reaches the whole process
    group, but only the driver acts on it (SIGINT ignored here); the driver then sends SIGTERM, which interrupts a
    running item like Ctrl-C would (its files are removed) and keeps the worker from starting another."""
    import signal

    with slots.get_lock():
        slot = slots.value
        slots.value += 1
    limit_threads(threads, cpu_sets[slot % len(cpu_sets)])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm_in_worker)


def _on_sigterm_in_worker(signum: int, frame: Any) -> None:
    _WORKER["stopping"] = True
    if _WORKER.get("busy"):
        raise KeyboardInterrupt()
    # idle (or an item that just finished and whose result is on its way): let the pool end the process


def _call_in_worker(fn: Worker, task: Task) -> dict[str, Any]:
    if _WORKER.get("stopping"):
        raise KeyboardInterrupt()  # queued before the interrupt: do not start it
    _WORKER["busy"] = True
    try:
        return fn(task)
    finally:
        _WORKER["busy"] = False


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
                        res = _failed(t, e)
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
            res = _failed(task, WorkerCrashed("the worker process died while cleaning this file"))
        except Exception as e:
            res = _failed(task, e)
        except BaseException:
            _stop_pool(pool)
            _late_results({fut: task}, on_result)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        on_result(task, res)


def _stop_pool(pool: Any) -> None:
    """Interrupt: cancel what has not started, ask running workers to stop (SIGTERM: a running item removes its
    files, as on Ctrl-C) and wait for them and for the pool to deliver what finished meanwhile."""
    import signal

    procs = list(getattr(pool, "_processes", {}).values())  # no public API lists a pool's processes
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        try:
            os.kill(p.pid, signal.SIGTERM)
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
        kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        kwargs.update(self.init_kwargs)
        if self.address is not None:
            kwargs["address"] = self.address
        elif self.workers:
            kwargs.setdefault("num_cpus", self.workers * self.threads)
        ray.init(**kwargs)
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
                res = _failed(t, WorkerCrashed(f"the Ray task failed ({type(e).__name__})"))
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


def _ray_call(fn: Worker, task: Task) -> dict[str, Any]:
    """A Ray task: limit threads once per Ray worker process, then clean the item."""
    if _WORKER.get("threads") is None:
        per, cpus = task.threads, None
        try:
            allowed = sorted(os.sched_getaffinity(0))
            if per < len(allowed):  # pin to a share chosen by pid: bounded threads even without coordination
                start = (os.getpid() * per) % len(allowed)
                cpus = [allowed[(start + i) % len(allowed)] for i in range(per)]
        except AttributeError:
            pass
        limit_threads(per, cpus)
    return fn(task)


# -- the driver --------------------------------------------------------------------------------------------------
@dataclass
class BatchSummary:
    done: list[str] = field(default_factory=list)  # processed now
    failed: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (input, error) now or earlier
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (input, reason)
    resumed: list[str] = field(default_factory=list)  # finished earlier, not redone
    failed_earlier: int = 0  # of ``failed``: recorded by an earlier run, not retried
    ignored: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


Progress = Callable[[str, str, dict[str, Any]], None]
"""progress(input_rel, status, record) after each item is recorded."""


def _file_entry(out_root: Path, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    path, digest, size = value
    return {"path": Path(path).relative_to(out_root).as_posix(), "sha256": digest, "size": size}


def _outputs_present(rec: dict[str, Any], rout: Path) -> bool:
    for key in FILE_KEYS:
        entry = rec.get(key)
        if entry is None:
            continue
        p = rout / entry["path"]
        try:
            if p.is_symlink() or p.stat().st_size != entry.get("size"):
                return False
        except OSError:
            return False
    return rec.get("output") is not None


def run_batch(in_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], settings: BatchSettings,
              executor: Executor | None = None, *, retry_failed: bool = False, progress: Progress | None = None,
              worker: Worker = process_item) -> BatchSummary:
    """Clean every media file under ``in_dir`` into ``out_dir`` (see the module docstring for the rules)."""
    t0 = time.perf_counter()
    in_path, out_path = Path(in_dir), Path(out_dir)
    check_folders(in_path, out_path)
    try:
        out_path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the output folder {out_path}: {e.strerror or e}") from e
    rin, rout = check_folders(in_path, out_path)
    with _folder_lock(rout):
        return _run_batch(rin, rout, settings, executor or LocalExecutor(1), retry_failed, progress, worker, t0)


@contextlib.contextmanager
def _folder_lock(rout: Path) -> Iterator[None]:
    """One batch at a time per OUT_DIR (a second one would remove the first's temporary files as stale)."""
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
            raise RedactError(f"another batch is writing to {rout}; wait for it to finish") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _run_batch(rin: Path, rout: Path, settings: BatchSettings, executor: Executor, retry_failed: bool,
               progress: Progress | None, worker: Worker, t0: float) -> BatchSummary:
    from .io import sha256_file

    manifest = Manifest(rout)
    previous = manifest.latest()
    stale = remove_stale_temporaries(rout)
    if stale:
        log.info("removed %d temporary file(s) left by an interrupted run", stale)
    found = walk(rin, rout)
    assign_outputs(found.items, rout, html=settings.html)
    summary = BatchSummary(ignored=found.ignored)
    key = settings.key
    run_id = uuid.uuid4().hex[:12]
    common = {"record": "item", "manifest_version": 1, "run_id": run_id, "settings": settings.to_dict(),
              "settings_key": key, "tool": {"name": "redact", "version": __version__},
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
        if prev is not None and prev.get("settings_key") == key and prev["status"] in ("done", "failed"):
            try:
                digest = sha256_file(item.source)
            except OSError as e:
                record({"status": "failed", "input": {"path": item.rel}, "error": safe_error(e)})
                continue
            same = prev["input"].get("sha256") in (digest, None if prev["status"] == "failed" else digest)
            if same and prev["status"] == "done" and _outputs_present(prev, rout):
                summary.resumed.append(item.rel)
                continue
            if same and prev["status"] == "failed" and not retry_failed:
                summary.failed.append((item.rel, prev["error"]))
                summary.failed_earlier += 1
                continue
        assert item.output and item.plan and item.report_json
        tasks.append(Task(item.rel, str(item.source), str(item.output), str(item.plan), str(item.report_json),
                          str(item.report_html) if item.report_html else None,
                          {"scan": settings.scan, "render": settings.render}, str(rin), str(rout)))

    def on_result(task: Task, res: dict[str, Any]) -> None:
        files = res.pop("files", None) or {}
        rec = dict(res)
        for k in FILE_KEYS:
            rec[k] = _file_entry(rout, files.get(k))
        try:
            with signals_deferred():  # an interrupt waits until the line is written and counted
                record(rec)
        except BaseException:  # no manifest line (a full disk, a signal in another thread): no cleaned copy either
            if rec.get("status") == "done":
                _remove(Path(p) for p in (task.output, task.plan, task.report_json, task.report_html) if p)
            raise

    executor.run(worker, tasks, on_result)
    summary.seconds = time.perf_counter() - t0
    return summary


def settings_from(scan_options: Any, render_options: Any, html: bool = True) -> BatchSettings:
    return BatchSettings(asdict(scan_options), asdict(render_options), html)
