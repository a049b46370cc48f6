"""The report: derived from the plan, whitelisted fields, self-contained and escaped HTML."""

from __future__ import annotations

import json
import re

from redact.report import build_report, write_report_html, write_report_json
from redact.report.html import timeline_svg
from redact.types import InputInfo, Plan, Track, TrackBox


def _plan(path="/videos/ward.mp4"):
    def boxes(frames, source="detected"):
        return [TrackBox(f, (10, 10, 50, 60), 0.9, source) for f in frames]

    tracks = [
        Track(1, "face", boxes(range(0, 50))),
        Track(2, "face", boxes(range(25, 100)), action="keep"),
        Track(3, "text", boxes(range(10, 20)), category="nhs_number"),
        Track(4, "badge", boxes([5, 6, 7, 30, 31])),
    ]
    info = InputInfo(path, "ab" * 32, "video", 640, 360, 100, 25.0, {"duration": 4.0, "rotation": 90,
                                                                     "secret_field": "must not be copied"})
    return Plan(info, tracks, settings={"scan": {"provider": "cpu"}}, tool={"name": "redact"})


def _report(plan):
    return build_report(plan, output_path="/out/ward.clean.mp4", output_sha256="cd" * 32,
                        render={"frames": 100, "audio": "copied", "width": 640, "height": 360, "truncated": False},
                        timings={"scan_s": 1.0}, models=[{"name": "centerface", "sha256": "ef" * 32,
                                                          "nested": {"x": 1}}], warnings=["w1"])


def test_summary_counts_and_ranges():
    rep = _report(_plan())
    s = rep["summary"]
    assert s["tracks_by_kind"] == {"badge": 1, "face": 1, "text": 1}
    assert s["kept_by_kind"] == {"face": 1}
    assert s["categories"] == {"nhs_number": 1}
    # frames with a redaction: face 0-49, text 10-19, badge 5-7,30-31 -> 0..49 = 50 (kept track not counted)
    assert s["frames_with_redaction"] == 50
    assert s["share_of_frames_redacted"] == 0.5
    t1 = rep["tracks"][0]
    assert (t1["first_frame"], t1["last_frame"], t1["start_s"], t1["end_s"], t1["frames"]) == (0, 49, 0.0, 2.0, 50)
    assert rep["tracks"][3]["frames"] == 5
    assert rep["output"]["audio"] == "copied"


def test_only_whitelisted_fields_are_copied():
    rep = _report(_plan())
    assert "secret_field" not in json.dumps(rep)
    assert "nested" not in rep["models"][0]
    assert rep["input"]["rotation"] == 90


def test_json_round_trip(tmp_path):
    rep = _report(_plan())
    p = tmp_path / "r.json"
    write_report_json(rep, p)
    assert json.loads(p.read_text()) == rep
    assert [x.name for x in tmp_path.iterdir()] == ["r.json"]


def test_html_is_self_contained_and_escaped(tmp_path):
    plan = _plan(path="/v/<script>alert(1)</script>.mp4")
    rep = _report(plan)
    p = tmp_path / "r.html"
    write_report_html(rep, plan, p)
    text = p.read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), "no external URLs"
    assert not re.search(r"\b(src|href)\s*=", text), "no linked resources"
    assert "<svg" in text and "timeline" in text
    assert "nhs_number" in text


def test_timeline_has_a_bar_per_run():
    svg = timeline_svg(_plan())
    # track 4 (badge) has two runs, kept track drawn as an outline
    assert svg.count('fill="#d68910"') == 2
    assert 'fill="none" stroke="#27ae60"' in svg
