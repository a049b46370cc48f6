"""A second hearing of the same audio, for benchmarks/speech.py --second (issue 25, session 7; measured and not
adopted: docs/benchmarks.md, "session 7").

tiny.en's transcript of the same audio moves when the audio is moved by a sample or two, and each transcript misses
different names. Here the analyser hears the audio twice, runs the library's rules on both transcripts and adds some
of the second transcript's spans to the first's. A benchmark-only patch of :meth:`SpeechAnalyser.spans` (the
library is not changed), so that the idea can be measured again.

MODE (what is heard a second time):
  ``full:BEAM:SAMPLES``   the whole audio again (the library's ``words()``: voice activity, loops and holes as in
                          the first), with SAMPLES of silence put before it and beam width BEAM (2x the cost)
  ``unsure:BEAM:P:M``     only the stretches around the words the first transcript heard under probability P, M
                          seconds each side, joined with the library's silence between them and transcribed at
                          once; their words replace the first transcript's inside the stretches, and the rules run
                          on that mixed transcript (one more 30 s window of the encoder per 30 s of stretches)

GATE (which spans of the second hearing are added), ``+``-separated, any of:
  ``all``       every span (the plain union)
  ``ovl``       only spans that overlap a span of the first hearing (a value found in part, completed)
  ``new``       only spans that overlap none (a value the first hearing missed)
  ``uNN``       only spans over which the first transcript heard some word under NN/100 (or no word)
  ``cNN``       only spans that add at most NN/10 seconds to what the first hearing covers
  ``name``      only spans of category name
  ``noloop``    only spans with no decoding loop (the library's ``_loops``) in the second transcript within 1 s
  ``lower``     (not a filter) in ``unsure`` mode, the first word of each stretch heard again is put in lower case
                when the word before it does not end a sentence: heard on its own, the recogniser capitalises it,
                and the rules take a capitalised word inside a sentence for a name

Like the library, it keeps the words in memory only and reports times and categories.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from redact.speech import PAD, RATE, SpeechAnalyser, SpeechSpan, Word, merge_spans, rules, sound_frames
from redact.speech import _join as join_stretches  # noqa: PLC2701  (a benchmark's patch)
from redact.speech import _loops as loops  # noqa: PLC2701
from redact.speech import _mono as mono  # noqa: PLC2701
from redact.speech import _resample as resample  # noqa: PLC2701
from redact.speech import _unjoin as unjoin  # noqa: PLC2701


def unsure_stretches(words: Sequence[Word], duration: float, unsure: float, margin: float) -> list[tuple[float, float]]:
    """Seconds ``(start, end)`` around each word heard under ``unsure``, ``margin`` each side, merged, in order."""
    out: list[list[float]] = []
    for w in words:
        if w.probability < unsure:
            a, b = max(0.0, w.start - margin), min(duration, w.end + margin)
            if out and a <= out[-1][1]:
                out[-1][1] = max(out[-1][1], b)
            else:
                out.append([a, b])
    return [(a, b) for a, b in out if b > a]


def _inside(w: Word, stretches: Sequence[tuple[float, float]]) -> bool:
    mid = (w.start + w.end) / 2
    return any(a - 0.05 <= mid <= b + 0.05 for a, b in stretches)


def _lower_first(again: list[Word], kept: list[Word], stretches: Sequence[tuple[float, float]]) -> list[Word]:
    out = []
    for a, b in stretches:
        inside = [w for w in again if _inside(w, [(a, b)])]
        before = [w for w in kept if w.end <= a + 0.05]
        if inside and before and not before[-1].text.strip().endswith((".", "?", "!")):
            w, t = inside[0], inside[0].text.strip()
            if t[:1].isupper() and t.split("'")[0] != "I":
                inside[0] = Word(w.start, w.end, w.text.replace(t[0], t[0].lower(), 1), w.probability)
        out += inside
    return out


def _hear_again(analyser: SpeechAnalyser, audio: np.ndarray, first: list[Word], mode: str,
                lower: bool = False) -> list[Word]:
    kind, *nums = mode.split(":")
    beam = int(nums[0])
    old = analyser.beam_size
    analyser.beam_size = beam
    try:
        if kind == "full":
            shift = int(nums[1])
            words = analyser.words(np.concatenate([np.zeros(shift, np.float32), audio]), RATE)
            return [Word(w.start - shift / RATE, w.end - shift / RATE, w.text, w.probability) for w in words]
        if kind == "unsure":
            stretches = unsure_stretches(first, audio.size / RATE, float(nums[1]), float(nums[2]))
            if not stretches:
                return list(first)
            joined, pieces = join_stretches(audio, [(int(a * RATE), int(b * RATE)) for a, b in stretches])
            again = [w for w in unjoin(analyser._transcribe(joined, 0.0), pieces) if _inside(w, stretches)]
            kept = [w for w in first if not _inside(w, stretches)]
            if lower:
                again = _lower_first(again, kept, stretches)
            return sorted(kept + again, key=lambda w: (w.start, w.end))
    finally:
        analyser.beam_size = old
    raise ValueError(f"unknown second-hearing mode {mode!r}")


def _keep(span: SpeechSpan, first_spans: Sequence[SpeechSpan], first: Sequence[Word], second: Sequence[Word],
          gate: set[str]) -> bool:
    if "noloop" in gate and loops([w for w in second if w.start < span.end + 1 and span.start - 1 < w.end]):
        return False
    over = [t for t in first_spans if span.start < t.end and t.start < span.end]
    if "ovl" in gate and not over:
        return False
    if "new" in gate and over:
        return False
    if "name" in gate and span.category != "name":
        return False
    for g in gate:
        if g.startswith("u") and g[1:].isdigit():
            probs = [w.probability for w in first if w.start < span.end and span.start < w.end]
            if probs and min(probs) >= int(g[1:]) / 100:
                return False
        if g.startswith("c") and g[1:].isdigit():
            added = (span.end - span.start) - sum(max(0.0, min(span.end, t.end) - max(span.start, t.start))
                                                  for t in over)
            if added > int(g[1:]) / 10:
                return False
    return True


def hear_twice(analyser: SpeechAnalyser, mode: str, gate: str) -> str:
    """Patch ``analyser.spans`` to hear each audio twice (``mode``) and add the second hearing's spans that pass
    ``gate`` (see the module's docstring). Returns a description."""
    gates = {g for g in gate.split("+") if g}
    unknown = [g for g in gates if g not in ("all", "ovl", "new", "name", "noloop", "lower") and not (g[:1] in "uc" and g[1:].isdigit())]
    if unknown:
        raise SystemExit(f"unknown --second-gate part(s): {', '.join(unknown)}")
    def spans(samples: Any, rate: int = RATE) -> list[SpeechSpan]:
        first = analyser.words(samples, rate)
        audio = resample(mono(samples), int(rate))
        duration = audio.size / RATE
        sound = sound_frames(audio)
        found = rules.find(first)
        out = merge_spans(first, found, analyser.pad, duration, sound=sound) if found else []
        if not first:
            return out
        second = _hear_again(analyser, audio, first, mode, lower="lower" in gates)
        found2 = rules.find(second)
        extra = merge_spans(second, found2, analyser.pad, duration, sound=sound) if found2 else []
        out += [s for s in extra if _keep(s, out, first, second, gates)]
        return sorted(out, key=lambda s: (s.start, s.end))

    analyser.spans = spans  # type: ignore[method-assign]
    return f"second hearing {mode}, gate {'+'.join(sorted(gates)) or 'all'} (pad {PAD} s)"
