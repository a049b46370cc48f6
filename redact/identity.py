"""Face identity for ``--keep-face``: 128-d face embeddings from dlib's ResNet model.

Optional (``pip install .[keep-face]``): the code is ``dlib-bin`` (a prebuilt dlib wheel, no compiler needed)
and the weights are the ``.dat`` files that ship inside the ``face-recognition-models`` package, located with
:mod:`importlib.resources` and checked against :data:`MODEL_SHA256` before loading. Nothing is downloaded.

How a face is embedded (the same path for the reference photo, every sampled track box and the benchmark):

1. CenterFace (the scan's face detector) runs on a crop around the given region and must find exactly one
   face centred inside it (none, or two: no embedding; the caller treats that as "unsure");
2. its tight box is mapped to the square, dlib-style rectangle the landmark model was trained on
   (:data:`TO_DLIB`, measured on labelled photos);
3. dlib's 5-point landmark model aligns the face into a 150x150 chip and the ResNet model embeds it.

Two embeddings of one person are close (Euclidean distance); see :data:`DEFAULT_THRESHOLD`.
Embeddings are biometric data: they are kept in memory only and never written to the plan, report or logs.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import logging
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .errors import RedactError
from .models import checked_file, package_version

log = logging.getLogger(__name__)

PACKAGE = "face_recognition_models"
DIST = "face-recognition-models"
RESNET = "dlib_face_recognition_resnet_model_v1.dat"
LANDMARKS = "shape_predictor_5_face_landmarks.dat"
MODEL_SHA256 = {
    RESNET: "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    LANDMARKS: "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
}
INSTALL_HINT = "install the optional extra: pip install '.[keep-face]' (dlib-bin + face-recognition-models)"

DEFAULT_THRESHOLD = 0.45
"""Two faces match when their embeddings are closer than this. dlib's own operating point is 0.6 (99.38 % on
LFW); this is stricter. Measured with benchmarks/keep_face.py on faces-dev (real group photos, all different
people): the closest pair of different people was 0.563 across photos and 0.496 within one photo (0.543 and
0.462 when faces down to 20 px are embedded); 0.6 would have let 4 of 391 cross-photo pairs match."""

CEILING = 0.52
"""No sampled face of a kept track may be this far (or farther) from the reference, whatever the track's median.
The keep rule (redact.policy.track_matches) is: every sample embedded, the MEDIAN sample closer than
:data:`DEFAULT_THRESHOLD`, and EVERY sample closer than this ceiling. A single turned or blurred frame of the right
person may sit a little over the threshold (the head-pose clips: 0.48-0.50), while a stranger's faces sit at
0.44-0.6+ with medians >= 0.49 (benchmarks/keep_face.py --strangers, 2,280 reference x track pairs); a track
that swaps to another person shows samples far past the ceiling."""

JITTERS = ((0, 0, 0.0, 1.0), (4, 0, 0.0, 1.0), (-4, 0, 0.0, 1.0), (0, 4, 0.0, 1.0), (0, -4, 0.0, 1.0),
           (0, 0, 6.0, 1.0), (0, 0, -6.0, 1.0), (0, 0, 0.0, 0.93), (0, 0, 0.0, 1.07))
"""The reference photo is embedded as the mean over these fixed small shifts (px), turns (degrees) and scales of
its aligned 150x150 face, each also mirrored (18 copies): one photo is all there is of the person, and the mean
is less tied to that photo's crop and pose. Fixed rather than dlib's random ``num_jitters``, whose result
depends on how many faces were jittered before in the process (two calls on one photo came out 0.06 apart)."""

MIN_FACE_SIDE = 32
"""Faces narrower than this many pixels are not embedded (too few pixels to tell people apart)."""

TO_DLIB = (1.11, 0.03, 0.06)
"""A CenterFace box (w, h, centre cx, cy) maps to a dlib-style square rectangle of side ``1.11 * w`` centred at
``(cx - 0.03 * side, cy + 0.06 * side)``: medians over the 43 labelled faces of faces-dev (CenterFace boxes are
~0.90x the width and ~1.19x the height of dlib's, centred a little higher)."""

CROP_MARGIN = 0.5
"""Re-detection looks at the region grown by this fraction of its size on each side."""



class IdentityUnavailable(RedactError):
    """The optional face-identity model (dlib + face-recognition-models) is not installed."""


def model_path(name: str) -> Path:
    """Path of a weight file inside the installed ``face_recognition_models`` package, hash checked."""
    try:
        path = Path(str(importlib.resources.files(PACKAGE) / "models" / name))
    except ModuleNotFoundError:
        raise IdentityUnavailable(f"face identity model not found (ModuleNotFoundError); {INSTALL_HINT}") from None
    return checked_file(path, MODEL_SHA256[name], f"face identity model {PACKAGE}/models/{name}",
                        missing=IdentityUnavailable, hint=INSTALL_HINT)


def available() -> bool:
    """Whether the optional extra is installed (dlib importable, model package present)."""
    try:
        import dlib  # noqa: F401

        importlib.resources.files(PACKAGE)
    except ImportError:
        return False
    return True


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two embeddings."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def dlib_rect(box: Sequence[float]) -> tuple[int, int, int, int]:
    """The dlib-style square rectangle for a tight CenterFace box (see :data:`TO_DLIB`)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    scale, dx, dy = TO_DLIB
    side = scale * (x2 - x1)
    cx = (x1 + x2) / 2 - dx * side
    cy = (y1 + y2) / 2 + dy * side
    h = side / 2
    return int(round(cx - h)), int(round(cy - h)), int(round(cx + h)), int(round(cy + h))


def _centre_inside(box: Sequence[float], region: Sequence[float]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


class FaceEmbedder:
    """Embeds the face inside a region of an RGB image. Create once (loads ~30 MB of weights).

    ``detector``: a face detector with ``detect(image) -> Detections`` (default: CenterFace at native size).
    """

    def __init__(self, detector: Any | None = None, provider: str = "cpu", min_side: float = MIN_FACE_SIDE):
        try:
            import dlib
        except ImportError:
            raise IdentityUnavailable(f"--keep-face needs dlib; {INSTALL_HINT}") from None
        self._dlib = dlib
        self.min_side = float(min_side)
        self._landmarks = dlib.shape_predictor(str(model_path(LANDMARKS)))
        self._resnet = dlib.face_recognition_model_v1(str(model_path(RESNET)))
        if detector is None:
            from .detect.faces import CenterFaceDetector

            detector = CenterFaceDetector(max_side=None, provider=provider, threads=None)
        self._detector = detector

    def locate(self, image: np.ndarray, region: Sequence[float] | None = None) -> tuple[float, ...] | None:
        """The tight box of the one face in ``region`` of ``image`` (whole image if None), or None when there is
        no face of at least ``min_side`` px or it is ambiguous (two face centres inside the region)."""
        h, w = image.shape[:2]
        if region is None:
            x1, y1, x2, y2 = 0, 0, w, h
            target = (0.0, 0.0, float(w), float(h))
        else:
            t1, t2, t3, t4 = (float(v) for v in region)
            target = (t1, t2, t3, t4)
            mw, mh = CROP_MARGIN * (target[2] - target[0]), CROP_MARGIN * (target[3] - target[1])
            x1, y1 = max(0, int(target[0] - mw)), max(0, int(target[1] - mh))
            x2, y2 = min(w, int(np.ceil(target[2] + mw))), min(h, int(np.ceil(target[3] + mh)))
        if x2 - x1 < self.min_side or y2 - y1 < self.min_side:
            return None
        dets = self._detector.detect(np.ascontiguousarray(image[y1:y2, x1:x2]))
        boxes = [tuple(float(v) for v in (b[0] + x1, b[1] + y1, b[2] + x1, b[3] + y1)) for b in dets.xyxy]
        if region is None:
            if len(boxes) != 1:
                return None
            best = boxes[0]
        else:
            inside = [b for b in boxes if _centre_inside(b, target)]
            if len(inside) != 1:  # no face, or two faces where one is expected: unsure
                return None
            best = inside[0]
        if min(best[2] - best[0], best[3] - best[1]) < self.min_side:
            return None
        return best

    def embed_box(self, image: np.ndarray, face_box: Sequence[float], jitter: bool = False) -> np.ndarray:
        """The embedding of the face whose tight (CenterFace) box is ``face_box``; with ``jitter``, the mean over
        the :data:`JITTERS` copies of the aligned face (for the reference photo)."""
        dlib = self._dlib
        img = np.ascontiguousarray(image, dtype=np.uint8)
        shape = self._landmarks(img, dlib.rectangle(*dlib_rect(face_box)))
        chip = dlib.get_face_chip(img, shape, size=150, padding=0.25)
        if not jitter:
            return np.asarray(self._resnet.compute_face_descriptor(chip), np.float32)
        embs = [np.asarray(self._resnet.compute_face_descriptor(c), np.float32) for c in jittered(chip)]
        return np.mean(embs, axis=0).astype(np.float32)

    def embed(self, image: np.ndarray, region: Sequence[float] | None = None,
              jitter: bool = False) -> np.ndarray | None:
        """The embedding of the one face in ``region`` (None: the whole image), or None when unsure."""
        box = self.locate(image, region)
        return None if box is None else self.embed_box(image, box, jitter)

    def describe(self) -> dict[str, Any]:
        return {"name": "dlib_resnet_v1", "package": DIST, "package_version": package_version(DIST),
                "runtime": "dlib-bin", "runtime_version": package_version("dlib-bin"), "weights": RESNET,
                "sha256": MODEL_SHA256[RESNET]}


def jittered(chip: np.ndarray) -> list[np.ndarray]:
    """The :data:`JITTERS` copies of an aligned face chip, then the same mirrored (deterministic)."""
    import cv2

    h, w = chip.shape[:2]
    out = []
    for base in (chip, np.ascontiguousarray(chip[:, ::-1])):
        for dx, dy, angle, scale in JITTERS:
            m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
            m[:, 2] += (dx, dy)
            out.append(cv2.warpAffine(base, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return out




def embed_reference(embedder: FaceEmbedder, photo: str | Path) -> np.ndarray:
    """The embedding of the one face in the reference photo; a clear error unless there is exactly one."""
    from .io import read_image

    photo = Path(photo)
    if not photo.is_file():
        raise RedactError(f"reference photo not found: {photo}")
    image = read_image(photo)
    dets = embedder._detector.detect(np.ascontiguousarray(image))
    n = len(dets)
    if n != 1:
        raise RedactError(f"the reference photo must show exactly one face; found {n} in {photo.name} "
                          "(crop it to your face)")
    emb = embedder.embed(image, jitter=True)
    if emb is None:
        raise RedactError(f"the face in {photo.name} is too small to recognise (at least {MIN_FACE_SIDE} px wide)")
    return emb


def embed_regions(path: str | Path, wanted: Mapping[int, Iterable[tuple[Any, Sequence[float]]]],
                  embedder: FaceEmbedder, *, allow_truncated: bool = True) -> dict[tuple[int, Any], np.ndarray | None]:
    """Embed the faces at ``wanted`` = ``{frame: [(key, region), ...]}`` of the video/photo at ``path``.

    Frames are decoded in order by the scan's own decoder (so indices agree with the plan) and decoding stops
    after the last wanted frame; only the wanted frames are looked at. Returns ``{(frame, key): embedding or
    None}``; a wanted frame that never decodes is missing from the result.
    """
    return _each_region(path, wanted, embedder.embed, allow_truncated)


def locate_regions(path: str | Path, wanted: Mapping[int, Iterable[tuple[Any, Sequence[float]]]],
                   embedder: FaceEmbedder, *, allow_truncated: bool = True) -> dict[tuple[int, Any], Any]:
    """Like :func:`embed_regions`, but each value is :meth:`FaceEmbedder.locate`'s tight face box (or None)."""
    return _each_region(path, wanted, embedder.locate, allow_truncated)


def _each_region(path: str | Path, wanted: Mapping[int, Iterable[tuple[Any, Sequence[float]]]],
                 fn: Any, allow_truncated: bool) -> dict[tuple[int, Any], Any]:
    from .io import FrameSource

    todo = {int(f): list(v) for f, v in wanted.items()}
    out: dict[tuple[int, Any], Any] = {}
    if not todo:
        return out
    last = max(todo)
    with FrameSource(path, allow_truncated=allow_truncated) as src:
        for frame in src:
            for key, region in todo.get(frame.index, ()):
                out[(frame.index, key)] = fn(frame.image, region)
            if frame.index >= last:
                break
    return out
