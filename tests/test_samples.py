"""The shipped sample and the script that makes it."""

from __future__ import annotations

import importlib.util

import av
import pytest
from PIL import Image

from .conftest import ROOT

SAMPLES = ROOT / "samples"


def _module():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _describe(path):
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = sum(1 for _ in c.decode(v))
        return {"codec": v.codec_context.name, "size": (v.codec_context.width, v.codec_context.height),
                "audio": len(c.streams.audio), "duration": c.duration / 1e6, "frames": frames}


def test_shipped_demo_clip():
    p = SAMPLES / "demo.mp4"
    assert p.stat().st_size < 2 * 1024 * 1024
    d = _describe(p)
    assert d["codec"] == "h264" and d["size"] == (960, 540) and d["audio"] == 1
    assert 3 <= d["duration"] <= 6


def test_shipped_demo_photo_carries_gps_for_the_stripping_demo():
    with Image.open(SAMPLES / "demo.jpg") as im:
        exif = im.getexif()
        assert exif.get_ifd(0x8825), "demo.jpg should carry a GPS block"
        assert im.size == (960, 540)


def test_nhs_number_check():
    mod = _module()
    assert mod.nhs_number_valid("9434765919")
    assert mod.nhs_number_valid("943 476 5919")
    assert not mod.nhs_number_valid("9434765918")
    assert not mod.nhs_number_valid("123")


@pytest.mark.slow
def test_generator_reproduces_the_sample(tmp_path, monkeypatch):
    mod = _module()
    monkeypatch.setattr("sys.argv", ["make_samples.py", "--out", str(tmp_path)])
    mod.main()
    assert _describe(tmp_path / "demo.mp4")["frames"] == _describe(SAMPLES / "demo.mp4")["frames"]
    assert (tmp_path / "demo.jpg").exists()
