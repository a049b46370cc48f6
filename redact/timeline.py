"""The clip's clock as a player shows it: each frame's presentation time in seconds from the clip's start.

Frame ``i`` is not always at ``i / fps``: a phone records at a variable rate (fewer frames a second in low light),
and a clip's first frame may show after its start (Hamilton's at 0.85 s, its audio from 0). The scan records every
decoded frame's time; the plan keeps them as *knots* ``[frame, seconds]`` between which times run linearly (a
constant-rate clip needs two), and the report, ``check`` and the review page take every time from here, so a time
in the report is the time a player shows for that frame. Plans made before the knots were kept have none: their
times are ``frame / fps`` as before.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

TOLERANCE = 0.005
"""Seconds a frame's time may differ from the line between the knots around it: 5 ms, a sixth of a frame at 30 fps,
so that a phone's jittering timestamps need few knots."""


def _frame(knot: tuple[int, float]) -> float:
    return knot[0]


def _seconds(knot: tuple[int, float]) -> float:
    return knot[1]


@dataclass(frozen=True)
class Timeline:
    """Frame positions to seconds on the player's clock and back (piecewise linear between ``knots``)."""

    knots: tuple[tuple[int, float], ...]
    fps: float
    """The clip's nominal rate: the slope before the first knot and after the last where there is only one."""

    @classmethod
    def of(cls, knots: Iterable[Iterable[Any]] | None, fps: float) -> "Timeline":
        """From a plan's knots (``None`` or malformed: ``frame / fps``, the clock of plans without knots)."""
        out: list[tuple[int, float]] = []
        try:
            for k in knots or ():
                f, t = k
                f, t = int(f), float(t)
                if not math.isfinite(t) or (out and (f <= out[-1][0] or t < out[-1][1])):
                    return cls((), fps)
                out.append((f, t))
        except (TypeError, ValueError):
            return cls((), fps)
        return cls(tuple(out), fps)

    def time(self, frame: float) -> float | None:
        """Seconds at frame position ``frame`` (``frame + 1`` of the last frame is where it ends); ``None`` when the
        clip has neither knots nor a rate."""
        k = self.knots
        if not k:
            return frame / self.fps if self.fps > 0 else None
        if len(k) == 1:
            return k[0][1] + (frame - k[0][0]) / self.fps if self.fps > 0 else k[0][1]
        i = min(max(bisect.bisect_right(k, frame, key=_frame) - 1, 0), len(k) - 2)
        (f0, t0), (f1, t1) = k[i], k[i + 1]
        return t0 + (frame - f0) * (t1 - t0) / (f1 - f0)

    def frame_at(self, seconds: float) -> float | None:
        """The frame position shown at ``seconds`` (the inverse of :meth:`time`), ``None`` without a clock."""
        k = self.knots
        if not k:
            return seconds * self.fps if self.fps > 0 else None
        if len(k) == 1:
            return k[0][0] + (seconds - k[0][1]) * self.fps if self.fps > 0 else float(k[0][0])
        i = min(max(bisect.bisect_right(k, seconds, key=_seconds) - 1, 0), len(k) - 2)
        (f0, t0), (f1, t1) = k[i], k[i + 1]
        if t1 <= t0:
            return float(f0)
        return f0 + (seconds - t0) * (f1 - f0) / (t1 - t0)

    def to_json(self) -> list[list[float]]:
        return [[int(f), round(float(t), 6)] for f, t in self.knots]


def knots_of(times: Mapping[int, float], tolerance: float = TOLERANCE) -> list[tuple[int, float]]:
    """Few knots (at frames of ``times``) between which every frame's time lies within ``tolerance`` of the line:
    the slopes a segment may take are narrowed frame by frame, and a knot is set where none is left, on the line
    (so within ``tolerance`` of its own frame's time too). The first and last frames are knots."""
    points = sorted((int(f), float(t)) for f, t in times.items())
    if len(points) <= 2:
        return points
    knots = [points[0]]
    lo, hi = -math.inf, math.inf
    prev = points[0]
    for f, t in points[1:]:
        f0, t0 = knots[-1]
        lo2, hi2 = max(lo, (t - tolerance - t0) / (f - f0)), min(hi, (t + tolerance - t0) / (f - f0))
        if lo2 > hi2:  # no line from the last knot passes near this frame and every one before it
            knots.append(_on_line(knots[-1], prev, lo, hi))
            f0, t0 = knots[-1]
            lo2, hi2 = (t - tolerance - t0) / (f - f0), (t + tolerance - t0) / (f - f0)
        lo, hi = lo2, hi2
        prev = (f, t)
    knots.append(_on_line(knots[-1], prev, lo, hi))
    return knots


def _on_line(knot: tuple[int, float], point: tuple[int, float], lo: float, hi: float) -> tuple[int, float]:
    """``point`` moved onto the line from ``knot`` whose slope is the nearest to its own within ``[lo, hi]``."""
    (f0, t0), (f, t) = knot, point
    slope = min(max((t - t0) / (f - f0), lo), hi)
    return f, t0 + slope * (f - f0)
