"""When each detector runs: cheap ones on every frame, expensive ones every N frames and on scene cuts.

A frame an expensive detector skips is still covered: the tracker interpolates between the frames it did
run on, and pre-/post-roll of at least N frames covers objects that appear or vanish in between
(see :func:`tracker_config_for`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from ..track import TrackerConfig
from ..types import Detections
from .base import Detector, merge_enclosing

THUMB = (32, 18)
CUT_THRESHOLD = 28.0
"""Mean absolute difference (0-255) between consecutive 32x18 grey thumbnails that counts as a cut."""


@dataclass
class Scheduled:
    """A detector and its stride: it runs on frame 0, every ``every`` frames after its last run, and on cuts."""

    detector: Detector
    every: int = 1
    _last: int = field(default=-(10**9), repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"every must be an integer >= 1, got {self.every!r}")

    def reset(self) -> None:
        """Forget the last run (call before each new clip); a detector with a ``reset()`` forgets its state too."""
        self._last = -(10**9)
        reset = getattr(self.detector, "reset", None)
        if callable(reset):
            reset()

    def due(self, frame_index: int, cut: bool) -> bool:
        return self.every == 1 or cut or frame_index - self._last >= self.every

    def run(self, frame_index: int, image: np.ndarray,
            context: Mapping[str, Detections] | None = None) -> Detections:
        self._last = frame_index
        if getattr(self.detector, "uses_context", False):
            return self.detector.detect(image, context=context or {})
        return self.detector.detect(image)

    def describe(self) -> dict[str, Any]:
        d = dict(self.detector.describe())
        d["every"] = self.every
        return d


class CutDetector:
    """Flags a frame whose grey thumbnail differs strongly from the previous frame's (a scene cut)."""

    def __init__(self, threshold: float = CUT_THRESHOLD):
        self.threshold = threshold
        self._prev: np.ndarray | None = None

    def update(self, image: np.ndarray) -> bool:
        grey = cv2.cvtColor(cv2.resize(image, THUMB, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        grey = grey.astype(np.float32)
        cut = self._prev is not None and float(np.abs(grey - self._prev).mean()) > self.threshold
        self._prev = grey
        return cut


def run_due(stack: Sequence[Scheduled], frame_index: int, image: np.ndarray, cut: bool,
            merge_iou: float = 0.5) -> dict[str, Detections]:
    """Run the detectors due on this frame; their detections merged per kind (overlaps -> enclosing box)."""
    found: dict[str, list[Detections]] = {}
    for s in stack:
        if s.due(frame_index, cut):
            wants = getattr(s, "uses_context", False) or getattr(s.detector, "uses_context", False)
            context = _merged(found, merge_iou) if wants else None
            found.setdefault(s.detector.kind, []).append(s.run(frame_index, image, context))
    return _merged(found, merge_iou)


def _merged(found: dict[str, list[Detections]], merge_iou: float) -> dict[str, Detections]:
    out = {}
    for kind, dets in found.items():
        merged = Detections.concat(dets, kind)
        out[kind] = merge_enclosing(merged, merge_iou) if len(dets) > 1 and len(merged) > 1 else merged
    return out


def tracker_config_for(stack: Sequence[Scheduled], kind: str, base: TrackerConfig | None = None) -> TrackerConfig:
    """A tracker config whose rolls and gap tolerance cover the longest stride of this kind's detectors."""
    base = base or TrackerConfig()
    stride = max((s.every for s in stack if s.detector.kind == kind), default=1)
    if stride <= 1:
        return base
    return replace(base, pre_roll=max(base.pre_roll, stride), post_roll=max(base.post_roll, stride),
                   max_gap=max(base.max_gap, 2 * stride))
