"""Redaction styles: how a region is made unreadable.

All styles are irreversible by construction: they destroy the information in the region rather than
transform it (a light Gaussian blur can be partly inverted; these cannot):

- ``blur`` (default): the region is first pixelated to a coarse grid (at most ``BLUR_CELLS`` cells across
  its short side), then smoothed so it looks like a soft blur rather than blocks, and finally a little noise is
  added. What survives is a handful of averaged colours: no face, no text.
- ``pixelate``: the same coarse grid, shown as blocks.
- ``fill``: a solid colour.

Regions are drawn as ellipses for faces (looks natural, covers the padded box's core) unless ``shape='box'``;
badges, text and whole-frame covers are always rectangles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import cv2
import numpy as np

STYLES = ("blur", "pixelate", "fill")
BLUR_CELLS = 6  # cells across the short side of a region: a face becomes a 6x6-ish colour grid
FILL_COLOUR = (24, 24, 24)


@dataclass(frozen=True)
class Region:
    box: tuple[float, float, float, float]
    kind: str = "face"


def _int_box(box: Sequence[float], width: int, height: int) -> tuple[int, int, int, int] | None:
    x1 = max(0, int(np.floor(box[0])))
    y1 = max(0, int(np.floor(box[1])))
    x2 = min(width, int(np.ceil(box[2])))
    y2 = min(height, int(np.ceil(box[3])))
    if x2 <= x1 or y2 <= y1:
        return None
    return x1, y1, x2, y2


def _coarse(patch: np.ndarray, cells: int) -> tuple[np.ndarray, tuple[int, int]]:
    h, w = patch.shape[:2]
    short = min(h, w)
    step = max(1, int(np.ceil(short / cells)))
    gw, gh = max(1, int(np.ceil(w / step))), max(1, int(np.ceil(h / step)))
    small = cv2.resize(patch, (gw, gh), interpolation=cv2.INTER_AREA)
    return small, (w, h)


def _pixelate(patch: np.ndarray) -> np.ndarray:
    small, (w, h) = _coarse(patch, BLUR_CELLS)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def _blur(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    small, (w, h) = _coarse(patch, BLUR_CELLS)
    up = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    k = max(3, (min(w, h) // BLUR_CELLS) | 1)
    out = cv2.GaussianBlur(up, (k, k), 0)
    noise = rng.integers(-3, 4, size=out.shape, dtype=np.int16)
    return np.clip(out.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def _ellipse_mask(h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, h // 2), (max(1, w // 2), max(1, h // 2)), 0, 0, 360, 255, -1)
    return mask.astype(bool)


def redact_regions(
    image: np.ndarray,
    regions: Iterable[Region],
    *,
    style: str = "blur",
    face_shape: str = "ellipse",
    seed: int = 0,
) -> np.ndarray:
    """Return a copy of ``image`` (HxWx3 uint8) with every region made unreadable.

    Kept tracks are simply not passed in: a region to redact always wins where it overlaps a kept one.
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    h, w = image.shape[:2]
    out = image.copy()
    rng = np.random.default_rng(seed)
    regions = list(regions)
    for r in regions:
        ib = _int_box(r.box, w, h)
        if ib is None:
            continue
        x1, y1, x2, y2 = ib
        patch = out[y1:y2, x1:x2]
        if style == "fill":
            new = np.empty_like(patch)
            new[...] = FILL_COLOUR
        elif style == "pixelate":
            new = _pixelate(patch)
        else:
            new = _blur(patch, rng)
        if r.kind == "face" and face_shape == "ellipse" and min(x2 - x1, y2 - y1) >= 8:
            m = _ellipse_mask(y2 - y1, x2 - x1)
            patch[m] = new[m]
        else:
            patch[...] = new
    return out

