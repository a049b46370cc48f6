"""Camera motion: how the whole picture moved from one frame to the next, and boxes carried along it.

A hand-held phone pans and shakes, so text on a monitor or a whiteboard moves non-linearly between the frames
OCR reads (every 25). :class:`CameraMotion` estimates, for each frame, the similarity transform (shift,
rotation, uniform zoom) that maps the previous frame's pixels onto it: grey, shrunk by a whole factor to at most
400 px wide, corners (``goodFeaturesToTrack``) followed by pyramidal Lucas-Kanade with a forward-backward check,
and a RANSAC fit (``estimateAffinePartial2D``). The transform is returned in full-frame pixels. Frames where
this is not trustworthy (flat or dark frames, scene cuts, heavy blur: too few features tracked, or too few of
them agreeing on one motion) are reported as not ``ok``; nothing is guessed for them.

"Camera" motion is the motion most of the picture agrees on: when a person close to the lens fills most of
it, that is the person's motion. The tracker only ever *adds* the carried boxes to its own, so a wrong motion
costs precision (a larger box), not coverage.

:class:`MotionPath` chains the per-frame transforms so a box can be carried from the frame it was detected on
to any other frame, forwards or backwards. A frame whose transform was not ``ok`` breaks the chain: mapping
across it returns ``None`` and the caller keeps its own (motion-free) estimate.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import cv2
import numpy as np

log = logging.getLogger(__name__)

DEFAULT_WIDTH = 400
"""Frames wider than this are analysed shrunk by a whole factor (720p -> 320 px, 1080p -> 384 px). Cost at 720p,
quick script on textured frames, the 2-core development machine under load from other jobs (load average 7-10):
~4-9 ms CPU per frame with one OpenCV thread (grey + shrink ~2.5, corners ~1.4, Lucas-Kanade forward and
backward ~2.1, RANSAC ~0.2); shifts recovered within 0.15 px."""

_LK: dict[str, Any] = {"winSize": (11, 11), "maxLevel": 3,
                       "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 10, 0.03)}


def identity() -> np.ndarray:
    """The 2x3 transform that moves nothing."""
    return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


class CameraMotion:
    """Estimates each frame's global motion from the frame before it.

    Call :meth:`update` with every frame in order (RGB, H x W x 3, uint8). It returns ``(transform, ok)``:
    ``transform`` is 2x3 and maps a pixel position ``(x, y)`` of the previous frame to the same scene point in
    this one; ``ok`` is False (and ``transform`` the identity) on the first frame, after a size change, and
    whenever too few features are tracked or too few agree on one motion.
    """

    def __init__(self, width: int = DEFAULT_WIDTH, max_corners: int = 100, min_points: int = 20,
                 min_inliers: int = 15, min_inlier_ratio: float = 0.5, fb_error: float = 0.5,
                 ransac_px: float = 1.0, max_zoom: float = 0.2):
        if width < 32:
            raise ValueError(f"width must be at least 32 pixels, got {width}")
        if not 0 < min_inlier_ratio <= 1:
            raise ValueError(f"min_inlier_ratio must be in (0, 1], got {min_inlier_ratio}")
        self.width = int(width)
        self.max_corners = int(max_corners)
        self.min_points = max(3, int(min_points))
        self.min_inliers = max(3, int(min_inliers))
        self.min_inlier_ratio = float(min_inlier_ratio)
        self.fb_error = float(fb_error)
        """Forward-backward tracking error (analysed pixels) above which a point is dropped."""
        self.ransac_px = float(ransac_px)
        """RANSAC inlier distance, in analysed pixels."""
        self.max_zoom = float(max_zoom)
        """A frame-to-frame zoom beyond 1 +- this is not a camera motion (a cut, or a bad fit)."""
        self._prev: np.ndarray | None = None
        self._prev_size: tuple[int, int] | None = None

    def reset(self) -> None:
        """Forget the previous frame (the next frame starts afresh, not ``ok``)."""
        self._prev = None
        self._prev_size = None

    def update(self, image: np.ndarray) -> tuple[np.ndarray, bool]:
        """The transform from the previous frame to ``image``, and whether it can be trusted."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {image.shape} {image.dtype}")
        h, w = image.shape[:2]
        grey, k = self._grey(image)
        prev, prev_size = self._prev, self._prev_size
        self._prev, self._prev_size = grey, (w, h)
        if prev is None or prev_size != (w, h):
            return identity(), False
        small = self._estimate(prev, grey)
        if small is None:
            return identity(), False
        return _to_full(small, k), True

    # -- internals ---------------------------------------------------------------------------
    def _grey(self, image: np.ndarray) -> tuple[np.ndarray, int]:
        """Grey, shrunk by the smallest whole factor ``k`` that brings it to at most ``width`` (720p -> 320 px
        wide, 1080p -> 384). A whole factor takes OpenCV's fast area-averaging path; the last ``< k`` rows and
        columns are left out so that it divides exactly."""
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        h, w = grey.shape
        k = -(-w // self.width)
        if k > 1 and h >= k:
            sw, sh = w // k, h // k
            grey = cv2.resize(grey[:sh * k, :sw * k], (sw, sh), interpolation=cv2.INTER_AREA)
        else:
            k = 1
        return grey, k

    def _estimate(self, prev: np.ndarray, cur: np.ndarray) -> np.ndarray | None:
        """The 2x3 similarity in analysed pixels, or None when it is not trustworthy."""
        pts = cv2.goodFeaturesToTrack(prev, maxCorners=self.max_corners, qualityLevel=0.01, minDistance=7,
                                      blockSize=7)
        if pts is None or len(pts) < self.min_points:
            log.debug("camera motion: %d features (flat frame)", 0 if pts is None else len(pts))
            return None
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, **_LK)
        back, st_back, _ = cv2.calcOpticalFlowPyrLK(cur, prev, nxt, None, **_LK)
        fb = np.linalg.norm((back - pts).reshape(-1, 2), axis=1)
        good = (st.reshape(-1) == 1) & (st_back.reshape(-1) == 1) & (fb < self.fb_error)
        p0, p1 = pts.reshape(-1, 2)[good], nxt.reshape(-1, 2)[good]
        if len(p0) < self.min_points:
            log.debug("camera motion: %d of %d features tracked", len(p0), len(pts))
            return None
        m, inliers = cv2.estimateAffinePartial2D(p0, p1, method=cv2.RANSAC, ransacReprojThreshold=self.ransac_px,
                                                 maxIters=500, confidence=0.995, refineIters=10)
        if m is None or inliers is None:
            return None
        n_in = int(inliers.sum())
        if n_in < self.min_inliers or n_in < self.min_inlier_ratio * len(p0):
            log.debug("camera motion: %d of %d tracked features agree", n_in, len(p0))
            return None
        zoom = math.sqrt(abs(float(np.linalg.det(m[:, :2]))))
        if not np.all(np.isfinite(m)) or abs(zoom - 1) > self.max_zoom:
            log.debug("camera motion: implausible zoom %.3f", zoom)
            return None
        return m.astype(np.float64)


def _to_full(m: np.ndarray, k: int) -> np.ndarray:
    """``m`` (pixels of the picture shrunk ``k`` times) in full-frame pixels; area-averaging by ``k`` maps a
    full-frame ``x`` to ``(x + 0.5) / k - 0.5``."""
    if k == 1:
        return m
    s = 1.0 / k
    p = np.array([[s, 0, 0.5 * s - 0.5], [0, s, 0.5 * s - 0.5], [0, 0, 1]])
    return (np.linalg.inv(p) @ _h(m) @ p)[:2]


def _h(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


def _compose(second: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The 2x3 affine transform doing ``first``, then ``second`` (both 2x3)."""
    out = second[:, :2] @ first
    out[:, 2] += second[:, 2]
    return out


class MotionPath:
    """Per-frame camera transforms of one clip, chained so boxes can be carried between frames.

    :meth:`add` each frame's transform (from the frame before it) in frame order. Internally each frame keeps
    its transform from the first frame of its *segment*, a run of frames linked by reliable transforms; a frame
    whose transform was not ``ok`` starts a new segment. Memory: 13 numbers per frame (the transform, its inverse, the
    segment).
    """

    def __init__(self) -> None:
        self._cum = np.zeros((0, 2, 3))
        self._inv = np.zeros((0, 2, 3))  # each _cum inverted, once (map_box runs for every carried box)
        self._seg = np.zeros((0,), np.int64)
        self._n = 0
        self._segments = 0

    def __len__(self) -> int:
        return self._n

    def add(self, frame: int, transform: np.ndarray | None, ok: bool) -> None:
        """Frame ``frame``'s transform from frame ``frame - 1``. Frames skipped in between count as unreliable,
        and so does this one then (its transform was measured from an earlier frame than ``frame - 1``)."""
        if frame < self._n:
            raise ValueError(f"frames must be added in increasing order: {frame} after {self._n - 1}")
        skipped = frame > self._n
        while self._n < frame:
            self._append(None)
        t = None
        if ok and transform is not None and self._n > 0 and not skipped:
            t = np.asarray(transform, dtype=np.float64)
            det = float(np.linalg.det(t[:, :2])) if t.shape == (2, 3) else float("nan")
            if t.shape != (2, 3) or not np.all(np.isfinite(t)) or not 0.1 < det < 10:
                log.debug("frame %d: unusable camera transform ignored", frame)
                t = None
        self._append(t)

    def reliable(self, a: int, b: int) -> bool:
        """Whether every transform between frames ``a`` and ``b`` is known (both added, same segment)."""
        return 0 <= a < self._n and 0 <= b < self._n and self._seg[a] == self._seg[b]

    def transform(self, a: int, b: int) -> np.ndarray | None:
        """The 2x3 transform taking frame ``a``'s pixels to frame ``b``'s (either order), or None if unreliable."""
        if not self.reliable(a, b):
            return None
        return _compose(self._cum[b], self._inv[a])

    def map_box(self, box: np.ndarray, a: int, b: int) -> np.ndarray | None:
        """``[x1, y1, x2, y2]`` seen in frame ``a``, where it is in frame ``b``: the axis-aligned box around its
        four mapped corners (not clipped to the frame). None if the motion in between is unreliable."""
        t = self.transform(a, b)
        if t is None:
            return None
        (a00, a01, a02), (a10, a11, a12) = t.tolist()
        x1, y1, x2, y2 = (float(v) for v in box[:4])
        xs = [a00 * x + a01 * y + a02 for x, y in ((x1, y1), (x2, y1), (x1, y2), (x2, y2))]
        ys = [a10 * x + a11 * y + a12 for x, y in ((x1, y1), (x2, y1), (x1, y2), (x2, y2))]
        return np.array([min(xs), min(ys), max(xs), max(ys)])

    def _append(self, t: np.ndarray | None) -> None:
        if self._n == len(self._cum):
            grow = max(256, len(self._cum))
            self._cum = np.concatenate([self._cum, np.zeros((grow, 2, 3))])
            self._inv = np.concatenate([self._inv, np.zeros((grow, 2, 3))])
            self._seg = np.concatenate([self._seg, np.zeros(grow, np.int64)])
        if t is None:
            self._segments += 1
            self._cum[self._n] = identity()
        else:
            self._cum[self._n] = _compose(t, self._cum[self._n - 1])
        self._inv[self._n] = cv2.invertAffineTransform(self._cum[self._n])
        self._seg[self._n] = self._segments
        self._n += 1
