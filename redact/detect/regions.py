"""Reading only what changed: a text reading that runs the OCR detector on the parts of the frame that differ from
the previous reading's frame (carried along the camera motion), and keeps the previous reading's lines everywhere
else, carried along the same motion.

Detection is what a reading costs (PP-OCRv6 small on a 720p frame enlarged to 1920x1088: in a profile of the speed
clip 39.7 s of the 8 readings' 41.1 s, recognition and direction 1.3 s), and it costs in proportion to the pixels it
sees (measured: a 512x640 part 0.11x a whole frame, 960x1088 0.48x). Pixels that did not change since a reading give that reading's
lines again; so a reading is limited to what changed since the one before, whole parts of it: each part that differs
(:data:`~redact.detect.watch.PART_THRESHOLD`) grown by :data:`PART_MARGIN` and to the whole of every earlier line it touches, overlapping
parts merged. The whole frame is read as before on the first reading, after a cut, when the camera motion since the
previous reading is unknown, when the camera zoomed or rolled since the last whole reading (:data:`MAX_ZOOM`,
:data:`MAX_ROLL`: text grown past what the detector could see), when the parts cover more than :data:`FULL_SHARE`
of the frame, and at least every :data:`FULL_EVERY` frames.

:class:`RegionalReader` wraps an OCR backend that has ``read_regions`` (:class:`~redact.detect.rapidocr.RapidOcrBackend`)
as the text detector's backend; :func:`prepare` (called by :func:`redact.detect.schedule.run_frame` before each
reading of a watched detector) tells it, for the reading about to run, what changed since the previous one
(:meth:`~redact.detect.watch.ChangeWatch.changed_parts`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .ocr import Recognise, TextBox
from .watch import changed_between, revealed_boxes

if TYPE_CHECKING:
    from ..motion import MotionPath

PART_MARGIN = 0.06
"""Each part that differs is grown by this share of the frame's shorter side on every side (720p: 43 px, about two
lines of small text) before it is read: the detector sees each line with some of what is around it, and a line only
part of which changed is read whole."""
FULL_SHARE = 0.5
"""Parts covering more than this share of the frame: the whole frame is read (as cheap, and the same as before)."""
FULL_EVERY = 100
"""The whole frame is read at least this many frames after the last whole reading (4 readings at the default stride
of 25): a safety net for whatever a comparison of thumbnails cannot see."""
MAX_ZOOM = 0.05
"""The whole frame is read when the camera zoomed by more than this share since the last whole reading (text grown
large enough to be found where it was too small before changes little in a thumbnail)."""
NEW_GROUND_TEXT_SCORE = 0.8
"""A line found in ground the camera has just shown (a reading due for that alone) is kept when recognised with a
letter or digit at this confidence or more (lines not recognised because the text detector knows them are kept):
unreadable boxes there, texture the detector takes for text in a strip at the frame's edge (faces-dev clips: spill
2.9% -> 8.7% with them), wait for the next reading of the whole frame, as they did before."""
MAX_ROLL = 0.035
"""... or rolled by more than this (radians, 2 degrees)."""
LOOK_WHOLE_EVERY = 300
"""The equalised look (:mod:`redact.detect.contrast`) of a reading of the whole frame due by :data:`FULL_EVERY` looks
only at what changed since the previous look (:class:`LookPlan`), but at the whole frame at least this many frames
after its last look at the whole (3 readings of the whole at :data:`FULL_EVERY`): its own safety net, as that
reading is the main pass's (its hold on weak lettering can come and go with a pixel of camera shake)."""


_ALNUM = re.compile(r"[^\W_]")


class Watch(Protocol):
    """What :func:`prepare` needs of the detector's :class:`~redact.detect.watch.ChangeWatch`."""

    @property
    def reference_frame(self) -> int | None: ...

    def changed_parts(self, frame_index: int, image: np.ndarray, transform: np.ndarray) -> np.ndarray | None: ...

    def thumbnail(self, frame_index: int, image: np.ndarray) -> np.ndarray: ...


@dataclass
class Plan:
    """What the next reading may limit itself to: ``parts`` (N x 4, frame pixels: what differs from frame ``since``,
    the previous reading's) and ``transform`` (2x3, frame ``since``'s pixels to this frame's); ``parts`` None: read the
    whole frame."""

    frame: int
    size: tuple[int, int]
    since: int | None = None
    parts: np.ndarray | None = None
    transform: np.ndarray | None = None
    new_ground: bool = False
    """The parts are ground the camera has shown since (see :func:`prepare`): lines found there are kept only when read
    surely (:data:`NEW_GROUND_TEXT_SCORE`)."""
    thumb: np.ndarray | None = None
    """The frame's thumbnail as the watch compares frames: kept with a reading of the whole frame, for the next
    equalised look to compare with (:class:`LookPlan`)."""
    look: LookPlan | None = None
    """When the whole frame is read only because :data:`FULL_EVERY` frames have passed: what the equalised look may
    limit itself to."""


@dataclass
class LookPlan:
    """What the equalised look (:mod:`redact.detect.contrast`) of a reading of the whole frame may limit itself to:
    ``parts`` (N x 4, frame pixels) that differ from frame ``since``, that of the previous look, carried by
    ``transform`` (2x3, frame ``since``'s pixels to this frame's); ``lines``: what that look kept (frame ``since``'s
    pixels), to keep again where nothing changed."""

    since: int
    parts: np.ndarray
    transform: np.ndarray
    lines: list[TextBox]


class RegionalReader:
    """An OCR backend that reads only what changed since its previous reading, when told so (:class:`Plan`).

    Without a plan (a caller other than the scan) or when the plan says so, :meth:`read` is the wrapped backend's.
    Counts: :attr:`whole` readings of the whole frame, :attr:`partial` readings of parts, :attr:`share` the share of
    the frame those parts covered, summed."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.name = inner.name
        self.partial_recognition = bool(getattr(inner, "partial_recognition", False))
        self._plan: Plan | None = None
        self._last: tuple[int, tuple[int, int], list[TextBox]] | None = None  # frame, image shape, its lines
        self._whole_at: int | None = None
        self._zoom, self._roll = 1.0, 0.0  # the camera's since the last whole reading (readings of parts only)
        self.whole = self.partial = 0
        self.share = 0.0
        self.last_whole = True
        """Whether the latest :meth:`read` read the whole frame (not only parts of it)."""
        self._look_now: tuple[int, tuple[int, int], np.ndarray, LookPlan | None] | None = None
        self._looked: tuple[int, tuple[int, int], np.ndarray, list[TextBox]] | None = None  # frame, shape, thumb, lines
        self._look_whole_at: int | None = None

    @property
    def det_limit_side(self) -> Any:
        return getattr(self.inner, "det_limit_side", None)

    def describe(self) -> dict[str, Any]:
        return dict(self.inner.describe())

    def detect_at(self, image: np.ndarray, side: int, regions: np.ndarray | None = None) -> list[TextBox]:
        """The wrapped backend's ``detect_at`` (of ``regions`` of the image, or the whole of it, whatever the plan)."""
        return self.inner.detect_at(image, side) if regions is None else self.inner.detect_at(image, side, regions)

    def recognise_quads(self, image: np.ndarray, quads: np.ndarray) -> tuple[list[str | None], list[float]]:
        """The wrapped backend's ``recognise_quads``."""
        return self.inner.recognise_quads(image, quads)

    def reset(self) -> None:
        """Forget the previous reading (its lines, their text included); the next reading reads the whole frame."""
        self._plan, self._last, self._whole_at = None, None, None
        self._zoom, self._roll = 1.0, 0.0
        self._look_now, self._looked, self._look_whole_at = None, None, None

    def look_plan(self) -> LookPlan | None:
        """What the equalised look of the latest :meth:`read` (of the whole frame) may limit itself to; None: the whole
        frame."""
        return None if self._look_now is None else self._look_now[3]

    def looked(self, lines: list[TextBox]) -> None:
        """What the equalised look of the latest :meth:`read` kept (frame pixels): the next look compares with it."""
        if self._look_now is not None:
            frame, shape, thumb, plan = self._look_now
            self._looked, self._look_now = (frame, shape, thumb, list(lines)), None
            if plan is None:
                self._look_whole_at = frame

    def look_whole_due(self, frame_index: int) -> bool:
        """Whether the equalised look on ``frame_index`` must look at the whole frame by :data:`LOOK_WHOLE_EVERY`."""
        return self._look_whole_at is None or frame_index - self._look_whole_at >= LOOK_WHOLE_EVERY

    def last_look(self, shape: tuple[int, ...]) -> tuple[int, np.ndarray, list[TextBox]] | None:
        """The previous equalised look on a frame of this ``shape``: its frame, thumbnail and the lines it kept."""
        if self._looked is None or self._looked[1] != tuple(shape[:2]):
            return None
        return self._looked[0], self._looked[2], self._looked[3]

    def plan(self, plan: Plan) -> None:
        """What the next :meth:`read` is for (a reading on frame ``plan.frame``)."""
        self._plan = plan

    def whole_due(self, frame_index: int) -> bool:
        """Whether the reading on ``frame_index`` must be of the whole frame by :data:`FULL_EVERY`."""
        return self._whole_at is None or frame_index - self._whole_at >= FULL_EVERY

    def within_zoom(self, transform: np.ndarray) -> bool:
        """Whether the camera, having moved by ``transform`` (2x3) since the previous reading, has zoomed and rolled
        no more than :data:`MAX_ZOOM` and :data:`MAX_ROLL` since the last whole reading."""
        zoom, roll = _zoom_roll(transform)
        return abs(self._zoom * zoom - 1.0) <= MAX_ZOOM and abs(self._roll + roll) <= MAX_ROLL

    def chains(self, since: int | None) -> bool:
        """Whether this reader's previous reading was on frame ``since`` (what a plan compares with)."""
        return since is not None and self._last is not None and self._last[0] == since

    def read(self, image: np.ndarray, recognise: Recognise | None = None) -> list[TextBox]:
        plan, self._plan = self._plan, None
        boxes = None
        if (plan is not None and plan.parts is not None and plan.transform is not None and self._last is not None
                and self._last[0] == plan.since and self._last[1] == image.shape[:2]):
            boxes = self._read_parts(image, plan, self._last[2], recognise)
        self.last_whole = boxes is None
        self._look_now = None
        if boxes is None:
            boxes = self.inner.read(image, recognise) if recognise is not None else self.inner.read(image)
            self.whole += 1
            self._whole_at = None if plan is None else plan.frame
            self._zoom, self._roll = 1.0, 0.0
            if plan is not None and plan.thumb is not None:
                self._look_now = (plan.frame, (plan.size[1], plan.size[0]), plan.thumb, plan.look)  # the frame's size
        self._last = None if plan is None else (plan.frame, image.shape[:2], boxes)
        return boxes

    def remember(self, lines: list[TextBox]) -> None:
        """Add ``lines`` (found in the latest :meth:`read`'s image by another look at it) to that reading's lines: a
        reading of parts keeps them where nothing changed, as it keeps the lines :meth:`read` found."""
        if self._last is not None and lines:
            self._last = (self._last[0], self._last[1], self._last[2] + list(lines))

    def _read_parts(self, image: np.ndarray, plan: Plan, before: list[TextBox], recognise: Recognise | None
                    ) -> list[TextBox] | None:
        assert plan.parts is not None and plan.transform is not None
        h, w = image.shape[:2]
        fx, fy = w / plan.size[0], h / plan.size[1]
        t = np.asarray(plan.transform, np.float64).copy()  # in this image's pixels
        t[0, 1] *= fx / fy
        t[1, 0] *= fy / fx
        t[0, 2] *= fx
        t[1, 2] *= fy
        quads = [b.quad.astype(np.float64) @ t[:, :2].T + t[:, 2] for b in before]
        carried = np.array([np.concatenate([q.min(axis=0), q.max(axis=0)]) for q in quads]).reshape(-1, 4)
        parts = grown_parts(np.asarray(plan.parts, np.float64).reshape(-1, 4) * [fx, fy, fx, fy], carried, w, h)
        area = float(np.sum((parts[:, 2] - parts[:, 0]) * (parts[:, 3] - parts[:, 1])))
        if area > FULL_SHARE * w * h:
            return None
        touched = np.array([_overlap(c, parts).any() for c in carried], bool).reshape(-1)
        centre = (carried[:, :2] + carried[:, 2:]) / 2
        inside = ((centre[:, 0] >= 0) & (centre[:, 0] < w) & (centre[:, 1] >= 0) & (centre[:, 1] < h)).reshape(-1)
        keep = [i for i in range(len(before)) if not touched[i] and inside[i]]
        kept = [TextBox(quads[i], before[i].score, before[i].text, before[i].text_score) for i in keep]
        unread = [j for j, b in enumerate(kept) if b.text is None]
        if unread:  # lines the previous reading took from memory: recognised again unless the caller knows them
            xyxy = np.array([kept[j].xyxy for j in unread])
            want = np.ones(len(unread), bool) if recognise is None else np.asarray(recognise(xyxy), bool)
            ask = [j for j, yes in zip(unread, want.reshape(-1)) if yes]
            if ask:
                texts, scores = self.inner.recognise_quads(image, np.array([kept[j].quad for j in ask]))
                for j, text, score in zip(ask, texts, scores):
                    kept[j] = TextBox(kept[j].quad, kept[j].score, text, score if text is not None else 0.0)
        found = self.inner.read_regions(image, parts, recognise) if len(parts) else []
        if plan.new_ground:  # texture found at the edge is left to the next reading of the whole (as without it)
            found = [b for b in found if b.text is None or (b.text_score >= NEW_GROUND_TEXT_SCORE and _ALNUM.search(b.text))]
        self.partial += 1
        self.share += area / (w * h)
        zoom, roll = _zoom_roll(plan.transform)
        self._zoom *= zoom
        self._roll += roll
        return kept + found


def regional_reader(detector: Any) -> RegionalReader | None:
    """The text detector's :class:`RegionalReader`, put in place of its backend the first time (when the backend can
    read regions and the detector reads at one scale); None for any other detector."""
    backend = getattr(detector, "backend", None)
    if isinstance(backend, RegionalReader):
        return backend
    if backend is None or not callable(getattr(backend, "read_regions", None)) or \
            tuple(getattr(detector, "scales", ())) != (1.0,):
        return None
    reader = RegionalReader(backend)
    detector.backend = reader
    return reader


def prepare(detector: Any, watch: Watch, frame_index: int, image: np.ndarray, cut: bool,
            motion: MotionPath | None, new_ground: bool = False) -> None:
    """Before ``detector`` (watched by ``watch``) reads ``frame_index``: tell its :class:`RegionalReader` what changed
    since its previous reading (nothing when it reads the whole frame).

    What changed is judged twice, as the change watch does, with the previous reading's frame carried along the camera
    motion and where it was in the picture, and the comparison that finds less changed is taken (the camera's when both
    find as much: lines kept where they were while the camera pans slowly would drift off their text): the camera
    motion of a still camera filming something that moves in front of a plain wall follows what moves (the speed
    clip's face: the motion said the camera zoomed by 1.45x), and the frame is then better explained as it is.
    ``new_ground``: the reading is due only for the ground the camera has shown since the previous one
    (:attr:`~redact.detect.watch.ChangeWatch.revealed`): it reads that ground and keeps the previous reading's lines
    elsewhere, whatever else differs (a stride or a change reads that)."""
    reader = regional_reader(detector)
    if reader is None:
        return
    h, w = image.shape[:2]
    plan = Plan(frame_index, (w, h))
    thumbnail = getattr(watch, "thumbnail", None)
    if callable(thumbnail):
        plan.thumb = thumbnail(frame_index, image)
    since = watch.reference_frame
    if cut or since is None or not reader.chains(since) or reader.whole_due(frame_index):
        if not cut and since is not None and reader.chains(since) and plan.thumb is not None and motion is not None:
            plan.look = look_plan(reader, plan.thumb, frame_index, image, motion)  # whole only by FULL_EVERY
        reader.plan(plan)
        return
    still = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    camera = None if motion is None else motion.transform(since, frame_index)
    if new_ground and camera is not None:  # a reading for what the camera showed alone: that ground, nothing else
        t = np.asarray(camera, np.float64)
        plan.since, plan.parts, plan.transform, plan.new_ground = since, revealed_boxes(t, (w, h)), t, True
        reader.plan(plan)
        return
    best = None
    for t in [still] if camera is None else [np.asarray(camera, np.float64), still]:  # the camera's on a tie
        parts = watch.changed_parts(frame_index, image, t)
        if parts is None:
            continue
        area = float(np.sum((parts[:, 2] - parts[:, 0]) * (parts[:, 3] - parts[:, 1]))) if len(parts) else 0.0
        if best is None or area < best[0]:
            best = (area, parts, t)
    if best is not None and reader.within_zoom(best[2]):
        plan.since, plan.parts, plan.transform = since, best[1], best[2]
    reader.plan(plan)


def look_plan(reader: RegionalReader, thumb: np.ndarray, frame_index: int, image: np.ndarray, motion: MotionPath
              ) -> LookPlan | None:
    """For a reading of the whole frame due only by :data:`FULL_EVERY`: what its equalised look may limit itself to,
    the parts that differ from the previous look's frame (judged as :func:`prepare` judges a reading's, the camera's
    motion or none, whichever finds less), grown as a reading's parts are (:func:`grown_parts`); None (the whole
    frame) when there was no previous look on this clip, at least :data:`LOOK_WHOLE_EVERY` frames after the last look
    at the whole frame, when the motion taken zoomed or rolled past :data:`MAX_ZOOM` /
    :data:`MAX_ROLL`, or the parts cover more than :data:`FULL_SHARE` of the frame."""
    last = reader.last_look(image.shape)
    if last is None or reader.look_whole_due(frame_index):
        return None
    since, before, lines = last
    if since >= frame_index or before.shape != thumb.shape:
        return None
    camera = motion.transform(since, frame_index)
    h, w = image.shape[:2]
    still = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    best = None
    for t in [still] if camera is None else [np.asarray(camera, np.float64), still]:  # the camera's on a tie
        parts = changed_between(before, thumb, t, (w, h))
        area = float(np.sum((parts[:, 2] - parts[:, 0]) * (parts[:, 3] - parts[:, 1]))) if len(parts) else 0.0
        if best is None or area < best[0]:
            best = (area, parts, t)
    assert best is not None
    _, parts, t = best
    zoom, roll = _zoom_roll(t)
    if abs(zoom - 1.0) > MAX_ZOOM or abs(roll) > MAX_ROLL:
        return None
    quads = [b.quad.astype(np.float64) @ t[:, :2].T + t[:, 2] for b in lines]
    carried = np.array([np.concatenate([q.min(axis=0), q.max(axis=0)]) for q in quads]).reshape(-1, 4)
    parts = grown_parts(parts, carried, w, h)
    area = float(np.sum((parts[:, 2] - parts[:, 0]) * (parts[:, 3] - parts[:, 1])))
    if area > FULL_SHARE * w * h:
        return None
    return LookPlan(since, parts, t, list(lines))


def grown_parts(parts: np.ndarray, lines: np.ndarray, w: int, h: int) -> np.ndarray:
    """Parts that differ (N x 4, frame pixels) as a reading of parts reads them: each grown by :data:`PART_MARGIN`
    of the frame's shorter side, then to the whole of every line of ``lines`` (K x 4) it touches, overlapping ones
    merged."""
    margin = PART_MARGIN * min(h, w)
    parts = _clip(np.asarray(parts, np.float64).reshape(-1, 4) + [-margin, -margin, margin, margin], w, h)
    return _grown(parts, np.asarray(lines, np.float64).reshape(-1, 4), w, h)


def _grown(parts: np.ndarray, lines: np.ndarray, w: int, h: int) -> np.ndarray:
    """``parts`` grown to the whole of every line they touch and overlapping ones merged, until none changes."""
    boxes = [np.array(p, np.float64) for p in parts if p[2] > p[0] and p[3] > p[1]]
    while True:
        changed = False
        for p in boxes:
            for line in lines:
                if _overlap(line, p)[0] and not (line[0] >= p[0] and line[1] >= p[1] and line[2] <= p[2]
                                                 and line[3] <= p[3]):
                    p[:] = _union(p, line)
                    changed = True
        merged: list[np.ndarray] = []
        for p in boxes:
            for q in merged:
                if _overlap(p, q)[0]:
                    q[:] = _union(q, p)
                    changed = True
                    break
            else:
                merged.append(p)
        boxes = merged
        if not changed:
            return _clip(np.array(boxes).reshape(-1, 4), w, h)


def _zoom_roll(transform: np.ndarray) -> tuple[float, float]:
    """The zoom (scale factor) and roll (radians) of a 2x3 similarity transform."""
    a = np.asarray(transform, np.float64)[:, :2]
    return float(np.sqrt(abs(np.linalg.det(a)))), float(np.arctan2(a[1, 0], a[0, 0]))


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])])


def _overlap(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    others = np.asarray(others, np.float64).reshape(-1, 4)
    return ((np.minimum(box[2], others[:, 2]) > np.maximum(box[0], others[:, 0]))
            & (np.minimum(box[3], others[:, 3]) > np.maximum(box[1], others[:, 1])))


def _clip(xyxy: np.ndarray, w: int, h: int) -> np.ndarray:
    out = np.asarray(xyxy, np.float64).reshape(-1, 4).copy()
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, w)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, h)
    return out
