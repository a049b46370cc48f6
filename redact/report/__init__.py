"""The report of what was removed, derived from the plan (the single source of truth).

The report copies only whitelisted fields: kinds, categories, actions, frame and time ranges, box sizes, the
detectors' evidence for each track (numbers only), hashes, versions and settings. The plan holds no recognised
text, and neither does the report: a track's category must look like a category name (``nhs_number``,
``date``); anything else is reported as ``other``.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

from .. import __version__
from ..io import atomic_write_text
from ..types import Plan, Track
from ..timeline import Timeline
from .clock import on_frame_clock, timeline
from .evidence import is_low_confidence, track_evidence

log = logging.getLogger(__name__)

REPORT_VERSION = 1
INPUT_FIELDS = ("path", "sha256", "kind", "width", "height", "frames", "fps", "duration", "rotation", "codec",
                "container", "audio_streams", "truncated", "audio_offset", "first_frame_s")
RENDER_FIELDS = ("frames", "audio", "width", "height", "truncated", "padded", "retimed", "time_offset", "pixels")
CATEGORY_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
"""What a category may look like. Recognised text never does (no spaces, digits only after a letter)."""


def _time(clock: Timeline, frame: int) -> float | None:
    t = clock.time(frame)
    return None if t is None else round(t, 3)


def safe_category(category: str | None) -> str | None:
    """``category`` if it looks like a category name, else ``"other"`` (never copy arbitrary text)."""
    if category is None or CATEGORY_RE.fullmatch(category):
        return category
    log.warning("a track category is not a plain category name; reported as 'other'")
    return "other"


def _track_row(t: Track, plan: Plan, clock: Timeline, category: str | None) -> dict[str, Any]:
    area = plan.input.width * plan.input.height or 1
    boxes = t.boxes
    mean_area = sum((b.box[2] - b.box[0]) * (b.box[3] - b.box[1]) for b in boxes) / max(len(boxes), 1)
    span = on_frame_clock(plan, t.span, clock) if t.span else None
    return {
        "id": t.id,
        "kind": t.kind,
        "category": category,
        "action": t.action,
        "first_frame": t.first_frame,
        "last_frame": t.last_frame,
        "start_s": round(span[0], 3) if span else _time(clock, t.first_frame) if boxes else None,
        "end_s": round(span[1], 3) if span else _time(clock, t.last_frame + 1) if boxes else None,
        "frames": t.frame_count,
        "detected_frames": len({b.frame for b in boxes if b.source == "detected"}),
        "mean_box_area_pct": round(100.0 * mean_area / area, 2),
        "evidence": track_evidence(t),
        "low_confidence": is_low_confidence(t),
    }


def _summary(plan: Plan, clock: Timeline, categories: dict[int, str | None]) -> dict[str, Any]:
    redacted = [t for t in plan.tracks if t.action == "redact"]
    by_kind = Counter(t.kind for t in redacted)
    kept = Counter(t.kind for t in plan.tracks if t.action == "keep")
    cats = Counter(categories[t.id] for t in redacted if categories[t.id])
    redacted_frames = {b.frame for t in redacted for b in t.boxes}
    covered_whole = {b.frame for t in redacted for b in t.boxes if t.kind == "frame" or b.source == "failsafe"}
    n = plan.input.frames
    return {
        "tracks": len(plan.tracks),
        "tracks_by_kind": dict(sorted(by_kind.items())),
        "kept_by_kind": dict(sorted(kept.items())),
        "categories": dict(sorted(cats.items())),
        "frames": n,
        "duration_s": _time(clock, n),
        "frames_with_redaction": len(redacted_frames),
        "share_of_frames_redacted": round(len(redacted_frames) / n, 4) if n else 0.0,
        "frames_covered_whole": len(covered_whole),
        "low_confidence": sum(is_low_confidence(t) for t in plan.tracks),
    }


def _scalars(d: dict[str, Any], keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The JSON scalar (or short list of scalars) values of ``d``, for ``keys`` if given."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if keys is not None and k not in keys:
            continue
        if isinstance(v, (list, tuple)) and len(v) <= 4 and all(isinstance(x, (int, float)) for x in v):
            out[str(k)] = list(v)
        elif v is None or isinstance(v, (str, int, float, bool)):
            out[str(k)] = v
    return out


def _finite(x: Any) -> Any:
    """``x`` with NaN and infinities replaced by None, so the JSON is valid everywhere."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def build_report(plan: Plan, *, output_path: str | None, output_sha256: str | None, render: dict[str, Any] | None,
                 timings: dict[str, Any] | None, models: list[dict[str, Any]], warnings: list[str],
                 notes: list[str] | None = None) -> dict[str, Any]:
    """A JSON-ready report of ``plan`` (and of the render that applied it). ``warnings``: what was not done or not
    checked as asked; ``notes``: findings that are no fault (audio checked and found to hold no speech)."""
    inp = plan.input.to_dict()
    clock = timeline(plan)
    if "timeline" in inp:  # the frames' times: the report gives the first frame's (the rest are in the rows)
        inp["first_frame_s"] = _time(clock, 0)
    categories = {t.id: safe_category(t.category) for t in plan.tracks}
    output: dict[str, Any] = {"path": output_path, "sha256": output_sha256}
    output.update(_scalars(render or {}, RENDER_FIELDS))
    report = {
        "report_version": REPORT_VERSION,
        "tool": {"name": "redact", "version": __version__},
        "created_utc": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "plan_version": plan.version,
        "input": _scalars(inp, INPUT_FIELDS),
        "output": output,
        "settings": json.loads(json.dumps(plan.settings, default=str)),
        "models": [_scalars(m) for m in models],
        "summary": _summary(plan, clock, categories),
        "tracks": [_track_row(t, plan, clock, categories[t.id]) for t in sorted(plan.tracks, key=lambda t: t.id)],
        "warnings": [str(w) for w in warnings],
        "notes": [str(n) for n in notes or ()],
        "timings": {str(k): v for k, v in (timings or {}).items() if isinstance(v, (int, float))},
    }
    return _finite(report)


def write_report_json(report: dict[str, Any], path: str | Path) -> None:
    """Write ``report`` as JSON, atomically (a temp file renamed into place)."""
    atomic_write_text(path, json.dumps(_finite(report), indent=1, allow_nan=False) + "\n")


def write_report_html(report: dict[str, Any], plan: Plan, path: str | Path) -> None:
    """Write the self-contained HTML report (inline CSS and SVG, no scripts, no links), atomically."""
    from .html import render_html

    atomic_write_text(path, render_html(report, plan))
