"""Redaction styles: irreversible, confined to their regions, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from redact.render import STYLES, Region, redact_regions


def _face_like(h=120, w=100, seed=1):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    # a structured pattern (edges, stripes) that a light blur would leave recognisable
    img[::4, :, :] = 255
    img[:, ::7, 1] = 0
    return img


@pytest.mark.parametrize("style", STYLES)
def test_only_the_region_changes(style):
    img = _face_like(200, 200)
    out = redact_regions(img, [Region((50, 60, 150, 170), "text")], style=style)
    assert out.shape == img.shape and out.dtype == np.uint8
    mask = np.zeros(img.shape[:2], bool)
    mask[60:170, 50:150] = True
    assert np.array_equal(out[~mask], img[~mask])
    assert not np.array_equal(out[mask], img[mask])
    assert np.array_equal(img, _face_like(200, 200)), "input image was modified"


@pytest.mark.parametrize("style", STYLES)
def test_irreversible_detail_is_destroyed(style):
    """Within a redacted region only a coarse grid of colours survives: no fine structure to invert."""
    img = _face_like(120, 120)
    out = redact_regions(img, [Region((0, 0, 120, 120), "text")], style=style)
    # high-frequency energy (neighbouring pixel differences) collapses
    def hf(a):
        a = a.astype(np.float64)
        return np.abs(np.diff(a, axis=0)).mean() + np.abs(np.diff(a, axis=1)).mean()

    assert hf(out) < 0.1 * hf(img)
    # the correlation with the original's fine detail is ~0
    d_orig = img.astype(float) - img.astype(float).mean()
    d_out = out.astype(float) - out.astype(float).mean()
    corr = (d_orig * d_out).sum() / np.sqrt((d_orig ** 2).sum() * (d_out ** 2).sum() + 1e-9)
    assert abs(corr) < 0.3


def test_face_regions_are_ellipses_and_boxes_are_full():
    img = np.full((100, 100, 3), 128, np.uint8)
    img[:, :, 0] = np.arange(100, dtype=np.uint8)[None, :] * 2
    out = redact_regions(img, [Region((0, 0, 100, 100), "face")], style="fill")
    assert np.array_equal(out[0, 0], img[0, 0]), "ellipse leaves corners"
    assert not np.array_equal(out[50, 50], img[50, 50])
    out = redact_regions(img, [Region((0, 0, 100, 100), "badge")], style="fill")
    assert not np.array_equal(out[0, 0], img[0, 0])


def test_regions_outside_or_degenerate_are_ignored():
    img = _face_like(50, 50)
    out = redact_regions(img, [Region((60, 60, 80, 80)), Region((10, 10, 10, 30)), Region((-20, -20, -1, -1))])
    assert np.array_equal(out, img)


def test_partly_outside_region_is_clipped():
    img = _face_like(50, 50)
    out = redact_regions(img, [Region((40, 40, 90, 90), "text")], style="fill")
    assert (out[40:, 40:] == out[45, 45]).all()
    assert np.array_equal(out[:40], img[:40])


def test_deterministic_for_a_seed():
    img = _face_like(64, 64)
    a = redact_regions(img, [Region((0, 0, 64, 64))], seed=3)
    b = redact_regions(img, [Region((0, 0, 64, 64))], seed=3)
    assert np.array_equal(a, b)


def test_unknown_style_rejected():
    with pytest.raises(ValueError):
        redact_regions(_face_like(10, 10), [], style="swirl")
