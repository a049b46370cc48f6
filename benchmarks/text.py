"""Text detection speed and box counts on ../shared/text-dev (unlabelled scene-text photos).

    .venv/bin/python benchmarks/text.py                          # every configuration below
    .venv/bin/python benchmarks/text.py --configs native,1080p@1280 --repeat 3 --json out.json

Each configuration runs TextDetector(RapidOcrBackend(...), mode="all") on every image:

  native        the image as it is (max_side=None)
  1080p@S       the image fitted into a grey 1920x1080 canvas (a video frame), TextDetector max_side=S
  ...:det       the same with det_only=True (boxes, no recognition: what pii mode redacts when nothing is read)

rapidocr then scales the image so its SHORTER side is at least det_limit_side (736 by default) before
detection, so a small image is detected upscaled. ms/image is the median of --repeat calls per image after
one warm-up call, wall time of detect_with_categories() (OCR + classification). Boxes are counted per image;
categories are counted over all images (no recognised text is printed, ever).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine, machine, versions  # noqa: E402

from redact.detect.text import RapidOcrBackend, TextDetector  # noqa: E402
from redact.io import read_image  # noqa: E402

TEXT_DEV = Path(__file__).resolve().parents[1].parent / "shared" / "text-dev"
CONFIGS = ("native", "1080p@1920", "1080p@1280", "1080p@1920:det")


def on_canvas(image: np.ndarray, width: int = 1920, height: int = 1080) -> np.ndarray:
    h, w = image.shape[:2]
    s = min(width / w, height / h)
    small = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
    canvas = np.full((height, width, 3), 128, np.uint8)
    y, x = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    return canvas


def run_config(config: str, images: dict[str, np.ndarray], repeat: int, det_limit_side: int) -> dict:
    shape, _, det = config.partition(":")
    max_side = None if shape == "native" else int(shape.split("@")[1])
    backend = RapidOcrBackend(provider="cpu", det_only=det == "det", det_limit_side=det_limit_side)
    detector = TextDetector(backend, mode="all", max_side=max_side)
    per_image, cats = {}, Counter()
    for name, image in images.items():
        frame = image if shape == "native" else on_canvas(image)
        detector.detect_with_categories(frame)  # warm-up
        times, found = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            found = detector.detect_with_categories(frame)
            times.append(time.perf_counter() - t0)
        dets, categories = found
        cats.update(c or "none" for c in categories)
        per_image[name] = {"size": f"{frame.shape[1]}x{frame.shape[0]}", "ms": round(1000 * statistics.median(times)),
                           "boxes": len(dets)}
    ms = [v["ms"] for v in per_image.values()]
    return {"config": config, "max_side": max_side, "det_only": det == "det", "det_limit_side": det_limit_side,
            "mean_ms": round(statistics.mean(ms)), "median_ms": round(statistics.median(ms)),
            "boxes": sum(v["boxes"] for v in per_image.values()), "categories": dict(cats), "images": per_image}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, default=TEXT_DEV)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--det-limit-side", type=int, default=736)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if not args.dir.is_dir():
        print(f"no {args.dir}: nothing to measure")
        return 1
    files = sorted(p for p in args.dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    images = {p.name: read_image(p) for p in files}
    print(describe_machine(machine(), versions("rapidocr", "onnxruntime", "opencv-python-headless", "numpy")))
    print(f"{len(images)} images from {args.dir}\n")
    results = []
    for config in args.configs.split(","):
        r = run_config(config, images, args.repeat, args.det_limit_side)
        results.append(r)
        print(f"== {config}: mean {r['mean_ms']} ms/image, median {r['median_ms']} ms, {r['boxes']} boxes; "
              f"categories {r['categories']}")
        for name, v in r["images"].items():
            print(f"   {name:32s} {v['size']:>10s} {v['ms']:6d} ms {v['boxes']:4d} boxes")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
