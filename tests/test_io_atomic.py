"""atomic_path / atomic_write_text / same_file / sha256_file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from redact.errors import OutputError
from redact.io import atomic_path, atomic_write_text, same_file, sha256_file


def names(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


def test_atomic_path_renames_on_success(tmp_path):
    dst = tmp_path / "out.mp4"
    with atomic_path(dst) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.suffix == ".mp4"
        assert tmp.exists() and tmp != dst
        assert not dst.exists()
        tmp.write_bytes(b"data")
    assert dst.read_bytes() == b"data"
    assert names(tmp_path) == ["out.mp4"]


def test_atomic_path_replaces_existing_file(tmp_path):
    dst = tmp_path / "out.txt"
    dst.write_text("old")
    with atomic_path(dst) as tmp:
        tmp.write_text("new")
    assert dst.read_text() == "new"


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_atomic_path_removes_temp_on_any_exception(tmp_path, exc):
    dst = tmp_path / "out.mp4"
    with pytest.raises(type(exc)) as info:
        with atomic_path(dst) as tmp:
            tmp.write_bytes(b"partial")
            raise exc
    assert info.value is exc
    assert names(tmp_path) == []


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    dst = tmp_path / "out.txt"
    dst.write_text("old")
    with pytest.raises(ValueError):
        with atomic_path(dst) as tmp:
            tmp.write_text("new")
            raise ValueError("x")
    assert dst.read_text() == "old"
    assert names(tmp_path) == ["out.txt"]


def test_atomic_path_respects_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "a.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def test_atomic_path_bad_destinations(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        with atomic_path(tmp_path / "missing" / "out.mp4"):
            pass
    (tmp_path / "adir").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        with atomic_path(tmp_path / "adir"):
            pass


def test_atomic_write_text(tmp_path):
    atomic_write_text(tmp_path / "r.json", "{\"ä\": 1}\n")
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == "{\"ä\": 1}\n"
    assert names(tmp_path) == ["r.json"]


def test_same_file_links(tmp_path):
    a = tmp_path / "a.bin"
    a.write_bytes(b"1")
    b = tmp_path / "b.bin"
    b.write_bytes(b"1")
    (tmp_path / "sym").symlink_to(a)
    os.link(a, tmp_path / "hard")
    assert same_file(a, a)
    assert same_file(a, tmp_path / "sym")
    assert same_file(a, tmp_path / "hard")
    assert same_file(a, tmp_path / "." / "a.bin")
    assert not same_file(a, b)
    assert not same_file(a, tmp_path / "nonexistent")


def test_sha256_file(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 7)
    p = tmp_path / "x.bin"
    p.write_bytes(data)
    assert sha256_file(p) == hashlib.sha256(data).hexdigest()


def test_signals_are_held_for_the_block_also_when_another_thread_receives_them():
    """A batch driver has its pool's threads: a signal masked only in the main thread went to another thread, and
    Python still ran the handler in the main thread inside the block (a recorded item lost its copy so).

    Deterministic: the other thread, started before the block (so it does not share a signal mask the block might
    set), raises the signal itself when told to (``raise_signal`` delivers it to the calling thread, whose C handler
    has noted it before the call returns), so it has certainly arrived when the main thread goes on; the main
    thread's next calls run the Python handler. (It used to be sent to the process with ``os.kill`` and given
    0.3 s: on a loaded machine the thread the kernel chose could get no CPU in that time, the signal then landed
    after the block, and the test failed though the code was right.)"""
    import signal
    import threading
    import time

    from redact.io import signals_deferred

    go, sent = threading.Event(), threading.Event()

    def send() -> None:
        go.wait()
        signal.raise_signal(signal.SIGINT)  # received by this thread, not the main one
        sent.set()

    other = threading.Thread(target=send, daemon=True)
    other.start()
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with signals_deferred():
            go.set()
            assert sent.wait(10)
            other.join()
            time.sleep(0.01)  # calls: Python runs the handler of the signal noted in the other thread here
            reached.append("end of block")
    assert reached == ["end of block"], "the interrupt landed inside the block"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupt_during_a_groups_renames_leaves_none_of_its_files(tmp_path, monkeypatch):
    """Ctrl-C (or a batch's stop request) held while a copy, its report and its plan were renamed into place was let
    through once all three were there: a batch item was counted as interrupted but left its copy, recorded nowhere
    (seen in the SIGTERM batch test, about one run in twelve), and `redact run` said "no output was left behind"
    beside one. The interrupt now undoes the renames."""
    import signal

    from redact.io import atomic as atomic_mod
    from redact.io import atomic_group

    real_replace = os.replace
    calls = []

    def replace(src, dst):
        real_replace(src, dst)
        calls.append(dst)
        if len(calls) == 1:
            signal.raise_signal(signal.SIGINT)  # held: the Python handler only notes it

    monkeypatch.setattr(atomic_mod.os, "replace", replace)
    dsts = [tmp_path / "a.mp4", tmp_path / "a.report.json", tmp_path / "a.plan.json"]
    with pytest.raises(KeyboardInterrupt):
        with atomic_group(dsts) as tmps:
            for t in tmps:
                t.write_bytes(b"x")
    assert len(calls) == 3, "the renames were cut short"
    assert names(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    monkeypatch.setattr(atomic_mod.os, "replace", real_replace)
    with atomic_group(dsts) as tmps:  # no interrupt: all three are there
        for t in tmps:
            t.write_bytes(b"y")
    assert names(tmp_path) == sorted(d.name for d in dsts)
