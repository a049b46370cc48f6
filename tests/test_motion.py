"""Camera motion: the estimator on synthetic hand-held shots, the motion path, and text kept covered through scan."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect.schedule import Scheduled
from redact.motion import CameraMotion, MotionPath, identity
from redact.pipeline import scan
from redact.types import Detections

from .media import make_video
from .panning import H, W, find_label, frame, label_in_frame, shaky_path, wall


def contains(outer, inner, eps=1e-4) -> bool:
    return (outer[0] <= inner[0] + eps and outer[1] <= inner[1] + eps
            and outer[2] >= inner[2] - eps and outer[3] >= inner[3] - eps)


def similarity(angle_deg: float, zoom: float, tx: float, ty: float, centre=(W / 2, H / 2)) -> np.ndarray:
    m = cv2.getRotationMatrix2D(centre, angle_deg, zoom)
    m[:, 2] += (tx, ty)
    return m


# -- the estimator -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(3))
def test_recovers_a_shaky_pan_within_a_pixel(seed):
    scene, path = wall(seed), shaky_path(30, seed)
    cam = CameraMotion()
    t, ok = cam.update(frame(scene, path[0]))
    assert not ok and np.allclose(t, identity()), "nothing to compare the first frame with"
    for i in range(1, len(path)):
        t, ok = cam.update(frame(scene, path[i]))
        assert ok, i
        # a wall pixel seen at p in frame i-1 is at p - (path[i] - path[i-1]) in frame i
        assert np.allclose(t[:, :2], np.eye(2), atol=0.01)
        assert np.abs(t[:, 2] + (path[i] - path[i - 1])).max() < 1.0, (i, t[:, 2], path[i] - path[i - 1])


def test_recovers_rotation_and_zoom_in_full_frame_pixels():
    # 720p: analysed at 320 px wide, so the transform must be scaled back up correctly
    rng = np.random.default_rng(5)
    big = cv2.resize(wall(5)[:H, :W], (1280, 720), interpolation=cv2.INTER_CUBIC)
    big = np.clip(big.astype(np.int16) + rng.integers(-20, 20, big.shape), 0, 255).astype(np.uint8)
    m = similarity(1.5, 1.03, 9.5, -6.25, centre=(640, 360))
    moved = cv2.warpAffine(big, m, (1280, 720), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    cam = CameraMotion()
    cam.update(big)
    t, ok = cam.update(moved)
    assert ok
    pts = np.array([[320, 180, 1], [960, 180, 1], [640, 360, 1], [320, 540, 1], [960, 540, 1]], np.float64)
    err = np.abs(pts @ t.T - pts @ m.T).max()
    assert err < 1.0, err


def test_flat_frames_are_not_ok():
    cam = CameraMotion()
    grey = np.full((H, W, 3), 128, np.uint8)
    cam.update(grey)
    assert cam.update(grey)[1] is False
    textured = frame(wall(0), shaky_path(1)[0])
    assert cam.update(textured)[1] is False  # from a flat frame: nothing to follow
    assert cam.update(grey)[1] is False


@pytest.mark.parametrize("seed", range(3))
def test_a_cut_is_not_ok(seed):
    cam = CameraMotion()
    cam.update(frame(wall(seed), shaky_path(1)[0]))
    t, ok = cam.update(frame(wall(seed + 100), shaky_path(1)[0]))  # another wall: a scene cut
    assert ok is False and np.allclose(t, identity())


def test_size_change_and_reset_start_afresh():
    scene, path = wall(1), shaky_path(3, 1)
    cam = CameraMotion()
    cam.update(frame(scene, path[0]))
    assert cam.update(frame(scene, path[1]))[1]
    assert cam.update(frame(scene, path[2])[:200, :300].copy())[1] is False
    cam.reset()
    assert cam.update(frame(scene, path[2]))[1] is False
    with pytest.raises(ValueError):
        cam.update(np.zeros((H, W), np.uint8))


# -- the path ---------------------------------------------------------------------------------
def test_path_composes_and_inverts():
    mp = MotionPath()
    steps = [None, similarity(0, 1, 5, -2), similarity(2, 1.02, -3, 4), similarity(-1, 0.99, 7, 1)]
    for i, s in enumerate(steps):
        mp.add(i, s, s is not None)
    total = np.vstack([steps[3], [0, 0, 1]]) @ np.vstack([steps[2], [0, 0, 1]]) @ np.vstack([steps[1], [0, 0, 1]])
    assert np.allclose(mp.transform(0, 3), total[:2])
    assert np.allclose(np.vstack([mp.transform(3, 0), [0, 0, 1]]) @ total, np.eye(3))
    assert np.allclose(mp.transform(2, 2), identity())
    box = np.array([100.0, 80.0, 160.0, 110.0])
    there = mp.map_box(box, 0, 3)
    back = mp.map_box(mp.map_box(box, 0, 1), 1, 0)
    assert np.allclose(back, box)
    corners = np.array([[100, 80, 1], [160, 80, 1], [100, 110, 1], [160, 110, 1]]) @ total[:2].T
    assert np.allclose(there, [*corners.min(axis=0), *corners.max(axis=0)])


def test_rotated_box_maps_to_the_box_around_its_corners():
    mp = MotionPath()
    mp.add(0, None, False)
    mp.add(1, cv2.getRotationMatrix2D((0, 0), 90, 1.0), True)  # 90 degrees: (x, y) -> (y, -x)
    assert np.allclose(mp.map_box(np.array([10.0, 20.0, 50.0, 30.0]), 0, 1), [20, -50, 30, -10])


def test_unreliable_frames_break_the_chain():
    mp = MotionPath()
    shift = similarity(0, 1, 3, 0)
    for i in range(10):
        mp.add(i, shift, i != 5)
    mp.add(13, shift, True)  # frames 10-12 never given: unknown
    box = np.array([10.0, 10.0, 20.0, 20.0])
    assert np.allclose(mp.map_box(box, 0, 4), box + [12, 0, 12, 0])
    assert np.allclose(mp.map_box(box, 9, 6), box - [9, 0, 9, 0])
    assert mp.map_box(box, 4, 5) is None and mp.map_box(box, 6, 2) is None
    assert mp.map_box(box, 9, 10) is None and mp.map_box(box, 12, 13) is None
    assert mp.map_box(box, 13, 14) is None and mp.map_box(box, -1, 0) is None, "frames never added"
    assert not mp.reliable(0, 9) and mp.reliable(5, 9) and len(mp) == 14
    with pytest.raises(ValueError):
        mp.add(13, shift, True)


def test_degenerate_transforms_count_as_unreliable():
    mp = MotionPath()
    mp.add(0, None, False)
    mp.add(1, np.zeros((2, 3)), True)
    mp.add(2, np.array([[1, 0, np.nan], [0, 1, 0]]), True)
    mp.add(3, similarity(0, 1, 1, 1), True)
    assert not mp.reliable(0, 1) and not mp.reliable(1, 2) and mp.reliable(2, 3)


def test_path_memory_is_flat_per_frame():
    mp = MotionPath()
    for i in range(5000):
        mp.add(i, identity(), True)
    assert mp._cum.nbytes + mp._inv.nbytes + mp._seg.nbytes <= 2 * 5000 * 104 + 8192


# -- through scan ------------------------------------------------------------------------------
class LabelReader:
    """A stub OCR: boxes the blue label (exactly where it is in the frame it is given)."""

    kind = "text"
    name = "label-reader"

    def __init__(self):
        self.runs = 0

    def detect(self, image):
        self.runs += 1
        box = find_label(image)
        if box is None:
            return Detections.empty("text")
        return Detections(np.array([box], np.float32), np.array([0.9], np.float32), "text")

    def describe(self):
        return {"name": self.name}


@pytest.fixture(scope="module")
def shaky_clip(tmp_path_factory):
    scene, path = wall(7), shaky_path(51, 7)
    p = make_video(tmp_path_factory.mktemp("shaky") / "shaky.mp4", width=W, height=H, frames=len(path), fps=25,
                   draw=lambda i: frame(scene, path[i]))
    return p, path


def uncovered_frames(plan, path) -> list[int]:
    boxes = plan.boxes_by_frame()
    return [i for i in range(len(path))
            if not any(t.kind == "text" and contains(b.box, label_in_frame(path[i])) for t, b in boxes.get(i, ()))]


def test_scan_keeps_shaken_text_covered_on_every_frame(shaky_clip):
    clip, path = shaky_clip
    reader = LabelReader()
    plan = scan(clip, detectors=[Scheduled(reader, every=25)]).plan
    assert plan.input.frames == len(path)
    assert reader.runs < 10, "OCR is strided; the frames between are carried by the camera motion"
    assert uncovered_frames(plan, path) == []


def test_scan_without_camera_motion_falls_back_and_would_leave_text_readable(shaky_clip, monkeypatch):
    # the estimator crashing must not fail the scan; the plan is then the motion-free one, which misses the label
    # on frames between OCR runs: what the camera motion is for
    class Broken(CameraMotion):
        def update(self, image):
            raise RuntimeError("no motion today")

    monkeypatch.setattr("redact.analyse.CameraMotion", Broken)
    clip, path = shaky_clip
    plan = scan(clip, detectors=[Scheduled(LabelReader(), every=25)]).plan
    assert plan.input.frames == len(path)
    missed = uncovered_frames(plan, path)
    assert len(missed) >= 10, missed
