"""probe(): what an input is, and one clear InputError line for everything that is not usable."""

from __future__ import annotations

import os

import av
import numpy as np
import pytest

from redact.errors import InputError
from redact.io import MediaInfo, is_image_path, probe

from .media import make_image, make_video


@pytest.mark.parametrize(
    "name, kw, codec",
    [
        ("a.mp4", {"audio": True}, "h264"),
        ("a.mov", {"audio": True}, "h264"),
        ("a.3gp", {"audio": True}, "h264"),
        ("a.mkv", {"codec": "hevc", "audio": True}, "hevc"),
        ("a.webm", {"codec": "vp9", "audio": True}, "vp9"),
        ("b.webm", {"codec": "vp8"}, "vp8"),
        ("a.h264", {}, "h264"),
        ("a.h265", {"codec": "hevc"}, "hevc"),
        ("a.gif", {}, "gif"),
    ],
)
def test_probe_videos(tmp_path, name, kw, codec):
    p = make_video(tmp_path / name, width=96, height=64, frames=6, fps=10, **kw)
    info = probe(p)
    assert isinstance(info, MediaInfo)
    assert info.kind == "video"
    assert (info.width, info.height, info.rotation) == (96, 64, 0)
    assert info.video_codec == codec
    assert info.fps > 0
    assert len(info.audio) == (1 if kw.get("audio") else 0)
    if kw.get("audio"):
        assert info.audio[0]["channels"] == 1 and info.audio[0]["sample_rate"] == 48000
    if name.endswith((".mp4", ".mov", ".3gp")):
        assert info.frames == 6
        assert info.duration == pytest.approx(0.6, abs=0.05)
    if name.endswith((".h264", ".h265")):
        assert info.frames is None  # raw streams have no index: count while decoding
    d = info.to_dict()
    assert d["kind"] == "video" and d["width"] == 96


def test_probe_rotated_reports_display_size(tmp_path):
    info = probe(make_video(tmp_path / "r.mp4", width=96, height=64, frames=3, rotation=90))
    assert (info.width, info.height, info.rotation) == (64, 96, 90)
    assert (info.coded_width, info.coded_height) == (96, 64)


def test_probe_gives_the_first_frames_time_and_audio_offset_uses_it(tmp_path):
    """MediaInfo.first_frame_time is the first decoded frame's time of the stream the frames come from; audio_offset
    measures the audio against it (no second decode of the video)."""
    import fractions

    from redact.io.probe import audio_offset

    from .media import ffmpeg

    late = make_video(tmp_path / "late.mp4", frames=20, fps=10, audio=True, times_ms=[600 + 100 * i for i in range(20)])
    info = probe(late)
    assert info.first_frame_time == fractions.Fraction(3, 5)
    assert info.to_dict()["first_frame_time"] == "3/5"
    assert audio_offset(info) == pytest.approx(-0.6, abs=0.05)
    assert probe(make_video(tmp_path / "raw.h264", frames=3)).first_frame_time is None  # no timestamps
    assert probe(make_image(tmp_path / "a.png", width=40, height=30)).first_frame_time is None
    # two video streams: the offset is measured against the one whose frames are redacted, listed first or not
    ontime = make_video(tmp_path / "a.mp4", width=320, height=240, frames=30, audio=True)  # the best stream
    both = tmp_path / "both.mkv"
    ffmpeg("-i", str(ontime), "-i", str(late), "-map", "1:v", "-map", "0:v", "-map", "0:a", "-c", "copy", str(both))
    info = probe(both)
    with av.open(str(both)) as c:
        picked = c.streams.best("video")
        assert picked.index != c.streams.video[0].index
        first = next(iter(c.decode(picked)))
        assert info.first_frame_time == fractions.Fraction(first.pts) * first.time_base
    assert audio_offset(info) == pytest.approx(0.0, abs=0.05)


def test_probe_images(tmp_path):
    for name in ("a.jpg", "a.png", "a.webp", "a.bmp", "a.tiff", "a.gif"):
        info = probe(make_image(tmp_path / name, width=40, height=30))
        assert info.kind == "image", name
        assert (info.width, info.height, info.frames, info.fps) == (40, 30, 1, 0.0)
        assert info.audio == []
    info = probe(make_image(tmp_path / "o.jpg", width=40, height=30, orientation=6))
    assert (info.width, info.height, info.rotation) == (30, 40, 90)


def test_is_image_path_sniffs_content(tmp_path):
    img = make_image(tmp_path / "photo.jpg")
    vid = make_video(tmp_path / "clip.mp4", frames=2)
    disguised = tmp_path / "photo.mp4"
    disguised.write_bytes(img.read_bytes())
    assert is_image_path(img)
    assert is_image_path(disguised)
    assert not is_image_path(vid)
    assert not is_image_path(make_video(tmp_path / "anim.gif", frames=3))
    assert not is_image_path(tmp_path / "missing.jpg")


def _msg(excinfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text
    return text


def test_missing_path(tmp_path):
    with pytest.raises(InputError) as e:
        probe(tmp_path / "nope.mp4")
    assert "not found" in _msg(e)


def test_directory(tmp_path):
    with pytest.raises(InputError) as e:
        probe(tmp_path)
    assert "directory" in _msg(e)


def test_zero_bytes(tmp_path):
    p = tmp_path / "empty.mp4"
    p.touch()
    with pytest.raises(InputError) as e:
        probe(p)
    assert "empty" in _msg(e)


def test_random_bytes(tmp_path):
    p = tmp_path / "noise.mp4"
    p.write_bytes(np.random.default_rng(7).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError) as e:
        probe(p)
    assert str(p) in _msg(e)


def test_text_file(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("patient notes\n" * 50)
    with pytest.raises(InputError) as e:
        probe(p)
    assert "text" in _msg(e)


@pytest.mark.parametrize("faststart", [False, True])
def test_header_only(tmp_path, faststart):
    src = make_video(tmp_path / "full.mp4", frames=6, faststart=faststart)
    p = tmp_path / "head.mp4"
    p.write_bytes(src.read_bytes()[:100])
    with pytest.raises(InputError) as e:
        probe(p)
    msg = _msg(e)
    assert "head.mp4" in msg
    assert any(w in msg for w in ("truncated", "header", "not a recognised"))


def test_audio_only(tmp_path):
    p = tmp_path / "voice.m4a"
    with av.open(str(p), "w", format="mp4") as out:
        s = out.add_stream("aac", rate=48000)
        s.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 4800), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 48000, 0
        out.mux(s.encode(frame))
        out.mux(s.encode(None))
    with pytest.raises(InputError) as e:
        probe(p)
    assert "no video stream" in _msg(e)


def test_unreadable_file(tmp_path):
    p = make_video(tmp_path / "locked.mp4", frames=2)
    os.chmod(p, 0)
    try:
        if os.access(p, os.R_OK):
            pytest.skip("running as a user that ignores file permissions")
        with pytest.raises(InputError) as e:
            probe(p)
        assert "permission" in _msg(e)
    finally:
        os.chmod(p, 0o644)


def test_animated_webp_is_refused_clearly(tmp_path):
    from PIL import Image

    from .media import pattern

    p = tmp_path / "anim.webp"
    frames = [Image.fromarray(pattern(i, 40, 30)) for i in range(3)]
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(InputError) as e:
        probe(p)
    assert "animated WEBP" in _msg(e)


def test_truncated_image(tmp_path):
    src = make_image(tmp_path / "full.jpg", width=200, height=150)
    p = tmp_path / "cut.jpg"
    p.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    from redact.io import read_image

    with pytest.raises(InputError) as e:
        read_image(p)
    assert "cut.jpg" in _msg(e)


def test_heic_is_refused_clearly(tmp_path):
    p = tmp_path / "IMG_0001.HEIC"
    p.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200))
    with pytest.raises(InputError) as e:
        probe(p)
    assert "HEIC" in _msg(e)


def test_image_formats_pillow_cannot_read_are_refused(tmp_path):
    """FFmpeg would happily turn e.g. a PPM or JPEG 2000 into a one-frame "video"."""
    from .media import ffmpeg

    src = make_image(tmp_path / "a.png", width=40, height=30)
    for name in ("a.ppm", "a.j2k"):
        ffmpeg("-i", src, tmp_path / name)
        with pytest.raises(InputError) as e:
            probe(tmp_path / name)
        assert "image" in _msg(e)


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    from PIL import Image

    p = make_image(tmp_path / "big.png", width=40, height=30)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 1200 px > 2 x 100: Pillow's bomb limit
    with pytest.raises(InputError) as e:
        probe(p)
    assert "too large" in _msg(e)
    assert not is_image_path(p)
