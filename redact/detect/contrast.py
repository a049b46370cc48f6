"""A second look at a reading's frame for lettering of low contrast: the frame with its lightness equalised (CLAHE),
detected at a small size and its new lines recognised in the equalised frame.

The text detector (PP-OCR det) gives no box, at any size or threshold, for some lettering whose contrast with its
ground is weak: light red letters on a dark red sign (east_demo_img_75's "SPOT": the detector's probability map at most
0.08 there, its threshold 0.3). With the lightness equalised locally (CLAHE on Lab's L, colour kept), the same
detector finds it, and the recogniser reads it at 0.997 where it read the plain crop as one wrong character at 0.23
(docs/benchmarks.md, "Lettering of low contrast"). The look is:

- detection only, on the equalised frame scaled so its shorter side is :data:`LOOK_SIDE` (the main pass detects a
  720p frame enlarged to 1920x1088: this look costs about 0.45 of that, and such lettering is seldom small);
- lines the main pass found are not looked at again: a box of the look is new when less than :data:`NEW_SHARE` of it
  lies under the main pass's boxes;
- each new line is recognised in the equalised frame and kept only when read surely: a letter or digit, at least
  :data:`LOOK_CHARS` of them, confidence :data:`LOOK_TEXT_SCORE` or more. Equalising also raises texture (floors,
  hair, cloth) to the detector's eye; what is not read as text is left out, so the look adds no walls of
  "unreadable" boxes.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import cv2
import numpy as np

from redact.detect.base import cover_matrix
from redact.detect.ocr import TextBox

LOOK_SIDE = 720
"""The equalised frame is detected with its shorter side this many pixels (never enlarged)."""
CLAHE_CLIP = 3.0
"""CLAHE clip limit (OpenCV's units) ..."""
CLAHE_TILES = 16
"""... and tiles across each side of the frame (at 720p a tile is 45-80 px: about a line of lettering; with 8 tiles
the look found east_demo_img_75's "SPOT" on 3 of 9 frames of its labelled clip, with 16 on 5)."""
NEW_SHARE = 0.5
"""A line of the look is new when less than this share of its box lies under the main pass's boxes (union)."""
LOOK_TEXT_SCORE = 0.8
"""A new line is kept when recognised (in the equalised frame) at this confidence or more ..."""
LOOK_CHARS = 2
"""... with at least this many letters or digits (texture read as text reads as one or two characters)."""

_ALNUM = re.compile(r"[^\W_]")


def describe() -> dict[str, Any]:
    """The look's settings, for a detector's ``describe()``."""
    return {"side": LOOK_SIDE, "clahe_clip": CLAHE_CLIP, "clahe_tiles": CLAHE_TILES, "new_share": NEW_SHARE,
            "text_score": LOOK_TEXT_SCORE, "chars": LOOK_CHARS}


def equalised(image: np.ndarray) -> np.ndarray:
    """``image`` (RGB, uint8) with its lightness equalised locally (CLAHE on Lab's L), colour kept."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    clahe = cv2.createCLAHE(clipLimit=CLAHE_CLIP, tileGridSize=(CLAHE_TILES, CLAHE_TILES))
    lab[:, :, 0] = clahe.apply(np.ascontiguousarray(lab[:, :, 0]))
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def able(backend: Any) -> bool:
    """Whether ``backend`` can take the look: it detects at a given size and recognises given lines (a wrapper with
    an ``inner`` backend, :class:`~redact.detect.regions.RegionalReader`, only when what it wraps can)."""
    inner = getattr(backend, "inner", None)
    if inner is not None and not able(inner):
        return False
    return callable(getattr(backend, "detect_at", None)) and callable(getattr(backend, "recognise_quads", None))


def look(backend: Any, image: np.ndarray, known: Sequence[np.ndarray]) -> list[TextBox]:
    """The lines of low contrast in ``image`` (RGB) that the main pass did not find: boxes of ``known``
    (``[x1, y1, x2, y2]``, image pixels) are the main pass's. ``backend``: see :func:`able`. Each line comes back
    with its text and confidence as read in the equalised frame (in memory only, like every reading).

    A backend that keeps what its previous look kept (:class:`~redact.detect.regions.RegionalReader`: ``look_plan``
    and ``looked``) may limit this look to the parts of the frame that changed since then
    (:class:`~redact.detect.regions.LookPlan`, on a reading of the whole frame due only to its stride): the
    detector sees only those parts, and the previous look's lines elsewhere, carried along the camera's motion, are
    kept as they were read (unless the main pass now covers them)."""
    plan_of, looked = getattr(backend, "look_plan", None), getattr(backend, "looked", None)
    plan = plan_of() if callable(plan_of) else None
    eq = equalised(image)
    side = min(LOOK_SIDE, min(image.shape[:2]))
    carried: list[TextBox] = []
    if plan is None:
        found = backend.detect_at(eq, side)
    else:
        found = backend.detect_at(eq, side, plan.parts) if len(plan.parts) else []
        carried = _carried(plan, image.shape[:2])
    kept = _new(found, known)
    if kept:
        texts, scores = backend.recognise_quads(eq, np.array([b.quad for b in kept], np.float32))
        kept = [TextBox(b.quad, b.score, t, s) for b, t, s in zip(kept, texts, scores) if sure(t, s)]
    out = _new(carried, known) + kept
    if callable(looked):
        looked(out)
    return out


def _new(boxes: list[TextBox], known: Sequence[np.ndarray]) -> list[TextBox]:
    if not boxes:
        return []
    new = new_lines(np.array([b.xyxy for b in boxes], np.float64).reshape(-1, 4), known)
    return [b for b, yes in zip(boxes, new) if yes]


def _carried(plan: Any, shape: tuple[int, ...]) -> list[TextBox]:
    """The previous look's lines (``plan.lines``) carried by ``plan.transform`` into a frame of ``shape``, those that
    no part of ``plan.parts`` touches and whose centre is still in the frame."""
    h, w = shape[:2]
    t = np.asarray(plan.transform, np.float64)
    parts = np.asarray(plan.parts, np.float64).reshape(-1, 4)
    out = []
    for b in plan.lines:
        q = b.quad.astype(np.float64) @ t[:, :2].T + t[:, 2]
        x1, y1 = q.min(axis=0)
        x2, y2 = q.max(axis=0)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        touched = bool(np.any((np.minimum(x2, parts[:, 2]) > np.maximum(x1, parts[:, 0]))
                              & (np.minimum(y2, parts[:, 3]) > np.maximum(y1, parts[:, 1]))))
        if not touched and 0 <= cx < w and 0 <= cy < h:
            out.append(TextBox(q.astype(np.float32), b.score, b.text, b.text_score))
    return out


def new_lines(xyxy: np.ndarray, known: Sequence[np.ndarray]) -> np.ndarray:
    """Per box of ``xyxy`` (N x 4), whether less than :data:`NEW_SHARE` of it lies under the union of ``known``."""
    n = len(xyxy)
    if not len(known):
        return np.ones(n, bool)
    known_xy = np.asarray(known, np.float64).reshape(-1, 4)
    out = np.ones(n, bool)
    for i, box in enumerate(np.asarray(xyxy, np.float64).reshape(-1, 4)):
        over = cover_matrix(box, known_xy).reshape(-1)
        if over.max(initial=0.0) >= NEW_SHARE:
            out[i] = False
        elif over.sum() >= NEW_SHARE:  # several known boxes: measure their union inside this box
            out[i] = _union_share(box, known_xy[over > 0]) < NEW_SHARE
    return out


def sure(text: str | None, score: float) -> bool:
    """Read as text surely enough to keep a line of the look (:data:`LOOK_TEXT_SCORE`, :data:`LOOK_CHARS`)."""
    return text is not None and score >= LOOK_TEXT_SCORE and len(_ALNUM.findall(text)) >= LOOK_CHARS


def _union_share(box: np.ndarray, others: np.ndarray) -> float:
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = max(1, int(np.ceil(x2 - x1))), max(1, int(np.ceil(y2 - y1)))
    mask = np.zeros((h, w), bool)
    for ox1, oy1, ox2, oy2 in others:
        a, b = int(max(0, np.floor(ox1 - x1))), int(max(0, np.floor(oy1 - y1)))
        c, d = int(min(w, np.ceil(ox2 - x1))), int(min(h, np.ceil(oy2 - y1)))
        if c > a and d > b:
            mask[b:d, a:c] = True
    return float(mask.mean())
