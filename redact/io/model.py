"""Plain data the I/O layer hands out: what a file is, one decoded frame, what was written."""

from __future__ import annotations

import fractions
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class MediaInfo:
    """What :func:`redact.io.probe` learnt about an input, without decoding it all."""

    path: str
    kind: str  # "video" | "image"
    width: int  # displayed size (rotation applied)
    height: int
    rotation: int  # clockwise degrees the coded frames are rotated by for display: 0/90/180/270
    fps: float  # average frame rate, 0.0 if unknown (images: 0.0)
    frames: int | None  # frame count from the container index, None if it has none
    duration: float | None  # seconds
    video_codec: str  # e.g. "h264", "hevc", "jpeg"
    audio: list[dict[str, Any]] = field(default_factory=list)  # codec, channels, sample_rate
    container: str = ""  # format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "jpeg"
    coded_width: int = 0  # size of the stored frames, before rotation
    coded_height: int = 0
    pix_fmt: str | None = None  # decoder pixel format ("yuv420p", "yuv420p10le", ...) or Pillow mode
    time_base: fractions.Fraction | None = None  # of the video stream
    first_frame_time: fractions.Fraction | None = None  # presentation time (s) of the first decoded video frame
    subtitle_streams: int = 0  # dropped on output
    data_streams: int = 0  # dropped on output (e.g. timed metadata / GPS tracks)
    start_offset: float = 0.0  # seconds the output's timestamps are moved back by: the player's clock starts here

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["time_base"] = str(self.time_base) if self.time_base is not None else None
        d["first_frame_time"] = str(self.first_frame_time) if self.first_frame_time is not None else None
        d["fps"] = round(float(self.fps), 6)
        if self.duration is not None:
            d["duration"] = round(float(self.duration), 6)
        d["audio"] = [dict(a) for a in self.audio]
        return d


@dataclass
class Frame:
    """One decoded frame, in display orientation.

    For streams without timestamps (raw ``.h264``/``.h265``) ``pts``/``time`` are synthesised from
    the frame rate, exactly as :func:`redact.io.write_video` will write them.
    """

    index: int  # 0-based decode (= presentation) order
    image: np.ndarray  # H x W x 3 uint8 RGB, C-contiguous, display orientation
    time: float | None  # presentation time in seconds
    pts: int | None
    time_base: fractions.Fraction | None

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


@dataclass
class YuvFrame:
    """One decoded 8-bit 4:2:0 frame as planes, in display orientation: what
    :func:`redact.io.write_video` hands ``process_yuv`` on its fast path (no RGB conversion).

    ``planes`` are Y (H x W) and U, V (H/2 x W/2), uint8, C-contiguous, owned by the frame (safe
    to change in place). Their values are in the source's matrix (``matrix``, SWS_CS_*) and range
    (``full_range``); :func:`redact.io.colour.rgb_to_yuv` converts a colour to match. Index and
    timestamps follow the same rules as :class:`Frame`.
    """

    index: int
    planes: tuple[np.ndarray, np.ndarray, np.ndarray]
    time: float | None
    pts: int | None
    time_base: fractions.Fraction | None
    matrix: int
    full_range: bool

    @property
    def height(self) -> int:
        return int(self.planes[0].shape[0])

    @property
    def width(self) -> int:
        return int(self.planes[0].shape[1])


@dataclass
class WriteResult:
    frames: int
    truncated: bool
    error: str | None
    audio: str  # "copied" | "reencoded" | "stripped" | "none"
    width: int  # size of the encoded output (odd display sizes are padded to even for video)
    height: int
    padded: tuple[int, int] = (0, 0)  # (columns added on the right, rows added at the bottom)
    retimed: int = 0  # frames whose timestamp had to be moved to keep timestamps increasing
    time_offset: float = 0.0  # seconds subtracted from every input timestamp (input started after 0)
    pixels: str = "rgb"  # how frames went through: "rgb" (process) or "yuv420p" (process_yuv fast path)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["padded"] = list(self.padded)
        return d
