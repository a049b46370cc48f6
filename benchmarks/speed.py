"""Throughput of `redact run` against the transcode floor and, when installed, `deface`.

    .venv/bin/python benchmarks/speed.py [--clip PATH ...] [--height 720 --height 1080] [--repeat N]

For every clip (default: the shipped sample) and every requested height (the clip is first scaled to that height
into a temporary file, so all tools read the same bytes), it times, as whole processes:

- floor:  decode + re-encode with PyAV/libx264 at the same CRF/preset and audio copy, no analysis
          (redact's own writer, fast YUV path where the clip allows, with an identity frame function:
          the best redact could ever do);
- r-all:   `redact run` with its defaults (faces, badges and on-screen text; scan + render + report);
- r-faces: `redact run --text off --no-badges` (faces only);
- deface: `deface --thresh 0.2` (CenterFace on every frame), when the `deface` command is installed.

It prints frames/s, the ratios and each command's peak resident memory, plus the machine it ran on.
``--jobs J`` (repeatable: ``--jobs 1 --jobs 2 --jobs default``) times each redact configuration once per value,
as ``redact run -j J`` (tools ``r-all-j1``, ``r-all-j2``, ...; ``default`` passes no ``-j``: every usable CPU), and
prints each one's speed-up over the first. ``-j 1`` is one process that may use every CPU (its inference
sessions size their thread pools from the CPUs it may use), not one core; ``-j N`` splits the clip into N segments
in N worker processes, each pinned to its share of the CPUs. Clips shorter than 2 x 200 frames are not split (use
``--loops``). The peak memory printed is the largest single process's (a segment worker's, with ``-j`` > 1).
``--loops K`` adds a K-times-longer copy of each clip: redact streams, so its peak memory should not grow. Figures quoted in issues come from here.
"""

from __future__ import annotations

import argparse
import fractions
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOOR_SNIPPET = """
import sys
from redact.io import write_video
r = write_video(sys.argv[1], sys.argv[2], lambda f: f.image, process_yuv=lambda f: f.planes,
                crf=int(sys.argv[3]), preset=sys.argv[4])
print(r.frames)
"""


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import av
    import onnxruntime

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"PyAV {av.__version__}, onnxruntime {onnxruntime.__version__}")


def scaled_copy(src: Path, height: int, workdir: Path, loops: int = 1) -> Path:
    """Scale ``src`` to ``height`` (keeping aspect, even width) into an MP4 in ``workdir``, ``loops`` times over
    (a longer clip of the same content, for the memory check)."""
    import av
    import numpy as np  # noqa: F401  (PyAV's reformat needs numpy present)

    dst = workdir / f"{src.stem}_{height}p{f'_x{loops}' if loops > 1 else ''}.mp4"
    with av.open(str(dst), "w") as out:
        vout, i = None, 0
        for _ in range(loops):
            with av.open(str(src)) as inp:
                vin = inp.streams.video[0]
                rate = fractions.Fraction(vin.average_rate or 25)
                w = int(round(vin.codec_context.width * height / vin.codec_context.height / 2)) * 2
                if vout is None:
                    vout = out.add_stream("libx264", rate=rate, options={"crf": "18", "preset": "veryfast"})
                    vout.width, vout.height, vout.pix_fmt = w, height, "yuv420p"
                for frame in inp.decode(vin):
                    f = frame.reformat(width=w, height=height, format="yuv420p")
                    f.pts, f.time_base = i, fractions.Fraction(1) / rate
                    i += 1
                    for p in vout.encode(f):
                        out.mux(p)
        for p in vout.encode():
            out.mux(p)
    return dst


def count_frames(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


PEAK_RSS = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def timed(cmd: list[str], repeat: int) -> tuple[float, float]:
    """Best wall time of ``repeat`` runs (seconds) and the command's peak resident memory (MiB)."""
    best, peak = float("inf"), 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", PEAK_RSS, *cmd], check=True, capture_output=True, text=True)
        best = min(best, time.perf_counter() - t0)
        peak = max(peak, int(out.stdout.split()[-1]) / 1024)  # Linux reports KiB
    return best, peak


MODES = {"all": [], "faces": ["--text", "off", "--no-badges"]}
"""redact's configurations: "all" is the default (faces, badges, on-screen text); "faces" only faces."""


def bench_clip(clip: Path, repeat: int, crf: int, preset: str, workdir: Path,
               modes: list[str], jobs: list[str] | None = None,
               no_floor: bool = False) -> tuple[int, dict[str, tuple[float, float]]]:
    """Frame count and, per tool, (best seconds, peak RSS MiB)."""
    n = count_frames(clip)
    py = sys.executable
    results: dict[str, tuple[float, float]] = {}
    out = workdir / "out.mp4"
    if not no_floor:
        results["floor"] = timed([py, "-c", FLOOR_SNIPPET, str(clip), str(out), str(crf), preset], repeat)
    for mode in modes:
        redact_cmd = [py, "-c", "from redact.cli import main; main()", "-q", "run", str(clip),
                      "-o", str(workdir / "redact.mp4"),
                      "--crf", str(crf), "--preset", preset, *MODES[mode]]
        if not jobs:
            results[f"r-{mode}"] = timed(redact_cmd, repeat)
        for j in jobs or ():
            results[f"r-{mode}-j{j[:3]}"] = timed(redact_cmd + ([] if j == "default" else ["-j", j]), repeat)
    deface = shutil.which("deface") or (str(Path(py).parent / "deface") if (Path(py).parent / "deface").exists()
                                        else None)
    if deface and not no_floor:
        results["deface"] = timed([deface, str(clip), "-o", str(workdir / "deface.mp4"), "--thresh", "0.2"], repeat)
    return n, results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", action="append", type=Path, help="clip(s) to time (default: samples/demo.mp4)")
    ap.add_argument("--height", action="append", type=int, help="scale each clip to this height first (repeatable)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per command; the best is kept")
    ap.add_argument("--mode", action="append", choices=sorted(MODES),
                    help="redact configuration(s) to time: all (default settings) and/or faces (--text off)")
    ap.add_argument("--loops", type=int, default=1,
                    help="also time a copy of each scaled clip this many times as long (peak memory should not grow)")
    ap.add_argument("--jobs", action="append", help="time `redact run -j J` for each J given (or 'default')")
    ap.add_argument("--no-floor", action="store_true", help="skip the decode+encode floor and deface (with --jobs)")
    ap.add_argument("--crf", type=int, default=18)
    ap.add_argument("--preset", default="veryfast")
    args = ap.parse_args()
    clips = args.clip or [ROOT / "samples" / "demo.mp4"]
    print(f"machine: {machine()}")
    print(f"{'clip':40s} {'frames':>6s} {'tool':>8s} {'seconds':>8s} {'fps':>7s} {'x floor':>8s} {'x deface':>9s} "
          f"{'peak MiB':>9s}")
    with tempfile.TemporaryDirectory(prefix="redact-bench-") as tmp:
        work = Path(tmp)
        for clip in clips:
            variants = [scaled_copy(clip, h, work) for h in args.height] if args.height else [clip]
            if args.loops > 1:
                variants += [scaled_copy(clip, h, work, args.loops) for h in (args.height or [720])]
            for v in variants:
                n, r = bench_clip(v, args.repeat, args.crf, args.preset, work, args.mode or ["all", "faces"],
                                  args.jobs, args.no_floor)
                for tool, (secs, mib) in r.items():
                    vs_floor = secs / r["floor"][0] if "floor" in r else float("nan")
                    vs_deface = f"{r['deface'][0] / secs:8.2f}x" if "deface" in r else "       -"
                    first = next((k for k in r if args.jobs and k.startswith(tool.rsplit("-j", 1)[0] + "-j")), None)
                    vs_j = f" {r[first][0] / secs:5.2f}x {first}" if first and first != tool else ""
                    print(f"{v.name[:40]:40s} {n:6d} {tool:>8s} {secs:8.2f} {n / secs:7.1f} {vs_floor:7.2f}x "
                          f"{vs_deface} {mib:9.0f}{vs_j}", flush=True)


if __name__ == "__main__":
    main()
