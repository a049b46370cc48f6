"""Core data types: per-frame detections, tracks and the plan.

The plan is the contract between ``scan`` and ``render``: a versioned JSON document listing,
for every track, the boxes to redact (or keep) frame by frame. Boxes are in pixels of the
displayed (rotation-applied) frame, frame indices count from 0.

The plan never contains recognised text: only the kind and the category of what was found.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

PLAN_VERSION = 1

KINDS = ("face", "badge", "text", "frame", "speech")
"""What a track covers. ``frame`` is a whole-frame cover used when a frame could not be analysed; ``speech`` is a
stretch of the audio (``Track.span``, seconds) where personal data was said, with no boxes."""
PICTURE_KINDS = ("face", "badge", "text", "frame")

ACTIONS = ("redact", "keep")
SOURCES = ("detected", "tracked", "interpolated", "manual", "failsafe")


CATEGORY_ORDER = ("nhs_number", "hospital_number", "name", "date", "address", "postcode", "phone", "email",
                  "label")
"""PII categories of text, most sensitive first. A region holding several is reported as the first of them."""


def most_sensitive(categories: Iterable[str | None]) -> str | None:
    """The most sensitive of ``categories`` (unknown ones rank after the known ones), or None."""
    cats = {c for c in categories if c}
    if not cats:
        return None
    rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    return min(cats, key=lambda c: (rank.get(c, len(rank)), c))


class PlanError(ValueError):
    """A plan document is malformed or does not match its input."""


@dataclass(frozen=True)
class Detections:
    """Detections in one frame, one array per field (after supervision's ``Detections``).

    ``xyxy`` is ``(N, 4)`` float32 ``[x1, y1, x2, y2]`` in display pixels, ``score`` is ``(N,)``
    float32 in ``[0, 1]``, ``kind`` is the kind of every row (one detector emits one kind).
    ``category`` (optional, text): an object array with one PII category (or None) per row.
    ``quad`` (optional, text): ``(N, 4, 2)`` float32, each row's own quadrilateral (the line as the detector drew
    it, padded along its own axes), corners in order; a row whose quad is all NaN has none (its box is its shape).
    The box stays what the tracker matches and bounds; the quad is only ever drawn inside it.
    """

    xyxy: np.ndarray
    score: np.ndarray
    kind: str = "face"
    category: np.ndarray | None = None
    quad: np.ndarray | None = None

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        score = np.asarray(self.score, dtype=np.float32).reshape(-1)
        if len(xyxy) != len(score):
            raise ValueError(f"xyxy has {len(xyxy)} rows but score has {len(score)}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if len(xyxy) and not np.all(np.isfinite(xyxy)):
            raise ValueError("non-finite box coordinates")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "score", score)
        if self.category is not None:
            cat = np.asarray(self.category, dtype=object).reshape(-1)
            if len(cat) != len(xyxy):
                raise ValueError(f"xyxy has {len(xyxy)} rows but category has {len(cat)}")
            object.__setattr__(self, "category", cat)
        if self.quad is not None:
            quad = np.asarray(self.quad, dtype=np.float32).reshape(-1, 4, 2)
            if len(quad) != len(xyxy):
                raise ValueError(f"xyxy has {len(xyxy)} rows but quad has {len(quad)}")
            object.__setattr__(self, "quad", quad)

    def quads(self) -> np.ndarray:
        """``(N, 4, 2)``: each row's quad, NaN where it has none."""
        if self.quad is None:
            return np.full((len(self), 4, 2), np.nan, np.float32)
        return self.quad

    @classmethod
    def empty(cls, kind: str = "face") -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), kind)

    def __len__(self) -> int:
        return len(self.xyxy)

    def __iter__(self) -> Iterator[tuple[np.ndarray, float]]:
        for i in range(len(self)):
            yield self.xyxy[i], float(self.score[i])

    def filter(self, mask: np.ndarray) -> "Detections":
        cat = None if self.category is None else self.category[mask]
        quad = None if self.quad is None else self.quad[mask]
        return Detections(self.xyxy[mask], self.score[mask], self.kind, cat, quad)

    def categories(self) -> list[str | None]:
        return [None] * len(self) if self.category is None else list(self.category)

    def clip(self, width: int, height: int) -> "Detections":
        xyxy = self.xyxy.copy()
        xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, width)
        xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, height)
        keep = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
        cat = None if self.category is None else self.category[keep]
        quad = None if self.quad is None else self.quad[keep]
        return Detections(xyxy[keep], self.score[keep], self.kind, cat, quad)

    @staticmethod
    def concat(items: Sequence["Detections"], kind: str | None = None) -> "Detections":
        if not items:
            return Detections.empty(kind or "face")
        k = kind or items[0].kind
        cat = None
        if any(d.category is not None for d in items):
            cat = np.array([c for d in items for c in d.categories()], dtype=object)
        quad = np.concatenate([d.quads() for d in items]) if any(d.quad is not None for d in items) else None
        return Detections(np.concatenate([d.xyxy for d in items]), np.concatenate([d.score for d in items]), k, cat,
                          quad)


def _box(values: Sequence[Any]) -> tuple[float, float, float, float]:
    """A validated plan box (four numbers) as floats."""
    x1, y1, x2, y2 = (float(v) for v in values)
    return x1, y1, x2, y2


def _polygon(values: Sequence[Any] | None) -> tuple[tuple[float, float], ...] | None:
    """A validated plan polygon (three or more ``[x, y]``) as float pairs; None stays None."""
    if values is None:
        return None
    return tuple((float(p[0]), float(p[1])) for p in values)


@dataclass
class TrackBox:
    frame: int
    box: tuple[float, float, float, float]
    score: float
    source: str = "detected"
    polygon: tuple[tuple[float, float], ...] | None = None
    """Optional (text lines): the shape to redact inside ``box``, a convex polygon of three or more corners in the
    same pixels; what is redacted is the polygon's part of the box. None: the whole box (and every box written
    before polygons existed)."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "frame": int(self.frame),
            "box": [round(float(v), 1) for v in self.box],
            "score": round(float(self.score), 4),
            "source": self.source,
        }
        if self.polygon is not None:
            d["polygon"] = [[round(float(x), 1), round(float(y), 1)] for x, y in self.polygon]
        return d


@dataclass
class Track:
    id: int
    kind: str
    boxes: list[TrackBox] = field(default_factory=list)
    action: str = "redact"
    category: str | None = None
    evidence: dict[str, Any] | None = None
    """What the detectors saw of this track (set by the tracker; None for manual and whole-frame tracks):
    ``{"detections": frames with a detection, "best_score": the highest detection score, "confirmed": whether
    that was enough to carry the track beyond its detections}``. An unconfirmed track is covered only where and
    near where it was seen; the review page marks it as low confidence for a person to check."""
    span: tuple[float, float] | None = None
    """``speech`` tracks only: ``(start, end)`` in seconds from the first sample of the first audio stream (the
    stretch to bleep or mute); such a track has no boxes."""

    @property
    def manual(self) -> bool:
        """Every box drawn by hand (the review page's own tracks, which it may also remove)."""
        return bool(self.boxes) and all(b.source == "manual" for b in self.boxes)

    @property
    def first_frame(self) -> int:
        return min(b.frame for b in self.boxes) if self.boxes else -1

    @property
    def last_frame(self) -> int:
        return max(b.frame for b in self.boxes) if self.boxes else -1

    @property
    def frame_count(self) -> int:
        return len({b.frame for b in self.boxes})

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": int(self.id), "kind": self.kind, "action": self.action}
        if self.category is not None:
            d["category"] = self.category
        if self.evidence is not None:
            d["evidence"] = dict(self.evidence)
        if self.span is not None:
            d["span"] = [round(float(self.span[0]), 3), round(float(self.span[1]), 3)]
        d["boxes"] = [b.to_dict() for b in sorted(self.boxes, key=lambda b: b.frame)]
        return d


@dataclass
class InputInfo:
    path: str
    sha256: str
    kind: str  # "video" | "image"
    width: int  # displayed (rotation-applied) width
    height: int
    frames: int
    fps: float
    extra: dict[str, Any] = field(default_factory=dict)
    """Optional facts: rotation, duration, codec, audio, truncated, ..."""

    def to_dict(self) -> dict[str, Any]:
        d = {
            "path": self.path,
            "sha256": self.sha256,
            "kind": self.kind,
            "width": int(self.width),
            "height": int(self.height),
            "frames": int(self.frames),
            "fps": round(float(self.fps), 6),
        }
        d.update(self.extra)
        return d


@dataclass
class Plan:
    input: InputInfo
    tracks: list[Track] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    tool: dict[str, Any] = field(default_factory=dict)
    version: int = PLAN_VERSION

    # -- queries -------------------------------------------------------------------------
    def boxes_by_frame(self) -> dict[int, list[tuple[Track, TrackBox]]]:
        out: dict[int, list[tuple[Track, TrackBox]]] = {}
        for t in self.tracks:
            for b in t.boxes:
                out.setdefault(b.frame, []).append((t, b))
        return out

    def track(self, track_id: int) -> Track:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise KeyError(track_id)

    # -- (de)serialisation ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "tool": self.tool,
            "input": self.input.to_dict(),
            "settings": self.settings,
            "tracks": [t.to_dict() for t in sorted(self.tracks, key=lambda t: t.id)],
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Plan":
        validate_plan_dict(d)
        inp = dict(d["input"])
        core = {k: inp.pop(k) for k in ("path", "sha256", "kind", "width", "height", "frames", "fps")}
        info = InputInfo(extra=inp, **core)
        tracks = []
        for t in d["tracks"]:
            boxes = [
                TrackBox(int(b["frame"]), _box(b["box"]), float(b.get("score", 1.0)),
                         b.get("source", "detected"), _polygon(b.get("polygon")))
                for b in t["boxes"]
            ]
            ev, span = t.get("evidence"), t.get("span")
            tracks.append(Track(int(t["id"]), t["kind"], boxes, t.get("action", "redact"), t.get("category"),
                                None if ev is None else dict(ev),
                                None if span is None else (float(span[0]), float(span[1]))))
        return cls(info, tracks, dict(d.get("settings", {})), dict(d.get("tool", {})), int(d["version"]))

    @classmethod
    def from_json(cls, text: str) -> "Plan":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise PlanError(f"plan is not valid JSON: {e}") from None
        return cls.from_dict(d)


def _req(cond: bool, msg: str) -> None:
    if not cond:
        raise PlanError(msg)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


def validate_plan_dict(d: Any) -> None:
    """Check a plan document's shape; raise :class:`PlanError` naming the first problem."""
    _req(isinstance(d, Mapping), "plan must be a JSON object")
    _req(d.get("version") == PLAN_VERSION, f"unsupported plan version {d.get('version')!r} (expected {PLAN_VERSION})")
    inp = d.get("input")
    _req(isinstance(inp, Mapping), "plan.input must be an object")
    for k in ("path", "sha256", "kind"):
        _req(isinstance(inp.get(k), str), f"plan.input.{k} must be a string")
    _req(inp["kind"] in ("video", "image"), "plan.input.kind must be 'video' or 'image'")
    for k in ("width", "height", "frames"):
        _req(_is_int(inp.get(k)) and inp[k] >= 0, f"plan.input.{k} must be a non-negative integer")
    _req(_is_num(inp.get("fps")) and inp["fps"] >= 0, "plan.input.fps must be a non-negative number")
    tracks = d.get("tracks")
    _req(isinstance(tracks, list), "plan.tracks must be a list")
    seen: set[int] = set()
    for i, t in enumerate(tracks):
        where = f"plan.tracks[{i}]"
        _req(isinstance(t, Mapping), f"{where} must be an object")
        _req(_is_int(t.get("id")), f"{where}.id must be an integer")
        _req(t["id"] not in seen, f"{where}.id {t['id']} is used twice")
        seen.add(t["id"])
        _req(t.get("kind") in KINDS, f"{where}.kind must be one of {', '.join(KINDS)}")
        _req(t.get("action", "redact") in ACTIONS, f"{where}.action must be 'redact' or 'keep'")
        cat = t.get("category")
        _req(cat is None or isinstance(cat, str), f"{where}.category must be a string")
        ev = t.get("evidence")
        _req(ev is None or (isinstance(ev, Mapping) and _is_int(ev.get("detections")) and ev["detections"] >= 0
                            and _is_num(ev.get("best_score")) and isinstance(ev.get("confirmed"), bool)),
             f"{where}.evidence must be an object with detections, best_score and confirmed")
        span = t.get("span")
        if t["kind"] == "speech":
            _req(isinstance(span, list) and len(span) == 2 and all(_is_num(v) for v in span) and 0 <= span[0] <= span[1],
                 f"{where}.span must be [start, end] in seconds, 0 <= start <= end")
        else:
            _req(span is None, f"{where}.span belongs to speech tracks only")
        boxes = t.get("boxes")
        _req(isinstance(boxes, list), f"{where}.boxes must be a list")
        _req(t["kind"] != "speech" or not boxes, f"{where}: a speech track has no boxes")
        for j, b in enumerate(boxes):
            bw = f"{where}.boxes[{j}]"
            _req(isinstance(b, Mapping), f"{bw} must be an object")
            _req(_is_int(b.get("frame")) and 0 <= b["frame"] < max(inp["frames"], 1),
                 f"{bw}.frame must be an integer in [0, {inp['frames']})")
            box = b.get("box")
            _req(isinstance(box, list) and len(box) == 4 and all(_is_num(v) for v in box),
                 f"{bw}.box must be [x1, y1, x2, y2]")
            _req(box[2] >= box[0] and box[3] >= box[1], f"{bw}.box must have x2 >= x1 and y2 >= y1")
            _req("score" not in b or _is_num(b["score"]), f"{bw}.score must be a number")
            poly = b.get("polygon")
            _req(poly is None or (isinstance(poly, list) and len(poly) >= 3 and all(
                isinstance(p, list) and len(p) == 2 and all(_is_num(v) for v in p) for p in poly)),
                f"{bw}.polygon must be a list of three or more [x, y]")
            _req(b.get("source", "detected") in SOURCES, f"{bw}.source must be one of {', '.join(SOURCES)}")


def plan_schema() -> dict[str, Any]:
    """The plan format as a JSON Schema (``redact/plan.schema.json``, shipped in the package) for other tools
    that read or write plans; :func:`validate_plan_dict` checks the same rules and a few the schema cannot."""
    import importlib.resources

    return json.loads(importlib.resources.files("redact").joinpath("plan.schema.json").read_text("utf-8"))


def next_track_id(tracks: Iterable[Track]) -> int:
    return max((t.id for t in tracks), default=0) + 1
