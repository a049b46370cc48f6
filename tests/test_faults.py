"""Faults while a run is writing: disk full, file too large, read-only folder, SIGINT/SIGTERM, a decoder error
mid-file. Whatever happens, no partial or unredacted output remains, and the one line printed says what happened.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from redact.cli import cli
from redact.io import sha256_file
from redact.pipeline import save_plan, scan

from .media import make_video

CLI = [sys.executable, "-c", "from redact.cli import main; main()"]
W, H = 64, 48


def noise(i: int, w: int = 320, h: int = 240) -> np.ndarray:
    """Incompressible frames, so an output grows quickly."""
    return np.random.default_rng(i).integers(0, 256, (h, w, 3), dtype=np.uint8)


def lines_of(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def assert_one_error_line(text: str, *needles: str) -> str:
    lines = lines_of(text)
    assert "Traceback" not in text, text
    assert len(lines) == 1 and lines[0].startswith("redact: error: "), lines
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def clip(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    return make_video(d / "clip.mp4", width=W, height=H, frames=12, fps=10, audio=True)


def _planned(src: Path) -> Path:
    """A plan for ``src`` made without detectors (render is what is under test), saved beside it."""
    plan = src.parent / "plan.json"
    save_plan(scan(src, detectors=[]).plan, plan)
    return plan


# -- disk full ------------------------------------------------------------------------------------------------------
def test_disk_full_mid_write_leaves_nothing_and_says_so(tmp_path, clip, monkeypatch):
    from redact.io import writer

    real_send = writer.VideoOut._send
    calls = {"n": 0}

    def send(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 5:  # the fifth frame: the output already holds data
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_send(self, *a, **kw)

    monkeypatch.setattr(writer.VideoOut, "_send", send)
    out = tmp_path / "out"
    out.mkdir()
    digest = sha256_file(clip)
    r = CliRunner().invoke(cli, ["-q", "run", str(clip), "-o", str(out / "clip.clean.mp4"), "--text", "off"])
    assert r.exit_code == 1
    assert_one_error_line(r.output, "No space left on device", "clip.clean.mp4")
    assert calls["n"] == 5
    assert os.listdir(out) == []  # no output, no temporary file, no report
    assert sha256_file(clip) == digest


def _can_unshare_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    r = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                       capture_output=True, timeout=30)
    return r.returncode == 0


@pytest.mark.skipif(not sys.platform.startswith("linux") or not _can_unshare_mount(),
                    reason="needs a private mount namespace (unshare -m, mount tmpfs)")
def test_real_disk_full_on_a_tiny_tmpfs(tmp_path):
    """A 256 KiB file system (in a private mount namespace, gone when the process exits) fills up mid-render."""
    src = make_video(tmp_path / "noise.mp4", width=320, height=240, frames=30, fps=10, draw=noise)
    plan = _planned(src)
    small = tmp_path / "small"
    small.mkdir()
    cmd = " ".join(f"'{c}'" for c in [*CLI, "-q", "render", str(src), "--plan", str(plan), "-o",
                                      str(small / "out.mp4"), "--crf", "0"])
    script = f"mount -t tmpfs -o size=256k tmpfs '{small}' && {cmd}; rc=$?; echo left: $(ls -A '{small}'); exit $rc"
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    assert_one_error_line(r.stderr, "No space left on device")
    assert r.stdout.strip() == "left:"  # nothing on the full file system
    assert os.listdir(small) == []


def test_file_size_limit_mid_write(tmp_path):
    """A real write error from the OS (RLIMIT_FSIZE: EFBIG), no root needed: the output stops growing at 200 KB."""
    src = make_video(tmp_path / "noise.mp4", width=320, height=240, frames=30, fps=10, draw=noise)
    plan = _planned(src)
    out = tmp_path / "out"
    out.mkdir()

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    r = subprocess.run([*CLI, "-q", "render", str(src), "--plan", str(plan), "-o", str(out / "o.mp4"), "--crf", "0"],
                       capture_output=True, text=True, timeout=300, preexec_fn=limit)
    assert r.returncode == 1, r.stderr
    assert_one_error_line(r.stderr, "File too large")
    assert os.listdir(out) == []


# -- read-only output folder ----------------------------------------------------------------------------------------
def test_read_only_output_folder(tmp_path, clip):
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() != 0:
        ro.chmod(0o555)
        try:
            r = subprocess.run([*CLI, "-q", "run", str(clip), "-o", str(ro / "o.mp4"), "--text", "off"],
                               capture_output=True, text=True, timeout=300)
        finally:
            ro.chmod(0o755)
        listing = os.listdir(ro)
    else:  # root ignores permissions: a read-only file system (private mount namespace) instead
        if not _can_unshare_mount():
            pytest.skip("root without mount namespaces: cannot make a read-only folder")
        cmd = " ".join(f"'{c}'" for c in [*CLI, "-q", "run", str(clip), "-o", str(ro / "o.mp4"), "--text", "off"])
        script = f"mount -t tmpfs -o ro,size=64k tmpfs '{ro}' && {cmd}; rc=$?; echo $(ls -A '{ro}'); exit $rc"
        r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)
        listing = r.stdout.split()  # what the read-only file system held after the run
    assert r.returncode == 1, r.stderr
    assert_one_error_line(r.stderr, "not writable", str(ro))
    assert listing == []


# -- signals --------------------------------------------------------------------------------------------------------
def _sigint_as_from_a_terminal() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_signal_while_writing_leaves_nothing(tmp_path, sig, code, word):
    """The signal arrives once the temporary output holds encoded data: the process exits with 130/143, one line,
    and neither the partial output nor its temporary file remains."""
    src = make_video(tmp_path / "long.mp4", width=320, height=240, frames=200, fps=25, draw=noise, bframes=False)
    plan = _planned(src)
    digest = sha256_file(src)
    out = tmp_path / "out"
    out.mkdir()
    # the child starts with SIGINT at its default and unblocked, as from a terminal. In the full suite (only
    # there, 3 runs of 3) the child ignored the SIGINT and finished with exit 0: it inherits an ignored
    # disposition or a blocked mask from the pytest process, and redact rightly leaves an ignored SIGINT ignored
    # (as under nohup). Which earlier test leaves it so was not pinned down.
    p = subprocess.Popen([*CLI, "render", str(src), "--plan", str(plan), "-o", str(out / "o.mp4"), "--crf", "0",
                          "--preset", "slow"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=_sigint_as_from_a_terminal)
    try:
        seen = 0
        deadline = time.monotonic() + 240
        while p.poll() is None and time.monotonic() < deadline:
            # the video's temporary file only: the reports' (written after the video is in place) do not count
            temps = [f for f in out.iterdir() if ".redact-tmp-" in f.name and f.suffix == ".mp4"]
            seen = max([seen] + [f.stat().st_size for f in temps if f.exists()])
            if seen > 0:
                break
            time.sleep(0.01)
        assert p.poll() is None, "the render finished before it could be interrupted"
        assert seen > 0, "no data was written in time"
        p.send_signal(sig)
        _, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == code, err
    lines = lines_of(err)
    assert "Traceback" not in err
    assert lines[-1] == f"redact: {word}; no output was left behind", lines
    assert os.listdir(out) == []
    assert sha256_file(src) == digest


# -- decoder errors mid-file ----------------------------------------------------------------------------------------
def damaged_mov(path: Path, bad_frame: int = 5) -> Path:
    """PNG frames in a MOV with frame ``bad_frame``'s PNG signature wiped: the decoder fails there (mid-file)."""
    make_video(path, width=W, height=H, frames=12, fps=10, codec="png", pix_fmt="rgb24", audio=True)
    data = bytearray(path.read_bytes())
    sig, at = b"\x89PNG\r\n\x1a\n", []
    i = data.find(sig)
    while i >= 0:
        at.append(i)
        i = data.find(sig, i + 1)
    assert len(at) == 12
    data[at[bad_frame]:at[bad_frame] + 8] = bytes(8)
    path.write_bytes(bytes(data))
    return path


def test_decoder_error_mid_file_strict_writes_nothing(tmp_path):
    src = damaged_mov(tmp_path / "damaged.mov")
    out = tmp_path / "out"
    out.mkdir()
    r = CliRunner().invoke(cli, ["-q", "run", str(src), "-o", str(out / "o.mp4"), "--text", "off", "--strict"])
    assert r.exit_code == 1
    assert_one_error_line(r.output, "truncated or corrupt", "decoding stopped after")
    assert os.listdir(out) == []


def test_decoder_error_mid_file_default_keeps_what_was_analysed_and_says_so(tmp_path):
    import json

    src = damaged_mov(tmp_path / "damaged.mov")
    out = tmp_path / "out"
    out.mkdir()
    r = CliRunner().invoke(cli, ["-q", "run", str(src), "-o", str(out / "o.mp4"), "--text", "off", "--no-html"])
    assert r.exit_code == 0, r.output
    report = json.loads((out / "o.report.json").read_text())
    assert any("damaged or truncated" in w for w in report["warnings"]), report["warnings"]
    import av

    with av.open(str(out / "o.mp4")) as c:
        written = sum(1 for _ in c.decode(video=0))
    assert 5 <= written < 12 and written == report["input"]["frames"]  # every written frame was analysed


def test_decoder_error_only_while_rendering_writes_nothing(tmp_path, clip, monkeypatch):
    """The scan read every frame, then reading fails mid-render (a flaky disk, a file changed underneath): no
    shorter copy is written, and the message says the input decoded differently."""
    from redact.io import reader, writer

    def failing_open_decoder(*a, **kw):
        dec = reader.open_decoder(*a, **kw)
        real = dec.decode

        def decode(packet):
            if dec.packets >= 6:
                return dec.fail(OSError(errno.EIO, os.strerror(errno.EIO)))
            return real(packet)

        dec.decode = decode
        return dec

    monkeypatch.setattr(writer, "open_decoder", failing_open_decoder)
    out = tmp_path / "out"
    out.mkdir()
    r = CliRunner().invoke(cli, ["-q", "run", str(clip), "-o", str(out / "o.mp4"), "--text", "off"])
    assert r.exit_code == 1
    assert_one_error_line(r.output, "decoded differently", "the analysis saw 12", "Input/output error")
    assert os.listdir(out) == []


# -- the input changes underneath -----------------------------------------------------------------------------------
def test_input_replaced_between_scan_and_render_writes_nothing(tmp_path, clip):
    """``run`` analyses one file; if another with the same frame count takes its place before the render, its
    frames were never analysed: nothing is written."""
    from redact.errors import RedactError
    from redact.pipeline import ScanOptions, run

    other = make_video(tmp_path / "other.mp4", width=W, height=H, frames=12, fps=10, audio=True,
                       draw=lambda i: np.full((H, W, 3), 200, np.uint8))
    out = tmp_path / "out"
    out.mkdir()

    def swap(plan):  # runs between the scan and the render
        os.replace(other, clip)

    with pytest.raises(RedactError, match="another file"):
        run(clip, out / "o.mp4", ScanOptions(text="off", badges=False), edit_plan=swap)
    assert os.listdir(out) == []


@pytest.mark.parametrize("kind", ["video", "image"])
def test_input_changing_while_it_is_written_writes_nothing(tmp_path, kind):
    """The writers hash the input again before renaming the output into place."""
    from redact.errors import InputError
    from redact.io import write_image, write_video

    from .media import make_image

    src = (make_video(tmp_path / "in.mp4", width=W, height=H, frames=6, audio=True) if kind == "video"
           else make_image(tmp_path / "in.png", width=W, height=H))
    digest = sha256_file(src)
    out = tmp_path / "out"
    out.mkdir()

    def process(frame):
        if frame.index == (0 if kind == "image" else 2):
            with open(src, "ab") as f:  # someone appends to the file mid-write
                f.write(b"\0" * 16)
        return frame.image

    with pytest.raises(InputError, match="changed while it was being processed"):
        if kind == "video":
            write_video(src, out / "o.mp4", process, expect_sha256=digest)
        else:
            write_image(src, out / "o.png", process, expect_sha256=digest)
    assert os.listdir(out) == []
    # and without a change the same call succeeds
    src.write_bytes(src.read_bytes()[:-16])
    assert sha256_file(src) == digest
    if kind == "video":
        write_video(src, out / "o.mp4", lambda f: f.image, expect_sha256=digest)
    else:
        write_image(src, out / "o.png", lambda f: f.image, expect_sha256=digest)
    assert os.listdir(out) == ["o.mp4" if kind == "video" else "o.png"]
