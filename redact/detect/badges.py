"""ID badges: the card on a lanyard or clip on a person's chest, found by shape, not by reading it.

:class:`BadgeDetector` is a context detector (:class:`~redact.detect.base.ContextDetector`): it needs the
faces (and, when OCR ran on the frame, the text boxes) already found in the same frame, and looks for badges
where badges are worn.

* **Below every face** (the torso: from the chin down ``torso_below`` face heights, ``torso_width`` face widths
  either side of the face's centre) it looks for card-shaped regions: closed contours of colour edges or of the
  bright regions whose minimum-area rectangle is filled (``>= MIN_FILL``), of card aspect (``min_aspect`` to
  ``max_aspect``, either way up, so rotated and foreshortened cards pass) and of a size plausible for a badge
  (long side ``min_width`` to ``max_width`` face widths). A card grows to a line parallel to one of its sides
  close by (a header band too close in colour to the tunic to come out with the card). A card counts as a
  badge when it shows evidence: a text box or a smaller face (the ID photo) inside it, print (edges of marks
  lying wholly inside the card: text too small to read, a logo; lines crossing it, such as lanyard straps or
  stripes, do not count), or a bright card with an NHS-blue band (thicker than a strap).
* **Without a card**, text boxes and small faces (an ID photo) in a torso are badges on their own: a
  card-sized box is returned around them (the card's outline may be lost to blur or a low-contrast tunic).
* **A face that is not below any other face** (the wearer's head out of shot, e.g. a camera at chest height)
  is checked as an ID photo: a card-shaped region around it, with the face as its photo and dense edges
  beside the face (print), is a badge. Text alone, away from any face, is *not* searched for a card: a
  sheet of paper, a notice or a monitor look the same by shape and text, and their text is the text
  detector's job.
* **No faces in the context**: nothing, even with text in it (there is nowhere a badge is expected, and text
  alone is the text detector's); see :meth:`BadgeDetector.detect`.

Boxes are padded by ``pad`` of their size on every side (fail closed) and clipped to the image. Every box has
category ``"badge"``. No text is read here; the text boxes of the context are used only as boxes.

The cost is two small searches per face (its torso; around it, as a photo), each one colour Canny pass plus
contours on a crop scaled so the face is at most ``work_face`` (or ``work_face / PHOTO_WORK``) pixels wide:
about a full-frame colour Canny of a 720p frame for three people.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

import cv2
import numpy as np

from redact.detect.base import cover_matrix, iou_matrix, merge_enclosing
from redact.detect.faces import check_image
from redact.types import Detections

log = logging.getLogger(__name__)

NHS_BLUE = (0, 94, 184)
"""NHS blue (Pantone 300, #005EB8) in RGB."""
BLUE_DISTANCE = 48.0
"""RGB distance from :data:`NHS_BLUE` within which a pixel counts as NHS blue."""
BRIGHT = 185
"""Grey level from which a pixel counts as card white."""
MIN_FILL = 0.72
"""A contour's area over its minimum-area rectangle's area: below this it is not a card."""
MIN_CARD_PX = 8.0
"""A card's short side in working pixels: below this the shape cannot be told."""
PHOTO_MAX = 0.45
"""A face in a torso is taken for an ID photo when at most this many times the wearer's face width (an ID photo is
about a quarter of a face's width; a face 0.45-0.75 as wide is a person further back in a crowd)."""
WEARER_SCORE = 0.5
"""Only a face found with at least this score has its torso searched: a badge's wearer faces the camera well enough
(on the shared street clip a 0.38 'face' on a crest above the crowd made every real face below it an 'ID photo')."""
LOOSE_TEXT = (0.45, 2.0)
"""Text in a torso is a badge without a card outline when its line is at most 0.45 face heights tall and 2 face
widths long (a badge's print is small; larger lettering on a chest is a T-shirt or a sign, the text detector's)."""
MERGE_IOU = 0.3
"""Badge boxes overlapping at least this much become their enclosing box (looser overlaps stay separate
boxes: both are redacted, and one box spanning both would cover much that is not badge)."""
BAND = 0.45
"""A card grows to a line parallel to one of its sides at most this fraction of its shorter side away."""
PRINT_SHRINK = 0.88
"""Print is looked for in the card shrunk to this about its centre (clear of its outline)."""
PHOTO_WORK = 2.0
"""A face searched as an ID photo is scaled to ``work_face / PHOTO_WORK`` pixels wide (its card is larger)."""
PHOTO_CARD = (1.4, 6.0)
"""Long side of a card around an ID photo, in widths of the photo's face box."""
CANNY = (40, 120)

DEFAULT_TORSO_WIDTH = 2.5
DEFAULT_TORSO_BELOW = 4.0
DEFAULT_MIN_ASPECT = 1.1
DEFAULT_MAX_ASPECT = 3.2
DEFAULT_MIN_WIDTH = 0.25
DEFAULT_MAX_WIDTH = 3.6
DEFAULT_MIN_EDGE_DENSITY = 0.05
DEFAULT_PAD = 0.05
"""A badge box grows by this share of its size on every side. The card's outline is found by its contour (or grown
to its header band), so a small margin suffices; 0.15 made the shipped sample's badge box twice the card, blurring
the bed and tunic either side of it (tests/test_badges.py)."""
DEFAULT_WORK_FACE = 64


def _boxes(context: Mapping[str, Detections] | None, kind: str) -> np.ndarray:
    dets = (context or {}).get(kind)
    if dets is None or len(dets) == 0:
        return np.zeros((0, 4), np.float32)
    return np.asarray(dets.xyxy, np.float32).reshape(-1, 4)


def _scores(context: Mapping[str, Detections] | None, kind: str, n: int) -> np.ndarray:
    dets = (context or {}).get(kind)
    return np.ones(n, np.float32) if dets is None or len(dets) != n else np.asarray(dets.score, np.float32)


def _centres(xyxy: np.ndarray) -> np.ndarray:
    return np.stack([(xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2], axis=1)


def _inside(points: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Which of ``points`` ``(N, 2)`` lie in ``box`` ``[x1, y1, x2, y2]``."""
    return ((points[:, 0] >= box[0]) & (points[:, 0] <= box[2]) & (points[:, 1] >= box[1])
            & (points[:, 1] <= box[3]))


def _inner_mask(corners: np.ndarray, shrink: float,
                shape: tuple[int, ...]) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """The quadrilateral ``corners`` shrunk by ``shrink`` about its centre, as (window, boolean mask in the
    window); None when it covers fewer than 16 pixels."""
    c = corners.mean(axis=0)
    q = c + shrink * (corners - c)
    x1, y1 = max(0, int(q[:, 0].min())), max(0, int(q[:, 1].min()))
    x2, y2 = min(shape[1], int(np.ceil(q[:, 0].max())) + 1), min(shape[0], int(np.ceil(q[:, 1].max())) + 1)
    if x2 <= x1 or y2 <= y1:
        return None
    mask = np.zeros((y2 - y1, x2 - x1), np.uint8)
    cv2.fillConvexPoly(mask, np.round(q - (x1, y1)).astype(np.int32), 1)
    m = mask.astype(bool)
    return ((slice(y1, y2), slice(x1, x2)), m) if m.sum() >= 16 else None


def _print_density(edges: np.ndarray, corners: np.ndarray, hole: np.ndarray | None = None) -> float:
    """Print on a card: the edge pixels of marks lying wholly inside the card's inner part (``PRINT_SHRINK``
    of it, less ``hole``, a box) per pixel of that part. Lines that cross it (a lanyard, stripes, the
    card's own outline) touch its rim and do not count."""
    inner = _inner_mask(corners, PRINT_SHRINK, edges.shape)
    if inner is None:
        return 0.0
    (sy, sx), m = inner
    if hole is not None:
        m = m.copy()
        hx1, hy1 = max(0, int(hole[0]) - sx.start), max(0, int(hole[1]) - sy.start)
        m[hy1:max(0, int(np.ceil(hole[3])) - sy.start), hx1:max(0, int(np.ceil(hole[2])) - sx.start)] = False
    area = int(m.sum())
    if area < 16:
        return 0.0
    e = (edges[sy, sx] > 0) & m
    if not e.any():
        return 0.0
    n, labels = cv2.connectedComponents(e.view(np.uint8), connectivity=8)
    core = cv2.erode(m.view(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    crossing = np.zeros(n, bool)
    crossing[labels[e & (core == 0)]] = True
    return float((e & ~crossing[labels]).sum() / area)


def _grow_to_bands(corners: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """``corners`` moved out, side by side, to the farthest line parallel to that side within ``BAND`` of the
    card's shorter dimension: a header or footer band whose colour is too close to the clothing's for the
    band and the card to come out as one region (the band's far edge is still a line in ``closed``)."""
    out = corners.astype(np.float32).copy()
    centre = corners.mean(axis=0)
    h, w = closed.shape
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        side = b - a
        length = float(np.hypot(*side))
        other = float(np.hypot(*(corners[(i + 2) % 4] - b)))
        reach = int(BAND * min(length, other))
        if length < 8 or reach < 3:
            continue
        normal = np.array([side[1], -side[0]], np.float32) / length
        if np.dot(normal, (a + b) / 2 - centre) < 0:
            normal = -normal
        t = np.linspace(0.1, 0.9, max(8, int(0.8 * length)), dtype=np.float32)[None, :, None]
        d = np.arange(3, reach + 1, dtype=np.float32)[:, None, None]
        pts = np.round(a + t * side + d * normal).astype(np.int32)  # (offsets, samples, 2)
        ok = (pts[..., 0] >= 0) & (pts[..., 0] < w) & (pts[..., 1] >= 0) & (pts[..., 1] < h)
        hit = np.where(ok, closed[np.clip(pts[..., 1], 0, h - 1), np.clip(pts[..., 0], 0, w - 1)] > 0, False)
        lines = np.nonzero(hit.mean(axis=1) >= 0.8)[0]
        if len(lines):
            shift = float(d[lines[-1], 0, 0]) * normal
            out[i] += shift
            out[(i + 1) % 4] += shift
    return out


def _distinct(shapes: list[np.ndarray], iou: float = 0.9) -> list[np.ndarray]:
    """``shapes`` (4x2 corners) less those whose bounding box nearly repeats an earlier one's (the outer and
    inner contour of one outline)."""
    if len(shapes) < 2:
        return shapes
    boxes = np.array([[c[:, 0].min(), c[:, 1].min(), c[:, 0].max(), c[:, 1].max()] for c in shapes])
    same = iou_matrix(boxes, boxes) >= iou
    return [c for i, c in enumerate(shapes) if not same[i, :i].any()]


def _without_contained(dets: Detections, cover: float = 0.9) -> Detections:
    """``dets`` less the boxes lying (``cover`` of their area) inside a larger one: redacting the larger covers them."""
    a = dets.xyxy
    area = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    inside = (cover_matrix(a, a) >= cover) & (area[:, None] < area[None, :])
    keep = ~inside.any(axis=1)
    return dets if keep.all() else dets.filter(keep)


def _empty() -> Detections:
    return Detections(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), "badge", np.zeros((0,), object))


class _Card:
    """A card-shaped region: its axis-aligned box (image pixels) and its evidence."""

    __slots__ = ("box", "text", "photo", "print", "band")

    def __init__(self, box: np.ndarray):
        self.box = box
        self.text = self.photo = self.print = self.band = False

    def score(self) -> float:
        return min(0.95, 0.4 + 0.2 * self.text + 0.15 * self.photo + 0.15 * self.print + 0.1 * self.band)

    def evident(self) -> bool:
        return self.text or self.photo or self.print or self.band


class BadgeDetector:
    """ID badges near faces, by card shape plus evidence inside (text, a photo, print, an NHS-blue band).

    ``torso_width``: the search region reaches this many face widths either side of a face's centre.
    ``torso_below``: and this many face heights below its chin. ``min_aspect``/``max_aspect``: a card's long
    side over its short side. ``min_width``/``max_width``: a card's long side in face widths.
    ``min_edge_density``: the fraction of edge pixels inside a card that counts as print. ``pad``: every box
    grows by this fraction of its width and height on each side. ``work_face``: torsos are scaled down so the
    face is at most this many pixels wide before edges are found (cost). ``photo_cards``: look for a card around
    faces that are not below another face (a badge whose wearer's head is out of shot).
    """

    kind = "badge"
    name = "badge-card"
    uses_context = True

    def __init__(
        self,
        torso_width: float = DEFAULT_TORSO_WIDTH,
        torso_below: float = DEFAULT_TORSO_BELOW,
        min_aspect: float = DEFAULT_MIN_ASPECT,
        max_aspect: float = DEFAULT_MAX_ASPECT,
        min_width: float = DEFAULT_MIN_WIDTH,
        max_width: float = DEFAULT_MAX_WIDTH,
        min_edge_density: float = DEFAULT_MIN_EDGE_DENSITY,
        pad: float = DEFAULT_PAD,
        work_face: int = DEFAULT_WORK_FACE,
        photo_cards: bool = True,
    ):
        if not (torso_width > 0 and torso_below > 0):
            raise ValueError("torso_width and torso_below must be > 0")
        if not 1.0 <= min_aspect <= max_aspect:
            raise ValueError(f"need 1 <= min_aspect <= max_aspect, got {min_aspect}, {max_aspect}")
        if not 0 < min_width <= max_width:
            raise ValueError(f"need 0 < min_width <= max_width, got {min_width}, {max_width}")
        if not 0 <= min_edge_density <= 1 or pad < 0 or work_face < 16:
            raise ValueError("need 0 <= min_edge_density <= 1, pad >= 0 and work_face >= 16")
        self.torso_width = float(torso_width)
        self.torso_below = float(torso_below)
        self.min_aspect = float(min_aspect)
        self.max_aspect = float(max_aspect)
        self.min_width = float(min_width)
        self.max_width = float(max_width)
        self.min_edge_density = float(min_edge_density)
        self.pad = float(pad)
        self.work_face = int(work_face)
        self.photo_cards = bool(photo_cards)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name, "package": "redact", "kind": self.kind,
            "torso_width": self.torso_width, "torso_below": self.torso_below,
            "min_aspect": self.min_aspect, "max_aspect": self.max_aspect,
            "min_width": self.min_width, "max_width": self.max_width,
            "min_edge_density": self.min_edge_density, "pad": self.pad, "work_face": self.work_face,
            "photo_cards": self.photo_cards,
        }

    # -- detection -------------------------------------------------------------------------------------
    def detect(self, image: np.ndarray, context: Mapping[str, Detections] | None = None) -> Detections:
        """Badges in ``image`` (``HxWx3`` uint8 RGB), searched around ``context["face"]`` and
        ``context["text"]`` of the same frame. Without faces in the context the result is empty, text or not:
        badges are looked for where a person (a face, or an ID photo's face) was found."""
        check_image(image)
        faces = _boxes(context, "face")
        texts = _boxes(context, "text")
        if not len(faces):
            if len(texts):
                log.debug("badges: %d text boxes but no faces in context; text alone is left to the text detector",
                          len(texts))
            return _empty()
        h, w = image.shape[:2]
        fw = faces[:, 2] - faces[:, 0]
        fh = faces[:, 3] - faces[:, 1]
        face_c = _centres(faces)
        text_c = _centres(texts)
        torsos = [self._torso(f, w, h) for f in faces]
        boxes: list[np.ndarray] = []
        scores: list[float] = []
        wearer = _scores(context, "face", len(faces)) >= WEARER_SCORE
        for i in range(len(faces)):
            if fw[i] < 4 or fh[i] < 4 or not wearer[i]:
                continue
            torso = torsos[i]
            if torso[2] - torso[0] < 4 or torso[3] - torso[1] < 4:
                continue
            photos = (fw < PHOTO_MAX * fw[i]) & _inside(face_c, torso)
            photos[i] = False
            found = self._cards_in(image, torso, float(fw[i]), texts, text_c, faces[photos])
            found = [c for c in found if c.evident()]
            boxes += [c.box for c in found]
            scores += [c.score() for c in found]
            # badge-sized text in the torso is a badge even where no card outline was found (an ID photo alone is
            # not: it is blurred as a face already, and a person further back looks the same)
            small = (texts[:, 3] - texts[:, 1] <= LOOSE_TEXT[0] * fh[i]) & (texts[:, 2] - texts[:, 0] <= LOOSE_TEXT[1] * fw[i])
            loose = texts[_inside(text_c, torso) & small]
            for b in loose:
                if not any(_inside(_centres(b[None]), c.box)[0] for c in found):
                    boxes.append(self._card_around(b, float(fw[i])))
                    scores.append(0.5)
        if self.photo_cards:
            for i, face in enumerate(faces):
                under = [j for j, t in enumerate(torsos) if j != i and _inside(face_c[i:i + 1], t)[0]]
                if under or fw[i] < 6:
                    continue
                for c in self._photo_cards(image, face, texts, text_c):
                    boxes.append(c.box)
                    scores.append(c.score())
        if not boxes:
            return _empty()
        dets = Detections(np.asarray(boxes, np.float32), np.asarray(scores, np.float32), "badge")
        dets = merge_enclosing(_without_contained(dets), MERGE_IOU)
        xyxy = dets.xyxy.copy()
        bw = xyxy[:, 2] - xyxy[:, 0]
        bh = xyxy[:, 3] - xyxy[:, 1]
        grow = np.stack([-bw, -bh, bw, bh], axis=1) * self.pad + np.array([-2, -2, 2, 2], np.float32)
        out = Detections(xyxy + grow, dets.score, "badge").clip(w, h)
        return Detections(out.xyxy, out.score, "badge", np.array(["badge"] * len(out), dtype=object))

    def _torso(self, face: np.ndarray, w: int, h: int) -> np.ndarray:
        fw, fh = face[2] - face[0], face[3] - face[1]
        cx = (face[0] + face[2]) / 2
        return np.array([max(0.0, cx - self.torso_width * fw), max(0.0, face[3] - 0.1 * fh),
                         min(float(w), cx + self.torso_width * fw), min(float(h), face[3] + self.torso_below * fh)],
                        np.float32)

    def _card_around(self, box: np.ndarray, face_w: float) -> np.ndarray:
        """A card-sized box around a text box or an ID photo: at least 0.9 x 0.6 face widths, and the
        thing itself with a margin of a third of its height (the lines above and below it on the card)."""
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        bh = box[3] - box[1]
        half_w = max(0.45 * face_w, (box[2] - box[0]) / 2 + bh)
        half_h = max(0.3 * face_w, bh / 2 + bh)
        return np.array([cx - half_w, cy - half_h, cx + half_w, cy + half_h], np.float32)

    # -- cards -----------------------------------------------------------------------------------------
    def _region(self, image: np.ndarray, region: np.ndarray, face_w: float) -> tuple[np.ndarray, float, int, int]:
        x1, y1 = int(region[0]), int(region[1])
        x2, y2 = int(np.ceil(region[2])), int(np.ceil(region[3]))
        crop = image[y1:y2, x1:x2]
        step = int(np.ceil(face_w / self.work_face))  # an integer factor: INTER_AREA is fast for those
        if step > 1 and min(crop.shape[:2]) >= step:
            crop = cv2.resize(crop, None, fx=1 / step, fy=1 / step, interpolation=cv2.INTER_AREA)
        return crop, crop.shape[1] / max(x2 - x1, 1), x1, y1

    def _shapes(self, crop: np.ndarray, lo: float, hi: float) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Card-shaped regions of ``crop`` whose long side is ``lo`` to ``hi`` pixels, as 4x2 corner arrays;
        also the crop's edge map and grey image."""
        smooth = cv2.GaussianBlur(crop, (3, 3), 0)
        grey = cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY)
        edges = cv2.Canny(smooth, *CANNY)  # on colour: the strongest gradient of the three channels
        closed = cv2.dilate(edges, np.ones((3, 3), np.uint8))
        contours = list(cv2.findContours(closed, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)[0])
        _, bright = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        contours += list(cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0])
        ch, cw = crop.shape[:2]
        shapes = []
        for cnt in contours:
            if len(cnt) < 4:
                continue
            area = cv2.contourArea(cnt)
            if area < MIN_CARD_PX * MIN_CARD_PX * MIN_FILL:
                continue
            rect = cv2.minAreaRect(cnt)
            if not self._card_like(rect[1], lo, hi) or area < MIN_FILL * rect[1][0] * rect[1][1]:
                continue
            x, y, bw, bh = cv2.boundingRect(cnt)
            if x <= 0 or y <= 0 or x + bw >= cw or y + bh >= ch:  # cut by the search region: not a whole card
                continue
            shapes.append(cv2.boxPoints(rect))
        return [_grow_to_bands(c, closed) for c in _distinct(shapes)], edges, grey

    def _card_like(self, size: tuple[float, float], lo: float, hi: float) -> bool:
        long, short = max(size), min(size)
        return short >= MIN_CARD_PX and lo <= long <= hi and self.min_aspect <= long / short <= self.max_aspect

    def _judge(self, corners: np.ndarray, crop: np.ndarray, edges: np.ndarray, grey: np.ndarray, scale: float,
               x0: int, y0: int, texts: np.ndarray, text_c: np.ndarray, photos: np.ndarray) -> _Card:
        box = np.array([corners[:, 0].min() / scale + x0, corners[:, 1].min() / scale + y0,
                        corners[:, 0].max() / scale + x0, corners[:, 1].max() / scale + y0], np.float32)
        card = _Card(box)
        if len(texts):
            card.text = bool(np.any(_inside(text_c, box)))
        if len(photos):
            card.photo = bool(np.any(_inside(_centres(photos), box)))
        card.print = _print_density(edges, corners) >= self.min_edge_density
        inner = _inner_mask(corners, 0.8, edges.shape)
        if inner is not None:
            sl, m = inner
            diff = crop[sl].astype(np.int32) - np.asarray(NHS_BLUE, np.int32)
            blue = (((diff * diff).sum(axis=2) < BLUE_DISTANCE ** 2) & m).view(np.uint8)
            blue = cv2.morphologyEx(blue, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))  # a band, not a lanyard
            card.band = bool(blue[m].mean() >= 0.08 and (grey[sl][m] >= BRIGHT).mean() >= 0.3)
        return card

    def _cards_in(self, image: np.ndarray, torso: np.ndarray, face_w: float, texts: np.ndarray,
                  text_c: np.ndarray, photos: np.ndarray) -> list[_Card]:
        crop, scale, x0, y0 = self._region(image, torso, face_w)
        if min(crop.shape[:2]) < MIN_CARD_PX + 2:
            return []
        fw = face_w * scale
        shapes, edges, grey = self._shapes(crop, self.min_width * fw, self.max_width * fw)
        return [self._judge(c, crop, edges, grey, scale, x0, y0, texts, text_c, photos) for c in shapes]

    def _photo_cards(self, image: np.ndarray, face: np.ndarray, texts: np.ndarray, text_c: np.ndarray) -> list[_Card]:
        """Cards with ``face`` as their ID photo and print beside it (the wearer's head out of shot)."""
        h, w = image.shape[:2]
        fw, fh = face[2] - face[0], face[3] - face[1]
        reach = PHOTO_CARD[1] - 1  # the photo may be at either end of the longest card
        region = np.array([max(0.0, face[0] - reach * fw), max(0.0, face[1] - 1.5 * fh),
                           min(float(w), face[2] + reach * fw), min(float(h), face[3] + 1.5 * fh)], np.float32)
        # a photo is small on its card: it is worked on at 1/PHOTO_WORK of the working face width
        crop, scale, x0, y0 = self._region(image, region, float(fw) * PHOTO_WORK)
        if min(crop.shape[:2]) < MIN_CARD_PX + 2:
            return []
        sw = float(fw) * scale
        shapes, edges, grey = self._shapes(crop, PHOTO_CARD[0] * sw, PHOTO_CARD[1] * sw)
        cards = []
        centre = _centres(face[None])
        for corners in shapes:
            box = np.concatenate([corners.min(axis=0), corners.max(axis=0)]) / scale + (x0, y0, x0, y0)
            if not _inside(centre, box)[0] or fw * fh > 0.4 * (box[2] - box[0]) * (box[3] - box[1]):
                continue
            # print beside the photo, not just the face itself: marks on the card outside the face box
            hole = ((face - (x0, y0, x0, y0)) * scale).astype(np.float32)
            if _print_density(edges, corners, hole) < self.min_edge_density:
                continue
            card = self._judge(corners, crop, edges, grey, scale, x0, y0, texts, text_c, face[None])
            card.photo = card.print = True
            cards.append(card)
        return cards
