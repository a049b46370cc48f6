"""Re-encode a video through a per-frame ``process`` callback into a clean, upright MP4.

Output: H.264 (libx264, yuv420p) in MP4 with ``+faststart``; pixels already in display
orientation (no display matrix); every frame keeps its own timestamp (variable frame rate stays
variable, nothing dropped or duplicated; only a non-MP4 input's positive start time, as in
MPEG-TS, is moved to 0 for all streams alike); audio copied bit-exact, re-encoded to AAC or dropped;
subtitle, data and attachment streams dropped; no container or stream metadata copied (no GPS,
make/model, creation time, chapters). Odd display sizes are padded to even by repeating the last
column/row of the *processed* image (nothing of the picture is lost, nothing unprocessed added).

Two ways through for the pixels: RGB (``process`` gets display-oriented RGB, converted back with
the source's matrix, written limited range) and, for 8-bit 4:2:0 inputs of even size when the
caller offers ``process_yuv``, the YUV fast path (:mod:`redact.io.yuv`: the decoded planes go to
the callback and are encoded as they come back, with the source's matrix and range: no colour
conversion at all, about 15 ms less per 720p frame).

Rate control (:func:`rate_options`): by default (``crf=None``) the copy follows the source's video bitrate:
x264 CRF :data:`AUTO_CRF` under a VBV cap that holds the copy's video to about :data:`FOLLOW_RATE` x the
source's and at most :data:`MAX_RATIO` x (the rate floored at :data:`MIN_BITS_PER_PIXEL`), not 2-4x
(plain CRF 18 spends bits reproducing the source's own compression noise and the redacted regions' changes from
frame to frame). Where CRF 18 fits under the cap, it decides. An explicit ``crf`` is the caller's choice: plain
CRF, not capped. Sizes and the PSNR of the untouched pixels are measured in ``benchmarks/size.py``.
"""

from __future__ import annotations

import errno
import fractions
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import av
import numpy as np
from av.video.reformatter import Interpolation

from ..errors import InputError, OutputError
from . import yuv
from .atomic import atomic_path, check_unchanged, same_file
from .audio import AUDIO_MODES, AudioOut
from .colour import AVCOL_RANGE_JPEG, AVCOL_RANGE_MPEG, ColourPlan
from .image import check_processed
from .model import Frame, MediaInfo, WriteResult, YuvFrame
from .probe import AV_ERRORS, one_line, open_container, probe, start_offset
from .reader import VideoDecoder, open_decoder, run_demux

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov")
# Accurate rounding and area-averaged chroma: with the reader's unbiased conversion a decode ->
# encode round trip keeps colours (about 54 dB after two generations on natural footage).
_TO_YUV = Interpolation.AREA | Interpolation.ACCURATE_RND
X264_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo",
)


AUTO_CRF = 18
"""Quality ceiling of the default rate control (``crf=None``): x264's CRF, capped near the source's bitrate."""
FOLLOW_RATE = 1.25
"""Size of the copy's video the default rate control aims at, as a multiple of the source's video: where CRF 18
would want more, the copy comes out at about 1.1-1.25x the source's (x264 stays a little under its VBV cap)."""
MAX_RATIO = 1.3
"""Bound on the copy's video against the source's: the most the VBV settings let through, whatever x264 does
(unless the floor MIN_BITS_PER_PIXEL is above it)."""
VBV_SECONDS = 0.5
"""VBV buffer, in seconds at the max rate (more where the source has larger frames, see :func:`rate_options`):
room for motion, while over the clip the rate stays at the max."""
MIN_BITS_PER_PIXEL = 0.01
"""Floor of the cap, in bits per displayed pixel and frame (about 280 kb/s at 720p30, 620 kb/s at 1080p30; the
sample is at 0.02): a source encoded lower than that (a screen recording, a still scene) may grow past
FOLLOW_RATE x its size, so that the redacted regions still get bits; its copy is small anyway."""
MIN_MAXRATE = 64_000
"""Absolute floor of the cap (bits/s), for thumbnail-sized clips."""
LOOKAHEAD = 30
"""x264 rc-lookahead under the cap (the fast presets use 10): the rate control sees what stays in the picture
(the untouched background) for longer and spends the capped bits there (+0.2-0.5 dB where the cap binds). Only
up to :data:`LOOKAHEAD_MAX_PIXELS` per frame: x264 holds that many frames."""
LOOKAHEAD_MAX_PIXELS = 1920 * 1088


@dataclass(frozen=True)
class SourceRate:
    """What the source's video stream spends: ``bits`` in all over ``seconds``, its first keyframe's bits and its
    largest frame's bits."""

    bits: float
    seconds: float
    first_key_bits: float
    max_frame_bits: float

    @property
    def bits_per_second(self) -> float:
        return self.bits / self.seconds


def check_write_args(dst: Path, crf: int | None, preset: str, audio: str) -> None:
    if dst.suffix.lower() not in VIDEO_SUFFIXES:
        raise OutputError(
            f"video output must be an MP4 file ({', '.join(VIDEO_SUFFIXES)}), got {dst.suffix or 'no extension'!r}: {dst}"
        )
    if crf is not None and (isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51):
        raise ValueError(f"crf must be an integer in 0..51 or None (follow the source), got {crf!r}")
    if preset not in X264_PRESETS:
        raise ValueError(f"preset must be one of {', '.join(X264_PRESETS)}, got {preset!r}")
    if audio not in AUDIO_MODES:
        raise ValueError(f"audio must be one of {', '.join(AUDIO_MODES)}, got {audio!r}")


def source_rate(path: str | os.PathLike[str], stream_index: int, fps: float) -> SourceRate | None:
    """What video stream ``stream_index`` of ``path`` spends (:class:`SourceRate`); ``None`` when unknown.

    One demux pass over the stream (no decoding: a fraction of a second on a phone clip, far less than the
    transcode) adding up its packet sizes, over the span of its timestamps, or over its packet count / ``fps``
    when it has none (raw H.264/HEVC streams). A damaged file counts what can be read."""
    total = n = 0
    first_key = largest = 0
    first = last = None
    try:
        with open_container(path) as container:
            stream = container.streams[stream_index]
            tb = stream.time_base
            try:
                for packet in container.demux(stream):
                    size = packet.size
                    if not size:
                        continue
                    total += size
                    n += 1
                    largest = max(largest, size)
                    if not first_key and (packet.is_keyframe or n == 1):  # streams without flags: the first
                        first_key = size
                    if packet.pts is not None:
                        first = packet.pts if first is None else min(first, packet.pts)
                        end = packet.pts + (packet.duration or 0)
                        last = end if last is None else max(last, end)
            except AV_ERRORS as e:  # damaged from some point on: what was read is still the source's rate
                log.debug("source bitrate: demux stopped early (%s)", one_line(e))
    except (InputError, *AV_ERRORS) as e:  # type: ignore[misc]  # mypy does not unpack a tuple of types here
        log.debug("source bitrate unknown: %s", one_line(e))
        return None
    seconds = float((last - first) * tb) if first is not None and last is not None and tb else 0.0
    if n > 1 and fps > 0 and seconds < 0.5 * n / fps:  # no usable timestamps
        seconds = n / fps
    if not total or seconds <= 0:
        return None
    return SourceRate(total * 8.0, seconds, first_key * 8.0, largest * 8.0)


def rate_options(crf: int | None, preset: str, info: MediaInfo, source: SourceRate | None) -> dict[str, str]:
    """libx264 options. An explicit ``crf``: that CRF, uncapped. ``None``: follow the ``source``.

    Following the source is CRF :data:`AUTO_CRF` under a VBV cap. A re-encode at plain CRF 18 spends bits
    reproducing the source's own compression noise and the redacted regions' changes from frame to frame (2-4x
    the source's size); the cap holds the copy's video to about :data:`FOLLOW_RATE` x the source's bits, and
    never more than :data:`MAX_RATIO` x (VBV lets through at most its initial fill + max rate x duration):

    - the buffer starts with FOLLOW_RATE x the source's first keyframe (the copy's may be as large), and holds
      FOLLOW_RATE x its largest frame with a margin, or :data:`VBV_SECONDS` at the max rate if that is more;
    - the max rate shares the rest of FOLLOW_RATE x the source's bits over its duration, plus half the buffer,
      which x264 leaves unspent at the end (this counts on clips of a few seconds), within MAX_RATIO; it is
      never below :data:`MIN_BITS_PER_PIXEL` (nor :data:`MIN_MAXRATE`), where the bound gives way.

    Adaptive quantisation is off: it gives flat blocks more of the capped bits, and the flattest blocks are the
    redacted ones, which change every frame; off, the untouched pixels get those bits (+0.4 to +2.2 dB there at
    the same size, ``benchmarks/size.py``). Without a usable source bitrate: plain CRF 18."""
    if crf is not None:
        return {"crf": str(crf), "preset": preset}
    opts = {"crf": str(AUTO_CRF), "preset": preset}
    if source is None:
        return opts
    fps = info.fps if info.fps > 0 else 25.0
    floor = max(MIN_MAXRATE, MIN_BITS_PER_PIXEL * info.width * info.height * fps)
    first = FOLLOW_RATE * source.first_key_bits
    maxrate = max((FOLLOW_RATE * source.bits - first) / source.seconds, floor)
    bufsize = max(maxrate * VBV_SECONDS, 1.2 * FOLLOW_RATE * source.max_frame_bits)
    init = min(first, 0.9 * bufsize)
    budget = min(FOLLOW_RATE * source.bits + bufsize / 2, MAX_RATIO * source.bits)
    maxrate = max((budget - init) / source.seconds, floor)
    opts.update({"maxrate": str(int(maxrate)), "bufsize": str(int(bufsize)), "rc_init_occupancy": str(int(init)),
                 "aq-mode": "0"})
    if info.width * info.height <= LOOKAHEAD_MAX_PIXELS:
        opts["rc-lookahead"] = str(LOOKAHEAD)
    return opts


class VideoOut:
    """libx264 encoder for display-oriented frames of a fixed size: RGB images, or YUV planes
    (fast path: tagged with the source's range instead of limited)."""

    def __init__(
        self, out: Any, info: MediaInfo, decoder: VideoDecoder, options: dict[str, str], offset: fractions.Fraction
    ):
        self.width, self.height = info.width, info.height
        self.shift = round(offset / decoder.time_base) if offset else 0
        self.pad = (self.width % 2, self.height % 2)
        self.colour: ColourPlan = decoder.colour
        rate = fractions.Fraction(info.fps).limit_denominator(100000) if info.fps > 0 else None
        s = out.add_stream("libx264", rate=rate)
        cc = s.codec_context
        cc.width, cc.height = self.width + self.pad[0], self.height + self.pad[1]
        cc.pix_fmt = "yuv420p"
        cc.time_base = decoder.time_base
        s.time_base = decoder.time_base
        cc.options = options
        cc.colorspace = self.colour.matrix_tag
        self.full_range = decoder.planes and self.colour.full_range
        cc.color_range = AVCOL_RANGE_JPEG if self.full_range else AVCOL_RANGE_MPEG
        cc.color_primaries = self.colour.primaries
        cc.color_trc = self.colour.transfer
        sar = decoder.stream.codec_context.sample_aspect_ratio
        if sar and sar != 1:
            cc.sample_aspect_ratio = 1 / sar if info.rotation in (90, 270) else sar
        self.stream, self.out = s, out

    def encode(self, image: np.ndarray, pts: int | None, time_base: fractions.Fraction | None) -> None:
        if self.pad != (0, 0):
            image = np.pad(image, ((0, self.pad[1]), (0, self.pad[0]), (0, 0)), mode="edge")
        vf = av.VideoFrame.from_ndarray(image, format="rgb24")
        vf = vf.reformat(
            format="yuv420p", dst_colorspace=self.colour.sws_matrix, dst_color_range=AVCOL_RANGE_MPEG, interpolation=_TO_YUV
        )
        self._send(vf, pts, time_base)

    def encode_planes(self, planes: yuv.Planes, pts: int | None, time_base: fractions.Fraction | None) -> None:
        self._send(yuv.planes_frame(planes, self.full_range), pts, time_base)

    def _send(self, vf: Any, pts: int | None, time_base: fractions.Fraction | None) -> None:
        assert pts is not None and time_base is not None  # the reader gives every frame its timestamp
        vf.pts = pts - self.shift
        vf.time_base = time_base
        self.out.mux(self.stream.encode(vf))

    def flush(self) -> None:
        self.out.mux(self.stream.encode(None))


def _is_disk_error(e: BaseException) -> bool:
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS)


def _output_error(dst: Path, e: BaseException) -> OutputError:
    hint = "" if _is_disk_error(e) else " (the MP4 muxer refused what the input holds; is the input damaged?)"
    return OutputError(f"cannot write output {dst}: {one_line(e)}{hint}")


def write_video(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    process: Callable[[Frame], np.ndarray],
    *,
    process_yuv: Callable[[YuvFrame], yuv.Planes] | None = None,
    crf: int | None = None,
    preset: str = "veryfast",
    audio: str = "keep",
    allow_truncated: bool = True,
    progress: Callable[[int], None] | None = None,
    expect_frames: int | None = None,
    expect_sha256: str | None = None,
    speech: Sequence[tuple[float, float]] = (),
    speech_style: str = "bleep",
) -> WriteResult:
    """Decode ``src`` like :class:`FrameSource`, pass every frame through ``process`` and write
    the returned images (H x W x 3 uint8 RGB, display orientation) to ``dst`` as an MP4.

    ``crf``: ``None`` (default) follows the source: CRF 18 capped near the source's bitrate (see
    :func:`rate_options`); an integer 0..51 is plain x264 CRF, uncapped.

    ``process_yuv`` (optional) is the fast path: when given and the input is 8-bit 4:2:0 with an
    even display size (:func:`redact.io.yuv.supports`), every frame goes to it as a
    :class:`YuvFrame` instead, and the (Y, U, V) planes it returns (same shapes, uint8) are
    encoded without any colour conversion. ``process`` then sees no frame; other inputs use it
    alone. ``WriteResult.pixels`` says which was used.

    Atomic: nothing exists at ``dst`` unless the whole write succeeded. Exceptions raised by
    ``process``/``process_yuv`` propagate unchanged (after cleanup). Input problems raise :class:`InputError`,
    output problems (same file as input, unsupported audio for ``audio="keep"``, disk full...)
    :class:`OutputError`.

    ``expect_frames`` (the number of frames a scan of the same bytes saw): decoding a different number this
    time (a read error mid-file, a file changed in between) raises :class:`InputError` and writes nothing,
    instead of a shorter copy. ``speech``: stretches of the audio (seconds from each audio stream's first sample)
    replaced by a tone or silence (``speech_style``), the audio then re-encoded (:class:`redact.io.audio.AudioOut`).
    ``expect_sha256`` (the digest the analysis was made for): the input is hashed
    again once everything is encoded, and if it changed meanwhile :class:`InputError` is raised and nothing is
    written (frames nobody analysed never reach the output).
    """
    src, dst = Path(src_path), Path(dst_path)
    check_write_args(dst, crf, preset, audio)
    info = probe(src)
    if info.kind != "video":
        raise InputError(f"input is a still image, not a video: {src}")
    if same_file(src, dst):
        raise OutputError(f"output is the same file as the input: {dst}")

    planes = process_yuv is not None and yuv.supports(info)
    with open_container(src) as container, atomic_path(dst) as tmp:
        decoder = open_decoder(container, info, allow_truncated=allow_truncated, planes=planes)
        source = source_rate(src, decoder.stream.index, info.fps) if crf is None else None
        options = rate_options(crf, preset, info, source)
        log.debug("video rate control: %s (source video: %s)", options,
                  f"{source.bits_per_second / 1000:.0f} kb/s" if source else "bitrate unknown" if crf is None else "-")
        try:
            out = av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
        except AV_ERRORS as e:
            raise _output_error(dst, e) from e
        try:
            result = _transcode(container, decoder, out, info, (process, process_yuv), options, audio, dst, progress,
                                expect_frames, (tuple(speech), speech_style))
        except BaseException:
            _close_quietly(out)
            raise
        try:
            out.close()
        except AV_ERRORS as e:
            raise _output_error(dst, e) from e
        check_unchanged(src, expect_sha256)
    return result


def _close_quietly(out: Any) -> None:
    try:
        out.close()
    except Exception as e:  # never mask the error that made us give up on this output
        log.debug("closing a failed output: %s", e)


def _transcode(
    container: Any,
    decoder: VideoDecoder,
    out: Any,
    info: MediaInfo,
    processes: tuple[Callable[[Frame], np.ndarray], Callable[[YuvFrame], yuv.Planes] | None],
    options: dict[str, str],
    audio: str,
    dst: Path,
    progress: Callable[[int], None] | None,
    expect_frames: int | None = None,
    speech: tuple[tuple[tuple[float, float], ...], str] = ((), "bleep"),
) -> WriteResult:
    offset = start_offset(container)
    video = VideoOut(out, info, decoder, options, offset)
    audio_out = AudioOut(out, container.streams.audio, audio, dst.name, offset, speech[0], speech[1])
    try:
        out.start_encoding()
    except AV_ERRORS as e:
        raise _output_error(dst, e) from e

    def on_packet(packet: Any) -> None:
        try:
            audio_out.packet(packet)
        except AV_ERRORS as e:
            if _is_disk_error(e):
                raise _output_error(dst, e) from e
            raise OutputError(
                f"cannot copy the input's audio into {dst}: {one_line(e)} (damaged or out-of-order audio "
                "timestamps?); use --audio reencode or --audio strip"
            ) from e

    process, process_yuv = processes
    n = 0
    for frame in run_demux(container, decoder, audio_out.in_streams, on_packet):
        if isinstance(frame, YuvFrame):
            assert process_yuv is not None  # the decoder only hands out planes when asked to
            planes = yuv.check_planes(process_yuv(frame), info.height, info.width)
            try:
                video.encode_planes(planes, frame.pts, frame.time_base)
            except AV_ERRORS as e:
                raise _output_error(dst, e) from e
        else:
            image = check_processed(process(frame), info.height, info.width)
            try:
                video.encode(image, frame.pts, frame.time_base)
            except AV_ERRORS as e:
                raise _output_error(dst, e) from e
        n += 1
        if progress is not None:
            progress(n)
    if n == 0:
        raise InputError(f"input has no decodable video frames: {info.path}")
    if expect_frames is not None and n != expect_frames:
        why = f" ({decoder.error})" if decoder.error else ""
        raise InputError(f"the input decoded differently while writing: {n} frames, the analysis saw {expect_frames}"
                         f"{why}; nothing was written: {info.path}")
    try:
        video.flush()
        audio_out.flush()
    except AV_ERRORS as e:
        raise _output_error(dst, e) from e
    return WriteResult(
        frames=n,
        truncated=decoder.truncated,
        error=decoder.error,
        audio=audio_out.result,
        width=info.width + video.pad[0],
        height=info.height + video.pad[1],
        padded=video.pad,
        retimed=decoder.retimed,
        time_offset=float(offset),
        pixels="yuv420p" if decoder.planes else "rgb",
    )
