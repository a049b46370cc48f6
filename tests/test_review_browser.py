"""The review page in a real headless browser (Playwright driving the system's Chromium).

Skipped when the ``playwright`` package or a Chromium binary is missing (``pip install -e '.[review-test]'``
installs the driver; Playwright's own browser downloads are never used: the system Chromium is launched via
``executable_path``). Screenshots go to the test's tmp folder, and also to ``$REDACT_REVIEW_SCREENSHOTS`` if set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from redact.pipeline import ScanOptions, load_plan, save_plan, scan
from redact.review.server import ReviewServer
from redact.review.session import ReviewSession

from .conftest import ROOT
from .media import make_video

sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need: pip install -e '.[review-test]'")
CHROMIUM = os.environ.get("REDACT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    pytest.skip("browser tests need a Chromium binary (apt-get install chromium)", allow_module_level=True)

SAMPLE = ROOT / "samples" / "demo.mp4"
SCAN_TIMEOUT_MS = 600_000  # bounds on waiting for background work, never timing assertions
EXPORT_TIMEOUT_MS = 300_000


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        # offline: no background connections of Chromium's own (updates, sync, field trials)
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


class Page:
    """A browser page on a review server that records every request and every script error."""

    def __init__(self, browser, server: ReviewServer, shots: Path) -> None:
        self.server, self.shots = server, shots
        self.page = browser.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.goto(server.url)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)
        extra = os.environ.get("REDACT_REVIEW_SCREENSHOTS")
        if extra:
            self.page.screenshot(path=str(Path(extra) / f"{name}.png"), full_page=True)

    def check_clean(self) -> None:
        """No script errors, and nothing requested from anywhere but this server, under its token."""
        assert self.errors == []
        assert self.requests and all(u.startswith(self.server.url) for u in self.requests), self.requests


def _plan_action(path: Path, tid: int) -> str:
    return load_plan(path).track(tid).action


def _wait_for(page, fn, what: str) -> None:
    """Poll ``fn()`` (a file-side check) from the page's event loop until it holds (bounded, not timed)."""
    for _ in range(200):
        if fn():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never happened: {what}")


# -- the done-when: scan the sample, keep the patient, render, from the page ----------------------------

@pytest.mark.slow
def test_from_the_page_alone_pick_a_clip_keep_the_patient_and_save(browser, tmp_path):
    from redact.io import read_frames

    from .test_keep import _patient_track, check_patient_kept

    session = ReviewSession()  # the default analysis: faces, badges and on-screen text
    with ReviewServer(session) as server:
        ui = Page(browser, server, tmp_path)
        page = ui.page
        page.wait_for_selector("#choose", state="visible")
        ui.shot("1-choose")
        page.set_input_files("#file-input", str(SAMPLE))  # an upload: copied into a private temp folder
        page.wait_for_selector("#scanning", state="visible")
        page.wait_for_selector("#scan-text:has-text('frames')", timeout=SCAN_TIMEOUT_MS)
        ui.shot("2-scanning")
        page.wait_for_selector("#review", state="visible", timeout=SCAN_TIMEOUT_MS)
        page.wait_for_selector(".track img")
        plan = session.plan
        patient = _patient_track(plan)
        ui.shot("3-review")
        assert {t.kind for t in plan.tracks} >= {"face", "badge", "text"}
        # only faces offer a Blur/Show switch (and speech, if any was found, a Bleep/Keep audible one)
        for t in plan.tracks:
            assert page.locator(f".track[data-id='{t.id}'] .switch").count() == (1 if t.kind in ("face", "speech")
                                                                                 else 0)
        page.click(f".track[data-id='{patient.id}'] button.show")
        page.wait_for_selector(f".track[data-id='{patient.id}'] .pill.visible")
        _wait_for(page, lambda: _plan_action(session.plan_path, patient.id) == "keep", "keep saved")
        assert [t.id for t in load_plan(session.plan_path).tracks if t.action == "keep"] == [patient.id]
        page.click("#export-btn")
        page.wait_for_selector("#export-done", state="visible", timeout=EXPORT_TIMEOUT_MS)
        ui.shot("4-saved")
        out = Path(session.result["video"])
        with page.expect_download() as dl:
            page.click("#dl-video")
        saved = tmp_path / "downloaded.mp4"
        dl.value.save_as(saved)
        assert saved.read_bytes() == out.read_bytes()
        ui.check_clean()

        src, dst = read_frames(SAMPLE), read_frames(out)
        assert len(src) == len(dst) == 100
        check_patient_kept(src, dst, plan, patient)
        upload_dir = session._tmp
    assert not upload_dir.exists()  # the private copy is gone once the review closes


# -- editing: draw a box, keep a face, resume ------------------------------------------------------------------------

@pytest.fixture
def small(tmp_path, face_scene):
    clip = make_video(tmp_path / "clip.mp4", width=320, height=240, frames=8, fps=10, audio=False, draw=face_scene)
    save_plan(scan(clip, ScanOptions(text="off")).plan, tmp_path / "clip.clean.plan.json")
    return clip


def test_draw_a_box_keep_a_face_and_resume(browser, small, tmp_path):
    ppath = tmp_path / "clip.clean.plan.json"
    found = [t.id for t in load_plan(ppath).tracks]
    session = ReviewSession(ScanOptions(text="off"))
    session.open(small)
    with ReviewServer(session) as server:
        ui = Page(browser, server, tmp_path)
        page = ui.page
        page.wait_for_selector(".track img")
        assert page.locator(".track").count() == len(found)
        # draw a box over the lower right of the picture, frames 2..5, as a name badge
        page.click("#next-btn")
        page.click("#next-btn")
        page.click("#draw-btn")
        canvas = page.locator("#view")
        canvas.scroll_into_view_if_needed()
        r = canvas.bounding_box()
        page.mouse.move(r["x"] + 0.5 * r["width"], r["y"] + 0.5 * r["height"])
        page.mouse.down()
        page.mouse.move(r["x"] + 0.9 * r["width"], r["y"] + 0.9 * r["height"], steps=6)
        page.mouse.up()
        page.check("#kind-badge")
        page.click("#from-btn")
        for _ in range(3):
            page.click("#next-btn")
        page.click("#to-btn")
        ui.shot("5-drawing")
        page.click("#add-btn")
        page.wait_for_selector(f".track[data-id='{max(found) + 1}']")
        plan = load_plan(ppath)
        t = plan.track(max(found) + 1)
        assert t.kind == "badge" and t.action == "redact" and {b.source for b in t.boxes} == {"manual"}
        assert sorted(b.frame for b in t.boxes) == [2, 3, 4, 5]
        assert np.allclose(t.boxes[0].box, (160, 120, 288, 216), atol=3)
        # keep the face: saved at once; a badge offers no such switch
        page.click(".track[data-id='1'] button.show")
        _wait_for(page, lambda: _plan_action(ppath, 1) == "keep", "keep saved")
        assert page.locator(f".track[data-id='{t.id}'] .switch").count() == 0
        ui.shot("6-edited")
        # a reload (or a later `redact review clip.mp4`) resumes from the plan file
        page.reload()
        page.wait_for_selector(".track[data-id='1'] .pill.visible")
        page.click(f".track[data-id='{t.id}'] button.remove")
        page.wait_for_selector(f".track[data-id='{t.id}']", state="detached")
        assert [x.id for x in load_plan(ppath).tracks] == found
        ui.check_clean()


def test_the_pages_clock_is_the_plans_timeline(browser, small, tmp_path):
    """The page's times (clock, timeline, playback) come from the plan's knots as the report's do
    (redact/timeline.py): checked against the Python rule on a clip whose rate changes, and past both ends."""
    from redact.timeline import Timeline

    knots = [[0, 0.85], [30, 1.85], [50, 2.85], [51, 2.9], [90, 4.2], [140, 5.87]]
    session = ReviewSession(ScanOptions(text="off"))
    session.open(small)
    with ReviewServer(session) as server:
        ui = Page(browser, server, tmp_path)
        page = ui.page
        page.wait_for_selector(".track img")
        frames = [-3, 0, 7, 29.5, 30, 50, 50.5, 51, 89, 90, 139, 140, 175]
        got = page.evaluate("""([knots, frames]) => {
          state.plan.input.timeline = knots;
          const times = frames.map(timeAt);
          return [times, times.map(frameAt)];
        }""", [knots, frames])
        line = Timeline.of(knots, 30.0)
        assert got[0] == pytest.approx([line.time(f) for f in frames], abs=1e-9)
        assert got[1] == pytest.approx(frames, abs=1e-6)
        ui.check_clean()


YELLOW_NEAR = """([x1, y1, x2, y2]) => {
  // pixels of the "please check" yellow in a band around a box on the canvas
  const c = document.getElementById("view");
  const m = 24, d = c.getContext("2d").getImageData(x1 - m, y1 - m, x2 - x1 + 2 * m, y2 - y1 + 2 * m).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 225 && d[i + 1] > 180 && d[i + 1] < 235 && d[i + 2] < 110) n++;
  return n;
}"""


def test_low_confidence_tracks_are_marked_and_the_next_button_goes_through_them(browser, small, tmp_path):
    from redact.types import Track, TrackBox, next_track_id

    ppath = tmp_path / "clip.clean.plan.json"
    plan = load_plan(ppath)
    found = [t.id for t in plan.tracks]  # the face (confirmed)
    for t in plan.tracks:
        t.evidence = {"detections": 8, "best_score": 0.91, "confirmed": True}
    text_id, badge_id = next_track_id(plan.tracks), next_track_id(plan.tracks) + 1
    badge_box, text_box = (200.0, 185.0, 300.0, 230.0), (20.0, 195.0, 120.0, 225.0)  # clear of the face
    plan.tracks += [
        Track(text_id, "text", [TrackBox(5, text_box, 0.31, "detected"), TrackBox(6, text_box, 0.2, "tracked")],
              category="name", evidence={"detections": 1, "best_score": 0.31, "confirmed": False}),
        Track(badge_id, "badge", [TrackBox(3, badge_box, 0.24, "detected"), TrackBox(4, badge_box, 0.2, "tracked")],
              evidence={"detections": 1, "best_score": 0.2418, "confirmed": False}),
    ]
    save_plan(plan, ppath)
    session = ReviewSession(ScanOptions(text="off"))
    session.open(small)
    with ReviewServer(session) as server:
        ui = Page(browser, server, tmp_path)
        page = ui.page
        page.wait_for_selector(".track img")
        # the list: the two unconfirmed tracks are marked, with what was seen of them; the face is not
        assert page.inner_text("#lowconf-count") == "Low confidence: 2 to check"
        low = page.locator(".track.low").evaluate_all("cs => cs.map(c => Number(c.dataset.id))")
        assert sorted(low) == [text_id, badge_id]
        assert page.locator(".track .pill.check").count() == 2
        badge = page.locator(f".track[data-id='{badge_id}']")
        assert badge.locator(".pill.check").inner_text() == "⚠ Please check"
        assert "seen in 1 frame, best score 0.24" in badge.inner_text()
        assert badge.get_attribute("title") == "Seen in 1 frame, best score 0.24"
        for tid in found:
            title = page.locator(f".track[data-id='{tid}']").get_attribute("title")
            assert title == "Seen in 8 frames, best score 0.91"
        assert "low confidence" in page.inner_text("#legend")
        assert page.evaluate(YELLOW_NEAR, badge_box) == 0  # frame 0: the badge is not on screen
        # "next" seeks to each one's first frame in turn (in time order), selects it, and wraps around
        for tid, first, pos in ((badge_id, 3, "1 of 2"), (text_id, 5, "2 of 2"), (badge_id, 3, "1 of 2")):
            page.click("#lowconf-next")
            page.wait_for_selector(f".track.selected[data-id='{tid}']")
            assert page.input_value("#seek") == str(first)
            assert page.inner_text("#lowconf-pos") == pos
            # on the picture: a yellow and black outline and a "please check" label around its box
            box = badge_box if tid == badge_id else text_box
            page.wait_for_function(f"({YELLOW_NEAR})({list(box)}) > 150")
        ui.shot("8-low-confidence")
        ui.check_clean()


def test_a_file_that_is_not_a_video_is_a_clear_message(browser, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video\n" * 20)
    with ReviewServer(ReviewSession(ScanOptions(text="off"))) as server:
        ui = Page(browser, server, tmp_path)
        page = ui.page
        page.fill("#path-input", str(notes))
        page.click("#open-btn")
        page.wait_for_selector("#message", state="visible")
        assert page.locator("#choose").is_visible()
        assert "Traceback" not in page.inner_text("#message")
        ui.shot("7-bad-file")


def test_a_speech_track_is_played_and_kept_audible_or_bleeped(browser, tmp_path, face_scene):
    from redact.types import Track, next_track_id

    clip = make_video(tmp_path / "talk.mp4", width=320, height=240, frames=30, fps=10, audio=True, draw=face_scene)
    plan = scan(clip, ScanOptions(text="off", speech="off")).plan
    sid = next_track_id(plan.tracks)
    plan.tracks.append(Track(sid, "speech", [], category="name", span=(1.2, 2.85),
                             evidence={"detections": 1, "best_score": 0.87, "confirmed": True}))
    ppath = tmp_path / "talk.clean.plan.json"
    save_plan(plan, ppath)
    session = ReviewSession(ScanOptions(text="off", speech="off"))
    session.open(clip)
    with ReviewServer(session) as server:
        ui = Page(browser, server, tmp_path)
        page = ui.page
        card = page.locator(f".track[data-id='{sid}']")
        card.wait_for()
        # no picture (nor a request for one), its span and what was said (the category, never words)
        assert card.locator("img").count() == 0
        assert card.locator(".when").inner_text() == "speech · name, 1.20–2.85 s"
        assert "Speech" in card.locator(".name").inner_text()
        assert card.locator(".pill.blurred").inner_text() == "Will be bleeped"
        assert page.locator("#speech-note").is_visible()
        # one bar on the timeline; clicking it goes to where it is said
        bar = page.locator(f"#timeline rect.speech-bar[data-id='{sid}']")
        assert bar.count() == 1
        bar.click()
        page.wait_for_selector(f".track.selected[data-id='{sid}']")
        assert page.input_value("#seek") == "12"
        # keep audible, then bleep again: saved at once
        assert card.locator("button.blur").inner_text() == "Bleep"
        page.click(f".track[data-id='{sid}'] button.show")
        _wait_for(page, lambda: _plan_action(ppath, sid) == "keep", "keep audible saved")
        page.wait_for_selector(f".track[data-id='{sid}'] .pill.visible:has-text('Will be audible')")
        assert "left audible" in page.inner_text("#legend")
        page.click(f".track[data-id='{sid}'] button.blur")
        _wait_for(page, lambda: _plan_action(ppath, sid) == "redact", "bleep saved")
        page.wait_for_selector(f".track[data-id='{sid}'] .pill.blurred")
        # play: the original sound of that stretch, fetched from this server under its token
        page.click(f".track[data-id='{sid}'] button.play")
        assert card.locator("button.play").inner_text() == "■ Stop"
        audio_url = f"{server.url}api/audio/{sid}.wav"
        _wait_for(page, lambda: audio_url in ui.requests, "the sound requested")
        page.wait_for_selector(f".track[data-id='{sid}'] button.play:has-text('Play')", timeout=30_000)  # ended
        assert not page.locator("#message").is_visible()
        assert not any("/thumb/" in u and u.endswith(f"/{sid}.jpg") for u in ui.requests)
        ui.shot("9-speech")
        ui.check_clean()
