"""The writer's YUV fast path: 8-bit 4:2:0 frames as numpy planes, no RGB round trip.

Most phone clips decode to ``yuv420p`` (or full-range ``yuvj420p``) and are re-encoded as
``yuv420p``: converting to RGB and back costs more than redacting and changes every pixel a
little. On this path the decoded planes are copied out in display orientation (the reader's
:class:`~redact.io.orient.Orientation` applies to a plane as to an image), handed to the caller
and encoded as they come back, with the source's matrix and range kept as they are.

Only inputs whose frames are plain 8-bit 4:2:0 with an even display size take it (see
:func:`supports`); everything else (10-bit, 4:2:2/4:4:4, RGB GIFs, odd sizes) keeps the RGB path.
"""

from __future__ import annotations

from typing import Any, Sequence

import av
import numpy as np

from ..errors import InputError
from .colour import AVCOL_RANGE_JPEG, AVCOL_RANGE_MPEG
from .model import MediaInfo
from .orient import Orientation

PIX_FMTS = ("yuv420p", "yuvj420p")
Planes = tuple[np.ndarray, np.ndarray, np.ndarray]


def supports(info: MediaInfo) -> bool:
    """Whether a video's frames can go through as planes (8-bit 4:2:0, even display size)."""
    return (
        info.kind == "video"
        and info.pix_fmt in PIX_FMTS
        and info.width > 0
        and info.height > 0
        and info.width % 2 == 0
        and info.height % 2 == 0
    )


def _plane_view(vf: Any, index: int) -> np.ndarray:
    plane = vf.planes[index]
    stride, width, height = plane.line_size, plane.width, plane.height
    if stride < width:  # negative or short line sizes: never from a decoder, refuse rather than guess
        raise InputError(f"unexpected frame layout (plane {index}: line size {stride}, width {width})")
    return np.frombuffer(plane, np.uint8, count=stride * height).reshape(height, stride)[:, :width]


def display_planes(vf: Any, orientation: Orientation) -> Planes:
    """Y, U, V of a decoded 4:2:0 frame in display orientation, as owned C-contiguous copies
    (the decoder's buffers may be reference frames: they are never handed out or written)."""
    out = []
    for i in range(3):
        view = _plane_view(vf, i)
        plane = orientation.apply(view)
        if np.may_share_memory(plane, view):
            plane = plane.copy()
        out.append(plane)
    return out[0], out[1], out[2]


def check_planes(planes: object, height: int, width: int) -> Planes:
    """Validate what a ``process_yuv`` callback returned: Y (H x W), U and V (H/2 x W/2), uint8."""
    if not isinstance(planes, (tuple, list)) or len(planes) != 3:
        raise TypeError(f"process_yuv must return three planes (Y, U, V), got {type(planes).__name__}")
    shapes = ((height, width), ((height + 1) // 2, (width + 1) // 2), ((height + 1) // 2, (width + 1) // 2))
    for name, plane, shape in zip("YUV", planes, shapes):
        if not isinstance(plane, np.ndarray) or plane.dtype != np.uint8 or plane.shape != shape:
            got = f"{plane.shape} {plane.dtype}" if isinstance(plane, np.ndarray) else type(plane).__name__
            raise ValueError(f"process_yuv must return a {shape[0]}x{shape[1]} uint8 {name} plane, got {got}")
    return planes[0], planes[1], planes[2]


def planes_frame(planes: Sequence[np.ndarray], full_range: bool) -> Any:
    """A new ``yuv420p`` :class:`av.VideoFrame` holding a copy of ``planes``."""
    height, width = planes[0].shape
    vf = av.VideoFrame(width, height, "yuv420p")
    for plane, src in zip(vf.planes, planes):
        dst = np.frombuffer(plane, np.uint8, count=plane.line_size * plane.height)  # type: ignore[call-overload]
        dst.reshape(plane.height, plane.line_size)[:, : plane.width] = src
    vf.color_range = AVCOL_RANGE_JPEG if full_range else AVCOL_RANGE_MPEG
    return vf
