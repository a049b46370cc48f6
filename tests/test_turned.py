"""Faces of people lying down (redact.detect.turned, ScanOptions.lying_faces; issue 23)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect import CenterFaceDetector
from redact.detect.base import iou_matrix
from redact.detect.stack import face_stack
from redact.detect.turned import TurnedDetector, boxes_back, turn_image
from redact.options import ScanOptions
from redact.types import Detections

CROP_FACE = (84, 60, 174, 178)  # the astronaut's face in astronaut[0:256, 96:352]


class WhiteBoxes:
    """A stand-in detector: the bounding box of the white pixels, in the pixels of the image it is given."""

    kind, name = "face", "white"

    def __init__(self):
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, image: np.ndarray) -> Detections:
        self.shapes.append(image.shape)
        ys, xs = np.nonzero(image[..., 0] == 255)
        if not len(xs):
            return Detections.empty()
        return Detections([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], [0.9])

    def describe(self) -> dict:
        return {"name": self.name}


@pytest.mark.parametrize("turn", [90, 180, 270])
@pytest.mark.parametrize("box", [(10, 20, 50, 30), (0, 0, 7, 5), (300, 100, 320, 180), (123, 45, 124, 46)])
def test_boxes_found_in_a_turned_frame_map_back_exactly(turn, box):
    frame = np.zeros((180, 320, 3), np.uint8)  # not square: width and height swap in a quarter turn
    x1, y1, x2, y2 = box
    frame[y1:y2, x1:x2] = 255
    turned = turn_image(frame, turn)
    assert turned.shape[:2] == ((180, 320) if turn == 180 else (320, 180))
    found = WhiteBoxes().detect(turned)
    assert boxes_back(found.xyxy, turn, 320, 180).tolist() == [list(map(float, box))]


def test_turned_detector_looks_at_both_quarter_turns_and_reports_frame_pixels():
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[30:50, 100:112] = 255
    inner = WhiteBoxes()
    found = TurnedDetector(inner).detect(frame)
    assert inner.shapes == [(160, 90, 3), (160, 90, 3)]
    assert found.kind == "face" and found.xyxy.tolist() == [[100, 30, 112, 50]] * 2
    assert len(TurnedDetector(inner).detect(np.zeros((90, 160, 3), np.uint8))) == 0
    with pytest.raises(ValueError):
        TurnedDetector(inner, turns=(45,))
    with pytest.raises(ValueError):
        boxes_back(np.zeros((1, 4)), 45, 10, 10)


@pytest.fixture(scope="module")
def astronaut_head() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[0:256, 96:352])


@pytest.mark.parametrize("turn", [90, 270])
def test_a_face_lying_on_its_side_is_found_where_it_is(astronaut_head, turn):
    """A head lying sideways in a 720p frame (a patient in bed seen from the side): the turned passes see it upright
    and give its box in the frame's pixels."""
    size, x0, y0 = 128, 700, 300
    frame = np.full((720, 1280, 3), (200, 205, 210), np.uint8)
    head = cv2.resize(astronaut_head, (size, size), interpolation=cv2.INTER_AREA)
    frame[y0:y0 + size, x0:x0 + size] = np.rot90(head, turn // 90)  # counter-clockwise, as turn_image
    s = size / 256
    face = np.array([CROP_FACE], np.float32) * s
    truth = boxes_back(face, 360 - turn, size, size)[0] + [x0, y0, x0, y0]  # the face box turned with the head
    found = TurnedDetector(CenterFaceDetector(provider="cpu", max_side=960)).detect(frame)
    assert len(found) >= 1
    iou = iou_matrix(found.xyxy, truth[None].astype(np.float32))[:, 0]
    assert iou.max() > 0.5
    assert found.score[int(np.argmax(iou))] > 0.7  # seen upright: a confident face


def test_lying_faces_adds_a_turned_pass_with_the_full_pass():
    plain = face_stack(ScanOptions(provider="cpu"))
    assert not any(isinstance(s.detector, TurnedDetector) for s in plain)
    stack = face_stack(ScanOptions(provider="cpu", lying_faces=True, detect_every=5))
    turned = [s for s in stack if isinstance(s.detector, TurnedDetector)]
    assert len(turned) == 1 and turned[0].every == 5 and turned[0].detector.turns == (90, 270)
    assert turned[0].describe()["inner"]["name"] == "centerface"
