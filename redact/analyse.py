"""The per-frame analysis a scan runs, serial or per segment: the detector stack prepared for a clip, the trackers
configured for it, and :func:`analyse`, which runs the detectors due on each frame and gives the trackers what they
found (:mod:`redact.pipeline` turns the trackers' tracks into a plan, :mod:`redact.planning`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .detect.base import merge_enclosing
from .detect.schedule import CutDetector, Scheduled, run_frame, tracker_config_for
from .detect.stack import default_stack, default_strides
from .detect.watch import Cover, Settled
from .errors import AnalysisError, RedactError
from .io import Frame, MediaInfo
from .motion import CameraMotion, MotionPath
from .options import Progress, ScanOptions
from .track import Tracker, TrackerConfig
from .types import Detections

log = logging.getLogger(__name__)

TRACKER_BASE = {"face": TrackerConfig(pad=0.15, max_extra=0.5, pad_px=3.0, confirm_score=0.3, scene_fill=True,
                                      fill_growth=0.25, merge_contained=0.8, carry_growth=0.04, scene_tol=0.15,
                                      size_match=1.4, part_area=0.65, part_inside=0.9, lone_score=0.6),
                "badge": TrackerConfig(pad=0.05, confirm_score=0.75, static_growth=False),
                "text": TrackerConfig(pad=0.05, carry_growth=0.01, max_growth=0.3, centre_match=0.0, union_scale=1.5,
                                      static_growth=False, scene_fill=True, scene_growth=0.0,
                                      watched=True, pinned=True)}
"""Tracker settings per kind (sized to the stack's strides by :func:`tracker_configs`). Faces are padded by 15% of
the box on each side (at least 3 px) and at most 50% with motion and growth, confirmed by three detections or one
scoring 0.3, and filled in the scene between detections where the camera motion is known (``scene_fill``); a face box
lying 80% inside another of the same frame is the same face (``merge_contained``). A face grows 4% of its size a
frame away from a detection, and counts as static in the scene between two detections (both covered whole) when
they agree to 15% of its size: the camera motion carries a box to within 2% of a face's width over 8 frames. A face
box continues a track only if their sizes differ by less than 1.4x (``size_match``): a weak box twice the size after
a long gap (a "face" on a T-shirt) is another track, not a blend sweeping across the person. A face box lying 90%
inside the face's previous box carried to its frame and under 65% of its area is a part of that face (the eyes and
brows of a face in a surgical mask and theatre cap): the box enclosing both is tracked (``part_area``). A face
track of a single detection is confirmed only at 0.6 (``lone_score``): a box seen once and never again on the frames
the passes looked at (texture the light pass scored 0.5) gets no rolls. Badge and text boxes come padded by their detectors, so their padding is small; text lines are matched
by overlap only, grow at most 30% of the line's size per side between readings, are kept to 1.5x their reading
where the camera motion would carry them both ways, and like faces are filled in the scene between readings where the
camera motion is known (writing does not move in the scene: labelled text clips' spill 18.9% -> 17.9%, recall the
same). A badge is confirmed by three detections or one with two kinds of evidence (0.75). Text and badges read twice where the camera motion says they stayed are not grown between readings
(``static_growth``). Text boxes carried along the known camera motion are not grown at all (``scene_growth`` 0) when
the change watch looks at every frame (the default; without it they grow as before): text that moves on its own is
followed or read again, and a line the frame's edge cut reaches the edge when the motion brings what was beyond it
into view (labelled text clips' text spill 17.6% -> 15.4% with the own-motion fix in the tracker, recall the same);
for the same reason the frames between two readings and after the last one are not padded for a speed of the line's
own there (``watched``; with the cut rule between readings in the tracker, text spill 10.3% -> 9.4%, recall the same). Why each value, and what it was measured against: docs/benchmarks.md, "Strides and tracker
settings"."""


def prepared_stack(options: ScanOptions, detectors: list[Any] | None) -> list[Scheduled]:
    """The detector stack of one clip, every detector due on its first frame."""
    raw = detectors if detectors is not None else default_stack(options)
    stack = [d if isinstance(d, Scheduled) else Scheduled(d) for d in raw]
    for s in stack:
        s.reset()  # a stack may be reused across clips: every clip starts with every detector due
    return stack


def tracker_configs(stack: list[Scheduled]) -> dict[str, TrackerConfig]:
    """The tracker settings for each kind ``stack`` detects: :data:`TRACKER_BASE` sized to the stack's strides
    (:func:`~redact.detect.schedule.tracker_config_for`). The one place trackers are configured: a serial scan and
    a segment-parallel one (:mod:`redact.segments`) track with the same settings."""
    kinds = sorted({s.detector.kind for s in stack})
    return {k: tracker_config_for(stack, k, TRACKER_BASE.get(k)) for k in kinds}


def trackers_for(stack: list[Scheduled], info: MediaInfo) -> dict[str, Tracker]:
    """One :class:`~redact.track.Tracker` per kind ``stack`` detects, for a clip described by ``info``."""
    return {k: Tracker(k, info.frames, info.width, info.height, cfg) for k, cfg in tracker_configs(stack).items()}


def stack_strides(options: ScanOptions, detectors: list[Any] | None) -> list[int]:
    """The strides (frames) of the stack :func:`prepared_stack` builds from the same arguments, without building
    it (loading the models): a segment's overlap is sized to them (:func:`redact.segments.index.overlap_for`)."""
    if detectors is not None:
        return [d.every for d in detectors if isinstance(d, Scheduled)]
    return default_strides(options)


@dataclass
class Seen:
    """What one pass of :func:`analyse` over frames saw, besides what it gave the trackers: the frames it went
    through, the frames that could not be analysed (``unanalysed``: covered whole), covers of changes no reading
    followed, the camera motion, and warnings."""

    frames: int
    unanalysed: list[int]
    changed: list[tuple[str, list[Cover]]]
    motion: MotionPath
    warnings: list[str] = field(default_factory=list)
    truncated: bool = False
    times: dict[int, float] = field(default_factory=dict)
    """Each frame's presentation time in seconds (from its timestamp; frames without one are left out)."""


def analyse(frames: Any, info: MediaInfo, options: ScanOptions, stack: list[Scheduled], trackers: Mapping[str, Any],
             *, progress: Progress | None = None, motion: MotionPath | None = None, total: int | None = None) -> Seen:
    """Run the detectors due on every frame of ``frames`` (in order) and give the trackers (anything with ``cut``
    and ``update``) what they found. A segment of a clip (:mod:`redact.segments`) goes through here as a whole clip
    does, with its frames' own indices."""
    looker = FrameLooker()
    motion = MotionPath() if motion is None else motion
    feed = TrackerFeed(trackers, {s.detector.kind: s.hands_back for s in stack if s.hands_back})
    unanalysed: list[int] = []
    changed: list[tuple[str, list[Cover]]] = []  # frames of a change no detector run read: covered (see Settled)
    times: dict[int, float] = {}
    n = 0
    for item in frames:
        looked = item if isinstance(item, Looked) else looker(item)
        frame, cut = looked.frame, looked.cut
        _check_frame(frame, info)
        if frame.time is not None:
            times[frame.index] = frame.time
        motion.add(frame.index, looked.transform, looked.moved)
        if cut:
            feed.cut(frame.index)
        failed = False
        settled: list[Settled | None] = []
        back: dict[str, list[tuple[int, Detections]]] = {}
        try:
            ran = run_frame(stack, frame.index, frame.image, cut, motion=motion)
            found, settled, back = ran.found, list(ran.settled), ran.back
        except (RedactError, MemoryError):
            raise
        except Exception as e:  # a detector crash must never let the frame through unseen
            if options.on_unanalysable != "cover":
                # the exception's own message is left out: it could quote recognised text (--debug shows where, not it)
                raise AnalysisError(f"frame {frame.index} could not be analysed ({type(e).__name__}); "
                                    "nothing was written") from e
            log.warning("frame %d could not be analysed (%s); covering it whole", frame.index, type(e).__name__)
            unanalysed.append(frame.index)
            found, failed = {}, True
        if failed:  # watched detectors run again on the next frame; nothing they saw is lost
            settled += _finish_watches(stack, motion, forget=True)
        holds = _collect(settled, changed)
        for kind in sorted(set(found) | set(holds) | set(back)):
            for at, held in holds.get(kind, ()):
                feed.add(kind, at, held)
            if kind in found:
                feed.add(kind, frame.index, found[kind])
            for at, given_back in back.get(kind, ()):
                feed.add(kind, at, given_back)
        feed.give(frame.index, motion)
        n += 1
        if progress:
            progress("scan", n, info.frames if total is None else total)
    for kind, late in _collect(_finish_watches(stack, motion), changed).items():
        for at, dets in late:  # a change since the last reading that no reading followed
            feed.add(kind, at, dets)
    feed.give(None, motion)
    return Seen(n, unanalysed, changed, motion, times=times)


class TrackerFeed:
    """Gives the trackers (anything with ``cut`` and ``update``) the detections of each frame and the cuts, in frame
    order; for a kind in ``lags``, that many frames late, so that a detector can still hand detections back to the
    frames it names (:meth:`~redact.detect.schedule.Scheduled.handed_back`: the automatic turned pass, once a turn is
    switched on, gives the faces its look found there). Detections given for the same frame are merged as the stack's
    are (overlaps -> enclosing box); one for a frame already given goes to the first frame still to give: nothing is
    dropped. Without lags, each frame's detections go to the tracker on that frame, as they always did."""

    def __init__(self, trackers: Mapping[str, Any], lags: Mapping[str, int] | None = None, merge_iou: float = 0.5):
        self.trackers, self.lags, self.merge_iou = trackers, dict(lags or {}), merge_iou
        self._pending: dict[str, dict[int, list[Detections]]] = {k: {} for k in trackers}
        self._cuts: dict[str, list[int]] = {k: [] for k in trackers}
        self._given = {k: -1 for k in trackers}

    def cut(self, frame_index: int) -> None:
        """A scene cut at ``frame_index``, before any of its detections are added."""
        for kind in self.trackers:
            self._cuts[kind].append(frame_index)

    def add(self, kind: str, frame_index: int, dets: Detections) -> None:
        """Detections of ``kind`` on frame ``frame_index`` (this frame's, or an earlier one's)."""
        at = max(frame_index, self._given[kind] + 1)
        self._pending[kind].setdefault(at, []).append(dets)

    def give(self, frame_index: int | None, motion: MotionPath | None = None) -> None:
        """Give each tracker what it is due once frame ``frame_index`` is analysed (None: the clip is over: all)."""
        for kind, tracker in self.trackers.items():
            upto = None if frame_index is None else frame_index - self.lags.get(kind, 0)
            pending, cuts = self._pending[kind], self._cuts[kind]
            frames = sorted(f for f in pending if upto is None or f <= upto)
            for f in frames:
                while cuts and cuts[0] <= f:
                    tracker.cut(cuts.pop(0))
                parts = pending.pop(f)
                dets = Detections.concat(parts, kind)
                if len(parts) > 1 and len(dets) > 1:
                    dets = merge_enclosing(dets, self.merge_iou)
                tracker.update(f, dets, motion)
                self._given[kind] = f
            while cuts and (upto is None or cuts[0] <= upto):
                self._given[kind] = max(self._given[kind], cuts[0] - 1)
                tracker.cut(cuts.pop(0))


def _collect(settled: list[Settled | None], changed: list[tuple[str, list[Cover]]]
             ) -> dict[str, list[tuple[int, Detections]]]:
    """Add what watched detectors settled (:class:`~redact.detect.watch.Settled`) to ``changed`` (covers of the
    frames of a change no run read) and return, per kind, the detections to give the tracker on earlier frames than
    this one (``Settled.hold``), one update per frame, in frame order."""
    held: dict[str, dict[int, list[Detections]]] = {}
    for one in settled:
        if one is None:
            continue
        if one.cover:
            changed.append((one.kind, one.cover))
        if one.hold is not None:
            at, dets = one.hold
            held.setdefault(one.kind, {}).setdefault(at, []).append(dets)
    return {kind: [(at, Detections.concat(d, kind)) for at, d in sorted(frames.items())]
            for kind, frames in held.items()}


def _finish_watches(stack: list[Scheduled], motion: MotionPath, forget: bool = False) -> list[Settled | None]:
    """The end of the clip, or (``forget``) a frame that could not be analysed: settle each watched detector's
    frames since its last run (:meth:`~redact.detect.watch.ChangeWatch.finish`); with ``forget`` it also runs
    again on the next frame (the tracker does not have what it found on this one)."""
    out: list[Settled | None] = []
    for s in stack:
        if s.watch is not None:
            out.append(s.watch.finish(motion))
            if forget:
                s.forget()
    return out


def _check_frame(frame: Frame, info: MediaInfo) -> None:
    h, w = frame.image.shape[:2]
    if (w, h) != (info.width, info.height):
        raise AnalysisError(f"frame {frame.index} is {w}x{h}, expected {info.width}x{info.height} "
                            "(resolution changes mid-stream are not supported)")


@dataclass
class Looked:
    """What is known of a frame before any detector sees it (:class:`FrameLooker`): the camera's motion from the frame
    before (``transform``, 2x3, None when unknown; ``moved``: whether it was estimated) and whether it is a cut."""

    frame: Frame
    transform: np.ndarray | None
    moved: bool
    cut: bool


class FrameLooker:
    """The camera motion and the cut detection of a clip's frames, given them in order: they depend on the frames
    alone, not on what any detector found, so a scan may work them out on the thread that decodes the frames
    (:func:`redact.io.prefetch.prefetched`), ahead of the detectors. :func:`analyse` takes frames or what this gave."""

    def __init__(self) -> None:
        self.camera = CameraMotion()
        self.cuts = CutDetector()

    def __call__(self, frame: Frame) -> Looked:
        transform, ok = _camera_step(self.camera, frame.index, frame.image)
        return Looked(frame, transform, ok, self.cuts.update(frame.image))


def _camera_step(camera: CameraMotion, index: int, image: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """Frame ``index``'s camera motion (``None, False``: unknown). Never fails the scan: an error leaves that frame's
    motion unknown, and the tracker then does without it there."""
    try:
        return camera.update(image)
    except Exception as e:  # motion only ever grows boxes; losing it must not lose the scan
        log.debug("frame %d: camera motion failed (%s: %s)", index, type(e).__name__, e)
        return None, False
