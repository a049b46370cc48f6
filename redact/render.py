"""Redaction styles: how a region is made unreadable.

All styles are irreversible by construction: they destroy the information in the region rather than
transform it (a light Gaussian blur can be partly inverted; these cannot):

- ``blur`` (default): the region is first pixelated to a coarse grid (at most ``BLUR_CELLS`` cells across
  its short side), then smoothed so it looks like a soft blur rather than blocks, and finally a little noise is
  added. What survives is a handful of averaged colours: no face, no text.
- ``pixelate``: the same coarse grid, shown as blocks.
- ``fill``: a solid colour.

Regions are drawn as ellipses for faces (looks natural, covers the padded box's core) unless ``shape='box'``;
badges, text and whole-frame covers are rectangles, except a region with a ``polygon`` (a text line's own padded
quadrilateral, carried by the tracker): only the part of its box inside the polygon is redacted.

:func:`redact_regions` works on RGB images; :func:`redact_planes` does the same to the Y, U, V planes of an
8-bit 4:2:0 frame (the writer's fast path), with chroma redacted over the chroma samples that cover each region.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import cv2
import numpy as np

STYLES = ("blur", "pixelate", "fill")
BLUR_CELLS = 6  # cells across the short side of a region: a face becomes a 6x6-ish colour grid
FILL_COLOUR = (24, 24, 24)
FILL_YUV = (37, 128, 128)  # FILL_COLOUR in BT.709 limited range (redact.io.colour.rgb_to_yuv)
Y_NOISE = 2  # luma noise of the blur, +-levels: about what +-3 per RGB channel puts into Y
_NOISE_TILE = 512  # side of the precomputed noise pattern regions take their noise from
_MID = 4  # plane blur: the coarse grid is smoothed at this many samples per cell, then scaled up


@dataclass(frozen=True)
class Region:
    box: tuple[float, float, float, float]
    kind: str = "face"
    polygon: tuple[tuple[float, float], ...] | None = None
    """Optional: redact only the part of ``box`` inside this convex polygon (frame pixels)."""


POLY_SHIFT = 4  # fractional bits of the polygon's corners when it is drawn (1/16 px)


def polygon_mask(polygon: Sequence[Sequence[float]], x1: int, y1: int, w: int, h: int) -> np.ndarray:
    """Boolean ``h x w`` mask of the pixels of the box whose top-left is (``x1``, ``y1``) that the convex
    ``polygon`` (frame pixels) touches: every pixel its outline passes through is in (drawn generously, never
    thinner than the polygon)."""
    mask = np.zeros((h, w), np.uint8)
    scaled = np.round((np.asarray(polygon, np.float64).reshape(-1, 2) - [x1 + 0.5, y1 + 0.5]) * (1 << POLY_SHIFT))
    pts = scaled.astype(np.int32).reshape(-1, 1, 2)
    cv2.fillConvexPoly(mask, pts, 255, lineType=cv2.LINE_8, shift=POLY_SHIFT)
    cv2.polylines(mask, [pts], True, 255, thickness=1, lineType=cv2.LINE_8, shift=POLY_SHIFT)
    return mask.astype(bool)


def region_mask(r: Region, ib: tuple[int, int, int, int], face_shape: str = "ellipse") -> np.ndarray | None:
    """The pixels of ``r``'s whole-pixel box ``ib`` that are redacted (None: all of them): a face's ellipse, a
    polygon's part of the box."""
    x1, y1, x2, y2 = ib
    if r.polygon is not None:
        return polygon_mask(r.polygon, x1, y1, x2 - x1, y2 - y1)
    if r.kind == "face" and face_shape == "ellipse" and min(x2 - x1, y2 - y1) >= 8:
        return _ellipse_mask(y2 - y1, x2 - x1)
    return None


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


@functools.lru_cache(maxsize=128)
def _ellipse_mask(h: int, w: int) -> np.ndarray:
    """Boolean ellipse filling an h x w box (cached by size: read-only)."""
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, h // 2), (max(1, w // 2), max(1, h // 2)), 0, 0, 360, 255, -1)
    out = mask.astype(bool)
    out.flags.writeable = False
    return out


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
        ib = _box(r.box, w, h)
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
        m = region_mask(r, ib, face_shape)
        if m is not None:
            patch[m] = new[m]
        else:
            patch[...] = new
    return out



# -- planes (8-bit 4:2:0) ------------------------------------------------------------------------------------
def _box(box: Sequence[float], width: int, height: int) -> tuple[int, int, int, int] | None:
    """The box in whole pixels, rounded outwards and clipped to the frame; None when nothing is left."""
    x1, y1 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
    x2, y2 = min(width, math.ceil(box[2])), min(height, math.ceil(box[3]))
    if x2 <= x1 or y2 <= y1:
        return None
    return x1, y1, x2, y2


def _grid(w: int, h: int) -> tuple[int, int]:
    """Coarse grid (columns, rows) of a w x h luma region, as :func:`_coarse` makes it."""
    step = max(1, -(-min(w, h) // BLUR_CELLS))
    return max(1, -(-w // step)), max(1, -(-h // step))


@functools.lru_cache(maxsize=128)
def _chroma_mask(h: int, w: int, oy: int, ox: int) -> np.ndarray:
    """Chroma samples (4:2:0) touching the ellipse of an h x w luma box that starts ``oy``/``ox`` (0 or 1)
    luma pixels into its first chroma row/column: a sample is in if any of its 2x2 luma pixels is."""
    out = _chroma_of(_ellipse_mask(h, w), oy, ox)
    out.flags.writeable = False
    return out


def _chroma_of(luma_mask: np.ndarray, oy: int, ox: int) -> np.ndarray:
    """Chroma samples (4:2:0) touching ``luma_mask`` (an h x w box starting ``oy``/``ox`` luma pixels into its
    first chroma row/column): a sample is in if any of its 2x2 luma pixels is."""
    h, w = luma_mask.shape
    ch, cw = (oy + h + 1) // 2, (ox + w + 1) // 2
    luma = np.zeros((2 * ch, 2 * cw), bool)
    luma[oy:oy + h, ox:ox + w] = luma_mask
    return luma[0::2, 0::2] | luma[1::2, 0::2] | luma[0::2, 1::2] | luma[1::2, 1::2]


@functools.lru_cache(maxsize=1)
def _noise_tile() -> np.ndarray:
    tile = np.random.default_rng(0x5EED).integers(-Y_NOISE, Y_NOISE + 1, size=(_NOISE_TILE, _NOISE_TILE),
                                                  dtype=np.int16)
    tile.flags.writeable = False
    return tile


def _noise(h: int, w: int, seed: int, k: int) -> np.ndarray:
    """h x w of a fixed noise pattern, at an offset that depends on the frame (seed) and region (k)."""
    tile = _noise_tile()
    if h > _NOISE_TILE or w > _NOISE_TILE:
        tile = np.tile(tile, (-(-h // _NOISE_TILE), -(-w // _NOISE_TILE)))
    r = (seed * 1_000_003 + k * 7_919 + 12_345) & 0x7FFFFFFF
    oy = r % (tile.shape[0] - h + 1)
    ox = (r >> 9) % (tile.shape[1] - w + 1)
    return tile[oy:oy + h, ox:ox + w]


def _restyle(patch: np.ndarray, style: str, grid: tuple[int, int], noise: np.ndarray | None) -> np.ndarray:
    """``blur`` or ``pixelate`` of one plane's patch over a coarse grid of (at most) ``grid`` cells."""
    h, w = patch.shape[:2]
    gw, gh = min(grid[0], w), min(grid[1], h)
    small = cv2.resize(patch, (gw, gh), interpolation=cv2.INTER_AREA)
    if style == "pixelate":
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    # As _blur: scale up and smooth with the Gaussian OpenCV picks for a kernel of about one cell, but
    # smoothed at _MID samples per cell (sigma scaled to match) and only then scaled to the patch: the same
    # soft look for a fraction of the cost (a large 8-bit Gaussian on the full patch is slow).
    mw, mh = min(w, gw * _MID), min(h, gh * _MID)
    k = max(3, (min(w, h) // BLUR_CELLS) | 1)
    sigma = (0.3 * ((k - 1) * 0.5 - 1) + 0.8) * min(mw / w, mh / h)
    mid = cv2.resize(small, (mw, mh), interpolation=cv2.INTER_LINEAR)
    ksize = 2 * math.ceil(2 * sigma) + 1  # explicit: OpenCV's own choice for 8-bit takes a slow path
    mid = cv2.GaussianBlur(mid, (ksize, ksize), sigma)
    out = mid if (mw, mh) == (w, h) else cv2.resize(mid, (w, h), interpolation=cv2.INTER_LINEAR)
    return out if noise is None else cv2.add(out, noise, dtype=cv2.CV_8U)


def _redact_patch(patch: np.ndarray, style: str, grid: tuple[int, int], value: int | tuple[int, ...],
                  mask: np.ndarray | None, noise: np.ndarray | None = None) -> None:
    """One region of one plane (H x W) or of the interleaved chroma planes (H x W x 2), in place."""
    if style == "fill":
        if mask is None:
            patch[...] = value
        else:
            patch[mask] = value
        return
    new = _restyle(patch, style, grid, noise)
    if mask is None:
        patch[...] = new
    else:
        np.copyto(patch, new, where=mask if patch.ndim == 2 else mask[..., None])


def redact_planes(
    planes: Sequence[np.ndarray],
    regions: Iterable[Region],
    *,
    style: str = "blur",
    face_shape: str = "ellipse",
    seed: int = 0,
    fill: tuple[int, int, int] = FILL_YUV,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`redact_regions` for the Y (H x W), U and V (ceil(H/2) x ceil(W/2)) uint8 planes of a 4:2:0 frame.

    Returns new planes; the inputs are not changed. Boxes are in luma pixels. Each region is redacted in Y
    exactly where the RGB version would change pixels, and in U and V over the chroma samples that cover it
    (box rounded outward: ``x1 // 2`` to ``ceil(x2 / 2)``; for ellipses every sample any of whose 2x2 luma
    pixels is inside), so no redacted pixel keeps its colour. Same grid and smoothing as the RGB ``blur``,
    luma noise taken from a fixed pattern (no per-region random draws). ``fill`` is the fill colour as
    (Y, U, V) in the frame's matrix and range (see :func:`redact.io.colour.rgb_to_yuv`).
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    y = np.array(planes[0], dtype=np.uint8, copy=True)
    u, v = (np.asarray(p, dtype=np.uint8) for p in planes[1:3])
    h, w = y.shape
    if u.shape != ((h + 1) // 2, (w + 1) // 2) or v.shape != u.shape:
        raise ValueError(f"chroma planes {u.shape}/{v.shape} do not match a {w}x{h} 4:2:0 frame")
    uv = cv2.merge([u, v])  # U and V interleaved: each region's chroma is one OpenCV call per step, not two
    for k, r in enumerate(regions):
        ib = _box(r.box, w, h)
        if ib is None:
            continue
        x1, y1, x2, y2 = ib
        cx1, cy1, cx2, cy2 = x1 // 2, y1 // 2, (x2 + 1) // 2, (y2 + 1) // 2
        bw, bh = x2 - x1, y2 - y1
        luma_mask = region_mask(r, ib, face_shape)
        chroma_mask = None
        if luma_mask is not None:  # an ellipse's chroma samples are cached by size and offset; a polygon's are not
            oy, ox = y1 - 2 * cy1, x1 - 2 * cx1
            chroma_mask = _chroma_of(luma_mask, oy, ox) if r.polygon is not None else _chroma_mask(bh, bw, oy, ox)
        grid = _grid(bw, bh)
        noise = _noise(bh, bw, seed, k) if style == "blur" else None
        _redact_patch(y[y1:y2, x1:x2], style, grid, fill[0], luma_mask, noise)
        _redact_patch(uv[cy1:cy2, cx1:cx2], style, grid, (fill[1], fill[2]), chroma_mask)
    u, v = cv2.split(uv)
    return y, u, v
