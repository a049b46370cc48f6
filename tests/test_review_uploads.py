"""``redact review``: an uploaded clip (an unblurred copy) lives in one private folder per review and goes away
with the review: on the next pick, on Close, at exit, on SIGTERM/SIGINT/SIGHUP; a crash's leftovers are swept by
the next review (redact/review/uploads.py)."""

from __future__ import annotations

import fcntl
import http.client
import io
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from redact.errors import RedactError
from redact.review.server import ReviewServer
from redact.review.session import ReviewError, ReviewSession

from .media import make_video
from .test_review import FAST, api, wait_ready

DEADLINE_S = 60  # a bound on waiting for a background job or a child process, never a timing assertion
CLI = [sys.executable, "-c", "import sys; from redact.cli import main; sys.exit(main())"]


@pytest.fixture
def base(tmp_path, monkeypatch) -> Path:
    """A temp dir of its own (``tempfile.gettempdir()`` here; ``TMPDIR`` for child processes)."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    d = tmp_path_factory.mktemp("uploads-src")
    return make_video(d / "clip.mp4", width=160, height=120, frames=4, fps=10, audio=False).read_bytes()


def review_folders(base: Path) -> list[Path]:
    return sorted(p for p in base.iterdir() if p.name.startswith("redact-review-"))


def upload(session: ReviewSession, data: bytes, name: str = "clip.mp4") -> Path:
    """Upload ``data`` and wait for its scan; the copy's own folder."""
    session.open_upload(name, io.BytesIO(data), len(data))
    end = time.monotonic() + DEADLINE_S
    while session.busy():
        assert time.monotonic() < end
        time.sleep(0.05)
    assert session.status()["state"] == "ready", session.status()
    return session.clip.parent


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# -- one private folder per review ----------------------------------------------------------------------------------

def test_uploads_live_in_a_private_folder_named_for_the_review_process(base, clip_bytes):
    session = ReviewSession(FAST)
    try:
        own = upload(session, clip_bytes)
        [folder] = review_folders(base)
        assert re.fullmatch(rf"redact-review-{os.getpid()}-\w+", folder.name)
        assert folder.stat().st_mode & 0o777 == 0o700
        assert own.parent == folder and session.clip == own / "clip.mp4"
        assert session.plan_path.parent == own and session.output.parent == own
    finally:
        session.close()
    assert review_folders(base) == []


def test_a_second_upload_removes_the_first_with_its_plan_and_outputs(base, clip_bytes):
    session = ReviewSession(FAST)
    with ReviewServer(session) as srv:
        first = upload(session, clip_bytes, "first.mp4")
        api(srv, "POST", "api/export", {})
        assert wait_ready(srv)["job"]["state"] == "done"
        assert {"first.mp4", "first.clean.mp4", "first.clean.plan.json"} <= {p.name for p in first.iterdir()}
        second = upload(session, clip_bytes, "second.mp4")
        assert not first.exists()
        assert [p for p in session._tmp.iterdir()] == [second]
        assert api(srv, "GET", "download/video", status=404)  # the last clip's result went with it
        # an upload that fails leaves the current one alone
        api(srv, "POST", "api/upload?name=notes.mp4", b"not a video\n" * 20, status=400)
        assert [p for p in session._tmp.iterdir()] == [second] and session.clip.parent == second
    assert review_folders(base) == []


def test_opening_a_file_by_path_removes_the_last_upload(base, clip_bytes, tmp_path):
    mine = tmp_path / "mine.mp4"
    mine.write_bytes(clip_bytes)
    session = ReviewSession(FAST)
    try:
        own = upload(session, clip_bytes)
        with pytest.raises(RedactError):
            session.open(tmp_path / "missing.mp4")
        assert own.exists() and session.clip.parent == own  # a failed open changes nothing
        session.open(mine)
        assert not own.exists() and list(session._tmp.iterdir()) == []
        assert mine.read_bytes() == clip_bytes and not session.uploaded
    finally:
        session.close()


def test_close_removes_the_folder_and_a_closed_review_takes_no_more_uploads(base, clip_bytes):
    session = ReviewSession(FAST)
    upload(session, clip_bytes)
    assert len(review_folders(base)) == 1
    session.close()
    assert review_folders(base) == []
    with pytest.raises(ReviewError, match="closing"):
        session.open_upload("late.mp4", io.BytesIO(clip_bytes), len(clip_bytes))
    session.close()  # twice is fine
    assert review_folders(base) == []


# -- leftovers of earlier reviews ---------------------------------------------------------------------------------

def test_a_review_sweeps_folders_of_reviews_that_no_longer_run(base, tmp_path):
    gone = dead_pid()

    def folder(name: str) -> Path:
        d = base / name
        d.mkdir(mode=0o700)
        (d / "upload-x").mkdir()
        (d / "upload-x" / "clip.mp4").write_bytes(b"unblurred")
        return d

    crashed = folder(f"redact-review-{gone}-abc123")
    running = folder(f"redact-review-{os.getpid()}-abc123")  # a live pid: kept
    locked = folder(f"redact-review-{gone}-locked")  # a review in another pid namespace holds its lock: kept
    other = folder("redact-review-notapid")  # not one of ours
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    (base / f"redact-review-{gone}-link").symlink_to(target, target_is_directory=True)
    (base / f"redact-review-{gone}-file").write_text("x")
    foreign = folder(f"redact-review-{gone}-foreign")
    if os.getuid() == 0:
        os.chown(foreign, 12345, -1)  # another user's: never ours to remove
    fd = os.open(locked, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        ReviewSession(FAST).close()
        names = {p.name for p in base.iterdir()}
        assert crashed.name not in names
        assert {running.name, locked.name, other.name, f"redact-review-{gone}-link",
                f"redact-review-{gone}-file"} <= names
        assert (target / "keep.txt").exists()
        assert foreign.exists() == (os.getuid() == 0)
    finally:
        os.close(fd)
    ReviewSession(FAST).close()  # the lock is released: now it goes
    assert not locked.exists() and running.exists()


def test_a_running_reviews_folder_is_not_swept_by_another_review(base, clip_bytes):
    first, second = ReviewSession(FAST), ReviewSession(FAST)
    try:
        own = upload(first, clip_bytes)
        ReviewSession(FAST).close()
        assert own.exists() and first.clip.exists()
        upload(second, clip_bytes)
        assert own.exists() and len(review_folders(base)) == 2
    finally:
        first.close()
        second.close()
    assert review_folders(base) == []


# -- a review process that is stopped ------------------------------------------------------------------------------

EMBEDDED = """
import sys
from redact.pipeline import ScanOptions
from redact.errors import RedactError
from redact.review.server import ReviewServer
from redact.review.session import ReviewSession

session = ReviewSession(ScanOptions(text="off"))
if sys.argv[1] == "exit":  # an upload, then the interpreter exits without closing the session
    data = open(sys.argv[2], "rb").read()
    session.open_upload("clip.mp4", __import__("io").BytesIO(data), len(data))
    sys.exit(0)
server = ReviewServer(session)
print(f"Review page: {server.url}", file=sys.stderr, flush=True)
server.serve_forever()
"""


def start(cmd: list[str], base: Path) -> tuple[subprocess.Popen, str]:
    """Start a review process with ``base`` as its temp dir; it and the page's address."""
    p = subprocess.Popen(cmd, env=dict(os.environ, TMPDIR=str(base)), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.monotonic() + DEADLINE_S
    while True:
        assert select.select([p.stderr], [], [], max(0.0, end - time.monotonic()))[0], "no address printed"
        line = p.stderr.readline().decode()
        assert line, "the review process ended early"
        if m := re.search(r"Review page: (\S+)", line):
            return p, m[1]


def post_upload(url: str, data: bytes) -> int:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=DEADLINE_S)
    try:
        conn.request("POST", f"{u.path}api/upload?name=clip.mp4", body=data,
                     headers={"Content-Type": "application/octet-stream", "Host": u.netloc})
        return conn.getresponse().status
    finally:
        conn.close()


def stop(p: subprocess.Popen, sig: int) -> int:
    p.send_signal(sig)
    try:
        return p.wait(timeout=DEADLINE_S)
    finally:
        p.stderr.close()


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 0), (signal.SIGHUP, 129)])
def test_a_signal_to_the_review_command_removes_its_folder(base, clip_bytes, sig, status):
    p, url = start([*CLI, "review", "--no-browser", "--text", "off"], base)
    try:
        assert post_upload(url, clip_bytes) == 200
        [folder] = review_folders(base)
        assert folder.name.startswith(f"redact-review-{p.pid}-") and any(folder.glob("upload-*/clip.mp4"))
    finally:
        code = stop(p, sig)
    assert code == status
    assert review_folders(base) == []


def test_sigterm_to_a_program_serving_the_review_removes_its_folder(base, clip_bytes):
    p, url = start([sys.executable, "-c", EMBEDDED, "serve"], base)  # no SIGTERM handler of its own
    try:
        assert post_upload(url, clip_bytes) == 200
        assert len(review_folders(base)) == 1
    finally:
        code = stop(p, signal.SIGTERM)
    assert code != -signal.SIGTERM  # not killed: Stopped (a KeyboardInterrupt) ended the program
    assert review_folders(base) == []


def test_a_session_never_closed_is_removed_at_exit(base, clip_bytes, tmp_path):
    src = tmp_path / "clip.mp4"
    src.write_bytes(clip_bytes)
    r = subprocess.run([sys.executable, "-c", EMBEDDED, "exit", str(src)], env=dict(os.environ, TMPDIR=str(base)),
                       capture_output=True, timeout=DEADLINE_S)
    assert r.returncode == 0, r.stderr
    assert review_folders(base) == []


def test_the_folder_of_a_killed_review_is_swept_by_the_next(base, clip_bytes):
    p, url = start([*CLI, "review", "--no-browser", "--text", "off"], base)
    try:
        assert post_upload(url, clip_bytes) == 200
    finally:
        assert stop(p, signal.SIGKILL) == -signal.SIGKILL
    [left] = review_folders(base)
    assert any(left.glob("upload-*/clip.mp4"))  # nothing runs on SIGKILL
    ReviewSession(FAST).close()
    assert review_folders(base) == []
