"""Mutation fuzzing (``tools/fuzz.py``) as part of the suite: a bounded, seeded run in a child process.

The child checks every property itself (no hang, no crash, one-line errors, nothing left behind, input
untouched; see the tool's docstring) and prints one JSON line per case; a watchdog there ends it on a hang.
``FUZZ_CASES`` (default 300) and ``FUZZ_SEED`` (default 1) change the run; longer runs:
``.venv/bin/python tools/fuzz.py --cases 5000 --seed N``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("redact_tools_fuzz", ROOT / "tools" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

CASES = int(os.environ.get("FUZZ_CASES", "300"))
SEED = int(os.environ.get("FUZZ_SEED", "1"))
PER_CASE_S = 60


def test_mutations_are_reproducible_and_change_the_bytes():
    data = bytes(range(256)) * 40
    a = fuzz.mutate(data, "mp4", random.Random("1:5"))
    b = fuzz.mutate(data, "mp4", random.Random("1:5"))
    assert a == b
    changed = sum(fuzz.mutate(data, "mp4", random.Random(f"1:{i}"))[0] != data for i in range(50))
    assert changed >= 45


def test_the_harness_flags_a_violation(tmp_path, monkeypatch):
    """The checker must be able to fail: a render that leaves a stray file behind is reported."""
    from redact import pipeline

    seeds = fuzz.make_seeds(tmp_path / "seeds")
    real_render = pipeline.render

    def leaky_render(src, plan, out, *a, **kw):
        (Path(out).parent / "thumbnail.jpg").write_bytes(b"x")
        return real_render(src, plan, out, *a, **kw)

    monkeypatch.setattr(pipeline, "render", leaky_render)
    res = fuzz.check_in_process(seeds["mp4"], _empty(tmp_path / "o1"))
    assert res["outcome"] == "ok" and any("output folder holds" in v for v in res["violations"])

    def crashing_render(*a, **kw):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(pipeline, "render", crashing_render)
    res = fuzz.check_in_process(seeds["png"], _empty(tmp_path / "o2"))
    assert res["outcome"] == "crash" and res["violations"]


def _empty(d: Path) -> Path:
    d.mkdir()
    return d


@pytest.mark.slow
def test_fuzz_run(tmp_path):
    cmd = [sys.executable, str(ROOT / "tools" / "fuzz.py"), "--cases", str(CASES), "--seed", str(SEED),
           "--cli-every", "30", "--timeout", str(PER_CASE_S), "--workdir", str(tmp_path / "work")]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=CASES * PER_CASE_S + 300, cwd=ROOT)
    except subprocess.TimeoutExpired as e:  # the watchdog should have ended it first
        raise AssertionError(f"the fuzz run hung: {(e.stdout or b'')[-2000:]!r}") from None
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    started = [d["start"] for d in lines if "start" in d]
    results = [d for d in lines if "case" in d]
    if not lines or "summary" not in lines[-1]:
        last = started[-1] if started else None
        raise AssertionError(f"the fuzz run died in case {last} (exit {r.returncode}; hang or crash; replay with "
                             f"tools/fuzz.py --seed {SEED} --only {last}):\n{r.stderr[-3000:]}")
    bad = [d for d in results if d["violations"]]
    assert not bad, "\n".join(f"case {d['case']} ({d['seed']}, {d['mutation']}): {d['violations']}" for d in bad)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(results) == CASES
    outcomes = {d["outcome"] for d in results}
    assert {"ok", "error"} <= outcomes, outcomes  # both paths exercised: damaged files that still decode, and not
    assert {d["seed"] for d in results} == {"mp4", "mov", "mkv", "webm", "hevc", "gif", "jpg", "png", "webp"}
    assert sum("cli" in d for d in results) == CASES // 30
