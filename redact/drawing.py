"""The plan drawn on decoded frames: what a render (serial, :mod:`redact.pipeline`, or per segment,
:mod:`redact.segments`) does to each frame before encoding it (the drawing itself: :mod:`redact.render`)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .errors import AnalysisError, PlanMismatchError
from .io import Frame, YuvFrame
from .io.colour import rgb_to_yuv
from .options import Progress, RenderOptions
from .render import FILL_COLOUR, Region, redact_planes, redact_regions
from .types import Plan


def frame_processors(plan: Plan, options: RenderOptions, progress: Progress | None = None
                     ) -> tuple[Callable[[Frame], np.ndarray], Callable[[YuvFrame], Any]]:
    """``(process, process_yuv)``: the plan's redactions drawn on one decoded frame (RGB, or the YUV planes of the
    writer's fast path). Both fail on a frame the plan does not cover (an index beyond what scan saw, another
    size); ``progress("render", frames_done, plan_frames)`` after each frame."""
    by_frame = plan.boxes_by_frame()
    n_planned = plan.input.frames
    done = 0

    def planned_regions(index: int, w: int, h: int) -> list[Region]:
        if index >= n_planned:
            raise AnalysisError(f"frame {index} was not analysed by scan (plan covers {n_planned} frames); "
                                "re-run scan on this file")
        if (w, h) != (plan.input.width, plan.input.height):
            raise PlanMismatchError(f"frame {index} is {w}x{h} but the plan is for "
                                    f"{plan.input.width}x{plan.input.height}")
        return [Region(b.box, t.kind, b.polygon) for t, b in by_frame.get(index, ()) if t.action == "redact"]

    def processed() -> None:
        nonlocal done
        done += 1
        if progress:
            progress("render", done, n_planned)

    def process(frame: Frame) -> np.ndarray:
        h, w = frame.image.shape[:2]
        regions = planned_regions(frame.index, w, h)
        out = redact_regions(frame.image, regions, style=options.style, seed=frame.index) if regions else frame.image
        processed()
        return out

    def process_yuv(frame: YuvFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # fast path (8-bit 4:2:0 video): redact the decoded planes, no RGB round trip
        regions = planned_regions(frame.index, frame.width, frame.height)
        out = frame.planes
        if regions:
            fill = rgb_to_yuv(FILL_COLOUR, frame.matrix, frame.full_range)
            out = redact_planes(frame.planes, regions, style=options.style, seed=frame.index, fill=fill)
        processed()
        return out

    return process, process_yuv
