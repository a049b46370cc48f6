"""``redact review``: the local page's API (token, loopback only, edits saved to the plan, export), no browser.

The browser itself is driven in tests/test_review_browser.py."""

from __future__ import annotations

import http.client
import io
import json
import math
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from redact.pipeline import ScanOptions, load_plan, save_plan, scan
from redact.review.server import ReviewServer
from redact.review.session import ReviewSession, safe_name

from .conftest import listdir
from .media import make_video

FAST = ScanOptions(text="off")
DEADLINE_S = 300  # generous: only a bound on waiting for a background job, never a timing assertion


# -- helpers ------------------------------------------------------------------------------------------------------

def request(server: ReviewServer, method: str, path: str, body=None, *, token: str | None = None,
            headers: dict | None = None) -> tuple[int, dict, bytes]:
    """``path`` relative to the page (``api/status``); ``token=""`` sends none."""
    tok = server.token if token is None else token
    url = f"/{tok}/{path}" if tok else f"/{path}"
    h = {"Host": f"127.0.0.1:{server.port}"}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h["Content-Type"] = "application/octet-stream" if isinstance(body, bytes) else "application/json"
    h.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        conn.request(method, url, body=data, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def api(server: ReviewServer, method: str, path: str, body=None, status: int = 200):
    code, _, data = request(server, method, path, body)
    assert code == status, (code, data)
    return json.loads(data)


def wait_ready(server: ReviewServer) -> dict:
    end = time.monotonic() + DEADLINE_S
    while True:
        st = api(server, "GET", "api/status")
        if st["state"] not in ("scanning", "exporting"):
            return st
        assert time.monotonic() < end, st
        time.sleep(0.2)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, face_scene):
    """A small clip with one face and its plan (scanned once for the module)."""
    d = tmp_path_factory.mktemp("review-src")
    clip = make_video(d / "clip.mp4", width=320, height=240, frames=8, fps=10, audio=False, draw=face_scene)
    plan = scan(clip, FAST).plan
    assert {t.kind for t in plan.tracks} == {"face"} and plan.track(1).first_frame == 0  # (and a part of it)
    return clip, plan


@pytest.fixture
def clip_dir(tmp_path, scanned):
    """A fresh copy of the clip with its plan saved where review looks for it (clip.clean.plan.json)."""
    src, plan = scanned
    clip = tmp_path / "clip.mp4"
    shutil.copy(src, clip)
    save_plan(plan, tmp_path / "clip.clean.plan.json")
    return tmp_path


@pytest.fixture
def server(clip_dir):
    session = ReviewSession(FAST)
    session.open(clip_dir / "clip.mp4")
    with ReviewServer(session) as srv:
        yield srv


# -- security -------------------------------------------------------------------------------------------------------

def test_every_request_needs_the_token(server):
    for path in ("", "api/status", "api/plan", "frame/0.jpg", "page.js", "download/video"):
        assert request(server, "GET", path, token="")[0] == 403, path
        assert request(server, "GET", path, token="x" * 43)[0] == 403, path
        other = "B" if server.token.endswith("A") else "A"  # one character off (never the token itself)
        assert request(server, "GET", path, token=server.token[:-1] + other)[0] == 403, path
    assert request(server, "POST", "api/track/1", {"action": "keep"}, token="nope" * 5)[0] == 403
    assert request(server, "POST", "api/quit", {}, token="")[0] == 403
    code, _, page = request(server, "GET", "")
    assert code == 200 and b"Check your video" in page
    code, headers, _ = request(server, "GET", "", token="")
    assert code == 403
    assert request(server, "GET", "api/status")[0] == 200
    assert load_plan(server.session.plan_path).tracks[0].action == "redact"  # the refused POST changed nothing


def test_the_token_is_long_and_random_and_the_server_is_loopback_only(clip_dir):
    a, b = ReviewServer(ReviewSession(FAST)), ReviewServer(ReviewSession(FAST))
    try:
        assert a.token != b.token and len(a.token) >= 40
        for srv in (a, b):
            assert srv.httpd.socket.getsockname()[0] == "127.0.0.1"
            assert srv.url.startswith(f"http://127.0.0.1:{srv.port}/{srv.token}/")
        assert a.port != b.port  # a free port each time
    finally:
        a.stop()
        b.stop()


def test_foreign_hosts_origins_and_cross_site_requests_are_refused(server):
    assert request(server, "GET", "api/status", headers={"Host": f"evil.example:{server.port}"})[0] == 403
    assert request(server, "GET", "api/status", headers={"Host": "localhost:1"})[0] == 403
    assert request(server, "GET", "api/status", headers={"Host": f"localhost:{server.port}"})[0] == 200
    assert request(server, "POST", "api/track/1", {"action": "keep"},
                   headers={"Origin": "http://evil.example"})[0] == 403
    assert request(server, "GET", "frame/0.jpg", headers={"Sec-Fetch-Site": "cross-site"})[0] == 403
    # a form post (no CORS preflight) is not accepted as an edit
    code, _, _ = request(server, "POST", "api/track/1", b"action=keep",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert code == 400
    assert load_plan(server.session.plan_path).tracks[0].action == "redact"


def test_responses_are_not_cached_and_allow_only_this_server(server):
    for path in ("", "frame/0.jpg", "thumb/1.jpg", "api/plan", "page.js"):
        code, h, _ = request(server, "GET", path)
        assert code == 200, path
        assert h["cache-control"] == "no-store" and h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in h["content-security-policy"] and "http" not in h["content-security-policy"]


def test_the_page_loads_nothing_from_elsewhere(server):
    from importlib.resources import files

    for name in ("page.html", "page.js", "page.css"):
        text = files("redact.review").joinpath(name).read_text("utf-8")
        for needle in ("http://", "https://", "//cdn", "@import", "fonts.g"):
            assert needle not in text.replace("http://www.w3.org/2000/svg", ""), (name, needle)


# -- review: frames, thumbnails, edits ---------------------------------------------------------------------------

def test_frames_and_thumbnails_come_from_memory(server, clip_dir):
    before = listdir(clip_dir)
    code, h, data = request(server, "GET", "frame/3.jpg")
    assert code == 200 and h["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(data)).size == (320, 240)
    assert request(server, "GET", "frame/8.jpg")[0] == 404
    code, _, thumb = request(server, "GET", "thumb/1.jpg")
    assert code == 200 and max(Image.open(io.BytesIO(thumb)).size) <= 160
    assert request(server, "GET", "thumb/99.jpg")[0] == 404
    decoded = server.session.frames.decoded
    assert request(server, "GET", "frame/3.jpg")[2] == data and server.session.frames.decoded == decoded  # cached
    assert listdir(clip_dir) == before  # nothing written beside the clip


def test_rotated_phone_clips_are_shown_upright(tmp_path):
    from redact.io import read_frames

    clip = make_video(tmp_path / "phone.mp4", width=160, height=96, frames=3, rotation=90)
    session = ReviewSession(FAST)
    save_plan(scan(clip, FAST).plan, tmp_path / "phone.clean.plan.json")
    session.open(clip)
    with ReviewServer(session) as srv:
        view = api(srv, "GET", "api/plan")
        assert (view["input"]["width"], view["input"]["height"]) == (96, 160)
        img = np.asarray(Image.open(io.BytesIO(request(srv, "GET", "frame/1.jpg")[2])).convert("RGB"))
    upright = read_frames(clip)[1]
    assert img.shape == upright.shape == (160, 96, 3)
    assert np.abs(img.astype(int) - upright).mean() < 6
    assert np.abs(img.astype(int) - np.rot90(upright, 2)).mean() > 30  # the check can tell orientations apart


def test_keep_toggle_is_saved_to_the_plan_file(server):
    ppath = server.session.plan_path
    view = api(server, "POST", "api/track/1", {"action": "keep"})
    assert [t["action"] for t in view["tracks"] if t["id"] == 1] == ["keep"]
    assert all(t["action"] == "redact" for t in view["tracks"] if t["id"] != 1)
    plan = load_plan(ppath)
    assert plan.track(1).action == "keep" and plan.settings["keep"]["kept"] == [1]
    api(server, "POST", "api/track/1", {"action": "redact"})
    plan = load_plan(ppath)
    assert plan.track(1).action == "redact" and plan.settings["keep"]["kept"] == []
    assert api(server, "POST", "api/track/1", {"action": "show"}, status=400)
    assert api(server, "POST", "api/track/42", {"action": "keep"}, status=404)


def test_a_manual_box_is_added_saved_and_removable_but_found_tracks_are_not(server):
    ppath = server.session.plan_path
    found = [t.id for t in load_plan(ppath).tracks]
    view = api(server, "POST", "api/manual", {"kind": "badge", "box": [200, 150, 400, 260], "first": 2, "last": 5})
    tid = view["added"]
    plan = load_plan(ppath)
    t = plan.track(tid)
    assert t.kind == "badge" and t.action == "redact"
    assert sorted(b.frame for b in t.boxes) == [2, 3, 4, 5]
    assert {b.source for b in t.boxes} == {"manual"}
    assert t.boxes[0].box == (200.0, 150.0, 320.0, 240.0)  # clipped to the frame
    assert request(server, "GET", f"thumb/{tid}.jpg")[0] == 200
    # only faces can be kept, the same rule as --keep
    err = api(server, "POST", f"api/track/{tid}", {"action": "keep"}, status=400)
    assert "only faces" in err["error"] and load_plan(ppath).track(tid).action == "redact"
    for bad in ({"kind": "frame", "box": [0, 0, 50, 50], "first": 0, "last": 1},
                {"kind": "face", "box": [10, 10, 11, 11], "first": 0, "last": 1},
                {"kind": "face", "box": [10, 10, 50, 50], "first": 3, "last": 8},
                {"kind": "face", "box": [10, 10, 50, 50], "first": 4, "last": 2},
                {"kind": "face", "box": [10, 10, "x", 50], "first": 0, "last": 1}):
        api(server, "POST", "api/manual", bad, status=400)
    assert len(load_plan(ppath).tracks) == len(found) + 1
    err = api(server, "POST", "api/track/1/remove", {}, status=400)
    assert "only boxes drawn by hand" in err["error"]
    api(server, "POST", f"api/track/{tid}/remove", {})
    assert [t.id for t in load_plan(ppath).tracks] == found


def _with_evidence(clip_dir, evidence) -> Path:
    """The clip's plan with ``evidence`` on track 1, and a whole-frame cover (which has none) on frame 7."""
    from redact.types import Track, TrackBox, next_track_id

    ppath = clip_dir / "clip.clean.plan.json"
    plan = load_plan(ppath)
    plan.track(1).evidence = evidence
    w, h = plan.input.width, plan.input.height
    plan.tracks.append(Track(next_track_id(plan.tracks), "frame", [TrackBox(7, (0, 0, w, h), 1.0, "failsafe")]))
    save_plan(plan, ppath)
    return ppath


def test_the_page_gets_each_tracks_evidence_as_numbers_only(clip_dir):
    _with_evidence(clip_dir, {"detections": 1, "best_score": 0.23871, "confirmed": False,
                              "note": "Name: John Example"})  # anything else in it never reaches the page
    session = ReviewSession(FAST)
    session.open(clip_dir / "clip.mp4")
    try:
        tid = session.add_manual("badge", [10, 10, 60, 40], 2, 4)
        view = session.view()
        by_id = {t["id"]: t for t in view["tracks"]}
        assert by_id[1]["evidence"] == {"detections": 1, "best_score": 0.24, "confirmed": False}
        assert by_id[tid]["manual"] and by_id[tid]["evidence"] is None  # drawn by hand: no evidence
        frame = [t for t in view["tracks"] if t["kind"] == "frame"]
        assert len(frame) == 1 and frame[0]["evidence"] is None  # a whole-frame cover: none either
        assert "John" not in json.dumps(view) and "note" not in json.dumps(view)
        # a confirmed track, and a plan made before evidence was recorded
        session.plan.track(1).evidence = {"detections": 6, "best_score": 0.9, "confirmed": True}
        assert session.view()["tracks"][0]["evidence"] == {"detections": 6, "best_score": 0.9, "confirmed": True}
        session.plan.track(1).evidence = None
        assert session.view()["tracks"][0]["evidence"] is None
        # malformed evidence (a hand-edited plan) is left out rather than passed on
        session.plan.track(1).evidence = {"detections": "1", "best_score": 0.2, "confirmed": False}
        assert session.view()["tracks"][0]["evidence"] is None
    finally:
        session.close()


def test_the_plan_api_carries_the_evidence_and_edits_keep_it(clip_dir):
    ppath = _with_evidence(clip_dir, {"detections": 2, "best_score": 0.31, "confirmed": False})
    session = ReviewSession(FAST)
    session.open(clip_dir / "clip.mp4")
    with ReviewServer(session) as srv:
        view = api(srv, "GET", "api/plan")
        assert view["tracks"][0]["id"] == 1
        assert view["tracks"][0]["evidence"] == {"detections": 2, "best_score": 0.31, "confirmed": False}
        view = api(srv, "POST", "api/track/1", {"action": "keep"})  # an edit saves the plan: evidence stays
        assert [t["evidence"] for t in view["tracks"] if t["id"] == 1] == [
            {"detections": 2, "best_score": 0.31, "confirmed": False}]
    assert load_plan(ppath).track(1).evidence == {"detections": 2, "best_score": 0.31, "confirmed": False}


def test_a_review_resumes_from_its_plan_file(clip_dir):
    clip = clip_dir / "clip.mp4"
    first = ReviewSession(FAST)
    first.open(clip)
    first.set_action(1, "keep")
    first.close()
    again = ReviewSession(FAST)
    again.open(clip)
    assert again.status()["state"] == "ready" and again.job is None  # no new scan
    assert again.plan.track(1).action == "keep"
    again.close()


def test_a_plan_for_other_bytes_is_not_used(clip_dir, tmp_path):
    from redact.errors import PlanMismatchError

    clip = clip_dir / "clip.mp4"
    other = load_plan(clip_dir / "clip.clean.plan.json")
    other.input.sha256 = "0" * 64
    explicit = tmp_path / "mine.json"
    save_plan(other, explicit)
    with pytest.raises(PlanMismatchError, match="another file"):
        ReviewSession(FAST).open(clip, plan_path=explicit)
    assert load_plan(explicit).input.sha256 == "0" * 64  # an explicit plan is never overwritten
    save_plan(other, clip_dir / "clip.clean.plan.json")
    session = ReviewSession(FAST)
    session.open(clip)  # the default plan belongs to other bytes: scanned again
    with ReviewServer(session) as srv:
        assert wait_ready(srv)["state"] == "ready"
    assert load_plan(clip_dir / "clip.clean.plan.json").input.sha256 != "0" * 64


# -- export --------------------------------------------------------------------------------------------------------

def test_export_keeps_the_kept_face_untouched_and_blurs_the_rest(server, clip_dir):
    from redact.io import read_frames

    plan = load_plan(server.session.plan_path)
    face = plan.track(1)
    faces = [t.id for t in plan.tracks]
    for tid in faces:  # the scan also finds the lower half of the face as a track of its own
        api(server, "POST", f"api/track/{tid}", {"action": "keep"})
    # a badge drawn over the face's lower right corner, frames 0-7: blurred although the face is kept
    fb = {b.frame: b.box for b in face.boxes}
    x1, y1, x2, y2 = fb[4]
    bx = [round((x1 + x2) / 2), round((y1 + y2) / 2), round(x2), round(y2)]
    api(server, "POST", "api/manual", {"kind": "badge", "box": bx, "first": 0, "last": 7})
    api(server, "POST", "api/export", {})
    st = wait_ready(server)
    assert st["job"]["state"] == "done", st
    out = Path(st["result"]["video"])
    assert out == clip_dir / "clip.clean.mp4"
    report = json.loads(Path(st["result"]["report_json"]).read_text())
    assert [(t["kind"], t["action"]) for t in report["tracks"]] == [("face", "keep")] * len(faces) + [
        ("badge", "redact")]
    src, dst = read_frames(clip_dir / "clip.mp4"), read_frames(out)
    assert len(dst) == 8
    i = 4
    fx1, fy1 = (int(v) for v in fb[i][:2])
    kept = (slice(fy1, bx[1]), slice(fx1, bx[0]))  # the face's upper-left part, not under the badge
    badge = (slice(bx[1] + 2, bx[3] - 2), slice(bx[0] + 2, bx[2] - 2))
    assert psnr(src[i][kept], dst[i][kept]) >= 30
    assert psnr(src[i][badge], dst[i][badge]) < 25
    code, h, body = request(server, "GET", "download/video")
    assert code == 200 and body == out.read_bytes() and "attachment" in h["content-disposition"]
    code, h, body = request(server, "GET", "download/report_html")
    assert code == 200 and b"Redaction report" in body and "script-src" not in h["content-security-policy"]
    assert sorted(listdir(clip_dir)) == ["clip.clean.mp4", "clip.clean.plan.json", "clip.clean.report.html",
                                         "clip.clean.report.json", "clip.mp4"]


def test_a_failed_export_leaves_no_output(server, clip_dir, monkeypatch):
    import redact.report

    def broken(*a, **k):
        raise RuntimeError("the words on screen")

    monkeypatch.setattr(redact.report, "write_report_json", broken)  # the report fails after the render
    api(server, "POST", "api/export", {})
    st = wait_ready(server)
    assert st["job"]["state"] == "error" and st["job"]["error"] == "unexpected error (RuntimeError)"
    assert "result" not in st and "words" not in json.dumps(st)
    assert sorted(listdir(clip_dir)) == ["clip.clean.plan.json", "clip.mp4"]
    assert request(server, "GET", "download/video")[0] == 404


# -- without a file: path field and upload ----------------------------------------------------------------------------

def test_open_by_path_and_bad_paths(clip_dir, tmp_path):
    (tmp_path / "notes.mp4").write_text("not a video\n" * 20)
    with ReviewServer(ReviewSession(FAST)) as srv:
        assert api(srv, "GET", "api/status")["state"] == "choose"
        assert api(srv, "GET", "api/plan", status=404)
        err = api(srv, "POST", "api/open", {"path": str(tmp_path / "missing.mp4")}, status=400)
        assert "\n" not in err["error"]
        api(srv, "POST", "api/open", {"path": str(tmp_path / "notes.mp4")}, status=400)
        assert api(srv, "POST", "api/open", {"path": str(clip_dir / "clip.mp4")})["state"] == "ready"
        assert {t["kind"] for t in api(srv, "GET", "api/plan")["tracks"]} == {"face"}


def test_an_upload_is_scanned_from_a_private_copy_that_is_removed_on_close(clip_dir):
    clip = clip_dir / "clip.mp4"
    data = clip.read_bytes()
    session = ReviewSession(FAST)
    srv = ReviewServer(session).start()
    try:
        st = api(srv, "POST", "api/upload?name=..%2F..%2Fmy%20clip.mp4", data)
        assert st["state"] in ("scanning", "ready") and st["clip"] == "my clip.mp4"
        st = wait_ready(srv)
        assert st["state"] == "ready", st
        copy = session.clip
        assert copy.read_bytes() == data and copy.parent.parent == session._tmp
        assert clip_dir not in copy.parents and oct(session._tmp.stat().st_mode & 0o777) == "0o700"
        view = api(srv, "GET", "api/plan")
        assert view["uploaded"] and Path(view["output"]).parent == copy.parent
        tmp = session._tmp
    finally:
        srv.stop()
    assert not tmp.exists()
    assert clip.read_bytes() == data  # the original is untouched
    assert safe_name("a/b\\c<>.mp4") == "c__.mp4" and safe_name("") == "clip"


# -- the command ----------------------------------------------------------------------------------------------------

def test_cli_review_prints_the_address_and_opens_a_browser_unless_told_not_to(clip_dir, monkeypatch):
    import webbrowser

    from redact.cli import cli
    from redact.review import server as server_mod

    opened, served = [], []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    monkeypatch.setattr(server_mod.ReviewServer, "serve_forever", lambda self: served.append(self.url))
    r = CliRunner().invoke(cli, ["review", str(clip_dir / "clip.mp4"), "--no-browser", "--text", "off"])
    assert r.exit_code == 0, r.output
    assert opened == [] and served and f"Review page: {served[0]}" in r.output
    assert served[0].startswith("http://127.0.0.1:")
    r = CliRunner().invoke(cli, ["review", "--text", "off"])
    assert r.exit_code == 0 and len(opened) == 1 and opened[0] == served[1]
    r = CliRunner().invoke(cli, ["review", str(clip_dir / "nope.mp4"), "--no-browser"])
    assert r.exit_code == 1 and r.output.startswith("redact: error:")
    r = CliRunner().invoke(cli, ["review", "--plan", "x.json"])
    assert r.exit_code == 2


def test_cli_review_terminated_says_the_saved_choices_stay(monkeypatch):
    # a SIGTERM ends the review with 143; the plan holds every choice already made, so "no output was left
    # behind" (a run's message, printed here before) was wrong
    from redact.cli import cli
    from redact.cli.common import _Terminated
    from redact.review import server as server_mod

    def terminated(self):
        raise _Terminated()

    monkeypatch.setattr(server_mod.ReviewServer, "serve_forever", terminated)
    r = CliRunner().invoke(cli, ["review", "--no-browser", "--text", "off"])
    assert r.exit_code == 143
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("redact: terminated; choices already saved in the plan are kept"), last
    assert "no output was left behind" not in r.stderr
