"""A corpus of hard but legal inputs, each through the whole command line (``redact run``).

Every case either processes correctly (checked: frame count, size, orientation, timing, audio) or fails with one
clear line (exit 1). Nothing may crash with a traceback, nothing may be left behind, and the input's bytes and
mtime never change. Media are tiny (64x48, a few frames) and text detection is off: OCR is not the point here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from redact.cli import cli
from redact.io import FrameSource, probe, read_image, sha256_file

from .media import (audio_packets, ffmpeg, interlace, make_image, make_video, pattern, video_frame_times,
                    with_extra_tracks)

W, H = 64, 48


def snapshot(d: Path) -> dict[str, tuple[str, int]]:
    """name -> (sha256, mtime_ns) of every file under ``d`` (recursively)."""
    return {str(p.relative_to(d)): (sha256_file(p), p.stat().st_mtime_ns) for p in sorted(d.rglob("*")) if p.is_file()}


def redact_run(src: Path, out: Path, *extra: str) -> tuple[int, list[str]]:
    """``redact -q run SRC -o OUT --text off``; (exit code, non-empty output lines). A traceback fails the test."""
    r = CliRunner().invoke(cli, ["-q", "run", str(src), "-o", str(out), "--text", "off", "--no-html", *extra])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output, r.output
    return r.exit_code, [line for line in r.output.splitlines() if line.strip()]


def check_case(tmp_path: Path, src: Path, out_name: str = "out.mp4", *extra: str) -> Path | None:
    """Run the CLI on ``src`` into a fresh folder ``tmp_path/out-N``; on success return the output, on failure
    check the failure contract and return None. Every other file under ``tmp_path`` must be left as it was."""
    before = snapshot(tmp_path)
    out_dir = tmp_path / f"out-{sum(1 for p in tmp_path.iterdir() if p.name.startswith('out-'))}"
    out_dir.mkdir()
    out = out_dir / out_name
    code, lines = redact_run(src, out, *extra)
    after = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith(out_dir.name + "/")}
    assert after == before, "an input changed, or something was written outside the output folder"
    if code == 0:
        assert lines == [], lines  # -q: nothing to say
        stem = Path(out_name).with_suffix("").name
        assert sorted(os.listdir(out_dir)) == sorted([out_name, f"{stem}.report.json"])
        return out
    assert code == 1, lines
    assert len(lines) == 1 and lines[0].startswith("redact: error: "), lines
    assert os.listdir(out_dir) == []
    return None


def frames_of(path: Path) -> list[np.ndarray]:
    with FrameSource(path) as src:
        return [f.image for f in src]


def assert_looks_like(img: np.ndarray, expected: np.ndarray, tol: float = 12.0) -> None:
    assert img.shape == expected.shape
    diff = np.abs(img.astype(np.int16) - expected.astype(np.int16)).mean()
    assert diff < tol, f"mean difference {diff:.1f}"


# -- video ----------------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_every_rotation_comes_out_upright_with_audio(tmp_path, rotation):
    display = [pattern(i, W, H) for i in range(4)]  # what a player shows
    src = make_video(tmp_path / f"rot{rotation}.mp4", width=W if rotation in (0, 180) else H,
                     height=H if rotation in (0, 180) else W, frames=4, fps=10, audio=True, rotation=rotation,
                     draw=lambda i: np.ascontiguousarray(np.rot90(display[i], k=rotation // 90)))
    assert probe(src).rotation == rotation
    out = check_case(tmp_path, src)
    assert out is not None
    info = probe(out)
    assert (info.width, info.height, info.rotation) == (W, H, 0)
    got = frames_of(out)
    assert len(got) == 4
    for img, want in zip(got, display):
        assert_looks_like(img, want)
    assert audio_packets(out) == audio_packets(src)


def test_variable_frame_rate_keeps_every_timestamp(tmp_path):
    src = make_video(tmp_path / "vfr.mp4", width=W, height=H, frames=9, vfr=True, audio=True)
    out = check_case(tmp_path, src)
    assert out is not None
    assert video_frame_times(out) == pytest.approx(video_frame_times(src), abs=1e-3)


@pytest.mark.parametrize("size", [(1, 1), (7, 5), (2, 2)])
def test_tiny_and_odd_sizes(tmp_path, size):
    w, h = size
    src = make_video(tmp_path / f"s{w}x{h}.mp4", width=w, height=h, frames=3)
    out = check_case(tmp_path, src)
    assert out is not None
    info = probe(out)
    assert (info.width, info.height) == (w + w % 2, h + h % 2)  # padded to even, never cropped
    assert len(frames_of(out)) == 3


def test_ten_bit_hevc(tmp_path):
    src = make_video(tmp_path / "hevc10.mp4", width=W, height=H, frames=4, codec="hevc", pix_fmt="yuv420p10le")
    assert probe(src).pix_fmt == "yuv420p10le"
    out = check_case(tmp_path, src)
    assert out is not None
    got = frames_of(out)
    assert len(got) == 4
    assert_looks_like(got[0], pattern(0, W, H), tol=15.0)


def test_interlaced_h264(tmp_path):
    base = make_video(tmp_path / "progressive.mp4", width=W, height=H, frames=6)
    src = interlace(base, tmp_path / "interlaced.mp4")
    with av.open(str(src)) as c:
        assert next(c.decode(video=0)).interlaced_frame
    out = check_case(tmp_path, src)
    assert out is not None
    assert len(frames_of(out)) == len(frames_of(src))


def test_no_audio_and_several_audio_tracks(tmp_path):
    silent = make_video(tmp_path / "silent.mp4", width=W, height=H, frames=4)
    assert check_case(tmp_path, silent) is not None
    base = make_video(tmp_path / "one.mkv", width=W, height=H, frames=4, audio=True)
    three = with_extra_tracks(base, tmp_path / "three.mp4", audio_copies=3)
    assert len(probe(three).audio) == 3
    out = check_case(tmp_path, three)
    assert out is not None
    packets = audio_packets(out)
    assert len(packets) == 3 and packets == audio_packets(three)  # every track, bit-exact


@pytest.mark.slow
def test_subtitle_timecode_and_attachment_tracks_are_dropped(tmp_path):
    base = make_video(tmp_path / "base.mkv", width=W, height=H, frames=4, audio=True)
    mov = with_extra_tracks(base, tmp_path / "tracks.mov", subtitle="cue", timecode=True)
    mkv = with_extra_tracks(base, tmp_path / "tracks.mkv", subtitle="cue", attachment="notes")
    info = probe(mov)
    assert info.subtitle_streams == 1 and info.data_streams == 1  # the timecode track
    for src in (mov, mkv):
        out = check_case(tmp_path, src)
        assert out is not None
        with av.open(str(out)) as c:
            assert [s.type for s in c.streams] == ["video", "audio"]


def test_very_long_duration_at_tiny_size(tmp_path):
    """Three frames twelve hours apart: timestamps far from zero must survive exactly."""
    hours = 3600 * 1000
    src = make_video(tmp_path / "long.mp4", width=16, height=16, frames=3, times_ms=[0, 6 * hours, 12 * hours])
    assert probe(src).duration >= 12 * 3600
    out = check_case(tmp_path, src)
    assert out is not None
    assert video_frame_times(out) == pytest.approx([0.0, 6 * 3600.0, 12 * 3600.0], abs=1e-3)


def test_larger_than_the_resolution_cap_is_refused_clearly(tmp_path):
    src = make_video(tmp_path / "wide.mkv", width=8200, height=16, frames=2, bframes=False)
    assert check_case(tmp_path, src) is None
    code, lines = redact_run(src, tmp_path / "again.mp4")
    assert "larger than the supported maximum" in lines[0] and "8200x16" in lines[0]


def test_pixel_cap_applies_to_the_area_too(tmp_path, monkeypatch):
    import importlib

    from redact.errors import InputError

    src = make_video(tmp_path / "small.mp4", width=W, height=H, frames=2)
    monkeypatch.setattr(importlib.import_module("redact.io.probe"), "MAX_VIDEO_PIXELS", W * H - 1)
    with pytest.raises(InputError, match="megapixels"):
        probe(src)


@pytest.mark.slow
def test_8k_works_within_bounded_memory(tmp_path):
    """7680x4320 (a phone's 8K mode) is processed, in a child process whose peak memory is measured."""
    plain = np.zeros((4320, 7680, 3), np.uint8)
    plain[:2160] = (200, 40, 40)
    src = make_video(tmp_path / "8k.mp4", width=7680, height=4320, frames=4, fps=30, bframes=False,
                     draw=lambda i: plain)
    out = tmp_path / "8k.clean.mp4"
    code = ("import resource, sys\nfrom redact.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit as e:\n    rc = e.code\n"
            "print('peak_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(rc)")
    r = subprocess.run([sys.executable, "-c", code, "-q", "run", str(src), "-o", str(out), "--text", "off",
                        "--no-report", "--preset", "ultrafast"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    peak_gb = int(r.stderr.split("peak_kb")[-1].split()[0]) / 1e6
    assert peak_gb < 6, f"peak RSS {peak_gb:.1f} GB"
    info = probe(out)
    assert (info.width, info.height) == (7680, 4320)
    with av.open(str(out)) as c:
        assert c.streams.video[0].frames == 4


# -- images ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("orientation,turns", [(3, 2), (6, 1), (8, 3)])
def test_jpeg_exif_orientation_comes_out_upright_without_exif(tmp_path, orientation, turns):
    """EXIF 6 = 'rotate 90 clockwise to display': stored turned a quarter counter-clockwise (np.rot90 k=1)."""
    upright = pattern(0, W, H)
    stored = np.ascontiguousarray(np.rot90(upright, k=turns))
    src = make_image(tmp_path / "photo.jpg", draw=lambda i: stored, orientation=orientation, gps=True)
    info = probe(src)
    assert (info.width, info.height) == (W, H), (orientation, info)
    out = check_case(tmp_path, src, "photo.clean.jpg")
    assert out is not None
    assert_looks_like(read_image(out), upright)
    from PIL import Image

    with Image.open(out) as im:
        assert len(im.getexif()) == 0


def test_png_with_alpha_is_composited_over_white(tmp_path):
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[..., :3] = pattern(0, W, H)
    rgba[..., 3] = 255
    rgba[:, W // 2:, 3] = 0  # right half fully transparent
    src = tmp_path / "alpha.png"
    from PIL import Image

    Image.fromarray(rgba, "RGBA").save(src)
    out = check_case(tmp_path, src, "alpha.clean.png")
    assert out is not None
    img = read_image(out)
    assert (img[:, W // 2 + 1:] == 255).all()  # what was invisible stays invisible (white), not revealed
    assert_looks_like(img[:, : W // 2], pattern(0, W, H)[:, : W // 2], tol=1.0)


def test_webp(tmp_path):
    src = make_image(tmp_path / "photo.webp", width=W, height=H)
    out = check_case(tmp_path, src, "photo.clean.webp")
    assert out is not None
    assert_looks_like(read_image(out), pattern(0, W, H), tol=15.0)


def test_iphone_heic_is_refused_clearly(tmp_path):
    """No HEIF reader is installed (Pillow without pillow-heif): an iPhone photo must be refused in one line,
    not decoded as a one-frame 'video' of its first tile."""
    base = make_video(tmp_path / "tile.mp4", width=W, height=H, frames=1)
    src = tmp_path / "IMG_0001.HEIC"
    ffmpeg("-i", str(base), "-frames:v", "1", "-c:v", "libx265", "-x265-params", "log-level=error",
           "-f", "mp4", "-brand", "heic", str(src))
    assert src.read_bytes()[8:12] == b"heic"
    assert check_case(tmp_path, src, "IMG_0001.clean.jpg") is None
    code, lines = redact_run(src, tmp_path / "x.jpg")
    assert "HEIC" in lines[0]


# -- bounded resources ----------------------------------------------------------------------------------------------
_PEAK = """
import resource, sys
import numpy as np
from redact.pipeline import render, scan
from redact.types import Detections

class Corner:  # a face in the top-left corner of every frame: the plan grows by one box per frame, as it should
    kind, name = "face", "corner"
    def detect(self, image):
        return Detections(np.array([[0, 0, 40, 40]], np.float32), np.array([0.9], np.float32))
    def describe(self):
        return {"name": self.name}

src, out = sys.argv[1:3]
plan = scan(src, detectors=[Corner()]).plan
render(src, plan, out, check_hash=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_memory_does_not_grow_with_clip_length(tmp_path):
    """Peak memory (child process) of scan + render of 100 and of 1000 frames of 320x240 with audio: were frames
    (230 KB each), decoded audio or encoder output kept, the long run would need 200 MB more."""
    peaks = {}
    for n in (100, 1000):
        src = make_video(tmp_path / f"{n}.mp4", width=320, height=240, frames=n, fps=25, audio=True, bframes=False)
        r = subprocess.run([sys.executable, "-c", _PEAK, str(src), str(tmp_path / f"{n}.clean.mp4")],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        peaks[n] = int(r.stdout.split()[-1]) / 1024  # MiB
    assert peaks[1000] < peaks[100] + 40, peaks
