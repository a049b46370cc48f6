"""Which YUV<->RGB matrix to use, so decoding and re-encoding round-trip colours.

The reader converts every frame to RGB with the matrix the stream declares (or, when it
declares none, the one players assume: BT.709 from 720 lines up, BT.601 below). The writer
converts back with the same matrix, writes limited range, and tags the output with it (plus
the source's primaries and transfer), so the output displays like the source.
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
AVCOL_UNSPECIFIED = 2


@dataclass(frozen=True)
class ColourPlan:
    sws_matrix: int  # SWS_CS_* used for both directions
    matrix_tag: int  # AVColorSpace for the output
    primaries: int  # AVColorPrimaries copied from the source (2 = unspecified)
    transfer: int  # AVColorTransferCharacteristic copied from the source


def _valid(value: Any, low: int, high: int) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError):
        return AVCOL_UNSPECIFIED
    return v if low <= v <= high and v not in (0, 3) else AVCOL_UNSPECIFIED


def plan_for(codec_context: Any, coded_height: int) -> ColourPlan:
    """Matrix and tags for a decoded video stream (``stream.codec_context``)."""
    sws = _AVCOL_TO_SWS.get(int(getattr(codec_context, "colorspace", AVCOL_UNSPECIFIED) or AVCOL_UNSPECIFIED))
    if sws is None:
        sws = SWS_BT709 if coded_height >= 720 else SWS_BT601
    return ColourPlan(
        sws_matrix=sws,
        matrix_tag=_SWS_TO_AVCOL[sws],
        primaries=_valid(getattr(codec_context, "color_primaries", None), 1, 22),
        transfer=_valid(getattr(codec_context, "color_trc", None), 1, 18),
    )
