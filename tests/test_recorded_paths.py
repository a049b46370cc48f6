"""Plans and reports do not carry folder names (issue 15 item 6): folders are often named after patients. ``run``
records file names unless asked (``--report-path name|full|none``); batch records paths relative to IN_DIR/OUT_DIR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from redact.cli import cli

from .media import make_video

FOLDER = "Bronwen Achterberg"  # a patient's name as a folder name


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def written(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
            and not p.name.endswith(".mp4")}


@pytest.fixture
def clip(tmp_path):
    folder = tmp_path / FOLDER
    folder.mkdir()
    return make_video(folder / "clip.mp4", width=64, height=48, frames=3, fps=10)


@pytest.mark.parametrize("how", [None, "name", "full", "none"])
def test_run_records_the_file_name_unless_asked(tmp_path, clip, how):
    out = tmp_path / "out" / FOLDER
    out.mkdir(parents=True)
    extra = [] if how is None else ["--report-path", how]
    r = invoke("run", clip, "-o", out / "clip.clean.mp4", "--plan-out", out / "clip.plan.json", "--text", "off",
               *extra)
    assert r.exit_code == 0, r.output
    report = json.loads((out / "clip.clean.report.json").read_text())
    plan = json.loads((out / "clip.plan.json").read_text())
    if how == "full":
        assert report["input"]["path"] == str(clip.resolve()) == plan["input"]["path"]
        assert report["output"]["path"] == str((out / "clip.clean.mp4").resolve())
        return
    expected = ("", "") if how == "none" else ("clip.mp4", "clip.clean.mp4")
    assert (report["input"]["path"], report["output"]["path"]) == expected
    assert plan["input"]["path"] == expected[0]
    assert len(report["input"]["sha256"]) == 64  # what identifies the input
    for name, data in written(out).items():
        assert FOLDER.encode() not in data and str(tmp_path).encode() not in data, name
    if how == "none":
        assert "not recorded" in (out / "clip.clean.report.html").read_text()


def test_render_from_a_plan_records_as_asked(tmp_path, clip):
    plan = tmp_path / "plan.json"
    assert invoke("scan", clip, "-o", plan, "--text", "off").exit_code == 0
    assert json.loads(plan.read_text())["input"]["path"] == "clip.mp4"
    out = tmp_path / "o.mp4"
    assert invoke("render", clip, "--plan", plan, "-o", out, "--no-html").exit_code == 0
    report = json.loads((tmp_path / "o.report.json").read_text())
    assert (report["input"]["path"], report["output"]["path"]) == ("clip.mp4", "o.mp4")


def test_batch_records_paths_relative_to_its_folders(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    (src / FOLDER).mkdir(parents=True)
    make_video(src / FOLDER / "clip.mp4", width=64, height=48, frames=3, fps=10)
    r = invoke("batch", src, "-o", out, "--text", "off", "--preset", "ultrafast")
    assert r.exit_code == 0, r.output
    report = json.loads((out / FOLDER / "clip.clean.report.json").read_text())
    plan = json.loads((out / FOLDER / "clip.clean.plan.json").read_text())
    assert report["input"]["path"] == plan["input"]["path"] == f"{FOLDER}/clip.mp4"
    assert report["output"]["path"] == f"{FOLDER}/clip.clean.mp4"
    for name, data in written(out).items():
        assert str(tmp_path).encode() not in data, name  # no absolute path of IN_DIR or OUT_DIR anywhere
