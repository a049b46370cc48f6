"""The equalised look (redact.detect.contrast) limited to what changed since the previous look, on a reading of the
whole frame due only to its stride (regions.FULL_EVERY): the detector sees the changed parts, the previous look's
lines are kept elsewhere (issue 24, speed). Generated images only."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect import contrast, regions
from redact.detect.ocr import TextBox
from redact.detect.regions import LookPlan, RegionalReader, look_plan
from redact.detect.schedule import Scheduled, run_frame
from redact.detect.text import TextDetector
from redact.detect.watch import ChangeWatch
from redact.motion import MotionPath


def quad(x1, y1, x2, y2):
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32)


def wall(blob_x: int | None = None, word: str | None = "SPOT") -> np.ndarray:
    """A dark red wall, 640x360, the same noise on every frame (a still camera), ``word`` in light red letters of
    little contrast on its left (only an equalised frame shows it to the detector), and a dark blob (someone walking)
    at ``blob_x`` on its right."""
    rng = np.random.default_rng(0)
    image = np.full((360, 640, 3), (110, 20, 25), np.float64) + rng.normal(0, 6, (360, 640, 3))
    image = np.clip(image, 0, 255).astype(np.uint8)
    if word:
        cv2.putText(image, word, (40, 200), cv2.FONT_HERSHEY_DUPLEX, 2.4, (125, 35, 40), 7, cv2.LINE_AA)
    if blob_x is not None:
        cv2.ellipse(image, (blob_x, 180), (40, 70), 0, 0, 360, (30, 30, 35), -1)
    return cv2.GaussianBlur(image, (0, 0), 1.2)


class Looking:
    """A backend for :func:`contrast.look` alone: ``detect_at`` finds what ``boxes`` says, everything reads "AB12",
    and it keeps a :class:`LookPlan` as the regional reader does."""

    name = "looking"

    def __init__(self, boxes, plan=None):
        self.boxes, self.plan, self.asked, self.kept = boxes, plan, [], None

    def detect_at(self, image, side, regions=None):
        self.asked.append(regions)
        return [TextBox(q, 0.9) for q in self.boxes]

    def recognise_quads(self, image, quads):
        return ["AB12"] * len(quads), [0.95] * len(quads)

    def look_plan(self):
        return self.plan

    def looked(self, lines):
        self.kept = lines


def test_a_look_with_a_plan_detects_the_parts_and_keeps_the_previous_lines_elsewhere():
    before = [TextBox(quad(10, 10, 110, 40), 0.9, "SPOT", 0.99),   # nothing changed there: kept, carried 5 px right
              TextBox(quad(300, 10, 400, 40), 0.9, "EXIT", 0.98),  # in a changed part: looked at again
              TextBox(quad(10, 300, 110, 330), 0.9, "WARD", 0.97)]  # now under a main-pass line: left to it
    shift = np.array([[1.0, 0.0, 5.0], [0.0, 1.0, 0.0]])
    plan = LookPlan(0, np.array([[280.0, 0.0, 460.0, 80.0]]), shift, before)
    backend = Looking([quad(320, 12, 420, 42)], plan)
    out = contrast.look(backend, np.zeros((360, 640, 3), np.uint8), [np.array([0, 290, 130, 340])])
    assert len(backend.asked) == 1 and np.array_equal(backend.asked[0], plan.parts)
    assert [b.text for b in out] == ["SPOT", "AB12"]
    assert np.allclose(out[0].xyxy, [15, 10, 115, 40])
    assert backend.kept == out  # the next look compares with this one


def test_a_look_without_a_plan_is_the_whole_frame_as_before():
    backend = Looking([quad(320, 12, 420, 42)])
    out = contrast.look(backend, np.zeros((360, 640, 3), np.uint8), [])
    assert backend.asked == [None] and [b.text for b in out] == ["AB12"] and backend.kept == out


def _reader_that_looked(lines, thumb, frame=0, shape=(360, 640)):
    reader = RegionalReader(Looking([]))
    reader._look_now = (frame, shape, thumb, None)
    reader.looked(lines)
    return reader


def test_the_look_plan_holds_what_changed_since_the_previous_look():
    watch = ChangeWatch()
    a, b = wall(blob_x=450), wall(blob_x=500)
    ta, tb = watch.thumbnail(0, a), watch.thumbnail(100, b)
    lines = [TextBox(quad(30, 130, 300, 210), 0.9, "SPOT", 0.99)]
    motion = MotionPath()
    for i in range(102):
        motion.add(i, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), True)
    plan = look_plan(_reader_that_looked(lines, ta), tb, 100, b, motion)
    assert plan is not None and plan.since == 0 and plan.lines == lines
    x1, y1, x2, y2 = plan.parts.min(axis=0)[0], plan.parts.min(axis=0)[1], plan.parts.max(axis=0)[2], plan.parts.max(axis=0)[3]
    assert x1 > 300 and x2 >= 540 and y1 <= 110 and y2 >= 250  # the blob's old and new places, not the word
    # the last look at the whole frame LOOK_WHOLE_EVERY frames ago or more: the whole frame
    for i in range(102, 400):
        motion.add(i, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), True)
    assert look_plan(_reader_that_looked(lines, ta), tb, regions.LOOK_WHOLE_EVERY - 1, b, motion) is not None
    assert look_plan(_reader_that_looked(lines, ta), tb, regions.LOOK_WHOLE_EVERY, b, motion) is None
    # nothing to compare with: the whole frame
    assert look_plan(RegionalReader(Looking([])), tb, 100, b, motion) is None
    # most of the frame changed (boards put up over it): the whole frame
    boarded = b.copy()
    for x in range(0, 640, 160):
        boarded[:, x:x + 110] = (230, 230, 230)
    assert look_plan(_reader_that_looked(lines, ta), watch.thumbnail(101, boarded), 101, boarded, motion) is None


@pytest.fixture(scope="module")
def rapid():
    pytest.importorskip("rapidocr")
    from redact.detect.rapidocr import RapidOcrBackend

    return RapidOcrBackend(provider="cpu")


def test_lettering_of_low_contrast_stays_covered_when_the_look_reads_parts(rapid, monkeypatch):
    """A still camera on a red wall with "SPOT" in red, someone walking past on the right: the reading of the whole
    frame due by FULL_EVERY takes its equalised look at the walker's part only, and "SPOT" (found by the first
    look) is kept there as it was."""
    monkeypatch.setattr(regions, "FULL_EVERY", 10)
    asked: list = []
    detect_at = rapid.detect_at

    def recording(image, side, regions=None):
        asked.append(None if regions is None else np.array(regions))
        return detect_at(image, side, regions)

    monkeypatch.setattr(rapid, "detect_at", recording)
    det = TextDetector(rapid)
    s = Scheduled(det, every=5, watch=ChangeWatch())
    motion = MotionPath()
    found = {}
    for i in range(11):
        motion.add(i, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), True)
        ran = run_frame([s], i, wall(blob_x=420 + 8 * i), cut=False, motion=motion)
        found[i] = ran.found.get("text")
    # readings: 0 (whole, a whole look), 5 (parts: no look), 10 (whole by FULL_EVERY: a look at parts)
    assert len(asked) == 2 and asked[0] is None and asked[1] is not None
    parts = asked[1]
    assert parts[:, 0].min() > 300  # the walker's side only
    share = float(np.sum((parts[:, 2] - parts[:, 0]) * (parts[:, 3] - parts[:, 1]))) / (640 * 360)
    assert share < 0.5
    for i in (0, 10):
        boxes = found[i].xyxy
        assert any(x1 <= 45 and x2 >= 250 and y1 <= 160 and y2 >= 200 for x1, y1, x2, y2 in boxes), (i, boxes)
