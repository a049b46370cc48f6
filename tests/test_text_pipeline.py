"""On-screen text through the whole pipeline: redacted, categorised, and never written down."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from redact.io import FrameSource
from redact.pipeline import ScanOptions, run, scan

from .media import make_video

SECRETS = ("John", "Example", "943 476 5919", "9434765919", "01/02/1960")


def _screen(i: int) -> np.ndarray:
    img = Image.new("RGB", (480, 270), (235, 238, 240))
    d = ImageDraw.Draw(img)
    f = ImageFont.load_default(size=24)
    x = 20 + i  # a slow pan
    d.text((x, 20), "Name: John Example", font=f, fill=(10, 10, 10))
    d.text((x, 70), "DOB: 01/02/1960", font=f, fill=(10, 10, 10))
    d.text((x, 120), "NHS No: 943 476 5919", font=f, fill=(10, 10, 10))
    d.text((330, 210), "EXIT", font=f, fill=(200, 20, 20))
    return np.asarray(img)


@pytest.fixture(scope="module")
def screen_clip(tmp_path_factory):
    p = tmp_path_factory.mktemp("text") / "screen.mp4"
    make_video(p, width=480, height=270, frames=6, fps=5, draw=_screen)
    return p


def test_text_is_redacted_with_categories_and_nothing_leaks(screen_clip, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "screen.clean.mp4"
    res = run(screen_clip, out, ScanOptions(text_every=3))
    cats = {t.category for t in res.scan.plan.tracks if t.kind == "text"}
    assert {"name", "date", "nhs_number"} <= cats
    # every frame's NHS-number line is covered by a text box
    by_frame = res.scan.plan.boxes_by_frame()
    for i in range(6):
        cx, cy = 20 + i + 120, 132
        assert any(t.kind == "text" and b.box[0] <= cx <= b.box[2] and b.box[1] <= cy <= b.box[3]
                   for t, b in by_frame[i]), f"frame {i}"
    # and the pixels there changed
    with FrameSource(screen_clip) as a, FrameSource(out) as b:
        for s, d in zip(a, b):
            line = (slice(120, 146), slice(40, 260))
            assert np.abs(s.image[line].astype(int) - d.image[line].astype(int)).mean() > 8
    written = [out.with_suffix("").as_posix() + ext for ext in (".report.json", ".report.html")]
    texts = [open(p, encoding="utf-8").read() for p in written] + [res.scan.plan.to_json()]
    texts += [r.getMessage() for r in caplog.records]
    for secret in SECRETS:
        assert not any(secret in t for t in texts), f"{secret!r} leaked"
    assert json.loads(texts[0])["summary"]["categories"]["nhs_number"] >= 1


def test_pii_mode_leaves_harmless_text(screen_clip):
    plan = scan(screen_clip, ScanOptions(text="pii", text_every=3)).plan
    by_frame = plan.boxes_by_frame()
    exit_sign = (360, 222)
    assert not any(t.kind == "text" and b.box[0] <= exit_sign[0] <= b.box[2] and b.box[1] <= exit_sign[1] <= b.box[3]
                   for t, b in by_frame[0])
    assert any(t.category == "nhs_number" for t in plan.tracks)


def test_text_off(screen_clip):
    plan = scan(screen_clip, ScanOptions(text="off")).plan
    assert not any(t.kind == "text" for t in plan.tracks)
