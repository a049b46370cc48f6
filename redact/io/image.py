"""Still images (JPEG, PNG, WebP, BMP, TIFF, single-frame GIF) with Pillow.

On read: the EXIF orientation is applied (display orientation), an embedded ICC profile is
converted to sRGB, transparency is composited over white (so what is analysed is what is
written). On write: a brand-new image is built from the processed pixels, so no EXIF, XMP,
GPS, ICC profile, comment or thumbnail of the source can reach the output.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from ..errors import InputError, OutputError
from . import orient
from .atomic import atomic_path, check_unchanged, same_file
from .model import Frame, MediaInfo, WriteResult

log = logging.getLogger(__name__)

Image.init()  # register every plugin, so the restricted ``formats=`` lists below resolve
READ_FORMATS = tuple(f for f in ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF") if f in Image.OPEN)
"""Pillow plugins tried on input (a fixed list: Pillow's formats without a signature, such as
TGA, would otherwise claim random bytes)."""

WRITE_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
JPEG_QUALITY = 95
WEBP_QUALITY = 95
_EXIF_ORIENTATION = 0x0112


@contextlib.contextmanager
def _pillow_quiet() -> Iterator[None]:
    """Pillow reports some problems with ``warnings`` (printed on stderr): corrupt EXIF, and images above ~89 MP
    (it raises above ~179 MP). Library code prints nothing: they are logged instead, and a big phone photo
    (108 MP) is processed without a stray line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        log.debug("Pillow: %s", w.message)


def sniff(path: str | os.PathLike[str]) -> tuple[str, bool] | None:
    """``(pillow_format, animated)`` if Pillow recognises ``path`` as an image, else ``None``.

    Raises :class:`InputError` for an image too large to decode safely."""
    try:
        with _pillow_quiet(), Image.open(path, formats=READ_FORMATS) as im:
            animated = bool(getattr(im, "is_animated", False)) and im.format != "MPO"
            return str(im.format), animated
    except Image.DecompressionBombError as e:
        raise InputError(f"image is too large to process safely: {path} ({e})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def _open(path: str | os.PathLike[str]) -> Image.Image:
    try:
        with _pillow_quiet():
            return Image.open(path, formats=READ_FORMATS)
    except Image.DecompressionBombError as e:
        raise InputError(f"image is too large to process safely: {path} ({e})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise InputError(f"not a readable image: {path} ({e})") from None


def _orientation(im: Image.Image) -> orient.Orientation:
    try:
        with _pillow_quiet():
            return orient.from_exif(im.getexif().get(_EXIF_ORIENTATION, 1))
    except (OSError, ValueError, SyntaxError, KeyError, TypeError) as e:
        log.warning("ignoring unreadable EXIF in %s: %s", getattr(im, "filename", "image"), e)
        return orient.NONE


def probe_image(path: str | os.PathLike[str]) -> MediaInfo:
    with _open(path) as im:
        o = _orientation(im)
        w, h = o.display_size(*im.size)
        fmt = str(im.format)
        return MediaInfo(
            path=str(path), kind="image", width=w, height=h, rotation=o.rotation, fps=0.0, frames=1,
            duration=None, video_codec=fmt.lower(), audio=[], container=fmt.lower(),
            coded_width=im.size[0], coded_height=im.size[1], pix_fmt=im.mode,
        )


def _to_srgb(base: Image.Image, icc: bytes | None) -> Image.Image:
    """Colour-manage ``base`` (no alpha) to sRGB RGB; without a usable profile just convert."""
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            out = ImageCms.profileToProfile(base, src, dst, outputMode="RGB")
            if out is not None:
                return out
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as e:
            log.warning("ignoring unusable ICC profile: %s", e)
    return base.convert("RGB")


def _high_bit_depth_to_8(im: Image.Image) -> Image.Image:
    a = np.asarray(im)
    if a.dtype.kind == "f":
        a8 = np.clip(a * 255.0 if a.max(initial=0) <= 1.0 else a, 0, 255).astype(np.uint8)
    else:
        peak = 65535 if a.max(initial=0) > 255 else 255
        a8 = (a.astype(np.float64) * (255.0 / peak) + 0.5).astype(np.uint8)
    return Image.fromarray(a8, "L")


def _pixels(im: Image.Image) -> np.ndarray:
    """Coded-orientation RGB uint8 pixels of an opened image, alpha composited over white."""
    icc = im.info.get("icc_profile")
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        im = _high_bit_depth_to_8(im)
    if im.mode == "P" or (im.mode in ("L", "RGB") and "transparency" in im.info):
        im = im.convert("RGBA")
    alpha = None
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        alpha = np.asarray(im.getchannel("A"), dtype=np.float32)[..., None] / 255.0
        im = im.convert("RGB" if im.mode in ("RGBA", "RGBa", "PA") else "L")
    rgb = np.asarray(_to_srgb(im, icc), dtype=np.uint8)
    if alpha is not None:
        rgb = (rgb.astype(np.float32) * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)
    return rgb


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """The image as H x W x 3 uint8 RGB in display orientation (C-contiguous)."""
    with _open(path) as im:
        o = _orientation(im)
        try:
            with _pillow_quiet():
                im.seek(0)
                im.load()
                rgb = _pixels(im)
        except (OSError, ValueError, SyntaxError) as e:
            raise InputError(f"image is corrupt or truncated: {path} ({e})") from None
    return o.apply(rgb)


def image_frame(path: str | os.PathLike[str]) -> Frame:
    return Frame(index=0, image=read_image(path), time=None, pts=None, time_base=None)


def output_format(dst: str | os.PathLike[str]) -> str:
    ext = Path(dst).suffix.lower()
    fmt = WRITE_FORMATS.get(ext)
    if fmt is None:
        raise OutputError(
            f"unsupported output image type {ext or '(no extension)'!r}: use one of {', '.join(sorted(WRITE_FORMATS))}"
        )
    return fmt


def check_processed(img: object, height: int, width: int) -> np.ndarray:
    """Validate what a ``process`` callback returned: H x W x 3 uint8 of the frame's size."""
    if not isinstance(img, np.ndarray):
        raise TypeError(f"process must return a numpy array, got {type(img).__name__}")
    if img.dtype != np.uint8 or img.shape != (height, width, 3):
        raise ValueError(
            f"process must return a {height}x{width}x3 uint8 image, got {img.shape} {img.dtype}"
        )
    return np.ascontiguousarray(img)


def _save_kwargs(fmt: str) -> dict[str, object]:
    if fmt == "JPEG":
        return {"quality": JPEG_QUALITY}
    if fmt == "WEBP":
        return {"quality": WEBP_QUALITY}
    return {}


def write_image(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    process: Callable[[Frame], np.ndarray],
    *,
    expect_sha256: str | None = None,
) -> WriteResult:
    """Read ``src`` (display orientation), run ``process`` and write the result atomically.

    The output format follows ``dst``'s extension; the output carries no metadata at all.
    Exceptions raised by ``process`` propagate unchanged and leave no file behind. ``expect_sha256``: as for
    :func:`redact.io.write_video` (nothing is written if the input changed since it was analysed).
    """
    fmt = output_format(dst_path)
    if same_file(src_path, dst_path):
        raise OutputError(f"output is the same file as the input: {dst_path}")
    frame = image_frame(src_path)
    with atomic_path(dst_path) as tmp:
        out = check_processed(process(frame), frame.height, frame.width)
        clean = Image.fromarray(out, "RGB")
        try:
            clean.save(tmp, format=fmt, **_save_kwargs(fmt))
        except OSError as e:
            raise OutputError(f"cannot write image {dst_path}: {e}") from e
        check_unchanged(src_path, expect_sha256)
    return WriteResult(frames=1, truncated=False, error=None, audio="none", width=frame.width, height=frame.height)
