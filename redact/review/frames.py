"""Frames for the review page, decoded on demand and kept in memory only.

Frames come from :class:`redact.io.FrameSource`: display-oriented RGB, numbered exactly as scan and render
number them, so the plan's boxes line up with the picture for rotated phone clips and variable frame rates.
Decoding is sequential; a request behind the decoder's position restarts it. Every frame decoded on the way
is kept as a JPEG preview (bounded LRU) and cuts the thumbnails wanted from it, so one pass fills both.

Nothing here touches the disk: previews and thumbnails show faces and text, and stay in this process.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from PIL import Image

from ..io import Frame, FrameSource

PREVIEW_MAX_SIDE = 960
PREVIEW_QUALITY = 82
THUMB_SIDE = 160
DEFAULT_BUDGET = 256 << 20
"""Bytes of JPEG previews kept (about 6,000 frames at 960x540)."""

Box = Sequence[float]


def jpeg(image: np.ndarray, quality: int = PREVIEW_QUALITY) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def preview_size(width: int, height: int, max_side: int = PREVIEW_MAX_SIDE) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def crop_thumbnail(image: np.ndarray, box: Box, side: int = THUMB_SIDE) -> bytes:
    """``box`` grown by a quarter each way (context helps recognise a face), as a JPEG at most ``side`` px."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    mx, my = (x2 - x1) * 0.25 + 2, (y2 - y1) * 0.25 + 2
    a, b = max(int(x1 - mx), 0), max(int(y1 - my), 0)
    c, d = min(int(x2 + mx + 1), w), min(int(y2 + my + 1), h)
    if c <= a or d <= b:
        a, b, c, d = 0, 0, w, h
    im = Image.fromarray(image[b:d, a:c])
    im.thumbnail((side, side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


class FrameStore:
    """Preview JPEGs by frame index and thumbnail JPEGs by key, for one input. Thread-safe."""

    def __init__(self, path: str | Path, *, allow_truncated: bool = True, budget: int = DEFAULT_BUDGET,
                 max_side: int = PREVIEW_MAX_SIDE) -> None:
        self.path = Path(path)
        self.allow_truncated = allow_truncated
        self.budget = budget
        self.max_side = max_side
        self._lock = threading.RLock()
        self._src: FrameSource | None = None
        self._it: Iterator[Frame] | None = None
        self._next = 0
        self._previews: OrderedDict[int, bytes] = OrderedDict()
        self._bytes = 0
        self._thumbs: dict[tuple, bytes] = {}
        self._wanted: dict[int, list[tuple[tuple, Box]]] = {}
        self._closed = False
        self.decoded = 0
        """Frames decoded so far (restarts count again): lets tests see that the cache is used."""

    # -- public ------------------------------------------------------------------------------------------------
    def preview(self, index: int) -> bytes:
        """Frame ``index`` as a JPEG (longest side at most ``max_side``). KeyError past the last frame."""
        with self._lock:
            data = self._previews.get(index)
            if data is not None:
                self._previews.move_to_end(index)
                return data
            self._decode(index)
            data = self._previews.get(index)
            if data is None:  # evicted at once: a budget smaller than one frame
                raise KeyError(index)
            return data

    def want_thumbnails(self, items: Sequence[tuple[tuple, int, Box]]) -> None:
        """Thumbnails to cut when their frame is next decoded: ``(key, frame, box)``."""
        with self._lock:
            for key, frame, box in items:
                if key not in self._thumbs:
                    self._wanted.setdefault(frame, []).append((key, box))

    def thumbnail(self, key: tuple, frame: int, box: Box) -> bytes:
        with self._lock:
            data = self._thumbs.get(key)
            if data is None:
                image = self._decode(frame)
                data = self._thumbs.get(key) or crop_thumbnail(image, box)
                self._thumbs[key] = data
            return data

    def warm(self, frames: int, stop: threading.Event | None = None) -> None:
        """Decode every frame once (previews and wanted thumbnails), giving way to requests between frames."""
        for i in range(frames):
            if stop is not None and stop.is_set():
                return
            with self._lock:
                if i in self._previews:
                    continue
                if self._bytes >= self.budget:
                    return
                try:
                    self._decode(i)
                except KeyError:
                    return

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._close_decoder()
            self._previews.clear()
            self._thumbs.clear()
            self._wanted.clear()
            self._bytes = 0

    # -- decoding ----------------------------------------------------------------------------------------------
    def _close_decoder(self) -> None:
        if self._it is not None:
            self._it.close()  # type: ignore[attr-defined]  # a generator
        if self._src is not None:
            self._src.close()
        self._src, self._it, self._next = None, None, 0

    def _decode(self, index: int) -> np.ndarray:
        if index < 0 or self._closed:
            raise KeyError(index)
        if self._it is None or index < self._next:
            self._close_decoder()
            self._src = FrameSource(self.path, allow_truncated=self.allow_truncated)
            self._it = iter(self._src)
        for frame in self._it:
            self._next = frame.index + 1
            self.decoded += 1
            self._keep(frame)
            if frame.index == index:
                return frame.image
        self._close_decoder()
        raise KeyError(index)

    def _keep(self, frame: Frame) -> None:
        for key, box in self._wanted.pop(frame.index, ()):
            if key not in self._thumbs:
                self._thumbs[key] = crop_thumbnail(frame.image, box)
        if frame.index in self._previews:
            return
        h, w = frame.image.shape[:2]
        size = preview_size(w, h, self.max_side)
        image = frame.image
        if size != (w, h):
            image = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
        data = jpeg(image)
        self._previews[frame.index] = data
        self._bytes += len(data)
        while self._bytes > self.budget and self._previews:
            _, old = self._previews.popitem(last=False)
            self._bytes -= len(old)
