"""Throughput of `redact batch` on a folder: 1 local worker, N local workers, and N tasks on a local Ray.

    .venv/bin/python benchmarks/batch.py [--source samples/demo.mp4] [--count 8] [--frames 50] [--height 540]
                                         [--jobs 2] [--text all|pii|off] [--no-ray] [--repeat 1]

It makes a folder of ``--count`` clips (the first ``--frames`` frames of ``--source``, scaled to ``--height``, in
two sub-folders), then times each configuration as a whole process, each into a fresh output folder:

- ``local -j 1``: one worker process;
- ``local -j N``: N worker processes, each pinned to its share of the CPUs;
- ``ray -j N``:   N concurrent Ray tasks on a local Ray started by the command (its start-up is included);
- ``rerun``:      ``local -j N`` again into the first output folder: everything is resumed, nothing redone.

It prints wall seconds, clips/s, frames/s and the speed-up over one worker, the machine, and the load average
before and after (the development machine is shared: a high load makes every figure slower).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, describe_machine, machine, versions  # noqa: E402

MAKE_SNIPPET = """
import sys, fractions
import av
src, dst, frames, height = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with av.open(src) as inp, av.open(dst, "w") as out:
    vin = inp.streams.video[0]
    w = int(round(vin.codec_context.width * height / vin.codec_context.height / 2)) * 2
    vs = out.add_stream("libx264", rate=vin.average_rate or 25)
    vs.width, vs.height, vs.pix_fmt = w, height, "yuv420p"
    vs.codec_context.options = {"preset": "veryfast", "crf": "20"}
    n = 0
    for f in inp.decode(vin):
        g = f.reformat(width=w, height=height, format="yuv420p")
        g.pts = None
        out.mux(vs.encode(g))
        n += 1
        if n >= frames:
            break
    out.mux(vs.encode(None))
"""


def make_folder(src: Path, folder: Path, count: int, frames: int, height: int) -> None:
    for i in range(count):
        sub = folder / ("ward-a" if i % 2 else "ward-b")
        sub.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-c", MAKE_SNIPPET, str(src), str(sub / f"clip{i:02d}.mp4"), str(frames),
                        str(height)], check=True)


def redact_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from redact.cli import main; main()", "-q", *args]


def timed(cmd: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
    return wall, r.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=ROOT / "samples" / "demo.mp4")
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--height", type=int, default=540)
    ap.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--text", choices=["all", "pii", "off"], default="all")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="time each configuration this many times (best kept)")
    a = ap.parse_args()

    have_ray = not a.no_ray and importlib.util.find_spec("ray") is not None
    print(describe_machine(machine(), versions("redact", "onnxruntime", "av", "ray")))
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="redact-bench-batch-") as tmp:
        tmpd = Path(tmp)
        folder = tmpd / "in"
        make_folder(a.source, folder, a.count, a.frames, a.height)
        total_frames = a.count * a.frames
        common = ["--text", a.text, "--no-html"]
        configs = [("local -j 1", ["--executor", "local", "-j", "1"]),
                   (f"local -j {a.jobs}", ["--executor", "local", "-j", str(a.jobs)])]
        if have_ray:
            configs.append((f"ray -j {a.jobs}", ["--executor", "ray", "-j", str(a.jobs)]))
        print(f"folder: {a.count} clips x {a.frames} frames at {a.height}p from {a.source.name}, --text {a.text}")
        print(f"{'configuration':<16} {'wall s':>8} {'clips/s':>8} {'frames/s':>9} {'speed-up':>9}")
        base = None
        first_out = None
        for name, args in configs:
            best = None
            for k in range(a.repeat):
                out = tmpd / f"out-{len(name)}-{name.replace(' ', '')}-{k}"
                wall, rc = timed(redact_cmd("batch", str(folder), "-o", str(out), *args, *common))
                if rc != 0:
                    print(f"{name}: exit {rc}")
                best = wall if best is None else min(best, wall)
                first_out = first_out or out
            base = base or best
            print(f"{name:<16} {best:>8.1f} {a.count / best:>8.2f} {total_frames / best:>9.1f} {base / best:>8.2f}x")
        wall, rc = timed(redact_cmd("batch", str(folder), "-o", str(first_out), "-j", str(a.jobs), *common))
        print(f"{'rerun (resume)':<16} {wall:>8.1f}   (exit {rc}; every item already done)")
    print(f"load average after: {os.getloadavg()}")
    if not have_ray and not a.no_ray:
        print("ray: not installed (pip install '.[ray]'), skipped")


if __name__ == "__main__":
    main()
