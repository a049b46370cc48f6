"""A synthetic hand-held shot: a textured wall with a blue label on it, filmed by a panning, shaking camera.

The camera's position in frame ``i`` is ``path[i]`` (wall pixels); frame pixel ``(x, y)`` shows wall pixel
``(x, y) + path[i]``, so the label sits at ``LABEL - path[i]`` in the frame. The shake is a sine with the OCR
stride as its period: it is back where it started every 25 frames, so a box interpolated linearly between
those frames misses the label in between.
"""

from __future__ import annotations

import cv2
import numpy as np

W, H = 320, 240
MARGIN = 160
LABEL = (150.0 + MARGIN, 100.0 + MARGIN, 260.0 + MARGIN, 126.0 + MARGIN)
"""The label on the wall (x1, y1, x2, y2, wall pixels): 110 x 26, dark blue with white print."""
PERIOD = 25


def wall(seed: int = 0) -> np.ndarray:
    """Grey texture (blurred noise and blocks: plenty of corners, nothing blue) with the label on it."""
    rng = np.random.default_rng(seed)
    h, w = H + 2 * MARGIN, W + 2 * MARGIN
    grey = cv2.GaussianBlur(rng.integers(0, 256, (h, w), dtype=np.uint8), (0, 0), 2.0)
    for _ in range(250):
        x, y = (int(v) for v in rng.integers(0, [w, h]))
        dx, dy = (int(v) for v in rng.integers(6, 40, 2))
        cv2.rectangle(grey, (x, y), (x + dx, y + dy), int(rng.integers(0, 256)), -1)
    img = np.repeat(grey[:, :, None], 3, axis=2)
    x1, y1, x2, y2 = (int(v) for v in LABEL)
    img[y1:y2, x1:x2] = (10, 40, 190)
    cv2.putText(img, "BED 4 SMITH", (x1 + 6, y2 - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1,
                cv2.LINE_AA)
    return img


def shaky_path(n: int, seed: int = 0, amplitude: float = 40.0) -> np.ndarray:
    """``(n, 2)`` camera positions: a slow pan right, a big shake of period ``PERIOD`` on both axes, jitter."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    x = MARGIN + 1.0 * t - 0.5 * n + 0.8 * amplitude * np.sin(2 * np.pi * t / PERIOD + 0.6)
    y = MARGIN + amplitude * np.sin(2 * np.pi * t / PERIOD)
    return np.stack([x, y], axis=1) + rng.normal(0, 1.0, (n, 2))


def frame(scene: np.ndarray, position: np.ndarray) -> np.ndarray:
    """The ``W x H`` view of ``scene`` with the camera at ``position`` (sub-pixel, bilinear)."""
    m = np.float32([[1, 0, position[0]], [0, 1, position[1]]])
    return cv2.warpAffine(scene, m, (W, H), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)


def label_in_frame(position: np.ndarray) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = LABEL
    return (x1 - position[0], y1 - position[1], x2 - position[0], y2 - position[1])


def find_label(image: np.ndarray) -> tuple[float, float, float, float] | None:
    """Where the blue label is in ``image`` (what a perfect text detector would box), or None."""
    img = image.astype(np.int16)
    blue = img[:, :, 2] - np.maximum(img[:, :, 0], img[:, :, 1]) > 80
    ys, xs = np.nonzero(blue)
    if len(xs) < 20:
        return None
    return (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
