"""`redact check`: analysis only, writes nothing; exit 3 when something identifiable is found, 4 when only weak, lone
detections were (please check), 0 when nothing, 1 on error; --json for tools."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from redact.cli import cli

from .conftest import ROOT, listdir
from .media import make_image, make_video

DEMO = ROOT / "samples" / "demo.mp4"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def gradient(i: int, width: int = 96, height: int = 64) -> np.ndarray:
    """A smooth horizontal gradient, no noise, nothing to find (shifts a little per frame)."""
    x = (np.arange(width, dtype=np.float64) * 200 / width + 2 * i).astype(np.uint8)
    img = np.empty((height, width, 3), np.uint8)
    img[:] = x[None, :, None]
    img[..., 2] = 120
    return img


@pytest.fixture
def plain_clip(tmp_path):
    return make_video(tmp_path / "plain.mp4", width=96, height=64, frames=5, fps=10, draw=gradient)


@pytest.fixture
def face_clip(tmp_path, face_scene):
    return make_video(tmp_path / "face.mp4", width=320, height=240, frames=4, fps=10, draw=face_scene)


def test_a_clip_with_no_people_or_text_exits_0_and_writes_nothing(plain_clip, tmp_path):
    before = listdir(tmp_path)
    r = invoke("check", plain_clip)  # default analysis, on-screen text included
    assert r.exit_code == 0, r.output
    assert "nothing identifiable" in r.output
    assert listdir(tmp_path) == before


def test_a_face_exits_3_with_time_ranges_and_json(face_clip, tmp_path):
    before = listdir(tmp_path)
    r = invoke("-q", "check", face_clip, "--text", "off")
    assert r.exit_code == 3, r.output
    assert "face:" in r.output and "0.00-0.40 s" in r.output
    r = invoke("check", face_clip, "--text", "off", "--json")
    assert r.exit_code == 3
    summary = json.loads(r.stdout)
    assert summary["identifiable"] is True
    assert summary["found"]["face"]["ranges_s"] == [[0.0, 0.4]] and summary["found"]["face"]["frames"] == 4
    assert summary["input"]["frames"] == 4
    assert listdir(tmp_path) == before


def test_a_photo_with_a_face_exits_3(tmp_path, face_scene):
    photo = make_image(tmp_path / "p.jpg", width=320, height=240, draw=face_scene)
    r = invoke("check", photo, "--text", "off")
    assert r.exit_code == 3 and "in the image" in r.output


def test_errors_exit_1_and_write_nothing(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 100)
    r = CliRunner().invoke(cli, ["check", str(bad)])
    assert r.exit_code == 1 and r.output.startswith("redact: error:")
    assert CliRunner().invoke(cli, ["check", str(tmp_path / "missing.mp4")]).exit_code == 1
    assert listdir(tmp_path) == ["bad.mp4"]


@pytest.mark.slow
def test_the_sample_clip_exits_3(tmp_path):
    """samples/demo.mp4 shows four faces (and a badge and a monitor); faces alone decide the exit status, so
    on-screen text is left off to keep the test short."""
    before = sorted(p.name for p in DEMO.parent.iterdir())
    r = invoke("-q", "check", DEMO, "--text", "off", "--json")
    assert r.exit_code == 3, r.output
    summary = json.loads(r.stdout)
    face = summary["found"]["face"]
    assert face["tracks"] >= 3 and face["ranges_s"][0][0] == 0.0 and face["ranges_s"][-1][1] == 4.0
    assert sorted(p.name for p in DEMO.parent.iterdir()) == before
    assert Path(summary["input"]["path"]) == DEMO


def test_weakly_seen_tracks_are_counted_apart():
    from redact.cli.check import _check_text, check_summary
    from redact.types import InputInfo, Plan, Track, TrackBox

    plan = Plan(InputInfo("c.mp4", "0" * 64, "video", 320, 240, 10, 10.0), [
        Track(1, "face", [TrackBox(f, (10, 10, 50, 50), 0.9) for f in range(10)],
              evidence={"detections": 10, "best_score": 0.9, "confirmed": True}),
        Track(2, "face", [TrackBox(4, (100, 10, 120, 30), 0.22)],
              evidence={"detections": 1, "best_score": 0.22, "confirmed": False}),
        Track(3, "face", [TrackBox(5, (200, 10, 240, 50), 1.0, "manual")])])  # drawn: no evidence, not weak
    summary = check_summary(plan, [])
    assert summary["found"]["face"]["tracks"] == 3 and summary["found"]["face"]["low_confidence"] == 1
    assert "3 track(s) (1 seen only weakly: check them)" in _check_text(Path("c.mp4"), summary)


def _weak_plan(*confirmed: bool):
    from redact.types import InputInfo, Plan, Track, TrackBox

    return Plan(InputInfo("c.mp4", "0" * 64, "video", 320, 240, 10, 10.0), [
        Track(i + 1, "face", [TrackBox(4, (10 + 40 * i, 10, 30 + 40 * i, 30), 0.22)],
              evidence={"detections": 1, "best_score": 0.22, "confirmed": c}) for i, c in enumerate(confirmed)])


def test_weak_lone_detections_alone_say_please_check_not_identifiable():
    """A pan over gravel: two single-frame face tracks seen weakly are not 'identifiable' (exit 3) but 'please check'
    (exit 4); one confirmed track among them makes the clip identifiable again."""
    from redact.cli.check import CHECK_FOUND, CHECK_WEAK, VERDICTS, _check_text, check_summary

    weak = check_summary(_weak_plan(False, False), [])
    assert weak["verdict"] == "please check" and weak["identifiable"] is False
    assert VERDICTS[weak["verdict"]] == CHECK_WEAK == 4
    assert _check_text(Path("c.mp4"), weak).startswith("c.mp4: please check")
    strong = check_summary(_weak_plan(False, True), [])
    assert strong["verdict"] == "identifiable" and VERDICTS[strong["verdict"]] == CHECK_FOUND
    assert check_summary(_weak_plan(), [])["verdict"] == "nothing found"


def test_check_exits_4_when_only_weak_detections_were_found(tmp_path, monkeypatch):
    from redact import pipeline

    class Result:
        plan, warnings, notes, models = _weak_plan(False), [], [], []

    monkeypatch.setattr(pipeline, "scan", lambda *a, **k: Result())
    clip = make_video(tmp_path / "gravel.mp4", width=96, height=64, frames=3, fps=10, draw=gradient)
    r = invoke("check", clip)
    assert r.exit_code == 4 and "please check" in r.output, r.output
    r = invoke("check", clip, "--json")
    assert r.exit_code == 4 and json.loads(r.output)["verdict"] == "please check"


def _plan_with(tracks=(), **extra):
    from redact.types import InputInfo, Plan

    plan = Plan(InputInfo("c.mp4", "0" * 64, "video", 320, 240, 10, 10.0, dict(extra)), list(tracks))
    plan.settings = {"scan": {"speech": "auto"}, "models": ["centerface"]}
    return plan


def test_nothing_found_in_an_input_not_checked_whole_is_please_check_and_says_why():
    """A damaged clip of which only the first frames decoded, or a clip whose audio the speech model did not hear
    (not installed), is never 'nothing found' (exit 0): the rest may show or say anything. Even with -q (no warnings
    printed) the verdict says what was not checked."""
    from redact.cli.check import CHECK_WEAK, VERDICTS, _check_text, check_summary

    speech = [{"name": "whisper-tiny.en", "kind": "speech"}]
    whole = check_summary(_plan_with(audio_streams=1), [], [], speech)
    assert whole["verdict"] == "nothing found" and whole["audio"] == "checked" and whole["not_checked"] == []
    assert _check_text(Path("c.mp4"), whole) == (
        "c.mp4: nothing identifiable found (10 frame(s) analysed; audio checked for spoken personal data)")

    deaf = check_summary(_plan_with(audio_streams=1), ["the audio was not checked"], [], [])
    assert deaf["verdict"] == "please check" and VERDICTS[deaf["verdict"]] == CHECK_WEAK
    assert deaf["audio"] == "not checked" and deaf["identifiable"] is False
    text = _check_text(Path("c.mp4"), deaf)
    assert text.startswith("c.mp4: please check: nothing identifiable found, but not everything was checked")
    assert "not checked: the audio was not checked for spoken personal data" in text

    cut = check_summary(_plan_with(truncated=True), [], [], [])
    assert cut["verdict"] == "please check" and cut["audio"] == "none"
    assert "only its first 10 frame(s) were analysed" in _check_text(Path("c.mp4"), cut)

    # a damaged file's audio, partly undecodable: what was not heard is said, and nothing found is not enough
    from redact.planning import SPEECH_SKIPPED

    part = check_summary(_plan_with(audio_streams=1), [f"{SPEECH_SKIPPED} 3 undecodable audio packet(s) ..."], [],
                         speech)
    assert part["verdict"] == "please check" and part["audio"] == "partly checked"
    assert "  not checked: part of the audio was not heard: 3 undecodable" in _check_text(Path("c.mp4"), part)

    # asked not to listen: the verdict stands, and says so; a photo has no audio to speak of
    off = _plan_with(audio_streams=1)
    off.settings["scan"]["speech"] = "off"
    summary = check_summary(off, [], [], [])
    assert summary["verdict"] == "nothing found" and summary["audio"] == "off"
    assert "audio not checked (--speech off)" in _check_text(Path("c.mp4"), summary)
    assert check_summary(_plan_with(), [], [], [])["audio"] == "none"
    # the plan alone (no model list) tells too: it keeps the models' names
    plan = _plan_with(audio_streams=1)
    plan.settings["models"].append("whisper-tiny.en")
    assert check_summary(plan, [])["audio"] == "checked"


def test_something_found_in_a_damaged_input_stays_identifiable_and_lists_what_was_not_checked():
    from redact.cli.check import _check_text, check_summary
    from redact.types import Track, TrackBox

    face = Track(1, "face", [TrackBox(f, (10, 10, 50, 50), 0.9) for f in range(10)],
                 evidence={"detections": 10, "best_score": 0.9, "confirmed": True})
    summary = check_summary(_plan_with([face], truncated=True, audio_streams=1), [], [],
                            [{"name": "whisper-tiny.en", "kind": "speech"}])
    assert summary["verdict"] == "identifiable"
    text = _check_text(Path("c.mp4"), summary)
    assert text.splitlines()[0] == "c.mp4: identifiable content found"
    assert "  audio: checked for spoken personal data, nothing found" in text
    assert "  not checked: the input is damaged or truncated: only its first 10 frame(s) were analysed" in text


def test_frames_covered_whole_are_said_to_be_unanalysed_not_tracks():
    from redact.cli.check import _check_text, check_summary
    from redact.types import Track, TrackBox

    cover = Track(1, "frame", [TrackBox(f, (0, 0, 320, 240), 1.0, "failsafe") for f in (3, 4)])
    summary = check_summary(_plan_with([cover]), [], [], [])
    assert summary["verdict"] == "identifiable"  # unknown is treated as found: fail closed
    assert "  frame: 2 frame(s) could not be analysed, 0.30-0.50 s" in _check_text(Path("c.mp4"), summary)


def test_a_damaged_clip_with_nothing_found_in_its_first_frames_is_please_check(tmp_path):
    from .test_faults import damaged_mov

    clip = damaged_mov(tmp_path / "damaged.mov")
    r = invoke("-q", "check", clip, "--text", "off", "--speech", "off")
    assert r.exit_code == 4, r.output
    assert "please check: nothing identifiable found, but not everything was checked" in r.output
    assert "not checked: the input is damaged or truncated: only its first" in r.output
