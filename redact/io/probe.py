"""Find out what an input is: image or video, displayed size, rotation, rate, audio streams.

``probe`` checks the path, then tries the still-image readers (Pillow), then FFmpeg (PyAV). For
video it decodes the first frame: the display matrix lives in frame side data, and a file whose
first frame cannot be decoded (header only, corrupt) is rejected here with one clear line.
"""

from __future__ import annotations

import contextlib
import errno
import fractions
import logging
import os
import re
import stat
from pathlib import Path
from typing import Any, Iterator

import av
import av.sidedata.sidedata

from ..errors import InputError
from . import image as image_io
from . import orient
from .model import MediaInfo

log = logging.getLogger(__name__)

# Demuxers that would "decode" text into pictures, or fetch other files / URLs (playlists).
_REFUSED_FORMATS = {
    "tty": "a text file",
    "bin": "a binary text file",
    "xbin": "a binary text file",
    "adf": "a text art file",
    "idf": "a text art file",
    "hls": "a playlist",
    "dash": "a playlist",
    "concat": "a playlist",
    "ffmetadata": "a metadata file",
    "image2": "an image sequence",
    "lavfi": "a filter graph",
}
# Animated image formats FFmpeg decodes (animated WebP it cannot).
_ANIMATED_VIA_FFMPEG = ("GIF", "PNG")
# Container families whose stream frame count comes from a sample index (trustworthy).
_INDEXED_FORMATS = ("mov", "mp4", "avi")

# Largest video frame accepted (display size, either orientation): 8K, DCI included. A decoded 8K frame is
# ~100 MB as RGB and a run peaks near 2 GB; anything bigger is refused before it is decoded, with one line.
MAX_VIDEO_SIDE = 8192
MAX_VIDEO_PIXELS = 8192 * 4320

# FFmpeg errors: av.error.FFmpegError subclasses OSError/ValueError... in PyAV; catch both.
AV_ERRORS: tuple[type[BaseException], ...] = (av.error.FFmpegError, OSError, ValueError, EOFError)


def check_input_path(path: str | os.PathLike[str]) -> Path:
    """Raise :class:`InputError` unless ``path`` is an existing, readable, non-empty file."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(f"input not found: {p}") from None
    except PermissionError:
        raise InputError(f"cannot access input (permission denied): {p}") from None
    except OSError as e:
        raise InputError(f"cannot access input: {p} ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"input is a directory, not a media file: {p}")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"input is not a regular file: {p}")
    if st.st_size == 0:
        raise InputError(f"input is empty (0 bytes): {p}")
    if not os.access(p, os.R_OK):
        raise InputError(f"cannot read input (permission denied): {p}")
    return p


def _head(p: Path, n: int = 32) -> bytes:
    try:
        with open(p, "rb") as f:
            return f.read(n)
    except OSError:
        return b""


def _looks_like_isobmff(p: Path) -> bool:
    return _head(p)[4:8] in (b"ftyp", b"mdat", b"moov", b"wide", b"free")


# HEIF/AVIF still images (iPhone photos): FFmpeg would expose single tiles as "video".
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis", b"mif2"}


def _check_not_heif(p: Path) -> None:
    head = _head(p)
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        raise InputError(f"HEIC/HEIF/AVIF images are not supported (export the photo as JPEG first): {p}")


@contextlib.contextmanager
def open_container(path: str | os.PathLike[str]) -> Iterator[Any]:
    """Open ``path`` read-only with FFmpeg (local files only); :class:`InputError` if not media."""
    p = Path(path)
    try:
        container = av.open(
            str(p), mode="r", options={"protocol_whitelist": "file"}, metadata_errors="replace"
        )
    except AV_ERRORS as e:
        if isinstance(e, OSError) and e.errno in (errno.EACCES, errno.EPERM):
            raise InputError(f"cannot read input (permission denied): {p}") from None
        if _looks_like_isobmff(p):
            raise InputError(f"input is an incomplete or corrupt MP4/MOV (no index found; truncated?): {p}") from None
        raise InputError(f"input is not a recognised video or image file: {p}") from None
    try:
        short = container.format.name.split(",")[0]
        if short in _REFUSED_FORMATS:
            raise InputError(f"input is {_REFUSED_FORMATS[short]}, not a video or image: {p}")
        if short.endswith("_pipe"):  # a still image Pillow could not read (JPEG 2000, PSD, ...)
            kind = short[: -len("_pipe")].upper()
            raise InputError(f"unsupported or unreadable {kind} image (use JPEG, PNG or WebP): {p}")
        yield container
    finally:
        container.close()


def pick_video_stream(container: Any, path: str | os.PathLike[str]) -> Any:
    """The main video stream (cover art / attached pictures do not count)."""
    candidates = [
        s for s in container.streams.video
        if not (s.disposition & av.stream.Disposition.attached_pic) and s.codec_context is not None
    ]
    if not candidates and container.streams.video:
        raise InputError(f"input's video uses a codec that cannot be decoded (unknown or damaged header): {path}")
    if not candidates:
        if not len(container.streams):
            raise InputError(f"input has no media streams (header only or truncated?): {path}")
        if container.streams.audio:
            raise InputError(f"input has no video stream (audio only?): {path}")
        raise InputError(f"input has no video stream: {path}")
    best = container.streams.best("video")
    if best is not None and best in candidates:
        return best
    return max(candidates, key=lambda s: (s.codec_context.width or 0) * (s.codec_context.height or 0))


def display_matrix(frame: Any) -> bytes | None:
    for sd in frame.side_data:
        if sd.type == av.sidedata.sidedata.Type.DISPLAYMATRIX:
            return bytes(sd)
    return None


def frame_orientation(frame: Any) -> orient.Orientation:
    return orient.from_display_matrix(display_matrix(frame))


def check_video_size(width: int, height: int, path: str | os.PathLike[str]) -> None:
    """Raise :class:`InputError` for a frame size above the resolution cap (or a nonsensical one)."""
    if width <= 0 or height <= 0:
        raise InputError(f"input has an invalid frame size {width}x{height}: {path}")
    if max(width, height) > MAX_VIDEO_SIDE or width * height > MAX_VIDEO_PIXELS:
        raise InputError(
            f"video frames are {width}x{height}, larger than the supported maximum "
            f"({MAX_VIDEO_SIDE} pixels a side, {MAX_VIDEO_PIXELS / 1e6:.1f} megapixels; 8K): {path}"
        )


def _first_frame(container: Any, stream: Any, path: Path) -> Any:
    cc = stream.codec_context
    if cc.width and cc.height:  # from the header: refuse before decoding a huge frame
        check_video_size(cc.width, cc.height, path)
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                return frame
    except AV_ERRORS as e:
        raise InputError(f"input is corrupt: the first video frame cannot be decoded: {path} ({one_line(e)})") from None
    raise InputError(f"input has no decodable video frames (header only or truncated?): {path}")


def audio_offset(info: MediaInfo) -> float | None:
    """Where the first audio stream's clock starts on the video's frame clock, in seconds: the presentation time of
    its first decoded sample minus that of the first video frame (:attr:`MediaInfo.first_frame_time`, which
    :func:`probe` read) (``None`` when there is no audio or video stream, or either has no timestamps). Speech spans
    are seconds of the audio counted from its first decoded sample (:func:`redact.speech.load_audio`); a span plus this
    is the time after the first frame (frame / fps) the report and its timeline use. Decodes the first audio frame
    only."""
    if info.first_frame_time is None:
        return None
    audio = _first_audio_time(info.path)
    if audio is None:
        return None
    return float(audio - info.first_frame_time)


def _first_audio_time(path: str | os.PathLike[str]) -> fractions.Fraction | None:
    """The presentation time of the first decoded frame of the first audio stream (None: no such stream, none
    decodes, or it has no timestamp)."""
    with open_container(path) as container:
        if not container.streams.audio:
            return None
        try:
            for packet in container.demux(container.streams.audio[0]):
                for frame in packet.decode():
                    return _time(frame)
        except AV_ERRORS:
            return None
    return None


def _time(frame: Any) -> fractions.Fraction | None:
    """A decoded frame's presentation time in seconds (None: it has no timestamp)."""
    if frame.pts is None or frame.time_base is None:
        return None
    return fractions.Fraction(frame.pts) * frame.time_base


def one_line(e: BaseException) -> str:
    """The first line of ``e``'s message: FFmpeg's own reason (without the file name, which may be a temporary
    file's, or the C function), else the message without Python's ``[Errno N]`` prefix."""
    if isinstance(e, av.error.FFmpegError) and e.strerror:
        return str(e.strerror).strip().splitlines()[0]
    text = str(e).strip().splitlines()
    line = text[0] if text else type(e).__name__
    return re.sub(r"^\[Errno -?\d+\] ", "", line)


def _fps(stream: Any) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            value = float(rate)
            if 0.0 < value < 10000.0:
                return value
    return 0.0


def stream_frame_count(container: Any, stream: Any) -> int | None:
    """Frame count from an index (MP4/MOV/AVI), ``None`` when the container has none."""
    family = container.format.name.split(",")
    if stream.frames and any(f in family for f in _INDEXED_FORMATS):
        return int(stream.frames)
    return None


def _duration(container: Any, stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def start_offset(container: Any) -> fractions.Fraction:
    """Seconds to subtract from all output timestamps.

    MP4/MOV timelines are kept exactly (0 here). Other containers (MPEG-TS starts at ~1.4 s,
    broadcast streams anywhere) have their positive start time moved to 0, as FFmpeg's CLI does,
    so the MP4 does not open with an empty edit; streams keep their relative timing."""
    start = container.start_time
    if start is None or start <= 0 or "mov" in container.format.name.split(","):
        return fractions.Fraction(0)
    return fractions.Fraction(int(start), av.time_base)


def _audio_info(container: Any) -> list[dict[str, Any]]:
    out = []
    for s in container.streams.audio:
        cc = s.codec_context
        if cc is None:  # a codec FFmpeg does not know (or a damaged header)
            out.append({"codec": "unknown", "channels": 0, "sample_rate": 0})
            continue
        out.append({"codec": cc.name, "channels": int(cc.channels or 0), "sample_rate": int(cc.sample_rate or 0)})
    return out


def probe_video(path: Path) -> MediaInfo:
    with open_container(path) as container:
        stream = pick_video_stream(container, path)
        stream.thread_type = "AUTO"
        first = _first_frame(container, stream, path)
        check_video_size(first.width, first.height, path)
        o = frame_orientation(first)
        w, h = o.display_size(first.width, first.height)
        tb = stream.time_base
        return MediaInfo(
            path=str(path),
            kind="video",
            width=w,
            height=h,
            rotation=o.rotation,
            fps=_fps(stream),
            frames=stream_frame_count(container, stream),
            duration=_duration(container, stream),
            video_codec=stream.codec_context.name,
            audio=_audio_info(container),
            container=container.format.name,
            coded_width=first.width,
            coded_height=first.height,
            pix_fmt=first.format.name,
            time_base=fractions.Fraction(tb.numerator, tb.denominator) if tb else None,
            first_frame_time=_time(first),
            subtitle_streams=len(container.streams.subtitles),
            data_streams=len(container.streams.data),
            start_offset=float(start_offset(container)),
        )


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Describe ``path``; raise :class:`InputError` (one clear line) if it is not usable media."""
    p = check_input_path(path)
    sniffed = image_io.sniff(p)
    if sniffed is not None:
        fmt, animated = sniffed
        if not animated:
            return image_io.probe_image(p)
        if fmt not in _ANIMATED_VIA_FFMPEG:
            raise InputError(f"animated {fmt} images are not supported (convert it to MP4 or GIF first): {p}")
    _check_not_heif(p)
    return probe_video(p)


def is_image_path(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` holds a still image (by content, not by extension)."""
    try:
        sniffed = image_io.sniff(check_input_path(path))
    except InputError:
        return False
    return sniffed is not None and not sniffed[1]
