"""Privacy of a whole command-line run, as a user runs it (a subprocess, default detectors, text detection on):

* no recognised or removed text in any written file (cleaned copy, plan, JSON/HTML report) or in anything
  printed, at -v and at --debug;
* no network: an audit hook in the child records every socket, bind, connect, send and name lookup. The only
  socket allowed is the one urllib3 (imported by RapidOCR's model-download helper, which is never called) opens
  when imported, to learn whether IPv6 exists: bound to ``::1`` port 0, then closed, never connected;
* nothing written outside the output paths: the temporary folder (TMPDIR), HOME and the working folder stay
  empty (onnxruntime's telemetry, which writes to both, is switched off by ``import redact``), and every file
  Python opened for writing is one of the outputs or its temporary file;
* subtitle, data and attachment tracks, which can carry text, are dropped, and so is container metadata.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from redact.io import probe, sha256_file

from .media import make_video, with_extra_tracks

SECRETS = ("Jane", "Fictional", "943 476 5919", "9434765919", "Ward 7B")
SUBTITLE = "Jane Fictional asked for the nurse"
TITLE = "Jane Fictional at Ward 7B"

HOOK = r"""
import os, socket, sys
_log = open(os.environ["REDACT_AUDIT_LOG"], "a", buffering=1)
_NET = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
        "socket.sendto", "socket.sendmsg", "http.client.connect", "urllib.Request", "ftplib.connect")
def _hook(event, args):
    if event == "socket.__new__" and args[1] not in (getattr(socket, "AF_UNIX", 1),):
        _log.write(f"NET {event} family={args[1]}\n")
    elif event == "socket.bind":
        _log.write(f"NET {event} {args[1]!r}\n")
    elif event in _NET:
        _log.write(f"NET {event}\n")
    elif event == "open" and isinstance(args[0], (str, bytes, os.PathLike)) and (
            (isinstance(args[1], str) and any(c in args[1] for c in "wax+"))
            or (isinstance(args[2], int) and args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))):
        _log.write(f"WRITE {os.fsdecode(args[0])}\n")
sys.addaudithook(_hook)
from redact.cli import main
main()
"""


def screen(i: int) -> np.ndarray:
    img = Image.new("RGB", (480, 270), (235, 238, 240))
    d = ImageDraw.Draw(img)
    f = ImageFont.load_default(size=26)
    d.text((24 + i, 30), "Patient: Jane Fictional", font=f, fill=(10, 10, 10))
    d.text((24 + i, 90), "NHS No: 943 476 5919", font=f, fill=(10, 10, 10))
    d.text((24 + i, 150), "Ward 7B", font=f, fill=(10, 10, 10))
    return np.asarray(img)


@pytest.fixture(scope="module")
def text_clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("privacy")
    base = make_video(d / "base.mkv", width=480, height=270, frames=4, fps=5, draw=screen, audio=True)
    src = d / "ward.mov"
    with_extra_tracks(base, d / "tracks.mov", subtitle=SUBTITLE, timecode=True)
    from .media import ffmpeg

    ffmpeg("-i", str(d / "tracks.mov"), "-map", "0", "-c", "copy", "-metadata", f"title={TITLE}",
           "-metadata", "comment=Jane Fictional", str(src))
    data = src.read_bytes()
    assert SUBTITLE.encode() in data and TITLE.encode() in data  # the input really carries the text
    info = probe(src)
    assert info.subtitle_streams == 1 and info.data_streams == 1
    return src


def run_cli(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, list[str], dict[str, Path]]:
    """Run ``redact ARGS`` in a child with fresh TMPDIR, HOME and working folder and the audit hook."""
    dirs = {k: tmp_path / k for k in ("tmp", "home", "cwd", "out")}
    for d in dirs.values():
        d.mkdir()
    log = tmp_path / "audit.log"
    env = dict(os.environ, TMPDIR=str(dirs["tmp"]), HOME=str(dirs["home"]), REDACT_AUDIT_LOG=str(log),
               PYTHONDONTWRITEBYTECODE="1")
    for k in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        env.pop(k, None)
    r = subprocess.run([sys.executable, "-c", HOOK, *args], capture_output=True, text=True, timeout=600,
                       cwd=dirs["cwd"], env=env)
    events = log.read_text().splitlines() if log.exists() else []
    return r, events, dirs


def assert_no_secret(name: str, data: bytes) -> None:
    low = data.lower()
    for s in SECRETS:
        assert s.lower().encode() not in low, f"{s!r} found in {name}"


def check_contained(events: list[str], dirs: dict[str, Path], allowed: set[str]) -> None:
    net = [e for e in events if e.startswith("NET")]
    ipv6_probe = ["NET socket.__new__ family=10", "NET socket.bind ('::1', 0)"]  # urllib3's import-time check
    if net[:2] == ipv6_probe:
        net = net[2:]
    assert net == [], f"network use: {net}"
    writes = {Path(e.split(" ", 1)[1]) for e in events if e.startswith("WRITE ")}
    outside = [p for p in writes if not (p.parent == dirs["out"] and (p.name in allowed or ".redact-tmp-" in p.name))
               and str(p) not in ("/dev/null", "/dev/stdout", "/dev/stderr")]
    assert outside == [], f"files written outside the outputs: {outside}"
    for k in ("tmp", "home", "cwd"):
        assert list(dirs[k].rglob("*")) == [], f"{k} was written to: {list(dirs[k].rglob('*'))}"


@pytest.mark.slow
def test_debug_run_leaks_no_text_uses_no_network_and_writes_only_its_outputs(text_clip, tmp_path):
    digest = sha256_file(text_clip)
    out_dir = tmp_path / "out"
    r, events, dirs = run_cli(tmp_path, "--debug", "run", str(text_clip), "-o", str(out_dir / "ward.clean.mp4"),
                              "--plan-out", str(out_dir / "ward.plan.json"))
    assert r.returncode == 0, r.stderr[-3000:]
    outputs = {"ward.clean.mp4", "ward.clean.report.json", "ward.clean.report.html", "ward.plan.json"}
    assert set(os.listdir(out_dir)) == outputs
    plan = json.loads((out_dir / "ward.plan.json").read_text())
    texts = [t for t in plan["tracks"] if t["kind"] == "text"]
    assert len(texts) >= 2, "the text was not found: this test would prove nothing"
    assert {"name", "nhs_number"} <= {t.get("category") for t in texts}
    assert "DEBUG" in r.stderr  # the debug log really ran
    assert_no_secret("stdout/stderr", (r.stdout + r.stderr).encode())
    for name in outputs:
        assert_no_secret(name, (out_dir / name).read_bytes())
    check_contained(events, dirs, outputs)
    assert sha256_file(text_clip) == digest
    with av.open(str(out_dir / "ward.clean.mp4")) as c:  # subtitle and timecode tracks dropped, no metadata
        assert [s.type for s in c.streams] == ["video", "audio"]
        assert not {"title", "comment"} & set(c.metadata)


@pytest.mark.slow
def test_verbose_scan_json_leaks_no_text(text_clip, tmp_path):
    r, events, dirs = run_cli(tmp_path, "-v", "scan", str(text_clip), "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    plan = json.loads(r.stdout)
    assert any(t["kind"] == "text" for t in plan["tracks"])
    assert_no_secret("stdout/stderr", (r.stdout + r.stderr).encode())
    check_contained(events, dirs, set())
    assert os.listdir(dirs["out"]) == []


def test_the_audit_hook_sees_network_and_stray_writes(tmp_path):
    """The checks above must be able to fail: a child that opens a socket and writes a cache file is caught."""
    probe_code = HOOK.replace("from redact.cli import main\nmain()",
                              "import socket, tempfile\nsocket.socket(socket.AF_INET).close()\n"
                              "open(os.path.join(tempfile.gettempdir(), 'thumb.jpg'), 'wb').close()\n")
    dirs = {k: tmp_path / k for k in ("tmp", "home", "cwd", "out")}
    for d in dirs.values():
        d.mkdir()
    log = tmp_path / "audit.log"
    env = dict(os.environ, TMPDIR=str(dirs["tmp"]), HOME=str(dirs["home"]), REDACT_AUDIT_LOG=str(log))
    r = subprocess.run([sys.executable, "-c", probe_code], capture_output=True, text=True, timeout=60,
                       cwd=dirs["cwd"], env=env)
    assert r.returncode == 0, r.stderr
    events = log.read_text().splitlines()
    with pytest.raises(AssertionError, match="network"):
        check_contained(events, dirs, set())
    with pytest.raises(AssertionError, match="outside the outputs"):
        check_contained([e for e in events if not e.startswith("NET")], dirs, set())


def test_text_carrying_tracks_and_metadata_are_dropped_from_every_kind_of_input(tmp_path):
    """Subtitles (MP4 mov_text, Matroska SRT), a timecode data track and a Matroska attachment never reach the
    output, and neither does their text (fast: library only, no detectors)."""
    from redact.io import write_video

    base = make_video(tmp_path / "base.mkv", width=64, height=48, frames=3, audio=True)
    cases = [
        with_extra_tracks(base, tmp_path / "t.mp4", subtitle=SUBTITLE, timecode=True),
        with_extra_tracks(base, tmp_path / "t.mkv", subtitle=SUBTITLE, attachment=SUBTITLE),
    ]
    for src in cases:
        assert SUBTITLE.encode() in src.read_bytes()
        dst = tmp_path / f"{src.stem}_{src.suffix[1:]}.clean.mp4"
        write_video(src, dst, lambda f: f.image)
        with av.open(str(dst)) as c:
            assert [s.type for s in c.streams] == ["video", "audio"], src.name
        assert_no_secret(dst.name, dst.read_bytes())


def test_importing_the_detectors_runtime_writes_nothing(tmp_path):
    """onnxruntime's telemetry (a session file in TMPDIR; a device id and an event queue for upload under
    ~/.cache/Microsoft) stays off once redact is imported, even when a model is loaded."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(home), TMPDIR=str(tmp))
    code = ("import importlib.resources, redact, onnxruntime\n"
            "onnxruntime.InferenceSession(str(importlib.resources.files('redact.models') / 'centerface.onnx'),"
            " providers=['CPUExecutionProvider'])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert list(home.rglob("*")) == [] and list(tmp.rglob("*")) == []
