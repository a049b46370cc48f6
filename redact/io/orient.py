"""Display orientation: from a video display matrix or an EXIF orientation to pixel operations.

An :class:`Orientation` is the operation that turns a coded (stored) frame into the frame as a
player displays it. For video it follows FFmpeg's own auto-rotation (``fftools`` ``-autorotate``):
the display matrix's rotation and flips map onto one of the eight square symmetries.
"""

from __future__ import annotations

import logging
import math
import struct
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

# Operations on an HxW image (numpy, rows = y).
_OPS = ("none", "cw", "ccw", "180", "hflip", "vflip", "transpose", "antitranspose")


@dataclass(frozen=True)
class Orientation:
    op: str = "none"
    rotation: int = 0
    """Clockwise degrees the coded frame is rotated by for display (0/90/180/270)."""

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"unknown orientation op {self.op!r}")

    @property
    def swaps_axes(self) -> bool:
        return self.op in ("cw", "ccw", "transpose", "antitranspose")

    def display_size(self, width: int, height: int) -> tuple[int, int]:
        return (height, width) if self.swaps_axes else (width, height)

    def apply(self, img: np.ndarray) -> np.ndarray:
        """Return ``img`` (H x W x C) in display orientation, C-contiguous."""
        op = self.op
        if op == "none":
            out = img
        elif op == "cw":
            out = np.rot90(img, k=-1)
        elif op == "ccw":
            out = np.rot90(img, k=1)
        elif op == "180":
            out = img[::-1, ::-1]
        elif op == "hflip":
            out = img[:, ::-1]
        elif op == "vflip":
            out = img[::-1]
        elif op == "transpose":
            out = np.swapaxes(img, 0, 1)
        else:  # antitranspose
            out = np.swapaxes(img, 0, 1)[::-1, ::-1]
        return np.ascontiguousarray(out)


NONE = Orientation()


def _rotation_ccw(m: tuple[int, ...]) -> float:
    """``av_display_rotation_get``: counter-clockwise degrees of a 16.16 display matrix."""
    scale0 = math.hypot(m[0] / 65536.0, m[3] / 65536.0)
    scale1 = math.hypot(m[1] / 65536.0, m[4] / 65536.0)
    if scale0 == 0.0 or scale1 == 0.0:
        return float("nan")
    return -math.degrees(math.atan2(m[1] / 65536.0 / scale1, m[0] / 65536.0 / scale0))


def from_display_matrix(raw: bytes | None) -> Orientation:
    """Orientation for a 36-byte ``AV_FRAME_DATA_DISPLAYMATRIX`` (``None``: upright)."""
    if raw is None or len(raw) < 36:
        return NONE
    m = struct.unpack("<9i", bytes(raw[:36]))
    ccw = _rotation_ccw(m)
    if math.isnan(ccw):
        log.warning("ignoring a degenerate display matrix %s", m)
        return NONE
    theta = -round(ccw)  # clockwise degrees, as fftools get_rotation()
    theta -= 360 * math.floor(theta / 360 + 0.9 / 360)
    near = int(round(theta / 90.0)) * 90 % 360
    if abs(((theta - near) + 180) % 360 - 180) >= 1.0:
        log.warning("display rotation %.1f degrees is not a multiple of 90; using %d", theta, near)
    # Same decisions as fftools/ffmpeg_filter.c (transpose / hflip / vflip).
    if near == 90:
        return Orientation("transpose" if m[3] > 0 else "cw", 90)
    if near == 180:
        h, v = m[0] < 0, m[4] < 0
        op = "180" if h and v else "hflip" if h else "vflip" if v else "none"
        return Orientation(op, 180)
    if near == 270:
        return Orientation("antitranspose" if m[3] < 0 else "ccw", 270)
    return Orientation("vflip" if m[4] < 0 else "none", 0)


# EXIF orientation tag (0x0112) -> operation, as PIL.ImageOps.exif_transpose applies it.
_EXIF = {
    1: Orientation("none", 0),
    2: Orientation("hflip", 0),
    3: Orientation("180", 180),
    4: Orientation("vflip", 180),
    5: Orientation("transpose", 90),
    6: Orientation("cw", 90),
    7: Orientation("antitranspose", 270),
    8: Orientation("ccw", 270),
}


def from_exif(value: object) -> Orientation:
    try:
        return _EXIF.get(int(value), NONE)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return NONE
