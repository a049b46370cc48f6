"""Small faces: run a detector on overlapping tiles of the frame, each upscaled, and map the boxes back.

A face of 8 px is below what CenterFace finds at native resolution (its output stride is 4 px); in a
tile upscaled 2x it is 16 px and found. Tiles overlap by ``overlap`` of the tile side so a face cut by
one tile's edge lies whole in its neighbour; the partial box that the cut tile may also report is kept
(fail closed: nothing a tile finds is dropped), merged with the whole one only when they overlap
strongly (:func:`~redact.detect.base.merge_enclosing`, which can only grow a box).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from redact.detect.base import Detector, merge_enclosing
from redact.detect.faces import grow_to
from redact.types import Detections

DEFAULT_GRID = (2, 2)
DEFAULT_OVERLAP = 0.15
DEFAULT_UPSCALE = 2.0
DEFAULT_TILE_MAX_SIDE = 1472
"""A scaled tile's longer side is at most this (2x a 2x2 tile of 720p): the pass costs at most ~4x a 1280x720
inference whatever the input size (a 1080p frame's tiles are scaled 1.33x, still twice the resolution of a
full-frame pass shrunk to 1280)."""
MERGE_IOU = 0.5


def tile_grid(width: int, height: int, cols: int, rows: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """``(x0, y0, x1, y1)`` of ``cols`` x ``rows`` equal tiles that cover the frame, neighbours sharing
    ``overlap`` of a tile's side (at least 1 px where there is more than one tile along that axis)."""
    if cols < 1 or rows < 1:
        raise ValueError(f"the grid needs at least 1x1 tiles, got {cols}x{rows}")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    if width < 1 or height < 1:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    xs = _spans(width, cols, overlap)
    ys = _spans(height, rows, overlap)
    return [(x0, y0, x1, y1) for y0, y1 in ys for x0, x1 in xs]


def _spans(length: int, n: int, overlap: float) -> list[tuple[int, int]]:
    if n == 1:
        return [(0, length)]
    # n tiles of side t with (n - 1) overlaps of overlap * t span the length: t * (n - (n - 1) * overlap) = length
    side = min(length, int(np.ceil(length / (n - (n - 1) * overlap))))
    if side * n - length < n - 1:  # integer rounding left no shared pixel: widen by one
        side = min(length, side + 1)
    starts = np.round(np.linspace(0, length - side, n)).astype(int)
    return [(int(s), int(s) + side) for s in starts]


class TiledDetector:
    """``detector`` run on each tile of a ``grid`` (cols, rows) with ``overlap``, every tile scaled by
    ``upscale`` first; boxes come back in frame pixels. ``detector`` should not shrink its input
    (e.g. ``CenterFaceDetector(max_side=None)``), else the upscale is undone. ``max_side``: the scaled tile's longer
    side is capped at this (the upscale is lowered for large frames; ``None``: no cap). ``min_side``: boxes are
    grown to at least this many frame pixels (see :func:`redact.detect.faces.grow_to`)."""

    def __init__(self, detector: Detector, grid: tuple[int, int] = DEFAULT_GRID, overlap: float = DEFAULT_OVERLAP,
                 upscale: float = DEFAULT_UPSCALE, merge_iou: float = MERGE_IOU,
                 max_side: int | None = DEFAULT_TILE_MAX_SIDE, min_side: float = 0.0):
        if not upscale > 0:
            raise ValueError(f"upscale must be positive, got {upscale}")
        cols, rows = grid
        tile_grid(1, 1, cols, rows, overlap)  # validates grid and overlap
        self.detector = detector
        self.grid = (int(cols), int(rows))
        self.overlap = float(overlap)
        self.upscale = float(upscale)
        if max_side is not None and max_side < 32:
            raise ValueError(f"max_side must be at least 32, got {max_side}")
        self.max_side = max_side
        self.merge_iou = float(merge_iou)
        if not min_side >= 0:
            raise ValueError(f"min_side must be >= 0, got {min_side}")
        self.min_side = float(min_side)
        self.kind = detector.kind
        self.name = f"{detector.name}-tiles"

    def detect(self, image: np.ndarray) -> Detections:
        h, w = image.shape[:2]
        found = []
        for x0, y0, x1, y1 in tile_grid(w, h, *self.grid, self.overlap):
            tile = image[y0:y1, x0:x1]
            u = self.scale_for(x1 - x0, y1 - y0)
            if u != 1.0:
                size = (max(1, round((x1 - x0) * u)), max(1, round((y1 - y0) * u)))
                tile = cv2.resize(tile, size, interpolation=cv2.INTER_LINEAR)
            found.append(to_frame(self.detector.detect(tile), x0, y0, (x1 - x0) / tile.shape[1],
                                  (y1 - y0) / tile.shape[0]))
        merged = Detections.concat(found, kind=self.kind)
        return merge_enclosing(grow_to(merged, self.min_side), self.merge_iou).clip(w, h)

    def scale_for(self, tile_w: int, tile_h: int) -> float:
        """The factor a ``tile_w`` x ``tile_h`` tile is resized by: ``upscale``, lowered to respect ``max_side``."""
        if self.max_side is None:
            return self.upscale
        return min(self.upscale, self.max_side / max(tile_w, tile_h))

    def describe(self) -> dict[str, Any]:
        d = dict(self.detector.describe())
        d.update(name=self.name, tiles=list(self.grid), tile_overlap=self.overlap, tile_upscale=self.upscale,
                 tile_max_side=self.max_side, tile_merge_iou=self.merge_iou, min_side=self.min_side)
        return d


def to_frame(dets: Detections, x0: int, y0: int, sx: float, sy: float) -> Detections:
    """Boxes of a tile scaled by ``(1/sx, 1/sy)`` whose top-left corner is ``(x0, y0)``, in frame pixels."""
    xyxy = dets.xyxy * np.array([sx, sy, sx, sy], np.float32) + np.array([x0, y0, x0, y0], np.float32)
    return Detections(xyxy, dets.score, dets.kind)
