"""Keep policy: which tracks stay visible (``action: "keep"``). Everything else stays redacted.

Two ways to keep a track, both only for **face** tracks:

- by id (``--keep 3,7``): :func:`apply_keep`. Unknown ids or tracks of another kind are an error and nothing is
  changed. Text, badge and whole-frame tracks cover personal data or unanalysed frames; keeping one is a
  deliberate edit of the plan file (``"action": "keep"``), which ``render`` honours and the report shows.
- by reference photo (``--keep-face me.jpg``): :func:`keep_matching_faces`. A face track is kept only when
  *every* sampled frame of it holds a face that can be embedded, the median distance of those embeddings to the
  photo's is under the threshold and none of them reaches the ceiling (see :func:`track_matches` and
  :mod:`redact.identity`). Unsure (no embedding, two faces in the box, too small, a frame too far) means redact,
  so a track that switches to another person when people cross is not kept.

Keeping never un-redacts anything else: ``render`` draws every ``redact`` box, including where it overlaps a
kept one. What was kept, and why, is recorded in ``plan.settings["keep"]`` (ids, counts and distances only;
no embeddings).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .errors import RedactError
from .types import Plan, Track

log = logging.getLogger(__name__)

KEEPABLE_KINDS = ("face", "speech")
"""What may be kept: a face left visible (the consenting patient), a stretch of speech left audible."""
MAX_SAMPLES = 16
"""Evenly spaced detected frames embedded per candidate track (plus the crossing frames below)."""
MAX_CROSSING_SAMPLES = 16
"""Detected frames where the track's box touches another face track's box (where identities can swap)."""


class KeepError(RedactError):
    """A keep request cannot be honoured (unknown track id, a kind that cannot be kept by id)."""


def parse_ids(text: str) -> list[int]:
    """``"3,7"`` -> ``[3, 7]``. Raises ValueError on anything but comma-separated positive integers."""
    ids = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise ValueError(f"not a track id: {part!r} (expected ids like 3,7)")
        ids.append(int(part))
    return sorted(set(ids))


def _record(plan: Plan, key: str, value: Any) -> None:
    keep = plan.settings.setdefault("keep", {})
    keep[key] = value
    keep["kept"] = sorted(t.id for t in plan.tracks if t.action == "keep")


def apply_keep(plan: Plan, ids: Iterable[int]) -> list[int]:
    """Mark the face (or speech) tracks ``ids`` as kept. All ids are checked first: on any error nothing changes."""
    ids = sorted(set(int(i) for i in ids))
    by_id = {t.id: t for t in plan.tracks}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        have = ", ".join(f"{t.id} ({t.kind})" for t in sorted(plan.tracks, key=lambda t: t.id)) or "none"
        raise KeepError(f"unknown track id(s) {', '.join(map(str, unknown))}; the plan's tracks are: {have}")
    wrong = [by_id[i] for i in ids if by_id[i].kind not in KEEPABLE_KINDS]
    if wrong:
        listed = ", ".join(f"{t.id} ({t.kind})" for t in wrong)
        raise KeepError(f"only face and speech tracks can be kept with --keep; refusing {listed} "
                        "(to keep one anyway, set its \"action\" to \"keep\" in the plan and use render --plan)")
    for i in ids:
        by_id[i].action = "keep"
    _record(plan, "by_id", ids)
    return ids


def kept_tracks(plan: Plan) -> list[Track]:
    return sorted((t for t in plan.tracks if t.action == "keep"), key=lambda t: t.id)


def warn_unusual_keeps(plan: Plan) -> list[int]:
    """Log a warning for kept tracks that are not faces or speech (possible only by editing the plan); their ids."""
    odd = [t.id for t in kept_tracks(plan) if t.kind not in KEEPABLE_KINDS]
    if odd:
        log.warning("the plan keeps track(s) %s unredacted that are neither faces nor speech (edited by hand)",
                    ", ".join(map(str, odd)))
    return odd


# -- keep by reference photo -------------------------------------------------------------------------------------

@dataclass
class FaceMatch:
    """The verdict on one face track (no embeddings: ids, counts and distances only)."""

    id: int
    samples: int
    matched: int
    unsure: int
    median_distance: float | None
    max_distance: float | None
    kept: bool
    duplicate_of: int | None = None  # kept as a second track on the same face as this kept track

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("median_distance", "max_distance"):
            if d[key] is not None:
                d[key] = round(d[key], 3)
        return d


def track_matches(distances: Sequence[float | None], threshold: float, ceiling: float) -> bool:
    """The keep rule for one face track's sampled distances to the reference (None: a sample that could not be
    embedded): every sample embedded, the median below ``threshold`` and every sample below ``ceiling``."""
    if not distances or any(d is None for d in distances):
        return False
    ordered = sorted(float(d) for d in distances)  # type: ignore[arg-type]
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return median < threshold and ordered[-1] < ceiling


def _evenly(items: Sequence[int], n: int) -> list[int]:
    if len(items) <= n:
        return list(items)
    step = (len(items) - 1) / (n - 1) if n > 1 else 0
    return sorted({items[round(k * step)] for k in range(n)})


def _touches(a: Sequence[float], b: Sequence[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def face_boxes_by_frame(tracks: Iterable[Track]) -> dict[int, list[tuple[int, Sequence[float]]]]:
    """``{frame: [(track id, box), ...]}`` of the face tracks among ``tracks``."""
    out: dict[int, list[tuple[int, Sequence[float]]]] = {}
    for t in tracks:
        if t.kind == "face":
            for b in t.boxes:
                out.setdefault(b.frame, []).append((t.id, b.box))
    return out


def sample_frames(track: Track, faces_by_frame: dict[int, list[tuple[int, Sequence[float]]]],
                  max_samples: int = MAX_SAMPLES, max_crossing: int = MAX_CROSSING_SAMPLES) -> list[int]:
    """Frames of ``track`` to verify: evenly spaced detected frames (first and last included) plus the detected
    frames where its box touches another face track's box (where a tracker could swap people)."""
    detected = sorted({b.frame for b in track.boxes if b.source == "detected"})
    chosen = set(_evenly(detected, max_samples))
    boxes = {b.frame: b.box for b in track.boxes}
    near = [f for f in detected
            if any(tid != track.id and _touches(boxes[f], box) for tid, box in faces_by_frame.get(f, ()))]
    chosen.update(_evenly(near, max_crossing))
    return sorted(chosen)


def keep_matching_faces(plan: Plan, path: str | Path, reference: Any, embedder: Any,
                        threshold: float | None = None, ceiling: float | None = None, *,
                        allow_truncated: bool = True) -> list[FaceMatch]:
    """Keep the face tracks of ``plan`` whose sampled faces match the ``reference`` embedding.

    Stage 1 embeds one frame per face track (its middle sample) and drops the tracks where it is not below
    ``ceiling``; stage 2 embeds all samples of the remaining candidates (see :func:`sample_frames`). A track is
    kept only by :func:`track_matches`: every sample embedded, their median below ``threshold`` (default
    :data:`redact.identity.DEFAULT_THRESHOLD`) and every one below ``ceiling`` (default
    :data:`redact.identity.CEILING`). Tracks already kept stay kept. Returns a verdict per face track.
    """
    from .identity import CEILING, DEFAULT_THRESHOLD, distance, embed_regions

    threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    ceiling = CEILING if ceiling is None else float(ceiling)
    if ceiling < threshold:
        raise ValueError(f"ceiling {ceiling} is below the threshold {threshold}")
    faces = [t for t in plan.tracks if t.kind == "face"]
    by_frame = face_boxes_by_frame(faces)
    samples = {t.id: sample_frames(t, by_frame) for t in faces}
    boxes = {t.id: {b.frame: b.box for b in t.boxes} for t in faces}
    dist: dict[int, dict[int, float | None]] = {t.id: {} for t in faces}

    def embed(frames_by_track: dict[int, list[int]]) -> None:
        wanted: dict[int, list[tuple[int, Any]]] = {}
        for tid, frames in frames_by_track.items():
            for f in frames:
                wanted.setdefault(f, []).append((tid, boxes[tid][f]))
        for (f, tid), emb in embed_regions(path, wanted, embedder, allow_truncated=allow_truncated).items():
            dist[tid][f] = None if emb is None else distance(emb, reference)

    first = {tid: [s[len(s) // 2]] for tid, s in samples.items() if s}
    embed(first)
    candidates = [tid for tid in first if len(dist[tid]) == 1 and track_matches(list(dist[tid].values()), ceiling,
                                                                                 ceiling)]
    embed({tid: [f for f in samples[tid] if f not in dist[tid]] for tid in candidates})

    # every sample decoded (a frame that never decodes is missing from dist) and the rule holds
    matched = {tid for tid in candidates if len(dist[tid]) == len(samples[tid])
               and track_matches(list(dist[tid].values()), threshold, ceiling)}
    duplicates = _same_face_duplicates(faces, matched, path, embedder, allow_truncated)
    verdicts = []
    for t in faces:
        d = dist[t.id]
        got = [v for v in d.values() if v is not None]
        kept = t.id in matched or t.id in duplicates
        if kept:
            t.action = "keep"
        verdicts.append(FaceMatch(t.id, len(d), sum(v < threshold for v in got), len(d) - len(got),
                                  float(np.median(got)) if got else None, max(got) if got else None, kept,
                                  duplicates.get(t.id)))
    _record(plan, "by_face", {"threshold": threshold, "ceiling": ceiling, "duplicate_cover": DUPLICATE_COVER,
                              "model": embedder.describe(),
                              "tracks": [v.to_dict() for v in verdicts]})
    log.info("keep-face: kept %s of %d face track(s)",
             ", ".join(str(v.id) for v in verdicts if v.kept) or "none", len(faces))
    return verdicts


DUPLICATE_COVER = 0.9
"""A face track is a second track on a kept person's face when each of its detected boxes lies at least this
share inside the kept track's box in the same frame (and re-detection resolves both to one face)."""


def _same_face_duplicates(faces: Sequence[Track], kept: set[int], path: str | Path, embedder: Any,
                          allow_truncated: bool) -> dict[int, int]:
    """``{track id: kept track id}`` for the face tracks that are a second track on a kept face.

    A detector can put a second, weaker box on part of a face (the chin, a turned half) that the tracker follows
    as its own track; left redacted it would blur part of the face the user kept. Such a track is kept with its
    host only if EVERY one of its detected boxes lies :data:`DUPLICATE_COVER` inside the host's box in the same
    frame, and at every sampled one of those frames the face re-detected in its region (the one face centred
    there, as for embedding) is the face re-detected in the host's region (IoU >= 0.5). Another person's face
    near the kept one fails one of the two (it sticks out of the box, or re-detects as itself or as two faces).
    """
    from .detect.base import cover_matrix, iou_matrix
    from .identity import locate_regions

    if not kept:
        return {}
    hosts = {t.id: {b.frame: b.box for b in t.boxes} for t in faces if t.id in kept}
    pending: dict[int, tuple[int, list[int]]] = {}
    for t in faces:
        if t.id in kept:
            continue
        detected = [b for b in t.boxes if b.source == "detected"]
        if not detected:
            continue
        for hid, host in hosts.items():
            if all(b.frame in host and float(cover_matrix(np.asarray(b.box, np.float32).reshape(1, 4),
                                                          np.asarray(host[b.frame], np.float32).reshape(1, 4))[0, 0])
                   >= DUPLICATE_COVER for b in detected):
                pending[t.id] = (hid, _evenly([b.frame for b in detected], MAX_SAMPLES))
                break
    if not pending:
        return {}
    own = {t.id: {b.frame: b.box for b in t.boxes} for t in faces if t.id in pending}
    wanted: dict[int, list[tuple[Any, Any]]] = {}
    for tid, (hid, frames) in pending.items():
        for f in frames:
            wanted.setdefault(f, []).extend([((tid, "own"), own[tid][f]), ((tid, "host"), hosts[hid][f])])
    found = locate_regions(path, wanted, embedder, allow_truncated=allow_truncated)
    out = {}
    for tid, (hid, frames) in pending.items():
        same = True
        for f in frames:
            a, b = found.get((f, (tid, "own"))), found.get((f, (tid, "host")))
            if a is None or b is None or float(iou_matrix(np.asarray(a, np.float32).reshape(1, 4),
                                                          np.asarray(b, np.float32).reshape(1, 4))[0, 0]) < 0.5:
                same = False
                break
        if same:
            out[tid] = hid
            log.info("keep-face: track %d is a second track on kept face %d; kept with it", tid, hid)
    return out
