"""Detector scheduling: strided detectors, scene cuts, and coverage of the frames they skip."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect.schedule import CUT_THRESHOLD, THUMB, CutDetector, Scheduled, run_due, tracker_config_for
from redact.pipeline import scan
from redact.track import TrackerConfig
from redact.types import Detections

from .media import make_video


class Recorder:
    kind = "face"
    name = "recorder"

    def __init__(self, box=None):
        self.frames: list[int] = []
        self.box = box
        self.n = 0

    def detect(self, image):
        self.frames.append(self.n)
        self.n += 1
        if self.box is None:
            return Detections.empty()
        return Detections(np.array([self.box], np.float32), np.array([0.9], np.float32))

    def describe(self):
        return {"name": self.name}


def test_strided_detector_runs_every_n_and_on_cuts():
    rec = Recorder()
    s = Scheduled(rec, every=4)
    img = np.zeros((8, 8, 3), np.uint8)
    ran = [i for i in range(12) if s.due(i, cut=(i == 6)) and s.run(i, img) is not None]
    assert ran == [0, 4, 6, 10]


def test_every_must_be_positive():
    with pytest.raises(ValueError):
        Scheduled(Recorder(), every=0)


def test_cut_detector():
    cd = CutDetector()
    a = np.full((90, 160, 3), 40, np.uint8)
    b = np.full((90, 160, 3), 200, np.uint8)
    assert [cd.update(x) for x in (a, a, a + 5, b, b)] == [False, False, False, True, False]
    scene = _view(_dark_scene(5), 40, 20)  # a flat frame (black, fogged) and a picture: the brightness test judges
    cd = CutDetector()
    assert [cd.update(x) for x in (b, b, scene, scene, a)] == [False, False, True, False, True]


def _dark_scene(seed: int, size=(720, 405), cells=(9, 5), low=8, high=70) -> np.ndarray:
    """A dark picture with large shapes (a stage, an audience in the dark): smooth random blobs in ``low..high``."""
    rng = np.random.default_rng(seed)
    field = cv2.resize(rng.random((cells[1], cells[0])).astype(np.float32), size, interpolation=cv2.INTER_CUBIC)
    field = (field - field.min()) / (field.max() - field.min())
    grey = (low + (high - low) * field).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def _view(scene: np.ndarray, x: float, y: float, zoom: float = 1.0, size=(640, 360)) -> np.ndarray:
    """The ``size`` window of ``scene`` at ``(x, y)``, ``zoom`` times closer (a camera's view of it)."""
    w, h = size[0] / zoom, size[1] / zoom
    m = np.float32([[zoom, 0, -x * zoom], [0, zoom, -y * zoom]])
    assert x + w <= scene.shape[1] and y + h <= scene.shape[0]
    return cv2.warpAffine(scene, m, size, flags=cv2.INTER_LINEAR)


def test_a_cut_from_one_dark_scene_to_another_is_a_cut():
    """A stage and its audience, both dark: few grey levels move at the cut (the brightness test alone missed it:
    a Hamilton clip's cuts scored 26-27 against 28) but the picture's shape changes completely."""
    a, b = _view(_dark_scene(1), 40, 20), _view(_dark_scene(2), 40, 20)
    thumbs = [cv2.cvtColor(cv2.resize(x, THUMB, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY).astype(np.float32)
              for x in (a, b)]
    assert float(np.abs(thumbs[0] - thumbs[1]).mean()) < CUT_THRESHOLD, "the brightness test alone misses it"
    cd = CutDetector()
    assert [cd.update(x) for x in (a, a, b, b)] == [False, False, True, False]


def test_camera_moves_and_light_changes_are_not_cuts():
    """A pan, a zoom, a shake and the lights going up over the same dark scene are no cut (a false cut restarts
    every track); nor is a page of small print panned across (its thumbnails alias from frame to frame)."""
    scene = _dark_scene(3, size=(1000, 600))
    pan = [_view(scene, 20 + 12 * i, 30 + 3 * i) for i in range(20)]  # 12 px a frame: 2% of the width
    zoom = [_view(scene, 100 + 8 * i, 60 + 4 * i, 1.0 + 0.03 * i) for i in range(12)]
    shake = [_view(scene, 150 + (-1) ** i * 10, 100 + (-1) ** (i // 2) * 8) for i in range(12)]
    light = [np.clip(pan[-1].astype(np.float32) * (1 + 0.08 * i), 0, 255).astype(np.uint8) for i in range(8)]
    rng = np.random.default_rng(4)
    page = np.full((700, 1100), 225, np.uint8)
    for row in range(20, 680, 22):  # lines of "print": short dark dashes at random
        for col in range(20, 1080, 14):
            if rng.random() < 0.7:
                page[row:row + 9, col:col + 2 + int(rng.integers(0, 9))] = 40
    page3 = np.repeat(page[:, :, None], 3, axis=2)
    print_pan = [_view(page3, 10 + 7 * i, 10 + 2 * i, 1.0 + 0.01 * i) for i in range(20)]
    fast = [_view(scene, 20 + 32 * i, 30 + 4 * i) for i in range(10)]  # 32 px a frame: 5% of the width
    lights_on = [pan[-1], pan[-1], np.clip(pan[-1].astype(np.float32) * 1.8 + 20, 0, 255).astype(np.uint8)]
    for name, frames in [("pan", pan), ("zoom", zoom), ("shake", shake), ("light", light), ("print", print_pan),
                         ("fast pan", fast), ("lights on", lights_on)]:
        cd = CutDetector()
        assert not any(cd.update(x) for x in frames), name


def test_same_kind_detections_are_merged_not_duplicated():
    a = Scheduled(Recorder(box=[10, 10, 50, 50]))
    b = Scheduled(Recorder(box=[12, 11, 52, 49]))
    found = run_due([a, b], 0, np.zeros((64, 64, 3), np.uint8), cut=False)
    assert len(found["face"]) == 1
    x1, y1, x2, y2 = found["face"].xyxy[0]
    assert x1 <= 10 and y1 <= 10 and x2 >= 52 and y2 >= 50, "the merged box encloses both"


def test_tracker_rolls_cover_the_stride():
    base = TrackerConfig(pre_roll=2, post_roll=3, max_gap=4)
    cfg = tracker_config_for([Scheduled(Recorder(), every=1), Scheduled(Recorder(), every=8)], "face", base)
    assert (cfg.pre_roll, cfg.post_roll, cfg.max_gap) == (8, 8, 16)
    assert tracker_config_for([Scheduled(Recorder())], "face", base) == base


def test_face_appearing_between_strides_is_covered_from_its_first_frame(tmp_path):
    clip = make_video(tmp_path / "c.mp4", width=320, height=240, frames=30, fps=10)
    seen = []  # the frames the heavy detector ran on: 0, 8, 16, 24; the face is there from frame 9 on

    class Heavy:
        kind = "face"
        name = "heavy"

        def detect(self, image):
            idx = len(seen) * 8
            seen.append(idx)
            if idx < 9:
                return Detections.empty()
            return Detections(np.array([[100, 100, 120, 124]], np.float32), np.array([0.5], np.float32))

        def describe(self):
            return {"name": "heavy"}

    light = Recorder()
    plan = scan(clip, detectors=[Scheduled(light, every=1), Scheduled(Heavy(), every=8)]).plan
    assert seen == [0, 8, 16, 24]
    covered = {b.frame for t in plan.tracks for b in t.boxes}
    # the face is first detected at frame 16, but it may have appeared any time after frame 8: all covered
    assert set(range(9, 30)) <= covered


def test_a_reused_stack_runs_every_detector_on_the_first_frame_of_each_clip(tmp_path):
    clip = make_video(tmp_path / "c.mp4", width=64, height=48, frames=5, fps=10)
    rec = Recorder()
    stack = [Scheduled(rec, every=3)]
    scan(clip, detectors=stack)
    first = len(rec.frames)
    scan(clip, detectors=stack)
    assert first == 2 and len(rec.frames) == 4, "frames 0 and 3 of each clip"


class Looker:
    """A context detector: records what the detectors before it found in the same frame."""

    kind = "badge"
    name = "looker"
    uses_context = True

    def __init__(self):
        self.seen: list[dict] = []

    def detect(self, image, context=None):
        self.seen.append({k: len(v) for k, v in (context or {}).items()})
        return Detections.empty(kind="badge")

    def describe(self):
        return {"name": self.name}


def test_context_detector_sees_the_frames_earlier_detections_merged_per_kind():
    a, b = Recorder((10, 10, 20, 20)), Recorder((11, 11, 21, 21))  # overlapping: merged into one face
    looker = Looker()
    stack = [Scheduled(a), Scheduled(b, every=2), Scheduled(looker)]
    img = np.zeros((32, 32, 3), np.uint8)
    for i in range(3):
        out = run_due(stack, i, img, cut=False)
        assert set(out) == {"face", "badge"}
    assert looker.seen == [{"face": 1}, {"face": 1}, {"face": 1}]
    # a detector listed after the context detector is not in its context
    late = Looker()
    run_due([Scheduled(late), Scheduled(Recorder((1, 1, 5, 5)))], 0, img, cut=False)
    assert late.seen == [{}]


def test_reset_also_resets_a_detector_with_state():
    class Stateful(Recorder):
        resets = 0

        def reset(self):
            self.resets += 1

    det = Stateful()
    s = Scheduled(det, every=5)
    s.run(0, np.zeros((4, 4, 3), np.uint8))
    s.reset()
    assert det.resets == 1 and s.due(1, cut=False)
