"""Text lines drawn as their own quadrilaterals: from the detector's quad (padded along its own axes) through the
tracker (the quad moves, grows and is padded with its box) and the plan to the renderer (only the part of the box
inside the polygon is redacted); and text boxes not grown where a change watch looks at every frame and the
camera motion is known. Synthetic detections and images only."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from redact.detect.base import merge_enclosing
from redact.detect.schedule import Scheduled, tracker_config_for
from redact.detect.text import padded_quad
from redact.detect.watch import ChangeWatch
from redact.motion import MotionPath
from redact.render import FILL_YUV, Region, polygon_mask, redact_planes, redact_regions
from redact.track import Tracker, TrackerConfig, build_tracks
from redact.types import Detections, Plan, PlanError, Track, TrackBox, validate_plan_dict

W, H = 320, 240
TEXT = TrackerConfig(pad=0.05, carry_growth=0.01, max_growth=0.3, centre_match=0.0, union_scale=1.5,
                     static_growth=False, scene_fill=True, pre_roll=0, post_roll=10)


def slanted(cx=160.0, cy=120.0, length=120.0, height=20.0, angle=20.0) -> np.ndarray:
    """A line of text turned by ``angle`` degrees: its quad, clockwise from its top-left."""
    a = np.radians(angle)
    u, v = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    c = np.array([cx, cy])
    return np.stack([c - u * length / 2 - v * height / 2, c + u * length / 2 - v * height / 2,
                     c + u * length / 2 + v * height / 2, c - u * length / 2 + v * height / 2]).astype(np.float32)


def text_dets(quads, score=0.9) -> Detections:
    quads = np.asarray(quads, np.float32).reshape(-1, 4, 2)
    xyxy = np.concatenate([quads.min(axis=1), quads.max(axis=1)], axis=1)
    return Detections(xyxy, np.full(len(quads), score, np.float32), "text", quad=quads)


def pan(n: int, dx: float, dy: float = 0.0) -> MotionPath:
    m = MotionPath()
    for i in range(n):
        m.add(i, np.array([[1.0, 0, dx], [0, 1.0, dy]]), i > 0)
    return m


def inside(polygon, points, tol=0.51) -> bool:
    """Whether every point lies in the convex polygon (within ``tol`` px)."""
    import cv2
    poly = np.asarray(polygon, np.float32).reshape(-1, 1, 2)
    return all(cv2.pointPolygonTest(poly, (float(x), float(y)), True) >= -tol for x, y in np.asarray(points))


def area(polygon) -> float:
    p = np.asarray(polygon, float)
    return 0.5 * abs(float(np.dot(p[:, 0], np.roll(p[:, 1], 1)) - np.dot(p[:, 1], np.roll(p[:, 0], 1))))


# -- the detector's quad ---------------------------------------------------------------------------------------
def test_a_line_is_padded_along_its_own_axes():
    q = slanted(angle=30)
    p = padded_quad(q, 5.0)
    assert inside(p, q)
    assert area(p) == pytest.approx((120 + 10) * (20 + 10), rel=1e-3)  # 5 px out on every side, not more
    up = padded_quad(np.array([[10, 10], [50, 10], [50, 20], [10, 20]], np.float32), 2.0)
    np.testing.assert_allclose(up, [[8, 8], [52, 8], [52, 22], [8, 22]], atol=1e-5)  # upright: its padded box


def test_detections_keep_their_quads_through_filter_clip_concat_and_merge():
    a, b = text_dets([slanted(100, 60)]), text_dets([slanted(200, 150)])
    both = Detections.concat([a, Detections(np.array([[5, 5, 30, 15]], np.float32), np.array([0.8]), "text"), b])
    assert both.quad is not None and np.isnan(both.quad[1]).all() and np.allclose(both.quad[2], b.quad[0])
    assert np.allclose(both.filter(np.array([False, False, True])).quad[0], b.quad[0])
    assert np.allclose(both.clip(W, H).quads()[0], a.quad[0])
    merged = merge_enclosing(Detections.concat([a, a, b]), 0.5)  # the two copies of a merge: no one quad is left
    assert len(merged) == 2 and np.isnan(merged.quad[0]).all() and np.allclose(merged.quad[1], b.quad[0])


# -- the tracker ---------------------------------------------------------------------------------------------------
def test_the_quad_moves_and_grows_with_its_box_and_is_missing_without_one():
    q = slanted()
    motion = pan(12, 3.0)  # the scene slides right 3 px a frame
    (t,) = build_tracks([(0, text_dets([q]))], 12, W, H, kind="text", config=TEXT, motion=motion)
    for b in t.boxes:
        assert b.polygon is not None, b.frame
        x1, y1, x2, y2 = b.box
        moved = q + [3.0 * b.frame, 0]
        assert inside(b.polygon, moved), b.frame  # the line where the camera motion put it is inside the polygon
        assert area(b.polygon) < 0.75 * (x2 - x1) * (y2 - y1), b.frame  # and the polygon is not the box
    plain = Detections(text_dets([q]).xyxy, np.array([0.9]), "text")  # no quad: the box is the shape
    (t2,) = build_tracks([(0, plain)], 12, W, H, kind="text", config=TEXT, motion=motion)
    assert all(b.polygon is None for b in t2.boxes)
    assert [b.box for b in t2.boxes] == [b.box for b in t.boxes]  # the boxes themselves do not change


def test_where_the_motion_is_unknown_the_box_is_the_shape():
    q = slanted()
    lost = MotionPath()
    for i in range(12):
        lost.add(i, None, False)
    (t,) = build_tracks([(0, text_dets([q]))], 12, W, H, kind="text", config=TEXT, motion=lost)
    assert all(b.polygon is None for b in t.boxes if b.source != "detected")


def test_between_two_readings_the_polygon_covers_both_carried_lines():
    q = slanted(angle=15)
    motion = pan(11, 2.0, 1.0)
    seq = [(0, text_dets([q])), (10, text_dets([q + [20.0, 10.0]]))]
    (t,) = build_tracks(seq, 11, W, H, kind="text", config=TEXT, motion=motion)
    for b in t.boxes:
        assert b.polygon is not None
        assert inside(b.polygon, q + [2.0 * b.frame, 1.0 * b.frame]), b.frame


def test_text_carried_along_a_watched_known_motion_does_not_grow():
    box = np.array([[100, 100], [180, 100], [180, 120], [100, 120]], np.float32)
    motion = pan(12, 2.0)
    (grown,) = build_tracks([(0, text_dets([box]))], 12, W, H, kind="text", config=TEXT, motion=motion)
    (watched,) = build_tracks([(0, text_dets([box]))], 12, W, H, kind="text", config=replace(TEXT, scene_growth=0.0),
                              motion=motion)
    last_g = next(b.box for b in grown.boxes if b.frame == 10)
    last_w = next(b.box for b in watched.boxes if b.frame == 10)
    assert last_g[2] - last_g[0] >= 80 * 1.15  # 1% of the line a frame on each side
    assert last_w[2] - last_w[0] <= 80 * 1.1 + 2  # the detection's box and the tracker's pad only
    assert last_w[0] <= 100 + 20 and last_w[2] >= 180 + 20  # where the camera motion put the line


def test_a_line_cut_by_the_frame_reaches_the_frame_edge_when_carried_in():
    """A line running off the left edge is read once; the camera then pans so the scene moves right: what comes into
    view left of the carried box was never read, so the box (and its polygon) reach the frame's edge."""
    box = np.array([[0, 100], [90, 100], [90, 120], [0, 120]], np.float32)  # cut by the left edge
    motion = pan(12, 4.0)
    (t,) = build_tracks([(0, text_dets([box]))], 12, W, H, kind="text", config=replace(TEXT, scene_growth=0.0), motion=motion)
    b10 = next(b for b in t.boxes if b.frame == 10)
    assert b10.box[0] == 0 and b10.box[2] >= 90 + 40
    assert inside(b10.polygon, [[0.5, 101], [0.5, 119], [125, 101], [125, 119]])
    inner = np.array([[60, 100], [150, 100], [150, 120], [60, 120]], np.float32)  # well inside: not reached out
    (t2,) = build_tracks([(0, text_dets([inner]))], 12, W, H, kind="text", config=replace(TEXT, scene_growth=0.0), motion=motion)
    assert next(b for b in t2.boxes if b.frame == 10).box[0] >= 60 + 30


def test_a_line_cut_by_the_frame_does_not_seem_to_move_on_its_own():
    """Read twice while the camera pans it off the left edge: the cut side is the frame's, not the line's, so its own
    speed is the other side's (0), and the frames after the last reading are not padded for motion."""
    motion = pan(21, -3.0)
    seq = [(0, text_dets([np.array([[0, 100], [90, 100], [90, 120], [0, 120]], np.float32)])),
           (10, text_dets([np.array([[0, 100], [60, 100], [60, 120], [0, 120]], np.float32)]))]
    cfg = replace(TEXT, scene_growth=0.0)
    (t,) = build_tracks(seq, 21, W, H, kind="text", config=cfg, motion=motion)
    b20 = next(b for b in t.boxes if b.frame == 20)
    assert b20.box[2] <= 30 + 0.05 * 60 + 1  # the right edge (60 at frame 10) carried 30 px left, padded by 5%


def test_the_growth_is_dropped_only_for_a_kind_every_detector_of_which_is_watched():
    class Det:
        kind = "text"

        def detect(self, image):  # pragma: no cover - never run
            raise AssertionError

    base = replace(TrackerConfig(), scene_growth=0.0, watched=True)
    watched = tracker_config_for([Scheduled(Det(), every=25, watch=ChangeWatch())], "text", base)
    assert watched.scene_growth == 0.0 and watched.watched
    plain = tracker_config_for([Scheduled(Det(), every=25)], "text", base)
    assert plain.scene_growth is None and not plain.watched


def test_a_watched_line_read_whole_after_its_words_is_not_padded_for_speed():
    """Words read at frame 0, the whole line (further right) at frame 10, the camera still: the change of extent is
    not the line's own speed. Watched, the frames after the last reading are that reading padded by the tracker's pad
    only, and the frames between the readings the two readings' union; unwatched, they grow with that 'speed'. The
    frames before the first reading keep it (nobody watched the line there)."""
    words = np.array([[40, 100], [120, 100], [120, 120], [40, 120]], np.float32)
    line = np.array([[40, 100], [220, 100], [220, 120], [40, 120]], np.float32)
    seq = [(3, text_dets([words])), (13, text_dets([line]))]
    cfg = replace(TEXT, scene_growth=0.0, pre_roll=3)
    still = pan(24, 0.0)
    (plain,) = build_tracks(seq, 24, W, H, kind="text", config=cfg, motion=still)
    (watched,) = build_tracks(seq, 24, W, H, kind="text", config=replace(cfg, watched=True), motion=still)
    at = {b.frame: b.box for b in watched.boxes}
    before = {b.frame: b.box for b in plain.boxes}
    pad = 0.05 * np.array([180, 20])
    assert at[23] == pytest.approx((40 - pad[0], 100 - pad[1], 220 + pad[0], 120 + pad[1]), abs=1.0)
    assert before[23][2] - before[23][0] > at[23][2] - at[23][0] + 20  # grown by the 'speed' of the new words
    for f in range(4, 13):  # between the readings: both readings covered, no more than their union padded
        assert contains(at[f], (40, 100, 220, 120))
        assert at[f][2] - at[f][0] <= 180 * 1.1 + 2
    assert at[0] == before[0]  # before the first reading: as before


def test_between_readings_a_side_one_reading_saw_whole_does_not_reach_the_frame_edge():
    """A line still in the scene, whole at one reading and cut by the frame's bottom at the other (the camera tilted
    between them): the reading that saw it whole, carried, covers it, so the frames between do not reach the bottom
    edge; cut at both readings, they do (what lies beyond was never read)."""
    whole = np.array([[60, 170], [200, 170], [200, 210], [60, 210]], np.float32)
    cut = np.array([[60, 210], [200, 210], [200, 240], [60, 240]], np.float32)  # at frame 10: 40 px lower, clipped
    cfg = replace(TEXT, scene_growth=0.0, watched=True)
    (t,) = build_tracks([(0, text_dets([whole])), (10, text_dets([cut]))], 11, W, H, kind="text", config=cfg,
                        motion=pan(11, 0.0, 4.0))
    b5 = next(b for b in t.boxes if b.frame == 5)
    assert contains(b5.box, (60, 190, 200, 230))  # the line, 20 px lower
    assert b5.box[3] <= 230 + 0.05 * 40 + 1
    first = np.array([[60, 200], [200, 200], [200, 240], [60, 240]], np.float32)  # cut at both readings
    (t2,) = build_tracks([(0, text_dets([first])), (10, text_dets([cut]))], 11, W, H, kind="text", config=cfg,
                         motion=pan(11, 0.0, 1.0))
    assert next(b for b in t2.boxes if b.frame == 5).box[3] == H


def contains(outer, inner, eps=1e-4) -> bool:
    return (outer[0] <= inner[0] + eps and outer[1] <= inner[1] + eps
            and outer[2] >= inner[2] - eps and outer[3] >= inner[3] - eps)


# -- the plan --------------------------------------------------------------------------------------------------
class _FakeOcr:
    """An OCR backend that returns the same boxes for any image."""

    name = "fake"

    def __init__(self, boxes):
        self.boxes = boxes

    def read(self, image):
        return self.boxes

    def describe(self):
        return {"name": self.name}


def _rect_quad(x1, y1, x2, y2):
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


def _plan(polygon) -> dict:
    box = {"frame": 0, "box": [10, 10, 60, 40], "score": 0.9, "source": "detected"}
    if polygon is not None:
        box["polygon"] = polygon
    return {"version": 1, "input": {"path": "a.png", "sha256": "0" * 64, "kind": "image", "width": 100,
                                    "height": 50, "frames": 1, "fps": 0}, "tracks": [
        {"id": 1, "kind": "text", "action": "redact", "boxes": [box]}]}


def test_a_plan_keeps_polygons_and_reads_plans_without_them():
    poly = [[10, 20], [50, 10], [60, 30], [20, 40]]
    plan = Plan.from_dict(_plan(poly))
    assert plan.tracks[0].boxes[0].polygon == tuple((float(x), float(y)) for x, y in poly)
    again = json.loads(plan.to_json())
    assert again["tracks"][0]["boxes"][0]["polygon"] == poly
    old = Plan.from_dict(_plan(None))
    assert old.tracks[0].boxes[0].polygon is None and "polygon" not in json.loads(old.to_json())["tracks"][0]["boxes"][0]
    for bad in ([[1, 2], [3, 4]], [[1, 2, 3], [3, 4], [5, 6]], "x", [[1, 2], [3, float("nan")], [5, 6]]):
        with pytest.raises(PlanError):
            validate_plan_dict(_plan(bad))


# -- the renderer --------------------------------------------------------------------------------------------
def test_only_the_polygon_part_of_a_box_is_redacted():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, size=(80, 120, 3), dtype=np.uint8)
    poly = ((20.0, 30.0), (90.0, 10.0), (100.0, 40.0), (30.0, 60.0))
    region = Region((20, 10, 100, 60), "text", poly)
    for style in ("blur", "pixelate", "fill"):
        out = redact_regions(image, [region], style=style)
        inner = polygon_mask(poly, 20, 10, 80, 50)
        changed = np.any(out != image, axis=2)
        assert not changed[:10].any() and not changed[:, :20].any()  # outside the box: untouched
        box = changed[10:60, 20:100]
        assert not box[~inner].any(), style  # the box's corners outside the polygon: untouched
        assert box[inner].mean() > 0.9, style
    full = np.any(redact_regions(image, [Region((20, 10, 100, 60), "text")], style="fill") != image, axis=2)
    assert full[10:60, 20:100].all()


def test_the_polygon_mask_covers_the_polygon():
    poly = ((5.3, 7.1), (40.2, 2.2), (44.9, 20.8), (9.6, 26.4))
    m = polygon_mask(poly, 0, 0, 50, 30)
    ys, xs = np.mgrid[0:30, 0:50]
    import cv2
    contour = np.asarray(poly, np.float32).reshape(-1, 1, 2)
    centres_in = np.array([[cv2.pointPolygonTest(contour, (float(x) + 0.5, float(y) + 0.5), False) >= 0
                            for x in range(50)] for y in range(30)])
    assert m[centres_in].all()  # every pixel whose centre is inside is drawn
    assert m.sum() <= centres_in.sum() * 1.35  # and not much more than the polygon


def test_planes_redact_the_polygon_part_in_luma_and_chroma():
    rng = np.random.default_rng(4)
    y = rng.integers(16, 236, size=(64, 96), dtype=np.uint8)
    u = rng.integers(16, 240, size=(32, 48), dtype=np.uint8)
    v = rng.integers(16, 240, size=(32, 48), dtype=np.uint8)
    poly = ((11.0, 21.0), (70.0, 5.0), (80.0, 30.0), (21.0, 50.0))
    fill = FILL_YUV
    oy, ou, ov = redact_planes((y, u, v), [Region((11, 5, 80, 50), "text", poly)], style="fill", fill=fill)
    inner = polygon_mask(poly, 11, 5, 69, 45)
    assert (oy[5:50, 11:80][inner] == fill[0]).all()
    assert (oy[5:50, 11:80][~inner] == y[5:50, 11:80][~inner]).all()
    assert (ou != u).any() and (ou[:2] == u[:2]).all() and (ov[:, :4] == v[:, :4]).all()


def test_a_tracker_fed_quads_writes_a_plan_the_validator_accepts():
    tracker = Tracker("text", 5, W, H, TEXT)
    tracker.update(0, text_dets([slanted()]), pan(5, 1.0))
    tracks = tracker.finish(5, pan(5, 1.0))
    doc = {"version": 1, "input": {"path": "", "sha256": "0" * 64, "kind": "video", "width": W, "height": H,
                                   "frames": 5, "fps": 25}, "tracks": [t.to_dict() for t in tracks]}
    validate_plan_dict(doc)
    assert all("polygon" in b for b in doc["tracks"][0]["boxes"])
    assert isinstance(Track, type) and isinstance(TrackBox, type)


def test_the_text_detector_returns_padded_quads_only_when_asked():
    from redact.detect.ocr import TextBox
    from redact.detect.text import TextDetector

    class Fake:
        name = "fake"

        def read(self, image):
            return [TextBox(slanted(angle=20), 0.9, "Ward seven", 0.99)]

        def describe(self):
            return {"name": self.name}

    image = np.zeros((240, 320, 3), np.uint8)
    plain = TextDetector(Fake(), max_side=None, sharpen=False).detect(image)
    assert plain.quad is None  # the default: each line is its whole padded box, as before
    shaped = TextDetector(Fake(), max_side=None, sharpen=False, quads=True).detect(image)
    np.testing.assert_allclose(shaped.xyxy, plain.xyxy)  # the box the tracker follows does not change
    assert inside(shaped.quad[0], slanted(angle=20)) and area(shaped.quad[0]) < 0.6 * area(
        [[plain.xyxy[0, 0], plain.xyxy[0, 1]], [plain.xyxy[0, 2], plain.xyxy[0, 1]],
         [plain.xyxy[0, 2], plain.xyxy[0, 3]], [plain.xyxy[0, 0], plain.xyxy[0, 3]]])


# -- tall lines: padded along the line by a line, across it by less ---------------------------------------------
def test_a_quad_is_padded_by_its_own_amount_on_each_side():
    from redact.detect.text import sided_quad

    up = sided_quad(np.array([[10, 10], [110, 10], [110, 30], [10, 30]], np.float32), (20.0, 5.0, 10.0, 3.0))
    np.testing.assert_allclose(up, [[-10, 5], [120, 5], [120, 33], [-10, 33]], atol=1e-5)  # start, top, end, bottom
    q = slanted(angle=25, length=200, height=40)
    p = sided_quad(q, (40.0, 10.0, 40.0, 10.0))
    assert inside(p, q) and area(p) == pytest.approx((200 + 80) * (40 + 20), rel=1e-3)
    np.testing.assert_allclose(sided_quad(q, (7.0,) * 4), padded_quad(q, 7.0), atol=1e-4)


def test_tall_lines_are_padded_less_only_beside_plain_ground():
    """``tall_across``: a tall line lying along the frame keeps a whole line of padding on each side where there is
    ink beside it (a row of letters the detector did not find, the rest of a word) and gets less over plain ground:
    ``tall_across`` of a line above and below and at its ends (TALL_ENDS). Short lines, square boxes and upright words
    are padded as before, and so is a line with no edges at all (nothing to judge by). On by default."""
    import cv2

    from redact.detect.text import TALL_LINE, TextBox, TextDetector

    Fake, q = _FakeOcr, _rect_quad
    h = 60
    assert h >= TALL_LINE
    tall = TextBox(q(300, 200, 700, 200 + h), 0.9, "WARD SEVEN", 0.99)
    small = TextBox(q(10, 10, 200, 30), 0.9, "EXIT", 0.99)
    sign = TextBox(q(900, 300, 1000, 400), 0.9, "7", 0.99)
    word = TextBox(q(1100, 300, 1160, 420), 0.9, "STATION", 0.99)
    image = np.zeros((720, 1280, 3), np.uint8)
    cv2.putText(image, "WARD SEVEN", (310, 200 + h - 12), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (255, 255, 255), 4)
    boxes = [tall, small, sign, word]
    before = TextDetector(Fake(boxes), mode="all", quads=True, tall_across=None).detect(image)
    after = TextDetector(Fake(boxes), mode="all", tall_across=0.25, quads=True).detect(image)
    np.testing.assert_allclose(after.xyxy[0], [300 - h / 4, 200 - h / 4, 700 + h / 4, 200 + h + h / 4])
    np.testing.assert_allclose(after.quad[0], [[300 - h / 4, 200 - h / 4], [700 + h / 4, 200 - h / 4],
                                               [700 + h / 4, 200 + h + h / 4], [300 - h / 4, 200 + h + h / 4]])
    np.testing.assert_allclose(after.xyxy[1:], before.xyxy[1:])
    np.testing.assert_allclose(TextDetector(Fake(boxes), mode="all").detect(image).xyxy, after.xyxy)  # the default
    # letters above the line (a row the detector missed) and past its end keep the whole line there
    inked = image.copy()
    cv2.putText(inked, "CLINIC", (420, 200 - 8), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 3)
    cv2.putText(inked, "7", (715, 200 + h - 12), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (255, 255, 255), 4)
    got = TextDetector(Fake([tall]), mode="all", tall_across=0.25, quads=True).detect(inked)
    np.testing.assert_allclose(got.xyxy[0], [300 - h / 4, 200 - h, 700 + h, 200 + h + h / 4])
    # no edges at all: padded as before
    blank = TextDetector(Fake([tall]), mode="all", tall_across=0.25, quads=True).detect(np.zeros_like(image))
    np.testing.assert_allclose(blank.xyxy[0], before.xyxy[0])
    # a slanted tall line over plain ground: its box is its padded quad's enclosing box, within the box padded alike
    # on every side, and its polygon is smaller
    a = np.radians(20)
    u, v = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    c = np.array([600.0, 400.0])
    pts = np.stack([c - 200 * u - 30 * v, c + 200 * u - 30 * v, c + 200 * u + 30 * v, c - 200 * u + 30 * v])
    slant = TextBox(pts, 0.9, "INVENTING THE FUTURE", 0.99)
    img = np.zeros_like(image)
    cv2.fillConvexPoly(img, np.round(c - 150 * u - 10 * v + np.stack([0 * u, 300 * u, 300 * u + 20 * v, 20 * v]))
                       .astype(np.int32), (255, 255, 255))  # a bar of "ink" inside the line
    for k in range(6):
        cv2.line(img, tuple(np.round(c + (-150 + 60 * k) * u - 20 * v).astype(int)),
                 tuple(np.round(c + (-150 + 60 * k) * u + 20 * v).astype(int)), (255, 255, 255), 3)
    out = TextDetector(Fake([slant]), mode="all", tall_across=0.25, quads=True).detect(img)
    same = TextDetector(Fake([slant]), mode="all", quads=True, tall_across=None).detect(img)
    poly = out.quad[0]
    assert inside(poly, pts) and area(poly) < 0.6 * area(same.quad[0])
    np.testing.assert_allclose(out.xyxy[0, :2], np.maximum(poly.min(axis=0), same.xyxy[0, :2]), atol=1e-3)
    np.testing.assert_allclose(out.xyxy[0, 2:], np.minimum(poly.max(axis=0), same.xyxy[0, 2:]), atol=1e-3)


def test_a_band_as_inked_as_ordinary_letters_counts_whatever_the_line_holds():
    """A line of very dense edges (a dot-matrix display) must not raise the bar above ordinary lettering: a band
    beside it with INK_FLOOR of edges is ink, though under INK_SHARE of the line's own density."""
    from redact.detect.text import INK_FLOOR, INK_SHARE, inked_sides

    edges = np.zeros((400, 600), bool)
    edges[200:240:2, 100:500:2] = True  # the line: a quarter of its pixels are edges
    edges[200:240, 100:500] |= np.random.default_rng(0).random((40, 400)) < 0.3
    rows = np.random.default_rng(1).random((30, 400)) < INK_FLOOR * 1.5  # lettering above it, sparser
    edges[165:195, 100:500] = rows
    quad = np.array([[100, 200], [500, 200], [500, 240], [100, 240]], np.float64)
    full, least = np.full(4, 40.0), np.full(4, 10.0)
    inner = float(edges[200:240, 100:500].mean())
    assert INK_FLOOR * 1.5 < INK_SHARE * inner  # the band would not count against the line's own density
    np.testing.assert_array_equal(inked_sides(edges, quad, full, least), [False, True, False, False])


def test_a_row_another_line_already_covers_does_not_pad_a_tall_line_towards_it():
    """``claimed``: the lettering of another line the detector returned is covered by that line's own box, so it does
    not keep a tall line's whole-line padding towards it; a row no line claims still does."""
    import cv2

    from redact.detect.text import TALL_LINE, TextBox, TextDetector

    Fake, q = _FakeOcr, _rect_quad
    h = 60
    assert h >= TALL_LINE
    tall = TextBox(q(300, 200, 700, 200 + h), 0.9, "WARD SEVEN", 0.99)
    below = TextBox(q(320, 200 + h + 10, 680, 200 + h + 40), 0.9, "VISITING HOURS", 0.99)
    image = np.zeros((720, 1280, 3), np.uint8)
    cv2.putText(image, "WARD SEVEN", (310, 200 + h - 12), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (255, 255, 255), 4)
    cv2.putText(image, "VISITING HOURS", (330, 200 + h + 34), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2)
    claimed = TextDetector(Fake([tall, below]), mode="all").detect(image)
    old = TextDetector(Fake([tall, below]), mode="all", claimed=False).detect(image)
    assert old.xyxy[0, 3] == 200 + h + h  # the row below counted as ink: a whole line of padding down
    assert claimed.xyxy[0, 3] == 200 + h + h / 4  # it is the other line's: a quarter line, as over plain ground
    np.testing.assert_allclose(claimed.xyxy[1], old.xyxy[1])  # the other line padded as before
    # the same row when no line claims it (the detector did not find it): a whole line of padding down
    alone = TextDetector(Fake([tall]), mode="all").detect(image)
    assert alone.xyxy[0, 3] == 200 + h + h
    # a line the frame's edge cuts claims nothing: the detector often finds only part of such a row
    from redact.detect.text import claims, unclaimed

    edges = np.ones((100, 200), bool)
    inside_line = TextBox(q(50, 40, 150, 60), 0.9, "A", 0.99)
    cut_line = TextBox(q(50, 0, 150, 20), 0.9, "B", 0.99)
    got = unclaimed(edges, claims([tall, inside_line, cut_line], edges.shape), 0)
    assert not got[45:55, 60:140].any() and got[5:15, 60:140].all()
    # ... across its letters (the top or bottom edge); a line the left or right edge cuts at its end claims its own
    # lettering (its letters in view are whole), unless it is not lying along the frame (a vertical word, a block)
    at_end = TextBox(q(0, 70, 80, 90), 0.9, "C", 0.99)
    upright = TextBox(q(180, 30, 200, 90), 0.9, "D", 0.99)
    got = unclaimed(edges, claims([tall, at_end, upright], edges.shape), 0)
    assert not got[75:85, 5:75].any() and got[40:80, 185:199].all()
