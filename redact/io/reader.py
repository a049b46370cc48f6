"""Decode frames in display orientation. One decode path serves both the scan (FrameSource) and
the writer (write_video), so frame indices and timestamps always agree between the two.
"""

from __future__ import annotations

import contextlib
import fractions
import logging
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
from av.video.reformatter import Interpolation

from ..errors import InputError
from . import colour
from . import image as image_io
from . import yuv
from .model import Frame, MediaInfo, YuvFrame
from .orient import Orientation
from .probe import (
    AV_ERRORS,
    check_video_size,
    one_line,
    check_input_path,
    frame_orientation,
    open_container,
    pick_video_stream,
    probe,
    stream_frame_count,
)

log = logging.getLogger(__name__)

_DEFAULT_FPS = 25.0  # FFmpeg's own guess for raw streams without timing
# swscale's default YUV 4:2:0 -> RGB path is about one level too dark on average (fast, low
# precision); re-encoding would bake that into every output. Accurate rounding with full chroma
# interpolation is unbiased, for about 8 ms more per 1080p frame.
_TO_RGB = Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT


class VideoDecoder:
    """Turns the packets of one video stream into :class:`Frame` objects.

    Rules (shared by reading and writing): frames come out in presentation order and are
    numbered from 0; missing timestamps are synthesised from the frame rate and timestamps are
    forced to increase (a repeat is moved one tick later; counted in ``retimed``); the
    orientation of the first frame applies to all; a frame whose coded size differs from the
    first one is scaled to it. The first demux/decode error stops decoding: with
    ``allow_truncated`` the frames so far stand and ``truncated``/``error`` say why, otherwise
    :class:`InputError` is raised.

    With ``planes=True`` (only for inputs :func:`redact.io.yuv.supports`) frames come out as
    :class:`YuvFrame` (the decoded planes, no RGB conversion); everything else is the same.
    """

    def __init__(
        self, stream: Any, info: MediaInfo, *, allow_truncated: bool, expected_packets: int | None, planes: bool = False
    ):
        if planes and not yuv.supports(info):
            raise ValueError(f"frames of {info.pix_fmt} {info.width}x{info.height} cannot be handed out as planes")
        self.stream = stream
        self.planes = planes
        self.colour = colour.plan_for(stream.codec_context, info.coded_height, info.pix_fmt)
        self.info = info
        self.allow_truncated = allow_truncated
        self.expected_packets = expected_packets
        tb = stream.time_base
        self.time_base = fractions.Fraction(tb.numerator, tb.denominator) if tb else fractions.Fraction(1, 90000)
        fps = info.fps if info.fps > 0 else _DEFAULT_FPS
        self._step = max(1, round(1 / (fps * self.time_base)))
        self.index = 0
        self.packets = 0
        self.retimed = 0
        self.stopped = False
        self.truncated = False
        self.error: str | None = None
        self._last_pts: int | None = None
        self._last_corrupt = False
        self._orientation: Orientation | None = None
        self._size = (0, 0)  # the stream's first frame's (set with the orientation)

    # -- packets -> frames ------------------------------------------------------------------
    def decode(self, packet: Any) -> list[Frame | YuvFrame]:
        if self.stopped:
            return []
        if packet.size:
            self.packets += 1
            self._last_corrupt = bool(packet.is_corrupt)
        try:
            raw = packet.decode()
        except AV_ERRORS as e:
            return self.fail(e)
        return [self._frame(f) for f in raw]

    def fail(self, exc: BaseException) -> list[Frame | YuvFrame]:
        """Stop at a demux/decode error; return the frames still buffered in the decoder (with frame threading
        these include frames after the damaged one, so the count in the message is taken after draining)."""
        try:
            raw = list(self.stream.codec_context.decode(None))
        except AV_ERRORS:
            raw = []
        self._stop(f"decoding stopped after {self.index + len(raw)} frames: {one_line(exc)}")
        return [self._frame(f) for f in raw]

    def finish(self) -> None:
        """Call after the last packet: detects a stream that ended silently before its index did."""
        if self.stopped:
            return
        if self._last_corrupt:
            self._stop(f"the stream ends with a damaged packet after {self.index} frames")
        elif self.expected_packets is not None and self.packets < self.expected_packets:
            self._stop(
                f"the file ends early: {self.packets} of {self.expected_packets} video packets present, "
                f"{self.index} frames decoded"
            )

    def _stop(self, reason: str) -> None:
        self.stopped = True
        if not self.allow_truncated:
            raise InputError(f"input is truncated or corrupt ({reason}): {self.info.path}")
        log.warning("%s: input is truncated or corrupt: %s", self.info.path, reason)
        self.truncated = True
        self.error = reason

    # -- one frame --------------------------------------------------------------------------
    def _timestamp(self, vf: Any) -> int:
        pts = vf.pts
        if pts is None:
            pts = vf.dts
        if pts is None:
            pts = 0 if self._last_pts is None else self._last_pts + (vf.duration or self._step)
        if self._last_pts is not None and pts <= self._last_pts:
            if vf.pts is not None:
                self.retimed += 1
                log.debug("frame %d: timestamp %s does not increase; moved to %s", self.index, pts, self._last_pts + 1)
            pts = self._last_pts + 1
        self._last_pts = pts
        return int(pts)

    def _rgb(self, vf: Any) -> np.ndarray:
        """RGB pixels; transparent pixels (GIF, alpha codecs) are composited over white, as for images."""
        fmt = vf.format
        if not (fmt.has_palette or len(fmt.components) in (2, 4)):
            return vf.to_ndarray(format="rgb24", src_colorspace=self.colour.sws_matrix, interpolation=_TO_RGB)
        rgba = vf.to_ndarray(format="rgba", src_colorspace=self.colour.sws_matrix, interpolation=_TO_RGB)
        alpha = rgba[..., 3:4].astype(np.float32) / 255.0
        return (rgba[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)

    def _frame(self, vf: Any) -> Frame | YuvFrame:
        if self._orientation is None:
            self._orientation = frame_orientation(vf)
            self._size = (vf.width, vf.height)
        elif (vf.width, vf.height) != self._size:
            check_video_size(vf.width, vf.height, self.info.path)
            log.warning(
                "frame %d is %dx%d, the stream started at %dx%d: scaling it", self.index, vf.width, vf.height, *self._size
            )
            vf = vf.reformat(width=self._size[0], height=self._size[1])
        pts = self._timestamp(vf)
        time = float(pts * self.time_base)
        frame: Frame | YuvFrame
        if self.planes:
            if vf.format.name != self.info.pix_fmt:  # a mid-stream format change: back to the stream's format
                log.warning("frame %d is %s, the stream started as %s: converting it", self.index, vf.format.name,
                            self.info.pix_fmt)
                vf = vf.reformat(format=self.info.pix_fmt)
            planes = yuv.display_planes(vf, self._orientation)
            frame = YuvFrame(self.index, planes, time, pts, self.time_base, self.colour.sws_matrix, self.colour.full_range)
        else:
            image = self._orientation.apply(self._rgb(vf))
            frame = Frame(index=self.index, image=image, time=time, pts=pts, time_base=self.time_base)
        self.index += 1
        return frame


def run_demux(
    container: Any,
    decoder: VideoDecoder,
    other_streams: Iterable[Any] = (),
    on_packet: Callable[[Any], None] | None = None,
) -> Iterator[Frame | YuvFrame]:
    """Demux the decoder's stream (plus ``other_streams``, handed to ``on_packet``) and yield frames."""
    video = decoder.stream
    streams = [video, *other_streams]
    packets = container.demux(streams)
    while not decoder.stopped:
        try:
            packet = next(packets)
        except StopIteration:
            break
        except AV_ERRORS as e:
            yield from decoder.fail(e)
            break
        if packet.stream.index == video.index:
            yield from decoder.decode(packet)
        elif on_packet is not None:
            on_packet(packet)
    decoder.finish()


def open_decoder(container: Any, info: MediaInfo, *, allow_truncated: bool, planes: bool = False) -> VideoDecoder:
    stream = pick_video_stream(container, info.path)
    stream.thread_type = "AUTO"
    return VideoDecoder(
        stream,
        info,
        allow_truncated=allow_truncated,
        expected_packets=stream_frame_count(container, stream),
        planes=planes,
    )


class FrameSource:
    """Iterate the frames of a video or an image (one frame) in display orientation.

    ``with FrameSource(path) as src: for frame in src: ...``. After iteration ``truncated`` and
    ``error`` say whether decoding stopped early; ``frames_read`` counts the frames yielded.
    """

    def __init__(self, path: str | os.PathLike[str], *, allow_truncated: bool = True):
        self.path = Path(path)
        self.allow_truncated = allow_truncated
        self.info: MediaInfo = probe(self.path)
        self.truncated = False
        self.error: str | None = None
        self.frames_read = 0
        self.retimed = 0
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the decoder (also ends an iteration in progress)."""
        self._stack.close()

    def __iter__(self) -> Iterator[Frame]:
        self.truncated, self.error, self.frames_read = False, None, 0
        if self.info.kind == "image":
            check_input_path(self.path)
            frame = image_io.image_frame(self.path)
            self.frames_read = 1
            yield frame
            return
        self.close()
        stack = self._stack = contextlib.ExitStack()
        with stack:
            container = stack.enter_context(open_container(self.path))
            decoder = open_decoder(container, self.info, allow_truncated=self.allow_truncated)
            for decoded in run_demux(container, decoder):
                assert isinstance(decoded, Frame)  # a decoder opened without planes gives RGB frames
                self.frames_read += 1
                self.truncated, self.error = decoder.truncated, decoder.error
                yield decoded
            self.truncated, self.error, self.retimed = decoder.truncated, decoder.error, decoder.retimed
            if self.frames_read == 0:
                raise InputError(f"input has no decodable video frames: {self.path}")


def read_frames(path: str | os.PathLike[str], *, allow_truncated: bool = True) -> list[np.ndarray]:
    """All frames' images as a list (small inputs and tests only)."""
    with FrameSource(path, allow_truncated=allow_truncated) as src:
        return [f.image for f in src]
