"""FrameSource: frames in display orientation (checked against FFmpeg's own auto-rotation),
consistent indices/timestamps, truncated and corrupt inputs, images with EXIF orientation."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from redact.errors import InputError
from redact.io import FrameSource, probe, read_frames, read_image

from .media import ffmpeg, ffmpeg_frame, make_image, make_video, pattern, read_index


def _red_side(img: np.ndarray) -> str:
    """Which side of a rotated ``pattern`` (top half red, bottom blue) the red is on."""
    r = img[..., 0].astype(int) - img[..., 2].astype(int)
    h, w = r.shape
    sides = {"top": r[: h // 4].mean(), "bottom": r[-h // 4:].mean(), "left": r[:, : w // 4].mean(),
             "right": r[:, -w // 4:].mean()}
    return max(sides, key=sides.get)


def _close(a: np.ndarray, b: np.ndarray, tol: float = 6.0) -> bool:
    return a.shape == b.shape and float(np.abs(a.astype(int) - b.astype(int)).mean()) < tol


def test_frames_contract(tmp_path):
    p = make_video(tmp_path / "a.mp4", width=96, height=64, frames=7, fps=10)
    with FrameSource(p) as src:
        frames = list(src)
        assert src.frames_read == 7 and not src.truncated and src.error is None
    assert [f.index for f in frames] == list(range(7))
    for i, f in enumerate(frames):
        assert f.image.shape == (64, 96, 3) and f.image.dtype == np.uint8
        assert f.image.flags["C_CONTIGUOUS"]
        assert f.time == pytest.approx(i * 0.1, abs=1e-6)
        assert f.time == pytest.approx(float(f.pts * f.time_base))
        assert read_index(f.image, 7) == i
        assert _close(f.image, pattern(i, 96, 64), tol=8)


def test_iterating_twice_gives_the_same_frames(tmp_path):
    p = make_video(tmp_path / "a.mkv", width=64, height=48, frames=5)
    src = FrameSource(p)
    first = [(f.index, f.pts, f.image.copy()) for f in src]
    second = [(f.index, f.pts, f.image) for f in src]
    assert [x[:2] for x in first] == [x[:2] for x in second]
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(first, second))


@pytest.mark.parametrize("ccw, side", [(90, "left"), (270, "right"), (180, "bottom")])
def test_rotation_matches_ffmpeg_display(tmp_path, ccw, side):
    """``ffmpeg -display_rotation D`` rotates counter-clockwise by D; our MediaInfo.rotation is clockwise."""
    base = make_video(tmp_path / "base.mp4", width=96, height=64, frames=4)
    rot = tmp_path / f"rot{ccw}.mp4"
    ffmpeg("-display_rotation", str(ccw), "-i", base, "-c", "copy", rot)
    info = probe(rot)
    assert info.rotation == (360 - ccw) % 360
    assert (info.width, info.height) == ((64, 96) if ccw in (90, 270) else (96, 64))
    frames = read_frames(rot)
    assert len(frames) == 4
    assert frames[0].shape == (info.height, info.width, 3)
    assert _red_side(frames[0]) == side
    assert _close(frames[0], ffmpeg_frame(rot, 0))
    assert _close(frames[3], ffmpeg_frame(rot, 3))


def test_rotation_with_flip_matches_ffmpeg(tmp_path):
    base = make_video(tmp_path / "base.mp4", width=96, height=64, frames=2)
    rot = tmp_path / "flip.mp4"
    ffmpeg("-display_rotation", "90", "-display_hflip", "-i", base, "-c", "copy", rot)
    frames = read_frames(rot)
    ref = ffmpeg_frame(rot, 0)
    assert frames[0].shape == ref.shape == (96, 64, 3)
    assert _close(frames[0], ref)


def test_phone_style_rotation_90(tmp_path):
    """A portrait phone clip: landscape coded frames with a 90-degree clockwise display matrix."""
    p = make_video(tmp_path / "portrait.mov", width=96, height=64, frames=3, rotation=90, audio=True)
    assert probe(p).rotation == 90
    img = read_frames(p)[0]
    assert img.shape == (96, 64, 3)
    assert _red_side(img) == "right"
    assert _close(img, ffmpeg_frame(p, 0))
    assert _close(img, np.rot90(pattern(0, 96, 64), k=-1), tol=8)


def test_vfr_timestamps_are_kept(tmp_path):
    p = make_video(tmp_path / "vfr.mp4", frames=10, vfr=True)
    times = [f.time for f in FrameSource(p)]
    expected = [0.0, 0.1, 0.14, 0.3, 0.37, 0.5, 0.6, 0.655, 0.855, 0.955]
    assert times == pytest.approx(expected, abs=1e-6)


def test_raw_h264_counts_frames_and_synthesises_times(tmp_path):
    p = make_video(tmp_path / "raw.h264", width=64, height=48, frames=9)
    with FrameSource(p) as src:
        frames = list(src)
    assert src.info.frames is None
    assert len(frames) == 9 and not src.truncated
    times = [f.time for f in frames]
    assert all(b > a for a, b in zip(times, times[1:]))
    assert [read_index(f.image, 9) for f in frames] == list(range(9))


@pytest.mark.parametrize("name, kw", [("a.h265", {"codec": "hevc"}), ("a.webm", {"codec": "vp9"}),
                                      ("b.webm", {"codec": "vp8"}), ("a.mov", {}), ("a.3gp", {}),
                                      ("a.mkv", {"codec": "hevc"}), ("a.gif", {})])
def test_containers_decode_every_frame_in_order(tmp_path, name, kw):
    p = make_video(tmp_path / name, width=64, height=48, frames=6, **kw)
    frames = read_frames(p)
    assert [read_index(f, 6) for f in frames] == list(range(6))


def _truncate(src, dst, fraction=0.5):
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def test_truncated_mp4_gives_frames_up_to_the_break(tmp_path):
    full = make_video(tmp_path / "full.mp4", width=96, height=64, frames=30, faststart=True, audio=True)
    cut = _truncate(full, tmp_path / "cut.mp4")
    info = probe(cut)
    assert info.frames == 30  # the index still promises all of them
    with FrameSource(cut) as src:
        frames = list(src)
    assert src.truncated
    assert src.error and "\n" not in src.error
    assert 0 < len(frames) < 30 and src.frames_read == len(frames)
    assert [read_index(f.image, 30) for f in frames] == list(range(len(frames)))
    with pytest.raises(InputError, match="truncated"):
        list(FrameSource(cut, allow_truncated=False))


def test_truncation_at_a_packet_boundary_is_noticed(tmp_path):
    import av

    full = make_video(tmp_path / "full.mp4", width=96, height=64, frames=30, faststart=True)
    with av.open(str(full)) as c:
        positions = [pk.pos for pk in c.demux(c.streams.video[0]) if pk.size]
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: positions[12]])  # ends exactly after packet 11
    with FrameSource(cut) as src:
        n = sum(1 for _ in src)
    assert src.truncated and n <= 12
    assert "ends early" in src.error


def test_complete_file_with_edit_list_is_not_truncated(tmp_path):
    """A trimmed clip (edit list) decodes fewer frames than its index lists: that is not damage."""
    full = make_video(tmp_path / "full.mp4", frames=20)
    trimmed = tmp_path / "trim.mp4"
    ffmpeg("-ss", "0.55", "-i", full, "-c", "copy", trimmed)
    with FrameSource(trimmed) as src:
        n = sum(1 for _ in src)
    assert not src.truncated and src.error is None
    assert n < 20


def test_reading_leaves_the_source_untouched(tmp_path):
    p = make_video(tmp_path / "a.mp4", frames=4, audio=True)
    before = (p.read_bytes(), p.stat().st_mtime_ns)
    read_frames(p)
    probe(p)
    assert (p.read_bytes(), p.stat().st_mtime_ns) == before


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied(tmp_path, orientation):
    p = make_image(tmp_path / f"o{orientation}.jpg", width=60, height=40, orientation=orientation)
    img = read_image(p)
    with Image.open(p) as im:
        ref = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    assert img.shape == ref.shape
    assert np.array_equal(img, ref)
    info = probe(p)
    assert (info.width, info.height) == (img.shape[1], img.shape[0])


def test_image_frame_source(tmp_path):
    p = make_image(tmp_path / "a.png", width=50, height=30)
    with FrameSource(p) as src:
        frames = list(src)
    assert len(frames) == 1 and src.frames_read == 1 and not src.truncated
    f = frames[0]
    assert f.index == 0 and f.time is None and f.pts is None
    assert np.array_equal(f.image, pattern(0, 50, 30))


def test_image_transparency_is_composited_over_white(tmp_path):
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 0] = 200  # hidden red under full transparency
    rgba[:10, :, 3] = 255
    p = tmp_path / "t.png"
    Image.fromarray(rgba, "RGBA").save(p)
    img = read_image(p)
    assert img.shape == (20, 20, 3)
    assert (img[:10] == (200, 0, 0)).all()
    assert (img[10:] == 255).all()


def test_sixteen_bit_grey_png(tmp_path):
    a = (np.arange(64 * 32).reshape(32, 64) * 30).astype(np.uint16)
    p = tmp_path / "g16.png"
    Image.fromarray(a).save(p)
    img = read_image(p)
    assert img.shape == (32, 64, 3)
    assert abs(int(img[-1, -1, 0]) - int(a[-1, -1]) // 257) <= 1


def test_animated_transparency_is_white_like_images(tmp_path):
    """Pixels hidden under full transparency (here green) must not resurface in the analysed frame."""
    frames = []
    for i in range(3):
        rgba = np.zeros((30, 40, 4), np.uint8)
        rgba[..., 1] = 200  # hidden green everywhere
        rgba[:15, :, :] = (200, 0, 0, 255)  # opaque red top half
        rgba[:4, 5 * i:5 * i + 4] = (0, 0, 0, 255)  # moving mark, so frames differ
        frames.append(Image.fromarray(rgba, "RGBA"))
    p = tmp_path / "t.png"
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=100)
    assert probe(p).kind == "video"
    imgs = read_frames(p)
    assert len(imgs) == 3
    for img in imgs:
        assert np.abs(img[6:12].astype(int) - (200, 0, 0)).max() < 8
        assert img[18:].min() > 245


def test_resolution_change_mid_stream_is_scaled_to_the_first_size(tmp_path):
    a = make_video(tmp_path / "a.h264", width=96, height=64, frames=4)
    b = make_video(tmp_path / "b.h264", width=64, height=48, frames=4, draw=lambda i: pattern(i + 4, 64, 48))
    joined = tmp_path / "joined.h264"
    joined.write_bytes(a.read_bytes() + b.read_bytes())
    frames = read_frames(joined)
    assert len(frames) == 8
    assert {f.shape for f in frames} == {(64, 96, 3)}
    assert [read_index(f, 8) for f in frames] == list(range(8))
