"""Recognised words as the speech rules read them: :class:`Token` (the word without its punctuation, lower-cased,
whether it ends a clause or a sentence), never showing the text in a ``repr``."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Sequence

from .lexicon import ABBREVIATIONS
from .words import Word

EDGE = "\"'“”‘’.,!?;:()[]{}…-–—*"
SENTENCE_END = re.compile(r"[.?!…]['\"”’)]*$")
DIGITS = re.compile(r"\d+")
NUMERIC_DATE = re.compile(r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}")


class Token:
    """One word as the rules see it (``repr`` hides the text, as :class:`Word` does)."""

    __slots__ = ("clean", "low", "cap", "ends_sentence", "ends_clause", "question", "sentence_start", "pause_before",
                 "probability")

    def __init__(self, text: str, probability: float = 1.0):
        raw = unicodedata.normalize("NFKC", text).strip()
        self.clean = raw.strip(EDGE)
        self.low = self.clean.lower()
        self.cap = self.clean[:1].isupper()
        self.ends_sentence = bool(SENTENCE_END.search(raw)) and not (
            raw.endswith(".") and (len(self.clean) == 1 or self.low in ABBREVIATIONS))
        self.ends_clause = self.ends_sentence or raw.endswith((",", ";", ":", "-", "–", "—"))
        self.question = "?" in raw
        self.sentence_start = False
        self.pause_before = 0.0
        """Seconds between the end of the word before and the start of this one (0 for the first word)."""
        self.probability = float(probability)
        """The recogniser's confidence in the word (``[0, 1]``)."""

    def __repr__(self) -> str:
        return "Token(<hidden>)"

    def __reduce__(self) -> Any:
        raise TypeError("a token holds recognised speech and is never serialised")


def tokens(words: Sequence[Word]) -> list[Token]:
    out = [Token(w.text, w.probability) for w in words]
    for i, t in enumerate(out):
        t.sentence_start = i == 0 or out[i - 1].ends_sentence
        if i:
            t.pause_before = max(0.0, words[i].start - words[i - 1].end)
    return out

