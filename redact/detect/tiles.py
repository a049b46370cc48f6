"""Small faces: run a detector on overlapping tiles of the frame, each upscaled, and map the boxes back.

A face of 8 px is below what CenterFace finds at native resolution (its output stride is 4 px); in a
tile upscaled 2x it is 16 px and found. Tiles overlap by ``overlap`` of the tile side so a face cut by
one tile's edge lies whole in its neighbour; the partial box that the cut tile may also report is kept
(fail closed: nothing a tile finds is dropped), merged with the whole one only when they overlap
strongly (:func:`~redact.detect.base.merge_enclosing`, which can only grow a box).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from redact.detect.base import Detector, cover_matrix, iou_matrix, merge_enclosing
from redact.detect.schedule import Scheduled
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
        return self.merge(self.detect_tiles(image), w, h)

    def tiles(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """The tiles of a ``width`` x ``height`` frame, in the order :meth:`detect_tiles` numbers them."""
        return tile_grid(width, height, *self.grid, self.overlap)

    def detect_tiles(self, image: np.ndarray, which: Sequence[int] | None = None) -> dict[int, Detections]:
        """Detections of each tile in ``which`` (all by default), in frame pixels, not yet merged or grown."""
        h, w = image.shape[:2]
        grid = self.tiles(w, h)
        found = {}
        for i in (range(len(grid)) if which is None else which):
            x0, y0, x1, y1 = grid[i]
            tile = image[y0:y1, x0:x1]
            u = self.scale_for(x1 - x0, y1 - y0)
            if u != 1.0:
                size = (max(1, round((x1 - x0) * u)), max(1, round((y1 - y0) * u)))
                tile = cv2.resize(tile, size, interpolation=cv2.INTER_LINEAR)
            found[i] = to_frame(self.detector.detect(tile), x0, y0, (x1 - x0) / tile.shape[1],
                                (y1 - y0) / tile.shape[0])
        return found

    def merge(self, per_tile: dict[int, Detections], width: int, height: int) -> Detections:
        """The boxes of several tiles as one set: grown to ``min_side``, strong overlaps merged, clipped."""
        merged = Detections.concat(list(per_tile.values()), kind=self.kind)
        return merge_enclosing(grow_to(merged, self.min_side), self.merge_iou).clip(width, height)

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


NEW_IOU = 0.3
NEW_COVER = 0.5


class ScheduledTiles(Scheduled):
    """The tiled pass scheduled tile by tile, spending its cost where small faces are.

    Every tile runs on frame 0 and on cuts. Afterwards a tile that last found a face the other passes of that
    frame did not (its ``context["face"]``: a small or far face) runs again every ``every`` frames; a tile
    that added nothing backs off to every ``every * idle_factor`` frames. Close-up footage, where the full
    pass already finds every face, so pays for the tiles ``idle_factor`` times less often; crowd footage keeps
    the short stride wherever the crowd is. Nothing a tile finds is dropped; only when it runs changes.
    ``every`` stays the stride the tracker's rolls are sized for (see :func:`tracker_config_for`).
    """

    uses_context = True

    def __init__(self, detector: TiledDetector, every: int = 16, idle_factor: int = 2):
        super().__init__(detector, every)
        if not isinstance(idle_factor, int) or idle_factor < 1:
            raise ValueError(f"idle_factor must be an integer >= 1, got {idle_factor!r}")
        self.idle_factor = idle_factor
        self._tile_last: dict[int, int] = {}
        self._busy: dict[int, bool] = {}
        self._cut = False
        self.tile_runs = 0

    def reset(self) -> None:
        super().reset()
        self._tile_last, self._busy = {}, {}  # new dicts: a copy of this schedule must not share its state
        self._cut = False
        self.tile_runs = 0

    def _stride(self, tile: int) -> int:
        return self.every if self._busy.get(tile, True) else self.every * self.idle_factor

    def _due_tiles(self, frame_index: int, n_tiles: int) -> list[int]:
        never = -(10**9)
        return [i for i in range(n_tiles)
                if self._cut or frame_index - self._tile_last.get(i, never) >= self._stride(i)]

    def due(self, frame_index: int, cut: bool) -> bool:
        self._cut = cut
        if cut or not self._tile_last:
            return True
        n = len(self._tile_last)
        return bool(self._due_tiles(frame_index, n))

    def run(self, frame_index: int, image: np.ndarray,
            context: Mapping[str, Detections] | None = None) -> Detections:
        self._last = frame_index
        det: TiledDetector = self.detector  # type: ignore[assignment]
        h, w = image.shape[:2]
        n = len(det.tiles(w, h))
        which = self._due_tiles(frame_index, n)  # every tile on the first run: none has run yet
        per_tile = det.detect_tiles(image, which)
        others = (context or {}).get(det.kind)
        for i, found in per_tile.items():
            self._tile_last[i] = frame_index
            self._busy[i] = adds_faces(found, others)
        self.tile_runs += len(which)
        self._cut = False
        return det.merge(per_tile, w, h)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["idle_every"] = self.every * self.idle_factor
        return d


def adds_faces(found: Detections, others: Detections | None) -> bool:
    """Whether ``found`` holds a box that no box of ``others`` matches (IoU >= 0.3) or mostly covers."""
    if len(found) == 0:
        return False
    if others is None or len(others) == 0:
        return True
    a, b = found.xyxy, others.xyxy
    matched = (iou_matrix(a, b) >= NEW_IOU) | (cover_matrix(a, b) >= NEW_COVER)
    return bool((~matched.any(axis=1)).any())
