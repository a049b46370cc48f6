"""What ``scan`` and ``render`` can be asked to do: :class:`ScanOptions` and :class:`RenderOptions`, the modes
they accept, and the default detector strides (measured in ``benchmarks/``; see ``docs/benchmarks.md``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable

from .io.audio import SPEECH_STYLES
from .render import STYLES

TEXT_MODES = ("all", "pii", "off")
SPEECH_MODES = ("auto", "on", "off")
DEFAULT_DETECT_EVERY = 4
"""Stride of the full-frame CenterFace pass (at 960 px; measured in benchmarks/precision.py and benchmarks/faces.py;
see redact.detect.stack.face_stack)."""
DEFAULT_TILE_EVERY = 16
"""Stride of the tiled small-face pass (2x2 tiles upscaled 2x); 0 turns it off."""
DEFAULT_TILE_IDLE_FACTOR = 2
"""A tile whose last run added no face to the other passes' runs every ``tile_every * 2`` frames instead."""
DEFAULT_FACE_MIN_SIDE = 12.0
"""Face boxes are grown to at least this many pixels (tiny faces jitter by more than their own size)."""
DEFAULT_TEXT_EVERY = 25
"""OCR stride: text is read on frame 0, every 25 frames and on cuts, and tracked in between; with ``text_on_change``
(default) also when the pixels around the text the last reading found change abruptly, at most every
:data:`redact.detect.watch.CHANGE_GAP` frames (:class:`~redact.detect.watch.ChangeWatch`). Why a change watch
rather than a shorter stride, and the readings it adds: docs/benchmarks.md, "Strides and tracker settings"."""
DEFAULT_BADGE_EVERY = 6
"""Badge search stride (frames). OpenCV only, but about 4 ms per face searched at 720p (52 ms per frame on a
street clip with 12 faces): every 6th frame, tracked in between like faces (the sample's badge stays covered
in every frame, tests/test_badges.py)."""
LYING_MODES = ("auto", "on", "off")
"""What ``ScanOptions.lying_faces`` may be: faces turned a quarter turn (people lying down, clips filmed sideways)
looked for cheaply and the turned pass switched on where they are found (auto), always (on), or never (off)."""
OCR_BACKENDS = ("rapidocr", "easyocr")
"""The OCR backends ``ScanOptions.ocr`` may name (:mod:`redact.detect.stack` builds them)."""

Progress = Callable[[str, int, int | None], None]
"""progress(stage, frames_done, frames_total_or_None)"""


@dataclass
class ScanOptions:
    face_threshold: float | None = None  # None: the detector's measured default
    provider: str = "auto"
    on_unanalysable: str = "fail"  # "fail" | "cover"
    allow_truncated: bool = True
    detect_every: int = DEFAULT_DETECT_EVERY  # the full-resolution face detector's stride (frames)
    tile_every: int = DEFAULT_TILE_EVERY  # the tiled small-face pass's stride (frames; 0: off)
    tile_idle_factor: int = DEFAULT_TILE_IDLE_FACTOR  # a tile that found no extra face waits this many strides
    face_min_side: float = DEFAULT_FACE_MIN_SIDE  # face boxes grown to at least this many pixels
    text: str = "all"  # on-screen text: "all" | "pii" (only personal data) | "off"
    text_every: int = DEFAULT_TEXT_EVERY  # OCR stride (frames); also on every scene cut
    text_on_change: bool = True  # also read text when the pixels around what the last reading found change
    ocr: str = "rapidocr"  # OCR backend: "rapidocr" (default) | "easyocr" (optional extra)
    badges: bool = True  # look for ID badges below faces (always redacted unless kept)
    badge_every: int = DEFAULT_BADGE_EVERY  # badge search stride (frames); also on every scene cut
    # faces turned a quarter turn (people lying down, clips filmed sideways; redact.detect.turned): "auto" (a cheap
    # look, the turned pass switched on where it finds them) | "on" (the turned pass always) | "off"; True/False = on/off
    lying_faces: str = "auto"
    speech: str = "auto"  # spoken personal data: "auto" (when faster-whisper is installed) | "on" | "off"

    def __post_init__(self) -> None:
        if self.speech not in SPEECH_MODES:
            raise ValueError(f"speech must be one of {', '.join(SPEECH_MODES)}, got {self.speech!r}")
        self.lying_faces = lying_mode(self.lying_faces)

    def check(self) -> None:
        """Raise ``ValueError`` naming the first option out of range (the one place scan options are checked;
        fields may be changed after construction, so :func:`scan` calls this before it starts)."""
        if self.on_unanalysable not in ("fail", "cover"):
            raise ValueError("on_unanalysable must be 'fail' or 'cover'")
        if self.detect_every < 1:
            raise ValueError("detect_every must be >= 1")
        if self.tile_every < 0:
            raise ValueError("tile_every must be >= 0")
        if self.ocr not in OCR_BACKENDS:
            raise ValueError(f"ocr must be one of {', '.join(OCR_BACKENDS)}, got {self.ocr!r}")
        if self.text not in TEXT_MODES or self.text_every < 1:
            raise ValueError(f"text must be one of {', '.join(TEXT_MODES)} and text_every >= 1")
        if self.badge_every < 1:
            raise ValueError("badge_every must be >= 1")
        if self.speech not in SPEECH_MODES:
            raise ValueError(f"speech must be one of {', '.join(SPEECH_MODES)}, got {self.speech!r}")
        self.lying_faces = lying_mode(self.lying_faces)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lying_mode(value: str | bool) -> str:
    """``ScanOptions.lying_faces`` as one of :data:`LYING_MODES` (True: "on", False: "off", as the flag was)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if value not in LYING_MODES:
        raise ValueError(f"lying_faces must be one of {', '.join(LYING_MODES)}, got {value!r}")
    return value


@dataclass
class RenderOptions:
    style: str = "blur"
    crf: int | None = None  # None: follow the source's bitrate (redact.io.writer.rate_options); N: plain CRF N
    preset: str = "veryfast"
    audio: str = "keep"  # "keep" | "reencode" | "strip"
    allow_truncated: bool = True
    speech: str = "bleep"  # how speech tracks sound in the copy: "bleep" (a 1 kHz tone) | "mute"

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"unknown style {self.style!r}")
        if self.speech not in SPEECH_STYLES:
            raise ValueError(f"speech must be one of {', '.join(SPEECH_STYLES)}, got {self.speech!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
