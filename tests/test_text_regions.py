"""A text reading limited to what changed since the previous one (issue 24, :mod:`redact.detect.regions`).

Detection is what a reading costs, in proportion to the pixels it sees; pixels that did not change since the previous
reading give that reading's lines again. So a reading detects only in the parts of the frame that changed and keeps
the previous reading's lines elsewhere; the whole frame is read when the comparison cannot vouch for the rest.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect import regions
from redact.detect.ocr import TextBox
from redact.detect.regions import Plan, RegionalReader, regional_reader
from redact.detect.watch import changed_boxes
from redact.detect.schedule import Scheduled, run_frame
from redact.detect.watch import ChangeWatch


def scene(lines: list[tuple[str, int, int]], blob_x: int | None = None, size=(640, 360)) -> np.ndarray:
    """A grey wall with some texture, black ``lines`` (text, x, baseline y) on white, and a dark blob (someone
    walking) at ``blob_x``."""
    w, h = size
    img = np.full((h, w, 3), 128, np.uint8)
    rng = np.random.default_rng(1)
    for _ in range(40):
        x, y = (int(v) for v in rng.integers(0, [w - 20, h - 20]))
        img[y:y + 12, x:x + 12] = rng.integers(90, 170, 3)
    for text, x, y in lines:
        cv2.rectangle(img, (x - 6, y - 28), (x + 16 * len(text) + 6, y + 10), (250, 250, 250), -1)
        cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2, cv2.LINE_AA)
    if blob_x is not None:
        cv2.ellipse(img, (blob_x, 250), (40, 70), 0, 0, 360, (40, 50, 60), -1)
    return img


class Fake:
    """An OCR backend that finds the white cards of :func:`scene` (by their pixels), counting the pixels it was asked
    to look at: whole frames through ``read``, parts through ``read_regions``."""

    name = "fake"
    partial_recognition = True

    def __init__(self):
        self.whole = 0
        self.parts: list[np.ndarray] = []

    def _cards(self, image: np.ndarray, x0: int = 0, y0: int = 0) -> list[TextBox]:
        white = (image.min(axis=2) > 240).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(white)
        out = []
        for x, y, w, h, area in stats[1:n]:
            if area > 200:
                q = [(x0 + x, y0 + y), (x0 + x + w, y0 + y), (x0 + x + w, y0 + y + h), (x0 + x, y0 + y + h)]
                out.append(TextBox(q, 0.9, "card", 0.9))
        return out

    def read(self, image, recognise=None):
        self.whole += 1
        return self._cards(image)

    def read_regions(self, image, parts, recognise=None):
        self.parts.append(np.asarray(parts))
        out = []
        for x1, y1, x2, y2 in np.asarray(parts).astype(int):
            out += [b for b in self._cards(image[y1:y2, x1:x2], x1, y1)]
        return out

    def recognise_quads(self, image, quads):
        return ["card"] * len(quads), [0.9] * len(quads)

    def describe(self):
        return {"name": self.name}


def test_nothing_changed_is_no_part_and_a_shift_the_transform_explains_is_none():
    rng = np.random.default_rng(0)
    ref = cv2.GaussianBlur(rng.uniform(0, 255, (90, 160)).astype(np.float32), (0, 0), 1.5)
    assert len(changed_boxes(ref, ref.copy(), None)) == 0
    moved = np.roll(ref, 5, axis=1)
    assert len(changed_boxes(ref, moved, None)) > 0
    inside = changed_boxes(ref, moved, np.array([[1.0, 0, 5], [0, 1.0, 0]]))
    assert all(b[2] <= 8 for b in inside), "only the strip the shift brought in"
    new = ref.copy()
    new[40:50, 60:100] += 80
    (box,) = changed_boxes(ref, new, None)
    assert box[0] <= 60 and box[1] <= 40 and box[2] >= 100 and box[3] >= 50 and box[2] - box[0] < 50


def test_a_new_line_away_from_the_known_ones_is_found_by_reading_only_what_changed():
    from redact.detect.text import TextDetector

    fake = Fake()
    det = TextDetector(fake, sharpen=False)
    s = Scheduled(det, every=25, watch=ChangeWatch())
    old = [("WARD 7", 40, 60)]
    frames = [scene(old, blob_x=300 + 4 * i) for i in range(25)] + [scene(old + [("LI WU", 420, 140)], 400)]
    found = []
    for i, img in enumerate(frames):
        found.append(run_frame([s], i, img, cut=False).found.get("text"))
    reader = regional_reader(det)
    assert isinstance(reader, RegionalReader)
    assert fake.whole == 1 and reader.partial == 1 and len(fake.parts) == 1
    (parts,) = fake.parts
    area = float(np.sum((parts[:, 2] - parts[:, 0]) * (parts[:, 3] - parts[:, 1])))
    assert area < 0.5 * 640 * 360, "the blob's path and the new card, not the frame"
    boxes = found[25].xyxy
    assert len(boxes) == 2, "the known line carried, the new one found"
    assert any(b[0] <= 40 and b[2] >= 130 and b[1] <= 35 for b in boxes)
    assert any(b[0] <= 420 and b[2] >= 490 and b[1] <= 115 for b in boxes)


def test_the_whole_frame_is_read_on_cuts_after_a_zoom_and_every_full_every_frames(monkeypatch):
    from redact.detect.text import TextDetector

    fake = Fake()
    det = TextDetector(fake, sharpen=False)
    s = Scheduled(det, every=5, watch=ChangeWatch())
    monkeypatch.setattr(regions, "FULL_EVERY", 20)
    frames = [scene([("WARD 7", 40, 60)], blob_x=200 + 3 * i) for i in range(41)]
    for i, img in enumerate(frames):
        run_frame([s], i, img, cut=i == 10)
    reader = regional_reader(det)
    # readings at 0 (whole), 5 (part), 10 (cut: whole), 15 (part), 20, 25 (parts), 30 (20 after 10: whole), 35, 40
    assert fake.whole == 3 and reader.partial == 6
    assert not RegionalReader(fake).within_zoom(np.array([[1.08, 0, 0], [0, 1.08, 0]]))
    assert RegionalReader(fake).within_zoom(np.array([[1.02, 0, 3], [0, 1.02, -4]]))


def test_without_a_plan_the_reader_reads_the_whole_image():
    fake = Fake()
    reader = RegionalReader(fake)
    img = scene([("WARD 7", 40, 60)])
    assert len(reader.read(img)) == 1 and fake.whole == 1
    reader.plan(Plan(3, (640, 360)))
    reader.read(img)
    reader.plan(Plan(4, (640, 360), since=3, parts=np.zeros((0, 4)), transform=np.eye(2, 3)))
    assert len(reader.read(img)) == 1 and fake.whole == 2 and reader.partial == 1, "nothing changed: carried"


@pytest.fixture(scope="module")
def rapid():
    from redact.detect.text import RapidOcrBackend

    return RapidOcrBackend(provider="cpu")


def test_rapidocr_reads_a_region_as_it_reads_the_whole_image(rapid):
    img = scene([("WARD 7", 40, 60), ("LI WU", 420, 140)])
    whole = sorted(tuple(np.round(b.xyxy).astype(int)) for b in rapid.read(img))
    same = sorted(tuple(np.round(b.xyxy).astype(int)) for b in rapid.read_regions(img, np.array([[0, 0, 640, 360]])))
    assert whole == same and len(whole) >= 2
    (line,) = [b for b in rapid.read_regions(img, np.array([[380, 80, 640, 200]])) if b.xyxy[0] > 400]
    assert line.text and "WU" in line.text.upper()
    # (a few pixels off at most: the detector's squeeze-excitation layers average over all the pixels they see)
    assert min(np.abs(np.array(b) - line.xyxy).max() for b in whole) <= 6
    texts, scores = rapid.recognise_quads(img, np.array([line.quad]))
    assert texts[0] == line.text


def test_a_new_clip_forgets_the_previous_clips_last_reading():
    """Scheduled.reset (every clip) resets the text detector, which resets its RegionalReader: the previous clip's
    lines are not kept into the next."""
    from redact.detect.text import TextDetector

    det = TextDetector(Fake(), sharpen=False)
    reader = regional_reader(det)
    assert reader is not None
    reader.plan(Plan(0, (640, 360)))
    reader.read(scene([("WARD 7", 40, 60)], 300))
    assert reader.chains(0)
    Scheduled(det, every=25, watch=ChangeWatch()).reset()
    assert not reader.chains(0)


def test_rapidocr_gives_each_line_its_own_detection_score(rapid):
    """rapidocr sorts the detected boxes top to bottom but not their scores: each line must keep the score the
    detector gave it (read_regions pairs them before any sorting), whichever order the lines were found in."""
    img = scene([("FAINT", 40, 60), ("NURSE BAY 4", 300, 140), ("LI WU", 60, 230), ("EXIT 12", 360, 310)])
    img[30:75, 30:140] = (img[30:75, 30:140].astype(np.float32) * 0.25 + 150).astype(np.uint8)  # a faint card
    whole = rapid.read(img)
    regional = rapid.read_regions(img, np.array([[0, 0, 640, 360]]))
    assert len(whole) == len(regional) >= 3
    assert len({round(b.score, 3) for b in whole}) > 1, "the lines should not all score the same"
    for b in whole:
        (twin,) = [r for r in regional if np.abs(r.xyxy - b.xyxy).max() <= 2]
        assert b.score == pytest.approx(twin.score, abs=1e-4)  # (normalised in another order: 1e-6 apart)


def test_a_reading_for_new_ground_reads_that_ground_and_keeps_only_lines_read_surely():
    """With the change watch's ``reveal`` (off by default), a pan that shows new ground makes the text detector due;
    that reading looks at the new ground only, and keeps what it finds there only when recognised surely (texture at
    the frame's edge waits for the next whole reading, as without it)."""
    from redact.detect.text import TextDetector
    from redact.detect.watch import REVEAL_SHARE
    from redact.motion import MotionPath

    wide = scene([("WARD 7", 40, 60), ("LI WU", 680, 140)], size=(1280, 360))
    frames, motion = [], MotionPath()
    for i in range(16):
        frames.append(np.ascontiguousarray(wide[:, 12 * i:12 * i + 640]))  # pans right 12 px a frame: LI WU comes in
        motion.add(i, np.array([[1.0, 0.0, -12.0], [0.0, 1.0, 0.0]]), i > 0)

    class Unsure(Fake):  # reads the cards in parts unsurely
        def read_regions(self, image, parts, recognise=None):
            return [TextBox(b.quad, b.score, "card", 0.6) for b in super().read_regions(image, parts, recognise)]

    for backend, kept in ((Fake(), True), (Unsure(), False)):
        det = TextDetector(backend, sharpen=False)
        s = Scheduled(det, every=25, watch=ChangeWatch(reveal=REVEAL_SHARE))
        found = [run_frame([s], i, img, cut=False, motion=motion).found.get("text") for i, img in enumerate(frames)]
        assert s.watch.reveals >= 1 and backend.whole == 1 and s.watch.readings == 0
        for parts in backend.parts:  # a strip along the right edge (and a margin), not the frame
            assert parts[:, 0].min() >= 320 and parts[:, 2].max() == 640
        new = [f for i, f in enumerate(found) if i > 0 and f is not None]
        assert any((f.xyxy[:, 0] > 400).any() for f in new) == kept  # LI WU (its card from x 674 - 12 i) or not yet
