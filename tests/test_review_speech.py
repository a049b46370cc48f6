"""``redact review`` and speech tracks (issue 17): listed on the page with their span, keep (audible) or bleep,
and their original sound served on demand as a WAV built in memory. No browser (see test_review_browser.py)."""

from __future__ import annotations

import copy
import io
import json
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from redact.pipeline import ScanOptions, load_plan, save_plan, scan
from redact.review.server import CSP, ReviewServer
from redact.review.session import AUDIO_MARGIN, ReviewSession
from redact.types import Track, TrackBox, next_track_id

from .conftest import listdir
from .media import make_video
from .test_review import api, request, wait_ready

QUIET = ScanOptions(text="off", speech="off")  # the speech tracks are written into the plan by the tests
SPAN = (1.2, 2.85)
SPAN_EARLY = (0.1, 0.4)  # its margin before the start is cut at the first sample


def _wav(data: bytes) -> tuple[int, int, int, np.ndarray]:
    """``(channels, sample width, rate, samples)`` of a WAV file."""
    with wave.open(io.BytesIO(data)) as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), np.frombuffer(w.readframes(w.getnframes()),
                                                                                   "<i2")


@pytest.fixture(scope="module")
def talking(tmp_path_factory, face_scene):
    """A 3.5 s clip with a face and a 440 Hz tone as its sound, and its plan (faces only; scanned once)."""
    d = tmp_path_factory.mktemp("review-speech-src")
    clip = make_video(d / "talk.mp4", width=320, height=240, frames=35, fps=10, audio=True, draw=face_scene)
    plan = scan(clip, QUIET).plan
    assert {t.kind for t in plan.tracks} == {"face"} and plan.track(1).kind == "face"
    return clip, plan


def _add_speech(plan) -> tuple[int, int, int]:
    """Two speech tracks (a name, a date) and a name badge added to ``plan``: their ids."""
    name_id = next_track_id(plan.tracks)
    plan.tracks.append(Track(name_id, "speech", [], category="name", span=SPAN,
                             evidence={"detections": 1, "best_score": 0.8731, "confirmed": True}))
    date_id = next_track_id(plan.tracks)
    plan.tracks.append(Track(date_id, "speech", [], category="date", span=SPAN_EARLY))
    badge_id = next_track_id(plan.tracks)
    plan.tracks.append(Track(badge_id, "badge", [TrackBox(f, (200, 180, 300, 230), 0.9) for f in (3, 4)]))
    return name_id, date_id, badge_id


@pytest.fixture
def talk_dir(tmp_path, talking):
    src, plan = talking
    shutil.copy(src, tmp_path / "talk.mp4")
    plan = copy.deepcopy(plan)
    ids = _add_speech(plan)
    save_plan(plan, tmp_path / "talk.clean.plan.json")
    return tmp_path, ids


@pytest.fixture
def server(talk_dir):
    d, _ = talk_dir
    session = ReviewSession(QUIET)
    session.open(d / "talk.mp4")
    with ReviewServer(session) as srv:
        yield srv


def test_the_page_lists_speech_tracks_with_their_span_and_a_keep_switch(server, talk_dir):
    _, (name_id, date_id, badge_id) = talk_dir
    view = api(server, "GET", "api/plan")
    by_id = {t["id"]: t for t in view["tracks"]}
    name, date = by_id[name_id], by_id[date_id]
    assert name["kind"] == "speech" and name["category"] == "name" and name["action"] == "redact"
    assert name["span"] == list(SPAN) and date["span"] == list(SPAN_EARLY)
    assert name["keepable"] is True and date["keepable"] is True
    assert name["boxes"] == [] and not name["manual"]
    assert (name["first"], name["last"]) == (12, 28)  # the frames the span covers at 10 fps
    assert name["span_frames"] == pytest.approx([12, 28.5], abs=0.06)  # where the page draws it
    assert view["input"]["timeline"][0] == [0, 0.0]  # the page's clock: the frames' times
    assert (date["first"], date["last"]) == (1, 3)
    assert name["evidence"] == {"detections": 1, "best_score": 0.87, "confirmed": True}
    assert by_id[1]["keepable"] is True and by_id[badge_id]["keepable"] is False  # faces stay keepable, badges not
    assert all("span" not in t for t in view["tracks"] if t["kind"] != "speech")
    assert view["speech_style"] == "bleep"
    assert [t["id"] for t in view["tracks"]].index(date_id) < [t["id"] for t in view["tracks"]].index(name_id)


def test_the_page_shows_speech_on_the_frames_clock(tmp_path, talking):
    """A clip whose first frame shows 0.5 s after its audio starts: the page's span and frames are on the frames'
    clock (as the report's), the plan keeps the audio's own (what is bleeped)."""
    src, plan = talking
    shutil.copy(src, tmp_path / "talk.mp4")
    plan = copy.deepcopy(plan)
    name_id, _date_id, _badge = _add_speech(plan)
    plan.input.extra["audio_offset"] = -0.5
    save_plan(plan, tmp_path / "talk.clean.plan.json")
    session = ReviewSession(QUIET)
    session.open(tmp_path / "talk.mp4")
    with ReviewServer(session) as srv:
        name = next(t for t in api(srv, "GET", "api/plan")["tracks"] if t["id"] == name_id)
    assert name["span"] == [0.7, 2.35] and (name["first"], name["last"]) == (7, 23)
    assert load_plan(tmp_path / "talk.clean.plan.json").track(name_id).span == SPAN


def test_speech_can_be_kept_audible_or_bleeped_but_a_badge_cannot_be_kept(server, talk_dir):
    _, (name_id, date_id, badge_id) = talk_dir
    ppath = server.session.plan_path
    view = api(server, "POST", f"api/track/{name_id}", {"action": "keep"})
    assert [t["action"] for t in view["tracks"] if t["id"] == name_id] == ["keep"]
    plan = load_plan(ppath)
    assert plan.track(name_id).action == "keep" and plan.track(date_id).action == "redact"
    assert plan.settings["keep"]["kept"] == [name_id]
    assert plan.track(name_id).span == SPAN and plan.track(name_id).boxes == []  # saved as it was
    api(server, "POST", f"api/track/{name_id}", {"action": "redact"})
    plan = load_plan(ppath)
    assert plan.track(name_id).action == "redact" and plan.settings["keep"]["kept"] == []
    err = api(server, "POST", f"api/track/{badge_id}", {"action": "keep"}, status=400)
    assert "only faces can be left visible" in err["error"]
    assert load_plan(ppath).track(badge_id).action == "redact"
    api(server, "POST", f"api/track/{name_id}", {"action": "mute"}, status=400)
    # what was found is not removable, speech included
    assert "only boxes drawn by hand" in api(server, "POST", f"api/track/{name_id}/remove", {}, status=400)["error"]


def test_a_speech_track_plays_its_original_sound_from_memory(server, talk_dir, monkeypatch):
    import redact.speech

    d, (name_id, date_id, badge_id) = talk_dir
    before = listdir(d)
    calls = []
    real = redact.speech.load_audio
    monkeypatch.setattr(redact.speech, "load_audio", lambda p: calls.append(p) or real(p))
    original, rate = real(d / "talk.mp4")

    code, h, data = request(server, "GET", f"api/audio/{name_id}.wav")
    assert code == 200 and h["content-type"] == "audio/wav"
    assert h["cache-control"] == "no-store" and h["x-content-type-options"] == "nosniff"
    channels, width, wav_rate, samples = _wav(data)
    assert (channels, width, wav_rate) == (1, 2, 16000) and rate == 16000
    expected = SPAN[1] - SPAN[0] + 2 * AUDIO_MARGIN
    assert abs(samples.size / wav_rate - expected) < 0.01
    a = int(np.floor((SPAN[0] - AUDIO_MARGIN) * rate))
    want = np.round(np.clip(original[a:a + samples.size], -1, 1) * 32767)
    assert np.abs(samples.astype(float) - want).max() <= 1  # the original sound, not a bleep
    assert 0.15 < np.sqrt(np.mean((samples / 32767.0) ** 2)) < 0.3  # the 0.3 amplitude tone
    # a span near the start: its margin is cut at the first sample
    _, _, _, early = _wav(request(server, "GET", f"api/audio/{date_id}.wav")[2])
    assert abs(early.size / 16000 - (SPAN_EARLY[1] + AUDIO_MARGIN)) < 0.01
    assert len(calls) == 1  # decoded once while the clip is open
    # HEAD, as browsers may send, and a kept track still plays
    api(server, "POST", f"api/track/{name_id}", {"action": "keep"})
    assert request(server, "GET", f"api/audio/{name_id}.wav")[2] == data
    assert request(server, "HEAD", f"api/audio/{name_id}.wav")[:2][0] == 200
    assert len(calls) == 1
    # only speech tracks have sound; unknown tracks and odd names are not found
    for path in ("api/audio/1.wav", f"api/audio/{badge_id}.wav", "api/audio/99.wav", f"api/audio/{name_id}.mp3",
                 f"api/audio/{name_id}", "api/audio/x.wav"):
        assert request(server, "GET", path)[0] == 404, path
    # the token and the other request rules apply as everywhere
    assert request(server, "GET", f"api/audio/{name_id}.wav", token="")[0] == 403
    assert request(server, "GET", f"api/audio/{name_id}.wav", token="y" * 43)[0] == 403
    assert request(server, "GET", f"api/audio/{name_id}.wav",
                   headers={"Sec-Fetch-Site": "cross-site"})[0] == 403
    assert request(server, "GET", f"api/audio/{name_id}.wav", headers={"Host": "evil.example"})[0] == 403
    assert listdir(d) == before  # nothing written beside the clip
    # opening the clip again (or another one) drops the decoded sound; it is decoded again when asked for
    server.session.open(d / "talk.mp4")
    assert server.session._audio is None
    assert request(server, "GET", f"api/audio/{name_id}.wav")[2] == data and len(calls) == 2
    server.session.close()
    assert server.session._audio is None


def test_the_page_may_play_sound_from_this_server_only(server):
    code, h, _ = request(server, "GET", "")
    csp = h["content-security-policy"]
    assert code == 200 and csp == CSP
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["media-src"] == "'self'" and directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["connect-src"] == "'self'"
    assert "*" not in csp and "unsafe" not in csp and "data:" not in csp and "http" not in csp
    assert csp.count("blob:") == 1 and "blob:" in directives["img-src"]


def test_a_clip_without_sound_has_none_to_play(tmp_path, face_scene):
    clip = make_video(tmp_path / "silent.mp4", width=160, height=120, frames=10, fps=10, audio=False)
    plan = scan(clip, QUIET).plan
    sid = next_track_id(plan.tracks)
    plan.tracks.append(Track(sid, "speech", [], category="phone", span=(0.2, 0.6)))
    save_plan(plan, tmp_path / "silent.clean.plan.json")
    session = ReviewSession(QUIET)
    session.open(clip)
    with ReviewServer(session) as srv:
        assert [t["span"] for t in api(srv, "GET", "api/plan")["tracks"] if t["id"] == sid] == [[0.2, 0.6]]
        code, _, body = request(srv, "GET", f"api/audio/{sid}.wav")
        assert code == 404 and "no sound" in json.loads(body)["error"]


def test_export_bleeps_only_the_speech_left_to_bleep(server, talk_dir):
    from redact.speech import load_audio

    d, (name_id, date_id, _badge) = talk_dir
    api(server, "POST", f"api/track/{name_id}", {"action": "keep"})
    api(server, "POST", "api/export", {})
    st = wait_ready(server)
    assert st["job"]["state"] == "done", st
    out = Path(st["result"]["video"])
    report = json.loads(Path(st["result"]["report_json"]).read_text())
    assert "speech" in json.dumps(report)
    src, rate = load_audio(d / "talk.mp4")
    dst, _ = load_audio(out)
    kept = slice(int((SPAN[0] + 0.2) * rate), int((SPAN[1] - 0.2) * rate))  # left audible: still the tone
    ref, got = src[kept], dst[kept]
    corr = float(np.dot(ref, got) / (np.linalg.norm(ref) * np.linalg.norm(got) + 1e-9))
    assert corr > 0.9, corr
    bleeped = slice(int(0.12 * rate), int(0.38 * rate))  # the date: no longer the tone
    ref, got = src[bleeped], dst[bleeped]
    corr = float(np.dot(ref, got) / (np.linalg.norm(ref) * np.linalg.norm(got) + 1e-9))
    assert corr < 0.5, corr
