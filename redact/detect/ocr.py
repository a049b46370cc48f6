"""What an OCR backend gives the text detector: :class:`TextBox` lines (recognised text kept in memory only), the
:class:`OcrBackend` protocol, and the model-file check the backends use."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np

from redact import models

Recognise = Callable[[np.ndarray], np.ndarray]
"""Given N x 4 line boxes, which of them to recognise (see :meth:`redact.detect.rapidocr.RapidOcrBackend.read`)."""


class TextBox:
    """One line of text found in an image. ``text`` stays in memory: it is hidden from ``repr``
    and a ``TextBox`` refuses to be pickled or copied into a dict by :mod:`dataclasses`."""

    __slots__ = ("quad", "score", "text", "text_score")

    def __init__(self, quad: Any, score: float, text: str | None = None, text_score: float = 0.0):
        self.quad = np.asarray(quad, np.float32).reshape(4, 2)
        """Corners in image pixels, clockwise from the top-left of the text."""
        self.score = float(score)
        """Detection confidence in ``[0, 1]``."""
        self.text = text
        """Recognised text, ``None`` when recognition did not run or failed."""
        self.text_score = float(text_score)
        """Recognition confidence in ``[0, 1]`` (0 when ``text`` is ``None``)."""

    @property
    def xyxy(self) -> np.ndarray:
        """The axis-aligned box enclosing :attr:`quad`: ``[x1, y1, x2, y2]``."""
        return np.concatenate([self.quad.min(axis=0), self.quad.max(axis=0)])

    def __repr__(self) -> str:
        x1, y1, x2, y2 = (round(float(v), 1) for v in self.xyxy)
        read = "not recognised" if self.text is None else "hidden"
        return (f"TextBox(xyxy=[{x1}, {y1}, {x2}, {y2}], score={self.score:.3f}, text=<{read}>, "
                f"text_score={self.text_score:.3f})")

    def __reduce__(self) -> Any:
        raise TypeError("a TextBox holds recognised text and is never serialised")


@runtime_checkable
class OcrBackend(Protocol):
    name: str

    def read(self, image: np.ndarray) -> list[TextBox]:
        """Text lines in one ``HxWx3`` uint8 RGB image, in that image's pixels."""
        ...

    def describe(self) -> dict[str, Any]:
        """``{"name", "package", "package_version", "models": {role: {"file", "sha256"}}, ...}``."""
        ...


def checked_file(folder: Path, name: str, sha256: str, package: str) -> Path:
    """``folder / name`` after checking it exists and has SHA-256 ``sha256`` (:func:`redact.models.checked_file`)."""
    return models.checked_file(Path(folder) / name, sha256, f"text model {package}/{name}",
                               hint=f"{package} must ship it (looked in {folder})")
