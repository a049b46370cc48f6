"""Tracker: synthetic detections only (no footage, no model); camera motion measured on synthetic frames."""

from __future__ import annotations

import itertools
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest

from redact.motion import CameraMotion, MotionPath
from redact.track import Tracker, TrackerConfig, assign, build_tracks
from redact.types import Detections, Track

from . import panning

W, H = 320, 240


def dets(*boxes, score=0.9, kind="face"):
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), score, np.float32), kind)


def by_frame(tracks: list[Track]) -> dict[int, list]:
    out: dict[int, list] = {}
    for t in tracks:
        for b in t.boxes:
            out.setdefault(b.frame, []).append((t.id, b))
    return out


def contains(outer, inner, eps=1e-4) -> bool:
    return (outer[0] <= inner[0] + eps and outer[1] <= inner[1] + eps
            and outer[2] >= inner[2] - eps and outer[3] >= inner[3] - eps)


def check_well_formed(tracks: list[Track], n_frames: int, width: int = W, height: int = H) -> None:
    ids = [t.id for t in tracks]
    assert ids == list(range(1, len(tracks) + 1))
    for t in tracks:
        frames = [b.frame for b in t.boxes]
        assert frames == list(range(frames[0], frames[-1] + 1)), "one box per frame, no holes"
        assert 0 <= frames[0] and frames[-1] < n_frames
        for b in t.boxes:
            x1, y1, x2, y2 = b.box
            assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
            assert b.source in ("detected", "interpolated", "tracked")


# -- assignment ------------------------------------------------------------------------------
def brute_force(cost: np.ndarray) -> float:
    n, m = cost.shape
    if n <= m:
        return min(sum(cost[r, c] for r, c in zip(range(n), p)) for p in itertools.permutations(range(m), n))
    return min(sum(cost[r, c] for r, c in zip(p, range(m))) for p in itertools.permutations(range(n), m))


def test_assign_is_optimal_on_small_matrices():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n, m = (int(v) for v in rng.integers(1, 6, 2))
        cost = rng.random((n, m)) * 10
        if rng.random() < 0.5:
            cost = np.round(cost)  # ties
        if rng.random() < 0.3:
            cost[rng.random((n, m)) < 0.4] = 1e6
        pairs = assign(cost)
        assert len(pairs) == min(n, m)
        assert len({r for r, _ in pairs}) == len({c for _, c in pairs}) == len(pairs)
        assert sum(cost[r, c] for r, c in pairs) == pytest.approx(brute_force(cost))


def test_assign_agrees_with_scipy():
    opt = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(1)
    for _ in range(50):
        cost = rng.random(tuple(int(v) for v in rng.integers(1, 25, 2)))
        rows, cols = opt.linear_sum_assignment(cost)
        assert sum(cost[r, c] for r, c in assign(cost)) == pytest.approx(cost[rows, cols].sum())


def test_assign_rejects_non_finite():
    with pytest.raises(ValueError):
        assign(np.array([[0.0, np.inf]]))


# -- tracker rules -----------------------------------------------------------------------------
def test_single_detection_becomes_padded_track_with_rolls():
    cfg = TrackerConfig(pre_roll=2, post_roll=3, pad=0.25, motion_pad=0, carry_growth=0)
    tracks = build_tracks([(f, dets([100, 100, 140, 140]) if f == 10 else Detections.empty()) for f in range(30)],
                          30, W, H, config=cfg)
    check_well_formed(tracks, 30)
    (t,) = tracks
    assert [b.frame for b in t.boxes] == list(range(8, 14))
    assert [b.source for b in t.boxes] == ["tracked"] * 2 + ["detected"] + ["tracked"] * 3
    assert t.boxes[2].box == (90, 90, 150, 150)  # 0.25 of 40 px on each side


def test_blink_is_bridged_by_interpolation():
    seq = [(10, dets([100, 100, 140, 140])), (11, Detections.empty()), (12, dets([110, 100, 150, 140]))]
    tracks = build_tracks(seq, 20, W, H, config=TrackerConfig(pre_roll=0, post_roll=0))
    check_well_formed(tracks, 20)
    (t,) = tracks
    mid = next(b for b in t.boxes if b.frame == 11)
    assert mid.source == "interpolated"
    assert contains(mid.box, (105, 100, 145, 140))


def test_gap_longer_than_max_gap_splits_track():
    cfg = TrackerConfig(max_gap=3, pre_roll=0, post_roll=1)
    seq = [(f, dets([100, 100, 140, 140]) if f in (0, 1, 10, 11) else Detections.empty()) for f in range(12)]
    tracks = build_tracks(seq, 12, W, H, config=cfg)
    check_well_formed(tracks, 12)
    assert [(t.first_frame, t.last_frame) for t in tracks] == [(0, 2), (10, 11)]


def test_rolls_are_clipped_at_clip_ends():
    cfg = TrackerConfig(pre_roll=5, post_roll=10)
    seq = [(f, dets([50, 50, 90, 90])) for f in range(2, 6)]
    tracks = build_tracks(seq, 8, W, H, config=cfg)
    check_well_formed(tracks, 8)
    (t,) = tracks
    assert (t.first_frame, t.last_frame) == (0, 7)
    assert [b.source for b in t.boxes] == ["tracked"] * 2 + ["detected"] * 4 + ["tracked"] * 2


def test_padding_is_clipped_to_frame():
    cfg = TrackerConfig(pad=0.5, pre_roll=0, post_roll=0)
    corner = [W - 30, H - 20, W + 10, H + 5]  # runs off the bottom-right corner: 30x20 inside
    tracks = build_tracks([(0, dets([0, 0, 20, 30], corner))], 1, W, H, config=cfg)
    check_well_formed(tracks, 1)
    boxes = sorted(b.box for t in tracks for b in t.boxes)
    assert boxes[0] == (0, 0, 30, 45)
    assert boxes[1] == (W - 30 - 15, H - 20 - 10, W, H)


def test_detections_outside_frame_are_ignored_and_slivers_kept():
    seq = [(0, dets([-50, 10, -5, 40], [W - 0.2, 10, W + 30, 40]))]
    tracks = build_tracks(seq, 1, W, H, config=TrackerConfig(pre_roll=0, post_roll=0))
    check_well_formed(tracks, 1)
    assert len(tracks) == 1  # the first box is entirely outside; the sliver inside is covered
    assert tracks[0].boxes[0].box[2] == W


def test_skipped_frames_are_interpolated_not_missed():
    cfg = TrackerConfig(max_gap=1, pre_roll=0, post_roll=0, carry_growth=0, motion_pad=0, pad=0)
    seq = [(f, dets([10 + 3 * f, 50, 50 + 3 * f, 90])) for f in range(0, 31, 3)]  # every 3rd frame
    tracks = build_tracks(seq, 31, W, H, config=cfg)
    check_well_formed(tracks, 31)
    (t,) = tracks  # gaps of 2 frames exceed max_gap=1 but are not misses
    assert t.frame_count == 31
    for b in t.boxes:
        assert b.source == ("detected" if b.frame % 3 == 0 else "interpolated")
        assert b.box == (10 + 3 * b.frame, 50, 50 + 3 * b.frame, 90)


def test_frames_nobody_looked_at_are_covered():
    # Detector every 5 frames, no post-roll: after the last sighting (frame 10) frames 11-14 were
    # never analysed, so the track covers them; frames after the last update (20) likewise.
    cfg = TrackerConfig(pre_roll=0, post_roll=0)
    seq = [(0, Detections.empty()), (5, dets([10, 10, 40, 40])), (10, dets([10, 10, 40, 40])),
           (15, Detections.empty()), (20, dets([200, 100, 240, 140]))]
    tracks = build_tracks(seq, 25, W, H, config=cfg)
    check_well_formed(tracks, 25)
    a, b = tracks
    assert (a.first_frame, a.last_frame) == (1, 14)
    assert (b.first_frame, b.last_frame) == (16, 24)


def test_first_update_late_covers_start():
    tracks = build_tracks([(7, dets([10, 10, 40, 40]))], 10, W, H, config=TrackerConfig(pre_roll=1, post_roll=0))
    assert tracks[0].first_frame == 0


def test_crossing_faces_keep_their_ids():
    n = 35
    seq = []
    for f in range(n):
        a = [10 + 7 * f, 100, 50 + 7 * f, 140]  # 40 px, moving right
        b = [240 - 6 * f, 95, 290 - 6 * f, 145]  # 50 px, moving left, crossing a around frame 17
        seq.append((f, dets(a, b) if f % 2 else dets(b, a)))  # order in the list must not matter
    cfg = TrackerConfig(motion_pad=0, pad=0.25)  # box width then tells which face a box is
    tracks = build_tracks(seq, n, W, H, config=cfg)
    check_well_formed(tracks, n)
    assert len(tracks) == 2
    for t in tracks:
        detected = [b.box for b in t.boxes if b.source == "detected"]
        assert len(detected) == n
        assert len({x2 - x1 for x1, _, x2, _ in detected}) == 1, f"track {t.id} swapped faces"
        xs = np.array([(x1 + x2) / 2 for x1, _, x2, _ in detected])
        assert len(set(np.sign(np.diff(xs)))) == 1, f"track {t.id} changed direction"


def test_identical_faces_crossing_head_on_keep_their_ids():
    # Same size, same height, 9 px/frame towards each other: at the crossing the *last* box of each
    # face overlaps the other face's new box best, so only the motion prediction keeps ids apart.
    n = 28
    seq = [(f, dets([20 + 9 * f, 100, 60 + 9 * f, 140], [263 - 9 * f, 100, 303 - 9 * f, 140])) for f in range(n)]
    tracks = build_tracks(seq, n, W, H, config=TrackerConfig(motion_pad=0))
    check_well_formed(tracks, n)
    assert len(tracks) == 2
    for t in tracks:
        xs = np.array([(b.box[0] + b.box[2]) / 2 for b in t.boxes if b.source == "detected"])
        assert len(xs) == n
        assert len(set(np.sign(np.diff(xs)))) == 1, f"track {t.id} swapped faces: {xs}"


def test_small_fast_face_is_one_track():
    # 12 px face moving 20 px a frame: consecutive boxes never overlap
    seq = [(f, dets([5 + 20 * f, 60, 17 + 20 * f, 72])) for f in range(12)]
    tracks = build_tracks(seq, 12, W, H, config=TrackerConfig(pre_roll=0, post_roll=0))
    assert len(tracks) == 1


def test_motion_pad_grows_with_speed():
    # detected on frames 0, 2 and 4 (the detector's stride): frames 1 and 3 are interpolated
    cfg = TrackerConfig(pre_roll=0, post_roll=0, max_extra=1.0, carry_growth=0)
    still = build_tracks([(f, dets([100, 100, 140, 140])) for f in range(0, 5, 2)], 5, W, H, config=cfg)
    moving = build_tracks([(f, dets([100 + 8 * f, 100, 140 + 8 * f, 140])) for f in range(0, 5, 2)], 5, W, H,
                          config=cfg)
    w_still = still[0].boxes[1].box[2] - still[0].boxes[1].box[0]
    w_moving = moving[0].boxes[1].box[2] - moving[0].boxes[1].box[0]
    h_moving = moving[0].boxes[1].box[3] - moving[0].boxes[1].box[1]
    assert moving[0].boxes[1].source == "interpolated"
    assert w_moving >= w_still + 2 * 2 * 8  # motion_pad=2 frames of 8 px/frame per side
    assert h_moving == still[0].boxes[1].box[3] - still[0].boxes[1].box[1]  # no vertical motion
    # where it was detected the box is where the face is: padded, not widened by its speed
    assert moving[0].boxes[2].source == "detected" and moving[0].boxes[2].box == (106.0, 90.0, 166.0, 150.0)


def test_carried_boxes_grow_with_distance():
    cfg = TrackerConfig(pre_roll=0, post_roll=6)
    (t,) = build_tracks([(0, dets([100, 100, 140, 140]))] + [(f, Detections.empty()) for f in range(1, 10)],
                        10, W, H, config=cfg)
    widths = [b.box[2] - b.box[0] for b in t.boxes]
    assert widths == sorted(widths) and widths[-1] > widths[0]


def test_fill_growth_scales_growth_between_detections_not_in_the_rolls():
    """Between two detections both ends bound where the object went: growth there runs at ``fill_growth`` of its
    rate; after the last detection (a roll) at the full rate."""
    seq = [(0, dets([100, 100, 140, 140])), (8, dets([100, 100, 140, 140]))]
    seq += [(f, Detections.empty()) for f in range(1, 8)]
    seq.sort(key=lambda p: p[0])

    def widths(fill: float) -> dict[int, float]:
        cfg = TrackerConfig(pre_roll=0, post_roll=4, fill_growth=fill, motion_pad=0)
        (t,) = build_tracks(seq, 13, W, H, config=cfg)
        return {b.frame: b.box[2] - b.box[0] for b in t.boxes}

    full, quarter, none = widths(1.0), widths(0.25), widths(0.0)
    assert none[4] == none[0] < quarter[4] < full[4]  # the middle of the gap: 4 frames from either detection
    assert none[12] == quarter[12] == full[12] > full[0]  # the roll grows alike
    with pytest.raises(ValueError):
        TrackerConfig(fill_growth=-1)


def test_merge_contained_makes_a_box_inside_another_one_track():
    """A forehead or cheek box that CenterFace reports inside the whole face's box is the same object: with
    ``merge_contained`` one track follows the box enclosing both; without, a second track (with rolls of its own)
    follows the part. Nothing is dropped either way."""
    face, part = [100, 100, 140, 150], [105, 100, 135, 125]  # the part lies wholly inside the face
    seq = [(f, dets(face, part) if f % 4 == 0 else Detections.empty()) for f in range(20)]
    apart = build_tracks(seq, 20, W, H, config=TrackerConfig())
    merged = build_tracks(seq, 20, W, H, config=TrackerConfig(merge_contained=0.8))
    assert len(apart) == 2 and len(merged) == 1
    check_well_formed(merged, 20)
    for b in merged[0].boxes:
        if b.source == "detected":
            assert contains(b.box, face) and contains(b.box, part)
    # a box mostly outside the other (a neighbour's face) is not merged
    neighbour = [130, 100, 170, 150]
    seq = [(f, dets(face, neighbour) if f % 4 == 0 else Detections.empty()) for f in range(20)]
    assert len(build_tracks(seq, 20, W, H, config=TrackerConfig(merge_contained=0.8))) == 2
    with pytest.raises(ValueError):
        TrackerConfig(merge_contained=-0.1)


def test_part_of_a_face_is_tracked_as_the_whole_face():
    """With ``part_area``, a detection that lies inside the face's previous box (carried along the camera motion)
    and is much smaller than it is a part of that face (the eyes and brows of a face in a surgical mask and cap):
    the box enclosing both is tracked on its frame. Without the camera motion, or for a box that is not mostly
    inside, or not much smaller, nothing changes; boxes only ever grow."""
    motion = MotionPath()
    for i in range(30):
        motion.add(i, np.array([[1.0, 0.0, 3.0], [0.0, 1.0, 0.0]]), i > 0)  # the scene moves 3 px right a frame
    cfg = TrackerConfig(part_area=0.65, pre_roll=0, post_roll=0)
    face = np.array([100, 100, 140, 150], float)
    eyes = np.array([106, 101, 134, 130], float)  # the top half: 40% of the face's area, inside it

    def moved(box, f):
        return (box + [3 * f, 0, 3 * f, 0]).tolist()

    seq = [(0, dets(moved(face, 0))), (4, dets(moved(eyes, 4))), (8, dets(moved(eyes, 8)))]
    tracks = build_tracks(seq, 9, W, H, config=cfg, motion=motion)
    assert len(tracks) == 1
    check_well_formed(tracks, 9)
    for b in tracks[0].boxes:
        if b.source == "detected":  # the whole face, wherever the camera took it (padded)
            assert contains(b.box, moved(face, b.frame)), (b.frame, b.box)
    plain = build_tracks(seq, 9, W, H, config=replace(cfg, part_area=0.0), motion=motion)
    assert not contains([b for b in plain[0].boxes if b.frame == 8][0].box, moved(face, 8))
    # no camera motion: not known where the face went, nothing is carried
    blind = build_tracks(seq, 9, W, H, config=cfg)
    assert [t.to_dict() for t in blind] == [t.to_dict() for t in build_tracks(seq, 9, W, H, config=replace(
        cfg, part_area=0.0))]
    # a box as large as the face (a tighter box of the whole face) or half outside it is not a part
    for other in ([102, 98, 142, 146], [120, 100, 150, 130]):
        seq2 = [(0, dets(moved(face, 0))), (4, dets(moved(np.array(other, float), 4)))]
        a = build_tracks(seq2, 5, W, H, config=cfg, motion=motion)
        b = build_tracks(seq2, 5, W, H, config=replace(cfg, part_area=0.0), motion=motion)
        assert [t.to_dict() for t in a] == [t.to_dict() for t in b]
    with pytest.raises(ValueError):
        TrackerConfig(part_area=-0.5)


@pytest.mark.parametrize("seed", range(6))
def test_every_raw_detection_is_covered(seed):
    """Property: whatever the detections (noise, duplicates, slivers, off-frame), each lies in a track box."""
    rng = np.random.default_rng(seed)
    n_frames = 60
    cfg = TrackerConfig(
        iou_match=float(rng.uniform(0.1, 0.9)), max_gap=int(rng.integers(0, 8)), pre_roll=int(rng.integers(0, 4)),
        post_roll=int(rng.integers(0, 4)), pad=float(rng.uniform(0, 0.5)), motion_pad=float(rng.uniform(0, 3)),
        carry_growth=float(rng.uniform(0, 0.1)), max_growth=float(rng.uniform(0, 1)),
    )
    stride = int(rng.integers(1, 4))
    starts = rng.uniform([0, 0], [W, H], (5, 2))
    vel = rng.uniform(-12, 12, (5, 2))
    size = rng.uniform(4, 80, 5)
    raw: dict[int, np.ndarray] = {}
    seq = []
    for f in range(0, n_frames, stride):
        boxes = []
        for k in range(5):
            if rng.random() < 0.75:
                c = starts[k] + vel[k] * f + rng.normal(0, 2, 2)
                boxes.append([c[0] - size[k] / 2, c[1] - size[k] / 2, c[0] + size[k] / 2, c[1] + size[k] / 2])
        for _ in range(int(rng.integers(0, 4))):  # noise: anywhere, any size, partly off-frame
            x, y = rng.uniform(-40, W + 40), rng.uniform(-40, H + 40)
            boxes.append([x, y, x + rng.uniform(0, 60), y + rng.uniform(0, 60)])
        d = Detections(np.array(boxes, np.float32).reshape(-1, 4), rng.random(len(boxes)).astype(np.float32))
        raw[f] = d.xyxy
        seq.append((f, d))
    tracks = build_tracks(seq, n_frames, W, H, config=cfg)
    check_well_formed(tracks, n_frames)
    out = by_frame(tracks)
    for f, boxes in raw.items():
        for box in boxes:
            clipped = np.clip(box, 0, [W, H, W, H])
            if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
                continue  # nothing of it is inside the frame
            assert any(contains(b.box, clipped) for _, b in out.get(f, [])), (f, box)


# -- interface --------------------------------------------------------------------------------
def test_tracker_refuses_misuse():
    tr = Tracker("face", 10, W, H)
    tr.update(3, Detections.empty())
    with pytest.raises(ValueError):
        tr.update(3, Detections.empty())
    with pytest.raises(ValueError):
        tr.update(4, Detections.empty("text"))
    tr.update(10, Detections.empty())  # the frame count given up front may be an underestimate
    with pytest.raises(ValueError):
        tr.finish(10)
    assert tr.finish(11) == []
    with pytest.raises(RuntimeError):
        tr.update(5, Detections.empty())
    with pytest.raises(ValueError):
        TrackerConfig(pad=-0.1)
    with pytest.raises(ValueError):
        TrackerConfig(max_gap=1.5)
    with pytest.raises(ValueError):
        Tracker("person", None, W, H)


def test_unknown_length_and_kind_other_than_face():
    tr = Tracker("badge", None, W, H)
    tr.update(0, dets([10, 10, 40, 30], kind="badge"))
    (t,) = tr.finish(1)
    assert t.kind == "badge" and t.id == 1


def test_memory_does_not_grow_with_empty_frames():
    tr = Tracker("face", None, W, H)
    empty = Detections.empty()
    tr.update(0, dets([10, 10, 40, 40]))
    for f in range(1, 500):
        tr.update(f, empty)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for f in range(500, 3500):
        tr.update(f, empty)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 16 * 1024, f"{grown} bytes for 3000 empty frames"  # a list entry per frame would be ~100 KB


# -- camera motion ------------------------------------------------------------------------------
TEXT_CFG = replace(TrackerConfig(), pre_roll=25, post_roll=25, max_gap=50)
"""What the pipeline gives text read every 25 frames (tracker_config_for)."""


def shaky_shot(seed: int, n: int = 51, lost: tuple[int, ...] = ()):
    """Frames of a shaken shot of a label, its true box per frame, and the camera motion measured on them
    (frames in ``lost`` marked as not measured)."""
    scene, path = panning.wall(seed), panning.shaky_path(n, seed)
    frames = [panning.frame(scene, p) for p in path]
    cam, motion = CameraMotion(), MotionPath()
    for i, img in enumerate(frames):
        t, ok = cam.update(img)
        motion.add(i, t, ok and i not in lost)
    return frames, [panning.label_in_frame(p) for p in path], motion


def read_text(frames, at) -> list[tuple[int, Detections]]:
    return [(f, dets(panning.find_label(frames[f]), kind="text")) for f in at]


def uncovered(tracks: list[Track], truth) -> list[int]:
    out = by_frame(tracks)
    return [f for f, box in enumerate(truth) if not any(contains(b.box, box) for _, b in out.get(f, []))]


@pytest.mark.parametrize("seed", range(3))
def test_camera_motion_keeps_shaken_text_covered_between_ocr_frames(seed):
    frames, truth, motion = shaky_shot(seed)
    seq = read_text(frames, (0, 25, 50))  # OCR every 25 frames
    W_, H_ = panning.W, panning.H
    linear = build_tracks(seq, len(frames), W_, H_, "text", TEXT_CFG)
    followed = build_tracks(seq, len(frames), W_, H_, "text", TEXT_CFG, motion=motion)
    check_well_formed(followed, len(frames), W_, H_)
    assert len(linear) == len(followed) == 1
    assert len(uncovered(linear, truth)) >= 20, "the shake must defeat linear interpolation, or this proves nothing"
    assert uncovered(followed, truth) == []


def test_motion_lost_mid_gap_still_covers_from_the_known_side():
    frames, truth, motion = shaky_shot(3, lost=(12, 37, 38))
    seq = read_text(frames, (0, 25, 50))
    tracks = build_tracks(seq, len(frames), panning.W, panning.H, "text", TEXT_CFG, motion=motion)
    assert uncovered(tracks, truth) == []


def test_rolls_follow_the_camera():
    # read once, at frame 25: frames 0-24 and 26-50 are pre- and post-roll
    frames, truth, motion = shaky_shot(4)
    seq = read_text(frames, (25,))
    linear = build_tracks(seq, len(frames), panning.W, panning.H, "text", TEXT_CFG)
    followed = build_tracks(seq, len(frames), panning.W, panning.H, "text", TEXT_CFG, motion=motion)
    assert [b.source for b in followed[0].boxes] == [b.source for b in linear[0].boxes]
    assert len(uncovered(linear, truth)) >= 10
    assert uncovered(followed, truth) == []


def pan(n: int, dx: float, unreliable=()) -> MotionPath:
    """A camera panning so that the scene moves ``dx`` pixels a frame in the picture."""
    m = MotionPath()
    for i in range(n):
        m.add(i, np.array([[1.0, 0, dx], [0, 1.0, 0]]), i > 0 and i not in unreliable)
    return m


def test_object_moving_against_the_camera_does_not_balloon():
    # the scene slides left 4 px a frame while a face moves right 4 px a frame in the picture; seen at 0 and 20.
    # Carried along the camera, each end lands 80 px off at the other end: their union would be ~3x as wide.
    seq = [(0, dets([60, 100, 100, 140])), (20, dets([140, 100, 180, 140]))]
    cfg = TrackerConfig(pre_roll=0, post_roll=0)
    (linear,) = build_tracks(seq, 21, W, H, config=cfg)
    (followed,) = build_tracks(seq, 21, W, H, config=cfg, motion=pan(21, -4.0))
    for a, b in zip(linear.boxes, followed.boxes):
        assert contains(b.box, a.box)
        assert (b.box[2] - b.box[0]) <= (a.box[2] - a.box[0]) + 2, (a, b)


def test_static_object_covers_both_carried_ends():
    # text static in the scene, camera panning steadily, and the two reads disagree a little in size:
    # the frames between cover both reads carried along the camera
    seq = [(0, dets([100, 100, 160, 120], kind="text")), (10, dets([54, 98, 118, 122], kind="text"))]
    cfg = TrackerConfig(pre_roll=0, post_roll=0, pad=0, motion_pad=0, carry_growth=0)
    (t,) = build_tracks(seq, 11, W, H, "text", cfg, motion=pan(11, -5.0))
    between = [b for b in t.boxes if 0 < b.frame < 10]
    assert len(between) == 9
    for b in between:
        f = b.frame
        assert contains(b.box, (100 - 5 * f, 100, 160 - 5 * f, 120)), b
        assert contains(b.box, (54 + 5 * (10 - f), 98, 118 + 5 * (10 - f), 122)), b


def test_text_read_at_the_same_place_twice_does_not_grow_between_the_readings():
    # a burnt-in caption read on frames 0 and 24 at the same place, camera still: the frames between are covered
    # by the readings, not grown towards the middle (growth stays for faces, which move between detections)
    box = [0, 180, 200, 230]
    seq = [(0, dets(box, kind="text")), (24, dets(box, kind="text"))]
    still = pan(25, 0.0)
    text_cfg = TrackerConfig(pad=0.05, carry_growth=0.01, max_growth=0.3, pre_roll=0, post_roll=0,
                             static_growth=False)
    (t,) = build_tracks(seq, 25, W, H, "text", text_cfg, motion=still)
    first = np.array(t.boxes[0].box)
    assert all(np.abs(np.array(b.box) - first).max() <= 1 for b in t.boxes), "every frame as the readings"
    (grown,) = build_tracks(seq, 25, W, H, "text", replace(text_cfg, static_growth=True), motion=still)
    mid = next(b for b in grown.boxes if b.frame == 12)
    assert mid.box[2] - mid.box[0] > t.boxes[0].box[2] - t.boxes[0].box[0] + 20


def test_unreliable_motion_changes_nothing():
    seq = [(f, dets([10 + 3 * f, 50, 50 + 3 * f, 90]) if f % 5 == 0 else Detections.empty()) for f in range(30)]
    cfg = TrackerConfig(pre_roll=4, post_roll=4)
    plain = build_tracks(seq, 30, W, H, config=cfg)
    lost = build_tracks(seq, 30, W, H, config=cfg, motion=pan(30, 7.0, unreliable=range(30)))
    short = build_tracks(seq, 30, W, H, config=cfg, motion=MotionPath())  # no frames given at all
    assert [t.to_dict() for t in plain] == [t.to_dict() for t in lost] == [t.to_dict() for t in short]


@pytest.mark.parametrize("seed", range(4))
def test_camera_motion_grows_boxes_or_follows_the_motion_within_bounds(seed):
    """Where the camera motion is known a box also covers the detections carried along it; only when covering both
    where the object was and where the motion took it would make a box over 3x its detection on a side is the
    motion followed instead (the box is then within that bound)."""
    rng = np.random.default_rng(100 + seed)
    n_frames = 60
    motion = MotionPath()
    for i in range(n_frames):
        a = np.deg2rad(rng.normal(0, 1))
        z = 1 + rng.normal(0, 0.01)
        c, s = z * np.cos(a), z * np.sin(a)
        t = np.array([[c, -s, rng.normal(0, 6)], [s, c, rng.normal(0, 6)]])
        motion.add(i, t, bool(rng.random() > 0.1))
    cfg = TrackerConfig(max_gap=int(rng.integers(2, 30)), pre_roll=int(rng.integers(0, 10)),
                        post_roll=int(rng.integers(0, 10)))
    seq = []
    for f in range(0, n_frames, int(rng.integers(1, 8))):
        boxes = []
        for _ in range(int(rng.integers(0, 4))):
            x, y = rng.uniform(-20, W), rng.uniform(-20, H)
            boxes.append([x, y, x + rng.uniform(2, 80), y + rng.uniform(2, 60)])
        seq.append((f, dets(*boxes) if boxes else Detections.empty()))
    plain = build_tracks(seq, n_frames, W, H, config=cfg)
    tracker = Tracker("face", n_frames, W, H, cfg)  # matched as without motion (random boxes: ids may differ else)
    for f, d in seq:
        tracker.update(f, d)
    followed = tracker.finish(n_frames, motion)
    check_well_formed(followed, n_frames)
    assert len(plain) == len(followed)
    grew = 0
    for a, b in zip(plain, followed):
        assert [x.frame for x in a.boxes] == [x.frame for x in b.boxes]
        assert [x.source for x in a.boxes] == [x.source for x in b.boxes]
        det = np.array([x.box for x in a.boxes if x.source == "detected"])
        limit = 3.0 * np.max(det[:, 2:] - det[:, :2], axis=0) + 2
        for x, y in zip(a.boxes, b.boxes):
            assert contains(y.box, x.box) or (y.box[2] - y.box[0] <= limit[0] and y.box[3] - y.box[1] <= limit[1])
            grew += y.box != x.box
    assert grew > 0, "the motion must have been used somewhere"



@pytest.mark.parametrize("seed", range(4))
def test_parts_never_uncover_a_detection(seed):
    """Property: with ``part_area`` and a shaking camera, every raw detection still lies in a box of its frame."""
    rng = np.random.default_rng(200 + seed)
    n_frames = 40
    motion = MotionPath()
    for i in range(n_frames):
        motion.add(i, np.array([[1.0, 0.0, rng.normal(0, 5)], [0.0, 1.0, rng.normal(0, 5)]]), bool(rng.random() > 0.1))
    seq, raw = [], {}
    centre, size = rng.uniform([60, 60], [W - 60, H - 60], (3, 2)), rng.uniform(20, 60, 3)
    for f in range(0, n_frames, int(rng.integers(1, 5))):
        boxes = []
        for k in range(3):
            frac = rng.uniform(0.3, 1.0)  # sometimes only a part of the face, from its top
            x, y = centre[k] + rng.normal(0, 3, 2)
            boxes.append([x - size[k] * frac / 2, y - size[k] / 2, x + size[k] * frac / 2, y - size[k] / 2 + size[k] * frac])
        d = dets(*boxes)
        raw[f] = d.xyxy
        seq.append((f, d))
    tracks = build_tracks(seq, n_frames, W, H, config=TrackerConfig(part_area=0.65, scene_fill=True), motion=motion)
    check_well_formed(tracks, n_frames)
    out = by_frame(tracks)
    for f, boxes in raw.items():
        for box in boxes:
            clipped = np.clip(box, 0, [W, H, W, H])
            assert any(contains(b.box, clipped) for _, b in out.get(f, [])), (f, box)

# -- evidence before persistence, bounded boxes, cuts (issue 14) -------------------------------
def test_weak_lone_detection_is_covered_tightly_where_seen():
    cfg = TrackerConfig(pre_roll=5, post_roll=10, pad=0.25)
    seq = [(f, dets([100, 100, 140, 140], score=0.25) if f == 10 else dets()) for f in range(30)]
    (t,) = build_tracks(seq, 30, W, H, config=cfg)
    assert [b.frame for b in t.boxes] == [10], "every frame around it was looked at: no rolls"
    assert t.boxes[0].box == (90.0, 90.0, 150.0, 150.0)  # pad only
    assert t.evidence == {"detections": 1, "best_score": 0.25, "confirmed": False}


def test_weak_detection_still_covers_frames_nobody_looked_at():
    # the detector of this kind ran on frames 0, 10 and 20 only: frames 11-19 were never analysed
    cfg = TrackerConfig(pre_roll=0, post_roll=0)
    seq = [(0, dets()), (10, dets([100, 100, 140, 140], score=0.25)), (20, dets())]
    (t,) = build_tracks(seq, 30, W, H, config=cfg)
    assert [b.frame for b in t.boxes] == list(range(1, 20))
    assert all(b.box == (90.0, 90.0, 150.0, 150.0) for b in t.boxes)


@pytest.mark.parametrize("scores, confirmed", [([0.25, 0.25], False), ([0.25, 0.25, 0.25], True), ([0.6], True)])
def test_repeated_or_strong_detections_confirm_a_track(scores, confirmed):
    cfg = TrackerConfig(pre_roll=3, post_roll=4, cadence_roll=0)
    seq = [(f, dets([100, 100, 140, 140], score=scores[f - 10]) if 10 <= f < 10 + len(scores) else dets())
           for f in range(30)]
    (t,) = build_tracks(seq, 30, W, H, config=cfg)
    assert t.evidence["confirmed"] is confirmed and t.evidence["detections"] == len(scores)
    frames = [b.frame for b in t.boxes]
    if confirmed:
        assert frames == list(range(7, 10 + len(scores) + 4))
    else:  # as far before and after as its detections were apart (one frame), not the rolls
        assert frames == list(range(9, 10 + len(scores) + 1))


def test_a_lone_detection_below_lone_score_does_not_confirm_its_track():
    """One box on one frame, scoring above confirm_score but under lone_score, never seen again on the frames the
    detectors looked at (texture the light pass scored 0.5): covered where it was seen, without the rolls; the same
    score on two frames, or a lone box at lone_score, still confirms (the faces' settings: redact.analyse)."""
    from redact.analyse import TRACKER_BASE

    face = TRACKER_BASE["face"]
    assert face.lone_score > face.confirm_score
    cfg = replace(face, pre_roll=16, post_roll=16, scene_fill=False)
    box = [100, 100, 140, 140]
    mid = (face.confirm_score + face.lone_score) / 2
    cases = [([mid], False, (10, 10)), ([mid, mid], True, None), ([face.lone_score], True, (0, 26))]
    for scores, confirmed, span in cases:
        seq = [(f, dets(box, score=scores[f - 10]) if 10 <= f < 10 + len(scores) else dets()) for f in range(40)]
        (t,) = build_tracks(seq, 40, W, H, config=cfg)
        assert t.evidence["confirmed"] is confirmed, scores
        if span is not None:
            assert (t.first_frame, t.last_frame) == span, scores
    assert replace(face, lone_score=0.0).lone_score == 0.0  # 0: confirm_score alone, as before
    with pytest.raises(ValueError):
        TrackerConfig(lone_score=-1.0)


def test_boxes_never_grow_past_a_small_multiple_of_their_detection():
    # a face that seems to jump 60 px a frame (a mis-association): speed padding and drift are bounded
    cfg = TrackerConfig(pre_roll=8, post_roll=8, max_extra=0.6, centre_match=3.0)
    seq = [(f, dets([20 + 60 * (f - 10), 100, 60 + 60 * (f - 10), 140]) if 10 <= f < 14 else dets())
           for f in range(30)]
    tracks = build_tracks(seq, 30, W, H, config=cfg)
    for t in tracks:
        for b in t.boxes:
            x1, y1, x2, y2 = b.box
            assert x2 - x1 <= 40 * 2.2 + 2 and y2 - y1 <= 40 * 2.2 + 2, b


def test_a_cut_ends_tracks_and_stops_their_rolls():
    cfg = TrackerConfig(pre_roll=5, post_roll=10, cadence_roll=0)
    tracker = Tracker("face", 30, W, H, cfg)
    for f in range(30):
        if f == 12:
            tracker.cut(f)
        tracker.update(f, dets([100, 100, 140, 140]) if 5 <= f < 10 or 14 <= f < 16 else dets())
    with pytest.raises(ValueError):
        tracker.cut(5)  # cuts come in frame order, before their frame's update
    a, b = tracker.finish(30)
    assert (a.first_frame, a.last_frame) == (0, 11), "post-roll stops before the cut"
    assert (b.first_frame, b.last_frame) == (12, 25), "pre-roll starts at the cut; a new track after it"


@pytest.mark.parametrize("step, roll", [(1, 3), (2, 4), (4, 8), (8, 10)])
def test_rolls_follow_how_often_a_track_was_seen_again(step, roll):
    """Seen on every frame: its coming and going was watched (min_roll); seen every 8th frame (a strided detector):
    rolls of twice that, at most pre_roll / post_roll."""
    cfg = TrackerConfig(pre_roll=10, post_roll=10, cadence_roll=2.0, min_roll=3, max_gap=20)
    seq = [(f, dets([100, 100, 140, 140]) if 20 <= f <= 36 and (f - 20) % step == 0 else dets()) for f in range(60)]
    (t,) = build_tracks(seq, 60, W, H, config=cfg)
    assert (t.first_frame, t.last_frame) == (20 - roll, 36 + roll)
    (lone,) = build_tracks([(f, dets([100, 100, 140, 140]) if f == 20 else dets()) for f in range(60)], 60, W, H,
                           config=cfg)
    assert (lone.first_frame, lone.last_frame) == (10, 30), "one strong detection: the full rolls"


def test_a_weak_track_seen_every_few_frames_is_covered_as_far_as_its_detections_were_apart():
    """A far face that only a strided pass finds (every 8th frame here, at a weak score): covered between its
    detections and 8 frames either side, where the next look would have been; not the full rolls."""
    cfg = TrackerConfig(pre_roll=16, post_roll=16, max_gap=20)
    seq = [(f, dets([100, 100, 112, 112], score=0.25) if f in (16, 24) else dets()) for f in range(60)]
    (t,) = build_tracks(seq, 60, W, H, config=cfg)
    assert t.evidence["confirmed"] is False
    assert (t.first_frame, t.last_frame) == (8, 32)


def test_a_box_carried_by_a_drifting_motion_estimate_stays_bounded():
    """A camera-motion estimate that zooms in (wrongly) must not blow a carried box up past 1.25x its detection
    (before padding)."""
    class Zooming:
        def map_box(self, box, f0, f1):
            c = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
            half = np.array([box[2] - box[0], box[3] - box[1]]) / 2 * (1 + 0.2 * abs(f1 - f0))
            return np.concatenate([c - half, c + half])

    cfg = TrackerConfig(pre_roll=10, post_roll=10, pad=0.0, max_extra=0.0, motion_pad=0, carry_growth=0)
    seq = [(f, dets([140, 100, 180, 140]) if f == 10 else dets()) for f in range(30)]
    tracker = Tracker("face", 30, W, H, cfg)
    for f, d in seq:
        tracker.update(f, d)
    (t,) = tracker.finish(30, Zooming())
    for b in t.boxes:
        x1, y1, x2, y2 = b.box
        assert x2 - x1 <= 1.25 * 40 + 2 and y2 - y1 <= 1.25 * 40 + 2, b


def test_text_boxes_carried_far_by_the_camera_follow_the_measured_motion():
    """A line read once while the camera pans fast (a street filmed from a bus): between readings its box is not
    the union of where it was and where the pan took it, which would cover half the frame."""
    motion = MotionPath()
    for i in range(30):
        motion.add(i, np.array([[1.0, 0.0, -8.0], [0.0, 1.0, 0.0]]), True)  # the scene moves 8 px left a frame
    cfg = TrackerConfig(pad=0.05, pre_roll=0, post_roll=25, union_scale=1.5)
    seq = [(0, dets([200, 100, 240, 120], kind="text")), (25, dets(kind="text"))]
    tracker = Tracker("text", 30, W, H, cfg)
    for f, d in seq:
        tracker.update(f, d)
    (t,) = tracker.finish(30, motion)
    last = [b for b in t.boxes if b.frame == 24][0].box
    assert last[0] <= 200 - 8 * 24 and last[2] >= 240 - 8 * 24, "where the motion took it"
    assert last[2] < 200, "not also where it was 24 frames ago"
    assert last[2] - last[0] <= (1 + 2 * cfg.max_extra) * 40 + 2, "padded and grown as any carried box, no more"


def test_a_badge_seen_twice_in_place_is_not_grown_between():
    """The shipped sample's badge, found every 6 frames by a shaking camera, grew to 1.25x its detections' width
    between them (the bed and the tunic beside it blurred); with the pipeline's badge settings the frames between
    two detections that agree in the scene are covered by both, carried along the camera motion, and no more."""
    from redact.analyse import TRACKER_BASE

    box = [100, 120, 200, 170]
    seq = [(0, dets(box, kind="badge")), (6, dets(box, kind="badge"))]
    cfg = replace(TRACKER_BASE["badge"], pre_roll=0, post_roll=0)
    (t,) = build_tracks(seq, 7, W, H, "badge", cfg, motion=pan(7, 0.0))
    first = np.array(t.boxes[0].box)
    assert all(np.abs(np.array(b.box) - first).max() <= 1 for b in t.boxes)


# -- matching and filling in the scene (faces issue) ---------------------------------------------
def shaken(offsets: dict[int, tuple[float, float]], n: int) -> tuple[MotionPath, np.ndarray]:
    """A hand-held camera: the scene's offset in the picture on each frame (linear between the given key frames),
    and the MotionPath of it (a pure shift from frame to frame)."""
    keys = sorted(offsets)
    off = np.stack([np.interp(np.arange(n), keys, [offsets[k][a] for k in keys]) for a in (0, 1)], axis=1)
    m = MotionPath()
    for i in range(n):
        d = off[i] - off[i - 1] if i else np.zeros(2)
        m.add(i, np.array([[1.0, 0, d[0]], [0, 1.0, d[1]]]), i > 0)
    return m, off


def at(scene_box, offset) -> list[float]:
    x1, y1, x2, y2 = scene_box
    return [x1 + offset[0], y1 + offset[1], x2 + offset[0], y2 + offset[1]]


def test_a_face_missed_in_a_shaking_crowd_is_not_matched_to_its_neighbour():
    """Two 16 px faces 26 px apart in the scene, found by a pass every 8 frames. A is missed on frame 16, where its
    neighbour B is found for the first time. In the picture the shake put B exactly where A's constant-velocity
    prediction was; in the scene A's prediction is A, 1.6 sides from B: B starts its own track."""
    a, b = (100, 100, 116, 116), (126, 100, 142, 116)
    motion, off = shaken({0: (0, 0), 8: (10, 5), 16: (-6, 10), 24: (5, -5)}, 25)
    seq = [(0, dets(at(a, off[0]))), (8, dets(at(a, off[8]))), (16, dets(at(b, off[16]))),
           (24, dets(at(a, off[24]), at(b, off[24])))]
    cfg = TrackerConfig(pre_roll=0, post_roll=0)

    def who(track) -> set[str]:
        """Which scene face each detected box of a track is."""
        return {"a" if abs((bx.box[0] + bx.box[2]) / 2 - off[bx.frame][0] - (a[0] + a[2]) / 2) < 1 else "b"
                for bx in track.boxes if bx.source == "detected"}

    in_picture = build_tracks(seq, 25, W, H, config=cfg)  # matched in the picture: A's track takes B
    assert any(who(t) == {"a", "b"} for t in in_picture)
    in_scene = build_tracks(seq, 25, W, H, config=cfg, motion=motion)
    check_well_formed(in_scene, 25)
    assert sorted(sorted(who(t)) for t in in_scene) == [["a"], ["b"]]
    (track_a,) = [t for t in in_scene if who(t) == {"a"}]
    assert [bx.frame for bx in track_a.boxes if bx.source == "detected"] == [0, 8, 24]


def test_between_two_detections_a_scene_fill_box_follows_the_scene_not_the_picture():
    """A 20 px face still in the scene, found on frames 0 and 8; the hand shook 20 px right and back in between.
    With ``scene_fill`` frame 4's box is where the face is (carried along the camera motion), not also over the
    wall where the picture-space blend puts it; without, it covers both."""
    face = (100, 100, 120, 120)
    motion, off = shaken({0: (0, 0), 4: (20, 0), 8: (0, 0)}, 9)
    seq = [(0, dets(at(face, off[0]))), (8, dets(at(face, off[8])))]
    cfg = TrackerConfig(pre_roll=0, post_roll=0, pad=0.15, max_extra=0.5)
    (filled,) = build_tracks(seq, 9, W, H, config=replace(cfg, scene_fill=True), motion=motion)
    (both,) = build_tracks(seq, 9, W, H, config=cfg, motion=motion)
    for f in range(1, 8):
        true = at(face, off[f])
        box = next(bx.box for bx in filled.boxes if bx.frame == f)
        assert contains(box, true), (f, box, true)
        assert box[2] - box[0] <= 20 * 2 + 2  # within max_extra of the face on each side
        assert contains(next(bx.box for bx in both.boxes if bx.frame == f), true)
    mid = next(bx.box for bx in filled.boxes if bx.frame == 4)
    assert mid[0] >= face[0] + 10, "the wall where the face was in the picture is not covered"
    assert next(bx.box for bx in both.boxes if bx.frame == 4)[0] <= face[0]


def test_scene_fill_rolls_follow_the_camera_and_fall_back_where_the_motion_is_unknown():
    face = (150, 100, 170, 120)
    motion, off = shaken({0: (0, 0), 6: (-40, 0), 12: (-40, 0)}, 13)
    cfg = TrackerConfig(pre_roll=0, post_roll=6, pad=0.15, max_extra=0.5, scene_fill=True)
    (t,) = build_tracks([(6, dets(at(face, off[6])))], 13, W, H, config=cfg, motion=motion)
    assert all(contains(bx.box, at(face, off[bx.frame])) for bx in t.boxes)
    lost = MotionPath()  # every transform unreliable: as without motion
    for i in range(13):
        lost.add(i, None, False)
    (plain,) = build_tracks([(6, dets(at(face, off[6])))], 13, W, H, config=replace(cfg, scene_fill=False))
    (unknown,) = build_tracks([(6, dets(at(face, off[6])))], 13, W, H, config=cfg, motion=lost)
    assert [b.box for b in plain.boxes] == [b.box for b in unknown.boxes]


def test_a_face_the_camera_carried_out_of_the_frame_gets_no_box_where_it_was():
    # seen at frame 0 near the left edge; the camera pans so that the scene slides 10 px a frame to the left: by
    # frame ~4 the face (and its padding) is past the frame's left edge. The frames after get no box, not the
    # picture-space box left where the face was (on whatever the camera turned to).
    face = (12, 100, 32, 120)
    cfg = TrackerConfig(pre_roll=0, post_roll=10, pad=0.15, max_extra=0.5, scene_fill=True)
    motion = pan(11, -10.0)
    (t,) = build_tracks([(0, dets(face))], 11, W, H, config=cfg, motion=motion)
    frames = [b.frame for b in t.boxes]
    assert frames == list(range(frames[-1] + 1)) and 1 <= frames[-1] < 6, frames
    for b in t.boxes:  # each frame's box still covers the face where the camera took it
        x1 = face[0] - 10 * b.frame
        if x1 + 20 > 0:
            assert b.box[0] <= max(0, x1) and b.box[2] >= x1 + 20
    # with the motion unknown the fallback stays: every roll frame covered where the face was last seen
    lost = MotionPath()
    for i in range(11):
        lost.add(i, None, False)
    (blind,) = build_tracks([(0, dets(face))], 11, W, H, config=cfg, motion=lost)
    assert [b.frame for b in blind.boxes] == list(range(11))


def test_a_box_much_larger_than_the_track_starts_its_own_track():
    # a face seen at frame 0; at frame 10 a weak box 1.6x its size nearby (a "face" on a T-shirt below it). With
    # size_match 1.4 it is another track (each covered where it was seen), not the same one blended between.
    seq = [(0, dets([100, 60, 120, 80])), (10, dets([98, 72, 130, 104], score=0.3))]
    (one,) = build_tracks(seq, 11, W, H, config=TrackerConfig(size_match=2.0))
    two = build_tracks(seq, 11, W, H, config=TrackerConfig(size_match=1.4))
    assert len(two) == 2
    frames = by_frame(two)
    for f, box in ((0, (100, 60, 120, 80)), (10, (98, 72, 130, 104))):
        assert any(contains(b.box, box) for _, b in frames[f])
    with pytest.raises(ValueError):
        TrackerConfig(size_match=1.0)


def _text_cfg(**kw):
    from redact.analyse import TRACKER_BASE

    return replace(TRACKER_BASE["text"], pre_roll=25, post_roll=25, max_gap=50, **kw)


def drifting(n: int, dy: float) -> MotionPath:
    """A camera motion estimate that says the scene moves ``dy`` px a frame down (one following a crowd walking past
    a still camera)."""
    m = MotionPath()
    for i in range(n):
        m.add(i, np.array([[1.0, 0, 0], [0, 1.0, dy]]), i > 0)
    return m


def test_a_caption_read_in_place_while_the_motion_estimate_drifts_is_one_track_that_stays_in_place():
    """A caption burnt into the picture, read on the stride's frames and held on the frame before each (the change
    watch), while the camera motion estimate follows a crowd walking down 2 px a frame: one track, every frame's box
    where the caption is, no larger than its readings padded (MOT20-05: a new track at every reading, boxes carried
    along the drift and rolled with its speed, 29% of the frame blurred at frame 60)."""
    box = [10, 150, 200, 200]
    seq = [(f, dets(box, kind="text")) for f in (0, 24, 25, 49, 50, 74, 75)]
    (t,) = build_tracks(seq, 80, W, H, "text", _text_cfg(), motion=drifting(80, 2.0))
    assert [b.frame for b in t.boxes] == list(range(80))
    padded = np.array(box) + np.array([-0.07, -0.07, 0.07, 0.07]) * 190  # pad 0.05 of the line and rounding
    for b in t.boxes:
        assert contains(b.box, box), b
        assert b.box[0] >= padded[0] and b.box[2] <= padded[2], b
        assert b.box[1] >= box[1] - 5 and b.box[3] <= box[3] + 5, b


def test_a_counter_changing_width_in_place_continues_its_track():
    """A frame counter or a monitor's number read every 10 frames at another width, in place, while the motion
    estimate drifts by half its height between readings; the change watch holds each reading's box on the frame
    before the next (it changed inside it): one track, covered between its readings by them and no more."""
    widths = [40, 52, 46, 58, 44]
    seq = []
    for f, w in zip((0, 10, 20, 30, 40), widths):
        if f:
            seq.append((f - 1, dets(seq[-1][1].xyxy[0], kind="text")))
        seq.append((f, dets([10, 10, 10 + w, 40], kind="text")))
    (t,) = build_tracks(seq, 41, W, H, "text", _text_cfg(), motion=drifting(41, 1.5))
    for b in t.boxes:
        assert b.box[1] >= 8 and b.box[3] <= 42 and b.box[2] <= 10 + max(widths) + 4, b


def test_text_read_where_the_camera_motion_carried_it_is_not_pinned():
    """Fail closed: a line of the scene that the camera pans across, read where the motion carried it, follows the
    motion between its readings and after the last one (not held where it was in the picture)."""
    seq = [(0, dets([200, 100, 260, 120], kind="text")), (10, dets([150, 100, 210, 120], kind="text"))]
    (t,) = build_tracks(seq, 20, W, H, "text", _text_cfg(), motion=pan(20, -5.0))
    for b in t.boxes:
        if b.frame <= 19:
            x = 200 - 5 * b.frame
            assert contains(b.box, (max(x, 0), 100, max(x + 60, 0), 120)), b


def test_a_pinned_track_follows_the_motion_again_once_readings_agree_with_it():
    """A line read twice in place (pinned), then read where a real pan carried it: from then on it follows the pan."""
    m = MotionPath()
    for i in range(41):
        m.add(i, np.array([[1.0, 0, -4.0 if i > 20 else 2.0], [0, 1.0, 0]]), i > 0)
    seq = [(0, dets([100, 100, 160, 120], kind="text")), (10, dets([100, 100, 160, 120], kind="text")),
           (20, dets([100, 100, 160, 120], kind="text")), (30, dets([60, 100, 120, 120], kind="text"))]
    (t,) = build_tracks(seq, 41, W, H, "text", _text_cfg(), motion=m)
    for b in t.boxes:
        if b.frame > 30:
            x = 60 - 4 * (b.frame - 30)
            assert contains(b.box, (x, 100, x + 60, 120)), b


def test_readings_before_the_first_pair_that_tells_are_held_where_that_pair_found_the_line():
    """A caption read at frame 30, the camera motion unknown between it and the next reading (frame 40), then read in
    place at 40 and 50 while the estimate drifts: the first pair that tells (40, 50) pins the whole track, its first
    reading too (its pre-roll and the frames up to frame 40 stay on the caption, not carried along the drift), as the
    matching found it."""
    m = MotionPath()
    for i in range(80):
        m.add(i, np.array([[1.0, 0, 0], [0, 1.0, 2.0]]), i > 0 and i != 35)
    box = [10, 150, 200, 200]
    seq = [(20, dets(kind="text"))] + [(f, dets(box, kind="text")) for f in (30, 40, 50)]  # looked at from 20
    (t,) = build_tracks(seq, 56, W, H, "text", replace(_text_cfg(), pre_roll=8, post_roll=5), motion=m)
    assert min(b.frame for b in t.boxes) == 21
    for b in t.boxes:  # where the caption is, grown about it: not also where the drift would carry it (18 px up)
        assert contains(b.box, box), b
        assert abs((b.box[1] + b.box[3]) / 2 - 175) <= 1 and b.box[1] >= box[1] - 10, b
