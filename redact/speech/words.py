"""One recognised word, kept in memory only: its text never reaches a log, an exception, a ``repr`` or a file."""

from __future__ import annotations

from typing import Any


class Word:
    """A word of the transcript with its time span (seconds from the start of the audio) and recognition
    confidence. ``text`` (as the recogniser wrote it, with its leading space and punctuation) is hidden from
    ``repr``; a ``Word`` refuses to be pickled or copied (after :class:`redact.detect.text.TextBox`)."""

    __slots__ = ("start", "end", "text", "probability")

    def __init__(self, start: float, end: float, text: str, probability: float = 0.0):
        self.start = float(start)
        self.end = float(max(end, start))
        self.text = str(text)
        self.probability = float(probability)

    def __repr__(self) -> str:
        return f"Word(start={self.start:.2f}, end={self.end:.2f}, text=<hidden>, probability={self.probability:.3f})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Word holds recognised speech and is never serialised")

    def __copy__(self) -> Any:
        raise TypeError("a Word holds recognised speech and is never copied")

    def __deepcopy__(self, memo: Any) -> Any:
        raise TypeError("a Word holds recognised speech and is never copied")
