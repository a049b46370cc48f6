"""The report of what was removed, derived from the plan (the single source of truth).

The report copies only whitelisted fields: kinds, categories, actions, frame and time ranges, box sizes,
hashes, versions and settings. The plan holds no recognised text, and neither does the report.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from .. import __version__
from ..io import atomic_write_text
from ..types import Plan, Track

REPORT_VERSION = 1
INPUT_FIELDS = ("path", "sha256", "kind", "width", "height", "frames", "fps", "duration", "rotation", "codec",
                "container", "audio_streams", "truncated")


def _time(frame: int, fps: float) -> float | None:
    return round(frame / fps, 3) if fps > 0 else None


def _track_row(t: Track, plan: Plan) -> dict[str, Any]:
    fps = plan.input.fps
    area = plan.input.width * plan.input.height or 1
    boxes = t.boxes
    mean_area = sum((b.box[2] - b.box[0]) * (b.box[3] - b.box[1]) for b in boxes) / max(len(boxes), 1)
    row: dict[str, Any] = {
        "id": t.id,
        "kind": t.kind,
        "category": t.category,
        "action": t.action,
        "first_frame": t.first_frame,
        "last_frame": t.last_frame,
        "start_s": _time(t.first_frame, fps),
        "end_s": _time(t.last_frame + 1, fps),
        "frames": t.frame_count,
        "detected_frames": len({b.frame for b in boxes if b.source == "detected"}),
        "mean_box_area_pct": round(100.0 * mean_area / area, 2),
    }
    return row


def _summary(plan: Plan) -> dict[str, Any]:
    by_kind = Counter(t.kind for t in plan.tracks if t.action == "redact")
    kept = Counter(t.kind for t in plan.tracks if t.action == "keep")
    cats = Counter(t.category for t in plan.tracks if t.category and t.action == "redact")
    redacted_frames = {b.frame for t in plan.tracks if t.action == "redact" for b in t.boxes}
    n = plan.input.frames
    return {
        "tracks": len(plan.tracks),
        "tracks_by_kind": dict(sorted(by_kind.items())),
        "kept_by_kind": dict(sorted(kept.items())),
        "categories": dict(sorted(cats.items())),
        "frames": n,
        "frames_with_redaction": len(redacted_frames),
        "share_of_frames_redacted": round(len(redacted_frames) / n, 4) if n else 0.0,
    }


def build_report(plan: Plan, *, output_path: str | None, output_sha256: str | None, render: dict[str, Any] | None,
                 timings: dict[str, Any] | None, models: list[dict[str, Any]], warnings: list[str]) -> dict[str, Any]:
    """A JSON-ready report of ``plan`` (and of the render that applied it)."""
    inp = plan.input.to_dict()
    output: dict[str, Any] = {"path": output_path, "sha256": output_sha256}
    if render:
        output.update({k: render[k] for k in ("frames", "audio", "width", "height", "truncated") if k in render})
    return {
        "report_version": REPORT_VERSION,
        "tool": {"name": "redact", "version": __version__},
        "plan_version": plan.version,
        "input": {k: inp[k] for k in INPUT_FIELDS if k in inp},
        "output": output,
        "settings": plan.settings,
        "models": [{k: v for k, v in m.items() if isinstance(v, (str, int, float, bool)) or v is None}
                   for m in models],
        "summary": _summary(plan),
        "tracks": [_track_row(t, plan) for t in sorted(plan.tracks, key=lambda t: t.id)],
        "warnings": list(warnings),
        "timings": dict(timings or {}),
    }


def write_report_json(report: dict[str, Any], path: str | Path) -> None:
    atomic_write_text(path, json.dumps(report, indent=1) + "\n")


def write_report_html(report: dict[str, Any], plan: Plan, path: str | Path) -> None:
    from .html import render_html

    atomic_write_text(path, render_html(report, plan))
