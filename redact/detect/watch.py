"""The change watch: what a detector run every N frames (text) found, watched on every frame in between.

After each run the watch keeps the run's frame (shrunk, grey, blurred) and a region around each detection; on every
later frame it compares each region with that reference carried along the camera motion, where it was in the picture,
and (text that moves on its own: a badge on a walking person) where the region's own motion took it. A change it
cannot explain makes the detector due again (:class:`ChangeWatch`); what a run settles about the frames since the one
before is a :class:`Settled`: boxes to hold and :class:`Cover` s for the frames of a change nobody read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import cv2
import numpy as np

from ..types import Detections, most_sensitive

if TYPE_CHECKING:
    from ..motion import MotionPath

CHANGE_WIDTH = 480
"""A watched frame is compared grey, shrunk to at most this many pixels wide (720p: 480x270; a 20 px line of text
is ~7 px tall there). Cost of a look at a 720p frame while the camera moves (two comparisons per region), 2-core
development machine under load: ~4 ms with 2-4 regions, ~7 ms with 16 (OCR: ~1.4 s a reading); nothing is computed
on frames with no known text."""
CHANGE_THRESHOLD = 32.0
"""A watched region has CHANGED when, in some window about one line of text across (a sixth of the detection's short
side) outside the detections, the mean absolute grey difference (0-255, blurred frames, less the region's median
difference: exposure) exceeds this both against the last reading's frame and against the frame before (an abrupt
change). Measured (scores of every frame against the reading before it, real OCR boxes): on the generated monitor of
tests/test_text_change.py a longer name or a new line scores 67-97, the frames between changes at most 0.2; the same
monitor filmed by a shaking, panning, rolling hand-held camera at most 3.1 (0 extra readings);
tests/panning.py's wall shaken by 40 px at most 13.4 (0 extra readings). Real footage: the stage clip (logo bug
while the camera zooms) at most 29.1 (0 extra readings), a night crowd under a burnt-in caption and frame counter
17.6 (0), a crowd under a caption 45 (3 readings triggered in 127 frames, one more reading in all); people walking
past a sign at 1080p (facenet-pytorch_video) score up to 86: 15 triggered readings in 105 frames (17 in all
instead of 5). 32 leaves 2.4x the shaking camera's worst below it and 2x above the weakest measured change; text of
lower contrast than about 100 grey levels may not trigger (it is then read at the stride, as before)."""
CHANGE_GAP = 4
"""A change makes the detector due at most this many frames after its previous run (0.16 s at 25 fps). A patient
monitor changing every 0.4 s is read on the frame of each change; a region that changes all the time (a video on a
screen, people walking past a sign) costs at most one reading every 4 frames (25/4 = ~6x the strided OCR at the
default stride) instead of one per frame. The frames of a change not read at once get the changed region covered
whole (:class:`Settled`): a longer gap would widen what those frames blur, a shorter one costs more readings on
busy footage for little (a screen rarely changes twice within 0.16 s)."""
CHANGE_NEAR = (1.0, 0.5)
"""A watched region is a detection grown by this many times its short side to the left and right, and above and
below. The short side is the padded line's height, two to three lines of text (the text detector pads a line by half
a line, tall ones by a whole line, on every side): one side left and right is 4-6 characters, half a side above and
below a line or more beyond the padding, where the next line of a screen would be. A longer name written over a
short one, or a new line appearing under a known one, changes pixels there. Twice as far (measured) triggered on
people walking below captions and signs and found no more text."""
CHANGE_UNIT = 0.08
"""... but for a box not shaped like a line (its long side under :data:`LINE_SHAPE` times its short side), the side
that unit is measured in (for :data:`CHANGE_NEAR` and the margin of what an unread change gets covered,
:func:`_cover_part`) is at most this share of the frame's shorter side (1080p: 86 px; 540p: 43 px). A detection's
short side is a padded line's height only for a line: a block of text, a sign or texture read as one box (the street
clip's walkers, a 230 x 195 px box at 960x540) has a short side of a third of the frame, and grown by it the region
around it was half the frame, which every passer-by changed: the three frames of each such change were 53-59%
covered (docs/benchmarks.md, session 7). Boxes shaped like a line are grown as before, whatever their size (a
monitor's line is a tenth of a small frame's height)."""
LINE_SHAPE = 1.5
"""A box is shaped like a line of text when its long side is at least this many times its short side (as
:data:`redact.detect.text.LINE_ASPECT`)."""
CHANGE_BLUR = 1.5
"""Both frames are blurred (Gaussian, sigma in thumbnail pixels) before they are compared: a camera that shakes
shows sharp lettering at another sub-pixel phase in every frame (bilinear resampling, the codec), and the camera
motion chained frame to frame drifts by a pixel or so over a stride. Unblurred, the shaken monitor scored up to 7.3
and the shaken wall 14.2; blurred, 2.3 and 13.4, while changes score about as much."""

REVEAL_SHARE = 0.05
"""With ``ChangeWatch(reveal=REVEAL_SHARE)`` (not the default) the camera has REVEALED new ground when more than this
share of the frame lies outside the last reading's frame carried along the camera motion (a pan, a zoom out, a shaken
hand-held camera's drift): the detector is then due (at most every ``gap`` frames), and the reading looks only at
what differs from the last reading's frame, which that ground does (:mod:`redact.detect.regions`). Writing that comes
into view is otherwise read at the stride only, up to a second later: on the labelled kenburns clips (pan and zoom
with hand shake) every legible line-frame missed on a receipt and a dictionary page, and 41 of 50 on a bus-stop
poster, was between readings, on lines that came into view after the last one; with it, legible-line recall 84.0% ->
96.7%, text spill 15.8% -> 14.0%. Not the default: the extra readings found texture as text on the faces-dev clips
(spill 2.9% -> 8.7%), and on the speed clip, whose camera motion follows the walking person, 8 -> 21 readings
(docs/benchmarks.md). 5%: a strip 36 px tall across a 720p frame, or 64 px wide down it, about a line of small
print."""

REVEAL_DIFF = 6.0
"""... and when, in some strip of that ground, the frame differs from the last reading's frame where it is in the
picture by more than this on average (grey levels, blurred thumbnails): a camera that moved shows other pixels there;
a still camera whose motion estimate follows what moves in front of it (the speed clip's walking person) does not."""

FOLLOW_RADIUS = 8
"""A line that moves on its own (a badge on a walking person, a sign on a passing bus) is followed: each frame its
reference pixels (the detection in the last reading's frame, thumbnail-sized) are matched in a window this many
thumbnail pixels (720p: ~21 px) plus half its last step around where its last step predicts it, and as much again
for each frame it was not found in (up to 4 times as much): the speed clip's badge moves up to 16 px a frame."""
FOLLOW_MIN = 1.0
"""A line has moved on its own when the match puts it at least this many thumbnail pixels (720p: ~2.7 px) away
both from where the camera motion carries it and from where it was in the picture."""
FOLLOW_INSIDE = 0.1
"""A followed line is the same line when at most this share of the windows inside its detection differ from the
reference (see :data:`CHANGE_THRESHOLD`) once aligned; more, and it counts as changed (read again): another name on
the badge, a line turned or grown past what a shift can align. Its surroundings are not compared (a badge carries
no background along): a new line that appears beside a moving one is found at the stride, like any text the last
reading did not find."""

FOLLOW_CORRELATION = 0.9
"""... and when the reference and this frame correlate by at least this much inside it (the correlation coefficient of
their thumbnail pixels there: exposure does not count, thin low-contrast letters do). The speed clip's monitor lines
moved by 6 thumbnail pixels along themselves still pass the windows' test but correlate far less."""

SCENE_TEXT_MARGIN = 0.1
"""While the camera moves, a watched region is also compared where it was in the picture, for text burnt into the
video (a caption, a clock), which stays put. When more of the detection's own windows differ from the reference
there than where the camera motion carried it (by more than this share of them), what was read moved with the
scene: no overlay is there, and the frames of an unread change get only the old box covered at that place, not the
windows around it that the moving camera changed (a street filmed from a bus had frames 64% covered so)."""

PART_THRESHOLD = 6.0
"""A thumbnail pixel (the change watch's: grey, at most 480 px wide, blurred) differs from the previous reading's
frame (carried along the camera motion, or as it is: see :func:`redact.detect.regions.prepare`) when their difference less the frame's
median difference (exposure) exceeds this (0-255), and so does its difference from the reference moved by up to
:data:`SLACK` pixels. Low on purpose: it decides only where the detector looks, and a part read needlessly costs
little."""
SLACK = 1
"""Thumbnail pixels (720p: 2.7 px) by which the reference may be moved, either way, to explain a pixel: a camera
motion estimated a pixel off, or a hand-held camera's parallax, is not a change."""
MIN_PART = 30
"""Parts that differ smaller than this (thumbnail pixels, grown by one pixel all round) are left out: specks where an
edge moved a little more than :data:`SLACK` explains. The smallest legible word, 8 px tall at 1080p, differs over
~2 x 8 thumbnail pixels before the blur and well over this after it."""
Box = tuple[float, float, float, float]


@dataclass
class Cover:
    """One region of a change no run read, covered on the frames it was seen: ``boxes`` ``(frame, box)`` in frame
    pixels, with the most sensitive ``category`` of what was read there and the detection ``score``."""

    category: str | None
    score: float
    boxes: list[tuple[int, Box]]


@dataclass
class Settled:
    """What a watched detector's run on frame ``frame`` (of kind ``kind``) settled about the frames since its
    previous run.

    ``hold``: ``(frame v, detections)``, when something changed since the previous run (and no cut came between):
    the previous run's detections where the watch last found them still covering what is there (carried along the
    camera motion, or where they were in the picture), on ``v``, the last frame before the change outside them (the
    frame before this run when every change was inside them: a shorter name written over a long one). Given to the
    tracker before this run's detections, it makes the frames between the two runs keep the old boxes up to ``v``
    instead of blending them into the new ones (a long name replaced by a short one further right: the blend leaves
    the long name's start uncovered on the frames before the change). What it claims was measured on frame ``v``.

    ``cover``: for the frames on which a change was seen but the detector did not run (within ``gap`` frames of its
    previous run, or cut short by a scene cut or the end of the clip), per changed region, :class:`Cover` tracks: the region itself (the old detection and the area near it, carried along the camera
    motion and where it was) and this run's detections that overlap it, overlapping boxes merged. Nobody read those
    frames; this covers whatever changed there.
    """

    frame: int
    kind: str = "text"
    hold: tuple[int, Detections] | None = None
    cover: list[Cover] = field(default_factory=list)


class ChangeWatch:
    """Watches the regions around what a detector's last run found, for a detector run every N frames (text).

    After each run (:meth:`remember`) the run's frame, shrunk, grey and blurred, is the reference, and each detection,
    grown by ``near`` (:data:`CHANGE_NEAR`), a region. On every later frame (:meth:`look`) each region is compared
    with the reference carried along the camera motion (shake and pan are not change) and, when the camera moved,
    also with the reference where it was in the picture (burnt-in captions and logos do not move with the camera):
    see :data:`CHANGE_THRESHOLD` for the score and what it was measured on. A change outside the detections sets
    :attr:`pending`, and the :class:`~redact.detect.schedule.Scheduled` detector is due once ``gap`` frames have passed since its last run; a
    change inside them only marks the old boxes to be held (:class:`Settled`). Where the camera motion is unknown (a
    flat frame, a failed estimate) the frames are compared as they are: a moving camera then reads as change, which
    costs a reading at most every ``gap`` frames, never coverage.

    Fail closed: a change seen is either read on its frame, or (within ``gap`` frames of the previous run, or cut short
    by a cut or the clip's end) its frames get the changed regions and what the next run found there covered
    (:attr:`Settled.cover`); and the frames before it keep the boxes they had (:attr:`Settled.hold`). Ground the
    camera shows that the last run's frame did not (a pan, a zoom out) makes the detector due too with ``reveal``
    (:attr:`revealed`, :data:`REVEAL_SHARE`; off by default), with or without text known. Not watched: text the last run did not find in its frame,
    and in ``pii`` mode text it did not keep (both read at the stride, as before); changes that are not abrupt (a
    slow fade, a scroll), read at the stride and covered by the tracker's rolls.

    Text that moves on its own (a badge on a walking person) is followed, not read again: each line's reference
    pixels are matched in every frame (:data:`FOLLOW_RADIUS`); a line that moved on its own (:data:`FOLLOW_MIN`) and
    still holds what was read (:data:`FOLLOW_INSIDE`, :data:`FOLLOW_CORRELATION`) is not a change, whatever its
    surroundings do, and when every line is so confirmed the tracker gets them where they are (:meth:`followed`).
    A followed line that no longer matches is a change (read within ``gap`` frames, covered where it was going).
    """

    def __init__(self, threshold: float = CHANGE_THRESHOLD, gap: int = CHANGE_GAP, width: int = CHANGE_WIDTH,
                 near: tuple[float, float] = CHANGE_NEAR, reveal: float | None = None):
        if not (isinstance(gap, int) and gap >= 1):
            raise ValueError(f"gap must be an integer >= 1, got {gap!r}")
        if not threshold > 0 or width < 16 or min(near) < 0:
            raise ValueError("threshold must be > 0, width >= 16 and near >= 0")
        if reveal is not None and not 0.0 < reveal < 1.0:
            raise ValueError(f"reveal must be None or in (0, 1), got {reveal!r}")
        self.reveal = reveal
        """Share of new ground that makes the detector due (:data:`REVEAL_SHARE`); None: new ground is not watched."""
        self.threshold, self.gap, self.width = float(threshold), gap, int(width)
        self.near = (float(near[0]), float(near[1]))
        self.readings = 0
        """Runs made due by a change alone (not by the stride or a cut), counted since :meth:`reset`."""
        self.reveals = 0
        """Runs made due by new ground the camera showed alone (:data:`REVEAL_SHARE`), counted since :meth:`reset`."""
        self.reset()

    def reset(self) -> None:
        """Forget the reference and the counts of readings (a new clip)."""
        self.forget()
        self.readings = self.reveals = 0

    def forget(self) -> None:
        """Forget the reference: nothing is watched until the next :meth:`remember`."""
        self._frame: int | None = None
        self._ref: np.ndarray | None = None
        self._dets: Detections | None = None
        self._regions = np.zeros((0, 4))
        self._unit = np.zeros(0)
        self._windows = np.zeros(0, np.int64)
        self._verified: int | None = None
        self._held: np.ndarray | None = None
        self._before: tuple[int | None, np.ndarray | None] = (None, None)
        self._dirty = False
        self.pending: int | None = None
        """The first frame on which a change was seen since the last run, None when none was."""
        self.revealed = False
        """Whether the camera has shown new ground since the last run (:data:`REVEAL_SHARE`)."""
        self._sticky = np.zeros(0, bool)
        self._placed = np.zeros(0, np.int64)
        self._carried: dict[int, np.ndarray] = {}
        self._changed: dict[int, np.ndarray] = {}  # per frame, (P, M, 4): what to cover of each region (see look)
        self._thumb: tuple[int, np.ndarray] | None = None
        self._size = (0, 0)
        self.scores: np.ndarray = np.zeros(0)
        """The regions' scores on the last frame looked at (for measurements)."""
        self._offset = np.zeros((0, 2))  # per detection: its shift from the reference, thumbnail pixels ...
        self._step = np.zeros((0, 2))  # ... its last step ...
        self._lost = np.zeros(0, np.int64)  # ... frames since it was last found ...
        self._offset_at: int | None = None  # ... as of this frame
        self._follow: tuple[int, np.ndarray] | None = None  # (frame, boxes): the detections as followed there
        self._confirmed: tuple[int, np.ndarray] | None = None  # ... each where the match confirms it
        self._emitted = -1  # the last frame :meth:`followed` gave detections for
        self.follows = 0
        """Frames on which some line was followed on its own (for measurements)."""

    def describe(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "gap": self.gap, "width": self.width, "near": list(self.near),
                **({"reveal": self.reveal} if self.reveal is not None else {})}

    # -- per frame ---------------------------------------------------------------------------------------------------
    def look(self, frame_index: int, image: np.ndarray, motion: MotionPath | None = None) -> bool:
        """Compare frame ``frame_index`` with the reference; True when a change has been seen since the last run.

        A window has changed when it differs both from the reference and from the frame before (an abrupt change:
        a screen that shows the next name switches in one frame, while people walking past a sign change it a little
        every frame; reading those every ``gap`` frames cost 4x the OCR on crowd clips and bought nothing). Only a
        change outside the detections themselves makes the detector due: one inside them (a clock, a counter, a
        shorter name in place of a longer one) is still covered by the old boxes, which the tracker is then told to
        keep up to the next run (:attr:`Settled.hold`). Each region is compared twice when the camera moved: carried
        along the camera motion (text in the scene) and where it was in the picture (a logo, a caption or a clock
        burnt into the video stays put while the camera pans); it changed when it differs both ways."""
        if self.reveal is not None and self._frame is not None and frame_index > self._frame and not self.revealed:
            self.revealed = self._shows_new_ground(frame_index, image, motion)
        if self._frame is None or not len(self._regions) or frame_index <= self._frame:
            return self.pending is not None
        assert self._dets is not None and self._ref is not None  # set with _frame by every reading
        prev = self._thumb[1] if self._thumb is not None and self._thumb[0] == frame_index - 1 else None
        thumb = self._shrink(frame_index, image)
        moved = self._transform(motion, self._frame, frame_index)
        step = self._transform(motion, frame_index - 1, frame_index)
        transforms = [moved] if np.allclose(moved, _IDENTITY, atol=1e-3) else [moved, _IDENTITY]
        positions = np.stack([_map_boxes(t, self._regions) for t in transforms])  # (P, M, 4), frame pixels
        boxes = np.stack([_map_boxes(t, self._dets.xyxy) for t in transforms])
        outside = np.full(positions.shape[:2], np.inf)  # (P, M): abrupt change around the detections ...
        anywhere = np.full(positions.shape[:2], np.inf)  # ... and any change since the reference, anywhere
        parts: list[list[Any]] = [[None] * positions.shape[1] for _ in transforms]
        own = np.zeros(positions.shape[:2])  # share of each detection's own windows that differ, per position
        compared = thumb.shape == self._ref.shape  # else another size (the pipeline refuses those): all changed
        if compared:
            sx, sy = thumb.shape[1] / self._size[0], thumb.shape[0] / self._size[1]
            scale = np.array([sx, sy, sx, sy])
            for p, t in enumerate(transforms):
                ref, before = self._ref, prev
                if t is not _IDENTITY:  # the scene position: both earlier frames carried along the camera motion
                    ref = _warp(self._ref, _scaled(t, sx, sy))
                    before = None if prev is None else _warp(prev, _scaled(step, sx, sy))
                for k, (region, window) in enumerate(zip(positions[p], self._windows)):
                    outside[p, k], anywhere[p, k], parts[p][k], own[p, k] = _region_score(
                        ref, before, thumb, region * scale, boxes[p] * scale, int(window), self.threshold, k)
        best = np.lexsort((anywhere, outside), axis=0)[0]  # per region: the position that explains it best
        cols = np.arange(len(best))
        self.scores = outside[best, cols]
        changed = self.scores > self.threshold
        held = boxes[best, cols]
        if len(transforms) > 1:  # the boxes are held where what was read still is: where its own windows match
            decisive = np.abs(own[0] - own[1]) > SCENE_TEXT_MARGIN  # (see SCENE_TEXT_MARGIN), as last found so
            self._placed = np.where(decisive, own.argmin(axis=0), self._placed)
            held = np.where((self._placed >= 0)[:, None], boxes[np.maximum(self._placed, 0), cols], held)
        dirty = anywhere[best, cols] > self.threshold
        followed = self._follow_lines(frame_index, thumb, boxes, positions) if compared else {}
        for k, (box, region, same) in followed.items():
            if same:  # the line moved on its own and is what was read: followed, not read again
                changed[k], dirty[k], held[k] = False, False, box
                positions[0, k], boxes[0, k] = region, box
            elif changed[k]:  # lost: cover where it was followed to and where its motion was taking it
                positions[0, k] = _union(positions[0, k], region)
                boxes[0, k] = _union(boxes[0, k], box)
        moving = any(same for _, _, same in followed.values())
        self._follow = self._confirmed if moving else None  # given to the tracker only when every line is confirmed
        self.follows += moving
        if self.pending is None:
            if not changed.any():  # the detections still cover what is there: where the better comparison puts them
                self._before = (self._verified, self._held)  # a run on this frame holds them up to the frame before
                self._verified, self._held = frame_index, held
                self._dirty |= bool(dirty.any())
                return False
            self.pending = frame_index
        self._sticky |= changed
        self._carried[frame_index] = positions
        differs = positions.copy()  # (P, M, 4): what to cover of each region on this frame, if nobody reads it
        if compared:
            for k in range(positions.shape[1]):
                if len(transforms) > 1 and own[1, k] > own[0, k] + SCENE_TEXT_MARGIN:
                    parts[1][k] = None  # what was read moved with the scene: no overlay at its old place
                for p in range(len(transforms)):
                    differs[p, k] = _cover_part(parts[p][k], boxes[p, k] * scale, 0.5 * self._unit[k] * sy) / scale
        self._changed[frame_index] = differs
        return True

    def _shows_new_ground(self, frame_index: int, image: np.ndarray, motion: MotionPath | None) -> bool:
        """Whether more than ``reveal`` of this frame lies outside the reference carried along the camera motion, and
        that ground differs from the reference where it is in the picture (:data:`REVEAL_DIFF`: a still camera whose
        motion estimate follows someone walking shows nothing new)."""
        assert self.reveal is not None and self._ref is not None
        t = self._transform(motion, self._frame or 0, frame_index)
        if revealed_share(t, self._size) <= self.reveal:
            return False
        thumb = self._shrink(frame_index, image)
        if thumb.shape != self._ref.shape:
            return True
        sx, sy = thumb.shape[1] / self._size[0], thumb.shape[0] / self._size[1]
        diff = np.abs(thumb - self._ref)
        for x1, y1, x2, y2 in revealed_boxes(t, self._size) * [sx, sy, sx, sy]:
            patch = diff[int(y1):int(np.ceil(y2)), int(x1):int(np.ceil(x2))]
            if patch.size and float(patch.mean()) > REVEAL_DIFF:
                return True
        return False

    def remember(self, frame_index: int, image: np.ndarray, dets: Detections, motion: MotionPath | None = None,
                 cut: bool = False, by_change: bool = False) -> Settled:
        """The detector ran on ``frame_index`` and found ``dets``: settle the frames since its previous run and take
        this frame as the new reference. ``by_change``: the run was made due by a change alone (counted in
        :attr:`readings`) or by new ground alone (:attr:`reveals`)."""
        if by_change and self.pending is None and self.revealed:
            self.reveals += 1
        else:
            self.readings += bool(by_change)
        settled = self._settle(frame_index, dets, motion, cut)
        thumb = self._shrink(frame_index, image)
        h, w = image.shape[:2]
        self._frame, self._ref, self._dets, self._size = frame_index, thumb, dets, (w, h)
        xyxy = np.asarray(dets.xyxy, np.float64).reshape(-1, 4)
        side = np.maximum(np.minimum(xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]), 1.0)
        long = np.maximum(xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1])
        line = long >= LINE_SHAPE * side
        self._unit = np.where(line, side, np.minimum(side, max(1.0, CHANGE_UNIT * min(w, h))))  # see CHANGE_UNIT
        nx, ny = self.near
        unit = self._unit
        grown = xyxy + np.stack([-nx * unit, -ny * unit, nx * unit, ny * unit], axis=1)
        self._regions = _clip(grown, w, h)
        self._windows = np.maximum(3, np.round(side * thumb.shape[0] / h / 6)).astype(np.int64)
        self._verified, self._held, self._before, self._dirty, self.pending = None, None, (None, None), False, None
        self.revealed = False
        self._sticky = np.zeros(len(xyxy), bool)
        self._placed = np.full(len(xyxy), -1)  # per detection: the position (0 scene, 1 picture) it was last found at
        self._carried, self._changed = {}, {}
        self._offset, self._step = np.zeros((len(xyxy), 2)), np.zeros((len(xyxy), 2))
        self._lost = np.zeros(len(xyxy), np.int64)
        self._offset_at, self._follow, self._emitted = frame_index, None, -1
        return settled

    def finish(self, motion: MotionPath | None = None) -> Settled | None:
        """The end of the clip, or of what this watch can vouch for (a frame that could not be analysed): settle the
        frames since the last run as if it ran now and found nothing (the old detections held up to the change,
        the frames of the change nobody read covered). The reference is kept; :meth:`reset` forgets it."""
        if self._frame is None or (self.pending is None and not self._dirty):
            return None
        last = max(self._carried) + 1 if self._carried else (self._verified or self._frame) + 1
        settled = self._settle(last, None, motion, False)
        self.pending, self._carried, self._changed, self._dirty = None, {}, {}, False
        return settled

    @property
    def reference_frame(self) -> int | None:
        """The frame of the last run this watch remembers (None: none since :meth:`forget`)."""
        return self._frame

    def changed_parts(self, frame_index: int, image: np.ndarray, transform: np.ndarray) -> np.ndarray | None:
        """Boxes (frame pixels) around each part of frame ``frame_index`` that differs from the last run's frame
        carried by ``transform`` (2x3, that frame's pixels to this one's), by :data:`PART_THRESHOLD` (see
        :mod:`redact.detect.regions`); None when there is nothing to compare with (no run since
        :meth:`forget`, a frame of another size)."""
        if self._frame is None or self._ref is None or frame_index <= self._frame or \
                (image.shape[1], image.shape[0]) != self._size:
            return None
        return changed_between(self._ref, self._shrink(frame_index, image), transform, self._size)

    def thumbnail(self, frame_index: int, image: np.ndarray) -> np.ndarray:
        """Frame ``frame_index``'s thumbnail as this watch compares frames (grey, blurred, :data:`CHANGE_WIDTH` wide
        at most): :func:`changed_boxes` compares two of them."""
        return self._shrink(frame_index, image)

    def followed(self, frame_index: int) -> Detections | None:
        """When some line of the last run moved on its own and was followed to ``frame_index`` (:meth:`look` on that
        frame, no change seen since the run), the last run's detections where this frame has them: each where the
        template match found it and confirmed it is what was read, the followed lines and the others alike. None
        otherwise, also when any line could not be confirmed so (the tracker then carries the last run's boxes along
        the camera motion, as for any run: a still monitor line must not go where a wrong camera motion takes it)."""
        if self._follow is None or self._follow[0] != frame_index or self._dets is None or self.pending is not None:
            return None
        self._emitted = frame_index
        w, h = self._size
        old = self._dets
        return Detections(_clip(self._follow[1], w, h).astype(np.float32), old.score, old.kind, old.category)

    # -- internals ---------------------------------------------------------------------------------------------------
    def _settle(self, frame_index: int, dets: Detections | None, motion: MotionPath | None, cut: bool) -> Settled:
        settled = Settled(frame_index, self._dets.kind if self._dets is not None else "text")
        if self._frame is None or self._dets is None:
            return settled
        old = self._dets
        w, h = self._size
        if self.pending is None and not self._dirty:
            return settled  # nothing changed since the previous run: the tracker's boxes are right as they are
        verified, held = (self._verified, self._held) if self._verified != frame_index else self._before
        if not cut and verified is not None and held is not None and verified > self._emitted:
            # (on a frame :meth:`followed` gave the tracker, it has these boxes already)
            settled.hold = (verified, Detections(_clip(held, w, h), old.score, old.kind, old.category))
        frames = sorted(g for g in self._carried if g < frame_index)
        new = None if cut or dets is None or not len(dets) or frame_index not in self._carried else dets
        old_cats = old.categories()
        new_cats = [] if new is None else new.categories()
        for k in np.nonzero(self._sticky)[0]:
            inside: list[int] = []
            if new is not None:
                here = self._carried[frame_index][:, k]
                inside = [j for j, b in enumerate(new.xyxy) if any(_overlap(b, r) for r in here)]
            slots: dict[int, list[tuple[int, Box]]] = {}
            for g in frames:
                parts = list(self._changed[g][:, k])
                if inside and new is not None:  # what the run found there, and carried back along the camera motion
                    parts += list(new.xyxy[inside]) + list(
                        _map_boxes(self._transform(motion, frame_index, g), new.xyxy[inside]))
                for slot, box in enumerate(_merge_overlapping(_clip(np.array(parts), w, h))):
                    slots.setdefault(slot, []).append((g, box))
            category = most_sensitive([old_cats[k]] + [new_cats[j] for j in inside])
            settled.cover += [Cover(category, float(old.score[k]), boxes) for _, boxes in sorted(slots.items())]
        return settled

    def _follow_lines(self, frame_index: int, thumb: np.ndarray, boxes: np.ndarray, positions: np.ndarray
                      ) -> dict[int, tuple[np.ndarray, np.ndarray, bool]]:
        """Match each detection's reference pixels in this frame (see :data:`FOLLOW_RADIUS`). Returns, for each line
        that moved on its own (:data:`FOLLOW_MIN`), its box and region there (frame pixels) and whether it is the
        same line (:data:`FOLLOW_INSIDE`); a line lost keeps moving as it last did. Its box and region are those the
        camera motion carries (``boxes[0]``, ``positions[0]``: zoom and roll included) moved by what the match adds;
        where a still line contradicts the camera motion, the reading's own moved as the match found.

        A line moved on its own when the match puts it away both from where it was in the picture and from where the
        camera motion (``boxes[0]``, frame pixels) carries it; also when it moved with the camera motion while another
        line is found unchanged where it was in the picture although that motion should have moved it: the motion
        then followed something that moves in front of a still camera (the speed clip's face and badge over a plain
        wall), not the camera."""
        assert self._ref is not None and self._dets is not None
        th, tw = thumb.shape[:2]
        sx, sy = tw / self._size[0], th / self._size[1]
        scale = np.array([sx, sy, sx, sy])
        xyxy = np.asarray(self._dets.xyxy, np.float64).reshape(-1, 4)
        consecutive = self._offset_at == frame_index - 1
        offsets = self._offset.copy()
        seen: dict[int, tuple[np.ndarray, np.ndarray, bool]] = {}  # k -> (found, carried, all in the picture)
        for k, box in enumerate(xyxy * scale):
            x1, y1, x2, y2 = (round(float(v)) for v in box)
            x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, tw), min(y2, th)
            if x2 - x1 < 4 or y2 - y1 < 4:
                continue
            step = self._step[k] if consecutive else np.zeros(2)
            guess = self._offset[k] + step
            lost = int(min(self._lost[k], 3)) if consecutive else 3
            r = FOLLOW_RADIUS * (1 + lost) + int(np.ceil(0.5 * np.abs(step).max()))
            gx, gy = round(float(guess[0])), round(float(guess[1]))
            ax1, ay1 = max(0, x1 + gx - r), max(0, y1 + gy - r)
            ax2, ay2 = min(tw, x2 + gx + r), min(th, y2 + gy + r)
            if ax2 - ax1 < x2 - x1 + 2 or ay2 - ay1 < y2 - y1 + 2:
                continue  # (nearly) out of the picture
            score = cv2.matchTemplate(thumb[ay1:ay2, ax1:ax2], self._ref[y1:y2, x1:x2], cv2.TM_SQDIFF)
            _, _, (mx, my), _ = cv2.minMaxLoc(score)
            found = np.array([ax1 + mx + _vertex(score[my, max(mx - 1, 0):mx + 2], mx) - x1,
                              ay1 + my + _vertex(score[max(my - 1, 0):my + 2, mx], my) - y1])
            offsets[k] = found
            whole = x1 == round(box[0]) and y1 == round(box[1]) and x2 == round(box[2]) and y2 == round(box[3])
            carried = ((boxes[0, k] * scale)[:2] + (boxes[0, k] * scale)[2:] - box[:2] - box[2:]) / 2  # its centre
            seen[k] = (found, carried, whole)

        reference = self._ref

        def same_at(k: int, found: np.ndarray) -> bool:
            shift = np.array([found[0] / sx, found[1] / sy] * 2)
            box = (xyxy[k] + shift) * scale
            region = (self._regions[k] + shift) * scale
            # only the window both comparisons look at, of this frame and of the reference moved by found
            x0, y0 = max(0, int(np.floor(min(region[0], box[0])))), max(0, int(np.floor(min(region[1], box[1]))))
            x1, y1 = min(tw, int(np.ceil(max(region[2], box[2])))), min(th, int(np.ceil(max(region[3], box[3]))))
            if x1 - x0 < 1 or y1 - y0 < 1:
                return False
            ref = reference[y0:y1, x0:x1] if not np.any(found) else _warp_window(reference, found, x0, y0, x1, y1)
            cur, at = thumb[y0:y1, x0:x1], np.array([x0, y0, x0, y0], np.float64)
            _, _, _, inside = _region_score(ref, None, cur, region - at, (box - at)[None],
                                            int(self._windows[k]), self.threshold, 0)
            return inside <= FOLLOW_INSIDE and _correlation(ref, cur, box - at) >= FOLLOW_CORRELATION

        still = [k for k, (found, carried, whole) in seen.items()
                 if whole and np.abs(found).max() < FOLLOW_MIN and np.abs(carried).max() >= 2 * FOLLOW_MIN]
        # the camera motion moved a line that stayed: the line is there as it was, not where the motion put it
        contradicted = any(same_at(k, np.zeros(2)) and not same_at(k, seen[k][1]) for k in still)
        def placed(k: int, at: np.ndarray, carried: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            if contradicted:  # the camera motion is not to be trusted here: moved as the match found, no more
                shift = np.array([at[0] / sx, at[1] / sy] * 2)
                return xyxy[k] + shift, self._regions[k] + shift
            res = np.array([(at[0] - carried[0]) / sx, (at[1] - carried[1]) / sy] * 2)
            return boxes[0, k] + res, positions[0, k] + res

        out: dict[int, tuple[np.ndarray, np.ndarray, bool]] = {}
        for k, (found, carried, _) in seen.items():
            if np.abs(found).max() < FOLLOW_MIN or (np.abs(found - carried).max() < FOLLOW_MIN and not contradicted):
                continue  # where it was, or where the camera carried it: the comparisons in look judge it
            same = same_at(k, found)
            self._lost[k] = 0 if same else self._lost[k] + 1
            at = found
            if not same:  # lost: where its last step was taking it
                at = offsets[k] = self._offset[k] + (self._step[k] if consecutive else 0.0)
            out[k] = (*placed(k, at, carried), same)
        self._step = np.where(consecutive, offsets - self._offset, np.zeros_like(offsets))
        self._offset, self._offset_at = offsets, frame_index
        self._confirmed = None
        if any(same for _, _, same in out.values()):  # every line where the match confirms it, or none
            confirmed = []
            for k in range(len(xyxy)):
                if k in out and out[k][2]:
                    confirmed.append(out[k][0])
                elif k not in out and k in seen and same_at(k, seen[k][0]):
                    confirmed.append(placed(k, *seen[k][:2])[0])
                else:
                    break
            else:
                self._confirmed = (frame_index, np.array(confirmed).reshape(-1, 4))
        return out

    def _shrink(self, frame_index: int, image: np.ndarray) -> np.ndarray:
        if self._thumb is not None and self._thumb[0] == frame_index:
            return self._thumb[1]
        h, w = image.shape[:2]
        scale = min(1.0, self.width / w)
        small = image if scale == 1.0 else cv2.resize(
            image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        grey = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        thumb = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), CHANGE_BLUR)
        self._thumb = (frame_index, thumb)
        return thumb

    @staticmethod
    def _transform(motion: MotionPath | None, a: int, b: int) -> np.ndarray:
        t = motion.transform(a, b) if motion is not None and a != b else None
        return _IDENTITY if t is None else np.asarray(t, np.float64)


_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def revealed_boxes(t: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Up to four boxes (K x 4, frame pixels) covering the part of a ``size`` (w, h) frame outside an earlier frame of
    that size carried into it by the 2x3 transform ``t``: strips along the edges, outside the largest upright box
    inside the carried frame (so a roll counts what it shows in the corners)."""
    w, h = float(size[0]), float(size[1])
    a = np.asarray(t, np.float64)
    c = np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]]) @ a[:, :2].T + a[:, 2]  # tl, tr, br, bl
    x1, x2 = max(c[0, 0], c[3, 0], 0.0), min(c[1, 0], c[2, 0], w)
    y1, y2 = max(c[0, 1], c[1, 1], 0.0), min(c[2, 1], c[3, 1], h)
    if x2 <= x1 or y2 <= y1:
        return np.array([[0.0, 0.0, w, h]])
    strips = [[0.0, 0.0, x1, h], [x2, 0.0, w, h], [x1, 0.0, x2, y1], [x1, y2, x2, h]]
    return np.array([b for b in strips if b[2] - b[0] >= 1 and b[3] - b[1] >= 1]).reshape(-1, 4)


def revealed_share(t: np.ndarray, size: tuple[int, int]) -> float:
    """The share of a ``size`` (w, h) frame outside an earlier frame of that size carried into it by the 2x3
    transform ``t``: what the camera has shown since."""
    w, h = float(size[0]), float(size[1])
    if w <= 0 or h <= 0:
        return 0.0
    a = np.asarray(t, np.float64)
    corners = np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])
    moved = (corners @ a[:, :2].T + a[:, 2]).astype(np.float32)
    area, _ = cv2.intersectConvexConvex(moved, corners.astype(np.float32))
    return float(min(1.0, max(0.0, 1.0 - max(0.0, area) / (w * h))))


def _scaled(t: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """The frame-pixel transform ``t`` in the pixels of a thumbnail ``sx`` x ``sy`` times the frame's size."""
    out = np.array(t, np.float64)
    out[0, 1] *= sx / sy
    out[1, 0] *= sy / sx
    out[0, 2] *= sx
    out[1, 2] *= sy
    return out


def _merge_overlapping(boxes: np.ndarray) -> list[Box]:
    """Non-empty ``boxes``, each group of overlapping ones replaced by the box around it, left to right."""
    groups = [list(map(float, b)) for b in boxes if b[2] > b[0] and b[3] > b[1]]
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                a, b = groups[i], groups[j]
                if _overlap(a, b):
                    groups[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return [(b[0], b[1], b[2], b[3]) for b in sorted(groups)]


def _region_score(ref: np.ndarray, prev: np.ndarray | None, cur: np.ndarray, region: np.ndarray,
                  boxes: np.ndarray, window: int, threshold: float = np.inf, own: int | None = None
                  ) -> tuple[float, float, tuple[float, float, float, float] | None, float]:
    """Mean absolute differences (0-255) over ``window`` squares in ``region`` (thumbnail pixels) between this
    (blurred) frame and the reference carried to it, each less the region's median difference (exposure): the largest
    outside ``boxes`` (N x 4, the detections) of the smaller of that and the same difference with ``prev`` (the frame
    before, carried the same way; None: not known, the reference alone counts), and the largest of the reference's
    anywhere; and the box (thumbnail pixels) around the windows outside ``boxes`` that differ from the reference by
    more than ``threshold`` (None: none do); and the share of the windows inside ``boxes[own]`` (the region's own
    detection) that differ from the reference by more than ``threshold`` (0 when ``own`` is None). Pixels a carried
    frame does not have (NaN: outside it) count as unchanged."""
    th, tw = cur.shape[:2]
    x1, y1 = max(0, int(np.floor(region[0]))), max(0, int(np.floor(region[1])))
    x2, y2 = min(tw, int(np.ceil(region[2]))), min(th, int(np.ceil(region[3])))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return 0.0, 0.0, None, 0.0  # carried out of the picture
    k = int(min(window, x2 - x1, y2 - y1))
    here = cur[y1:y2, x1:x2]
    d = _abs_diff(here, ref[y1:y2, x1:x2])
    if d is None:
        return 0.0, 0.0, None, 0.0
    blurred = cv2.blur(d, (k, k), borderType=cv2.BORDER_CONSTANT)
    anywhere = float(blurred.max())
    own_changed = 0.0
    inside = [_within(b, x1, y1, x2, y2) for b in boxes]  # each detection as slices of the region, or None
    if own is not None and inside[own] is not None:
        own_changed = float((blurred[inside[own]] > threshold).mean())
    for where in inside:  # inside a detection: still covered by it
        if where is not None:
            d[where] = 0.0
    change = cv2.blur(d, (k, k), borderType=cv2.BORDER_CONSTANT)
    ys, xs = np.nonzero(change > threshold)
    part = None
    if len(xs):  # every window that differs from the reference, each whole (a window is k pixels around its centre)
        part = (x1 + xs.min() - k / 2, y1 + ys.min() - k / 2, x1 + xs.max() + 1 + k / 2, y1 + ys.max() + 1 + k / 2)
    step = None if prev is None else _abs_diff(here, prev[y1:y2, x1:x2])
    if step is not None:
        change = np.minimum(change, cv2.blur(step, (k, k), borderType=cv2.BORDER_CONSTANT))
    return float(change.max()), anywhere, part, own_changed


def _within(box: np.ndarray, x1: int, y1: int, x2: int, y2: int) -> tuple[slice, slice] | None:
    """``box`` (rounded outwards) as row and column slices of the region ``x1, y1, x2, y2``; None outside it."""
    bx1, by1 = max(x1, int(np.floor(box[0]))), max(y1, int(np.floor(box[1])))
    bx2, by2 = min(x2, int(np.ceil(box[2]))), min(y2, int(np.ceil(box[3])))
    if bx2 > bx1 and by2 > by1:
        return slice(by1 - y1, by2 - y1), slice(bx1 - x1, bx2 - x1)
    return None


def _cover_part(part: tuple[float, float, float, float] | None, box: np.ndarray, margin: float) -> np.ndarray:
    """What of a watched region a frame of an unread change needs covered: its detection (where the text was) and
    the windows around it that differ from the reference (what the change put there), grown by ``margin``: half the
    detection's short side, at most :data:`CHANGE_UNIT` (a line of text, padded, is about that tall: a glyph that
    changed only in part is covered whole). The rest of the region looks as it did when the detector read it and
    found nothing there."""
    if part is None:
        return np.asarray(box, np.float64)
    m = max(0.5, margin)
    return np.array([min(box[0], part[0] - m), min(box[1], part[1] - m), max(box[2], part[2] + m),
                     max(box[3], part[3] + m)])


def _vertex(values: np.ndarray, at: int) -> float:
    """Sub-pixel correction of a minimum at ``values``' middle (three samples; fewer at an edge: 0)."""
    if len(values) != 3 or at == 0:
        return 0.0
    a, b, c = (float(v) for v in values)
    den = a - 2 * b + c
    return 0.0 if den <= 0 else float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))


def _correlation(a: np.ndarray, b: np.ndarray, box: np.ndarray) -> float:
    """The correlation coefficient of ``a`` and ``b`` inside ``box`` (thumbnail pixels; pixels ``a`` does not have,
    NaN, left out); -1 when there is too little to compare or either is flat there."""
    h, w = b.shape[:2]
    x1, y1 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    if x2 - x1 < 3 or y2 - y1 < 3:
        return -1.0
    pa, pb = a[y1:y2, x1:x2].ravel(), b[y1:y2, x1:x2].ravel()
    valid = np.isfinite(pa)
    if valid.sum() < 0.8 * len(pa):
        return -1.0
    pa, pb = pa[valid] - pa[valid].mean(), pb[valid] - pb[valid].mean()
    den = float(np.sqrt((pa * pa).sum() * (pb * pb).sum()))
    return -1.0 if den < 1e-6 else float((pa * pb).sum() / den)


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])])


def _abs_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """``|a - b|`` less its median where ``b`` is known, 0 where it is not (NaN); None when it is nowhere."""
    d = a - b
    valid = np.isfinite(d)
    if not valid.any():
        return None
    d = np.abs(d - float(np.median(d[valid])))
    d[~valid] = 0.0
    return d.astype(np.float32)


def changed_between(ref: np.ndarray, cur: np.ndarray, transform: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Boxes (K x 4, frame pixels of a ``size`` (w, h) frame) around each part of the frame whose thumbnail is ``cur``
    that differs from an earlier frame's, ``ref`` (thumbnails as :meth:`ChangeWatch.thumbnail` makes them), carried
    by ``transform`` (2x3, frame pixels): :func:`changed_boxes` in frame pixels."""
    sx, sy = cur.shape[1] / size[0], cur.shape[0] / size[1]
    t = np.asarray(transform, np.float64)
    boxes = changed_boxes(ref, cur, None if np.allclose(t, _IDENTITY, atol=1e-6) else _scaled(t, sx, sy))
    return boxes / np.array([sx, sy, sx, sy])


def changed_boxes(ref: np.ndarray, cur: np.ndarray, t: np.ndarray | None, threshold: float = PART_THRESHOLD
                  ) -> np.ndarray:
    """Boxes (K x 4, thumbnail pixels) around each connected part of ``cur`` that differs from ``ref`` carried by the
    2x3 transform ``t`` (thumbnail pixels; None: as it is) by more than ``threshold`` less the median difference;
    pixels ``ref`` does not cover count as differing."""
    h, w = cur.shape[:2]
    warped = ref if t is None else _warp(ref, np.asarray(t, np.float64))
    cur = cur.astype(np.float32)
    d = cur - warped
    valid = np.isfinite(d)
    if not valid.any():
        return np.array([[0.0, 0.0, float(w), float(h)]])
    exposure = float(np.median(d[valid]))
    d = np.abs(d - exposure)
    d[~valid] = np.inf
    for dy in range(-SLACK, SLACK + 1):  # what the reference a pixel away explains is not a change
        for dx in range(-SLACK, SLACK + 1):
            if dx or dy:
                shifted = cv2.warpAffine(warped, np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]]), (w, h),
                                         flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                                         borderValue=float("nan"))
                e = np.abs(cur - shifted - exposure)
                np.fmin(d, e, out=d)
    mask = (d > threshold).astype(np.uint8)
    if not mask.any():
        return np.zeros((0, 4))
    n, _, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(mask, np.ones((3, 3), np.uint8)), connectivity=8)
    s = stats[1:n][stats[1:n, cv2.CC_STAT_AREA] >= MIN_PART].astype(np.float64)
    return np.stack([s[:, 0], s[:, 1], s[:, 0] + s[:, 2], s[:, 1] + s[:, 3]], axis=1)


def _warp(thumb: np.ndarray, t: np.ndarray) -> np.ndarray:
    return cv2.warpAffine(thumb, t, (thumb.shape[1], thumb.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=float("nan"))


def _warp_window(thumb: np.ndarray, shift: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """``_warp(thumb, translation by shift)[y0:y1, x0:x1]``, computing that window only."""
    t = np.array([[1.0, 0.0, x0 - float(shift[0])], [0.0, 1.0, y0 - float(shift[1])]])
    return cv2.warpAffine(thumb, t, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=float("nan"))


def _map_boxes(t: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
    """Boxes carried by the 2x3 transform ``t``: the axis-aligned boxes around their mapped corners."""
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    xs = xyxy[:, [0, 2, 0, 2]]
    ys = xyxy[:, [1, 1, 3, 3]]
    mx = t[0, 0] * xs + t[0, 1] * ys + t[0, 2]
    my = t[1, 0] * xs + t[1, 1] * ys + t[1, 2]
    return np.stack([mx.min(axis=1), my.min(axis=1), mx.max(axis=1), my.max(axis=1)], axis=1)


def _clip(xyxy: np.ndarray, w: int, h: int) -> np.ndarray:
    out = np.asarray(xyxy, np.float64).reshape(-1, 4).copy()
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, w)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, h)
    return out


def _overlap(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> bool:
    return bool(min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1]))
