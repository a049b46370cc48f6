"""write_image: upright output in the format of the destination's extension, with no metadata."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from redact.errors import InputError, OutputError
from redact.io import is_image_path, probe, read_image, write_image

from .media import make_image, make_video, pattern, srgb_icc

XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description exif:GPSLatitude="48,51.504N"/></x:xmpmeta>'


def identity(frame):
    return frame.image


def _assert_clean(path):
    raw = path.read_bytes()
    for needle in (b"Exif", b"GPS", b"Pixel 8", b"Google", b"xmpmeta", b"ward 7", b"ICC_PROFILE", b"iCCP"):
        assert needle not in raw, needle
    with Image.open(path) as im:
        assert len(im.getexif()) == 0
        assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"} & set(im.info), im.info.keys()


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_exif_rotated_gps_tagged_photo_comes_out_upright_and_clean(tmp_path, suffix):
    src = make_image(tmp_path / f"in{suffix}", width=80, height=50, orientation=6, gps=True,
                     make_model=("Google", "Pixel 8"), xmp=XMP, comment=b"ward 7", icc=srgb_icc())
    with Image.open(src) as im:  # the fixture really is tagged
        exif = im.getexif()
        assert exif.get(0x0112) == 6 and 0x8825 in exif and exif.get(0x0110) == "Pixel 8"
        assert im.info.get("icc_profile")
    assert b"Pixel 8" in src.read_bytes()
    with Image.open(src) as im:
        upright = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    dst = tmp_path / f"out{suffix}"
    res = write_image(src, dst, identity)
    assert (res.frames, res.width, res.height, res.audio) == (1, 50, 80, "none")
    _assert_clean(dst)
    out = read_image(dst)
    assert out.shape == (80, 50, 3)
    tol = 0 if suffix == ".png" else 6
    assert np.abs(out.astype(int) - upright.astype(int)).mean() <= max(tol, 0.5)
    assert probe(dst).rotation == 0


def test_output_format_follows_extension(tmp_path):
    src = make_image(tmp_path / "in.png", width=40, height=30)
    for suffix, fmt in ((".jpg", "JPEG"), (".jpeg", "JPEG"), (".png", "PNG"), (".webp", "WEBP"), (".bmp", "BMP"),
                        (".tiff", "TIFF")):
        dst = tmp_path / f"o{suffix}"
        write_image(src, dst, identity)
        with Image.open(dst) as im:
            assert im.format == fmt
            assert im.size == (40, 30)
    assert is_image_path(tmp_path / "o.jpg")


def test_png_roundtrip_is_lossless(tmp_path):
    src = make_image(tmp_path / "in.png", width=40, height=30)
    write_image(src, tmp_path / "o.png", identity)
    assert np.array_equal(read_image(tmp_path / "o.png"), pattern(0, 40, 30))


def test_processed_pixels_are_written(tmp_path):
    src = make_image(tmp_path / "in.png", width=40, height=30)

    def blank(frame):
        return np.zeros_like(frame.image)

    write_image(src, tmp_path / "o.png", blank)
    assert read_image(tmp_path / "o.png").max() == 0


def test_icc_profile_is_converted_not_copied(tmp_path):
    from PIL import ImageCms

    adobe_like = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    src = make_image(tmp_path / "in.jpg", width=40, height=30, icc=srgb_icc())
    write_image(src, tmp_path / "o.jpg", identity)
    _assert_clean(tmp_path / "o.jpg")
    # A profile that cannot describe RGB input is ignored with a warning, not fatal.
    bad = make_image(tmp_path / "bad.jpg", width=40, height=30, icc=adobe_like)
    assert read_image(bad).shape == (30, 40, 3)


def test_cmyk_and_grey_inputs(tmp_path):
    for mode in ("CMYK", "L"):
        src = make_image(tmp_path / f"{mode}.jpg", width=40, height=30, mode=mode)
        img = read_image(src)
        assert img.shape == (30, 40, 3) and img.dtype == np.uint8


def test_failures_leave_nothing(tmp_path):
    src = make_image(tmp_path / "in.jpg", width=40, height=30)
    out = tmp_path / "out"
    out.mkdir()

    class Boom(Exception):
        pass

    err = Boom()

    def raising(frame):
        raise err

    with pytest.raises(Boom) as e:
        write_image(src, out / "o.jpg", raising)
    assert e.value is err
    with pytest.raises(ValueError):
        write_image(src, out / "o.jpg", lambda f: f.image[:5])
    with pytest.raises(OutputError, match="unsupported output image type"):
        write_image(src, out / "o.heic", identity)
    with pytest.raises(OutputError, match="same file"):
        write_image(src, src, identity)
    with pytest.raises(InputError):
        write_image(tmp_path / "missing.jpg", out / "o.jpg", identity)
    assert list(out.iterdir()) == []


def test_source_untouched(tmp_path):
    src = make_image(tmp_path / "in.jpg", orientation=3, gps=True)
    before = (src.read_bytes(), src.stat().st_mtime_ns)
    write_image(src, tmp_path / "o.jpg", identity)
    assert (src.read_bytes(), src.stat().st_mtime_ns) == before


def test_video_is_not_an_image(tmp_path):
    vid = make_video(tmp_path / "v.mp4", frames=2)
    assert not is_image_path(vid)
    with pytest.raises(InputError):
        read_image(vid)
