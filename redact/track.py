"""Turn per-frame detections into tracks: one box per frame per object, gaps filled, fail-closed.

Rules (each is tested):

* Nothing is dropped: every raw detection (clipped to the frame) lies inside its track's box for
  that frame, whatever its score and even if it is seen in one frame only.
* Detector blinks are bridged: a track missed for up to ``max_gap`` frames and then seen again is
  linearly interpolated through the gap (source ``"interpolated"``).
* Frames the caller did not pass (a detector run every N frames) are not misses: they are
  interpolated between detections, and frames no detector looked at before a track's first
  detection / after its last are always covered (plus ``pre_roll`` / ``post_roll`` frames; source
  ``"tracked"``). Frames after the last :meth:`Tracker.update` count as not looked at.
* Boxes are generous: ``pad`` of the box size on each side, plus (away from a detection) ``motion_pad`` frames'
  worth of the box's speed, plus uncertainty growing with the distance (in frames) to the nearest detection.
  Boxes are clipped to the frame and rounded outwards to whole pixels.
* Camera motion (optional, a :class:`redact.motion.MotionPath` given to :meth:`Tracker.finish`): without
  ``scene_fill``, where the motion is known, a frame between two detections also covers the two detections carried
  to it along the camera motion, blended linearly (right for text on a monitor while the phone shakes, and for an
  object moving steadily in the scene), and the two carried boxes themselves when the object is static in the scene
  (the first detection, carried to the second one's frame, lands within ``scene_tol`` of it); roll frames also cover
  the first / last detection carried along the camera motion (whether the object stays put in the scene or the
  camera follows it, both are covered). Across a frame whose motion is unknown (flat frame, cut) nothing is
  carried: the box is as without motion. Carried boxes are bounded: each at most :data:`CARRY_SCALE` times its
  detection, and where covering both the box without motion and the carried ones would make a box more than
  ``union_scale`` times its detection on a side (a phone or a bus moving far between two OCR readings), the
  measured motion is followed instead of kept beside the place the object left.
* Evidence before persistence: a track is CONFIRMED when it has ``confirm_hits`` detections or one scoring at
  least ``confirm_score`` (a track of one detection: at least ``lone_score`` too). Only confirmed tracks earn the configured pre-/post-roll, motion padding and growth away
  from their detections. An unconfirmed track (a weak, lone detection: often texture, sometimes a real face seen
  badly) is still covered wherever it was seen, between its detections, as far before and after them as they were
  apart (a far face that only a strided pass finds is re-found every N frames), and on every frame no detector of
  its kind looked at around it (fail closed), but tightly: padded by ``pad`` only. Each track records its evidence
  (:attr:`redact.types.Track.evidence`).
* Rolls follow the track's own cadence: a confirmed track re-detected every frame or two gets ``min_roll``
  frames of pre-/post-roll (the detectors watched it come and go), one re-detected only every N frames gets
  up to ``cadence_roll`` x N, never more than ``pre_roll`` / ``post_roll``; one detection: the full rolls.
* Bounded boxes: padding, motion padding and growth together never take a box more than ``max_extra`` of its
  detection's size past it on any side (a box is at most ``1 + 2 * max_extra`` times its detection per axis),
  however fast a track seemed to move; boxes carried along the camera motion are bounded the same way.
* Cuts (:meth:`Tracker.cut`): every track ends at a scene cut and no box is carried across one (rolls stop
  there); the frames after a cut are a new scene, and the detectors all run on a cut frame.
* Identities: tracks are matched to detections by a minimum-cost assignment (Hungarian
  algorithm, :func:`redact.assign.assign`, so the result never depends on whether scipy is installed) on
  the IoU with the track's prediction, with a centre-distance fallback for small fast faces whose boxes no longer
  overlap. With the camera motion given to :meth:`Tracker.update`, the prediction is made in the scene (as
  BoT-SORT's camera-motion compensation does): the last detection carried along the measured motion, plus the
  object's own speed in the scene, and the centre fallback is then tight (``scene_match``): a face that a strided pass
  misses on a shaking crowd shot is not matched to its neighbour. Where the motion is unknown, the picture-space
  constant-velocity prediction and the wide fallback, as without motion.
* Scene fill (``scene_fill``, faces): where the camera motion is known, frames between two detections and roll frames
  get the scene-consistent box alone (see :attr:`TrackerConfig.scene_fill`), padded by the object's own speed in the
  scene rather than the shake's speed in the picture.

Memory is the tracks' own detections; nothing is kept per frame.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable, Sequence

import cv2
import numpy as np

from redact.assign import assign
from redact.detect.base import cover_matrix, iou_matrix, merge_enclosing
from redact.track_config import TrackerConfig
from redact.types import KINDS, Detections, Track, TrackBox, most_sensitive

if TYPE_CHECKING:
    from redact.motion import MotionPath

log = logging.getLogger(__name__)

CARRY_SCALE = 1.25
"""A box carried along the camera motion is at most this many times the size of the detection it came from."""
CUT_NEAR = 0.1
"""A side of a detection within this share of the frame's shorter side of the frame's edge counts as cut by it (see
:meth:`Tracker._scene_box`): a reading does not always box the strokes of a large line that the frame's edge cuts
(labelled text clips: 5% left a stroke of a logo in view after the camera brought it in; 10% covers it)."""
_STILL = np.zeros(2)
"""No speed of the object's own (:attr:`TrackerConfig.watched`)."""
FORBIDDEN = 1e6
"""Cost of a pair that must not be matched (any allowed pair costs at most 3)."""


class _OutOfView:
    """Type of :data:`OUT_OF_VIEW`."""


OUT_OF_VIEW = _OutOfView()
"""What :meth:`Tracker._scene_box` gives where the known camera motion carried the object out of the frame."""

PIN_MARGIN = 0.1
"""Two detections of a track are at the same place in the picture (:attr:`TrackerConfig.pinned`) when their IoU as
they are is at least 0.5 and exceeds by more than this that of the first carried along the camera motion with the
second; they agree with the motion when the reverse holds; otherwise (the camera barely moved) they tell nothing."""
PIN_STILL = 0.7
"""A track not pinned yet whose prediction the motion took far (:data:`PIN_MOVED`) is matched to a line where it was
in the picture when they overlap by at least this IoU (not a neighbouring line of dense text)."""
PIN_MOVED = 0.5
"""... and only where the motion says the first moved far, its box carried overlapping its box as it was by at most
this IoU: where it moved less, two readings of a line whose boxes differ in extent (words at one reading, the whole
line at the next) disagree with the motion by more than it moved (labelled text clips, slow pan and zoom: pinned so,
legible-line recall 98.8% -> 98.4%)."""


@dataclass
class _Live:
    """A track while it is being built: its detections only."""

    id: int
    seen_before: int
    """The last update frame before the first detection (-1: none), i.e. frames after it were unseen."""
    frames: list[int] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    """Picture-space speed of the centre (px/frame), smoothed."""
    drift: np.ndarray | None = None
    """The object's own speed in the scene (px/frame, the camera's motion taken out), smoothed; None: not measured."""
    next_update: int | None = None
    """The first update frame after the last detection (None: none yet)."""
    categories: set[str] = field(default_factory=set)
    """PII categories of the text this track's detections held (text tracks only)."""
    votes: list[bool | None] = field(default_factory=list)
    """Per detection, whether it and the detection before it found the object fixed in the picture
    (:func:`_pin_vote`, with :attr:`TrackerConfig.pinned` only): True, False the reverse, None where they told nothing,
    the camera motion between them was unknown, or it is the first. Matching (:attr:`pinned`) and the boxes
    (:meth:`pinned_at`) both follow these votes."""
    pinned: bool = False
    """Whether the last two detections that told (the last vote not None) found it fixed in the picture."""
    shapes: list[np.ndarray | None] = field(default_factory=list)
    """Per detection, its quad (text lines, :attr:`redact.types.Detections.quad`) in units of its box: (4, 2), the
    box's top-left at 0 and bottom-right at 1; None: the box is its shape."""

    def add(self, frame: int, box: np.ndarray, score: float, category: str | None = None,
            motion: MotionPath | None = None, shape: np.ndarray | None = None, pin: bool = False) -> None:
        if category:
            self.categories.add(category)
        vote: bool | None = None
        if self.frames:
            dt = frame - self.frames[-1]
            step = (_centre(box) - _centre(self.boxes[-1])) / dt
            self.velocity = step if len(self.frames) == 1 else 0.5 * self.velocity + 0.5 * step
            landed = motion.map_box(self.boxes[-1], self.frames[-1], frame) if motion is not None else None
            if landed is not None:
                vote = _pin_vote(self.boxes[-1], landed, box) if pin else None
                self.pinned = self.pinned if vote is None else vote
                own = (_centre(box) - _centre(landed)) / dt
                if not self.pinned:  # a pinned object's speed against a camera motion it does not follow is no speed
                    self.drift = own if self.drift is None else 0.5 * self.drift + 0.5 * own
        self.frames.append(frame)
        self.boxes.append(box)
        self.scores.append(score)
        self.shapes.append(shape)
        self.votes.append(vote)
        self.next_update = None

    def pinned_at(self) -> list[bool]:
        """Per detection, whether it is fixed in the picture (:attr:`TrackerConfig.pinned`): as the last vote up to
        it that told (:attr:`votes`) found; the detections before the first vote that told, as that vote found
        (nobody knows better)."""
        first = next((v for v in self.votes if v is not None), False)
        out = []
        state: bool | None = None
        for v in self.votes:
            state = state if v is None else v
            out.append(first if state is None else state)
        return out

    def predict(self, frame: int, horizon: int, motion: MotionPath | None = None) -> tuple[np.ndarray, bool]:
        """Where the object is expected on ``frame``, and whether that was carried along the camera motion: the
        last detection carried along the measured motion plus the object's own speed in the scene; where the motion
        is unknown, the picture-space constant-velocity prediction."""
        dt = min(frame - self.frames[-1], horizon)
        carried = motion.map_box(self.boxes[-1], self.frames[-1], frame) if motion is not None else None
        if carried is not None:
            dx, dy = (self.drift if self.drift is not None else np.zeros(2)) * dt
            return _clamped(carried, CARRY_SCALE * _size(self.boxes[-1])) + np.array([dx, dy, dx, dy]), True
        dx, dy = self.velocity * dt
        return self.boxes[-1] + np.array([dx, dy, dx, dy]), False


class Tracker:
    """Streaming tracker for one kind of object in a ``width`` x ``height`` video.

    Call :meth:`update` with each analysed frame's detections in increasing frame order (frames
    may be skipped), then :meth:`finish` once. Track ids start at 1 in order of appearance.
    ``n_frames`` is only a hint (a container's frame count can be an estimate); the count given
    to :meth:`finish` is the one that bounds the tracks.
    """

    def __init__(self, kind: str, n_frames: int | None, width: int, height: int, config: TrackerConfig | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        if width < 1 or height < 1:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        self.kind = kind
        self.n_frames = n_frames
        self.width = width
        self.height = height
        self.config = config or TrackerConfig()
        self._live: list[_Live] = []
        self._ended: list[_Live] = []
        self._last_update = -1
        self._next_id = 1
        self._finished = False
        self._cuts: list[int] = []

    def cut(self, frame_index: int) -> None:
        """A scene cut at ``frame_index`` (before its :meth:`update`): every live track ends before it, and no
        track's rolls cross it."""
        if self._finished:
            raise RuntimeError("Tracker.cut() after finish()")
        if frame_index <= self._last_update or (self._cuts and frame_index <= self._cuts[-1]):
            raise ValueError(f"cut at frame {frame_index} after frame {self._last_update} was given")
        for track in self._live:
            if track.next_update is None:
                track.next_update = frame_index
        self._ended += self._live
        self._live = []
        self._cuts.append(frame_index)

    def update(self, frame_index: int, detections: Detections, motion: MotionPath | None = None) -> None:
        """Add the detections of frame ``frame_index`` (later than any frame given before).

        ``motion``: the clip's camera motion, known at least up to ``frame_index``: live tracks are then predicted
        along it (matched in the scene, not in the picture) where it is reliable; with :attr:`TrackerConfig.pinned`,
        whether a track is fixed in the picture is judged along it, here only, for its matching and its boxes alike
        (the motion given to :meth:`finish` does not judge it again)."""
        if self._finished:
            raise RuntimeError("Tracker.update() after finish()")
        if frame_index <= self._last_update or frame_index < 0:
            raise ValueError(f"frames must be given in increasing order: {frame_index} after {self._last_update}")
        if detections.kind != self.kind:
            raise ValueError(f"a {self.kind} tracker was given {detections.kind} detections")
        if self.config.merge_contained > 0:
            detections = merge_enclosing(detections, 1.0, contained=self.config.merge_contained)
        boxes, scores, cats, shapes = self._prepare(detections)
        pairs = self._match(frame_index, boxes, motion)
        matched_tracks = {t for t, _ in pairs}
        matched_dets = {d for _, d in pairs}
        for t, d in pairs:
            box = self._whole(self._live[t], frame_index, boxes[d], motion)
            self._live[t].add(frame_index, box, float(scores[d]), cats[d], motion, shapes[d], self.config.pinned)
        still = []
        for i, track in enumerate(self._live):
            if i not in matched_tracks:
                if track.next_update is None:
                    track.next_update = frame_index
                if frame_index - track.frames[-1] > self.config.max_gap:
                    self._ended.append(track)
                    continue
            still.append(track)
        self._live = still
        for d in range(len(boxes)):
            if d not in matched_dets:
                track = _Live(self._next_id, self._last_update)
                track.add(frame_index, boxes[d], float(scores[d]), cats[d], shape=shapes[d])
                self._live.append(track)
                self._next_id += 1
        self._last_update = frame_index

    def finish(self, n_frames: int, motion: MotionPath | None = None) -> list[Track]:
        """All tracks, one padded box per frame from first - pre_roll to last + post_roll.

        ``motion``: the clip's camera motion; where it is reliable, boxes also cover the detections carried
        along it (see the module notes). Boxes are never smaller than without it."""
        if self._finished:
            raise RuntimeError("Tracker.finish() called twice")
        if n_frames <= self._last_update:
            raise ValueError(f"n_frames {n_frames} but frame {self._last_update} was given")
        self._finished = True
        tracks = self._ended + self._live
        self._ended, self._live = [], []
        out = [self._render(t, n_frames, motion) for t in sorted(tracks, key=lambda t: t.id)]
        log.debug("%d %s tracks from %d detections", len(out), self.kind, sum(len(t.frames) for t in tracks))
        return out

    # -- internals ---------------------------------------------------------------------------
    def _prepare(self, detections: Detections
                 ) -> tuple[np.ndarray, np.ndarray, list[str | None], list[np.ndarray | None]]:
        """Detections clipped to the frame, at least one pixel wide and high; outside ones dropped; and each one's
        quad in units of its (clipped) box, None where it has none (see :attr:`_Live.shapes`)."""
        xyxy = detections.xyxy.astype(np.float64)
        inside = (xyxy[:, 2] > 0) & (xyxy[:, 3] > 0) & (xyxy[:, 0] < self.width) & (xyxy[:, 1] < self.height)
        if not inside.all():
            log.debug("%d detections entirely outside the frame ignored", int((~inside).sum()))
        xyxy, scores = xyxy[inside], detections.score[inside]
        cats = [c for c, keep in zip(detections.categories(), inside) if keep]
        quads = detections.quads()[inside].astype(np.float64)
        xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, self.width)
        xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, self.height)
        for lo, hi, limit in ((0, 2, self.width), (1, 3, self.height)):
            thin = xyxy[:, hi] - xyxy[:, lo] < 1
            mid = np.clip((xyxy[thin, lo] + xyxy[thin, hi]) / 2, 0.5, limit - 0.5)
            xyxy[thin, lo], xyxy[thin, hi] = mid - 0.5, mid + 0.5
        shapes: list[np.ndarray | None] = []
        for box, quad in zip(xyxy, quads):
            size = box[2:] - box[:2]
            ok = bool(np.all(np.isfinite(quad))) and bool(np.all(size >= 1))
            shapes.append((quad - box[:2]) / size if ok else None)
        return xyxy, scores, cats, shapes

    def _match(self, frame: int, boxes: np.ndarray, motion: MotionPath | None = None) -> list[tuple[int, int]]:
        if not self._live or not len(boxes):
            return []
        cfg = self.config
        predicted = [t.predict(frame, cfg.max_gap + 1, motion) for t in self._live]
        pred = np.stack([p for p, _ in predicted])
        gate = np.array([min(cfg.centre_match, cfg.scene_match + cfg.scene_match_growth * (frame - t.frames[-1]))
                         if carried else cfg.centre_match for t, (_, carried) in zip(self._live, predicted)])
        iou = iou_matrix(pred, boxes)
        if cfg.pinned:  # a line fixed in the picture (TrackerConfig.pinned) also where it was there, and so does one
            last = np.stack([t.boxes[-1] for t in self._live])  # its prediction took far (it may be): if it is in place
            still = iou_matrix(last, boxes)
            far = np.diag(iou_matrix(last, pred)) <= PIN_MOVED
            use = np.array([t.pinned for t in self._live])[:, None] | (far[:, None] & (still >= PIN_STILL))
            iou = np.where(use, np.maximum(iou, still), iou)
        side = np.maximum(_side(pred)[:, None], _side(boxes)[None, :])
        dist = np.linalg.norm(_centre(pred)[:, None, :] - _centre(boxes)[None, :, :], axis=2)
        ratio = np.sqrt(_area(pred)[:, None] / _area(boxes)[None, :])
        sized = (ratio < cfg.size_match) & (ratio > 1 / cfg.size_match)
        near = (dist <= gate[:, None] * side) & sized
        cost = np.full(iou.shape, FORBIDDEN)
        cost[near] = 1 + dist[near] / np.maximum((gate[:, None] * side)[near], 1e-9)
        if cfg.new_match_picture:
            new = np.array([carried and t.drift is None for t, (_, carried) in zip(self._live, predicted)])
            if new.any():
                plain = np.stack([t.boxes[-1] for t in self._live])[new]
                pside = np.maximum(_side(plain)[:, None], _side(boxes)[None, :])
                pdist = np.linalg.norm(_centre(plain)[:, None, :] - _centre(boxes)[None, :, :], axis=2)
                pnear = (pdist <= cfg.centre_match * pside) & sized[new]
                sub = cost[new]
                extra = pnear & (sub >= FORBIDDEN)
                sub[extra] = 2 + pdist[extra] / np.maximum(cfg.centre_match * pside[extra], 1e-9)
                cost[new] = sub
        by_iou = iou >= cfg.iou_match
        cost[by_iou] = 1 - iou[by_iou]
        return [(t, d) for t, d in assign(cost) if cost[t, d] < FORBIDDEN]

    def _whole(self, track: _Live, frame: int, box: np.ndarray, motion: MotionPath | None) -> np.ndarray:
        """``box``, or where it is a part of the object ``track`` last saw (:attr:`TrackerConfig.part_area`), the
        box enclosing it and that detection carried along the camera motion to ``frame``."""
        cfg = self.config
        if cfg.part_area <= 0 or motion is None:
            return box
        carried = motion.map_box(track.boxes[-1], track.frames[-1], frame)
        if carried is None:
            return box
        area = float(_area(box[None])[0])
        if area >= cfg.part_area * float(_area(carried[None])[0]):
            return box
        if cover_matrix(box[None], carried[None])[0, 0] < cfg.part_inside:
            return box
        whole = np.concatenate([np.minimum(box[:2], carried[:2]), np.maximum(box[2:], carried[2:])])
        whole[[0, 2]] = np.clip(whole[[0, 2]], 0, self.width)
        whole[[1, 3]] = np.clip(whole[[1, 3]], 0, self.height)
        return whole

    def confirmed(self, scores: Iterable[float]) -> bool:
        """Whether detections with these scores confirm a track (see the module notes)."""
        scores = list(scores)
        cfg = self.config
        if len(scores) >= cfg.confirm_hits:
            return True
        best = max(scores, default=0.0)
        return best >= cfg.confirm_score and (len(scores) > 1 or best >= cfg.lone_score)

    def _render(self, t: _Live, n_frames: int, motion: MotionPath | None = None) -> Track:
        confirmed = self.confirmed(t.scores)
        cfg = self.config if confirmed else replace(self.config, motion_pad=0.0, carry_growth=0.0,
                                                    max_extra=self.config.pad)
        frames = np.asarray(t.frames)
        boxes = np.stack(t.boxes)
        scores = np.asarray(t.scores)
        scene = motion if cfg.scene_fill else None
        seg_speed = np.abs(np.diff(_centre(boxes), axis=0)) / np.diff(frames)[:, None]  # (K-1, 2) px/frame
        pinned = t.pinned_at()  # as the matching found it, from the same votes
        if scene is not None:  # the object's own speed in the scene, where the camera motion is known
            for k in range(len(frames) - 1):
                landed = scene.map_box(boxes[k], frames[k], frames[k + 1])
                if landed is not None and not pinned[k + 1]:
                    seg_speed[k] = self._own_shift(boxes[k], landed, boxes[k + 1]) / (frames[k + 1] - frames[k])
        key_speed = np.zeros((len(frames), 2))
        if len(seg_speed):
            key_speed[:-1] = seg_speed
            key_speed[1:] = np.maximum(key_speed[1:], seg_speed)
        out: list[TrackBox] = []
        # No update after the last detection: the frames after it were never looked at.
        unseen_until = n_frames - 1 if t.next_update is None else t.next_update - 1
        pre_roll, post_roll = cfg.pre_roll, cfg.post_roll
        interval = int(np.diff(frames).max()) if len(frames) > 1 else 0
        if not confirmed:  # as far as its own detections were apart (a far face seen every 16th frame), no further
            pre_roll, post_roll = min(pre_roll, interval), min(post_roll, interval)
        elif interval and cfg.cadence_roll:  # re-seen every few frames: its coming and going was watched
            roll = max(cfg.min_roll, math.ceil(cfg.cadence_roll * interval))
            pre_roll, post_roll = min(pre_roll, roll), min(post_roll, roll)
        start = max(0, min(frames[0] - pre_roll, t.seen_before + 1))
        end = min(n_frames - 1, max(frames[-1] + post_roll, unseen_until))
        start = max([start] + [c for c in self._cuts if c <= frames[0]])  # never carried across a cut
        end = min([end] + [c - 1 for c in self._cuts if c > frames[-1]])
        rolls = [(f, 0) for f in range(start, frames[0])] + [(f, -1) for f in range(frames[-1] + 1, end + 1)]
        for f, k in rolls:
            dist = abs(f - frames[k])
            if pinned[k]:  # fixed in the picture: there, watched after the last detection (as along the motion)
                watched = cfg.watched and k == -1 and cfg.scene_growth is not None
                held = replace(cfg, carry_growth=cfg.scene_growth or 0.0) if watched else cfg
                out.append(self._box(f, boxes[k], _STILL if watched else key_speed[k], dist, scores[k], "tracked",
                                     drift=confirmed and not watched, cfg=held, shape=t.shapes[k]))
                continue
            carried = [motion.map_box(boxes[k], frames[k], f)] if motion is not None else []
            own = _STILL if cfg.watched and k == -1 else key_speed[k]  # after the last detection: watched
            tb = self._scene_box(f, carried, own, dist, scores[k], "tracked", cfg, _size(boxes[k]),
                                 drift=confirmed, shapes=[t.shapes[k]], cut=[self._cut_sides(boxes[k])]
                                 ) if scene is not None else None
            if isinstance(tb, _OutOfView):
                continue
            if tb is None:
                tb = self._box(f, boxes[k], key_speed[k], dist, scores[k], "tracked", drift=confirmed, cfg=cfg)
                if motion is not None:
                    tb = self._grown(tb, carried, key_speed[k], dist, cfg, _size(boxes[k]))
            out.append(tb)
        for k in range(len(frames)):
            out.append(self._box(frames[k], boxes[k], key_speed[k], 0, scores[k], "detected", cfg=cfg,
                                 shape=t.shapes[k]))
            if k + 1 < len(frames):
                f0, f1 = frames[k], frames[k + 1]
                static = motion is not None and f1 - f0 > 1 and self._static(motion, boxes[k], f0, boxes[k + 1], f1)
                fixed = pinned[k + 1]  # fixed in the picture: the readings there, no carrying
                static = static or fixed
                ref = np.maximum(_size(boxes[k]), _size(boxes[k + 1]))
                for f in range(f0 + 1, f1):
                    score = min(scores[k], scores[k + 1])
                    dist = min(f - f0, f1 - f)
                    grow_dist = 0 if static and not cfg.static_growth else dist * cfg.fill_growth
                    carried = _carried(motion, boxes[k], f0, boxes[k + 1], f1, f, static) \
                        if motion is not None and not fixed else []
                    own = _STILL if cfg.watched else seg_speed[k]
                    tb = None if fixed else self._scene_box(f, carried, own, grow_dist, score, "interpolated", cfg,
                                         ref, shapes=t.shapes[k:k + 2],
                                         cut=self._carried_cut(boxes[k], boxes[k + 1], len(carried))
                                         ) if scene is not None else None
                    if isinstance(tb, _OutOfView):
                        continue
                    if tb is None:
                        a = (f - f0) / (f1 - f0)
                        box = (1 - a) * boxes[k] + a * boxes[k + 1]
                        tb = self._box(f, box, seg_speed[k], grow_dist, score, "interpolated", cfg=cfg)
                        if motion is not None:
                            tb = self._grown(tb, carried, seg_speed[k], grow_dist, cfg, ref)
                    out.append(tb)
        out.sort(key=lambda b: b.frame)
        evidence = {"detections": len(frames), "best_score": round(float(scores.max()), 4), "confirmed": confirmed}
        return Track(t.id, self.kind, out, category=most_sensitive(t.categories), evidence=evidence)

    def _own_shift(self, before: np.ndarray, landed: np.ndarray, after: np.ndarray) -> np.ndarray:
        """How far (x, y) an object moved on its own between two detections, ``before`` carried along the camera
        motion to ``landed`` and seen at ``after``: the shift of the centres, except along an axis where the frame's
        edge cut one of the two detections on one side only: there the shift of the other side's edges (the cut
        edge is the frame's, not the object's: a line running off the frame while the camera pans seemed to move by
        half the pan)."""
        out = np.abs(_centre(after) - _centre(landed))
        for axis, limit in ((0, self.width), (1, self.height)):
            lo, hi = axis, axis + 2
            lo_ok = before[lo] > 0.5 and after[lo] > 0.5
            hi_ok = before[hi] < limit - 0.5 and after[hi] < limit - 0.5
            if lo_ok != hi_ok:
                edge = lo if lo_ok else hi
                out[axis] = abs(float(after[edge] - landed[edge]))
        return out

    def _static(self, motion: MotionPath, b0: np.ndarray, f0: int, b1: np.ndarray, f1: int) -> bool:
        """Whether ``b0`` (frame ``f0``) carried along the camera motion lands on ``b1`` (frame ``f1``)."""
        landed = motion.map_box(b0, f0, f1)
        if landed is None:
            return False
        size = np.maximum(_size(landed), _size(b1))
        tol = np.maximum(self.config.scene_tol * size, self.config.scene_tol_px)
        return bool(np.all(np.abs(_centre(landed) - _centre(b1)) <= tol))

    def _scene_box(self, frame: int, carried: list[np.ndarray | None], speed: np.ndarray, dist: float, score: float,
                   source: str, cfg: TrackerConfig, ref: np.ndarray, drift: bool = False,
                   shapes: Sequence[np.ndarray | None] = (), cut: Sequence[np.ndarray] = ()
                   ) -> TrackBox | _OutOfView | None:
        """The box where the scene-consistent motion puts the object (``scene_fill``): the union of the ``carried``
        boxes, each shrunk to at most :data:`CARRY_SCALE` times ``ref`` and padded like a box ``dist`` frames from a
        detection at the object's own ``speed`` in the scene. None where a carried box is unknown (the motion in
        between is not): the caller falls back to the picture-space box. :data:`OUT_OF_VIEW` where the known motion
        carried every box, padded, wholly out of the frame: the object is out of view and the frame gets no box (the
        picture-space box would stay where the object was, on whatever the camera turned to).

        ``shapes``: the quads (in units of their boxes, :attr:`_Live.shapes`) of the detections the boxes were carried
        from; when every one is known, the box's polygon is the convex hull of each quad drawn in each padded carried
        box (it moves, grows and is padded with its box).

        With ``scene_growth`` (boxes not grown along the known motion), ``cut``: per carried box, the sides (left,
        top, right, bottom) of the detection it came from that the frame's edge cut: the object went on past the
        frame there, so on those sides the carried box reaches the frame's edge (what comes into view there was
        never read), and so does its polygon."""
        if not carried or any(c is None for c in carried):
            return None
        if cfg.scene_growth is not None:
            cfg = replace(cfg, carry_growth=cfg.scene_growth)
        else:
            cut = ()
        padded = self._padded(frame, carried, speed, dist, score, source, cfg, ref, drift, cut)
        if not padded:
            return OUT_OF_VIEW
        polygon = None
        if shapes:
            polygon = _hull([rect for _, rect, _ in padded], shapes, [open_ for _, _, open_ in padded])
        return TrackBox(int(frame), _enclosing([cb for cb, _, _ in padded]), float(score), source, polygon)

    def _cut_sides(self, box: np.ndarray) -> np.ndarray:
        """Which sides (left, top, right, bottom) of a detection the frame's edge may have cut: those within
        :data:`CUT_NEAR` of the edge (its short side if less; a line's last letters half out of the frame are not
        always in its box)."""
        near = max(0.5, min(float(min(box[2] - box[0], box[3] - box[1])), CUT_NEAR * min(self.width, self.height)))
        return np.array([box[0] <= near, box[1] <= near, box[2] >= self.width - near, box[3] >= self.height - near])

    def _carried_cut(self, b0: np.ndarray, b1: np.ndarray, n: int) -> list[np.ndarray]:
        """:meth:`_cut_sides` of the ``n`` boxes :func:`_carried` gives between detections ``b0`` and ``b1``: the
        blend (cut where either was), then each end. When both ends are carried (``n`` 3: the object stayed in the
        scene), a side counts as cut only where both detections were cut there: where one reading saw the line whole
        on that side, that reading carried along the camera motion covers what lies there (on mmocr_demo_text_ocr a
        bank's name near the frame's bottom and right edges at one reading and well inside them at the other took
        every frame between the two to the frame's bottom and right: a pillar and a wall)."""
        c0, c1 = self._cut_sides(b0), self._cut_sides(b1)
        if n == 3:
            both = c0 & c1
            return [both, both, both]
        return [c0 | c1, c0, c1][:n]

    def _padded(self, frame: int, carried: list[np.ndarray | None], speed: np.ndarray, dist: float, score: float,
                source: str, cfg: TrackerConfig, ref: np.ndarray, drift: bool = False,
                cut: Sequence[np.ndarray] = ()) -> list[tuple[tuple, np.ndarray, np.ndarray]]:
        """Each known ``carried`` box shrunk about its centre to at most :data:`CARRY_SCALE` times ``ref`` (w, h) and
        padded like a box ``dist`` frames from a detection; those carried out of the frame are left out (nothing
        there to cover). Each as ``(box, rect, reach)``: the whole-pixel box in the frame, the padded box before it
        was rounded and clipped, and ``rect`` taken to the frame's edge on its ``cut`` sides (see
        :meth:`_scene_box`; ``rect`` itself where none)."""
        out = []
        edge = np.array([0.0, 0.0, self.width, self.height])
        for i, c in enumerate(carried):
            if c is None:
                continue
            clamped = _clamped(c, CARRY_SCALE * np.asarray(ref, float))
            rect = self._extent(clamped, speed, dist, cfg, drift)
            reach = rect.copy()
            if i < len(cut):
                sides = np.asarray(cut[i], bool)
                reach[:2] = np.where(sides[:2], np.minimum(rect[:2], edge[:2]), rect[:2])
                reach[2:] = np.where(sides[2:], np.maximum(rect[2:], edge[2:]), rect[2:])
            cb = self._clip(reach)
            if cb[2] > cb[0] and cb[3] > cb[1]:
                out.append((cb, rect, reach))
        return out

    def _grown(self, tb: TrackBox, carried: list[np.ndarray | None], speed: np.ndarray, dist: float,
               cfg: TrackerConfig, ref: np.ndarray) -> TrackBox:
        """``tb`` grown to also cover each carried box (padded like an interpolated box ``dist`` frames from a
        detection; parts outside the frame ignored). A carried box is first shrunk about its centre to at most
        :data:`CARRY_SCALE` times the size ``ref`` (w, h) of the detections it came from: a camera-motion estimate
        that drifts in scale must not blow a box up. When the union would be more than ``union_scale`` times
        ``ref`` on a side (the camera moved far since the detection: the box where the object was and the box where
        the measured motion took it are far apart), the measured motion is followed: the carried boxes alone, or
        failing that the first of them (the blend between two detections, or the one carried box)."""
        padded = [cb for cb, _, _ in self._padded(tb.frame, carried, speed, dist, tb.score, tb.source, cfg, ref)]
        if not padded:
            return tb
        limit = cfg.union_scale * np.asarray(ref, float)
        for group in ([tb.box] + padded, padded):
            box = _enclosing(group)
            if box[2] - box[0] <= limit[0] and box[3] - box[1] <= limit[1]:
                return TrackBox(tb.frame, box, tb.score, tb.source)
        return TrackBox(tb.frame, padded[0], tb.score, tb.source)

    def _box(
        self, frame: int, box: np.ndarray, speed: np.ndarray, dist: float, score: float, source: str, drift: bool = False,
        cfg: TrackerConfig | None = None, shape: np.ndarray | None = None,
    ) -> TrackBox:
        """The padded box; ``dist`` frames from a detection, ``drift``: the box may have moved on at ``speed``.
        Everything added is bounded by ``max_extra`` of the box's size per side. ``shape``: the quad of the detection
        ``box`` is, in units of ``box`` (:attr:`_Live.shapes`): the box's polygon is that quad in the padded box."""
        rect = self._extent(box, speed, dist, cfg or self.config, drift)
        polygon = _hull([rect], [shape]) if shape is not None else None
        return TrackBox(int(frame), self._clip(rect), float(score), source, polygon)

    def _extent(self, box: np.ndarray, speed: np.ndarray, dist: float, cfg: TrackerConfig,
                drift: bool = False) -> np.ndarray:
        """``box`` padded as :meth:`_box` pads it, before it is rounded to whole pixels and clipped to the frame."""
        size = np.array([box[2] - box[0], box[3] - box[1]])
        grow = cfg.carry_growth * dist * size + (speed * dist if drift else 0.0)
        grow = np.minimum(grow, cfg.max_growth * size)
        motion = cfg.motion_pad * speed if dist else 0.0  # a detected frame's box is where the object is
        extra = np.minimum(cfg.pad * size + motion + grow, max(cfg.max_extra, cfg.pad) * size)
        extra = np.maximum(extra, cfg.pad_px)
        return np.array([box[0] - extra[0], box[1] - extra[1], box[2] + extra[0], box[3] + extra[1]], float)

    def _clip(self, rect: np.ndarray) -> tuple[float, float, float, float]:
        """``rect`` rounded outwards to whole pixels and clipped to the frame."""
        x1 = float(max(0, math.floor(rect[0])))
        y1 = float(max(0, math.floor(rect[1])))
        x2 = float(min(self.width, math.ceil(rect[2])))
        y2 = float(min(self.height, math.ceil(rect[3])))
        return x1, y1, x2, y2


def build_tracks(
    per_frame: Iterable[tuple[int, Detections]],
    n_frames: int,
    width: int,
    height: int,
    kind: str = "face",
    config: TrackerConfig | None = None,
    motion: MotionPath | None = None,
) -> list[Track]:
    """Run a :class:`Tracker` over ``(frame_index, detections)`` pairs and return its tracks."""
    tracker = Tracker(kind, n_frames, width, height, config)
    for frame, dets in per_frame:
        tracker.update(frame, dets, motion)
    return tracker.finish(n_frames, motion)


def _carried(motion: MotionPath, b0: np.ndarray, f0: int, b1: np.ndarray, f1: int, f: int,
             static: bool) -> list[np.ndarray | None]:
    """The boxes frame ``f`` (between detections ``b0`` at ``f0`` and ``b1`` at ``f1``) also covers.

    Both ends carried to ``f`` along the camera motion, blended linearly: the object's own motion taken as
    steady in the scene, the camera's as it was measured. When the object is static in the scene both carried
    boxes are right (up to the motion estimate's drift, which the union absorbs) and are covered whole; when it
    is not, each carried box is off by the object's own motion, so only the blend is used (no ballooning). With
    the motion known on one side of ``f`` only (a cut or a flat frame in the gap), that side's carried box.
    """
    p = motion.map_box(b0, f0, f)
    n = motion.map_box(b1, f1, f)
    if p is None or n is None:
        return [p, n]
    a = (f - f0) / (f1 - f0)
    blend = (1 - a) * p + a * n
    return [blend, p, n] if static else [blend]


def _pin_vote(before: np.ndarray, landed: np.ndarray, after: np.ndarray) -> bool | None:
    """Whether a detection ``after`` is where ``before`` was in the picture rather than where the camera motion
    carried it (``landed``): True, False the reverse, None when neither tells by :data:`PIN_MARGIN`."""
    pair = np.stack([before, landed]).astype(np.float64)
    still, carried = iou_matrix(pair, np.asarray(after, np.float64)[None])[:, 0]
    moved = float(iou_matrix(pair[:1], pair[1:])[0, 0])  # how far the motion says it went
    if still >= 0.5 and still > carried + PIN_MARGIN and moved <= PIN_MOVED:
        return True
    if carried > still + PIN_MARGIN:
        return False
    return None


def _hull(rects: Sequence[np.ndarray], shapes: Sequence[np.ndarray | None],
          reaches: Sequence[np.ndarray] = ()) -> tuple[tuple[float, float], ...] | None:
    """The convex hull of every quad in ``shapes`` (units of a box) drawn in every one of ``rects`` (x1, y1, x2, y2),
    and of the strip between each rect and the matching one of ``reaches`` (the rect taken further on some sides, to
    the frame's edge: see :meth:`Tracker._scene_box`); None when a quad is unknown (the boxes are the shape)."""
    if not shapes or any(s is None for s in shapes):
        return None
    parts = []
    for i, r in enumerate(rects):
        r = np.asarray(r, float)
        for s in shapes:
            q = r[:2] + np.asarray(s, float) * (r[2:] - r[:2])
            parts.append(q)
        if i < len(reaches):  # the strip between a side and the frame's edge it was taken to, whole
            reach = np.asarray(reaches[i], float)
            for axis in (0, 1):
                other = 1 - axis
                for side, edge in ((r[axis], reach[axis]), (r[axis + 2], reach[axis + 2])):
                    if edge != side:
                        for v in (side, edge):
                            for w in (r[other], r[other + 2]):
                                parts.append(np.array([[v, w]] if axis == 0 else [[w, v]]))
    pts = np.concatenate(parts)
    hull = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2)
    if len(hull) < 3:
        return None
    return tuple((float(x), float(y)) for x, y in hull)


def _enclosing(boxes: list[tuple]) -> tuple[float, float, float, float]:
    """The box enclosing ``boxes`` (``(x1, y1, x2, y2)`` each)."""
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _clamped(box: np.ndarray, most: np.ndarray) -> np.ndarray:
    """``box`` shrunk about its centre so its width and height are at most ``most`` (w, h)."""
    size = np.minimum(_size(box), most)
    c = _centre(box)
    return np.concatenate([c - size / 2, c + size / 2])


def _centre(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b)
    return np.stack([(b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2], axis=-1)


def _size(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b)
    return np.stack([b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]], axis=-1)


def _side(b: np.ndarray) -> np.ndarray:
    return np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])


def _area(b: np.ndarray) -> np.ndarray:
    return np.maximum((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), 1e-9)
