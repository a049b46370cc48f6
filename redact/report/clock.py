"""The one clock of the report, ``check`` and the review page: seconds as a player shows them, for frames and
speech alike (:mod:`redact.timeline`; plans without the frames' times count ``frame / fps`` from the first frame)."""

from __future__ import annotations

import math

from ..timeline import Timeline
from ..types import Plan


def timeline(plan: Plan) -> Timeline:
    """The plan's frame clock: its recorded frame times, else ``frame / fps`` (read once per use: pass it on)."""
    return Timeline.of(plan.input.extra.get("timeline"), plan.input.fps)


def on_frame_clock(plan: Plan, span: tuple[float, float], clock: Timeline | None = None) -> tuple[float, float]:
    """A speech span (seconds of the audio, from its first sample) on the clock the report uses for frames: moved by
    where the audio starts after the first frame (the plan's ``audio_offset``, :func:`redact.io.probe.audio_offset`)
    and by where the first frame shows (its time on that clock), never before 0. Hamilton's first frame shows at
    0.85 s and its audio starts at 0: a word 2.0 s into the audio is at 2.0 s on the player's clock. ``clock``: the
    plan's :func:`timeline`, when the caller has it already."""
    offset = plan.input.extra.get("audio_offset")
    shift = float(offset) if isinstance(offset, (int, float)) and math.isfinite(offset) else 0.0
    clock = timeline(plan) if clock is None else clock
    first = clock.time(0) if clock.knots else None
    shift += first if first is not None else 0.0
    return max(0.0, span[0] + shift), max(0.0, span[1] + shift)
