"""Text detection on ../shared/text-dev (unlabelled scene-text photos): recall of legible words, whether
any of them can still be read after redaction, and time per frame.

    .venv/bin/python benchmarks/text.py                                   # every configuration in CONFIGS
    .venv/bin/python benchmarks/text.py --configs 720p,720p:pad=0.3 --images east_demo_img_2.jpg --repeat 1
    .venv/bin/python benchmarks/text.py --backend easyocr                 # needs pip install .[easyocr]

There are no labels, so recall is measured against a label-free REFERENCE READING, defined as follows.

1. Each photo is placed as a video frame: fitted into a grey canvas (``1080p``: 1920x1080, ``720p``:
   1280x720; ``native``: the photo as it is). The reference is taken on the photo's pixels AS THEY ARE IN
   THAT FRAME (the canvas crop), so words the frame has shrunk past legibility do not count.
2. That crop is read by RapidOCR (PP-OCRv6 det + cls + rec; box_thresh 0.3, det_limit_side 736, unclip 1.6) twice: at its own size and
   upscaled 2x (bicubic; rapidocr's 2000 px input limit lifted). Both readings are unioned.
3. A box is a LEGIBLE REFERENCE WORD when its recognition score is >= 0.8 and its text has >= 2 letters or
   digits. Duplicates across the two readings (a box with >= 50% of its area inside a better-read one) are
   dropped. Boxes are axis-aligned (the quad's enclosing box).

A configuration's RECALL is the share of reference words of which >= 50% of the area lies inside the union
of the configuration's returned (padded) boxes, each drawn as the renderer draws it (the part of the box inside
the line's padded quad). Honest limits: the reference is read by the same PP-OCR
model family as the production detector (at more effort), so text this detector cannot see at any scale is
in neither - recall here is recall of what a strong PP-OCR reading can read, not of what a person can;
a line read as one box counts once; no human checked the reference.

UNREADABILITY: the frame is redacted with the configuration's boxes (redact.render.redact_regions, default
blur), the crop is read again by the same reference reading, and a reference word counts as READ AGAIN when
a read of score >= 0.5 with >= 2 letters or digits overlaps >= 25% of its box and its text is similar to the
word's (difflib ratio >= 0.5 on lower-case letters and digits). Target: 0.

ms/frame is the median of --repeat timed calls of detect_with_categories() per frame after one warm-up, each
a fresh reading (OCR + PII classification); "again" is one more call on the same frame without forgetting,
where lines already recognised are not recognised again (mode all: what a strided reading of a clip whose
text has not moved costs); det/cls/rec are rapidocr's own step times and "pii" the classification, each
the mean over frames. rapidocr scales a frame so its SHORTER side is at least det_limit_side (736) before
detection: a 1280x720 frame is detected at 1312x736, a 1920x1080 one at its own size, so a 1080p frame
costs about 2.2x the detection of a 720p one; TextDetector max_side scales a frame down before all that.

Configurations: FRAME[@MAX_SIDE][:option...], FRAME one of native, 1080p, 720p; MAX_SIDE TextDetector's
max_side (default: its default). Options: det (det_only backend), pad=F, scales=A+B (TextDetector scales),
tall=F (tall_pad), box=F (box_thresh), thresh=F (det_thresh), unclip=F (unclip_ratio), limit=N (det_limit_side), nocls, min=F
(TextDetector min_score), nosharp (TextDetector sharpen off: the engine enlarges small frames itself), style=S (the
redaction style the frame is redacted with: blur, pixelate or fill), quads (TextDetector quads: each line redacted as its
padded quadrilateral inside its box).

The recognised words are kept in memory only: this script prints and writes counts, sizes and categories,
never text.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine, machine, versions  # noqa: E402

from redact.detect.text import EasyOcrBackend, RapidOcrBackend, TextDetector  # noqa: E402
from redact.errors import RedactError  # noqa: E402
from redact.io import read_image  # noqa: E402
from redact.render import Region, _box, redact_regions, region_mask  # noqa: E402

TEXT_DEV = Path(__file__).resolve().parents[1].parent / "shared" / "text-dev"
CONFIGS = ("1080p", "720p", "1080p:det", "720p:det")
BEFORE = ":limit=736:unclip=1.6:pad=0.15"  # the defaults before this measure: e.g. --configs 720p,720p:limit=736:unclip=1.6:pad=0.15
FRAMES = {"1080p": (1920, 1080), "720p": (1280, 720)}
LEGIBLE_SCORE, REREAD_SCORE, MIN_ALNUM, COVERED, REREAD_OVERLAP, SIMILAR = 0.8, 0.5, 2, 0.5, 0.25, 0.5
_ALNUM = re.compile(r"[^\W_]")


def on_canvas(image: np.ndarray, width: int = 1920, height: int = 1080) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The image fitted into a grey ``width x height`` frame, and where it lies: ``(x1, y1, x2, y2)``."""
    h, w = image.shape[:2]
    s = min(width / w, height / h)
    small = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
    canvas = np.full((height, width, 3), 128, np.uint8)
    y, x = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    return canvas, (x, y, x + small.shape[1], y + small.shape[0])


def frame_of(image: np.ndarray, frame: str) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    if frame == "native":
        return image, (0, 0, image.shape[1], image.shape[0])
    return on_canvas(image, *FRAMES[frame])


@dataclass
class Word:
    xyxy: np.ndarray  # in frame pixels
    score: float
    text: str  # in memory only, never printed


def alnum(text: str | None) -> str:
    return "".join(_ALNUM.findall(text or "")).lower()


class Reference:
    """The reference reading (see the module docstring): RapidOCR at 1x and 2x, unioned."""

    def __init__(self) -> None:
        # pinned, so that the reference does not move when the product's defaults do
        self.backend = RapidOcrBackend(provider="cpu", box_thresh=0.3, det_limit_side=736, unclip_ratio=1.6,
                                       max_side_len=8192)

    def read(self, frame: np.ndarray, where: tuple[int, int, int, int], min_score: float) -> list[Word]:
        x1, y1, x2, y2 = where
        crop = np.ascontiguousarray(frame[y1:y2, x1:x2])
        words = []
        for scale in (1, 2):
            img = crop if scale == 1 else cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
            for b in self.backend.read(img):
                if b.text_score >= min_score and len(alnum(b.text)) >= MIN_ALNUM:
                    words.append(Word(b.xyxy / scale + [x1, y1, x1, y1], b.text_score, b.text or ""))
        return dedupe(words)


def box_area(b: np.ndarray) -> float:
    return float(max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1]))


def inter(a: np.ndarray, b: np.ndarray) -> float:
    return box_area(np.array([max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]))


def dedupe(words: list[Word]) -> list[Word]:
    kept: list[Word] = []
    for w in sorted(words, key=lambda w: -w.score):
        if all(inter(w.xyxy, k.xyxy) < 0.5 * max(box_area(w.xyxy), 1e-9) for k in kept):
            kept.append(w)
    return kept


def regions(dets) -> list[Region]:
    """The regions the renderer redacts for ``dets``: each box, or the part of it inside its line's quad."""
    quads = dets.quads()
    return [Region(tuple(b), "text", None if not np.all(np.isfinite(q)) else tuple(map(tuple, q)))
            for b, q in zip(dets.xyxy, quads)]


def coverage(words: list[Word], regs: list[Region], shape: tuple[int, int]) -> np.ndarray:
    """Per word, the share of its area inside the union of the regions (as the renderer draws them)."""
    mask = np.zeros(shape[:2], np.uint8)
    for r in regs:
        ib = _box(r.box, shape[1], shape[0])
        if ib is None:
            continue
        x1, y1, x2, y2 = ib
        m = region_mask(r, ib)
        if m is None:
            mask[y1:y2, x1:x2] = 1
        else:
            mask[y1:y2, x1:x2] |= m.astype(np.uint8)
    out = []
    for w in words:
        x1, y1, x2, y2 = np.round(w.xyxy).astype(int)
        patch = mask[max(0, y1):max(0, y2), max(0, x1):max(0, x2)]
        out.append(float(patch.mean()) if patch.size else 0.0)
    return np.asarray(out)


def read_again(words: list[Word], reread: list[Word]) -> int:
    """How many reference words a reading of the redacted frame still reads (see the module docstring)."""
    count = 0
    for w in words:
        for r in reread:
            if (inter(w.xyxy, r.xyxy) >= REREAD_OVERLAP * max(box_area(w.xyxy), 1e-9)
                    and difflib.SequenceMatcher(None, alnum(w.text), alnum(r.text)).ratio() >= SIMILAR):
                count += 1
                break
    return count


def parse(config: str) -> tuple[str, dict, dict]:
    """``(frame, backend kwargs, detector kwargs)`` of a configuration string."""
    head, *opts = config.split(":")
    frame, _, max_side = head.partition("@")
    if frame != "native" and frame not in FRAMES:
        raise SystemExit(f"unknown frame {frame!r} in {config!r}")
    back: dict = {}
    det: dict = {} if not max_side else {"max_side": int(max_side)}
    if frame == "native":
        det["max_side"] = None
    for opt in opts:
        key, _, val = opt.partition("=")
        if key == "det":
            back["det_only"] = True
        elif key == "nocls":
            back["use_cls"] = False
        elif key in ("box", "thresh", "unclip", "limit"):
            name = {"box": "box_thresh", "thresh": "det_thresh", "unclip": "unclip_ratio", "limit": "det_limit_side"}[key]
            back[name] = int(val) if key == "limit" else float(val)
        elif key in ("pad", "tall"):
            det["pad" if key == "pad" else "tall_pad"] = float(val)
        elif key == "min":
            det["min_score"] = float(val)
        elif key == "style":
            det["style"] = val
        elif key == "quads":
            det["quads"] = True
        elif key == "nosharp":
            det["sharpen"] = False
        elif key == "scales":
            det["scales"] = tuple(float(v) for v in val.split("+"))
        else:
            raise SystemExit(f"unknown option {opt!r} in {config!r}")
    return frame, back, det


def make_backend(name: str, kwargs: dict):
    if name == "easyocr":
        unknown = set(kwargs) - {"det_only"}
        if unknown:
            raise SystemExit(f"options {sorted(unknown)} are RapidOCR's; the easyocr backend takes only det")
        return EasyOcrBackend(provider="cpu", **kwargs)
    return RapidOcrBackend(provider="cpu", **kwargs)


def run_config(config: str, images: dict[str, np.ndarray], repeat: int, backend_name: str,
               reference: Reference | None, refs: dict) -> dict:
    frame_kind, back_kw, det_kw = parse(config)
    style = det_kw.pop("style", "blur")
    backend = make_backend(backend_name, back_kw)
    detector = TextDetector(backend, mode="all", **det_kw)
    per_image, cats, steps = {}, Counter(), Counter()
    for name, image in images.items():
        frame, where = frame_of(image, frame_kind)
        detector.detect_with_categories(frame)  # warm-up
        times, found = [], None
        for _ in range(repeat):
            detector.reset()  # a fresh reading: nothing remembered from the warm-up
            t0 = time.perf_counter()
            found = detector.detect_with_categories(frame)
            times.append(time.perf_counter() - t0)
        for step, sec in getattr(backend, "last_seconds", {}).items():
            steps[step] += 1000 * sec / len(images)
        t0 = time.perf_counter()
        detector.detect_with_categories(frame)  # the same frame again: lines already read are not re-read
        t_again = time.perf_counter() - t0
        dets, categories = found
        cats.update(c or "none" for c in categories)
        row = {"size": f"{frame.shape[1]}x{frame.shape[0]}", "ms": round(1000 * statistics.median(times)),
               "ms_again": round(1000 * t_again), "boxes": len(dets)}
        if reference is not None:
            key = (name, frame_kind)
            if key not in refs:
                refs[key] = reference.read(frame, where, LEGIBLE_SCORE)
            words = refs[key]
            regs = regions(dets)
            cov = coverage(words, regs, frame.shape)
            hit = cov >= COVERED
            redacted = redact_regions(frame, regs, style=style)
            again = read_again(words, reference.read(redacted, where, REREAD_SCORE))
            missed = [words[i].xyxy for i in np.flatnonzero(~hit)]
            row.update(words=len(words), covered=int(hit.sum()), recall=round(float(hit.mean()), 3) if words else None,
                       read_again=again, missed_heights=[round(float(m[3] - m[1])) for m in missed],
                       missed_cov=[round(float(c), 2) for c in cov[~hit]])
        per_image[name] = row
    ms = [v["ms"] for v in per_image.values()]
    out = {"config": config, "frame": frame_kind, "backend": backend.describe(), "detector": {
        k: v for k, v in detector.describe().items() if k in ("max_side", "pad", "scales", "min_score")},
        "mean_ms": round(statistics.mean(ms)), "median_ms": round(statistics.median(ms)),
        "mean_ms_again": round(statistics.mean(v["ms_again"] for v in per_image.values())),
        "step_ms": {k: round(v) for k, v in steps.items()},
        "boxes": sum(v["boxes"] for v in per_image.values()), "categories": dict(cats), "images": per_image}
    if reference is not None:
        words = sum(v["words"] for v in per_image.values())
        hit = sum(v["covered"] for v in per_image.values())
        out.update(words=words, covered=hit, recall=round(hit / max(words, 1), 3),
                   min_image_recall=min((v["recall"] for v in per_image.values() if v["recall"] is not None), default=None),
                   read_again=sum(v["read_again"] for v in per_image.values()))
    return out


def pii_ms(images: dict[str, np.ndarray]) -> float:
    """Mean ms of TextDetector.categories() (the PII classification) per 720p frame, on real read boxes."""
    backend = RapidOcrBackend(provider="cpu")
    detector = TextDetector(backend, mode="all")
    total = 0.0
    for image in images.values():
        frame, _ = on_canvas(image, *FRAMES["720p"])
        boxes = backend.read(frame)
        t0 = time.perf_counter()
        detector.categories(boxes)
        total += time.perf_counter() - t0
    return 1000 * total / len(images)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, default=TEXT_DEV)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--images", help="comma-separated file names: a subset of --dir")
    ap.add_argument("--backend", choices=("rapidocr", "easyocr"), default="rapidocr")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-recall", action="store_true", help="time only: skip the reference reading")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if not args.dir.is_dir():
        print(f"no {args.dir}: nothing to measure")
        return 1
    files = sorted(p for p in args.dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if args.images:
        wanted = set(args.images.split(","))
        files = [p for p in files if p.name in wanted]
    images = {p.name: read_image(p) for p in files}
    if args.backend == "easyocr":
        try:
            EasyOcrBackend(provider="cpu", det_only=True)
        except RedactError as e:
            print(f"--backend easyocr: {e}", file=sys.stderr)
            return 2
    print(describe_machine(machine(), versions("rapidocr", "onnxruntime", "opencv-python-headless", "numpy",
                                               "easyocr")))
    print(f"{len(images)} images from {args.dir}; backend {args.backend}\n")
    reference = None if args.no_recall else Reference()
    refs: dict = {}
    results = []
    for config in args.configs.split(","):
        r = run_config(config, images, args.repeat, args.backend, reference, refs)
        results.append(r)
        rec = "" if reference is None else (f"recall {r['recall']:.3f} ({r['covered']}/{r['words']} words, worst image "
                                            f"{r['min_image_recall']}), read again {r['read_again']}; ")
        print(f"== {config}: {rec}mean {r['mean_ms']} ms/frame, median {r['median_ms']} ms, "
              f"read again (known lines) {r['mean_ms_again']} ms "
              f"(rapidocr steps, mean ms: {r['step_ms']}); {r['boxes']} boxes; categories {r['categories']}", flush=True)
        for name, v in r["images"].items():
            extra = "" if reference is None else (
                f" {v['covered']:3d}/{v['words']:3d} words covered, read again {v['read_again']}"
                + (f"; missed: heights {v['missed_heights']} px, covered {v['missed_cov']}" if v["missed_heights"] else ""))
            print(f"   {name:30s} {v['size']:>10s} {v['ms']:6d} ms {v['boxes']:4d} boxes{extra}", flush=True)
    pii = pii_ms(images)
    print(f"\nPII classification (TextDetector.categories): {pii:.2f} ms per 720p frame")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "pii_ms_720p": round(pii, 2), "results": results},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
