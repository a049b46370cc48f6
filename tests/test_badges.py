"""ID-badge detector (redact.detect.badges): cards below faces, with evidence inside, found by shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from redact.detect.badges import BadgeDetector
from redact.detect.base import ContextDetector
from redact.detect.schedule import Scheduled, run_due
from redact.types import Detections

ROOT = Path(__file__).resolve().parents[1]
NHS_BLUE = (0, 94, 184)
TUNIC = (30, 72, 140)
ASTRONAUT_FACE = (180, 60, 270, 178)  # the astronaut's face in skimage's photo (see test_detect_faces)
DEMO_CARD = (473, 341, 755, 467)  # the nurse's badge in frame 0 of samples/demo.mp4, measured by eye


@pytest.fixture(scope="module")
def face_photo() -> np.ndarray:
    from skimage import data

    x1, y1, x2, y2 = ASTRONAUT_FACE
    return np.ascontiguousarray(data.astronaut()[y1:y2, x1:x2])


def faces(*boxes) -> Detections:
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9, np.float32), "face")


def texts(*boxes) -> Detections:
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9, np.float32), "text")


def card_image(width: int, photo: np.ndarray | None, band_colour=NHS_BLUE, blank: bool = False,
               band_only: bool = False) -> Image.Image:
    """An ID card ``width`` px wide (ID-1 landscape, 85.6 x 54): a band (NHS blue), photo, name and role, a
    stripe; ``blank``: just the white card (the back of a badge); ``band_only``: the card and its band (a badge
    too far away or too blurred for its print to show)."""
    h = round(width * 54 / 85.6)
    card = Image.new("RGBA", (width, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(card)
    d.rounded_rectangle((0, 0, width - 1, h - 1), max(1, width // 25), fill=(250, 250, 248), outline=(175, 180, 190))
    if blank:
        return card
    band = max(2, h // 5)
    d.rectangle((1, 1, width - 2, band), fill=band_colour)
    if band_only:
        return card
    pw, ph = max(3, width // 4), max(4, h // 2)
    px, py = max(2, width // 20), band + max(2, h // 10)
    card.paste(Image.fromarray(photo).resize((pw, ph)), (px, py))
    tx, size = px + pw + max(2, width // 20), max(3, h // 8)
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one fixed size
        font = ImageFont.load_default()
    d.text((max(2, width // 20), max(0, band // 2 - size // 2)), "NHS TRUST", font=font, fill=(255, 255, 255))
    d.text((tx, py), "Alex Sample", font=font, fill=(20, 24, 30))
    d.text((tx, py + int(size * 1.5)), "Staff Nurse", font=font, fill=(60, 66, 74))
    d.rectangle((tx, min(h - 3, py + ph - 2), width - max(2, width // 20), min(h - 2, py + ph)), fill=band_colour)
    return card


def person(face_photo: np.ndarray, size=(1280, 720), face_w: int = 110, badge_w: int | None = 150,
           angle: float = 0.0, shirt: str = "plain", head: bool = True, at=(640, 120), lanyard: bool = False,
           **card):
    """A person in front of a wall: a head (the astronaut's face), a tunic and maybe a badge on a lanyard.

    Returns the RGB image, the face box (None when ``head`` is False) and a mask of the card's pixels."""
    w, h = size
    cx, top = at
    fh = round(face_w * 1.3)
    rng = np.random.default_rng(3)
    wall = np.linspace(228, 206, h)[:, None, None] * np.array([1.0, 1.03, 1.05])[None, None, :]
    wall = np.broadcast_to(wall, (h, w, 3)) + rng.normal(0, 2, (h, w, 3))
    img = Image.fromarray(np.clip(wall, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    chin = top + fh
    body = (cx - int(1.5 * face_w), chin + face_w // 5, cx + int(1.5 * face_w), h + face_w)
    d.rounded_rectangle(body, face_w // 2, fill=TUNIC if shirt != "white" else (235, 235, 232))
    if shirt == "stripes":
        for y in range(body[1] + 6, h, max(6, face_w // 8)):
            d.rectangle((body[0] + 8, y, body[2] - 8, y + max(3, face_w // 16)), fill=(210, 214, 222))
    elif shirt == "pocket":  # a light breast pocket, card-shaped, but nothing on it
        pw = int(0.6 * face_w)
        d.rectangle((cx - pw - 20, chin + face_w, cx - 20, chin + face_w + int(pw / 1.4)), outline=(120, 130, 150),
                    width=2, fill=(200, 205, 215))
    d.rectangle((cx - face_w // 5, chin - fh // 6, cx + face_w // 5, chin + face_w // 3), fill=(222, 180, 152))
    face_box = None
    if head:
        img.paste(Image.fromarray(face_photo).resize((face_w, fh)), (cx - face_w // 2, top))
        face_box = (cx - face_w // 2, top, cx + face_w // 2, top + fh)
    mask = np.zeros((h, w), bool)
    if lanyard and not badge_w:  # the card tucked into a pocket: just the straps
        for side in (-1, 1):
            d.line([(cx + side * face_w * 0.25, chin), (cx - int(0.35 * face_w) + side * 6, chin + int(1.4 * face_w))],
                   fill=NHS_BLUE, width=max(2, face_w // 30))
    if badge_w:
        card = card_image(badge_w, face_photo, **card).rotate(angle, resample=Image.BICUBIC, expand=True)
        bx, by = cx - int(0.35 * face_w) - card.width // 2, chin + int(0.9 * face_w)
        for side in (-1, 1):
            d.line([(cx + side * face_w * 0.25, chin), (bx + card.width // 2 + side * 6, by + 3)], fill=NHS_BLUE,
                   width=max(2, face_w // 30))
        img.paste(card, (bx, by), card)
        alpha = np.asarray(card)[..., 3] > 128
        ys, xs = np.nonzero(alpha)
        ok = (ys + by >= 0) & (ys + by < h) & (xs + bx >= 0) & (xs + bx < w)
        mask[ys[ok] + by, xs[ok] + bx] = True
    return np.asarray(img.convert("RGB")).copy(), face_box, mask


def coverage(dets: Detections, mask: np.ndarray) -> float:
    """The fraction of the card's pixels inside the detected boxes."""
    covered = np.zeros_like(mask)
    for x1, y1, x2, y2 in dets.xyxy:
        covered[int(np.floor(y1)):int(np.ceil(y2)), int(np.floor(x1)):int(np.ceil(x2))] = True
    return float((covered & mask).sum() / max(mask.sum(), 1))


def check(dets: Detections, image: np.ndarray) -> None:
    assert dets.kind == "badge"
    assert dets.category is not None and list(dets.category) == ["badge"] * len(dets)
    assert np.all((dets.score >= 0) & (dets.score <= 1))
    h, w = image.shape[:2]
    assert np.all(dets.xyxy[:, :2] >= 0) and np.all(dets.xyxy[:, 2] <= w) and np.all(dets.xyxy[:, 3] <= h)
    assert np.all(dets.xyxy[:, 2:] > dets.xyxy[:, :2])


# -- synthetic people -------------------------------------------------------------------------------------------
def test_badge_below_a_face_is_found(face_photo):
    img, face, mask = person(face_photo)
    dets = BadgeDetector().detect(img, context={"face": faces(face)})
    check(dets, img)
    assert len(dets) == 1
    assert coverage(dets, mask) >= 0.9
    # and it is a badge-sized box, not the whole torso
    x1, y1, x2, y2 = dets.xyxy[0]
    assert (x2 - x1) * (y2 - y1) < 4 * mask.sum()
    assert y1 > face[1] + 0.5 * (face[3] - face[1]), "the wearer's face is not part of the badge"


def test_rotated_badge_is_found(face_photo):
    for angle in (15, -15):
        img, face, mask = person(face_photo, angle=angle)
        dets = BadgeDetector().detect(img, context={"face": faces(face)})
        check(dets, img)
        assert coverage(dets, mask) >= 0.9, angle


def test_small_badge_at_720p_is_found(face_photo):
    img, face, mask = person(face_photo, face_w=44, badge_w=34, at=(300, 300))
    dets = BadgeDetector().detect(img, context={"face": faces(face)})
    check(dets, img)
    assert len(dets) >= 1
    assert coverage(dets, mask) >= 0.9


@pytest.mark.parametrize("badge_w,face_w", [(150, 110), (34, 44)])
def test_badge_without_nhs_colours_is_found_by_its_print(face_photo, badge_w, face_w):
    """A green band: no NHS blue; the print on the card (readable or not) is the evidence."""
    img, face, mask = person(face_photo, face_w=face_w, badge_w=badge_w, band_colour=(0, 128, 60), at=(400, 200))
    dets = BadgeDetector().detect(img, context={"face": faces(face)})
    check(dets, img)
    assert len(dets) == 1
    assert coverage(dets, mask) >= 0.9


def test_blank_card_is_not_a_badge(face_photo):
    """The back of a badge (a blank white card) shows nothing to redact: the shape alone is not evidence."""
    img, face, mask = person(face_photo, blank=True)
    assert mask.any()
    assert len(BadgeDetector().detect(img, context={"face": faces(face)})) == 0


def test_a_plain_card_with_an_nhs_blue_band_is_a_badge(face_photo):
    img, face, mask = person(face_photo, band_only=True)
    dets = BadgeDetector().detect(img, context={"face": faces(face)})
    assert len(dets) == 1
    assert coverage(dets, mask) >= 0.9


def test_blue_straps_across_a_blank_card_are_not_a_band(face_photo):
    """The back of a badge with its NHS-blue lanyard across it: thin blue lines are not a printed band."""
    img, face, mask = person(face_photo, blank=True)
    ys, xs = np.nonzero(mask)
    d = ImageDraw.Draw(pil := Image.fromarray(img))
    for dx in (20, 60):
        d.line([(xs.min() + dx, ys.min() - 30), (xs.min() + dx + 30, ys.max() + 30)], fill=NHS_BLUE, width=3)
    img = np.asarray(pil)
    assert len(BadgeDetector().detect(img, context={"face": faces(face)})) == 0


@pytest.mark.parametrize("shirt", ["plain", "stripes", "pocket", "white"])
def test_no_badge_on_a_card_free_torso(face_photo, shirt):
    img, face, mask = person(face_photo, badge_w=None, shirt=shirt)
    assert not mask.any()
    dets = BadgeDetector().detect(img, context={"face": faces(face)})
    check(dets, img)
    assert len(dets) == 0, dets.xyxy


@pytest.mark.parametrize("face_w,at", [(110, (300, 120)), (110, (640, 120)), (44, (400, 200)), (70, (900, 150))])
def test_a_lanyard_without_its_card_is_not_a_badge(face_photo, face_w, at):
    """NHS-blue straps over the throat: the neck between them is card-shaped, blue and bright, but no badge."""
    img, face, _ = person(face_photo, face_w=face_w, at=at, badge_w=None, lanyard=True)
    assert len(BadgeDetector().detect(img, context={"face": faces(face)})) == 0


def test_text_in_the_torso_is_a_badge_even_without_a_card_outline(face_photo):
    img, face, _ = person(face_photo, badge_w=None)  # a plain tunic: no card to find
    line = (600, 330, 680, 346)  # e.g. a name printed on a tunic, found by OCR
    far = (1000, 40, 1200, 70)  # text on the wall above: not on anyone's chest
    dets = BadgeDetector().detect(img, context={"face": faces(face), "text": texts(line, far)})
    check(dets, img)
    assert len(dets) == 1
    x1, y1, x2, y2 = dets.xyxy[0]
    assert x1 <= line[0] and y1 <= line[1] and x2 >= line[2] and y2 >= line[3]
    assert x2 < far[0]


def test_text_inside_a_card_raises_its_score(face_photo):
    img, face, mask = person(face_photo)
    ys, xs = np.nonzero(mask)
    line = (xs.min() + 60, ys.min() + 40, xs.max() - 10, ys.min() + 52)
    det = BadgeDetector()
    plain = det.detect(img, context={"face": faces(face)})
    with_text = det.detect(img, context={"face": faces(face), "text": texts(line)})
    assert len(plain) == len(with_text) == 1
    assert with_text.score[0] > plain.score[0]
    assert coverage(with_text, mask) >= 0.9


def test_badge_with_the_wearers_head_out_of_shot_is_found_by_its_photo(face_photo):
    """Camera at chest height: no wearer's face, but the face detector finds the ID photo on the card."""
    img, _, mask = person(face_photo, head=False, badge_w=240, at=(640, -200))
    ys, xs = np.nonzero(mask)
    # the photo's box on the card, as a face detector would report it
    card = card_image(240, face_photo)
    band, pw, ph = max(2, card.height // 5), 240 // 4, card.height // 2
    px, py = xs.min() + 12, ys.min() + band + card.height // 10
    photo = (px, py, px + pw, py + ph)
    dets = BadgeDetector().detect(img, context={"face": faces(photo)})
    check(dets, img)
    assert len(dets) == 1
    assert coverage(dets, mask) >= 0.9
    # with that search switched off only faces' torsos are searched: the photo's "torso" holds no card
    assert coverage(BadgeDetector(photo_cards=False).detect(img, context={"face": faces(photo)}), mask) < 0.9


def test_a_face_that_is_not_on_a_card_is_not_a_badge(face_photo):
    """The photo search must not take a real face in front of a plain wall for an ID photo."""
    img, face, _ = person(face_photo, badge_w=None, shirt="plain")
    dets = BadgeDetector().detect(img, context={"face": faces(face)})
    assert len(dets) == 0


# -- context ----------------------------------------------------------------------------------------------------
def test_without_faces_nothing_is_searched(face_photo):
    """No faces in the context: no badge, even on an image with one (text alone is the text detector's job)."""
    img, _, mask = person(face_photo)
    ys, xs = np.nonzero(mask)
    det = BadgeDetector()
    for ctx in (None, {}, {"face": Detections.empty("face")},
                {"text": texts((xs.min() + 60, ys.min() + 40, xs.max() - 10, ys.min() + 52))}):
        dets = det.detect(img, context=ctx)
        check(dets, img)
        assert len(dets) == 0
    assert len(det.detect(img)) == 0


def test_boxes_are_clipped_to_the_frame(face_photo):
    """A person at the bottom-left corner: the padded box would leave the frame."""
    img, face, mask = person(face_photo, size=(640, 360), face_w=80, badge_w=120, at=(120, 10))
    dets = BadgeDetector(pad=0.5).detect(img, context={"face": faces(face)})
    check(dets, img)
    assert len(dets) == 1
    assert dets.xyxy[0, 0] == 0.0
    assert coverage(dets, mask) >= 0.9


def test_faces_outside_the_frame_and_degenerate_boxes_are_harmless(face_photo):
    img, face, _ = person(face_photo, badge_w=None)
    ctx = {"face": faces((-50, -50, -10, -10), (2000, 100, 2100, 200), (100, 100, 100, 130), (5, 700, 60, 760)),
           "text": texts((-5, -5, -1, -1))}
    dets = BadgeDetector().detect(img, context=ctx)
    check(dets, img)
    assert len(dets) == 0


def test_image_is_checked():
    with pytest.raises(ValueError):
        BadgeDetector().detect(np.zeros((10, 10), np.uint8), context={})
    with pytest.raises(ValueError):
        BadgeDetector(min_aspect=2.0, max_aspect=1.5)


def test_describe_and_protocol():
    det = BadgeDetector(pad=0.2)
    assert isinstance(det, ContextDetector)
    assert det.kind == "badge" and det.uses_context is True
    d = det.describe()
    assert d["name"] == "badge-card" and d["package"] == "redact" and d["pad"] == 0.2
    for key in ("torso_width", "torso_below", "min_aspect", "max_aspect", "min_width", "max_width",
                "min_edge_density", "work_face", "photo_cards"):
        assert key in d


def test_run_due_passes_the_faces_to_the_badge_detector(face_photo):
    img, face, mask = person(face_photo)

    class FixedFaces:
        kind, name = "face", "fixed"

        def detect(self, image):
            return faces(face)

        def describe(self):
            return {"name": self.name}

    out = run_due([Scheduled(FixedFaces()), Scheduled(BadgeDetector(), every=3)], 0, img, cut=False)
    assert set(out) == {"face", "badge"}
    assert coverage(out["badge"], mask) >= 0.9


# -- the shipped sample -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_frames():
    from redact.detect.faces import CenterFaceDetector
    from redact.io import FrameSource

    want = {0: None, 70: None}
    with FrameSource(ROOT / "samples" / "demo.mp4") as src:
        for i, f in enumerate(src):
            if i in want:
                want[i] = np.ascontiguousarray(f.image)
            if i >= max(want):
                break
    det = CenterFaceDetector(provider="cpu")
    return {i: (img, det.detect(img)) for i, img in want.items()}


def test_demo_badge_is_found(demo_frames):
    img, found = demo_frames[0]
    assert len(found) >= 2  # the nurse and the patient (and the photo on the badge)
    dets = BadgeDetector().detect(img, context={"face": found})
    check(dets, img)
    assert len(dets) == 1
    mask = np.zeros(img.shape[:2], bool)
    x1, y1, x2, y2 = DEMO_CARD
    mask[y1:y2, x1:x2] = True
    assert coverage(dets, mask) >= 0.9
    bx1, by1, bx2, by2 = dets.xyxy[0]
    # the card and a small margin: the box was twice the card (padded by 15% of its size on every side), blurring
    # the patient's bed and the tunic either side of the badge in the shipped sample
    assert (bx2 - bx1) * (by2 - by1) < 1.6 * mask.sum(), "a badge box, not the scene around it"


def test_demo_badge_is_found_from_its_photo_alone(demo_frames):
    """The nurse's own face left out (as if out of shot): the photo on her badge still finds it."""
    img, found = demo_frames[0]
    x1, y1, x2, y2 = DEMO_CARD
    c = (found.xyxy[:, :2] + found.xyxy[:, 2:]) / 2
    on_card = (c[:, 0] > x1) & (c[:, 0] < x2) & (c[:, 1] > y1) & (c[:, 1] < y2)
    assert on_card.sum() == 1, "CenterFace finds the photo on the badge"
    dets = BadgeDetector().detect(img, context={"face": found.filter(on_card)})
    mask = np.zeros(img.shape[:2], bool)
    mask[y1:y2, x1:x2] = True
    assert coverage(dets, mask) >= 0.9


def test_demo_bystander_in_the_doorway_is_not_a_badge(demo_frames):
    """Frame 70: a bystander framed by the doorway (a face inside a tall rectangle) and a patient in bed."""
    img, found = demo_frames[70]
    dets = BadgeDetector().detect(img, context={"face": found})
    assert len(dets) == 1  # the nurse's badge only
    cx = (dets.xyxy[0, 0] + dets.xyxy[0, 2]) / 2
    assert 300 < cx < 700


@pytest.mark.slow
def test_scan_of_the_sample_covers_the_badge_in_every_frame_without_ocr():
    """The default stack with on-screen text off: the badge is still covered, by badge tracks alone, in every
    frame (the detector runs every 6 frames; the tracker carries it in between)."""
    from redact.pipeline import ScanOptions, scan

    from .test_keep import SAMPLE, _truth

    plan = scan(SAMPLE, ScanOptions(text="off")).plan
    assert {t.kind for t in plan.tracks} == {"face", "badge"}
    assert all(t.category == "badge" for t in plan.tracks if t.kind == "badge")
    by_frame = plan.boxes_by_frame()
    for i in range(plan.input.frames):
        x1, y1, x2, y2 = _truth(i)["badge"]
        area = (x2 - x1) * (y2 - y1)
        best = 0.0
        for t, b in by_frame.get(i, ()):
            if t.kind == "badge":
                bx1, by1, bx2, by2 = b.box
                w, h = min(bx2, x2) - max(bx1, x1), min(by2, y2) - max(by1, y1)
                best = max(best, max(w, 0) * max(h, 0) / area)
        assert best >= 0.95, (i, best)


def test_default_stack_puts_badges_after_faces_and_text():
    from redact.pipeline import ScanOptions, default_stack

    kinds = [s.detector.kind for s in default_stack(ScanOptions(provider="cpu", text="all"))]
    assert kinds[-1] == "badge" and kinds.index("text") < kinds.index("badge") and kinds[0] == "face"
    assert default_stack(ScanOptions(provider="cpu", text="all"))[-1].every == 6
    assert "badge" not in [s.detector.kind for s in default_stack(ScanOptions(provider="cpu", badges=False))]


# -- grounded on people (issue 14) -------------------------------------------------------------------------------
def test_a_person_further_back_is_not_an_id_photo(face_photo):
    """A crowd or an audience: a face 0.6 of the front person's width sits in their torso region. It is a person
    behind, not the photo on a badge; and a small face in a torso without a card around it is blurred as a face
    already, so it makes no badge either."""
    img, face, _ = person(face_photo, badge_w=None)
    fw = face[2] - face[0]
    behind = (face[0] + 10, face[3] + 40, face[0] + 10 + int(0.6 * fw), face[3] + 40 + int(0.78 * fw))
    assert len(BadgeDetector().detect(img, context={"face": faces(face, behind)})) == 0
    photo = (face[0] + 10, face[3] + 40, face[0] + 10 + int(0.3 * fw), face[3] + 40 + int(0.39 * fw))
    assert len(BadgeDetector().detect(img, context={"face": faces(face, photo)})) == 0


def test_only_a_face_found_with_confidence_is_searched_as_a_wearer(face_photo):
    """A weak 'face' on a crest or a sign above a crowd must not turn the people below it into badges."""
    img, face, mask = person(face_photo)
    weak = Detections(np.array([face], np.float32), np.array([0.38], np.float32), "face")
    assert len(BadgeDetector(photo_cards=False).detect(img, context={"face": weak})) == 0
    assert coverage(BadgeDetector(photo_cards=False).detect(img, context={"face": faces(face)}), mask) >= 0.9


def test_large_lettering_on_a_chest_is_not_a_badge_by_itself(face_photo):
    """A T-shirt slogan or a sign behind someone, found by OCR in the torso region: too large for a badge's print,
    so it is left to the text detector rather than grown into a card."""
    img, face, _ = person(face_photo, badge_w=None)
    fh = face[3] - face[1]
    slogan = (560, face[3] + 40, 720, face[3] + 40 + int(0.6 * fh))
    assert len(BadgeDetector().detect(img, context={"face": faces(face), "text": texts(slogan)})) == 0
