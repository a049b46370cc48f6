"""Scene cuts: the two scores of redact.detect.schedule.CutDetector on every frame of real footage and of pan / zoom /
shake clips, and the cuts they find.

    .venv/bin/python benchmarks/cuts.py                      # all of ../shared/footage, faces-crowd + faces-dev clips
    .venv/bin/python benchmarks/cuts.py --clip face_recognition_short_hamilton_clip.mp4 --scores

Per clip: the largest brightness score (mean |difference| of 32x18 grey thumbnails, 0-255; a cut above
CUT_THRESHOLD where either picture is flat) and shape score (schedule.shape_change of 16x9 thumbnails; a cut above
SHAPE_THRESHOLD), each with its frame, and the frames the detector calls cuts (schedule.is_cut). Footage has no labels: its true cuts were found by eye (the
Hamilton clip's at frames 20, 82 and 211; none in the others). The labelled clips are ../shared/tools/kenburns.py
clips (slow pan + zoom 1.0 -> 1.35 + hand shake, made and cached as benchmarks/precision.py makes them) of every
faces-crowd and faces-dev image and of the text photos of benchmarks/text_labels.json (a page of small print among them): none has a cut, so every cut found there is false. --scores prints every frame's
scores of the named clips.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine, machine, versions  # noqa: E402
from faces import FACES_DEV, FOOTAGE  # noqa: E402
from precision import FACES_CROWD, TEXT_DEV, TEXT_LABELS, make_labelled  # noqa: E402

from redact.detect.schedule import CUT_THRESHOLD, FLAT, SHAPE_THRESHOLD, THUMB, is_cut, shape_change  # noqa: E402
from redact.io import FrameSource  # noqa: E402

MEDIA = (".mp4", ".gif", ".h264", ".h265", ".mov", ".mkv")


def thumbs(path: Path) -> list[np.ndarray]:
    """Every frame's grey 32x18 thumbnail, as CutDetector makes it."""
    out = []
    for frame in FrameSource(path):
        small = cv2.resize(frame.image, THUMB, interpolation=cv2.INTER_AREA)
        out.append(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32))
    return out


def scores(path: Path) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Per frame (from frame 1): the brightness and the shape score against the frame before; the cuts."""
    t = thumbs(path)
    bright = np.array([float(np.abs(b - a).mean()) for a, b in zip(t, t[1:])])
    shape = np.array([shape_change(a, b) for a, b in zip(t, t[1:])])
    return bright, shape, [i + 1 for i, (a, b) in enumerate(zip(t, t[1:])) if is_cut(a, b)]


def pans(images: list[Path], steps=(0.02, 0.04, 0.06, 0.08, 0.12), n: int = 12) -> None:
    """Fast pans, no codec: a 60%-wide 16:9 window slid across each photo by ``step`` of its width a frame
    (at 30 fps 4% is 1.2 widths a second, a phone swung round), shrunk to 640x360. Prints, per step, the largest
    scores and the false cuts of the old rule (brightness > CUT_THRESHOLD on any picture) and of is_cut."""
    print(f"\nfast pans over {len(images)} photos, {n} frames each")
    print(f"{'step':>5} {'brightness max':>15} {'shape max':>10} {'old cuts':>9} {'cuts':>5}")
    for step in steps:
        bright, shape, old, new = 0.0, 0.0, 0, 0
        for p in images:
            im = cv2.imread(str(p))
            h, w = im.shape[:2]
            cw = int(w * 0.6)
            ch = min(h, int(cw * 9 / 16))
            cw = int(ch * 16 / 9)
            y, dx = (h - ch) // 2, max(1, int(step * cw))
            frames = [cv2.cvtColor(cv2.resize(im[y:y + ch, x:x + cw], (640, 360), interpolation=cv2.INTER_AREA),
                                   cv2.COLOR_BGR2RGB) for x in range(0, w - cw - dx, dx)][:n]
            t = [cv2.cvtColor(cv2.resize(f, THUMB, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY).astype(np.float32)
                 for f in frames]
            for a, b in zip(t, t[1:]):
                d = float(np.abs(b - a).mean())
                bright, shape = max(bright, d), max(shape, shape_change(a, b))
                old += d > CUT_THRESHOLD
                new += is_cut(a, b)
        print(f"{step:>5.0%} {bright:>15.1f} {shape:>10.3f} {old:>9} {new:>5}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", action="append", help="a clip's path or a name in ../shared/footage (repeatable)")
    ap.add_argument("--frames", type=int, default=50, help="frames per kenburns clip (default %(default)s)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/redact-precision"), help="kenburns clips")
    ap.add_argument("--scores", action="store_true", help="print every frame's scores")
    ap.add_argument("--no-pans", action="store_true", help="leave out the fast pans over faces-crowd photos")
    args = ap.parse_args()
    print(describe_machine(machine(), versions("numpy", "opencv-python-headless", "av")))
    clips: list[tuple[str, Path]] = []
    if args.clip:
        clips = [(c, Path(c) if Path(c).is_file() else FOOTAGE / c) for c in args.clip]
    else:
        clips = [(p.name, p) for p in sorted(FOOTAGE.iterdir()) if p.suffix.lower() in MEDIA]
        for folder in (FACES_CROWD, FACES_DEV):
            labels = folder / "labels.json"
            for image in sorted((folder / "images").iterdir()):
                clip = make_labelled(image, labels, args.frames, args.cache).clip
                clips.append((f"kenburns {folder.name}/{image.stem}", clip))
        for name in json.loads(TEXT_LABELS.read_text()):  # signs, receipts, a dictionary page: fine print panned
            clip = make_labelled(TEXT_DEV / name, TEXT_LABELS, args.frames, args.cache).clip
            clips.append((f"kenburns text-dev/{Path(name).stem}", clip))
    print(f"cut when shape > {SHAPE_THRESHOLD:g}, or brightness > {CUT_THRESHOLD:g} where a picture is flat "
          f"(contrast < {FLAT:g})")
    print(f"{'clip':<58} {'frames':>6} {'brightness max':>15} {'shape max':>13}  cuts")
    worst = {"footage": 0.0, "kenburns": 0.0}
    for name, path in clips:
        bright, shape, cuts = scores(path)
        bi, si = int(np.argmax(bright)), int(np.argmax(shape))
        print(f"{name[:58]:<58} {len(shape) + 1:>6} {bright[bi]:>8.1f} @{bi + 1:<5} {shape[si]:>6.3f} @{si + 1:<5} "
              f"{cuts or '-'}")
        group = "kenburns" if name.startswith("kenburns") else "footage"
        worst[group] = max(worst[group], float(np.max(shape, initial=0.0)))
        if args.scores:
            for i in range(len(shape)):
                print(f"    frame {i + 1:>5}  brightness {bright[i]:6.1f}  shape {shape[i]:.3f}")
    print("largest shape score: " + ", ".join(f"{k} {v:.3f}" for k, v in worst.items() if v))
    if not args.no_pans and not args.clip:
        pans(sorted((FACES_CROWD / "images").iterdir()) + [TEXT_DEV / n for n in json.loads(TEXT_LABELS.read_text())])
    return 0


if __name__ == "__main__":
    sys.exit(main())
