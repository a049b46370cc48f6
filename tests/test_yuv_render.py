"""The YUV fast path: 8-bit 4:2:0 clips are redacted plane by plane, with no RGB round trip.

Same frames, timestamps and orientation as the RGB path, visually the same output, redaction at
least as irreversible (per plane), chroma redacted under every redacted luma pixel; anything that
is not plain 8-bit 4:2:0 of even size still takes the RGB path.
"""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

import redact.io.yuv as yuv_io
from redact.errors import AnalysisError, PlanMismatchError
from redact.io import probe, read_frames, write_video
from redact.io.orient import NONE
from redact.io.colour import SWS_BT601, SWS_BT709, rgb_to_yuv
from redact.pipeline import RenderOptions, render
from redact.render import STYLES, Region, redact_planes, redact_regions
from redact.types import InputInfo, Plan, Track, TrackBox

from .conftest import listdir
from .media import ffmpeg, ffmpeg_frame, make_video, read_index, video_frame_times

EXACT = 18  # these tests compare pixels of the render paths: plain CRF 18, not the source-following default
FACE = (100, 60, 190, 170)  # x1, y1, x2, y2 in the 320x240 test clips: odd height, even/odd mix below


def identity(frame):
    return frame.image


def identity_planes(frame):
    return frame.planes


def _plan(path, boxes_per_frame, kind="face"):
    """A plan for ``path`` redacting ``boxes_per_frame[i]`` (list of boxes) in frame i."""
    info = probe(path)
    frames = len(boxes_per_frame)
    tracks = []
    for i, boxes in enumerate(boxes_per_frame):
        for k, box in enumerate(boxes):
            while len(tracks) <= k:
                tracks.append(Track(len(tracks) + 1, kind, []))
            tracks[k].boxes.append(TrackBox(i, tuple(float(v) for v in box), 0.9))
    return Plan(InputInfo(str(path), "0" * 64, "video", info.width, info.height, frames, info.fps), tracks)


def _output_planes(path):
    """(Y, U, V) of every frame of an upright 4:2:0 output, straight from the decoder."""
    out = []
    with av.open(str(path)) as c:
        for vf in c.decode(video=0):
            assert vf.format.name in yuv_io.PIX_FMTS
            out.append(yuv_io.display_planes(vf, NONE))
    return out


def _hf(a):
    a = a.astype(np.float64)
    return np.abs(np.diff(a, axis=0)).mean() + np.abs(np.diff(a, axis=1)).mean()


def _corr(a, b):
    da, db = a.astype(float) - a.mean(), b.astype(float) - b.mean()
    return (da * db).sum() / np.sqrt((da**2).sum() * (db**2).sum() + 1e-9)


def _textured(i, width=320, height=240):
    """Fine texture and colour everywhere (a face box must lose it, the rest must keep it)."""
    rng = np.random.default_rng(100)
    grey = cv2.resize(rng.uniform(40, 200, size=(height // 4, width // 4 + 4)), (width + 16, height),
                      interpolation=cv2.INTER_CUBIC)[:, 2 * i:2 * i + width]
    yy, xx = np.mgrid[0:height, 0:width]
    tint = np.stack([20 * np.sin(xx / 40), 20 * np.cos(yy / 30), -20 * np.sin((xx + yy) / 50)], -1)
    img = np.clip(grey[..., None] + tint, 0, 255).astype(np.uint8)
    img[::8] = (230, 230, 230)
    return img


# -- redact_planes -------------------------------------------------------------------------------------------
def _planes(h=120, w=160, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.integers(16, 236, size=(h, w), dtype=np.uint8)
    y[::4] = 235
    u = rng.integers(16, 241, size=(h // 2, w // 2), dtype=np.uint8)
    v = rng.integers(16, 241, size=(h // 2, w // 2), dtype=np.uint8)
    u[:, ::3] = 240
    return y, u, v


@pytest.mark.parametrize("style", STYLES)
def test_planes_irreversible_per_plane(style):
    """As for RGB: per plane, fine structure collapses and what is left does not correlate with it."""
    planes = _planes(120, 120)
    out = redact_planes(planes, [Region((0, 0, 120, 120), "text")], style=style)
    for name, a, b in zip("YUV", planes, out):
        assert _hf(b) < 0.1 * _hf(a), name
        assert abs(_corr(a, b)) < 0.3, name


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("kind", ["text", "face"])
def test_planes_change_only_the_region_and_its_chroma_box(style, kind):
    y, u, v = _planes(200, 200)
    box = (51, 61, 149, 171)  # odd edges: the chroma box must round outward
    out = redact_planes((y, u, v), [Region(box, kind)], style=style)
    assert all(o.shape == p.shape and o.dtype == np.uint8 for o, p in zip(out, (y, u, v)))
    inside = np.zeros(y.shape, bool)
    inside[61:171, 51:149] = True
    cinside = np.zeros(u.shape, bool)
    cinside[30:86, 25:75] = True  # 61 // 2, ceil(171 / 2); 51 // 2, ceil(149 / 2)
    assert np.array_equal(out[0][~inside], y[~inside])
    assert np.array_equal(out[1][~cinside], u[~cinside]) and np.array_equal(out[2][~cinside], v[~cinside])
    centre = (slice(90, 140), slice(80, 120))
    assert not np.array_equal(out[0][centre], y[centre])
    assert all(np.array_equal(p, q) for p, q in zip((y, u, v), _planes(200, 200))), "input planes were modified"


@pytest.mark.parametrize("box", [(51, 61, 149, 171), (50, 60, 150, 170), (3, 7, 40, 31)])
def test_every_redacted_luma_pixel_has_redacted_chroma(box):
    """Fill with values no input pixel has: the changed pixels are then exactly known. The luma
    mask is the RGB version's ellipse; each changed luma pixel's chroma sample is changed too."""
    h, w = 200, 200
    y, u, v = np.full((h, w), 200, np.uint8), np.full((h // 2, w // 2), 90, np.uint8), np.full((h // 2, w // 2), 90, np.uint8)
    out = redact_planes((y, u, v), [Region(box, "face")], style="fill", fill=(10, 20, 30))
    luma = out[0] == 10
    assert luma.any() and not luma[box[1], box[0]], "faces are ellipses"
    rgb = redact_regions(np.full((h, w, 3), 200, np.uint8), [Region(box, "face")], style="fill")
    assert np.array_equal(luma, (rgb != 200).any(axis=2)), "same shape as the RGB redaction"
    chroma = (out[1] == 20) & (out[2] == 30)
    ys, xs = np.nonzero(luma)
    assert chroma[ys // 2, xs // 2].all()
    assert ((out[1] == 20) == chroma).all() and ((out[2] == 30) == chroma).all()


def test_planes_blur_is_deterministic_per_seed():
    planes = _planes(64, 64)
    a = redact_planes(planes, [Region((0, 0, 64, 64))], seed=3)
    b = redact_planes(planes, [Region((0, 0, 64, 64))], seed=3)
    c = redact_planes(planes, [Region((0, 0, 64, 64))], seed=4)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[0], c[0]), "the noise follows the frame"


def test_planes_reject_bad_input():
    y, u, v = _planes(40, 40)
    with pytest.raises(ValueError, match="style"):
        redact_planes((y, u, v), [], style="swirl")
    with pytest.raises(ValueError, match="chroma"):
        redact_planes((y, u[:10], v), [])


def test_fill_colour_follows_matrix_and_range():
    assert rgb_to_yuv((255, 0, 0), SWS_BT709, False) == (63, 102, 240)
    assert rgb_to_yuv((0, 0, 255), SWS_BT601, False) == (41, 240, 110)
    assert rgb_to_yuv((255, 255, 255), SWS_BT601, True) == (255, 128, 128)
    assert rgb_to_yuv((0, 0, 0), SWS_BT709, False) == (16, 128, 128)


# -- write_video(process_yuv=...) ----------------------------------------------------------------------------
def test_which_inputs_take_the_fast_path(tmp_path):
    assert yuv_io.supports(probe(make_video(tmp_path / "a.mp4", frames=2)))
    assert yuv_io.supports(probe(make_video(tmp_path / "j.mp4", frames=2, pix_fmt="yuvj420p")))
    assert not yuv_io.supports(probe(make_video(tmp_path / "b.mp4", frames=2, pix_fmt="yuv444p")))
    assert not yuv_io.supports(probe(make_video(tmp_path / "c.mp4", frames=2, pix_fmt="yuv420p10le")))
    assert not yuv_io.supports(probe(make_video(tmp_path / "d.mp4", width=95, height=63, frames=2)))
    assert not yuv_io.supports(probe(make_video(tmp_path / "e.gif", frames=2)))


@pytest.mark.parametrize("vfr", [False, True])
def test_fast_path_keeps_frames_and_timestamps(tmp_path, vfr):
    src = make_video(tmp_path / "in.mp4", frames=14, vfr=vfr, audio=True)
    seen, rgb_calls = [], []
    res = write_video(src, tmp_path / "o.mp4", rgb_calls.append, process_yuv=identity_planes, progress=seen.append)
    assert res.pixels == "yuv420p" and rgb_calls == [] and res.frames == 14 and seen == list(range(1, 15))
    assert video_frame_times(tmp_path / "o.mp4") == pytest.approx(video_frame_times(src), abs=1e-4)
    assert [read_index(f, 14) for f in read_frames(tmp_path / "o.mp4")] == list(range(14))


@pytest.mark.parametrize("ccw", [90, 270])
def test_fast_path_planes_are_in_display_orientation(tmp_path, ccw):
    base = make_video(tmp_path / "base.mp4", width=96, height=64, frames=4, audio=True)
    rot = tmp_path / "rot.mp4"
    ffmpeg("-display_rotation", str(ccw), "-i", base, "-c", "copy", rot)
    given = []

    def keep(frame):
        given.append(frame)
        return frame.planes

    res = write_video(rot, tmp_path / "o.mp4", identity, process_yuv=keep)
    assert res.pixels == "yuv420p" and (res.width, res.height) == (64, 96)
    # each plane lines up with what the RGB path shows (correlation is blind to matrix and range)
    for frame, img in zip(given, read_frames(rot)):
        ycc = cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb)
        half = cv2.resize(ycc, (32, 48), interpolation=cv2.INTER_AREA)
        y, u, v = frame.planes
        assert (y.shape, u.shape, v.shape) == ((96, 64), (48, 32), (48, 32))
        assert _corr(y, ycc[..., 0]) > 0.95 and _corr(u, half[..., 2]) > 0.95 and _corr(v, half[..., 1]) > 0.95
    for k in (0, 3):  # and the output looks like the source does in a player
        a, b = ffmpeg_frame(tmp_path / "o.mp4", k).astype(int), ffmpeg_frame(rot, k).astype(int)
        assert a.shape == b.shape and np.abs(a - b).mean() < 3.0


def test_fast_path_keeps_full_range(tmp_path):
    src = make_video(tmp_path / "in.mp4", width=320, height=240, frames=2, pix_fmt="yuvj420p", draw=_textured)
    res = write_video(src, tmp_path / "o.mp4", identity, process_yuv=identity_planes)
    assert res.pixels == "yuv420p"
    with av.open(str(tmp_path / "o.mp4")) as c:
        assert c.streams.video[0].codec_context.color_range == 2
    a, b = ffmpeg_frame(src).astype(int), ffmpeg_frame(tmp_path / "o.mp4").astype(int)
    assert np.abs((b - a).reshape(-1, 3).mean(0)).max() < 1.0


def test_planes_handed_out_are_the_callers_own(tmp_path):
    """Scribbling over the planes must not reach the decoder's reference frames (decoded one at a
    time with no B-frames, every P-frame predicts from the frame handed out just before)."""
    src = make_video(tmp_path / "in.mp4", width=256, height=64, frames=6, bframes=False)  # rows without padding

    def levels(scribble):
        out = []
        with av.open(str(src)) as c:
            stream = c.streams.video[0]
            stream.thread_type = "NONE"
            for vf in c.decode(stream):
                planes = yuv_io.display_planes(vf, NONE)
                out.append([float(p.mean()) for p in planes])
                if scribble:
                    for p in planes:
                        p[...] = 255
        return out

    assert levels(scribble=True) == levels(scribble=False)


def test_bad_planes_fail_closed(tmp_path):
    src = make_video(tmp_path / "in.mp4", frames=3)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ValueError, match="U plane"):
        write_video(src, out / "o.mp4", identity, process_yuv=lambda f: (f.planes[0], f.planes[1][:-1], f.planes[2]))
    with pytest.raises(TypeError):
        write_video(src, out / "o.mp4", identity, process_yuv=lambda f: f.planes[0])
    assert listdir(out) == []


# -- pipeline.render -----------------------------------------------------------------------------------------
@pytest.fixture
def textured_clip(tmp_path):
    p = tmp_path / "in" / "clip.mp4"
    p.parent.mkdir()
    return make_video(p, width=320, height=240, frames=6, fps=10, draw=_textured)


def _rgb_path(monkeypatch):
    monkeypatch.setattr(yuv_io, "supports", lambda info: False)


@pytest.mark.parametrize("style", STYLES)
def test_fast_and_rgb_paths_look_the_same(textured_clip, tmp_path, monkeypatch, style):
    plan = _plan(textured_clip, [[FACE, (10, 11, 41, 37)]] * 6)
    fast = render(textured_clip, plan, tmp_path / "fast.mp4", RenderOptions(style=style, crf=EXACT), check_hash=False)
    with monkeypatch.context() as m:
        _rgb_path(m)
        slow = render(textured_clip, plan, tmp_path / "slow.mp4", RenderOptions(style=style, crf=EXACT), check_hash=False)
    assert (fast.write.pixels, slow.write.pixels) == ("yuv420p", "rgb")
    src, a, b = read_frames(textured_clip), read_frames(tmp_path / "fast.mp4"), read_frames(tmp_path / "slow.mp4")
    region = np.zeros((240, 320), bool)
    for x1, y1, x2, y2 in (FACE, (10, 11, 41, 37)):
        region[y1 - 2:y2 + 2, x1 - 2:x2 + 2] = True
    face = (slice(90, 140), slice(125, 165))  # inside the ellipse
    for s, f, r in zip(src, a, b):
        assert np.abs(f.astype(int) - r.astype(int))[~region].mean() < 2.0
        assert np.abs(f.astype(int) - s.astype(int))[~region].mean() < 2.0
        for out in (f, r):
            assert _hf(out[face]) < 0.15 * _hf(s[face])
        assert np.abs(f[face].astype(float).mean((0, 1)) - r[face].astype(float).mean((0, 1))).max() < 6


def test_chroma_of_a_redacted_face_is_flattened(tmp_path):
    """Saturated colour stripes in the face box: after the fast path no colour structure is left."""
    stripes = np.array([(230, 20, 20), (20, 200, 40), (30, 40, 230), (240, 220, 20)], np.uint8)

    def draw(i):
        img = np.full((240, 320, 3), 128, np.uint8)
        x1, y1, x2, y2 = FACE
        img[y1:y2, x1:x2] = stripes[(np.arange(x1, x2) // 4 + i) % 4][None, :, :]
        return img

    src = make_video(tmp_path / "stripes.mp4", width=320, height=240, frames=4, draw=draw)
    res = render(src, _plan(src, [[FACE]] * 4), tmp_path / "o.mp4", RenderOptions(crf=EXACT), check_hash=False)
    assert res.write.pixels == "yuv420p"
    core = (slice(45, 70), slice(62, 83))  # chroma samples well inside the face ellipse
    for before, after in zip(_output_planes(src), _output_planes(tmp_path / "o.mp4")):
        for name, a, b in zip("UV", before[1:], after[1:]):
            assert b[core].std() < 0.15 * a[core].std(), name
            assert _hf(b[core]) < 0.1 * _hf(a[core]), name


@pytest.mark.parametrize("pix_fmt", ["yuv444p", "yuv420p10le"])
def test_other_formats_fall_back_to_rgb(tmp_path, pix_fmt):
    src = make_video(tmp_path / "in.mp4", width=320, height=240, frames=3, pix_fmt=pix_fmt, draw=_textured)
    res = render(src, _plan(src, [[FACE]] * 3), tmp_path / "o.mp4", RenderOptions(crf=EXACT), check_hash=False)
    assert res.write.pixels == "rgb" and res.write.frames == 3
    face = (slice(90, 140), slice(125, 165))
    for s, o in zip(read_frames(src), read_frames(tmp_path / "o.mp4")):
        assert _hf(o[face]) < 0.15 * _hf(s[face])
        assert np.abs(o[200:].astype(int) - s[200:].astype(int)).mean() < 3


def test_fast_path_fails_closed_on_frames_the_plan_never_saw(textured_clip, tmp_path):
    assert yuv_io.supports(probe(textured_clip))
    plan = _plan(textured_clip, [[FACE]] * 4)  # the clip has 6 frames
    with pytest.raises(AnalysisError, match="not analysed"):
        render(textured_clip, plan, tmp_path / "o.mp4", RenderOptions(crf=EXACT), check_hash=False)
    plan = _plan(textured_clip, [[FACE]] * 6)
    plan.input.width = 322
    with pytest.raises(PlanMismatchError):
        render(textured_clip, plan, tmp_path / "o.mp4", RenderOptions(crf=EXACT), check_hash=False)
    assert listdir(tmp_path) == ["in"]


def test_rotated_clip_is_redacted_where_the_plan_says(tmp_path):
    """Boxes are in display coordinates: on a 90-degree phone clip the fast path redacts the same place."""
    base = make_video(tmp_path / "base.mp4", width=240, height=320, frames=3, draw=lambda i: _textured(i, 240, 320))
    rot = tmp_path / "rot.mp4"
    ffmpeg("-display_rotation", "90", "-i", base, "-c", "copy", rot)
    info = probe(rot)
    assert (info.width, info.height) == (320, 240)
    res = render(rot, _plan(rot, [[FACE]] * 3, kind="text"), tmp_path / "o.mp4", RenderOptions(crf=EXACT),
                 check_hash=False)
    assert res.write.pixels == "yuv420p"
    inside = (slice(62, 168), slice(102, 188))
    for s, o in zip(read_frames(rot), read_frames(tmp_path / "o.mp4")):
        assert _hf(o[inside]) < 0.15 * _hf(s[inside])
        assert np.abs(o[180:].astype(int) - s[180:].astype(int)).mean() < 3
