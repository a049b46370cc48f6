"""Tiny synthetic media for tests: videos (PyAV), images (Pillow), and FFmpeg-CLI helpers.

Everything is generated into the caller's directory (use ``tmp_path``); nothing here needs the
shared footage. The FFmpeg binary from ``imageio_ffmpeg`` is used only here, in tests, to make
inputs the library itself never writes (display rotation, GPS tags) and as an independent
reference for how a player displays a file.
"""

from __future__ import annotations

import fractions
import io
import subprocess
from pathlib import Path
from typing import Any, Callable

import av
import numpy as np
from PIL import Image

# codec name (as in MediaInfo.video_codec) -> PyAV encoder
ENCODERS = {"h264": "libx264", "hevc": "libx265", "vp8": "libvpx", "vp9": "libvpx-vp9", "mpeg4": "mpeg4", "gif": "gif"}
# file suffix -> (FFmpeg muxer, default audio codec or None if the container takes no audio here)
CONTAINERS = {
    ".mp4": ("mp4", "aac"),
    ".m4v": ("mp4", "aac"),
    ".mov": ("mov", "aac"),
    ".3gp": ("3gp", "aac"),
    ".mkv": ("matroska", "aac"),
    ".webm": ("webm", "libopus"),
    ".h264": ("h264", None),
    ".264": ("h264", None),
    ".h265": ("hevc", None),
    ".hevc": ("hevc", None),
    ".gif": ("gif", None),
}
VFR_STEPS_MS = (100, 40, 160, 70, 130, 100, 55, 200)
"""Frame durations (ms) cycled through by ``make_video(vfr=True)``."""

MARK = 16  # size of the frame-index marker block (bottom-right corner)


def pattern(i: int, width: int = 160, height: int = 120) -> np.ndarray:
    """An asymmetric test picture: top half red, bottom half blue, a green strip on the left,
    a white square moving with ``i``, and a grey block bottom-right whose level encodes ``i``."""
    img = np.zeros((height, width, 3), np.uint8)
    img[: height // 2] = (220, 30, 30)
    img[height // 2:] = (30, 30, 220)
    img[:, : max(2, width // 8)] = (30, 200, 30)
    s = max(4, min(width, height) // 8)
    x = (width // 4 + 3 * i) % max(1, width - s)
    y = height // 2 - s // 2
    img[y:y + s, x:x + s] = 255
    m = min(MARK, width // 4, height // 4)
    img[height - m:, width - m:] = index_level(i)
    return img


def index_level(i: int) -> int:
    return 20 + (i * 9) % 216


def read_index(img: np.ndarray, count: int) -> int:
    """Which frame index (< ``count``) a decoded ``pattern`` picture shows."""
    h, w = img.shape[:2]
    m = min(MARK, w // 4, h // 4)
    block = img[h - m + 2:, w - m + 2:].astype(np.float64).mean()
    return int(np.argmin([abs(block - index_level(k)) for k in range(count)]))


def sine(n: int, rate: int, channels: int, start: int, freq: float = 440.0) -> np.ndarray:
    t = (np.arange(n) + start) / rate
    chans = [0.3 * np.sin(2 * np.pi * (freq * (c + 1)) * t + 0.1 * c) for c in range(channels)]
    return np.stack(chans).astype(np.float32)


def _audio_stream(out: Any, codec: str, rate: int, channels: int) -> Any:
    s = out.add_stream(codec, rate=rate)
    s.layout = "mono" if channels == 1 else "stereo"
    return s


def _encode_audio(out: Any, stream: Any, duration: float, rate: int, channels: int) -> None:
    """A sine per channel, fed as float-planar chunks (PyAV converts to the encoder's format)."""
    chunk = 1000
    total = int(round(duration * rate))
    for start in range(0, total, chunk):
        n = min(chunk, total - start)
        frame = av.AudioFrame.from_ndarray(sine(n, rate, channels, start), format="fltp", layout=stream.layout.name)
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = fractions.Fraction(1, rate)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def frame_pts_ms(frames: int, fps: float, vfr: bool) -> list[int]:
    if not vfr:
        return [int(round(i * 1000 / fps)) for i in range(frames)]
    pts, t = [], 0
    for i in range(frames):
        pts.append(t)
        t += VFR_STEPS_MS[i % len(VFR_STEPS_MS)]
    return pts


def make_video(
    path: str | Path,
    *,
    width: int = 160,
    height: int = 120,
    frames: int = 12,
    fps: float = 10,
    codec: str = "h264",
    container: str | None = None,
    audio: bool = False,
    audio_codec: str | None = None,
    audio_rate: int = 48000,
    audio_channels: int = 1,
    vfr: bool = False,
    rotation: int = 0,
    metadata: dict[str, str] | None = None,
    draw: Callable[[int], np.ndarray] | None = None,
    pix_fmt: str | None = None,
    bframes: bool = True,
    faststart: bool = False,
    times_ms: list[int] | None = None,
    gop: int | None = None,
) -> Path:
    """Encode a small clip. ``container`` defaults from the suffix (.mp4 .mov .3gp .mkv .webm
    .h264 .h265 .gif). ``rotation`` uses :class:`MediaInfo`'s convention: the clockwise degrees a
    player rotates the stored frames by (written as a display matrix; MP4/MOV only).
    ``faststart`` puts the MP4 index (moov) before the media data.
    ``draw(i)`` returns frame ``i`` as H x W x 3 uint8 RGB (default: :func:`pattern`).
    ``times_ms`` gives every frame's presentation time (ms, increasing) instead of ``fps``/``vfr``.
    ``gop``: a keyframe every this many frames (H.264 only; default: the encoder's)."""
    path = Path(path)
    fmt, default_audio = CONTAINERS[path.suffix.lower()] if container is None else (container, "aac")
    if codec == "gif" or fmt == "gif":
        codec, fmt = "gif", "gif"
    draw = draw or (lambda i: pattern(i, width, height))
    pts_ms = frame_pts_ms(frames, fps, vfr) if times_ms is None else list(times_ms)
    if len(pts_ms) != frames:
        raise ValueError(f"times_ms has {len(pts_ms)} entries for {frames} frames")
    options = {"movflags": "+faststart"} if faststart else None
    with av.open(str(path), mode="w", format=fmt, options=options) as out:
        if metadata:
            out.metadata.update(metadata)
        vs = out.add_stream(ENCODERS.get(codec, codec), rate=fractions.Fraction(fps).limit_denominator(1000))
        vs.width, vs.height = width, height
        odd = width % 2 or height % 2
        vs.pix_fmt = pix_fmt or ("rgb8" if codec == "gif" else "yuv444p" if odd and codec in ("h264", "hevc") else "yuv420p")
        tb = fractions.Fraction(1, 1000)
        vs.codec_context.time_base = tb
        opts = {}
        if codec == "h264":
            opts = {"preset": "ultrafast", "crf": "16"} if not bframes else {"preset": "veryfast", "crf": "16", "bf": "2"}
            if gop:
                opts.update({"g": str(gop), "keyint_min": str(gop)})
        elif codec == "hevc":
            opts = {"preset": "ultrafast", "crf": "18", "x265-params": "log-level=error"}
        elif codec in ("vp8", "vp9"):
            opts = {"crf": "12", "b": "1M", "deadline": "realtime", "cpu-used": "8"}
        vs.codec_context.options = opts
        if rotation:
            vs.set_display_rotation(-rotation)
        aus = None
        if audio:
            acodec = audio_codec or default_audio
            if acodec is None:
                raise ValueError(f"{path.suffix} clips cannot carry audio here")
            aus = _audio_stream(out, acodec, audio_rate, audio_channels)
        for i in range(frames):
            img = np.ascontiguousarray(draw(i))
            if img.shape != (height, width, 3) or img.dtype != np.uint8:
                raise ValueError(f"draw({i}) returned {img.shape} {img.dtype}, expected {(height, width, 3)} uint8")
            vf = av.VideoFrame.from_ndarray(img, format="rgb24")
            vf.pts = pts_ms[i]
            vf.time_base = tb
            out.mux(vs.encode(vf))
        out.mux(vs.encode(None))
        if aus is not None:
            duration = (pts_ms[-1] + (VFR_STEPS_MS[(frames - 1) % len(VFR_STEPS_MS)] if vfr else 1000 / fps)) / 1000
            _encode_audio(out, aus, duration, audio_rate, audio_channels)
    return path


def make_image(
    path: str | Path,
    *,
    width: int = 160,
    height: int = 120,
    draw: Callable[[int], np.ndarray] | None = None,
    orientation: int | None = None,
    gps: bool = False,
    make_model: tuple[str, str] | None = None,
    icc: bytes | None = None,
    xmp: bytes | None = None,
    comment: bytes | None = None,
    mode: str = "RGB",
) -> Path:
    """Save ``draw(0)`` (default :func:`pattern`) in the format of the suffix, optionally with an
    EXIF orientation, GPS position, make/model, ICC profile, XMP packet or comment."""
    path = Path(path)
    img = draw(0) if draw else pattern(0, width, height)
    im = Image.fromarray(np.ascontiguousarray(img), "RGB")
    if mode != "RGB":
        im = im.convert(mode)
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if make_model:
        exif[0x010F], exif[0x0110] = make_model
    if gps:
        exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.24), 3: "E", 4: (2.0, 17.0, 40.2)}
    kwargs: dict[str, Any] = {}
    if len(exif):
        kwargs["exif"] = exif.tobytes()
    if icc is not None:
        kwargs["icc_profile"] = icc
    if xmp is not None:
        kwargs["xmp"] = xmp
    if comment is not None and path.suffix.lower() in (".jpg", ".jpeg"):
        kwargs["comment"] = comment
    if path.suffix.lower() == ".png" and (xmp is not None or comment is not None):
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        if xmp is not None:
            info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        if comment is not None:
            info.add_text("Comment", comment.decode())
        kwargs["pnginfo"] = info
    if path.suffix.lower() in (".jpg", ".jpeg"):
        kwargs["quality"] = 95
    im.save(path, **kwargs)
    return path


def srgb_icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# -- FFmpeg CLI (tests only) -------------------------------------------------------------------
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str) -> None:
    """Run the FFmpeg binary; raise with its stderr on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")


def with_extra_tracks(
    src: str | Path,
    dst: str | Path,
    *,
    subtitle: str | None = None,
    timecode: bool = False,
    attachment: str | None = None,
    audio_copies: int = 1,
) -> Path:
    """Copy ``src`` (video + audio) into ``dst`` adding tracks a phone or editor may write: a subtitle track
    whose only cue says ``subtitle``, a QuickTime timecode (data) track, a text attachment (Matroska only), and
    ``audio_copies`` copies of each audio stream. Nothing is re-encoded."""
    src, dst = Path(src), Path(dst)
    args: list[str] = ["-i", str(src)]
    maps = ["-map", "0:v"] + ["-map", "0:a?"] * audio_copies
    codecs = ["-c", "copy"]
    if subtitle is not None:
        srt = dst.with_suffix(".srt")
        srt.write_text(f"1\n00:00:00,000 --> 00:00:00,500\n{subtitle}\n", encoding="utf-8")
        args += ["-i", str(srt)]
        maps += ["-map", "1:s"]
        codecs += ["-c:s", "mov_text" if dst.suffix.lower() in (".mp4", ".mov", ".m4v") else "srt"]
    extra: list[str] = []
    if timecode:
        extra += ["-timecode", "01:00:00:00"]
    if attachment is not None:
        att = dst.with_suffix(".notes.txt")
        att.write_text(attachment, encoding="utf-8")
        extra += ["-attach", str(att), "-metadata:s:t", "mimetype=text/plain"]
    ffmpeg(*args, *maps, *codecs, *extra, str(dst))
    return dst


def interlace(src: str | Path, dst: str | Path) -> Path:
    """Re-encode ``src`` as interlaced H.264 (top field first; frames flagged interlaced)."""
    ffmpeg("-i", str(src), "-an", "-c:v", "libx264", "-preset", "ultrafast", "-flags", "+ildct+ilme",
           "-x264-params", "tff=1", str(dst))
    return Path(dst)


def ffmpeg_frame(path: str | Path, index: int = 0) -> np.ndarray:
    """Frame ``index`` as FFmpeg's own player pipeline shows it (auto-rotated), RGB uint8."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path),
           "-vf", f"select=eq(n\\,{index})", "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"]
    r = subprocess.run(cmd, capture_output=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode(errors="replace"))
    return np.asarray(Image.open(io.BytesIO(r.stdout)).convert("RGB"))


# -- inspecting files --------------------------------------------------------------------------
def video_frame_times(path: str | Path) -> list[float | None]:
    """Presentation times (s) of every decoded video frame, via plain PyAV."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return [float(f.pts * f.time_base) if f.pts is not None else None for f in c.decode(s)]


def audio_packets(path: str | Path) -> list[list[tuple[float, float, bytes]]]:
    """Per audio stream: ``(pts_seconds, duration_seconds, payload)`` of every packet."""
    with av.open(str(path)) as c:
        streams = list(c.streams.audio)
        out: list[list[tuple[float, float, bytes]]] = [[] for _ in streams]
        if not streams:
            return out
        where = {s.index: k for k, s in enumerate(streams)}
        for p in c.demux(streams):
            if p.size:
                tb = p.time_base
                out[where[p.stream.index]].append((float(p.pts * tb), float((p.duration or 0) * tb), bytes(p)))
        return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))
