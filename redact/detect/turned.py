"""Faces of people lying down: a detector run on the frame turned a quarter turn each way, boxes mapped back.

CenterFace was trained on upright faces. A patient in a bed seen from the side, or a clip filmed sideways, shows faces
turned 60-120 degrees in the picture, and many of those it misses (issue 23). :class:`TurnedDetector` runs its inner
detector on the frame turned 90 degrees counter-clockwise and clockwise (exact turns: ``cv2.rotate``, no
resampling), so a face lying either way is upright in one of them, and maps the boxes back to the frame's pixels.
Scheduled with the full-frame face pass (``ScanOptions.lying_faces``); the tracker fills the frames between.
"""

from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np

from ..types import Detections
from .base import Detector

TURNS = (90, 270)
"""Counter-clockwise quarter turns of the frame the inner detector sees."""
_CODES = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


def turn_image(image: np.ndarray, turn: int) -> np.ndarray:
    """``image`` turned ``turn`` (90, 180 or 270) degrees counter-clockwise."""
    return np.ascontiguousarray(cv2.rotate(image, _CODES[turn]))


def boxes_back(xyxy: np.ndarray, turn: int, width: int, height: int) -> np.ndarray:
    """Boxes found in the frame turned ``turn`` degrees counter-clockwise (:func:`turn_image`) in the pixels of the
    unturned ``width`` x ``height`` frame (continuous coordinates: pixel edges, as the detectors give them)."""
    b = np.asarray(xyxy, np.float32).reshape(-1, 4)
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    if turn == 90:  # a frame point (x, y) is at (y, width - x) in the turned frame
        out = [width - y2, x1, width - y1, x2]
    elif turn == 270:  # (x, y) -> (height - y, x)
        out = [y1, height - x2, y2, height - x1]
    elif turn == 180:  # (x, y) -> (width - x, height - y)
        out = [width - x2, height - y2, width - x1, height - y1]
    else:
        raise ValueError(f"turn must be 90, 180 or 270, got {turn!r}")
    return np.stack(out, axis=1).astype(np.float32).reshape(-1, 4)


class TurnedDetector:
    """``detector`` run on the frame turned by each of ``turns`` (degrees counter-clockwise), its boxes mapped back
    to the frame and joined (overlaps are merged later with the other face passes')."""

    name = "turned"

    def __init__(self, detector: Detector, turns: Sequence[int] = TURNS):
        bad = [t for t in turns if t not in _CODES]
        if bad or not turns:
            raise ValueError(f"turns must be some of 90, 180, 270, got {list(turns)!r}")
        self.detector, self.turns = detector, tuple(int(t) for t in turns)
        self.kind = detector.kind

    def detect(self, image: np.ndarray) -> Detections:
        h, w = image.shape[:2]
        found = []
        for turn in self.turns:
            dets = self.detector.detect(turn_image(image, turn))
            if len(dets):
                found.append(Detections(boxes_back(dets.xyxy, turn, w, h), dets.score, self.kind))
        return Detections.concat(found, self.kind).clip(w, h) if found else Detections.empty(self.kind)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "turns": list(self.turns), "inner": self.detector.describe()}
