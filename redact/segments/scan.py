"""Segment-parallel scan: each worker runs the detectors over its segment (plus an overlap before it) exactly as a
whole-clip scan does, recording what it would give the trackers; the trackers then run once, here, over the records
stitched in frame order. Tracks therefore never break or double at a border and are numbered as a serial scan
numbers them.

Stitching rule (per frame and kind): the detections of the segment that owns the frame; where another segment's
overlap also analysed that frame, both sets together, boxes overlapping by IoU >= 0.5 replaced by the box enclosing
them (nothing is dropped: every detection lies inside a box given to the tracker). Scene cuts and camera motion come
from the owner (its overlap gave it the frame before). Covers of unread changes and frames that could not be
analysed come from every segment (identical ones once). Each worker starts its strided detectors in step with a
serial scan's (a detector with stride N runs on multiples of N), so without cuts or changes in the overlap the
records, and the plan, are the serial ones.
"""

from __future__ import annotations

import logging
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..analyse import Seen, analyse, prepared_stack, stack_strides, tracker_configs
from ..detect.base import merge_enclosing
from ..detect.schedule import Scheduled
from ..detect.watch import Cover
from ..errors import InputError
from ..io import MediaInfo, probe, sha256_file
from ..motion import MotionPath
from ..options import Progress, ScanOptions
from ..planning import ScanResult, plan_from
from ..track import Tracker, TrackerConfig
from ..types import Detections
from .index import ClipIndex, SegmentMismatch, Span, index_clip, overlap_for, scan_spans, segment_frames
from .pool import can_spawn, run_segments

log = logging.getLogger(__name__)

OVERLAP_IOU = 0.5
"""In an overlap, detections of two segments on the same frame overlapping by this IoU are merged (enclosing box)."""


class _Recorder:
    """Stands in for a :class:`redact.track.Tracker` in a worker: keeps the calls instead."""

    def __init__(self) -> None:
        self.cuts: list[int] = []
        self.updates: list[tuple[int, Detections]] = []

    def cut(self, frame: int) -> None:
        self.cuts.append(frame)

    def update(self, frame: int, detections: Detections, motion: MotionPath | None = None) -> None:
        self.updates.append((frame, detections))  # the stitched motion is given to the real tracker


class _RecordingPath(MotionPath):
    """A :class:`MotionPath` that also keeps each frame's transform as measured, to be stitched."""

    def __init__(self) -> None:
        super().__init__()
        self.measured: dict[int, tuple[np.ndarray | None, bool]] = {}

    def add(self, frame: int, transform: np.ndarray | None, ok: bool) -> None:
        self.measured[frame] = (None if transform is None else np.asarray(transform), ok)
        super().add(frame, transform, ok)


@dataclass
class ScanJob:
    path: str
    options: ScanOptions
    index: ClipIndex
    span: Span
    detectors: bytes | None = None  # pickled custom detectors (tests, benchmarks); None: the default stack


@dataclass
class SegmentScan:
    span: Span
    frames: int
    cuts: list[int]
    updates: dict[str, list[tuple[int, Detections]]]
    motion: dict[int, tuple[np.ndarray | None, bool]]
    unanalysed: list[int]
    changed: list[tuple[str, list[Cover]]]
    configs: dict[str, TrackerConfig]
    models: list[dict[str, Any]] = field(default_factory=list)
    times: dict[int, float] = field(default_factory=dict)


def align(stack: list[Scheduled], start: int) -> None:
    """Put each strided detector in step with a scan that started at frame 0: a detector with stride N next runs on
    the first multiple of N at or after ``start`` (a serial scan's schedule, were there no cuts or changes)."""
    for s in stack:
        s.align(start)


def scan_segment(job: ScanJob, report: Callable[[int], None]) -> SegmentScan:
    """Worker side: analyse ``job.span`` (from its ``start``) and return the records."""
    info = probe(job.path)
    detectors = pickle.loads(job.detectors) if job.detectors is not None else None
    stack = prepared_stack(job.options, detectors)
    align(stack, job.span.start)
    configs = tracker_configs(stack)
    recorders = {k: _Recorder() for k in configs}
    motion = _RecordingPath()
    frames = segment_frames(job.path, info, job.index, job.span)
    seen = analyse(frames, info, job.options, stack, recorders, motion=motion,
                    progress=lambda _stage, n, _total: report(n))
    return SegmentScan(job.span, seen.frames, sorted({c for r in recorders.values() for c in r.cuts}),
                       {k: r.updates for k, r in recorders.items()}, motion.measured, seen.unanalysed, seen.changed,
                       configs,
                       [s.describe() for s in stack], seen.times)


def parallel_scan(path: str | Path, options: ScanOptions, jobs: int, *, progress: Progress | None = None,
                  detectors: list[Any] | None = None, recorded_as: str | None = None) -> ScanResult | None:
    """:func:`redact.pipeline.scan` over ``jobs`` segments, or ``None`` where the clip is not split (too short, an
    image, an index that is not plain, a segment that decodes otherwise than the index says, custom detectors that
    cannot be sent to a worker): the caller then scans serially."""
    t0 = time.perf_counter()
    path = Path(path)
    info = probe(path)
    index = index_clip(path, info) if can_spawn() else None
    if index is None:
        return None
    spans = scan_spans(index, jobs, overlap_for(stack_strides(options, detectors)))
    if not spans:
        return None
    blob = None
    if detectors is not None:
        try:
            blob = pickle.dumps(detectors)
        except Exception as e:  # models holding native sessions cannot be sent: serial
            log.info("custom detectors cannot be sent to segment workers (%s): scanning serially", type(e).__name__)
            return None
    digest = sha256_file(path)
    total = sum(s.stop - s.start for s in spans)
    log.info("scanning in %d segments: %s", len(spans), ", ".join(f"{s.own}-{s.stop - 1}" for s in spans))
    try:
        parts = run_segments(scan_segment, [ScanJob(str(path), options, index, s, blob) for s in spans],
                             progress=(lambda n: progress("scan", n, total)) if progress else None)
    except SegmentMismatch as e:
        log.warning("a segment did not decode as indexed (%s): scanning serially", e)
        return None
    except InputError:
        if not options.allow_truncated:
            raise
        log.warning("a segment could not be decoded: scanning serially (damaged input)")
        return None
    trackers, seen = stitch(parts, info, index.frames)
    return plan_from(path, info, digest, options, trackers, seen, parts[0].models, recorded_as, progress, t0)


def stitch(parts: list[SegmentScan], info: MediaInfo, frames: int) -> tuple[dict[str, Tracker], Seen]:
    """The trackers fed with every segment's records in frame order (see the module notes), and what the serial
    scan would have seen besides (:class:`redact.analyse.Seen`)."""

    def owner(f: int) -> int:
        for k, p in enumerate(parts):
            if p.span.own <= f < p.span.stop:
                return k
        raise ValueError(f"frame {f} belongs to no segment")

    cuts = sorted({c for k, p in enumerate(parts) for c in p.cuts if owner(c) == k})
    motion = MotionPath()
    for f in range(frames):
        t, ok = parts[owner(f)].motion.get(f, (None, False))
        motion.add(f, t, ok)
    trackers = {kind: Tracker(kind, frames, info.width, info.height, cfg) for kind, cfg in parts[0].configs.items()}
    for kind, tracker in trackers.items():
        by_frame: dict[int, list[tuple[bool, Detections]]] = {}
        for k, p in enumerate(parts):
            for f, dets in p.updates.get(kind, ()):
                by_frame.setdefault(f, []).append((owner(f) == k, dets))
        events: list[tuple[int, int, Detections | None]] = [(c, 0, None) for c in cuts]
        events += [(f, 1, _union(kind, sets)) for f, sets in by_frame.items()]
        for f, what, update in sorted(events, key=lambda e: (e[0], e[1])):
            if what == 0:
                tracker.cut(f)
            else:
                assert update is not None  # an update's detections
                tracker.update(f, update, motion)
    unanalysed = sorted({f for p in parts for f in p.unanalysed})
    changed: list[tuple[str, list[Cover]]] = []
    seen_covers: set[tuple[str, str]] = set()
    for p in parts:
        for kind, cover in p.changed:
            key = (kind, repr(cover))
            if key not in seen_covers:
                seen_covers.add(key)
                changed.append((kind, cover))
    times = {f: t for k, p in enumerate(parts) for f, t in p.times.items() if owner(f) == k}
    return trackers, Seen(frames, unanalysed, changed, motion, times=times)


def _union(kind: str, sets: list[tuple[bool, Detections]]) -> Detections:
    """The owner's detections on a frame, with any other segment's on the same frame merged in (see the notes)."""
    sets = sorted(sets, key=lambda s: not s[0])  # the owner's first
    first = sets[0][1]
    others = [d for _, d in sets[1:] if not _same(d, first)]
    if not others:
        return first
    return merge_enclosing(Detections.concat([first, *others], kind), OVERLAP_IOU)


def _same(a: Detections, b: Detections) -> bool:
    return (a.xyxy.shape == b.xyxy.shape and bool(np.array_equal(a.xyxy, b.xyxy))
            and bool(np.array_equal(a.score, b.score)) and list(a.categories()) == list(b.categories()))
