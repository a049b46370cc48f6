"""Size of the cleaned copy against its source, and how faithful it stays where nothing was redacted.

    .venv/bin/python benchmarks/size.py [--clip PATH ...] [--gif] [--stride N] [--work DIR] [--no-phone]

For the shipped sample, a phone-like 720p copy of it (made here: scaled up, sensor-like grain, encoded by a
fast single-pass x264 at 2 Mb/s, as a phone's hardware encoder would) and every video in ``../shared/footage``
(GIFs only with ``--gif``; missing files are skipped), it scans the clip once with the default settings
(:func:`redact.pipeline.scan`; plans are kept in ``--work`` and reused when the clip's bytes are the same) and
renders that plan (:func:`redact.pipeline.render`) twice: with the old default (``crf=18``, plain CRF) and the
new one (``crf=None``: follow the source's bitrate, see :func:`redact.io.writer.rate_options`).

For each it prints the source's and the copy's file sizes, their ratio, and the luma PSNR of the untouched
pixels: every pixel outside all the plan's redacted boxes (rounded outwards, as the renderer does), copy against
the decoded source, mean and minimum over every ``--stride``-th frame (8-bit Y planes as decoded for 4:2:0
sources; for others, such as GIFs, BT.601 luma of the reader's RGB on both sides). Only sizes and counts are
printed, never anything the detectors read.
"""

from __future__ import annotations

import argparse
import contextlib
import fractions
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import ROOT, describe_machine, machine, versions

from redact.io import probe, sha256_file, yuv  # noqa: E402
from redact.io.probe import open_container  # noqa: E402
from redact.io.reader import open_decoder, run_demux  # noqa: E402
from redact.pipeline import RenderOptions, ScanOptions, load_plan, render, save_plan, scan  # noqa: E402

FOOTAGE = ROOT.parent / "shared" / "footage"
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".h264", ".h265", ".264", ".265", ".ts")
SETTINGS = {"crf18": 18, "auto": None}
"""Rendered variants: the old default (plain CRF 18) and the new one (None: follow the source)."""


def phone_clip(src: Path, work: Path, height: int = 720, kbps: int = 2000) -> Path:
    """``src`` scaled to ``height`` with temporal grain, encoded like a phone: one pass at a fixed bitrate."""
    import av

    dst = work / f"{src.stem}_{height}p_phone.mp4"
    if dst.exists():
        return dst
    rng = np.random.default_rng(7)
    tmp = dst.with_suffix(".part.mp4")
    with av.open(str(src)) as inp, av.open(str(tmp), "w") as out:
        vin = inp.streams.video[0]
        rate = fractions.Fraction(vin.average_rate or 25)
        w = int(round(vin.codec_context.width * height / vin.codec_context.height / 2)) * 2
        vout = out.add_stream("libx264", rate=rate, options={"preset": "superfast", "b": str(kbps * 1000),
                                                              "maxrate": str(kbps * 1500), "bufsize": str(kbps * 1000)})
        vout.width, vout.height, vout.pix_fmt = w, height, "yuv420p"
        for i, frame in enumerate(inp.decode(vin)):
            planes = frame.reformat(width=w, height=height, format="yuv420p").to_ndarray()
            grain = rng.normal(0, 2.0, planes.shape)
            f = av.VideoFrame.from_ndarray(np.clip(planes + grain, 0, 255).astype(np.uint8), format="yuv420p")
            f.pts, f.time_base = i, fractions.Fraction(1) / rate
            out.mux(vout.encode(f))
        out.mux(vout.encode(None))
    tmp.rename(dst)
    return dst


def plan_for(clip: Path, work: Path):
    """The default scan's plan of ``clip`` (cached in ``work`` by content) and the seconds the scan took."""
    cached = work / f"{clip.stem}.{sha256_file(clip)[:16]}.plan.json"
    if cached.exists():
        return load_plan(cached), 0.0
    res = scan(clip, ScanOptions())
    save_plan(res.plan, cached)
    return res.plan, res.seconds


def _luma_frames(path: Path, planes: bool):
    """Display-oriented luma of every frame of ``path``, as float32: the Y plane when ``planes`` and the clip
    allows it, else BT.601 luma of the reader's RGB."""
    info = probe(path)
    use_planes = planes and yuv.supports(info)
    with open_container(path) as container:
        decoder = open_decoder(container, info, allow_truncated=True, planes=use_planes)
        for frame in run_demux(container, decoder):
            if use_planes:
                yield frame.index, frame.planes[0].astype(np.float32)
            else:
                rgb = frame.image.astype(np.float32)
                yield frame.index, rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def untouched_psnr(src: Path, out: Path, plan, stride: int) -> tuple[float, float, float]:
    """(mean, min) luma PSNR over untouched pixels of every ``stride``-th frame, and the untouched share."""
    by_frame = plan.boxes_by_frame()
    planes = yuv.supports(probe(src))  # compare like with like: planes with planes, RGB with RGB
    values, share = [], []
    for (i, a), (j, b) in zip(_luma_frames(src, planes), _luma_frames(out, planes)):
        assert i == j
        if i % stride:
            continue
        h, w = a.shape
        b = b[:h, :w]  # the copy of an odd-sized clip is padded to even
        keep = np.ones((h, w), bool)
        for track, box in by_frame.get(i, ()):
            if track.action != "redact":
                continue
            x1, y1, x2, y2 = box.box
            keep[max(0, math.floor(y1)):max(0, math.ceil(y2)), max(0, math.floor(x1)):max(0, math.ceil(x2))] = False
        if not keep.any():
            continue
        mse = float(np.mean((a[keep] - b[keep]) ** 2))
        values.append(10 * math.log10(255.0**2 / max(mse, 1e-6)))
        share.append(keep.mean())
    if not values:
        return float("nan"), float("nan"), 0.0
    return float(np.mean(values)), float(np.min(values)), float(np.mean(share))


def clips(args: argparse.Namespace, work: Path) -> list[Path]:
    if args.clip:
        return [p for p in args.clip if p.exists()]
    sample = ROOT / "samples" / "demo.mp4"
    out = [sample] if sample.exists() else []
    if sample.exists() and args.phone:
        out.append(phone_clip(sample, work))
    if FOOTAGE.is_dir():
        suffixes = VIDEO_SUFFIXES + ((".gif",) if args.gif else ())
        out += sorted(p for p in FOOTAGE.iterdir() if p.suffix.lower() in suffixes)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", action="append", type=Path, help="clip(s) to measure (default: sample + footage)")
    ap.add_argument("--gif", action="store_true", help="include the footage's GIFs")
    ap.add_argument("--no-phone", dest="phone", action="store_false", help="skip the phone-like 720p sample copy")
    ap.add_argument("--stride", type=int, default=5, help="PSNR on every Nth frame (default 5)")
    ap.add_argument("--preset", default="veryfast", help="x264 preset of both renders (default: the CLI's)")
    ap.add_argument("--work", type=Path, help="keep plans and the phone-like clip here (default: a temporary dir)")
    args = ap.parse_args()

    print("machine:", describe_machine(machine(), versions("av", "numpy", "onnxruntime")).replace("\n", "; "))
    print(f"preset {args.preset}; PSNR: luma of untouched pixels vs decoded source, every {args.stride}th frame")
    head = (f"{'clip':56s} {'frames':>6s} {'source':>9s} {'setting':>7s} {'copy':>9s} {'ratio':>6s} "
            f"{'PSNR mean':>9s} {'min':>5s} {'untouched':>9s} {'render s':>8s}")
    print(head)
    print("-" * len(head))
    with contextlib.ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="redact-size-")))
        work.mkdir(parents=True, exist_ok=True)
        for clip in clips(args, work):
            plan, _ = plan_for(clip, work)
            src_size = clip.stat().st_size
            for name, crf in SETTINGS.items():
                out = work / f"{clip.stem}.{name}.mp4"
                t0 = time.perf_counter()
                r = render(clip, plan, out, RenderOptions(crf=crf, preset=args.preset))
                secs = time.perf_counter() - t0
                size = out.stat().st_size
                mean, low, share = untouched_psnr(clip, out, plan, args.stride)
                print(f"{clip.name[:56]:56s} {r.write.frames:6d} {src_size / 1e3:8.0f}K {name:>7s} {size / 1e3:8.0f}K "
                      f"{size / src_size:5.2f}x {mean:9.1f} {low:5.1f} {share:8.0%} {secs:8.1f}", flush=True)
                out.unlink()


if __name__ == "__main__":
    sys.exit(main())
