"""The one clock of the report: seconds after the first frame (frame / fps), for frames and speech alike."""

from __future__ import annotations

import math

from ..types import Plan


def on_frame_clock(plan: Plan, span: tuple[float, float]) -> tuple[float, float]:
    """A speech span (seconds of the audio, from its first sample) on the clock the report uses for frames (seconds
    after the first frame, frame / fps): moved by the plan's ``audio_offset`` (where the audio starts on that clock;
    :func:`redact.io.probe.audio_offset`), never before 0. A clip whose first frame shows at 0.85 s and whose audio
    starts at 0 has its speech 0.85 s earlier on that clock than in the audio."""
    offset = plan.input.extra.get("audio_offset")
    shift = float(offset) if isinstance(offset, (int, float)) and math.isfinite(offset) else 0.0
    return max(0.0, span[0] + shift), max(0.0, span[1] + shift)
