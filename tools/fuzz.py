"""Mutation fuzzing of redact's input handling: damaged copies of real (generated) media through scan + render.

Seeds are tiny generated files (H.264+AAC MP4, rotated MOV, VFR Matroska, VP9+Opus WebM, 10-bit HEVC MP4, GIF,
JPEG with EXIF orientation, PNG with alpha, WebP). Each case takes one seed and applies seeded mutations (byte
flips, truncation, chunk duplication or deletion, zeroed runs, and overwriting the fields after a known header
tag such as ``stsz`` or ``IHDR``), then:

* in-process: probe, ``pipeline.scan`` (a cheap stand-in detector that marks a corner of every frame) and
  ``pipeline.render``; every ``--cli-every``-th case also through ``redact -q run`` in a subprocess.

Properties checked for every case (a breach is a *violation*):

* it finishes within ``--timeout`` seconds (watchdog: ``faulthandler`` ends this process and names the case);
* success, or a :class:`redact.errors.RedactError` with a one-line message (any other exception is a crash);
  on the CLI: exit 0 with nothing on stderr (``-q``), or exit 1 with exactly one ``redact: error:`` line;
* on failure nothing is left in the output folder (no output, no temporary file); on success exactly the
  output (plus the report for the CLI), and the video has as many frames as the scan analysed;
* the input's bytes are unchanged.

One JSON line per case goes to stdout (``{"case": i, ...}``, preceded by ``{"start": i, ...}``), then a summary
line. The exit status is 1 when any violation was seen. Failing inputs are kept under ``WORKDIR/failures``.
Case ``i`` depends only on ``--seed`` and ``i``: replay it with ``--only i``.

    .venv/bin/python tools/fuzz.py --cases 2000 --seed 7 --workdir /tmp/fuzz      # a long run
"""

from __future__ import annotations

import argparse
import faulthandler
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Tags whose following bytes are worth corrupting (sizes, counts, offsets, dimensions, codec set-up).
TAGS = {
    "mp4": [b"moov", b"trak", b"mdhd", b"tkhd", b"hdlr", b"stsd", b"avcC", b"esds", b"stts", b"ctts", b"stsc",
            b"stsz", b"stco", b"co64", b"stss", b"elst", b"mdat"],
    "jpg": [b"\xff\xc0", b"\xff\xc4", b"\xff\xda", b"\xff\xdb", b"\xff\xe1", b"Exif"],
    "png": [b"IHDR", b"IDAT", b"PLTE", b"tRNS", b"IEND"],
    "mkv": [b"\x1a\x45\xdf\xa3", b"\x18\x53\x80\x67", b"\x16\x54\xae\x6b", b"\x1f\x43\xb6\x75", b"\xa3", b"\xa1"],
}
TAGS["mov"] = TAGS["hevc"] = TAGS["mp4"]
TAGS["webm"] = TAGS["mkv"]
TAGS["gif"] = [b"GIF89a", b"\x21\xf9", b"\x2c", b"NETSCAPE"]
TAGS["webp"] = [b"RIFF", b"WEBP", b"VP8 ", b"VP8L", b"VP8X"]
SUFFIX = {"hevc": "mp4"}
INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


# -- seeds ------------------------------------------------------------------------------------------------------------
def make_seeds(directory: Path) -> dict[str, Path]:
    from tests.media import make_image, make_video

    directory.mkdir(parents=True, exist_ok=True)
    return {
        "mp4": make_video(directory / "seed.mp4", width=64, height=48, frames=8, fps=10, audio=True),
        "mov": make_video(directory / "seed.mov", width=48, height=64, frames=6, fps=10, audio=True, rotation=90),
        "mkv": make_video(directory / "seed.mkv", width=64, height=48, frames=6, fps=10, audio=True, vfr=True),
        "jpg": make_image(directory / "seed.jpg", width=64, height=48, orientation=6, gps=True),
        "png": make_image(directory / "seed.png", width=64, height=48, mode="RGBA"),
        "webm": make_video(directory / "seed.webm", width=64, height=48, frames=6, fps=10, codec="vp9", audio=True),
        "hevc": make_video(directory / "seed.hevc.mp4", width=64, height=48, frames=6, fps=10, codec="hevc",
                           pix_fmt="yuv420p10le"),
        "gif": make_video(directory / "seed.gif", width=64, height=48, frames=4, fps=10),
        "webp": make_image(directory / "seed.webp", width=64, height=48),
    }


# -- mutations --------------------------------------------------------------------------------------------------------
def _flip(data: bytearray, rng: random.Random) -> str:
    n = rng.choice([1, 1, 2, 4, 16])
    header = rng.random() < 0.5  # half of the time aim at the first KiB, where the headers are
    for _ in range(n):
        i = rng.randrange(min(len(data), 1024) if header else len(data))
        data[i] ^= rng.randrange(1, 256)
    return f"flip{n}{'h' if header else ''}"


def _truncate(data: bytearray, rng: random.Random) -> str:
    cut = rng.randrange(1, len(data))
    del data[cut:]
    return f"truncate@{cut}"


def _duplicate(data: bytearray, rng: random.Random) -> str:
    a = rng.randrange(len(data))
    n = min(rng.choice([4, 16, 64, 512, 4096]), len(data) - a)
    at = rng.randrange(len(data))
    data[at:at] = data[a:a + n]
    return f"dup{n}@{a}->{at}"


def _delete(data: bytearray, rng: random.Random) -> str:
    a = rng.randrange(len(data))
    n = rng.choice([1, 4, 16, 256, 2048])
    del data[a:a + n]
    return f"del{n}@{a}"


def _zero(data: bytearray, rng: random.Random) -> str:
    a = rng.randrange(len(data))
    n = rng.choice([4, 32, 512])
    data[a:a + n] = bytes(len(data[a:a + n]))
    return f"zero{n}@{a}"


def _field(data: bytearray, rng: random.Random, kind: str) -> str:
    spots = [m for tag in TAGS.get(kind, []) for m in _find_all(data, tag)]
    if not spots:
        return _flip(data, rng)
    at = rng.choice(spots) + rng.choice([-4, 4, 8, 12, 16, 20, 24])
    at = max(0, min(at, len(data) - 4))
    value = rng.choice(INTERESTING) if rng.random() < 0.7 else rng.randrange(1 << 32)
    data[at:at + 4] = value.to_bytes(4, "big")
    return f"field@{at}={value:#x}"


def _find_all(data: bytearray, tag: bytes, limit: int = 64) -> list[int]:
    out, i = [], data.find(tag)
    while i >= 0 and len(out) < limit:
        out.append(i)
        i = data.find(tag, i + 1)
    return out


MUTATORS: list[Callable[[bytearray, random.Random], str]] = [_flip, _flip, _truncate, _duplicate, _delete, _zero]


def mutate(data: bytes, kind: str, rng: random.Random) -> tuple[bytes, str]:
    """1-3 mutations of ``data``; returns the new bytes and what was done."""
    buf = bytearray(data)
    steps = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        if len(buf) < 2:
            break
        if rng.random() < 0.3:
            steps.append(_field(buf, rng, kind))
        else:
            steps.append(rng.choice(MUTATORS)(buf, rng))
    return bytes(buf), "+".join(steps)


# -- one case ---------------------------------------------------------------------------------------------------------
class Corner:
    """Stand-in detector: a 'face' in the top-left quarter of every frame (so render always redacts)."""

    kind = "face"
    name = "corner"

    def detect(self, image: np.ndarray) -> Any:
        from redact.types import Detections

        h, w = image.shape[:2]
        return Detections(np.array([[0, 0, max(1, w // 2), max(1, h // 2)]], np.float32), np.array([0.9], np.float32))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_in_process(src: Path, out_dir: Path) -> dict[str, Any]:
    """probe + scan + render ``src`` into ``out_dir``; returns the outcome and any violations."""
    from redact.errors import RedactError
    from redact.io import probe
    from redact.pipeline import ScanOptions, render, scan

    violations: list[str] = []
    out = None
    try:
        info = probe(src)
        out = out_dir / ("out.mp4" if info.kind == "video" else "out.png")
        s = scan(src, ScanOptions(text="off"), detectors=[Corner()])
        r = render(src, s.plan, out)
        outcome, message = "ok", f"{r.write.frames} frames"
        if r.write.frames != s.plan.input.frames:
            violations.append(f"wrote {r.write.frames} frames, the scan analysed {s.plan.input.frames}")
        if sorted(os.listdir(out_dir)) != [out.name]:
            violations.append(f"after success the output folder holds {sorted(os.listdir(out_dir))}")
        if info.kind == "video":
            written = probe(out)
            if (written.width, written.height) != (r.write.width, r.write.height):
                violations.append("the written video does not probe back to its size")
    except RedactError as e:
        outcome, message = "error", str(e)
        if "\n" in message or not message.strip():
            violations.append(f"error message is not one line: {message!r}")
        if os.listdir(out_dir):
            violations.append(f"after an error the output folder holds {sorted(os.listdir(out_dir))}")
    except Exception as e:  # the property under test: nothing but RedactError may escape
        outcome, message = "crash", f"{type(e).__name__}: {e}"
        violations.append("crash: " + "".join(traceback.format_exception(e))[-2000:])
    return {"outcome": outcome, "message": message[:300], "violations": violations}


def check_cli(src: Path, out_dir: Path, timeout: float) -> dict[str, Any]:
    """``redact -q run SRC -o OUT --text off`` in a subprocess: exit 0 silently, or 1 with one line."""
    from redact.io import probe
    from redact.errors import RedactError

    try:
        kind = probe(src).kind
    except RedactError:
        kind = "video"
    out = out_dir / ("cli.mp4" if kind == "video" else "cli.png")
    cmd = [sys.executable, "-c", "from redact.cli import main; main()", "-q", "run", str(src), "-o", str(out),
           "--text", "off", "--no-html"]
    violations: list[str] = []
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(out_dir))
    except subprocess.TimeoutExpired:
        return {"outcome": "hang", "message": f"cli took over {timeout} s", "violations": ["cli hang"]}
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    if "Traceback" in r.stderr or r.stdout.strip():
        violations.append(f"cli printed a traceback or stdout: {r.stderr[-1500:]}{r.stdout[-300:]}")
    if r.returncode == 0:
        outcome = "ok"
        if lines:
            violations.append(f"cli -q succeeded but said {lines}")
        expected = sorted([out.name, out.with_suffix("").name + ".report.json"])
        if sorted(os.listdir(out_dir)) != expected:
            violations.append(f"cli success left {sorted(os.listdir(out_dir))}")
    elif r.returncode == 1:
        outcome = "error"
        if len(lines) != 1 or not lines[0].startswith("redact: error: "):
            violations.append(f"cli exit 1 without exactly one error line: {lines}")
        if os.listdir(out_dir):
            violations.append(f"cli failure left {sorted(os.listdir(out_dir))}")
    else:
        outcome = "crash"
        violations.append(f"cli exit status {r.returncode}: {r.stderr[-1500:]}")
    return {"outcome": outcome, "message": (lines[0] if lines else "")[:300], "violations": violations}


def run_case(i: int, seed: int, seeds: dict[str, Path], work: Path, cli: bool, timeout: float) -> dict[str, Any]:
    rng = random.Random(f"{seed}:{i}")
    kind = rng.choice(sorted(seeds))
    data, how = mutate(seeds[kind].read_bytes(), kind, rng)
    case_dir = work / f"case{i}"
    if case_dir.exists():
        shutil.rmtree(case_dir)
    (case_dir / "out").mkdir(parents=True)
    src = case_dir / f"input.{SUFFIX.get(kind, kind)}"
    src.write_bytes(data)
    digest = _sha(src)
    t0 = time.monotonic()
    res = {"case": i, "seed": kind, "mutation": how}
    res.update(check_in_process(src, case_dir / "out"))
    if cli:
        (case_dir / "cli").mkdir()
        c = check_cli(src, case_dir / "cli", timeout)
        res["cli"] = c["outcome"]
        res["cli_message"] = c["message"]
        res["violations"] += c["violations"]
    if _sha(src) != digest:
        res["violations"].append("the input file changed")
    res["seconds"] = round(time.monotonic() - t0, 3)
    if res["violations"]:
        keep = work / "failures"
        keep.mkdir(exist_ok=True)
        shutil.copy(src, keep / f"case{i}.{src.suffix[1:]}")
    shutil.rmtree(case_dir, ignore_errors=True)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=int(os.environ.get("FUZZ_CASES", "200")))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "1")))
    ap.add_argument("--only", type=int, default=None, help="replay one case")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds one case may take (watchdog)")
    ap.add_argument("--cli-every", type=int, default=10, help="every Nth case also through the CLI (0: never)")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args(argv)

    import logging

    logging.disable(logging.CRITICAL)  # the library's warnings are expected here; properties are checked instead
    work = args.workdir or Path(tempfile.mkdtemp(prefix="redact-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    seeds = make_seeds(work / "seeds")
    cases = [args.only] if args.only is not None else range(args.cases)
    counts: dict[str, int] = {}
    bad = 0
    t0 = time.monotonic()
    for i in cases:
        cli = bool(args.cli_every) and i % args.cli_every == args.cli_every - 1
        print(json.dumps({"start": i}), flush=True)
        # a hang anywhere (C code included) ends the process with a traceback on stderr; the parent sees the
        # last "start" line without its result
        faulthandler.dump_traceback_later(args.timeout * (3 if cli else 1), exit=True)
        res = run_case(i, args.seed, seeds, work, cli, args.timeout)
        faulthandler.cancel_dump_traceback_later()
        counts[res["outcome"]] = counts.get(res["outcome"], 0) + 1
        bad += bool(res["violations"])
        print(json.dumps(res), flush=True)
    if args.workdir is None and not bad:  # a temporary folder of our own with nothing worth keeping
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"summary": counts, "violations": bad, "seconds": round(time.monotonic() - t0, 1),
                      "workdir": str(work) if work.exists() else None}), flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
