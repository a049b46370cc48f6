"""The one clock of the report, ``check`` and the review page: seconds as a player shows them, for frames and
speech alike (:mod:`redact.timeline`; plans without the frames' times count ``frame / fps`` from the first frame)."""

from __future__ import annotations

import math

from ..timeline import Timeline
from ..types import Plan


def timeline(plan: Plan) -> Timeline:
    """The plan's frame clock: its recorded frame times, else ``frame / fps``."""
    return Timeline.of(plan.input.extra.get("timeline"), plan.input.fps)


def frame_time(plan: Plan, frame: float) -> float | None:
    """Seconds at frame position ``frame`` (the last frame ends at ``frames``), ``None`` without a clock (images)."""
    return timeline(plan).time(frame)


def on_frame_clock(plan: Plan, span: tuple[float, float]) -> tuple[float, float]:
    """A speech span (seconds of the audio, from its first sample) on the clock the report uses for frames: moved by
    where the audio starts after the first frame (the plan's ``audio_offset``, :func:`redact.io.probe.audio_offset`)
    and by where the first frame shows (its time on that clock), never before 0. Hamilton's first frame shows at
    0.85 s and its audio starts at 0: a word 2.0 s into the audio is at 2.0 s on the player's clock."""
    offset = plan.input.extra.get("audio_offset")
    shift = float(offset) if isinstance(offset, (int, float)) and math.isfinite(offset) else 0.0
    first = timeline(plan).time(0) if plan.input.extra.get("timeline") else None
    shift += first if first is not None else 0.0
    return max(0.0, span[0] + shift), max(0.0, span[1] + shift)


def span_frames(plan: Plan, span: tuple[float, float]) -> tuple[float, float] | None:
    """A span on the report's clock (:func:`on_frame_clock`) as frame positions (``None`` without a clock)."""
    clock = timeline(plan)
    a, b = clock.frame_at(span[0]), clock.frame_at(span[1])
    return None if a is None or b is None else (a, b)
