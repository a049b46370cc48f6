"""The tiled small-face pass (redact.detect.tiles) and the default face stack built by the pipeline."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect import CenterFaceDetector
from redact.detect.base import iou_matrix
from redact.detect.schedule import run_due
from redact.detect.tiles import ScheduledTiles, TiledDetector, adds_faces, tile_grid, to_frame
from redact.types import Detections

ASTRONAUT_FACE = (180, 60, 270, 178)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="module")
def native() -> CenterFaceDetector:
    return CenterFaceDetector(provider="cpu", max_side=None)


class Fixed:
    """A detector that reports the given boxes (in its input's pixels) and records the input sizes."""

    kind = "face"
    name = "fixed"

    def __init__(self, boxes):
        self.boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        self.sizes: list[tuple[int, int]] = []

    def detect(self, image):
        self.sizes.append(image.shape[:2])
        return Detections(self.boxes, np.full(len(self.boxes), 0.9))

    def describe(self):
        return {"name": self.name}


@pytest.mark.parametrize("w,h", [(1280, 720), (1920, 1080), (961, 367), (33, 17), (1, 1)])
@pytest.mark.parametrize("cols,rows,overlap", [(2, 2, 0.15), (3, 2, 0.2), (1, 1, 0.0), (4, 3, 0.0), (2, 1, 0.5)])
def test_tiles_cover_the_frame_and_overlap(w, h, cols, rows, overlap):
    tiles = tile_grid(w, h, cols, rows, overlap)
    assert len(tiles) == cols * rows
    seen = np.zeros((h, w), np.int32)
    for x0, y0, x1, y1 in tiles:
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        seen[y0:y1, x0:x1] += 1
    assert seen.min() >= 1  # every pixel is in some tile
    xs = sorted({(x0, x1) for x0, _, x1, _ in tiles})
    ys = sorted({(y0, y1) for _, y0, _, y1 in tiles})
    for spans, length in ((xs, w), (ys, h)):
        for (a0, a1), (b0, _b1) in zip(spans, spans[1:]):
            assert b0 < a1 or length < len(spans)  # neighbours share pixels (unless the frame is too small)
            if length >= 10 * len(spans):
                assert a1 - b0 >= int(overlap * (a1 - a0))


def test_tile_grid_checks_its_arguments():
    for bad in [(100, 100, 0, 1, 0.1), (100, 100, 2, 2, 1.0), (100, 100, 2, 2, -0.1), (0, 100, 2, 2, 0.1)]:
        with pytest.raises(ValueError):
            tile_grid(*bad)


def test_to_frame_maps_scaled_tile_boxes_back():
    d = to_frame(Detections([[20, 40, 60, 80]], [0.5]), 100, 10, 0.5, 0.25)
    np.testing.assert_allclose(d.xyxy, [[110, 20, 130, 30]])
    assert d.score[0] == pytest.approx(0.5)


def test_tiled_detector_upscales_every_tile_and_maps_boxes_back():
    inner = Fixed([[0, 0, 20, 10]])  # the top-left corner of each upscaled tile
    tiled = TiledDetector(inner, grid=(2, 2), overlap=0.2, upscale=2.0)
    image = np.zeros((300, 500, 3), np.uint8)
    d = tiled.detect(image)
    tiles = tile_grid(500, 300, 2, 2, 0.2)
    assert [s for s in inner.sizes] == [(2 * (y1 - y0), 2 * (x1 - x0)) for x0, y0, x1, y1 in tiles]
    expected = np.array([[x0, y0, x0 + 10, y0 + 5] for x0, y0, _, _ in tiles], np.float32)
    np.testing.assert_allclose(np.sort(d.xyxy, axis=0), np.sort(expected, axis=0), atol=0.01)
    desc = tiled.describe()
    assert desc["tiles"] == [2, 2] and desc["tile_upscale"] == 2.0 and desc["tile_overlap"] == 0.2


@pytest.mark.parametrize("corner", ["tl", "tr", "bl", "br"])
def test_small_face_in_a_tile_corner_is_found_in_frame_pixels(native, astronaut, corner):
    """A 12 px face (too small for the native pass) pasted near a corner of a 1280x720 frame is found by
    the tiles, at its place in the frame."""
    k = 12 / (ASTRONAUT_FACE[2] - ASTRONAUT_FACE[0])
    small = cv2.resize(astronaut, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    frame = np.full((720, 1280, 3), 120, np.uint8)
    sh, sw = small.shape[:2]
    x = 8 if corner[1] == "l" else 1280 - sw - 8
    y = 8 if corner[0] == "t" else 720 - sh - 8
    frame[y:y + sh, x:x + sw] = small
    face = np.array([[x + ASTRONAUT_FACE[0] * k, y + ASTRONAUT_FACE[1] * k,
                      x + ASTRONAUT_FACE[2] * k, y + ASTRONAUT_FACE[3] * k]])
    tiled = TiledDetector(native, grid=(2, 2), overlap=0.15, upscale=2.0)
    found = tiled.detect(frame)
    assert len(found) >= 1
    assert iou_matrix(face, found.xyxy).max() >= 0.4


def test_tiles_find_a_face_cut_by_a_tile_edge(native, astronaut):
    """A face straddling the centre line of a 2x2 grid lies whole in the overlap: still found."""
    k = 16 / (ASTRONAUT_FACE[2] - ASTRONAUT_FACE[0])
    small = cv2.resize(astronaut, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    frame = np.full((720, 1280, 3), 120, np.uint8)
    fx, fy = 640 - (ASTRONAUT_FACE[0] + ASTRONAUT_FACE[2]) * k / 2, 360 - (ASTRONAUT_FACE[1] + ASTRONAUT_FACE[3]) * k / 2
    x, y = int(round(fx)), int(round(fy))
    frame[y:y + small.shape[0], x:x + small.shape[1]] = small
    face = np.array([[x + ASTRONAUT_FACE[0] * k, y + ASTRONAUT_FACE[1] * k,
                      x + ASTRONAUT_FACE[2] * k, y + ASTRONAUT_FACE[3] * k]])
    found = TiledDetector(native, grid=(2, 2), overlap=0.15, upscale=2.0).detect(frame)
    assert iou_matrix(face, found.xyxy).max() >= 0.4


def test_union_with_tiles_never_loses_a_native_detection():
    """Whatever the tiles report, every native box lies inside some box of the merged result."""
    from redact.detect.schedule import Scheduled

    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.uniform(0, 600, (6, 2))
        native_boxes = np.hstack([a, a + rng.uniform(4, 80, (6, 2))])
        b = rng.uniform(0, 600, (9, 2))
        tile_boxes = np.hstack([b, b + rng.uniform(4, 80, (9, 2))])
        stack = [Scheduled(Fixed(native_boxes)), Scheduled(Fixed(tile_boxes), every=3)]
        merged = run_due(stack, 0, np.zeros((700, 700, 3), np.uint8), cut=False)["face"]
        for box in native_boxes:
            inside = ((merged.xyxy[:, 0] <= box[0] + 1e-3) & (merged.xyxy[:, 1] <= box[1] + 1e-3)
                      & (merged.xyxy[:, 2] >= box[2] - 1e-3) & (merged.xyxy[:, 3] >= box[3] - 1e-3))
            assert inside.any()


def test_tiled_detector_settings_are_checked(native):
    with pytest.raises(ValueError):
        TiledDetector(native, upscale=0)
    with pytest.raises(ValueError):
        TiledDetector(native, grid=(0, 2))
    with pytest.raises(ValueError):
        TiledDetector(native, overlap=1.5)


def test_tile_scale_is_capped_for_large_frames():
    inner = Fixed([])
    tiled = TiledDetector(inner, grid=(2, 2), overlap=0.15, upscale=2.0, max_side=1472)
    tiled.detect(np.zeros((1080, 1920, 3), np.uint8))
    assert max(inner.sizes[0]) <= 1472
    assert tiled.scale_for(736, 414) == 2.0  # a 720p frame's tiles get the full upscale
    assert TiledDetector(inner, max_side=None).scale_for(5000, 10) == 2.0


def test_grow_to_only_grows_small_boxes():
    from redact.detect.faces import grow_to

    d = Detections([[10, 10, 14, 30], [100, 100, 200, 150]], [0.3, 0.9])
    g = grow_to(d, 12)
    np.testing.assert_allclose(g.xyxy, [[6, 10, 18, 30], [100, 100, 200, 150]])
    assert grow_to(d, 0) is d


@pytest.mark.parametrize("min_side", [0.0, 12.0])
def test_min_side_reaches_the_boxes_of_both_detectors(astronaut, min_side):
    k = 10 / (ASTRONAUT_FACE[2] - ASTRONAUT_FACE[0])
    frame = np.full((360, 640, 3), 120, np.uint8)
    small = cv2.resize(astronaut, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    frame[100:100 + small.shape[0], 300:300 + small.shape[1]] = small
    tiled = TiledDetector(CenterFaceDetector(provider="cpu", max_side=None), min_side=min_side)
    found = tiled.detect(frame)
    assert len(found)
    sides = np.minimum(found.xyxy[:, 2] - found.xyxy[:, 0], found.xyxy[:, 3] - found.xyxy[:, 1])
    assert (sides >= min_side - 1e-3).all()
    assert tiled.describe()["min_side"] == min_side
    with pytest.raises(ValueError):
        CenterFaceDetector(provider="cpu", min_side=-1)


def test_default_stack_lists_each_pass_and_its_settings():
    from redact.detect.stack import FULL_MAX_SIDE, LIGHT_MAX_SIDE, LIGHT_THRESHOLD, face_stack
    from redact.pipeline import ScanOptions

    opts = ScanOptions(provider="cpu")
    stack = face_stack(opts)
    desc = [s.describe() for s in stack]
    assert [(d["name"], d["every"]) for d in desc] == [
        ("centerface", 1), ("centerface", opts.detect_every), ("centerface-tiles", opts.tile_every),
        ("turned-auto", opts.detect_every)]  # faces lying down: a look, the turned pass where it finds them
    desc = desc[:3]
    assert desc[0]["max_side"] == LIGHT_MAX_SIDE and desc[1]["max_side"] == FULL_MAX_SIDE
    assert desc[0]["threshold"] == LIGHT_THRESHOLD and desc[1]["threshold"] == 0.2
    assert desc[2]["tiles"] == [2, 2] and desc[2]["tile_upscale"] == 2.0
    assert all(d["min_side"] == opts.face_min_side for d in desc)
    assert all(d["provider"] == "CPUExecutionProvider" for d in desc)


def test_detect_every_1_without_tiles_is_one_full_pass():
    from redact.detect.stack import FULL_MAX_SIDE, face_stack
    from redact.pipeline import ScanOptions

    stack = face_stack(ScanOptions(provider="cpu", detect_every=1, tile_every=0, face_threshold=0.3,
                                   lying_faces="off"))
    assert len(stack) == 1 and stack[0].every == 1
    assert stack[0].describe()["max_side"] == FULL_MAX_SIDE and stack[0].describe()["threshold"] == 0.3
    with pytest.raises(ValueError):
        face_stack(ScanOptions(provider="cpu", tile_every=-1))


class Sizes:
    """A stand-in CenterFace session: records each input's (height, width) and finds nothing."""

    def __init__(self):
        self.seen: list[tuple[int, int]] = []

    def run(self, outputs, feed):
        b, _, h, w = next(iter(feed.values())).shape
        self.seen.append((h, w))
        return [np.zeros((b, 1, h // 4, w // 4), np.float32), np.zeros((b, 2, h // 4, w // 4), np.float32),
                np.zeros((b, 2, h // 4, w // 4), np.float32)]


@pytest.mark.parametrize("width,height,sizes", [
    (1920, 1080, [(544, 960), (736, 1280), (544, 960), (736, 1280)]),  # 1080p: 960 px and 1280 px by turns
    (1280, 720, [(544, 960)] * 4),  # 720p (and smaller): 960 px every run, as before
    (720, 1280, [(544, 960)] * 4)])
def test_the_full_pass_on_large_frames_takes_turns_at_two_sizes(width, height, sizes):
    """At 1080p the full pass at 960 px halves the frame, and CenterFace scores some faces 24-40 px wide under its
    threshold there: every other run of the pass (by frame index, every ``detect_every`` frames) is at 1280 px."""
    from redact.detect.stack import face_stack
    from redact.pipeline import ScanOptions

    full = face_stack(ScanOptions(provider="cpu", tile_every=0, lying_faces="off"))[1]
    stub = Sizes()
    for d in (full.detector, getattr(full, "alt", full.detector)):
        d._session = stub  # type: ignore[attr-defined]
    frame = np.zeros((height, width, 3), np.uint8)
    every = full.every
    for k in range(4):
        full.run(k * every, frame)
    expect = [(h if width >= height else w, w if width >= height else h) for h, w in sizes]
    assert stub.seen == expect
    assert full.strided(4 * every) and not full.strided(4 * every - 1)


def test_default_stack_covers_a_tiny_face(astronaut):
    """An 8 px face in a 1280x720 frame lies inside a box of the default stack's frame 0."""
    from redact.detect.stack import face_stack
    from redact.pipeline import ScanOptions

    k = 8 / (ASTRONAUT_FACE[2] - ASTRONAUT_FACE[0])
    small = cv2.resize(astronaut, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    frame = np.full((720, 1280, 3), 120, np.uint8)
    frame[300:300 + small.shape[0], 900:900 + small.shape[1]] = small
    face = np.array([[900 + ASTRONAUT_FACE[0] * k, 300 + ASTRONAUT_FACE[1] * k,
                      900 + ASTRONAUT_FACE[2] * k, 300 + ASTRONAUT_FACE[3] * k]])
    found = run_due(face_stack(ScanOptions(provider="cpu")), 0, frame, cut=False)["face"]
    inside = ((found.xyxy[:, 0] <= face[0, 0] + 1) & (found.xyxy[:, 1] <= face[0, 1] + 1)
              & (found.xyxy[:, 2] >= face[0, 2] - 1) & (found.xyxy[:, 3] >= face[0, 3] - 1))
    assert inside.any()


class BrightTile:
    """Finds one 'face' in the middle of any tile that is mostly white; records the tiles it was shown."""

    kind = "face"
    name = "bright"

    def __init__(self):
        self.calls = 0

    def detect(self, image):
        self.calls += 1
        if image.mean() < 200:
            return Detections.empty()
        h, w = image.shape[:2]
        return Detections(np.array([[w / 2 - 4, h / 2 - 4, w / 2 + 4, h / 2 + 4]], np.float32),
                          np.array([0.9], np.float32))

    def describe(self):
        return {"name": self.name}


def _bright_frame():
    img = np.zeros((200, 200, 3), np.uint8)
    img[100:, 100:] = 255  # only the bottom-right tile is mostly white
    return img


def test_tiles_that_add_nothing_back_off_and_busy_tiles_keep_their_stride():
    inner = BrightTile()
    sched = ScheduledTiles(TiledDetector(inner, upscale=1.0), every=4, idle_factor=3)
    img = _bright_frame()
    runs = {}
    for i in range(25):
        before = inner.calls
        if sched.due(i, cut=False):
            found = sched.run(i, img, context={})
            assert len(found) == 1  # the bright tile's face is reported whenever that tile runs
        runs[i] = inner.calls - before
    # frame 0: all four tiles; afterwards the busy tile every 4 frames and the three idle ones every 12
    assert {i: n for i, n in runs.items() if n} == {0: 4, 4: 1, 8: 1, 12: 4, 16: 1, 20: 1, 24: 4}
    assert sched.describe()["idle_every"] == 12


def test_a_tile_whose_faces_the_other_passes_found_is_idle():
    inner = BrightTile()
    tiled = TiledDetector(inner, upscale=1.0)
    img = _bright_frame()
    full_pass = tiled.detect(img)  # as if the full-frame pass had found that face too
    sched = ScheduledTiles(tiled, every=4, idle_factor=3)
    assert len(sched.run(0, img, context={"face": full_pass})) == 1  # still reported: nothing is dropped
    assert [i for i in range(1, 25) if sched.due(i, cut=False)] == list(range(12, 25))


def test_a_cut_runs_every_tile_and_reset_forgets_the_clip():
    inner = BrightTile()
    sched = ScheduledTiles(TiledDetector(inner, upscale=1.0), every=4, idle_factor=3)
    img = _bright_frame()
    sched.run(0, img, context={})
    assert not sched.due(1, cut=False)
    assert sched.due(1, cut=True)
    before = inner.calls
    sched.run(1, img, context={})
    assert inner.calls - before == 4
    sched.reset()
    assert sched.due(2, cut=False) and sched.tile_runs == 0


@pytest.mark.parametrize("found, others, adds", [
    ([], [], False),
    ([[0, 0, 10, 10]], [], True),
    ([[0, 0, 10, 10]], [[1, 1, 11, 11]], False),  # IoU >= 0.3
    ([[0, 0, 10, 10]], [[-5, -5, 30, 30]], False),  # covered whole by a bigger box
    ([[0, 0, 10, 10]], [[50, 50, 60, 60]], True),
])
def test_adds_faces(found, others, adds):
    def d(rows):
        return Detections(np.array(rows, np.float32).reshape(-1, 4), np.ones(len(rows), np.float32))
    assert adds_faces(d(found), d(others)) is adds


def test_smallest_leaves_faces_narrower_at_the_input_to_other_passes(astronaut):
    """The light pass (320 px) reports faces at least LIGHT_SMALLEST px wide at its input; a 20 px face of a 1280 px
    frame is 5 px there, and only the full pass reports it."""
    from redact.detect.stack import LIGHT_SMALLEST

    k = 40 / (ASTRONAUT_FACE[2] - ASTRONAUT_FACE[0])
    frame = np.full((720, 1280, 3), 120, np.uint8)
    big = cv2.resize(astronaut, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    frame[200:200 + big.shape[0], 600:600 + big.shape[1]] = big
    found = CenterFaceDetector(provider="cpu", max_side=640).detect(frame)
    assert len(found)  # a 40 px face: 20 px at a 640 px input
    width_at_input = float((found.xyxy[:, 2] - found.xyxy[:, 0]).max()) * 640 / 1280
    assert not len(CenterFaceDetector(provider="cpu", max_side=640, smallest=width_at_input + 2).detect(frame))
    assert len(CenterFaceDetector(provider="cpu", max_side=640, smallest=width_at_input - 2).detect(frame))
    assert CenterFaceDetector(provider="cpu", smallest=LIGHT_SMALLEST).describe()["smallest"] == LIGHT_SMALLEST
    with pytest.raises(ValueError):
        CenterFaceDetector(provider="cpu", smallest=-1)
