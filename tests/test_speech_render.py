"""The plan's speech tracks are bleeped or muted in the cleaned copy (issue 17), with nothing but PyAV: a clip with a
440 Hz tone, a speech track over 1.0-2.0 s, and the copy's audio looked at sample by sample."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from redact.pipeline import RenderOptions, render_and_report, scan, ScanOptions
from redact.types import Track

from .media import make_video

RATE = 48000


def decoded(path):
    with av.open(str(path)) as c:
        s = c.streams.audio[0]
        chunks = [f.to_ndarray().reshape(-1, f.samples)[0] for f in c.decode(s)]
    return np.concatenate(chunks).astype(np.float32)


def level(x: np.ndarray, hz: float) -> float:
    """Amplitude of the ``hz`` component of ``x`` (sampled at RATE)."""
    t = np.arange(len(x)) / RATE
    return float(2 * abs(np.mean(x * np.exp(-2j * np.pi * hz * t))))


@pytest.fixture(scope="module")
def toned(tmp_path_factory):
    clip = make_video(tmp_path_factory.mktemp("tone") / "tone.mp4", width=64, height=48, frames=30, fps=10,
                      audio=True, audio_rate=RATE)
    plan = scan(clip, ScanOptions(text="off", badges=False, speech="off")).plan
    plan.tracks.append(Track(99, "speech", [], category="name", span=(1.0, 2.0),
                             evidence={"detections": 1, "best_score": 0.9, "confirmed": True}))
    return clip, plan


@pytest.mark.parametrize("style", ["bleep", "mute"])
def test_a_speech_track_is_bleeped_or_muted_and_the_rest_kept(toned, tmp_path, style):
    clip, plan = toned
    out = tmp_path / "o.mp4"
    _r, rep, _j, _h = render_and_report(clip, plan, out, RenderOptions(speech=style), html=False)
    assert rep["output"]["audio"] == f"reencoded, speech {'bleeped' if style == 'bleep' else 'muted'}"
    src, dst = decoded(clip), decoded(out)
    inside = dst[int(1.1 * RATE):int(1.9 * RATE)]
    assert level(inside, 440) < 0.01  # the tone under the span is gone
    assert level(inside, 1000) > (0.2 if style == "bleep" else -1) and (style == "bleep" or np.abs(inside).max() < 0.01)
    for a, b in ((0.2, 0.9), (2.1, 2.8)):  # outside it the audio is the source's, re-encoded
        seg = dst[int(a * RATE):int(b * RATE)]
        assert abs(level(seg, 440) - level(src[int(a * RATE):int(b * RATE)], 440)) < 0.03
    report = json.loads((tmp_path / "o.report.json").read_text())
    assert [t["start_s"] for t in report["tracks"] if t["kind"] == "speech"] == [1.0]


def test_a_kept_speech_track_leaves_the_audio_bit_exact(toned, tmp_path):
    from .media import audio_packets

    clip, plan = toned
    for t in plan.tracks:
        if t.kind == "speech":
            t.action = "keep"
    out = tmp_path / "o.mp4"
    _r, rep, _j, _h = render_and_report(clip, plan, out, RenderOptions(), html=False)
    assert rep["output"]["audio"] == "copied"
    assert [[p for *_x, p in s] for s in audio_packets(out)] == [[p for *_x, p in s] for s in audio_packets(clip)]
    for t in plan.tracks:
        if t.kind == "speech":
            t.action = "redact"


def test_without_the_speech_extra_the_run_says_the_audio_was_not_checked(tmp_path, monkeypatch):
    import redact.pipeline as pipeline
    import redact.planning as planning
    import redact.speech as speech
    from redact.errors import RedactError

    def missing(*a, **k):
        raise speech.SpeechUnavailable("finding spoken personal data needs the speech extra: pip install .[speech]")

    monkeypatch.setattr(speech, "SpeechAnalyser", missing)
    monkeypatch.setattr(planning, "_SPEECH", {})
    clip = make_video(tmp_path / "c.mp4", width=64, height=48, frames=5, fps=10, audio=True)
    res = pipeline.run(clip, tmp_path / "o.mp4", ScanOptions(text="off", badges=False), RenderOptions(), html=False)
    assert res.scan.warnings.count(pipeline.SPEECH_NOT_CHECKED) == 1
    assert pipeline.SPEECH_NOT_CHECKED in res.report["warnings"] and res.report["output"]["audio"] == "copied"
    with pytest.raises(RedactError, match="speech extra"):  # asked for explicitly: an error, not a warning
        scan(clip, ScanOptions(text="off", badges=False, speech="on"))
