"""The shipped demo sample and the script that makes it."""

from __future__ import annotations

import importlib.util
import sys

import av
import numpy as np
import pytest
from PIL import Image

from .conftest import ROOT

SAMPLES = ROOT / "samples"


@pytest.fixture(scope="module")
def make_samples():
    name = "make_samples_under_test"
    spec = importlib.util.spec_from_file_location(name, SAMPLES / "make_samples.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop(name, None)


def _describe(path):
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        a = c.streams.audio
        frames = sum(1 for _ in c.decode(v))
        return {"codec": v.codec_context.name, "size": (v.codec_context.width, v.codec_context.height),
                "fps": float(v.average_rate), "audio": [s.codec_context.name for s in a],
                "duration": c.duration / 1e6, "frames": frames}


def _frames(path, indices):
    with av.open(str(path)) as c:
        return {i: f.to_ndarray(format="rgb24").astype(np.int16)
                for i, f in enumerate(c.decode(video=0)) if i in indices}


def test_shipped_demo_clip():
    p = SAMPLES / "demo.mp4"
    assert p.stat().st_size < 2 * 1024 * 1024
    d = _describe(p)
    assert d["codec"] == "h264" and d["size"] == (960, 540)
    assert d["audio"] == ["aac"]
    assert d["fps"] == 25 and d["frames"] == 100
    assert 3.9 <= d["duration"] <= 4.2


def test_shipped_demo_photo_carries_orientation_device_and_gps():
    with Image.open(SAMPLES / "demo.jpg") as im:
        assert im.format == "JPEG" and im.size == (960, 540)
        exif = im.getexif()
        assert exif.get(0x0112) == 1  # orientation
        assert exif.get(0x010F) and exif.get(0x0110)  # make, model
        gps = exif.get_ifd(0x8825)
        assert gps.get(1) == "N" and len(gps.get(2, ())) == 3


def test_nhs_number_check(make_samples):
    assert make_samples.nhs_number_valid(make_samples.NHS_NUMBER)
    assert make_samples.nhs_number_valid("9434765919")
    assert make_samples.nhs_check_digit("943476591") == 9
    assert not make_samples.nhs_number_valid("9434765918")
    assert not make_samples.nhs_number_valid("123")
    # 11 - (sum mod 11) == 10 means no valid number has these nine digits
    assert make_samples.nhs_check_digit("000000006") is None
    assert make_samples.nhs_check_digit("000000000") == 0


def test_scene_is_deterministic_and_moves(make_samples):
    assets = make_samples.build_assets()
    a0 = make_samples.render_frame(assets, 0)
    assert a0.shape == (540, 960, 3) and a0.dtype == np.uint8
    assert np.array_equal(a0, make_samples.render_frame(make_samples.build_assets(), 0))
    a1 = make_samples.render_frame(assets, 1)
    assert np.abs(a1.astype(int) - a0).mean() > 0.5, "camera and people should move every frame"


def test_audio_is_deterministic_and_speech_like(make_samples):
    a = make_samples.make_audio()
    assert a.dtype == np.float32 and len(a) == make_samples.SECONDS * make_samples.AUDIO_RATE
    assert np.array_equal(a, make_samples.make_audio())
    assert 0.1 < np.abs(a).max() < 1.0
    # syllables and pauses: the loudness over 50 ms windows varies a lot
    rms = np.sqrt((a[: len(a) // 2400 * 2400].reshape(-1, 2400) ** 2).mean(axis=1))
    assert rms.max() > 5 * rms.min()


@pytest.mark.slow
def test_generator_reproduces_the_shipped_sample(make_samples, tmp_path):
    assert make_samples.main(["--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.jpg", "demo.mp4"], "no temp files left"
    assert _describe(tmp_path / "demo.mp4") == _describe(SAMPLES / "demo.mp4")
    # same pictures (allowing for encoder/library drift between versions): the shipped sample is up to date
    new, old = _frames(tmp_path / "demo.mp4", {0, 50, 99}), _frames(SAMPLES / "demo.mp4", {0, 50, 99})
    for i in (0, 50, 99):
        assert np.abs(new[i] - old[i]).mean() < 2.0, f"frame {i} differs from the shipped demo.mp4"
    with Image.open(tmp_path / "demo.jpg") as im:
        assert im.getexif().get_ifd(0x8825)
