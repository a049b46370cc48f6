"""Output naming: the one place that says what the cleaned copy, its plan and its report are called.

``redact run``, ``redact batch`` and the review page all name their outputs here, so a photo gets the same cleaned
name whichever way it was cleaned, and the list of types accepted on input and written on output is one list.

``clip.mov`` -> ``clip.clean.mp4`` (video is always written as MP4); ``photo.jpg`` -> ``photo.clean.jpg``; a photo
of a type the writer cannot write (a still GIF, HEIC) -> ``photo.clean.png``. Beside a cleaned copy
``x.clean.EXT``: ``x.clean.plan.json``, ``x.clean.report.json`` and ``x.clean.report.html``.
"""

from __future__ import annotations

from pathlib import Path

from .errors import OutputError
from .io import IMAGE_WRITE_FORMATS, VIDEO_SUFFIXES

VIDEO_IN_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".3gp", ".3g2", ".mkv", ".webm", ".avi", ".mts", ".m2ts",
                               ".ts", ".mpg", ".mpeg", ".wmv", ".flv", ".h264", ".264", ".h265", ".hevc"})
"""Suffixes batch takes for video (any input whose content is video is read, whatever its suffix)."""
IMAGE_IN_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif"})
"""Suffixes batch takes for photos (a .gif may be animated: then it is a video)."""
MEDIA_SUFFIXES = VIDEO_IN_SUFFIXES | IMAGE_IN_SUFFIXES
VIDEO_OUT_SUFFIXES = tuple(VIDEO_SUFFIXES)
"""What a cleaned video may be called (the writer makes MP4)."""
IMAGE_OUT_SUFFIXES = tuple(IMAGE_WRITE_FORMATS)
"""What a cleaned photo may be called (the types the photo writer supports)."""
CLEAN_TAG = ".clean"
FALLBACK_IMAGE_SUFFIX = ".png"


def output_suffix(name: str | Path, kind: str) -> str:
    """The suffix of the cleaned copy of input ``name`` of ``kind`` (``"video"`` or ``"image"``)."""
    if kind == "image":
        suffix = Path(name).suffix.lower()
        return suffix if suffix in IMAGE_OUT_SUFFIXES else FALLBACK_IMAGE_SUFFIX
    return ".mp4"


def cleaned_name(name: str, kind: str, whole: bool = False) -> str:
    """The cleaned copy's file name for input file ``name``: ``clip.clean.mp4``, or with ``whole`` the whole input
    name kept (``clip.mov.clean.mp4``, for two inputs that would otherwise share a name)."""
    base = name if whole else Path(name).stem
    return f"{base}{CLEAN_TAG}{output_suffix(name, kind)}"


def default_output(src: str | Path, kind: str) -> Path:
    """The cleaned copy beside input ``src``."""
    src = Path(src)
    return src.with_name(cleaned_name(src.name, kind))


def sidecar_names(output_name: str) -> tuple[str, str, str]:
    """(plan, report json, report html) file names beside the cleaned copy ``output_name``."""
    stem = Path(output_name).stem
    return f"{stem}.plan.json", f"{stem}.report.json", f"{stem}.report.html"


def plan_path(output: str | Path) -> Path:
    """The plan beside a cleaned copy: ``clip.clean.mp4`` -> ``clip.clean.plan.json``."""
    out = Path(output)
    return out.with_name(sidecar_names(out.name)[0])


def report_paths(output: str | Path) -> tuple[Path, Path]:
    """The report (JSON, HTML) beside a cleaned copy: ``clip.clean.mp4`` -> ``clip.clean.report.json``, ``.html``."""
    out = Path(output)
    _, js, html = sidecar_names(out.name)
    return out.with_name(js), out.with_name(html)


def check_output_suffix(output: str | Path, kind: str) -> None:
    """Raise :class:`OutputError` unless ``output`` is named as a cleaned copy of a ``kind`` input can be written."""
    allowed = IMAGE_OUT_SUFFIXES if kind == "image" else VIDEO_OUT_SUFFIXES
    if Path(output).suffix.lower() not in allowed:
        raise OutputError(f"output {Path(output).name!r} must end in one of {', '.join(sorted(allowed))} "
                          f"for a {kind} input")


PATH_RECORDS = ("name", "full", "none")
"""How ``redact run`` records the input's and the cleaned copy's paths in plans and reports (``--report-path``):
the file name (default), the whole absolute path, or nothing. Folder names are often patients' names; the SHA-256
identifies the input whatever is recorded. Batch records paths relative to IN_DIR and OUT_DIR."""


def recorded_path(path: str | Path, how: str = "name") -> str:
    """What a plan or report says a file is called: ``how`` one of :data:`PATH_RECORDS` (``"none"``: empty)."""
    if how not in PATH_RECORDS:
        raise ValueError(f"how must be one of {', '.join(PATH_RECORDS)}, got {how!r}")
    if how == "none":
        return ""
    return Path(path).name if how == "name" else str(Path(path).resolve())


BATCH_PATH_RECORDS = ("relative", "name", "none")
"""How ``redact batch`` records each item's input and cleaned copy in its plan and report (``--report-path``): the
path relative to IN_DIR / OUT_DIR (default, as the manifest records it), the file name only, or nothing. The
manifest always records relative paths: it is the batch's own record and never leaves OUT_DIR with a copy."""


def batch_recorded_path(rel: str, how: str = "relative") -> str:
    """What a batch item's plan or report says a file is called, from its path ``rel`` relative to the batch's
    folder: ``how`` one of :data:`BATCH_PATH_RECORDS`."""
    if how not in BATCH_PATH_RECORDS:
        raise ValueError(f"how must be one of {', '.join(BATCH_PATH_RECORDS)}, got {how!r}")
    return rel if how == "relative" else recorded_path(rel, how)


__all__ = ["BATCH_PATH_RECORDS", "PATH_RECORDS", "batch_recorded_path", "recorded_path", "IMAGE_IN_SUFFIXES", "IMAGE_OUT_SUFFIXES", "MEDIA_SUFFIXES", "OutputError", "VIDEO_IN_SUFFIXES",
           "VIDEO_OUT_SUFFIXES", "check_output_suffix", "cleaned_name", "default_output", "output_suffix",
           "plan_path", "report_paths", "sidecar_names"]
