"""`redact batch` and `redact verify`: a folder in, a mirrored folder of cleaned copies out, a manifest that
verify confirms, resume without redoing, one bad file never stopping the rest, and no path out of OUT_DIR."""

from __future__ import annotations

import json
import re
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from redact.batch import (BatchSettings, InlineExecutor, LocalExecutor, assign_outputs, process_item, run_batch,
                          walk)
from redact.cli import cli
from redact.cli.common import _Terminated
from redact.errors import RedactError
from redact.manifest import MANIFEST_NAME, Manifest, read_records, safe_error, verify
from redact.pipeline import RenderOptions, ScanOptions

from .media import make_image, make_video

FAST = ["--text", "off", "--preset", "ultrafast", "--no-html"]


def settings() -> BatchSettings:
    return BatchSettings(ScanOptions(text="off").to_dict(), RenderOptions(preset="ultrafast").to_dict(), html=False)


def tiny(path: Path, frames: int = 5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_video(path, width=64, height=48, frames=frames, fps=10)


def corrupt(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(3000))
    return path


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of every file under ``folder`` (links not followed)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            out[p.relative_to(folder).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


def records(out: Path) -> list[dict]:
    return read_records(out / MANIFEST_NAME)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def folder(tmp_path, face_scene):
    src = tmp_path / "in"
    (src / "ward 7").mkdir(parents=True)
    make_video(src / "ward 7" / "face.mp4", width=320, height=240, frames=3, fps=10, draw=face_scene)
    tiny(src / "plain.mp4")
    tiny(src / "ward 7" / "bed" / "other.mov")
    make_image(src / "photo.png", width=64, height=48)
    corrupt(src / "ward 7" / "broken.mp4")
    (src / "notes.txt").write_text("not media\n")
    return src


def test_batch_cleans_good_files_records_the_bad_one_verifies_and_resumes(folder, tmp_path):
    out = tmp_path / "out"
    before_inputs = snapshot(folder)
    r = invoke("batch", folder, "-o", out, "-j", "2", *FAST)
    assert r.exit_code == 1, r.output  # one file failed
    assert re.search(r"failed  ward 7/broken\.mp4 \[[1-5]/5\]: InputError", r.output), r.output
    assert "batch: 5 item(s) to clean" in r.output  # said before the first item is cleaned
    assert sorted(re.findall(r"\[([1-5])/5\]", r.output)) == ["1", "2", "3", "4", "5"]  # each item counted once

    recs = {rec["input"]["path"]: rec for rec in records(out)}
    assert set(recs) == {"plain.mp4", "photo.png", "ward 7/face.mp4", "ward 7/bed/other.mov", "ward 7/broken.mp4"}
    assert recs["ward 7/broken.mp4"]["status"] == "failed"
    assert recs["ward 7/broken.mp4"]["output"] is None
    assert all(recs[k]["status"] == "done" for k in recs if k != "ward 7/broken.mp4")
    # the tree is mirrored, the bad file left nothing
    files = set(snapshot(out))
    assert {"plain.clean.mp4", "photo.clean.png", "ward 7/face.clean.mp4", "ward 7/bed/other.clean.mp4",
            "ward 7/face.clean.report.json", "ward 7/face.clean.plan.json"} <= files
    assert not [f for f in files if "broken" in f]
    assert not [f for f in files if ".redact-tmp-" in f]
    # the face clip was actually redacted, and the manifest says so without any text
    face = recs["ward 7/face.mp4"]
    assert face["summary"]["tracks_by_kind"].get("face", 0) >= 1
    assert face["output"]["path"] == "ward 7/face.clean.mp4" and len(face["output"]["sha256"]) == 64
    assert face["settings"]["scan"]["text"] == "off" and face["tool"]["name"] == "redact"
    assert face["models"] and face["timings"]["total_s"] > 0
    assert snapshot(folder) == before_inputs  # originals untouched

    r = invoke("verify", out)
    assert r.exit_code == 0, r.output

    # a re-run redoes nothing: no new manifest line, no output rewritten; still exit 1 (the folder has a failure)
    after_first = snapshot(out)
    r = invoke("batch", folder, "-o", out, "-j", "2", *FAST)
    assert r.exit_code == 1
    assert "0 cleaned, 4 already done, 1 failed" in r.output
    assert "batch: 0 item(s) to clean, 4 already done" in r.output
    assert snapshot(out) == after_first
    # which item has no cleaned copy is still said, and which file was not looked at
    assert "failed  ward 7/broken.mp4 (in an earlier run): InputError" in r.output
    assert "ignored notes.txt: not a video or photo" in r.output

    # --retry-failed tries the bad one again (and only it)
    r = invoke("batch", folder, "-o", out, "--retry-failed", *FAST)
    assert r.exit_code == 1
    new = records(out)[len(recs):]
    assert [rec["input"]["path"] for rec in new] == ["ward 7/broken.mp4"]

    # once the bad file is gone and replaced by a good one, the folder is clean: exit 0
    corrupt_path = folder / "ward 7" / "broken.mp4"
    corrupt_path.unlink()
    tiny(corrupt_path)
    r = invoke("-q", "batch", folder, "-o", out, *FAST)
    assert r.exit_code == 0, r.output
    assert (out / "ward 7" / "broken.clean.mp4").is_file()
    assert invoke("verify", out).exit_code == 0


def test_verify_lists_mismatches_and_missing_files(folder, tmp_path):
    out = tmp_path / "out"
    (folder / "ward 7" / "broken.mp4").unlink()
    run_batch(folder, out, settings(), InlineExecutor())
    assert verify(out).ok
    (out / "plain.clean.mp4").write_bytes(b"tampered")
    (out / "photo.clean.report.json").unlink()
    r = invoke("verify", out)
    assert r.exit_code == 1
    assert "sha256 mismatch: plain.clean.mp4" in r.output
    assert "missing: photo.clean.report.json" in r.output
    (out / "stray.mp4").write_bytes(b"x")
    assert verify(out).unrecorded == ["stray.mp4"]
    # a tampered manifest cannot make verify read outside OUT_DIR
    rec = records(out)[0]
    rec["input"]["path"] = "zzz.mp4"
    rec["output"]["path"] = "../in/plain.mp4"
    Manifest(out).append(rec)
    assert any("not inside" in what for _p, what in verify(out).problems)
    assert invoke("verify", tmp_path / "nowhere").exit_code == 1


def test_changed_settings_or_input_redo_only_what_changed(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    tiny(src / "a.mp4")
    tiny(src / "b.mp4")
    s = run_batch(src, out, settings(), InlineExecutor())
    assert sorted(s.done) == ["a.mp4", "b.mp4"]
    tiny(src / "b.mp4", frames=6)  # new bytes
    s = run_batch(src, out, settings(), InlineExecutor())
    assert s.done == ["b.mp4"] and s.resumed == ["a.mp4"]
    other = settings()
    other.render["style"] = "fill"
    s = run_batch(src, out, other, InlineExecutor())
    assert sorted(s.done) == ["a.mp4", "b.mp4"]
    # an output deleted by hand is made again
    (out / "a.clean.mp4").unlink()
    s = run_batch(src, out, other, InlineExecutor())
    assert s.done == ["a.mp4"]
    assert verify(out).ok
    # a file that is now broken fails, and its earlier cleaned copy (of other bytes) does not stay behind
    corrupt(src / "b.mp4")
    s = run_batch(src, out, other, InlineExecutor())
    assert [rel for rel, _e in s.failed] == ["b.mp4"] and s.resumed == ["a.mp4"]
    assert not [p for p in snapshot(out) if p.startswith("b.")]
    res = verify(out)
    assert res.ok and res.failed_items == ["b.mp4"] and res.unrecorded == []


def test_interrupted_item_leaves_no_output_and_is_done_on_the_next_run(tmp_path, monkeypatch):
    import redact.pipeline as pipeline

    src, out = tmp_path / "in", tmp_path / "out"
    tiny(src / "a.mp4")
    tiny(src / "b.mp4")
    real = pipeline._build_report

    def interrupt_on_b(plan, r, **kw):
        if Path(r.output).name.startswith("b"):
            raise KeyboardInterrupt()  # after b's cleaned copy was written
        return real(plan, r, **kw)

    monkeypatch.setattr(pipeline, "_build_report", interrupt_on_b)
    with pytest.raises(KeyboardInterrupt):
        run_batch(src, out, settings(), InlineExecutor())
    assert [r["input"]["path"] for r in records(out)] == ["a.mp4"]
    assert not [p for p in snapshot(out) if p.startswith("b") or ".redact-tmp-" in p]
    # a temporary file a killed run left behind is removed by the next run
    (out / ".b.clean.redact-tmp-0123456789ab.mp4").write_bytes(b"partial")
    monkeypatch.setattr(pipeline, "_build_report", real)
    s = run_batch(src, out, settings(), InlineExecutor())
    assert s.done == ["b.mp4"] and s.resumed == ["a.mp4"]
    assert not [p for p in snapshot(out) if ".redact-tmp-" in p]


def test_folders_that_overlap_are_refused_or_left_out(tmp_path):
    src = tmp_path / "in"
    tiny(src / "a.mp4")
    for bad in (src, src / ".", tmp_path):  # the same folder, or IN_DIR inside OUT_DIR
        r = CliRunner().invoke(cli, ["batch", str(src), "-o", str(bad), *FAST])
        assert r.exit_code == 1 and "folder" in r.output, r.output
    assert sorted(p.name for p in src.iterdir()) == ["a.mp4"]
    # OUT_DIR inside IN_DIR: left out of the walk, so a re-run does not clean the cleaned copies
    inner = src / "cleaned"
    s = run_batch(src, inner, settings(), InlineExecutor())
    assert s.done == ["a.mp4"]
    s = run_batch(src, inner, settings(), InlineExecutor())
    assert s.done == [] and s.resumed == ["a.mp4"]
    assert [r["input"]["path"] for r in records(inner)] == ["a.mp4"]


def test_symlinks_and_odd_names_never_lead_out_of_the_folders(tmp_path):
    src, out, elsewhere = tmp_path / "in", tmp_path / "out", tmp_path / "elsewhere"
    tiny(elsewhere / "secret.mp4")
    tiny(src / "real.mp4")
    tiny(src / "-- odd name\u00e9 .mp4")
    tiny(src / "..mp4")
    (src / "linkdir").symlink_to(elsewhere, target_is_directory=True)  # a symlinked folder: not followed
    (src / "outside.mp4").symlink_to(elsewhere / "secret.mp4")  # a symlinked file out of IN_DIR: skipped
    (src / "inside.mp4").symlink_to(src / "real.mp4")  # a symlinked file within IN_DIR: cleaned
    os.mkfifo(src / "pipe.mp4")  # not a regular file: skipped (reading it would block)
    s = run_batch(src, out, settings(), InlineExecutor())
    assert sorted(s.done) == ["-- odd name\u00e9 .mp4", "..mp4", "inside.mp4", "real.mp4"]
    assert dict(s.skipped) == {"outside.mp4": "symlink_outside_input", "pipe.mp4": "not_a_regular_file"}
    assert s.ok
    made = snapshot(out)
    assert "-- odd name\u00e9 .clean.mp4" in made and "..clean.mp4" in made
    assert not [p for p in made if "secret" in p or p.startswith("linkdir")]
    assert sorted(p.name for p in elsewhere.iterdir()) == ["secret.mp4"]
    for p in out.rglob("*"):
        assert p.resolve().is_relative_to(out.resolve())
    # skipped items are recorded once, not again on a re-run
    n = len(records(out))
    s = run_batch(src, out, settings(), InlineExecutor())
    assert len(records(out)) == n and s.done == []


def test_an_output_folder_that_is_a_symlink_is_not_written_through(tmp_path):
    src, out, elsewhere = tmp_path / "in", tmp_path / "out", tmp_path / "elsewhere"
    tiny(src / "sub" / "a.mp4")
    elsewhere.mkdir()
    out.mkdir()
    (out / "sub").symlink_to(elsewhere, target_is_directory=True)
    s = run_batch(src, out, settings(), InlineExecutor())
    assert s.failed == [("sub/a.mp4", {"type": "OutputError", "message": "output_through_symlink"})]
    assert list(elsewhere.iterdir()) == []
    # OUT_DIR itself may be a link (e.g. to another disk): it is resolved once, and the rules hold inside it
    link_out = tmp_path / "link-out"
    link_out.symlink_to(out, target_is_directory=True)
    tiny(src / "b.mp4")
    s = run_batch(src, link_out, settings(), InlineExecutor())
    assert s.done == ["b.mp4"] and [rel for rel, _e in s.failed] == ["sub/a.mp4"]
    assert (out / "b.clean.mp4").is_file() and (out / MANIFEST_NAME).is_file()
    assert list(elsewhere.iterdir()) == []


def test_colliding_output_names_get_distinct_files(tmp_path):
    src = tmp_path / "in"
    for name in ("clip.mp4", "clip.MOV", "shot.png", "shot.mp4"):
        tiny(src / name) if not name.endswith(".png") else make_image(src / name, width=64, height=48)
    items = walk(src, tmp_path / "out").items
    assign_outputs(items, (tmp_path / "out").resolve(), html=True)
    names = [p.name for it in items for p in (it.output, it.plan, it.report_json, it.report_html)]
    assert len(names) == len({n.casefold() for n in names}) == 16
    assert {it.rel: it.output.name for it in items} == {
        "clip.MOV": "clip.clean.mp4", "clip.mp4": "clip.mp4.clean.mp4",
        "shot.mp4": "shot.clean.mp4", "shot.png": "shot.png.clean.png"}  # first in sorted order wins


def test_manifest_lines_are_whole_and_a_torn_line_is_ignored(tmp_path):
    m = Manifest(tmp_path)
    rec = {"record": "item", "status": "done", "input": {"path": "a.mp4"}, "n": 1}
    m.append(rec)
    m.append(dict(rec, n=2))
    data = m.path.read_bytes()
    assert data.count(b"\n") == 2 and data.endswith(b"\n")
    with open(m.path, "ab") as f:
        f.write(b'{"record": "item", "status": "do')  # a crash mid-line
    assert [r["n"] for r in m.read()] == [1, 2]
    assert m.latest()["a.mp4"]["n"] == 2


def test_error_messages_cannot_carry_text_from_the_media():
    class Weird(Exception):
        pass

    assert safe_error(Weird("NHS 943 476 5919 John Example"))["message"].startswith("unexpected error")
    assert safe_error(Weird("x"))["type"] == "Weird"
    e = safe_error(RedactError("input is not a recognised video: /data/in/a.mp4\nsecond line"),
                   [("/data/in/", "")])
    assert e == {"type": "RedactError", "message": "input is not a recognised video: a.mp4"}
    assert len(safe_error(RedactError("x" * 1000))["message"]) == 200


def _crash_on_name(task):
    """A worker that kills its process for inputs named crash*, and pretends to clean the others."""
    if Path(task.rel).name.startswith("crash"):
        os._exit(1)
    return {"status": "done", "input": {"path": task.rel, "sha256": "0" * 64, "size": 0}, "kind": "video",
            "files": {}, "models": [], "summary": {}, "timings": {},
            "cpus": sorted(os.sched_getaffinity(0)), "omp": os.environ.get("OMP_NUM_THREADS"),
            "threads": task.threads}


def test_a_worker_that_dies_fails_only_its_own_item(tmp_path):
    from redact.batch import Task

    tasks = [Task(f"{name}.mp4", str(tmp_path / name), "", "", "", None, {}) for name in ("a", "crash", "b", "c")]
    got: dict[str, dict] = {}
    LocalExecutor(2).run(_crash_on_name, tasks, lambda t, r: got.__setitem__(t.rel, r))
    assert sorted(got) == ["a.mp4", "b.mp4", "c.mp4", "crash.mp4"]
    assert got["crash.mp4"]["status"] == "failed" and got["crash.mp4"]["error"]["type"] == "WorkerCrashed"
    assert all(got[k]["status"] == "done" for k in ("a.mp4", "b.mp4", "c.mp4"))
    # each worker kept to its share of the CPUs: pinned to as many CPUs as it runs threads, within the machine's
    ex = LocalExecutor(2)
    allowed = set(os.sched_getaffinity(0))
    for k in ("a.mp4", "b.mp4", "c.mp4"):
        assert len(got[k]["cpus"]) == got[k]["threads"] == ex.threads == max(1, len(allowed) // 2)
        assert set(got[k]["cpus"]) <= allowed and got[k]["omp"] == str(ex.threads)


def _pid(_task):
    return os.getpid()


def test_an_idle_worker_ends_on_sigterm():
    """Since Python 3.12 a broken pool SIGTERMs its workers and joins them: an idle worker that ignored SIGTERM
    hung the batch (and test_a_worker_that_dies_fails_only_its_own_item) there. Checked on any version here."""
    import signal
    import time
    from multiprocessing.connection import wait

    from redact.batch.executors import _call_in_worker

    pool = LocalExecutor(1)._pool(1)
    try:
        pid = pool.submit(_call_in_worker, _pid, None).result(timeout=60)
        proc = next(iter(pool._processes.values()))
        assert proc.pid == pid
        time.sleep(0.2)  # back in the pool's loop, waiting for the next task
        os.kill(pid, signal.SIGTERM)
        # the sentinel, not proc.join(): the pool's own thread sees the worker end and may reap it first, and a join
        # that loses that race returns with exitcode None (a CI run failed so, the worker gone in 0.3 s)
        assert wait([proc.sentinel], timeout=20), "an idle worker ignored SIGTERM"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def test_ray_executor_same_semantics(tmp_path):
    pytest.importorskip("ray")
    from redact.batch import RayExecutor

    src, out = tmp_path / "in", tmp_path / "out"
    tiny(src / "a.mp4")
    tiny(src / "sub" / "b.mp4")
    corrupt(src / "bad.mp4")
    ex = RayExecutor(workers=2, threads=1, init_kwargs={"num_cpus": 2})
    try:
        s = run_batch(src, out, settings(), ex)
        assert sorted(s.done) == ["a.mp4", "sub/b.mp4"] and [f for f, _e in s.failed] == ["bad.mp4"]
        recs = records(out)
        assert {r["executor"]["executor"] for r in recs} == {"ray"}
        assert verify(out).ok
        before = snapshot(out)
        s = run_batch(src, out, settings(), ex)
        assert s.done == [] and sorted(s.resumed) == ["a.mp4", "sub/b.mp4"] and s.failed_earlier == 1
        assert snapshot(out) == before
    finally:
        ex.close()


def test_process_item_reports_json_safe_results(tmp_path):
    from redact.batch import Task

    tiny(tmp_path / "in" / "a.mp4")
    (tmp_path / "out").mkdir()
    t = Task("a.mp4", str(tmp_path / "in" / "a.mp4"), str(tmp_path / "out" / "a.clean.mp4"),
             str(tmp_path / "out" / "a.clean.plan.json"), str(tmp_path / "out" / "a.clean.report.json"), None,
             {"scan": settings().scan, "render": settings().render}, str(tmp_path / "in"), str(tmp_path / "out"))
    res = process_item(t)
    assert res["status"] == "done"
    json.dumps(res)  # plain data, as it crosses process boundaries and lands in the manifest
    # the batch analyses with the same detectors as a plain scan (its cached stack loses none)
    from redact.pipeline import load_plan, scan

    batch_plan = load_plan(t.plan)
    alone = scan(t.source, ScanOptions(**t.settings["scan"])).plan
    assert batch_plan.settings["models"] == alone.settings["models"]
    assert batch_plan.input.sha256 == alone.input.sha256 == res["input"]["sha256"]
    # the manifest names the version that cleaned the item (on a Ray cluster, another machine's) and tells the
    # face passes apart: the same weights run twice at other sizes, thresholds and strides
    from redact import __version__

    assert res["tool"] == {"name": "redact", "version": __version__}
    faces = [(m["max_side"], m["threshold"], m["every"]) for m in res["models"] if m["name"] == "centerface"]
    assert len(faces) == len(set(faces)) >= 2


@pytest.mark.slow
def test_sigterm_stops_the_batch_leaving_only_finished_items_and_a_rerun_completes(tmp_path):
    import signal
    import subprocess
    import sys

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(6):
        make_video(src / f"c{i}.mp4", width=160, height=120, frames=24, fps=10)
    cmd = [sys.executable, "-c", "from redact.cli import main; main()", "batch", str(src), "-o", str(out), "-j", "2",
           *FAST]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if line.startswith("done"):
                proc.send_signal(signal.SIGTERM)
                break
        rest = proc.stderr.read()
        rc = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 143, rest
    recs = records(out)
    assert 1 <= len(recs) < 6 and all(r["status"] == "done" for r in recs)
    made = set(snapshot(out))
    assert not [p for p in made if ".redact-tmp-" in p]
    # every cleaned copy on disk belongs to a recorded item: the interrupted ones left nothing
    assert {p for p in made if p.endswith(".clean.mp4")} == {r["output"]["path"] for r in recs}
    assert verify(out).ok

    r = invoke("batch", src, "-o", out, "-j", "2", *FAST)
    assert r.exit_code == 0, r.output
    assert f"{6 - len(recs)} cleaned, {len(recs)} already done, 0 failed" in r.output
    assert verify(out).ok


class _FakeRef:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args


class _FakeRay:
    """Just enough of Ray's API for RayExecutor, run in this process: tasks run when their result is fetched;
    a task named crash* behaves like a Ray worker that died."""

    class exceptions:  # noqa: N801  (mirrors ray.exceptions)
        class RayError(Exception):
            pass

    def __init__(self):
        self.inited = None
        self.cancelled = []

    def is_initialized(self):
        return self.inited is not None

    def init(self, **kwargs):
        self.inited = kwargs

    def shutdown(self):
        self.inited = None

    def cluster_resources(self):
        return {"CPU": 2.0}

    def remote(self, **options):
        ray = self

        def wrap(fn):
            class Remote:
                @staticmethod
                def remote(*args):
                    return _FakeRef(fn, args)
            ray.options = options
            return Remote

        return wrap

    def wait(self, refs, num_returns=1, timeout=None):
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref):
        fn, args = ref.fn, ref.args
        if Path(args[1].rel).name.startswith("crash"):
            raise self.exceptions.RayError("worker died")
        return fn(*args)

    def cancel(self, ref, force=False):
        self.cancelled.append(ref)


def test_ray_executor_logic_with_a_fake_ray(tmp_path, monkeypatch):
    """Runs where Ray is not installed too: the driver records every result, a dead task fails only itself, a
    local Ray is started with the CPUs asked for, and the thread limit travels with each task."""
    import sys

    from redact.batch import RayExecutor

    import redact.batch.worker

    fake = _FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    # tasks run in this process here: keep _ray_call from pinning the test process to one CPU
    monkeypatch.setitem(redact.batch.worker.WORKER_STATE, "threads", 1)
    src, out = tmp_path / "in", tmp_path / "out"
    tiny(src / "a.mp4")
    tiny(src / "crash.mp4")
    corrupt(src / "bad.mp4")
    ex = RayExecutor(workers=2, threads=1)
    s = run_batch(src, out, settings(), ex)
    # a Ray of its own ("local"), even on a machine where a cluster runs (ray.init() would join that one)
    assert fake.inited["num_cpus"] == 2 and fake.inited["address"] == "local" and fake.options["num_cpus"] == 1
    assert s.done == ["a.mp4"]
    assert {rel: e["type"] for rel, e in s.failed} == {"bad.mp4": "InputError", "crash.mp4": "WorkerCrashed"}
    assert verify(out).ok and {r["executor"]["executor"] for r in records(out)} == {"ray"}
    ex.close()
    assert not fake.is_initialized()
    RayExecutor(address="ray://head:10001")._start()
    assert fake.inited["address"] == "ray://head:10001"
    fake.shutdown()

    def refuse(**kwargs):
        raise ValueError("Ray Client requires pip package `ray[client]`")

    monkeypatch.setattr(fake, "init", refuse)
    with pytest.raises(RedactError, match=r"Ray cluster at ray://head:10001 \(ValueError\): .*ray\[client\]"):
        RayExecutor(address="ray://head:10001")._start()
    with pytest.raises(RedactError, match=r"could not start a local Ray \(ValueError"):
        RayExecutor(workers=2)._start()


def test_one_batch_at_a_time_per_output_folder(tmp_path):
    from redact.batch.driver import folder_lock

    src, out = tmp_path / "in", tmp_path / "out"
    tiny(src / "a.mp4")
    out.mkdir()
    with folder_lock(out.resolve()):  # as if another batch were running
        with pytest.raises(RedactError, match="another batch"):
            run_batch(src, out, settings(), InlineExecutor())
    assert run_batch(src, out, settings(), InlineExecutor()).done == ["a.mp4"]


@pytest.mark.parametrize("stop,code,word", [(KeyboardInterrupt, 130, "interrupted"), (_Terminated, 143, "terminated")])
def test_an_interrupted_batch_says_its_finished_items_stay(tmp_path, monkeypatch, stop, code, word):
    # Ctrl-C or SIGTERM in a batch: the items cleaned so far stay (recorded, whole); the message must not say
    # "no output was left behind" (a run's message) after the batch's own line, as it did
    import redact.batch

    src = tmp_path / "in"
    tiny(src / "a.mp4")

    def stopped(*_a, **_kw):
        raise stop()

    monkeypatch.setattr(redact.batch, "run_batch", stopped)
    r = CliRunner().invoke(cli, ["batch", str(src), "-o", str(tmp_path / "out")])
    assert r.exit_code == code
    assert r.stderr.strip().splitlines() == [f"redact: {word}; finished items are recorded, re-run to resume"]


@pytest.mark.parametrize("how, named", [("relative", "Ward 7 - Smith/a.mp4"), ("name", "a.mp4"), ("none", "")])
def test_report_path_says_how_plans_and_reports_name_an_item(tmp_path, how, named):
    # folder names often hold patients' names: --report-path name/none keeps them out of what goes with the copy
    src, out = tmp_path / "in", tmp_path / "out"
    tiny(src / "Ward 7 - Smith" / "a.mp4")
    r = invoke("batch", src, "-o", out, *FAST, "--report-path", how)
    assert r.exit_code == 0, r.output
    plan = json.loads((out / "Ward 7 - Smith" / "a.clean.plan.json").read_text())
    report = (out / "Ward 7 - Smith" / "a.clean.report.json").read_text()
    assert plan["input"]["path"] == named
    assert ("Smith" in report) == (how == "relative")
    # the manifest, the batch's own record, keeps the path under IN_DIR whatever the reports say
    assert [rec["input"]["path"] for rec in records(out)] == ["Ward 7 - Smith/a.mp4"]
    assert verify(out).ok
    if how != "relative":  # another choice is another setting: the item is redone, not resumed
        again = invoke("batch", src, "-o", out, *FAST)
        assert "1 cleaned, 0 already done" in again.output


def test_a_damaged_input_cleaned_in_part_says_so_when_done(tmp_path):
    """Only the frames before the damage are cleaned (as `run` does): the line saying it is done says it has a
    warning, and the manifest counts it."""
    from .test_faults import damaged_mov

    src = tmp_path / "in"
    src.mkdir()
    damaged_mov(src / "damaged.mov")
    r = invoke("batch", src, "-o", tmp_path / "out", "--speech", "off", *FAST)
    assert r.exit_code == 0, r.output
    assert "done    damaged.mov [1/1] (1 warning(s): see its report)" in r.output
    rec = records(tmp_path / "out")[0]
    assert rec["warnings"] == 1 and rec["summary"]["truncated"] is True and 5 <= rec["summary"]["frames"] < 12


def _slow_then_write(task):
    """A stand-in for a long item: says which process runs it, then writes its output unless interrupted."""
    import time

    Path(task.plan).write_text(str(os.getpid()))
    for _ in range(1200):
        time.sleep(0.1)
    Path(task.output).write_text("written by an orphan")
    return {"status": "done"}


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in state  # ended, not yet reaped by whoever adopted it


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_worker_ends_when_its_driver_is_killed_outright(tmp_path):
    """SIGKILL (or the out-of-memory killer) gives the driver no chance to stop its workers: they went on with
    their items, writing cleaned copies no manifest records while another batch could take the folder's lock."""
    import signal
    import subprocess
    import sys
    import time

    from .conftest import ROOT

    out, pid_file = tmp_path / "a.clean.mp4", tmp_path / "pid"
    script = ("from redact.batch import LocalExecutor, Task; from tests.test_batch import _slow_then_write; "
              f"LocalExecutor(1).run(_slow_then_write, [Task('a.mp4', '', {str(out)!r}, {str(pid_file)!r}, '', "
              "None, {})], lambda t, r: None)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    driver = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env)
    try:
        for _ in range(1200):  # bounds on waiting, never timing assertions
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.1)
        worker = int(pid_file.read_text())
    finally:
        driver.kill()
        driver.wait()
    for _ in range(600):
        if _gone(worker):
            break
        time.sleep(0.1)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its driver")
    assert not out.exists()


def test_each_run_that_cleans_leaves_a_start_and_an_end_line_naming_no_file(tmp_path, caplog):
    import json

    src, out = tmp_path / "in", tmp_path / "Ward 7 - Smith"
    tiny(src / "Mrs Jones" / "a.mp4")
    tiny(src / "b.mp4")
    s = run_batch(src, out, settings(), InlineExecutor())
    assert sorted(s.done) == ["Mrs Jones/a.mp4", "b.mp4"]
    lines = [json.loads(x) for x in (out / MANIFEST_NAME).read_text().splitlines()]
    runs = [x for x in lines if x["record"] == "run"]
    assert [r["event"] for r in runs] == ["start", "end"] and lines[0]["event"] == "start"
    assert lines[-1]["event"] == "end" and not lines[-1]["interrupted"]
    assert runs[0]["items"] == 2 and runs[1]["cleaned"] == 2 and runs[1]["failed"] == 0
    assert runs[0]["host"] and runs[0]["run_id"] == runs[1]["run_id"] == lines[1]["run_id"]
    assert "Jones" not in json.dumps(runs) and "Smith" not in json.dumps(runs) and ".mp4" not in json.dumps(runs)
    with caplog.at_level("WARNING"):
        assert len(records(out)) == 2  # readers of items skip run lines, without a word
    assert "not a valid record" not in caplog.text and verify(out).ok
    # a re-run with nothing to clean writes nothing; an interrupted run says it was
    before = (out / MANIFEST_NAME).read_bytes()
    run_batch(src, out, settings(), InlineExecutor())
    assert (out / MANIFEST_NAME).read_bytes() == before
    tiny(src / "c.mp4")

    def interrupted(task, *a, **k):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(src, out, settings(), InlineExecutor(), worker=interrupted)
    last = json.loads((out / MANIFEST_NAME).read_text().splitlines()[-1])
    assert last["record"] == "run" and last["event"] == "end" and last["interrupted"] is True
    assert last["cleaned"] == 0 and "c.mp4" not in {r["input"]["path"] for r in records(out)}  # no item line
