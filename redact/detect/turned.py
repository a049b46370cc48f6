"""Faces of people lying down: a detector run on the frame turned a quarter turn each way, boxes mapped back.

CenterFace was trained on upright faces. A patient in a bed seen from the side, or a clip filmed sideways, shows faces
turned 60-120 degrees in the picture, and many of those it misses (issue 23). :class:`TurnedDetector` runs its inner
detector on the frame turned 90 degrees counter-clockwise and clockwise (exact turns: ``cv2.rotate``, no
resampling), so a face lying either way is upright in one of them, and maps the boxes back to the frame's pixels.
Scheduled with the full-frame face pass (``ScanOptions.lying_faces="on"``); the tracker fills the frames between.

By default (``lying_faces="auto"``) :class:`ScheduledTurned` pays for the turned passes only where a clip shows turned
faces: a cheap look (the frame turned each way, shrunk to :data:`LOOK_MAX_SIDE` px) every :data:`LOOK_EVERY` frames,
and the full turned pass, for one turn, only once that look has found a confident face there that the upright passes
of the same frame do not explain, and found it again on the next frame (or the one after). Nothing is taken away: it
only adds boxes; once a turn is switched on, the faces its look found and did not keep are handed back to the look's
frame (:meth:`ScheduledTurned.handed_back`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from ..types import Detections
from .base import Detector, cover_matrix, iou_matrix
from .schedule import Scheduled

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
        return Detections.concat([self.detect_turn(image, turn) for turn in self.turns], self.kind)

    def detect_turn(self, image: np.ndarray, turn: int) -> Detections:
        """The inner detector's boxes in the frame turned ``turn`` degrees counter-clockwise, in the frame's pixels."""
        h, w = image.shape[:2]
        dets = self.detector.detect(turn_image(image, turn))
        if not len(dets):
            return Detections.empty(self.kind)
        return Detections(boxes_back(dets.xyxy, turn, w, h), dets.score, self.kind).clip(w, h)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "turns": list(self.turns), "inner": self.detector.describe()}


LOOK_MAX_SIDE = 640
"""The look's input size (long side of the turned frame, pixels): 0.44x the pixels of the full turned pass at 960."""
LOOK_EVERY = 16
"""Frames between two looks of a turn that is not switched on (and on cuts): 4 full passes at the default stride."""
LOOK_TRIGGER = 0.6
"""Score a face found by the look must reach to count (and to be kept from a look). On frames of the faces-crowd and
faces-dev kenburns clips (every 8th), no turned face the upright passes did not explain scored over 0.59 at 640 px on
the upright clips (a rack of CD covers behind a group), while on the clips turned 90 or 270 degrees 10 of 12 rooms
had one at 0.64-0.92 in most frames."""
TRIGGER = 0.7
"""Score a face found by the full turned pass must reach to switch its turn on or keep it on. At 960 px, turned faces
the upright passes did not explain scored up to 0.55 on the upright crowd clips and 0.73 on the CD covers, 0.7-0.94
in most frames of the turned rooms."""
HOLD = 64
"""Frames a switched-on turn stays on after its last confident face that the upright passes did not explain."""
FOLLOW_UPS = 2
"""Follow-ups (the full turned pass on the next frames) a look's confident unexplained face gets to be seen again by
the full turned pass (anywhere: a crowd's lying faces are found by turns in different frames); after as many without,
the turn waits for its next look. On the next frame, not the next full pass: the frames before the switch keep only
the look's confident faces (crowd turned 90 degrees, schoolkids 21: 90.4% -> 94.1% over 20 frames)."""
UNEXPLAINED_IOU, UNEXPLAINED_COVER = 0.3, 0.5
"""A turned face is explained by an upright face of the same frame matching it (IoU) or covering this share of it."""


def unexplained(found: Detections, upright: Detections | None) -> np.ndarray:
    """Per box of ``found``: whether no box of ``upright`` matches it (IoU >= 0.3) or covers half of it."""
    if not len(found) or upright is None or not len(upright):
        return np.ones(len(found), bool)
    a, b = found.xyxy, upright.xyxy
    matched = (iou_matrix(a, b) >= UNEXPLAINED_IOU) | (cover_matrix(a, b) >= UNEXPLAINED_COVER)
    return np.asarray(~matched.any(axis=1), bool)


def beaten(found: Detections, others: Sequence[Detections]) -> np.ndarray:
    """Per box of ``found``: whether another turn found the same face (:func:`unexplained`'s overlap) with a higher
    score: a face lying one way is upright in one turn and upside down in the other, where it may still score."""
    out = np.zeros(len(found), bool)
    for other in others:
        if len(found) and len(other):
            same = (iou_matrix(found.xyxy, other.xyxy) >= UNEXPLAINED_IOU) | \
                (cover_matrix(found.xyxy, other.xyxy) >= UNEXPLAINED_COVER)
            out |= (same & (other.score[None, :] > found.score[:, None])).any(axis=1)
    return out


@dataclass
class _Turn:
    """What :class:`ScheduledTurned` knows of one turn in the current clip."""

    suspect: np.ndarray | None = None  # boxes of confident unexplained faces of the last look, to be seen again
    tries: int = 0  # follow-ups since the suspect was first seen
    on_until: int = -(10**9)  # the full turned pass runs for this turn up to this frame
    switched: int = 0  # times the full pass was switched on in this clip
    held: list[tuple[int, Detections]] = field(default_factory=list)  # found, not kept, since the suspect's look


class ScheduledTurned(Scheduled):
    """Turned faces looked for cheaply, and the full turned pass switched on only where they are (``lying_faces``
    "auto", the default).

    Due with the full-frame face pass (every ``every`` frames and on cuts) and after the other face passes, whose
    faces of the same frame it is given (``context["face"]``). For each turn (90 and 270 degrees):

    * **look**: every ``look_every`` frames, ``look`` (CenterFace on the turned frame at :data:`LOOK_MAX_SIDE` px)
      runs; faces it scores at least ``look_trigger`` that no upright face explains (below) are kept (boxes are only
      ever added; one an upright pass found already has its box). The first look of a clip
      and of a scene (a cut) is ``full``, with ``trigger``: the start of a clip is where a late switch costs most, and
      a small crowd lying down scores under ``look_trigger`` at 640 px in some frames;
    * if one of them is **unexplained** (no upright face of the frame matches or covers it, nor a face the other turn
      scored higher: the same face upside down), ``full`` runs on that turn
      with the next full pass (up to :data:`FOLLOW_UPS` times); an unexplained face it scores at least ``trigger``
      **switches the turn on**, and all that run found is kept (until then, only its unexplained faces scored
      ``trigger``); what the look and the follow-ups before it found on their frames and did not keep is then handed
      back to those frames (:meth:`handed_back`; the tracker is given faces :attr:`hands_back` frames late);
    * **on**: ``full`` (the turned pass of ``lying_faces="on"``: 960 px, the full pass's threshold) runs on that turn
      with every full pass, all it finds kept, until ``hold`` frames pass without a confident unexplained face; then
      the turn is looked at again.

    On upright footage this costs the looks alone (two small runs every ``look_every`` frames); a clip filmed
    sideways, or a patient lying in bed, gets the turned pass of the turn that shows them.
    """

    uses_context = True
    hands_back = FOLLOW_UPS

    def __init__(self, look: Detector, full: Detector, every: int = 4, look_every: int = LOOK_EVERY,
                 turns: Sequence[int] = TURNS, trigger: float = TRIGGER, look_trigger: float = LOOK_TRIGGER,
                 hold: int = HOLD):
        super().__init__(TurnedDetector(full, turns), every)
        if not isinstance(look_every, int) or look_every < 1 or not isinstance(hold, int) or hold < 1:
            raise ValueError(f"look_every and hold must be integers >= 1, got {look_every!r}, {hold!r}")
        self.looker = TurnedDetector(look, turns)
        self.look_every, self.trigger, self.look_trigger, self.hold = look_every, float(trigger), float(look_trigger), hold
        self.turns: tuple[int, ...] = self.looker.turns
        self._state: dict[int, _Turn] = {}
        self._cut, self._first = False, True
        self._last_look = -(10**9)  # the looks of all turns keep one step
        self._back: list[tuple[int, Detections]] = []
        self.looks = self.full_runs = 0

    def reset(self) -> None:
        super().reset()
        self._state = {t: _Turn() for t in self.turns}  # new objects: a copy of this schedule must not share them
        self._cut, self._first = False, True
        self._last_look = -(10**9)
        self._back = []
        self.looks = self.full_runs = 0

    def handed_back(self) -> list[tuple[int, Detections]]:
        """What a turn's look and follow-ups found on their frames and did not keep, handed back once the turn is
        switched on (:meth:`run`)."""
        out, self._back = self._back, []
        return out

    def _turn(self, turn: int) -> _Turn:
        if turn not in self._state:
            self._state[turn] = _Turn()
        return self._state[turn]

    def _mode(self, turn: int, frame_index: int) -> str | None:
        st = self._turn(turn)
        if frame_index <= st.on_until:
            return "full"
        if st.suspect is not None or self._look_due(frame_index):
            return "look"
        return None

    def _look_due(self, frame_index: int) -> bool:
        return self._cut or frame_index - self._last_look >= self.look_every

    def switched_on(self, frame_index: int) -> list[int]:
        """The turns whose full pass is on at ``frame_index``."""
        return [t for t in self.turns if frame_index <= self._turn(t).on_until]

    def due(self, frame_index: int, cut: bool) -> bool:
        self._cut = cut
        if not cut and any(self._turn(t).suspect is not None for t in self.turns):
            return True  # a face the look found, seen again on the very next frame: a late switch costs most
        if not (cut or self.strided(frame_index)):
            return False
        return any(self._mode(t, frame_index) is not None for t in self.turns)

    def run(self, frame_index: int, image: np.ndarray,
            context: Mapping[str, Detections] | None = None) -> Detections:
        between = not (self._cut or self.strided(frame_index))  # a follow-up alone, between two full passes
        if not between:  # (which leaves the stride in step with the full pass)
            self._last = frame_index
        upright = (context or {}).get(self.detector.kind)
        looking = self._look_due(frame_index)
        if self._cut:  # what was held back belongs to the scene before the cut
            for st in self._state.values():
                st.held = []
        runs: list[tuple[int, str, bool, Detections, float]] = []
        for turn in self.turns:
            mode = self._mode(turn, frame_index)
            if mode is None:
                continue
            following = mode == "look" and self._turn(turn).suspect is not None and not self._cut
            if between and not following:
                continue
            fresh = mode == "look" and (self._cut or self._first)  # the clip's (or scene's) first look: in full
            if mode == "full" or following or fresh:  # on, seeing a look's face again, or a first look: in full
                dets = self.detector.detect_turn(image, turn)  # type: ignore[attr-defined]
                self.full_runs += 1
            else:
                dets = self.looker.detect_turn(image, turn)
                self.looks += 1
            runs.append((turn, mode, following, dets, self.trigger if mode == "full" or following or fresh
                         else self.look_trigger))
        found = []
        for turn, mode, following, dets, keep in runs:
            st = self._turn(turn)
            others = [d for t, _, _, d, _ in runs if t != turn]
            kept = (dets.score >= keep) & unexplained(dets, upright) & ~beaten(dets, others)
            sure = dets.filter(kept)
            if mode == "full":
                if len(sure):
                    st.on_until = frame_index + self.hold
            elif following and len(sure):  # seen again by the full turned pass: on
                st.on_until, st.suspect, st.tries = frame_index + self.hold, None, 0
                st.switched += 1
                mode = "full"
                self._back += st.held  # the look's and follow-ups' other faces: tracked on their own frames
                st.held = []
            elif len(sure) or (following and st.tries + 1 < FOLLOW_UPS):
                if not following:  # a new look's suspect: what older runs held back is not handed back
                    st.held = []
                st.tries = st.tries + 1 if following else 0
                st.suspect = sure.xyxy.copy() if len(sure) else st.suspect
                if not kept.all():
                    st.held.append((frame_index, dets.filter(~kept)))
            else:  # nothing to follow up, or followed up long enough: back to a look every look_every frames
                st.suspect, st.tries, st.held = None, 0, []
            found.append(dets if mode == "full" else sure)  # a look keeps only what the upright passes lack
        if looking:
            self._last_look = frame_index
        self._cut = self._first = False
        return Detections.concat(found, self.detector.kind) if found else Detections.empty(self.detector.kind)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(name="turned-auto", look=self.looker.detector.describe(), look_every=self.look_every,
                 look_trigger=self.look_trigger, trigger=self.trigger, hold=self.hold)
        return d
