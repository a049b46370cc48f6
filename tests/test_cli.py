"""The command line as a user meets it: exit codes, one-line errors, nothing left behind."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from redact import __version__
from redact.cli import cli

from .conftest import listdir
from .media import make_video


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def clip(tmp_path, face_scene):
    p = tmp_path / "clip.mp4"
    make_video(p, width=320, height=240, frames=8, fps=10, audio=True, draw=face_scene)
    return p


def test_version():
    r = invoke("--version")
    assert r.exit_code == 0 and __version__ in r.output


def test_python_m_redact_is_the_command():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "redact", "--version"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and __version__ in r.stdout, r.stderr


@pytest.mark.parametrize("preset", [None, "3"])
def test_the_command_keeps_spinning_thread_pools_to_one_thread(monkeypatch, preset):
    """BLAS and OpenCV pools default to one thread (before numpy or cv2 is imported); a value already set wins."""
    from redact.cli import QUIET_POOLS, main

    for name in QUIET_POOLS:
        if preset is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, preset)
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert QUIET_POOLS == {"OPENBLAS_NUM_THREADS": "1", "OPENCV_FOR_THREADS_NUM": "1"}
    assert all(os.environ[name] == (preset or "1") for name in QUIET_POOLS)


def test_usage_error_exits_2():
    r = invoke("run")
    assert r.exit_code == 2
    r = invoke("run", "x.mp4", "--style", "swirl")
    assert r.exit_code == 2


def _bad_inputs(tmp_path, clip):
    data = clip.read_bytes()
    cases = {
        "missing": tmp_path / "nope.mp4",
        "directory": tmp_path / "adir",
        "zero-byte": tmp_path / "empty.mp4",
        "random": tmp_path / "random.mp4",
        "text": tmp_path / "notes.mp4",
        "header-only": tmp_path / "header.mp4",
    }
    cases["directory"].mkdir()
    cases["zero-byte"].write_bytes(b"")
    cases["random"].write_bytes(os.urandom(20000))
    cases["text"].write_text("this is not a video\n" * 50)
    cases["header-only"].write_bytes(data[:100])
    return cases


@pytest.mark.parametrize("case", ["missing", "directory", "zero-byte", "random", "text", "header-only"])
def test_bad_inputs_fail_with_one_clear_line_and_leave_nothing(tmp_path, clip, case):
    path = _bad_inputs(tmp_path, clip)[case]
    outdir = tmp_path / "out"
    outdir.mkdir()
    before = listdir(tmp_path)
    r = CliRunner().invoke(cli, ["run", str(path), "-o", str(outdir / "o.mp4")])
    assert r.exit_code == 1, r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("redact: error:"), r.output
    assert "Traceback" not in r.output
    assert listdir(outdir) == []
    assert listdir(tmp_path) == before


def test_refuses_output_equal_to_input(clip):
    before = clip.read_bytes()
    r = CliRunner().invoke(cli, ["run", str(clip), "-o", str(clip)])
    assert r.exit_code == 1
    assert "refusing" in r.output
    assert clip.read_bytes() == before


def test_refuses_output_via_symlink_to_input(clip, tmp_path):
    link = tmp_path / "link.mp4"
    link.symlink_to(clip)
    before = clip.read_bytes()
    r = CliRunner().invoke(cli, ["run", str(clip), "-o", str(link)])
    assert r.exit_code == 1
    assert clip.read_bytes() == before


@pytest.mark.slow
def test_run_scan_render_roundtrip(clip, tmp_path):
    out = tmp_path / "clean.mp4"
    r = invoke("-q", "run", clip, "-o", out)
    assert r.exit_code == 0
    assert out.exists() and (tmp_path / "clean.report.json").exists() and (tmp_path / "clean.report.html").exists()

    r = invoke("-q", "scan", clip, "--json")
    assert r.exit_code == 0
    plan = json.loads(r.output)
    assert plan["version"] == 1 and plan["input"]["frames"] == 8
    assert any(t["kind"] == "face" for t in plan["tracks"])
    assert plan["settings"]["scan"]["badges"] is True and plan["settings"]["scan"]["text"] == "all"
    r = invoke("-q", "scan", clip, "--json", "--no-badges", "--text", "off")
    assert json.loads(r.output)["settings"]["scan"]["badges"] is False
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(r.output)

    out2 = tmp_path / "again.mp4"
    r = invoke("-q", "render", clip, "--plan", plan_path, "-o", out2)
    assert r.exit_code == 0 and out2.exists()


def test_render_with_broken_plan_is_a_clear_error(clip, tmp_path):
    p = tmp_path / "plan.json"
    p.write_text('{"version": 1, "tracks": []}')
    r = CliRunner().invoke(cli, ["render", str(clip), "--plan", str(p), "-o", str(tmp_path / "o.mp4")])
    assert r.exit_code == 1 and "invalid plan" in r.output
    assert not (tmp_path / "o.mp4").exists()


def test_debug_shows_traceback(tmp_path):
    r = CliRunner().invoke(cli, ["--debug", "run", str(tmp_path / "missing.mp4")])
    assert r.exit_code == 1
    assert r.exception is not None


def test_wrong_output_suffix_is_usage_error(clip, tmp_path):
    r = CliRunner().invoke(cli, ["run", str(clip), "-o", str(tmp_path / "o.avi")])
    assert r.exit_code == 2
    assert not (tmp_path / "o.avi").exists()


@pytest.mark.slow
def test_truncated_clip_is_processed_up_to_the_break_and_the_report_says_so(tmp_path, face_scene):
    full = make_video(tmp_path / "full.mp4", width=320, height=240, frames=20, fps=10, audio=True,
                      draw=face_scene, faststart=True)
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    out = tmp_path / "cut.clean.mp4"
    r = CliRunner().invoke(cli, ["run", str(cut), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "truncated" in r.output
    rep = json.loads((tmp_path / "cut.clean.report.json").read_text())
    assert any("truncated" in w for w in rep["warnings"])
    assert rep["input"].get("truncated") is True
    assert 0 < rep["output"]["frames"] < 20

    strict_out = tmp_path / "strict.mp4"
    r = CliRunner().invoke(cli, ["run", "--strict", str(cut), "-o", str(strict_out)])
    assert r.exit_code == 1 and r.output.startswith("redact: error:")
    assert not strict_out.exists()


def test_ocr_easyocr_without_the_extra_is_one_clear_line_and_writes_nothing(tmp_path, clip, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "easyocr", None)  # as on a machine without the extra
    before = listdir(tmp_path)
    r = invoke("run", clip, "--ocr", "easyocr")
    assert r.exit_code == 1
    assert "pip install .[easyocr]" in r.output and "Traceback" not in r.output
    assert listdir(tmp_path) == before


def test_ocr_option_picks_the_backend(monkeypatch):
    from redact import pipeline
    from redact.detect import text

    made = []

    class FakeEasy:
        name = "easyocr-en"

        def __init__(self, provider="cpu"):
            made.append(provider)

    monkeypatch.setattr(text, "EasyOcrBackend", FakeEasy)
    stack = pipeline.default_stack(pipeline.ScanOptions(ocr="easyocr", provider="cpu", badges=False))
    assert made == ["cpu"] and any(getattr(s.detector, "backend", None).__class__ is FakeEasy for s in stack)
    assert r"ocr" in pipeline.ScanOptions().to_dict() and pipeline.ScanOptions().ocr == "rapidocr"
    with pytest.raises(ValueError, match="ocr must be one of"):
        pipeline.default_stack(pipeline.ScanOptions(ocr="tesseract", badges=False))


@pytest.mark.parametrize("flag", ["-q", "--quiet", "-v", "--verbose", "--debug"])
def test_verbosity_options_work_after_the_subcommand_too(clip, flag):
    """``redact run clip.mp4 --quiet`` was "No such option": users type them after the subcommand as often as before."""
    r = CliRunner().invoke(cli, ["run", str(clip), "--text", "off", flag], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert (clip.parent / "clip.clean.mp4").is_file()


def test_quiet_and_debug_after_the_subcommand_take_effect(tmp_path, clip):
    r = CliRunner().invoke(cli, ["run", str(tmp_path / "missing.mp4"), "--debug"])
    assert r.exit_code == 1 and r.exception is not None  # a traceback, as with --debug before the subcommand
    r = CliRunner().invoke(cli, ["run", str(clip), "--text", "off", "-q"])
    assert r.exit_code == 0 and r.output == ""  # no summary, no progress
    r = CliRunner().invoke(cli, ["run", str(clip), "--text", "off"])
    assert r.exit_code == 0 and r.output != ""
