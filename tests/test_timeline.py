"""The report's clock is the player's: frame times from the clip's timestamps (variable rate, a late first frame)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from redact.pipeline import ScanOptions, scan
from redact.report import build_report
from redact.report.clock import on_frame_clock, timeline
from redact.timeline import TOLERANCE, Timeline, knots_of
from redact.types import Detections, InputInfo, Plan, Track, TrackBox

from .media import VFR_STEPS_MS, frame_pts_ms, make_video


def test_a_constant_rate_needs_two_knots():
    assert knots_of({i: 0.25 + i / 30 for i in range(300)}) == [(0, 0.25), (299, pytest.approx(0.25 + 299 / 30))]


def test_every_frame_lies_near_the_knots_line_however_the_rate_moves():
    rng = random.Random(7)
    times, t = {}, 0.0
    for i in range(900):  # 30 fps, then 20 fps in low light, then 30 again, with jittering timestamps
        times[i] = t
        t += (1 / 20 if 300 <= i < 600 else 1 / 30) + rng.uniform(-0.002, 0.002)
    knots = knots_of(times)
    mean_rate = 900 / t
    clock = Timeline.of(knots, mean_rate)
    assert max(abs(clock.time(f) - s) for f, s in times.items()) <= TOLERANCE + 1e-9
    assert len(knots) < 200  # far fewer than the frames
    assert abs(clock.time(300) - 300 / mean_rate) > 1.0  # frame / mean rate: over a second off here
    for f in (0, 299.5, 450, 899):
        assert clock.frame_at(clock.time(f)) == pytest.approx(f)


def test_plans_without_knots_count_frames_over_the_rate():
    assert Timeline.of(None, 10.0).time(25) == pytest.approx(2.5)
    assert Timeline.of([[0, 0.0], [5, "x"]], 10.0).time(25) == pytest.approx(2.5)  # malformed: ignored
    assert Timeline.of([[0, 1.0], [0, 2.0]], 10.0).knots == ()  # frames must increase
    assert Timeline.of(None, 0.0).time(3) is None and Timeline.of(None, 0.0).frame_at(1.0) is None


class Fixed:
    kind, name = "face", "fixed"

    def detect(self, image):
        return Detections(np.array([[10, 10, 40, 40]], np.float32), np.array([0.9], np.float32))

    def describe(self):
        return {"name": self.name}


def _report(plan):
    return build_report(plan, output_path=None, output_sha256=None, render={}, timings={}, warnings=[], models=[])


def test_a_variable_rate_clip_is_timed_by_its_timestamps(tmp_path):
    clip = make_video(tmp_path / "vfr.mp4", width=64, height=48, frames=24, vfr=True)
    plan = scan(clip, ScanOptions(text="off", speech="off"), detectors=[Fixed()]).plan
    clock = timeline(plan)
    for f, ms in enumerate(frame_pts_ms(24, 10, True)):
        assert clock.time(f) == pytest.approx(ms / 1000, abs=TOLERANCE + 1e-6)
    rep = _report(plan)
    face = next(t for t in rep["tracks"] if t["kind"] == "face")
    assert face["start_s"] == 0.0
    last = frame_pts_ms(24, 10, True)[-1] / 1000
    assert last < rep["summary"]["duration_s"] <= last + max(VFR_STEPS_MS) / 1000 + 0.01
    assert abs(clock.time(16) - 16 / plan.input.fps) > 0.05  # frame / mean rate would be off


def test_a_first_frame_shown_late_is_timed_as_a_player_shows_it(tmp_path):
    # the video starts 0.5 s into the clip (its audio from 0): a player shows the first frame at 0.5 s
    clip = make_video(tmp_path / "late.mp4", width=64, height=48, frames=10, fps=10,
                      times_ms=[500 + 100 * i for i in range(10)])
    plan = scan(clip, ScanOptions(text="off", speech="off"), detectors=[Fixed()]).plan
    rep = _report(plan)
    assert rep["input"]["first_frame_s"] == pytest.approx(0.5)
    face = next(t for t in rep["tracks"] if t["kind"] == "face")
    assert (face["start_s"], face["end_s"]) == (pytest.approx(0.5), pytest.approx(1.5))


def test_speech_is_on_the_same_clock_as_the_frames():
    # Hamilton: the audio starts at 0, the first frame shows at 0.85 s (audio_offset -0.85 from the first frame)
    plan = Plan(InputInfo("x.mp4", "0" * 64, "video", 64, 48, 30, 30.0,
                          {"audio_offset": -0.85, "timeline": [[0, 0.85], [29, 0.85 + 29 / 30]]}),
                [Track(1, "speech", [], category="name", span=(2.0, 2.5)),
                 Track(2, "face", [TrackBox(3, (1, 1, 9, 9), 0.9, "detected")])])
    assert on_frame_clock(plan, (2.0, 2.5)) == pytest.approx((2.0, 2.5))  # the audio's own time is the player's
    rows = {t["id"]: t for t in _report(plan)["tracks"]}
    assert (rows[1]["start_s"], rows[1]["end_s"]) == (2.0, 2.5)
    assert rows[2]["start_s"] == pytest.approx(0.85 + 3 / 30, abs=1e-3)
