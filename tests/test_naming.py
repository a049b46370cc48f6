"""Output naming (issue 15 item 1): one module names the cleaned copy, plan and report for run, batch and review;
a photo's cleaned copy is a photo of a kind the writer supports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from redact import naming
from redact.cli import cli
from redact.manifest import MANIFEST_NAME, read_records
from redact.review.session import default_output as review_default_output

from .media import make_image, make_video

FAST = ["--text", "off", "--preset", "ultrafast", "--no-html"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def still_gif(path: Path) -> Path:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), np.uint8)).save(path)
    return path


@pytest.mark.parametrize("name, expected", [("photo.bmp", "photo.clean.bmp"), ("photo.tif", "photo.clean.tif"),
                                            ("photo.TIFF", "photo.clean.tiff"), ("photo.gif", "photo.clean.png")])
def test_run_cleans_bmp_tiff_and_still_gif_photos_into_photos(tmp_path, name, expected):
    src = still_gif(tmp_path / name) if name.endswith("gif") else make_image(tmp_path / name, width=64, height=48)
    r = invoke("run", src, "--text", "off")
    assert r.exit_code == 0, r.output
    out = tmp_path / expected
    assert out.is_file()
    with Image.open(out) as im:
        assert im.size == (64, 48)
    assert naming.report_paths(out)[0].is_file()


def test_batch_cleans_bmp_tiff_and_still_gif_photos(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    make_image(src / "a.bmp", width=64, height=48)
    make_image(src / "b.tiff", width=64, height=48)
    still_gif(src / "c.gif")
    make_video(src / "d.mov", width=64, height=48, frames=3, fps=10)
    r = invoke("batch", src, "-o", out, *FAST)
    assert r.exit_code == 0, r.output
    recs = {rec["input"]["path"]: rec for rec in read_records(out / MANIFEST_NAME)}
    assert {k: v["status"] for k, v in recs.items()} == dict.fromkeys(["a.bmp", "b.tiff", "c.gif", "d.mov"], "done")
    for name in ("a.clean.bmp", "b.clean.tiff", "c.clean.png", "d.clean.mp4"):
        assert (out / name).is_file(), name


def test_run_batch_and_review_name_outputs_the_same_way(tmp_path):
    for name, kind, expected in [("clip.MOV", "video", "clip.clean.mp4"), ("p.JPG", "image", "p.clean.jpg"),
                                 ("p.bmp", "image", "p.clean.bmp"), ("p.gif", "image", "p.clean.png"),
                                 ("p.heic", "image", "p.clean.png"), ("anim.gif", "video", "anim.clean.mp4")]:
        src = tmp_path / name
        assert naming.default_output(src, kind) == tmp_path / expected
        assert review_default_output(src, kind) == tmp_path / expected
    out = tmp_path / "clip.clean.mp4"
    assert naming.plan_path(out) == tmp_path / "clip.clean.plan.json"
    assert naming.report_paths(out) == (tmp_path / "clip.clean.report.json", tmp_path / "clip.clean.report.html")


def test_every_suffix_the_commands_accept_is_one_list():
    """The writer's photo types are the photo outputs; inputs are what the readers take."""
    from redact.io import IMAGE_WRITE_FORMATS, VIDEO_SUFFIXES

    assert set(naming.IMAGE_OUT_SUFFIXES) == set(IMAGE_WRITE_FORMATS)
    assert set(naming.VIDEO_OUT_SUFFIXES) == set(VIDEO_SUFFIXES)
    assert set(naming.IMAGE_OUT_SUFFIXES) <= set(naming.IMAGE_IN_SUFFIXES)
    with pytest.raises(naming.OutputError):
        naming.check_output_suffix(Path("x.clean.mp4"), "image")
    with pytest.raises(naming.OutputError):
        naming.check_output_suffix(Path("x.clean.png"), "video")
    naming.check_output_suffix(Path("x.clean.bmp"), "image")
