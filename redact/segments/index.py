"""Where a clip can be split: one demux pass (no decoding) lists every video packet's timestamps and keyframes, and
segments are chosen from it; a segment's frames are then decoded from a keyframe with the same global indices and
timestamps the whole-clip decoder (:class:`redact.io.reader.VideoDecoder`) gives them, or not at all.

A clip is split only when its index is plain: an MP4/MOV whose video packets all carry distinct timestamps (so
frame ``i`` is the packet with the ``i``-th smallest pts), none damaged or marked to be discarded, and whose first
frame is a keyframe. Anything else (raw streams, other containers, damaged files, edit lists that drop frames) is
left to the serial path, which has rules of its own for it. Every frame decoded from a segment is checked against
the index (:class:`SegmentMismatch` otherwise: the caller then runs serially).
"""

from __future__ import annotations

import bisect
import fractions
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..io.model import Frame, MediaInfo, YuvFrame
from ..io.probe import AV_ERRORS, one_line, open_container, pick_video_stream
from ..io.reader import open_decoder, run_demux

log = logging.getLogger(__name__)

MIN_SEGMENT_FRAMES = 200
"""A clip is split into at most ``frames // MIN_SEGMENT_FRAMES`` segments: a worker process costs about 2 s to
start and load its models, and a scan segment re-analyses :func:`overlap_for` frames before its own."""


class SegmentMismatch(Exception):
    """A segment did not decode as the index says (a frame missing, another timestamp): run serially instead."""


@dataclass(frozen=True)
class ClipIndex:
    """Every frame's pts (presentation order = frame index), the keyframes' frame indices and their dts (where a
    seek lands), in the video stream's time base."""

    pts: tuple[int, ...]
    keys: tuple[int, ...]
    key_dts: tuple[int, ...]
    time_base: fractions.Fraction

    @property
    def frames(self) -> int:
        return len(self.pts)

    def key_at_or_before(self, frame: int) -> int:
        """The position in :attr:`keys` of the last keyframe at or before ``frame``."""
        return max(0, bisect.bisect_right(self.keys, frame) - 1)


def index_clip(path: str | Path, info: MediaInfo) -> ClipIndex | None:
    """The clip's :class:`ClipIndex`, or ``None`` (with the reason logged) when it is not split."""
    if info.kind != "video":
        return None
    if "mp4" not in info.container.split(",") and "mov" not in info.container.split(","):
        log.info("not split into segments: %s container", info.container or "unknown")
        return None
    rows: list[tuple[int, int, bool]] = []
    try:
        with open_container(path) as container:
            stream = pick_video_stream(container, info.path)
            tb = stream.time_base
            for p in container.demux(stream):
                if not p.size:
                    continue
                if p.pts is None or p.dts is None or p.is_corrupt or getattr(p, "is_discard", False):
                    log.info("not split into segments: a video packet without timestamps, damaged or discarded")
                    return None
                rows.append((int(p.pts), int(p.dts), bool(p.is_keyframe)))
    except AV_ERRORS as e:
        log.info("not split into segments: %s", one_line(e))
        return None
    if not rows or tb is None:
        return None
    pts = sorted(r[0] for r in rows)
    if len(set(pts)) != len(pts) or (info.frames and info.frames != len(pts)):
        log.info("not split into segments: repeated timestamps or a frame count the index does not match")
        return None
    where = {p: i for i, p in enumerate(pts)}
    keys = sorted((where[p], d) for p, d, k in rows if k)
    if not keys or keys[0][0] != 0:
        log.info("not split into segments: the first frame is not a keyframe")
        return None
    return ClipIndex(tuple(pts), tuple(k for k, _ in keys), tuple(d for _, d in keys),
                     fractions.Fraction(tb.numerator, tb.denominator))


def overlap_for(strides: list[int]) -> int:
    """Frames a scan segment analyses before its own first frame: its detectors' longest stride and a few frames
    (scene-cut and camera-motion state need the frame before; a watched detector's reading, the stride)."""
    return max([8, *strides]) + 5


@dataclass(frozen=True)
class Span:
    """Segment ``k``: frames ``own``..``stop - 1`` are its own; it decodes from keyframe frame ``key`` and analyses
    (scan) from ``start`` (``key <= start <= own``)."""

    key: int
    start: int
    own: int
    stop: int


def scan_spans(index: ClipIndex, jobs: int, overlap: int) -> list[Span]:
    """Up to ``jobs`` segments of about equal length (scan needs no keyframe at a border: a segment decodes from
    the keyframe before its overlap)."""
    n = min(jobs, index.frames // MIN_SEGMENT_FRAMES)
    if n < 2:
        return []
    bounds = [round(k * index.frames / n) for k in range(n + 1)]
    spans = []
    for own, stop in zip(bounds, bounds[1:]):
        start = max(0, own - overlap)
        spans.append(Span(index.keys[index.key_at_or_before(start)], start, own, stop))
    return spans


def render_spans(index: ClipIndex, jobs: int) -> list[Span]:
    """Up to ``jobs`` segments, each starting at a keyframe (its encoder starts it with an IDR frame), the borders
    at the keyframes nearest equal shares, none shorter than half of :data:`MIN_SEGMENT_FRAMES`."""
    n = min(jobs, index.frames // MIN_SEGMENT_FRAMES)
    if n < 2:
        return []
    borders = [0]
    for k in range(1, n):
        target = k * index.frames / n
        key = min(index.keys, key=lambda f: abs(f - target))
        if key - borders[-1] >= MIN_SEGMENT_FRAMES // 2 and index.frames - key >= MIN_SEGMENT_FRAMES // 2:
            borders.append(key)
    if len(borders) < 2:
        return []
    borders.append(index.frames)
    return [Span(a, a, a, b) for a, b in zip(borders, borders[1:])]


def seek_frames(container: Any, decoder: Any, index: ClipIndex, span: Span) -> Iterator[Frame | YuvFrame]:
    """Frames ``span.start``..``span.stop - 1`` of an open ``container`` (``decoder`` fresh from
    :func:`redact.io.reader.open_decoder`), decoded from keyframe ``span.key``, each checked against ``index``."""
    decoder.expected_packets = None  # the index was checked whole; this decoder sees part of the stream
    if span.key > 0:
        container.seek(index.key_dts[index.keys.index(span.key)], stream=decoder.stream, backward=True)
    where = {p: i for i, p in enumerate(index.pts)}
    shift: int | None = None
    want = span.start
    for frame in run_demux(container, decoder):
        if shift is None:  # where the seek landed (a keyframe at or before span.key): known by its timestamp
            if frame.pts not in where or where[frame.pts] > span.start:
                raise SegmentMismatch(f"decoding from frame {span.key} began at an unknown or later frame")
            shift = where[frame.pts] - frame.index
        frame.index += shift
        if frame.index >= span.stop:
            return
        if frame.pts != index.pts[frame.index]:
            raise SegmentMismatch(f"frame {frame.index} decoded with pts {frame.pts}, the index says "
                                  f"{index.pts[frame.index]}")
        if frame.index < want:
            continue
        want += 1
        yield frame
    if want != span.stop:
        raise SegmentMismatch(f"segment ended after frame {want - 1}, expected {span.stop - 1}")


def segment_frames(path: str | Path, info: MediaInfo, index: ClipIndex, span: Span) -> Iterator[Frame | YuvFrame]:
    """:func:`seek_frames` on ``path`` (RGB frames, as :class:`redact.io.FrameSource` gives them)."""
    with open_container(path) as container:
        decoder = open_decoder(container, info, allow_truncated=False)
        yield from seek_frames(container, decoder, index, span)
