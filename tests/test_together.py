"""A cleaned copy and its report (batch: its manifest line) appear together or not at all, and only for input
bytes that were analysed (issue 15 items 2 and 3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import redact.io.atomic as atomic
import redact.pipeline as pipeline
from redact.batch import BatchSettings, InlineExecutor, run_batch
from redact.manifest import MANIFEST_NAME, Manifest, read_records, verify
from redact.pipeline import RenderOptions, ScanOptions

from .media import make_video


def settings() -> BatchSettings:
    return BatchSettings(ScanOptions(text="off").to_dict(), RenderOptions(preset="ultrafast").to_dict(), html=False)


def tiny(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_video(path, width=64, height=48, frames=5, fps=10)


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_run_interrupted_after_the_copy_is_written_leaves_neither_copy_nor_report(tmp_path, monkeypatch):
    """The cleaned copy is hashed after it is written (seconds for a long clip): an interrupt then used to leave the
    copy in place without its report."""
    src = tiny(tmp_path / "in" / "clip.mp4")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    real = pipeline.sha256_file

    def interrupt_on_output(path, *a, **kw):
        if Path(path).parent == out_dir:
            raise KeyboardInterrupt()
        return real(path, *a, **kw)

    monkeypatch.setattr(pipeline, "sha256_file", interrupt_on_output)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(src, out_dir / "clip.clean.mp4", ScanOptions(text="off"), RenderOptions(preset="ultrafast"))
    assert files(out_dir) == []
    monkeypatch.setattr(pipeline, "sha256_file", real)
    r = pipeline.run(src, out_dir / "clip.clean.mp4", ScanOptions(text="off"), RenderOptions(preset="ultrafast"))
    assert files(out_dir) == ["clip.clean.mp4", "clip.clean.report.html", "clip.clean.report.json"]
    assert r.report_json == out_dir / "clip.clean.report.json"


def test_batch_never_gives_a_copy_of_a_changed_input_its_final_name(tmp_path, monkeypatch):
    """An input changed while it is rendered: the check comes before the rename, so the cleaned copy never has its
    final name (a worker killed at that moment would leave frames nobody analysed, unrecorded)."""
    src, out = tmp_path / "in", tmp_path / "out"
    tiny(src / "a.mp4")
    real_write, real_replace = pipeline.write_video, os.replace
    placed: list[str] = []

    def write_then_change(path, *a, **kw):
        result = real_write(path, *a, **kw)
        with open(path, "ab") as f:  # the file grows while it is being processed (still being copied, say)
            f.write(b"\0" * 16)
        return result

    def replace(a, b):
        placed.append(Path(b).name)
        return real_replace(a, b)

    monkeypatch.setattr(pipeline, "write_video", write_then_change)
    monkeypatch.setattr(atomic.os, "replace", replace)
    s = run_batch(src, out, settings(), InlineExecutor())
    assert [rel for rel, _e in s.failed] == ["a.mp4"] and not s.done
    assert "a.clean.mp4" not in placed
    assert [p for p in files(out) if p.startswith("a.")] == []


def test_batch_without_its_manifest_line_leaves_no_cleaned_copy(tmp_path, monkeypatch):
    src, out = tmp_path / "in", tmp_path / "out"
    tiny(src / "a.mp4")
    tiny(src / "b.mp4")
    real = Manifest.append

    def interrupt_on_b(self, rec):
        if (rec.get("input") or {}).get("path") == "b.mp4":
            raise KeyboardInterrupt()  # the item is finished; its line is not written
        return real(self, rec)

    monkeypatch.setattr(Manifest, "append", interrupt_on_b)
    with pytest.raises(KeyboardInterrupt):
        run_batch(src, out, settings(), InlineExecutor())
    assert [r["input"]["path"] for r in read_records(out / MANIFEST_NAME)] == ["a.mp4"]
    assert [p for p in files(out) if p.startswith("b.")] == []


def test_an_interrupt_held_while_the_line_is_written_keeps_the_recorded_copy(tmp_path, monkeypatch):
    """Ctrl-C (or SIGTERM) arriving while an item's manifest line is written is held and raised as the line is done:
    the line is there, so the item's files must stay (they were removed, leaving a "done" record without its copy,
    seen once in CI by test_sigterm_stops_the_batch...)."""
    import signal

    src, out = tmp_path / "in", tmp_path / "out"
    tiny(src / "a.mp4")
    tiny(src / "b.mp4")
    real = Manifest.append

    def interrupted_while_writing_a(self, rec):
        res = real(self, rec)
        if (rec.get("input") or {}).get("path") == "a.mp4":
            os.kill(os.getpid(), signal.SIGINT)  # held until the line is written and counted
        return res

    monkeypatch.setattr(Manifest, "append", interrupted_while_writing_a)
    with pytest.raises(KeyboardInterrupt):
        run_batch(src, out, settings(), InlineExecutor())
    assert [r["input"]["path"] for r in read_records(out / MANIFEST_NAME)] == ["a.mp4"]
    assert "a.clean.mp4" in files(out)
    assert verify(out).ok
