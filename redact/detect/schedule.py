"""When each detector runs: cheap ones on every frame, expensive ones every N frames, on scene cuts and (with a
:class:`~redact.detect.watch.ChangeWatch`) when what they found changes.

A frame an expensive detector skips is still covered: the tracker interpolates between the frames it did
run on, and pre-/post-roll of at least N frames covers objects that appear or vanish in between
(see :func:`tracker_config_for`). That assumes what was found stays what it was until the next run: a monitor
that shows another patient's name every 0.4 s breaks it (a longer name between two readings of short ones shows
past the boxes interpolated between them). A :class:`~redact.detect.watch.ChangeWatch` compares, on every frame, the pixels around
what the last run found with that run's frame and makes the detector due again when they changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping, Sequence, cast

import cv2
import numpy as np

from ..track import TrackerConfig
from ..types import Detections
from .base import ContextDetector, Detector, merge_enclosing
from .regions import prepare
from .watch import ChangeWatch, Settled

if TYPE_CHECKING:
    from ..motion import MotionPath

THUMB = (32, 18)
CUT_THRESHOLD = 28.0
"""Mean absolute difference (0-255) between consecutive 32x18 grey thumbnails that counts as a cut where either
picture is nearly flat (:class:`CutDetector`)."""
SHAPE_THUMB = (16, 9)
SHAPE_THRESHOLD = 0.3
"""Contrast-normalised difference (:func:`shape_change`) between consecutive 16x9 thumbnails that counts as a cut.
Measured (docs/benchmarks.md, "Scene cuts"): the three cuts of the Hamilton clip (dark stage and audience) score
0.38-0.45; every other frame of the 13 shared clips and of 30 pan/zoom/shake clips at most 0.20."""
SHAPE_FLOOR = 16.0
"""Contrast (standard deviation of a thumbnail, 0-255) below which a thumbnail is not stretched further: a flat or
nearly flat picture's noise and a page of small print's aliasing are not a scene's shape."""
FLAT = 8.0
"""Contrast (standard deviation of a 16x9 thumbnail, 0-255) under which a picture is nearly flat (black, white,
fogged), so its shape says nothing and a cut to or from it is judged by brightness. Real footage measured 14.5 at
the least (a crowd at night, a dark stage); a page of small print 7-11."""
SHAPE_SHIFT = 1
"""Thumbnail pixels (1/16 of the width) either way the two thumbnails are slid against each other, the closest
match counting: a pan or shake moves the picture, a cut replaces it."""


@dataclass
class Scheduled:
    """A detector and its stride: it runs on frame 0, every ``every`` frames after its last run, and on cuts;
    with a ``watch`` (:class:`ChangeWatch`), also when what its last run found has changed or the camera has shown
    new ground since (:attr:`ChangeWatch.revealed`), at most every ``watch.gap`` frames."""

    detector: Detector
    every: int = 1
    watch: ChangeWatch | None = None
    _last: int = field(default=-(10**9), repr=False)

    hands_back = 0
    """Frames back at most that this detector's runs hand detections to (:meth:`handed_back`): the trackers of its
    kind are given each frame's detections that many frames late (:class:`redact.analyse.TrackerFeed`)."""

    def __post_init__(self) -> None:
        if not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"every must be an integer >= 1, got {self.every!r}")

    def reset(self) -> None:
        """Forget the last run (call before each new clip); a detector with a ``reset()`` forgets its state too."""
        self._last = -(10**9)
        if self.watch is not None:
            self.watch.reset()
        reset = getattr(self.detector, "reset", None)
        if callable(reset):
            reset()

    def forget(self) -> None:
        """Forget the last run, not the detector's state: due on the next frame (what it found was lost)."""
        self._last = -(10**9)
        if self.watch is not None:
            self.watch.forget()

    def align(self, start: int) -> None:
        """Start in step with a scan that began at frame 0, for a scan that begins at frame ``start`` (a segment of
        a clip, :mod:`redact.segments`): next due on the first multiple of ``every`` at or after ``start``, as it
        would be there were no cuts or changes before it."""
        if self.every > 1 and start % self.every:
            self._last = start - start % self.every

    def strided(self, frame_index: int) -> bool:
        """Due on ``frame_index`` by the stride alone (``every`` frames since the last run)."""
        return frame_index - self._last >= self.every

    def due(self, frame_index: int, cut: bool) -> bool:
        watch = self.watch
        changed = watch is not None and (watch.pending is not None or watch.revealed)
        return (self.every == 1 or cut or self.strided(frame_index)
                or (watch is not None and changed and frame_index - self._last >= watch.gap))

    def run(self, frame_index: int, image: np.ndarray,
            context: Mapping[str, Detections] | None = None) -> Detections:
        self._last = frame_index
        if getattr(self.detector, "uses_context", False):
            return cast(ContextDetector, self.detector).detect(image, context=context or {})
        return self.detector.detect(image)

    def handed_back(self) -> list[tuple[int, Detections]]:
        """Detections of earlier frames (at most :attr:`hands_back` frames before the last run's) that the last run
        settled should be tracked there after all, as ``(frame, detections)``; each is handed back once (none here)."""
        return []

    def describe(self) -> dict[str, Any]:
        d = dict(self.detector.describe())
        d["every"] = self.every
        if self.watch is not None:
            d["on_change"] = self.watch.describe()
        return d


class CutDetector:
    """Flags a frame that shows another scene than the previous frame (a scene cut), by tests on grey thumbnails:

    * the picture's shape changed: :func:`shape_change` of 16x9 thumbnails is over ``shape_threshold``
      (:data:`SHAPE_THRESHOLD`). It is measured against the pictures' own contrast, so a cut from one dark scene to
      another (a stage and its audience), which moves few grey levels, counts; a change of light alone (same
      picture, brighter) does not, nor does a pan of up to a few percent of the width a frame;
    * where either picture is nearly flat (contrast under :data:`FLAT`: a black, white or fogged frame, whose shape
      says nothing), the brightness changed strongly: the mean absolute difference of 32x18
      thumbnails (0-255) is over ``threshold`` (:data:`CUT_THRESHOLD`). On pictures with contrast this test is not
      used: a pan of 4% of the width a frame already moved 41 grey levels on crowd photos (a false cut restarts
      every track and runs every detector).
    """

    def __init__(self, threshold: float = CUT_THRESHOLD, shape_threshold: float = SHAPE_THRESHOLD):
        self.threshold = threshold
        self.shape_threshold = shape_threshold
        self._prev: _Thumb | None = None

    def update(self, image: np.ndarray) -> bool:
        grey = cv2.cvtColor(cv2.resize(image, THUMB, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        thumb = _thumb(grey.astype(np.float32))
        prev, self._prev = self._prev, thumb  # shrunk once: this frame's thumbnail is the next frame's previous one
        if prev is None:
            return False
        return _is_cut(prev, thumb, self.threshold, self.shape_threshold)


def is_cut(a: np.ndarray, b: np.ndarray, threshold: float = CUT_THRESHOLD,
           shape_threshold: float = SHAPE_THRESHOLD) -> bool:
    """Whether grey 32x18 thumbnail ``b`` shows another scene than ``a`` (:class:`CutDetector`'s tests)."""
    return _is_cut(_thumb(a), _thumb(b), threshold, shape_threshold)


def shape_change(a: np.ndarray, b: np.ndarray) -> float:
    """How much the picture's shape differs between two grey thumbnails (float, 0-255), about 0 for the same
    picture and 0.4-0.6 for unrelated ones: each is shrunk to :data:`SHAPE_THUMB` and normalised to zero mean and
    unit contrast (standard deviation, at least :data:`SHAPE_FLOOR`), and half the mean absolute difference is
    taken at the best of the shifts of up to :data:`SHAPE_SHIFT` thumbnail pixels either way (over the part that
    overlaps)."""
    return _shape_change(_thumb(a).shape, _thumb(b).shape)


@dataclass(frozen=True)
class _Thumb:
    """A grey 32x18 thumbnail and what the cut tests take from it, worked out once per frame: its 16x9 shrink's
    contrast (standard deviation) and shape (the shrink normalised, see :func:`shape_change`)."""

    grey: np.ndarray
    contrast: float
    shape: np.ndarray


def _thumb(grey: np.ndarray) -> _Thumb:
    small = cv2.resize(grey, SHAPE_THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)
    contrast = float(small.std())
    return _Thumb(grey, contrast, (small - small.mean()) / max(contrast, SHAPE_FLOOR))


def _is_cut(a: _Thumb, b: _Thumb, threshold: float, shape_threshold: float) -> bool:
    if _shape_change(a.shape, b.shape) > shape_threshold:
        return True
    flat = min(a.contrast, b.contrast) < FLAT
    return bool(flat and float(np.abs(b.grey - a.grey).mean()) > threshold)


def _shape_change(za: np.ndarray, zb: np.ndarray) -> float:
    h, w = za.shape
    r = SHAPE_SHIFT
    best = float("inf")
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            pa = za[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
            pb = zb[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)]
            best = min(best, float(np.abs(pa - pb).mean()) / 2)
    return best


@dataclass
class FrameRun:
    """What the detector stack did on one frame (:func:`run_frame`).

    ``found``: the detections of the detectors that ran, merged per kind (overlaps -> enclosing box), and of watched
    detectors that did not run, the lines their watch followed to this frame (:meth:`ChangeWatch.followed`).
    ``settled``: for each watched detector that ran, what that run settled about the frames since its previous run
    (:class:`~redact.detect.watch.Settled`), in stack order. ``back``: detections of earlier frames handed back."""

    found: dict[str, Detections]
    settled: list[Settled] = field(default_factory=list)
    back: dict[str, list[tuple[int, Detections]]] = field(default_factory=dict)
    """Per kind, detections of earlier frames the detectors handed back on this frame (:meth:`Scheduled.handed_back`)."""


def run_frame(stack: Sequence[Scheduled], frame_index: int, image: np.ndarray, cut: bool,
              merge_iou: float = 0.5, motion: MotionPath | None = None) -> FrameRun:
    """Run the detectors due on this frame (:class:`FrameRun`).

    Watched detectors (``Scheduled.watch``) first look at this frame for a change (``motion``: the clip's camera
    motion up to this frame, to compare like with like when the camera moves) and, when they run, take this frame
    as their new reference; when they do not, the lines their watch follows on their own (text that moves in the
    scene: a badge on a walking person) are found where the watch followed them."""
    found: dict[str, list[Detections]] = {}
    settled: list[Settled] = []
    back: dict[str, list[tuple[int, Detections]]] = {}
    for s in stack:
        if s.watch is not None and not cut:
            s.watch.look(frame_index, image, motion)
        if s.due(frame_index, cut):
            by_change = s.watch is not None and not cut and not s.strided(frame_index)
            wants = getattr(s, "uses_context", False) or getattr(s.detector, "uses_context", False)
            context = _merged(found, merge_iou) if wants else None
            if s.watch is not None:  # a reading of text limited to what changed since the previous one
                prepare(s.detector, s.watch, frame_index, image, cut, motion,
                        new_ground=by_change and s.watch.pending is None and s.watch.revealed)
            dets = s.run(frame_index, image, context)
            if s.watch is not None:
                settled.append(s.watch.remember(frame_index, image, dets, motion, cut, by_change=by_change))
            found.setdefault(s.detector.kind, []).append(dets)
        elif s.watch is not None:
            followed = s.watch.followed(frame_index)
            if followed is not None and len(followed):
                found.setdefault(s.detector.kind, []).append(followed)
        for at, late in s.handed_back():  # (asked on every frame: a run whose frame failed hands back on the next)
            back.setdefault(s.detector.kind, []).append((at, late))
    return FrameRun(_merged(found, merge_iou), settled, back)


def run_due(stack: Sequence[Scheduled], frame_index: int, image: np.ndarray, cut: bool,
            merge_iou: float = 0.5, motion: MotionPath | None = None) -> dict[str, Detections]:
    """:func:`run_frame`'s detections alone: for stacks without a watch, or callers that settle nothing."""
    return run_frame(stack, frame_index, image, cut, merge_iou, motion).found


def _merged(found: dict[str, list[Detections]], merge_iou: float) -> dict[str, Detections]:
    out = {}
    for kind, dets in found.items():
        merged = Detections.concat(dets, kind)
        out[kind] = merge_enclosing(merged, merge_iou) if len(dets) > 1 and len(merged) > 1 else merged
    return out


def tracker_config_for(stack: Sequence[Scheduled], kind: str, base: TrackerConfig | None = None) -> TrackerConfig:
    """A tracker config whose rolls and gap tolerance cover the longest stride of this kind's detectors."""
    base = base or TrackerConfig()
    if (base.scene_growth is not None or base.watched) and \
            not all(s.watch is not None for s in stack if s.detector.kind == kind):
        base = replace(base, scene_growth=None, watched=False)  # no watch looks at every frame: as they always were
    stride = max((s.every for s in stack if s.detector.kind == kind), default=1)
    if stride <= 1:
        return base
    return replace(base, pre_roll=max(base.pre_roll, stride), post_roll=max(base.post_roll, stride),
                   max_gap=max(base.max_gap, 2 * stride))
