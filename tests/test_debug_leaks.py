"""--debug and -v never print what a detector's error message says (issue 15 item 4): such a message can quote the
text being removed. A backend raising with a made-up name in its message stands in for one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .media import make_video

SECRET = "Zebediah Quarterman-Okafor"

SCRIPT = f"""
import sys
import redact.detect.text as text

NAME = {SECRET[::-1]!r}[::-1]  # built at run time: Python 3.13 prints the source lines of -c scripts in tracebacks

def read(self, image, recognise=None):
    try:
        raise ValueError("could not decode line: " + NAME)
    except ValueError as e:
        raise RuntimeError("recognition failed on " + NAME) from e

text.RapidOcrBackend.read = read
from redact.cli import main
main(sys.argv[1:])
"""


@pytest.mark.slow
@pytest.mark.parametrize("flags", [[], ["-v"], ["--debug"], ["--debug", "-v"]])
def test_a_detector_error_quoting_text_is_never_printed(tmp_path, flags):
    clip = make_video(tmp_path / "clip.mp4", width=96, height=64, frames=2, fps=10)
    r = subprocess.run([sys.executable, "-c", SCRIPT, *flags, "run", str(clip), "--no-badges"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "RuntimeError" in r.stderr  # the error is reported, by its type
    if "--debug" in flags:
        assert "Traceback" in r.stderr and "text.py" in r.stderr  # where it happened is still shown
    for word in SECRET.split():
        assert word.lower() not in (r.stdout + r.stderr).lower(), r.stderr[-2000:]
    assert not (tmp_path / "clip.clean.mp4").exists()
