"""`-j N`: one clip scanned and rendered in segments (redact/segments/), against the serial path.

Generated media only. Scan tests use small detectors defined here (picklable, so spawned segment workers get them)
that find the moving white square and the frame-index block of tests.media.pattern; segments are made short by
lowering MIN_SEGMENT_FRAMES in this (the coordinating) process.
"""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from redact import cpus
from redact.detect.schedule import Scheduled
from redact.errors import AnalysisError, PlanMismatchError
from redact.pipeline import RenderOptions, ScanOptions, render, render_and_report, scan
from redact.segments import index as seg_index
from redact.types import Detections
from tests.media import audio_packets, make_video, pattern, video_frame_times

W, H = 160, 120


def bouncing(i: int) -> np.ndarray:
    """tests.media.pattern with its square going back and forth (2 px a frame) instead of wrapping around."""
    img = pattern(i, W, H)
    img[(img == 255).all(axis=2)] = (220, 30, 30)
    img[H // 2 - 8:, :][(img[H // 2 - 8:, :] == 255).all(axis=2)] = (30, 30, 220)
    x = 24 + abs(((2 * i) % 200) - 100)
    img[H // 2 - 7:H // 2 + 7, x:x + 14] = 255
    return img


class SquareFinder:
    """'Faces': the white square of :func:`bouncing` (or tests.media.pattern: it wraps around)."""

    kind = "face"
    name = "square"
    fail_from: int | None = None

    def __init__(self, fail_from: int | None = None) -> None:
        self.fail_from = fail_from
        self.seen = 0

    def detect(self, image: np.ndarray) -> Detections:
        ys, xs = np.nonzero((image > 235).all(axis=2)[:, : W - 20])  # not the index block
        if not len(xs):
            return Detections.empty("face")
        return Detections(np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32),
                          np.array([0.9], np.float32), "face")

    def describe(self) -> dict:
        return {"name": self.name}


class BlockFinder:
    """'Text': the frame-index block, bottom right, read every 10 frames."""

    kind = "text"
    name = "block"

    def detect(self, image: np.ndarray) -> Detections:
        return Detections(np.array([[W - 16, H - 16, W, H]], np.float32), np.array([0.8], np.float32), "text",
                          np.array(["name"], dtype=object))

    def describe(self) -> dict:
        return {"name": self.name}


class Crashes(SquareFinder):
    """Fails on a frame of the second segment (a worker that cannot analyse its frames)."""

    def detect(self, image: np.ndarray) -> Detections:
        if image[:4, :4].max() < 10:  # see darkened()
            raise RuntimeError("detector crashed")
        return super().detect(image)


def darkened(i: int) -> np.ndarray:
    """tests.media.pattern, its top left corner black from frame 250 on (where :class:`Crashes` crashes)."""
    img = pattern(i, W, H)
    if i >= 250:
        img[:8, :8] = 0
    return img


def stack(face_every: int = 4) -> list:
    return [Scheduled(SquareFinder(), every=face_every), Scheduled(BlockFinder(), every=10)]


@pytest.fixture
def short_segments(monkeypatch):
    monkeypatch.setattr(seg_index, "MIN_SEGMENT_FRAMES", 60)


def masks(plan) -> np.ndarray:
    """Per frame, which pixels the plan redacts."""
    m = np.zeros((plan.input.frames, H, W), bool)
    for t in plan.tracks:
        if t.action != "redact":
            continue
        for b in t.boxes:
            x1, y1, x2, y2 = (int(v) for v in b.box)
            m[b.frame, y1:y2, x1:x2] = True
    return m


def test_parallel_scan_plan_equals_serial(tmp_path, short_segments, caplog):
    clip = make_video(tmp_path / "c.mp4", width=W, height=H, frames=240, fps=25, gop=30, draw=bouncing)
    opts = ScanOptions(speech="off")
    serial = scan(clip, opts, detectors=stack()).plan
    with caplog.at_level(logging.INFO, logger="redact.segments"):
        par = scan(clip, opts, detectors=stack(), jobs=3).plan
    assert "scanning in 3 segments" in caplog.text  # the parallel path ran, not the serial fallback
    ids = [t.id for t in par.tracks]
    assert len(ids) == len(set(ids)) and ids == list(range(1, len(ids) + 1))
    ms, mp = masks(serial), masks(par)
    assert not (ms & ~mp).any(), "a frame is less covered in parallel"
    for kind in ("face", "text"):
        frames = [b.frame for t in par.tracks if t.kind == kind for b in t.boxes]
        assert len(frames) == len(set(frames)) == 240, f"{kind}: a gap or a duplicate track"
    # without cuts in an overlap the strided detectors run in step: the very same plan
    assert [t.to_dict() for t in par.tracks] == [t.to_dict() for t in serial.tracks]
    assert par.input.frames == serial.input.frames and par.settings == serial.settings
    assert par.input.extra["timeline"] == serial.input.extra["timeline"]  # the frames' times, stitched


def test_parallel_scan_covers_every_detection_at_the_borders(tmp_path, short_segments):
    """Faces detected every 7 frames (a stride that does not divide the borders): no frame less covered."""
    clip = make_video(tmp_path / "c.mp4", width=W, height=H, frames=200, fps=25, gop=25, vfr=True, draw=bouncing)
    opts = ScanOptions(speech="off")
    serial = scan(clip, opts, detectors=stack(7)).plan
    par = scan(clip, opts, detectors=stack(7), jobs=2).plan
    ms, mp = masks(serial), masks(par)
    assert not (ms & ~mp).any()
    truth = [SquareFinder().detect(bouncing(i)).xyxy[0].astype(int) for i in range(200)]

    def recall(m: np.ndarray) -> set[int]:
        return {f for f, (x1, y1, x2, y2) in enumerate(truth) if m[f, y1:y2, x1:x2].all()}

    assert recall(mp) >= recall(ms) and len(recall(ms)) >= 190  # the same recall (a stride of 7 cuts corners)
    assert len({t.id for t in par.tracks}) == len(par.tracks)


def test_short_clip_scans_serially(tmp_path, caplog):
    clip = make_video(tmp_path / "c.mp4", width=W, height=H, frames=40, fps=25, gop=10)
    with caplog.at_level(logging.INFO, logger="redact.segments"):
        plan = scan(clip, ScanOptions(speech="off"), detectors=stack(), jobs=2).plan
    assert "segments" not in caplog.text and plan.input.frames == 40


def _plan(tmp_path: Path, clip: Path):
    return scan(clip, ScanOptions(speech="off"), detectors=stack()).plan


def test_parallel_render_joins_without_reencoding(tmp_path, short_segments, caplog):
    clip = make_video(tmp_path / "vfr.mp4", width=W, height=H, frames=200, vfr=True, audio=True, gop=20)
    plan = _plan(tmp_path, clip)
    serial = render(clip, plan, tmp_path / "serial.mp4")
    with caplog.at_level(logging.INFO, logger="redact.segments"):
        par = render(clip, plan, tmp_path / "par.mp4", jobs=2)
    assert "rendering in 2 segments" in caplog.text
    assert par.write.frames == serial.write.frames == 200 and par.write.audio == "copied"
    src_times = video_frame_times(clip)
    assert video_frame_times(tmp_path / "par.mp4") == src_times == video_frame_times(tmp_path / "serial.mp4")
    assert audio_packets(tmp_path / "par.mp4") == audio_packets(clip)
    with av.open(str(tmp_path / "par.mp4")) as c, av.open(str(tmp_path / "serial.mp4")) as s:
        got = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        ref = [f.to_ndarray(format="rgb24") for f in s.decode(video=0)]
        assert c.streams.video[0].metadata.get("rotate") is None
    assert len(got) == 200
    diff = [np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(got, ref)]
    assert max(diff) < 3.0  # the same pixels, encoded by another encoder instance from the border on
    assert sorted(p.name for p in tmp_path.iterdir()) == ["par.mp4", "serial.mp4", "vfr.mp4"]  # no segments left


def test_parallel_render_keeps_a_rotated_clip_upright(tmp_path, short_segments):
    clip = make_video(tmp_path / "rot.mp4", width=W, height=H, frames=160, rotation=90, gop=20)
    plan = _plan(tmp_path, clip)
    serial = render(clip, plan, tmp_path / "serial.mp4")
    par = render(clip, plan, tmp_path / "par.mp4", jobs=2)
    assert (par.write.width, par.write.height) == (serial.write.width, serial.write.height) == (H, W)
    assert video_frame_times(tmp_path / "par.mp4") == video_frame_times(tmp_path / "serial.mp4")


def test_failing_segment_render_leaves_nothing(tmp_path, short_segments):
    clip = make_video(tmp_path / "c.mp4", width=W, height=H, frames=160, audio=True, gop=20)
    plan = _plan(tmp_path, clip)
    plan.input.width = W + 2  # every segment refuses its frames
    with pytest.raises(PlanMismatchError):
        render_and_report(clip, plan, tmp_path / "out.mp4", RenderOptions(), jobs=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4"]


def test_failing_segment_scan_fails_the_run(tmp_path, short_segments):
    clip = make_video(tmp_path / "c.mp4", width=W, height=H, frames=300, gop=25, draw=darkened)
    with pytest.raises(AnalysisError, match="frame 250 could not be analysed"):
        scan(clip, ScanOptions(speech="off"), detectors=[Crashes()], jobs=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4"]


def test_clip_jobs_budget(monkeypatch):
    monkeypatch.setattr(cpus, "usable_cpus", lambda: [0, 1, 2])
    monkeypatch.setattr(cpus, "available_memory", lambda: None)
    assert cpus.clip_jobs(None) == 3 and cpus.clip_jobs(2) == 2 and cpus.clip_jobs(8) == 3
    monkeypatch.setattr(cpus, "usable_cpus", lambda: [5])  # a batch worker pinned to one CPU
    assert cpus.clip_jobs(None) == 1 and cpus.clip_jobs(4) == 1
    with pytest.raises(ValueError):
        cpus.clip_jobs(0)
    # by default no more workers than the memory available holds (each needs SEGMENT_WORKER_BYTES)
    monkeypatch.setattr(cpus, "usable_cpus", lambda: list(range(16)))
    monkeypatch.setattr(cpus, "available_memory", lambda: 5 * cpus.SEGMENT_WORKER_BYTES + 1)
    assert cpus.clip_jobs(None) == 5 and cpus.clip_jobs(8) == 8
    monkeypatch.setattr(cpus, "available_memory", lambda: 100)
    assert cpus.clip_jobs(None) == 1


def test_cli_jobs_option(tmp_path, monkeypatch):
    from redact.cli import cli as main

    clip = make_video(tmp_path / "c.mp4", width=W, height=H, frames=12, gop=4)
    r = CliRunner().invoke(main, ["scan", str(clip), "-j", "0"])
    assert r.exit_code == 2 and "-j" in r.output
    seen = {}

    def fake_scan(path, options=None, **kw):
        seen["jobs"] = kw.get("jobs")
        raise AnalysisError("stop here")

    monkeypatch.setattr("redact.pipeline.scan", fake_scan)
    monkeypatch.setattr(cpus, "usable_cpus", lambda: [0, 1])
    monkeypatch.setattr(cpus, "available_memory", lambda: None)
    for args, want in ((["-j", "2"], 2), ([], 2), (["-j", "1"], 1), (["--jobs", "9"], 2)):
        r = CliRunner().invoke(main, ["-q", "scan", str(clip), *args])
        assert r.exit_code == 1 and seen["jobs"] == want, (args, r.output)


def test_review_scans_and_exports_with_the_jobs_given(tmp_path, monkeypatch):
    from redact.cli import cli as main
    from redact.review import session as review_session

    clip = make_video(tmp_path / "c.mp4", width=W, height=H, frames=12, gop=4)
    made = {}
    Session = review_session.ReviewSession

    class Stop(Exception):
        pass

    def fake_session(scan_options=None, render_options=None, jobs=1):
        made["jobs"] = jobs
        raise Stop()

    monkeypatch.setattr(review_session, "ReviewSession", fake_session)
    monkeypatch.setattr(cpus, "usable_cpus", lambda: [0, 1])
    CliRunner().invoke(main, ["-q", "review", str(clip), "--no-browser", "-j", "2"])
    assert made["jobs"] == 2
    # and the session hands them to scan and to the export's render
    calls = {}

    def fake_scan(path, options=None, **kw):
        calls["scan"] = kw.get("jobs")
        raise AnalysisError("stop here")

    def fake_render_and_report(*a, **kw):
        calls["render"] = kw.get("jobs")
        raise AnalysisError("stop here")

    monkeypatch.setattr("redact.pipeline.scan", fake_scan)
    monkeypatch.setattr("redact.pipeline.render_and_report", fake_render_and_report)
    s = Session(jobs=2)
    try:
        s.open(clip)
        for t in list(s._threads):
            t.join(timeout=60)
        s._export_job(review_session.Job("export", stage="render", total=1), clip, None, tmp_path / "out.mp4")
        assert calls == {"scan": 2, "render": 2}
    finally:
        s.close()


@pytest.mark.slow
def test_cli_run_in_segments(tmp_path, monkeypatch, astronaut, caplog):
    """The real detector stack in segment workers, end to end: copy, report, the face covered in every frame."""
    from redact.cli import cli as main
    import cv2

    monkeypatch.setattr(seg_index, "MIN_SEGMENT_FRAMES", 50)
    face = cv2.resize(astronaut[0:256, 96:352], (64, 64), interpolation=cv2.INTER_AREA)

    def draw(i: int) -> np.ndarray:
        img = np.full((H, W, 3), (200, 210, 205), np.uint8)
        x = 10 + (i % 80)
        img[30:94, x:x + 64] = face
        return img

    clip = make_video(tmp_path / "c.mp4", width=W, height=H, frames=110, fps=25, gop=25, draw=draw, audio=True)
    out = tmp_path / "c.clean.mp4"
    monkeypatch.setattr(cpus, "usable_cpus", lambda: [0, 1])  # -j 2 also on a one-CPU machine
    with caplog.at_level(logging.INFO, logger="redact.segments"):
        r = CliRunner().invoke(main, ["-q", "run", str(clip), "-o", str(out), "-j", "2", "--text", "off",
                                      "--speech", "off", "--plan-out", str(tmp_path / "plan.json")])
    assert r.exit_code == 0, r.output
    assert "scanning in 2 segments" in caplog.text and "rendering in 2 segments" in caplog.text
    assert out.exists() and (tmp_path / "c.clean.report.json").exists()
    assert len(video_frame_times(out)) == 110 and audio_packets(out) == audio_packets(clip)
    from redact.pipeline import load_plan

    plan = load_plan(tmp_path / "plan.json")
    covered = {b.frame for t in plan.tracks if t.kind == "face" for b in t.boxes}
    assert covered == set(range(110))
