"""Which YUV<->RGB matrix to use, so decoding and re-encoding round-trip colours.

The reader converts every frame to RGB with the matrix the stream declares (or, when it
declares none, the one players assume: BT.709 from 720 lines up, BT.601 below). The writer
converts back with the same matrix, writes limited range, and tags the output with it (plus
the source's primaries and transfer), so the output displays like the source.

The writer's YUV fast path (:mod:`redact.io.yuv`) converts nothing: pixels keep the source's
matrix *and* range, and the output is tagged with both. :func:`rgb_to_yuv` gives the Y/U/V of
an RGB colour (a fill colour) in a frame's own matrix and range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# AVColorSpace -> swscale colorspace (SWS_CS_*).
_AVCOL_TO_SWS = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}
# swscale colorspace -> AVColorSpace we tag the output with.
_SWS_TO_AVCOL = {1: 1, 4: 4, 5: 6, 7: 7, 9: 9}
SWS_BT709 = 1
SWS_BT601 = 5
AVCOL_RANGE_MPEG = 1
AVCOL_RANGE_JPEG = 2
AVCOL_UNSPECIFIED = 2
# swscale colorspace -> (Kr, Kb) luma weights of its YCbCr matrix.
_SWS_KR_KB = {1: (0.2126, 0.0722), 4: (0.30, 0.11), 5: (0.299, 0.114), 7: (0.212, 0.087), 9: (0.2627, 0.0593)}


@dataclass(frozen=True)
class ColourPlan:
    sws_matrix: int  # SWS_CS_* used for both directions
    matrix_tag: int  # AVColorSpace for the output
    primaries: int  # AVColorPrimaries copied from the source (2 = unspecified)
    transfer: int  # AVColorTransferCharacteristic copied from the source
    full_range: bool = False  # the decoded YUV is full range (yuvj*, or tagged so); RGB outputs are limited


def _valid(value: Any, low: int, high: int) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError):
        return AVCOL_UNSPECIFIED
    return v if low <= v <= high and v not in (0, 3) else AVCOL_UNSPECIFIED


def plan_for(codec_context: Any, coded_height: int, pix_fmt: str | None = None) -> ColourPlan:
    """Matrix and tags for a decoded video stream (``stream.codec_context``); ``pix_fmt`` is the
    decoded frames' format when known (``MediaInfo.pix_fmt``), for the range."""
    sws = _AVCOL_TO_SWS.get(int(getattr(codec_context, "colorspace", AVCOL_UNSPECIFIED) or AVCOL_UNSPECIFIED))
    if sws is None:
        sws = SWS_BT709 if coded_height >= 720 else SWS_BT601
    return ColourPlan(
        sws_matrix=sws,
        matrix_tag=_SWS_TO_AVCOL[sws],
        primaries=_valid(getattr(codec_context, "color_primaries", None), 1, 22),
        transfer=_valid(getattr(codec_context, "color_trc", None), 1, 18),
        full_range=(pix_fmt or "").startswith("yuvj") or _range(codec_context) == AVCOL_RANGE_JPEG,
    )


def _range(codec_context: Any) -> int:
    try:
        return int(getattr(codec_context, "color_range", 0) or 0)
    except (TypeError, ValueError):
        return 0


def rgb_to_yuv(rgb: tuple[int, int, int], sws_matrix: int, full_range: bool) -> tuple[int, int, int]:
    """8-bit (Y, U, V) of an 8-bit RGB colour with the matrix ``sws_matrix`` (SWS_CS_*) and range."""
    kr, kb = _SWS_KR_KB.get(sws_matrix, _SWS_KR_KB[SWS_BT709])
    r, g, b = (c / 255.0 for c in rgb)
    y = kr * r + (1.0 - kr - kb) * g + kb * b
    cb, cr = (b - y) / (2.0 * (1.0 - kb)), (r - y) / (2.0 * (1.0 - kr))
    scale_y, scale_c, off_y = (255.0, 255.0, 0.0) if full_range else (219.0, 224.0, 16.0)
    values = (off_y + scale_y * y, 128.0 + scale_c * cb, 128.0 + scale_c * cr)
    return tuple(int(min(255, max(0, round(v)))) for v in values)  # type: ignore[return-value]
