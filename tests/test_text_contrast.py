"""The second look for lettering of low contrast (redact.detect.contrast): generated images only."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect import contrast
from redact.detect.ocr import TextBox
from redact.detect.regions import RegionalReader
from redact.detect.text import TextDetector


def red_on_red(word: str = "SPOT", seed: int = 0) -> np.ndarray:
    """Light red letters on a dark red ground, 640x360 RGB: little contrast in lightness, a camera's noise and blur."""
    rng = np.random.default_rng(seed)
    image = np.full((360, 640, 3), (110, 20, 25), np.float64) + rng.normal(0, 6, (360, 640, 3))
    image = np.clip(image, 0, 255).astype(np.uint8)
    cv2.putText(image, word, (180, 210), cv2.FONT_HERSHEY_DUPLEX, 3.0, (125, 35, 40), 8, cv2.LINE_AA)
    return cv2.GaussianBlur(image, (0, 0), 1.2)


def textured(seed: int = 0) -> np.ndarray:
    """No lettering: short strokes of reds and browns scattered over a red ground (a patterned cloth, scratches), 640x360
    RGB; the equalised frame's detector takes some of it for lines."""
    rng = np.random.default_rng(seed)
    image = np.full((360, 640, 3), (120, 40, 35), np.uint8)
    for _ in range(400):
        x, y = int(rng.integers(0, 640)), int(rng.integers(0, 360))
        a, n = rng.uniform(0, np.pi), int(rng.integers(5, 20))
        colour = tuple(int(v) for v in rng.integers(100, 150, 3))
        cv2.line(image, (x, y), (int(x + n * np.cos(a)), int(y + n * np.sin(a))), colour, 2, cv2.LINE_AA)
    return cv2.GaussianBlur(image, (0, 0), 1.0)


@pytest.fixture(scope="module")
def backend():
    pytest.importorskip("rapidocr")
    from redact.detect.rapidocr import RapidOcrBackend

    return RapidOcrBackend(provider="cpu")


def test_red_lettering_on_red_is_found_by_the_second_look_only(backend):
    image = red_on_red()
    plain = TextDetector(backend, contrast=False).detect(image)
    looked = TextDetector(backend).detect(image)
    assert len(plain) == 0  # the detector alone gives no box for it
    assert len(looked) == 1
    x1, y1, x2, y2 = looked.xyxy[0]
    assert x1 <= 185 and x2 >= 450 and y1 <= 150 and y2 >= 215  # the word's letters (180-450 x 150-215) covered


def test_textured_ground_gets_no_box_from_the_second_look(backend):
    image = textured()
    assert backend.detect_at(contrast.equalised(image), 360)  # the look's detector does see lines in it ...
    assert len(TextDetector(backend, contrast=False).detect(image)) == 0
    assert len(TextDetector(backend).detect(image)) == 0  # ... none of them read surely


def test_lines_found_by_the_main_pass_are_not_added_again(backend):
    image = np.full((360, 640, 3), 235, np.uint8)
    cv2.putText(image, "Ward 7 North", (60, 200), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (20, 20, 20), 5, cv2.LINE_AA)
    plain = TextDetector(backend, contrast=False).read(image)
    looked = TextDetector(backend).read(image)
    assert len(plain) >= 1 and len(looked) == len(plain)


def test_a_backend_without_detect_at_gets_no_second_look():
    class Plain:
        name = "plain"

        def read(self, image):
            return []

        def describe(self):
            return {"name": self.name}

    assert not contrast.able(Plain())
    assert not contrast.able(RegionalReader(Plain()))  # the wrapper has detect_at; what it wraps has not
    assert TextDetector(Plain()).read(red_on_red()) == []
    assert TextDetector(Plain()).describe()["contrast"]["side"] == contrast.LOOK_SIDE
    assert TextDetector(Plain(), contrast=False).describe()["contrast"] is None


def test_new_lines_are_those_mostly_outside_the_known_boxes():
    known = [np.array([0, 0, 100, 20]), np.array([100, 0, 200, 20])]
    boxes = np.array([[10, 0, 90, 20],     # inside one known box
                      [50, 0, 150, 20],    # across two known boxes: their union covers it
                      [150, 0, 300, 20],   # a third under a known box
                      [0, 100, 50, 120]])  # nowhere near
    assert contrast.new_lines(boxes, known).tolist() == [False, False, True, True]
    assert contrast.new_lines(boxes, []).tolist() == [True] * 4


def test_only_lines_read_surely_are_kept():
    assert contrast.sure("SPOT", 0.99)
    assert not contrast.sure("SPOT", 0.6)
    assert not contrast.sure("I", 0.99)  # one character: texture reads as one
    assert not contrast.sure("--", 0.99)
    assert not contrast.sure(None, 0.0)


def test_kept_lines_are_read_in_the_equalised_frame():
    class Fake:
        def __init__(self):
            self.seen: list[np.ndarray] = []

        def detect_at(self, image, side):
            self.seen.append(image)
            return [TextBox([[10, 10], [90, 10], [90, 30], [10, 30]], 0.9),
                    TextBox([[10, 50], [90, 50], [90, 70], [10, 70]], 0.9)]

        def recognise_quads(self, image, quads):
            self.seen.append(image)
            return ["AB12", "x"], [0.95, 0.99]

    fake = Fake()
    image = red_on_red()
    lines = contrast.look(fake, image, [])
    assert len(lines) == 1 and lines[0].text == "AB12"
    assert all(np.array_equal(s, contrast.equalised(image)) for s in fake.seen)
    assert contrast.look(fake, image, [np.array([0, 0, 640, 360])]) == []  # all known: nothing recognised
