import json
import logging
import pickle
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from redact.detect.base import Detector
from redact.detect.text import (
    RAPIDOCR_MODELS, EasyOcrBackend, OcrBackend, TextBox, TextDetector, checked_file, group_lines,
)
from redact.errors import RedactError

SECRETS = ["John", "Example", "01/02/1960", "1960", "943", "5919", "Ward", "EXIT"]
FORM = [  # (x, y, text, category expected)
    (30, 30, "Name: John Example", "name"),
    (30, 110, "DOB: 01/02/1960", "date"),
    (30, 190, "NHS No: 943 476 5919", "nhs_number"),
    (30, 300, "EXIT", None),
    (520, 300, "Ward 7", None),
]


def draw(lines, size=(800, 400)):
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", size, "white")
    pen = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=28)  # Pillow's bundled font: the same on every machine
    boxes = []
    for x, y, text, _ in lines:
        pen.text((x, y), text, fill="black", font=font)
        boxes.append(pen.textbbox((x, y), text, font=font))
    return np.ascontiguousarray(np.asarray(img)), np.asarray(boxes, np.float32)


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def ocr_run():
    """One RapidOCR backend, built and run (in both modes) with the network refused and every log
    record at DEBUG captured; the tests below look at what came out."""
    pytest.importorskip("rapidocr")
    from redact.detect.text import RapidOcrBackend

    image, truth = draw(FORM)
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args[1:2])
        raise OSError("network refused by test")

    records = Records()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    try:
        with pytest.MonkeyPatch.context() as mp:
            for name in ("connect", "connect_ex"):
                mp.setattr(socket.socket, name, refuse)
            mp.setattr(socket, "create_connection", refuse)
            mp.setattr(socket, "getaddrinfo", refuse)
            backend = RapidOcrBackend(provider="cpu")
            every = TextDetector(backend, mode="all")
            found_all = every.detect_with_categories(image)
            found_pii = TextDetector(backend, mode="pii").detect_with_categories(image)
            read = backend.read(image)
    finally:
        root.removeHandler(records)
        root.setLevel(old_level)
    return {"backend": backend, "detector": every, "all": found_all, "pii": found_pii, "read": read,
            "truth": truth, "attempts": attempts, "log": records.messages}


def inside(outer, inner, slack=4.0):
    return (outer[0] <= inner[0] + slack and outer[1] <= inner[1] + slack
            and outer[2] >= inner[2] - slack and outer[3] >= inner[3] - slack)


def match(dets, truth_box):
    return [i for i, b in enumerate(dets.xyxy) if inside(b, truth_box)
            and (b[2] - b[0]) < 1.6 * (truth_box[2] - truth_box[0]) + 20]


def test_no_network_is_used(ocr_run):
    assert ocr_run["attempts"] == []


def test_every_line_is_found_in_mode_all(ocr_run):
    dets, cats = ocr_run["all"]
    assert dets.kind == "text"
    assert len(dets) == len(cats) == len(FORM)
    for (_, _, _, expected), truth in zip(FORM, ocr_run["truth"]):
        hits = match(dets, truth)
        assert len(hits) == 1, f"{len(hits)} boxes enclose the line expected as {expected}"
        assert cats[hits[0]] == expected


def test_pii_mode_keeps_personal_data_only(ocr_run):
    dets, cats = ocr_run["pii"]
    assert sorted(cats) == sorted(c for *_, c in FORM if c is not None)
    for (_, _, _, expected), truth in zip(FORM, ocr_run["truth"]):
        assert len(match(dets, truth)) == (0 if expected is None else 1)


def test_boxes_are_padded_and_inside_the_image(ocr_run):
    dets, _ = ocr_run["all"]
    raw = np.stack([b.xyxy for b in ocr_run["read"]])
    assert np.all(dets.xyxy[:, :2] >= 0) and np.all(dets.xyxy[:, 2] <= 800) and np.all(dets.xyxy[:, 3] <= 400)
    for box in dets.xyxy:  # every returned box encloses some raw box with a margin
        assert any(inside(box, r, slack=-1.0) for r in raw)


def test_nothing_recognised_leaks(ocr_run):
    backend, detector = ocr_run["backend"], ocr_run["detector"]
    assert all(b.text is not None for b in ocr_run["read"])  # text was read ...
    shown = "\n".join([*ocr_run["log"], repr(ocr_run["read"]), *map(repr, ocr_run["read"]),
                       json.dumps(backend.describe()), json.dumps(detector.describe()),
                       repr(ocr_run["all"][1]), repr(ocr_run["pii"][1])])
    for secret in SECRETS:  # ... but appears nowhere
        assert secret not in shown
    assert any("text:" in m for m in ocr_run["log"])  # the capture did see our DEBUG records
    assert logging.getLogger("RapidOCR").getEffectiveLevel() > logging.CRITICAL


def test_describe_names_the_shipped_models(ocr_run):
    d = ocr_run["detector"].describe()
    assert d["package"] == "rapidocr" and d["package_version"]
    assert d["mode"] == "all" and d["kind"] == "text"
    assert {r: m["sha256"] for r, m in d["models"].items()} == {r: s for r, (_, s) in RAPIDOCR_MODELS.items()}
    assert {m["file"] for m in d["models"].values()} == {f for f, _ in RAPIDOCR_MODELS.values()}
    assert isinstance(ocr_run["detector"], Detector) and isinstance(ocr_run["backend"], OcrBackend)


# -- without a model -----------------------------------------------------------------------------


class FakeBackend:
    name = "fake"

    def __init__(self, boxes):
        self.boxes = boxes
        self.shapes = []

    def read(self, image):
        self.shapes.append(image.shape)
        return self.boxes

    def describe(self):
        return {"name": self.name}


def quad(x1, y1, x2, y2):
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


def test_textbox_hides_its_text_and_refuses_to_be_serialised():
    box = TextBox(quad(1, 2, 30, 12), 0.9, "Dr Secretname", 0.99)
    assert "Secretname" not in repr(box) and "hidden" in repr(box)
    assert "not recognised" in repr(TextBox(quad(1, 2, 30, 12), 0.9))
    np.testing.assert_allclose(box.xyxy, [1, 2, 30, 12])
    with pytest.raises(TypeError):
        pickle.dumps(box)


def test_split_boxes_on_one_line_are_classified_together():
    boxes = [TextBox(quad(10, 10, 90, 30), 0.9, "NHS No:", 0.99), TextBox(quad(100, 11, 180, 31), 0.9, "943 476", 0.99),
             TextBox(quad(190, 10, 240, 30), 0.9, "5919", 0.99), TextBox(quad(10, 60, 90, 80), 0.9, "EXIT", 0.99)]
    dets, cats = TextDetector(FakeBackend(boxes), mode="pii", pad=0.0).detect_with_categories(
        np.zeros((100, 300, 3), np.uint8))
    assert cats == ["label", "nhs_number", "nhs_number"]
    np.testing.assert_allclose(dets.xyxy[:, 0], [8, 98, 188])


def test_unreadable_text_is_redacted_in_pii_mode():
    boxes = [TextBox(quad(10, 10, 90, 30), 0.9),  # not recognised (det_only)
             TextBox(quad(10, 40, 90, 60), 0.9, "EXlT", 0.2),  # recognised with low confidence
             TextBox(quad(10, 70, 90, 90), 0.9, "~~", 0.99),  # no letter or digit
             TextBox(quad(10, 100, 90, 120), 0.9, "EXIT", 0.99),  # readable and harmless
             TextBox(quad(10, 130, 90, 150), 0.3, "", 0.0)]  # below min_score: not text
    detector = TextDetector(FakeBackend(boxes), mode="pii", min_score=0.5)
    dets, cats = detector.detect_with_categories(np.zeros((200, 200, 3), np.uint8))
    assert cats == ["unreadable"] * 3
    np.testing.assert_allclose(dets.xyxy[:, 1], [0, 30, 60])  # padded by 0.5 x 20 px height
    _, cats_all = TextDetector(FakeBackend(boxes), mode="all").detect_with_categories(np.zeros((200, 200, 3), np.uint8))
    assert cats_all == ["unreadable"] * 3 + [None]


def test_large_images_are_scaled_down_and_boxes_scaled_back():
    fake = FakeBackend([TextBox(quad(100, 50, 200, 70), 0.9, "Ward 7", 0.99)])
    dets = TextDetector(fake, mode="all", max_side=500, pad=0.0, tall_pad=0.0).detect(np.zeros((1000, 2000, 3), np.uint8))
    assert fake.shapes == [(250, 500, 3)]
    np.testing.assert_allclose(dets.xyxy, [[398, 198, 802, 282]])  # pad=0 still grows by 2 px


def test_bad_settings_and_images_are_refused():
    fake = FakeBackend([])
    with pytest.raises(ValueError):
        TextDetector(fake, mode="some")
    with pytest.raises(ValueError):
        TextDetector(fake, max_side=8)
    with pytest.raises(ValueError):
        TextDetector(fake).detect(np.zeros((10, 10), np.uint8))
    assert len(TextDetector(fake).detect(np.zeros((10, 10, 3), np.uint8))) == 0


def test_group_lines():
    boxes = [(200, 10, 260, 30), (10, 12, 90, 32), (10, 60, 90, 80), (100, 58, 150, 79)]
    xyxy = [np.array(b, np.float32) for b in boxes]
    assert group_lines(xyxy) == [[1, 0], [2, 3]]
    assert group_lines([]) == []


def test_model_file_with_wrong_hash_is_refused(tmp_path: Path):
    (tmp_path / "m.onnx").write_bytes(b"not the model")
    with pytest.raises(RedactError, match="SHA-256"):
        checked_file(tmp_path, "m.onnx", "0" * 64, "pkg")
    with pytest.raises(RedactError, match="not found"):
        checked_file(tmp_path, "missing.onnx", "0" * 64, "pkg")


def test_easyocr_missing_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "easyocr", None)  # import easyocr -> ImportError
    with pytest.raises(RedactError, match=r"pip install \.\[easyocr\]"):
        EasyOcrBackend()


class ScaledBackend(FakeBackend):
    """Finds one big line at every size, and a small word only when the image is enlarged."""

    def read(self, image):
        self.shapes.append(image.shape)
        s = image.shape[1] / 300
        found = [TextBox(quad(10 * s, 10 * s, 90 * s, 30 * s), 0.9, "Ward 7", 0.99)]
        if s > 1.5:
            found.append(TextBox(quad(200 * s, 50 * s, 220 * s, 54 * s), 0.8, "DOB", 0.9))
        return found


def test_scales_are_unioned_without_duplicates():
    backend = ScaledBackend([])
    dets, cats = TextDetector(backend, mode="all", pad=0.0, scales=(1.0, 2.0)).detect_with_categories(
        np.zeros((100, 300, 3), np.uint8))
    assert backend.shapes == [(100, 300, 3), (200, 600, 3)]
    np.testing.assert_allclose(dets.xyxy, [[8, 8, 92, 32], [198, 48, 222, 56]], atol=0.01)  # in frame pixels
    assert len(cats) == 2
    assert len(TextDetector(ScaledBackend([]), mode="all").detect(np.zeros((100, 300, 3), np.uint8))) == 1
    with pytest.raises(ValueError):
        TextDetector(backend, scales=())
    with pytest.raises(ValueError):
        TextDetector(backend, scales=(1.0, 9.0))


def test_a_small_frame_is_enlarged_to_the_engines_detection_size_here():
    """sharpen: a frame under the backend's det_limit_side is enlarged (bicubic) before the engine sees it, and
    the boxes come back in frame pixels; without a det_limit_side, or with sharpen off, it is passed as it is."""
    backend = ScaledBackend([])
    backend.det_limit_side = 200
    dets = TextDetector(backend, mode="all", pad=0.0).detect(np.zeros((100, 300, 3), np.uint8))
    assert backend.shapes == [(200, 600, 3)]
    np.testing.assert_allclose(dets.xyxy, [[8, 8, 92, 32], [198, 48, 222, 56]], atol=0.01)
    backend.shapes.clear()
    TextDetector(backend, mode="all", sharpen=False).detect(np.zeros((100, 300, 3), np.uint8))
    TextDetector(backend, mode="all").detect(np.zeros((300, 900, 3), np.uint8))  # already big enough
    assert backend.shapes == [(100, 300, 3), (300, 900, 3)]


def test_mostly_inside():
    from redact.detect.text import mostly_inside

    box = np.array([10, 10, 20, 20], np.float32)
    assert mostly_inside(box, [np.array([0, 0, 19, 30], np.float32)])  # 90% inside
    assert not mostly_inside(box, [np.array([0, 0, 15, 30], np.float32), np.array([15, 0, 30, 30], np.float32)])
    assert not mostly_inside(box, [])


def test_backend_reports_its_settings_and_step_times(ocr_run):
    d = ocr_run["backend"].describe()
    assert {"box_thresh", "det_thresh", "unclip_ratio", "det_limit_side", "max_side_len"} <= set(d)
    assert set(ocr_run["backend"].last_seconds) == {"det", "cls", "rec"}
    assert ocr_run["backend"].last_seconds["det"] > 0
    # defaults chosen by benchmarks/text.py: small text on 720p frames, boxes that reach past the letters
    assert d["det_limit_side"] == 1088 and d["unclip_ratio"] == 2.0
    assert ocr_run["detector"].describe()["pad"] == 0.5 and ocr_run["detector"].describe()["scales"] == [1.0]


class PartialBackend:
    """A backend that recognises only the lines ``recognise`` asks for, counting them."""

    name = "partial"
    partial_recognition = True

    def __init__(self, lines):
        self.lines = lines  # [(xyxy, text)]
        self.recognised = 0

    def read(self, image, recognise=None):
        xyxy = np.array([b for b, _ in self.lines], np.float32)
        want = np.ones(len(xyxy), bool) if recognise is None else np.asarray(recognise(xyxy), bool)
        self.recognised += int(want.sum())
        return [TextBox(quad(*b), 0.9, t if w else None, 0.99 if w else 0.0)
                for (b, t), w in zip(self.lines, want)]

    def describe(self):
        return {"name": self.name}


def test_mode_all_recognises_only_lines_not_read_before_at_that_place():
    lines = [((10, 10, 200, 30), "Name: John Example"), ((10, 50, 200, 70), "EXIT")]
    backend = PartialBackend(lines)
    detector = TextDetector(backend, mode="all", refresh_every=3)
    img = np.zeros((100, 300, 3), np.uint8)
    first = detector.detect_with_categories(img)[1]
    assert first == ["name", None] and backend.recognised == 2
    assert detector.detect_with_categories(img)[1] == first and backend.recognised == 2  # nothing read again
    backend.lines = lines + [((10, 80, 120, 98), "DOB: 01/02/1960")]  # a new line appears
    assert detector.detect_with_categories(img)[1] == ["name", None, "date"] and backend.recognised == 3
    detector.detect_with_categories(img)  # every 3rd reading reads everything again
    assert backend.recognised == 6
    backend.lines = [((60, 40, 250, 60), "Ward 7")]  # moved: not the same line
    detector.detect_with_categories(img)
    assert backend.recognised == 7
    detector.reset()
    detector.detect_with_categories(img)
    assert backend.recognised == 8


def test_a_line_not_read_again_is_judged_at_its_shape_now_by_its_earlier_reading():
    """A reading that does not recognise a line again (found where the last reading read one) takes that reading:
    a box read as a line once and found square now needs the confidence a square box needs. A walker's hair on the
    facenet street clip, found as a box 1.54x as long as tall and read as two characters at 0.53, then as a 1.36x box
    not recognised, kept its first category and was blurred as text on every frame (here a smaller box alike)."""
    img = np.zeros((540, 960, 3), np.uint8)
    backend = PartialBackend([((600, 310, 660, 349), "X0"), ((100, 40, 400, 70), "Welcome")])
    backend.read = lambda image, recognise=None: [  # the first time read at 0.53, as the OCR read the hair
        TextBox(b.quad, b.score, b.text, 0.53 if b.text == "X0" else b.text_score)
        for b in PartialBackend.read(backend, image, recognise)]
    detector = TextDetector(backend, mode="all", refresh_every=4)
    assert detector.detect_with_categories(img)[1] == [None, None]  # shaped like a line (1.54): read at 0.5 or more
    backend.lines = [((604, 310, 657, 349), "X0"), ((100, 40, 400, 70), "Welcome")]  # the hair again, 1.36x
    dets, cats = detector.detect_with_categories(img)
    assert backend.recognised == 2, "neither line was recognised again"
    assert cats == [None] and dets.xyxy[0, 0] < 100, "the square box read at 0.53 is texture; the sign's line stays"
    backend.lines = [((604, 310, 657, 349), "EXIT"), ((100, 40, 400, 70), "Welcome")]
    backend.read = lambda image, recognise=None: PartialBackend.read(backend, image, recognise)  # read at 0.99
    detector.reset()
    detector.detect_with_categories(img)
    assert len(detector.detect(img)) == 2  # a square box read surely is text, also when not read again


def test_a_large_box_is_a_line_without_a_sure_reading_only_when_as_long_as_a_word_of_three_letters():
    """Lettering 0.08 of the frame tall or more is read surely when it is lettering: a large box shorter than a word
    of three letters (1.8x) that is not read surely is texture. The facenet street clip's grey hair (960x540 copy):
    65 px boxes 1.53-1.65x as long as tall read as two or three characters at 0.33-0.53, blurred on every frame."""
    img = np.zeros((540, 960, 3), np.uint8)
    boxes = [TextBox(quad(591, 307, 691, 372), 0.7, "X0", 0.53),  # the hair: 0.12 of the frame, 1.54x: texture
             TextBox(quad(608, 100, 702, 157), 0.6, "X03", 0.33),  # 1.65x, read at 0.33: texture
             TextBox(quad(100, 300, 200, 365), 0.7, "ON", 0.93),  # a word in large letters read surely: text
             TextBox(quad(300, 300, 421, 360), 0.8, "<1", 0.56),  # large, 2.0x, read unsurely: kept (fail closed)
             TextBox(quad(400, 40, 465, 80), 0.8, "", 0.0),  # 1.63x but small (0.074): a line nobody read, kept
             TextBox(quad(100, 400, 700, 460), 0.8, "", 0.0)]  # a long line, large: kept
    dets, cats = TextDetector(FakeBackend(boxes), mode="all").detect_with_categories(img)
    assert cats == [None, None, "unreadable", "unreadable"]
    np.testing.assert_allclose(dets.xyxy[:, 0], [100 - 65, 300 - 60, 400 - 40, 100 - 60])  # tall: padded by a line
    # judged against the frame: the hair's box in a 1080p frame is a line nobody read (0.06 of the frame)
    assert len(TextDetector(FakeBackend(boxes[:1]), max_side=None).detect(np.zeros((1080, 1920, 3), np.uint8))) == 1


class ScaledPartialBackend(PartialBackend):
    """Finds the same line at every scale (in scaled pixels) and, at 2x, a small one only that scale sees."""

    def read(self, image, recognise=None):
        s = image.shape[1] / 300
        self.lines = [((10 * s, 10 * s, 200 * s, 30 * s), "Name: John Example")]
        if s > 1.5:
            self.lines.append(((210 * s, 80 * s, 240 * s, 86 * s), "01/02/1960"))
        return super().read(image, recognise)


@pytest.mark.parametrize("mode", ["all", "pii"])
def test_a_line_found_again_at_a_later_scale_is_not_recognised_again(mode):
    backend = ScaledPartialBackend([])
    dets, cats = TextDetector(backend, mode=mode, pad=0.0, scales=(1.0, 2.0)).detect_with_categories(
        np.zeros((100, 300, 3), np.uint8))
    assert backend.recognised == 2  # the name line once (at 1x), the small date once (at 2x)
    assert cats == ["name", "date"]
    np.testing.assert_allclose(dets.xyxy[1], [208, 78, 242, 88], atol=0.01)  # 2x box in frame pixels, 2 px pad


def test_mode_pii_always_reads_every_line():
    """In pii mode what a line says decides whether it is redacted: a screen can show a new name in the same
    place, so nothing is taken from an earlier reading."""
    backend = PartialBackend([((10, 10, 200, 30), "Name: John Example")])
    detector = TextDetector(backend, mode="pii")
    img = np.zeros((100, 300, 3), np.uint8)
    for _ in range(3):
        assert detector.detect_with_categories(img)[1] == ["name"]
    assert backend.recognised == 3 and not detector.reuse


@pytest.mark.slow
def test_rapidocr_skips_recognition_of_lines_it_was_told_it_knows(ocr_run):
    from redact.detect.text import RapidOcrBackend

    backend = RapidOcrBackend(provider="cpu")
    image, _ = draw(FORM)
    detector = TextDetector(backend, mode="all")
    first = detector.detect_with_categories(image)[1]
    assert backend.last_seconds["rec"] > 0
    second = detector.detect_with_categories(image)[1]
    assert second == first and backend.last_seconds["rec"] == 0.0
    assert sum(b.text is None for b in backend.read(image, lambda xyxy: np.zeros(len(xyxy), bool))) == len(first)



def test_tall_lines_are_padded_by_a_whole_line_height():
    """Large lettering (a sign, a whiteboard heading): the detector's box hugs the letter bodies, so a line at
    least TALL_LINE px tall grows by its own height on every side; ordinary lines by ``pad`` of theirs."""
    from redact.detect.text import TALL_LINE

    small = TextBox(quad(10, 10, 200, 30), 0.9, "EXIT", 0.99)  # 20 px
    tall = TextBox(quad(300, 100, 700, 100 + TALL_LINE), 0.9, "WARD", 0.99)
    dets = TextDetector(FakeBackend([small, tall]), mode="all").detect(np.zeros((400, 800, 3), np.uint8))
    np.testing.assert_allclose(dets.xyxy[0], [0, 0, 210, 40])  # 0.5 x 20 px, clipped at the frame's edge
    np.testing.assert_allclose(dets.xyxy[1], [300 - TALL_LINE, 100 - TALL_LINE, 700 + TALL_LINE, 100 + 2 * TALL_LINE])


def test_rapidocr_runs_on_sessions_made_here(ocr_run):
    """rapidocr's own sessions turn the memory arena off and let idle threads spin; ours do neither, and the
    faster detection preprocessing gives rapidocr's values."""
    from rapidocr.ch_ppocr_det.utils import DetPreProcess

    engine = ocr_run["backend"]._engine
    for step in (engine.text_det, engine.text_rec, engine.text_cls):
        assert getattr(step.session.session, "_redact_session", False)  # made here while rapidocr loaded: no other
        options = step.session.session.get_session_options()
        assert options.enable_cpu_mem_arena
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert options.get_session_config_entry("session.use_env_allocators") == "1"  # the process's shared arena
    det = engine.text_det
    image = np.ascontiguousarray(draw(FORM)[0][:, :, ::-1])
    theirs = DetPreProcess(det.limit_side_len, det.limit_type, det.mean, det.std)(image)
    ours = det.get_preprocess()(image)
    assert type(det.get_preprocess()).__name__ != "DetPreProcess"
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    assert np.abs(ours - theirs).max() < 1e-5


def test_rapidocr_is_imported_without_its_download_catalogue():
    """rapidocr's catalogue of downloadable models is read as empty (nothing here is downloaded) and OmegaConf is
    left as it was; in a fresh interpreter, since this one may have imported rapidocr already."""
    pytest.importorskip("rapidocr")
    code = ("from omegaconf import OmegaConf; before = vars(OmegaConf)['load']\n"
            "from redact.detect.rapidocr import _rapidocr_class; _rapidocr_class()\n"
            "from rapidocr.inference_engine.base import InferSession\n"
            "from rapidocr.utils.model_resolver import MODEL_ROUTES\n"
            "assert vars(OmegaConf)['load'] is before\n"
            "assert not InferSession.model_info and not MODEL_ROUTES\n"
            "assert OmegaConf.load(__import__('rapidocr.main').main.DEFAULT_CFG_PATH).Global\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parents[1]),
                                                                      os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_unreadable_boxes_not_shaped_like_a_line_are_texture():
    boxes = [TextBox(quad(10, 10, 110, 30), 0.9),  # unreadable, a line: kept (fail closed)
             TextBox(quad(10, 40, 90, 120), 0.9, "", 0.0),  # unreadable, square: texture (hair, a curtain)
             TextBox(quad(200, 10, 500, 60), 0.9, "~", 0.3),  # unreadable, a 50 px line: kept
             TextBox(quad(200, 100, 260, 160), 0.9, "7", 0.95),  # readable, square: kept
             TextBox(quad(200, 200, 500, 260), 0.9, "EXIT", 0.99),  # readable: kept
             TextBox(quad(10, 300, 1000, 450), 0.9, "", 0.0)]  # unreadable, 0.2 of the frame high: texture
    for mode in ("all", "pii"):
        dets, cats = TextDetector(FakeBackend(boxes), mode=mode).detect_with_categories(np.zeros((720, 1280, 3), np.uint8))
        assert cats == (["unreadable", "unreadable", None, None] if mode == "all" else ["unreadable"] * 2)
        assert dets.xyxy[0, 0] < 10 and dets.xyxy[0, 2] > 110
    # size is judged against the frame: the same box is big in a small frame, a line in a large one, whatever
    # max_side scales the frame to before reading
    box = [TextBox(quad(10, 10, 300, 80), 0.9)]
    assert len(TextDetector(FakeBackend(box), max_side=None).detect(np.zeros((300, 600, 3), np.uint8))) == 0
    assert len(TextDetector(FakeBackend(box), max_side=None).detect(np.zeros((600, 1200, 3), np.uint8))) == 1
    assert len(TextDetector(FakeBackend(box), max_side=600).detect(np.zeros((1200, 2400, 3), np.uint8))) == 0


def test_square_boxes_need_a_confident_reading():
    boxes = [TextBox(quad(10, 10, 260, 290), 0.6, "Bq", 0.63),  # curly hair read as two letters
             TextBox(quad(300, 10, 350, 60), 0.9, "12", 0.84),  # a short number
             TextBox(quad(300, 100, 590, 190), 0.9, "EXIT", 0.65)]  # a sign in large letters, read less surely
    dets, cats = TextDetector(FakeBackend(boxes), mode="all").detect_with_categories(np.zeros((720, 1280, 3), np.uint8))
    assert cats == [None, None] and np.all(dets.xyxy[:, 0] >= 200), "the hair box is left out"


def test_an_unreadable_vertical_sign_is_padded_by_its_width_a_read_vertical_word_by_its_length():
    """Padding by a line's height: for a read vertical word its length (OCR still reads vertical words through
    thinner padding), for a vertical box that could not be read its width (a street sign seen from a bus was
    padded into a third of the frame)."""
    sign = TextBox(quad(600, 300, 660, 420), 0.8)  # 60 x 120, nothing read
    word = TextBox(quad(900, 300, 960, 420), 0.9, "STATION", 0.99)
    dets, cats = TextDetector(FakeBackend([sign, word]), mode="all").detect_with_categories(
        np.zeros((720, 1280, 3), np.uint8))
    assert cats == ["unreadable", None]
    np.testing.assert_allclose(dets.xyxy[0], [540, 240, 720, 480])  # grown by its width, 60 px
    np.testing.assert_allclose(dets.xyxy[1], [780, 180, 1080, 540])  # grown by its length, 120 px


def test_a_single_character_in_a_square_box_needs_a_sure_reading():
    light = TextBox(quad(36, 0, 99, 52), 0.7, "I", 0.84)  # a ceiling light in a small GIF, read as one letter
    ward = TextBox(quad(300, 100, 360, 160), 0.9, "7", 0.98)  # a ward number on a door
    dets, cats = TextDetector(FakeBackend([light, ward]), mode="all").detect_with_categories(
        np.zeros((270, 480, 3), np.uint8))
    assert cats == [None] and dets.xyxy[0, 0] > 200


def test_a_slanted_line_is_padded_by_its_height_not_by_its_enclosing_box():
    """A line photographed at a slant: its enclosing box is far taller than the line. Padding by that box's height
    blurred a pillar edge to edge (benchmarks/precision.py, text clips); the line's own height covers it."""
    angle = np.deg2rad(15)
    along, across = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
    corner = np.array([300.0, 200.0])
    quad_pts = [corner, corner + 400 * along, corner + 400 * along + 30 * across, corner + 30 * across]
    line = TextBox(np.array(quad_pts), 0.9, "FOURTEEN RETAIL BRANDS", 0.95)
    dets = TextDetector(FakeBackend([line]), mode="all").detect(np.zeros((720, 1280, 3), np.uint8))
    x1, y1, x2, y2 = line.xyxy
    assert y2 - y1 > 100  # the enclosing box: 30 px of line, 104 px of slant
    np.testing.assert_allclose(dets.xyxy[0], [x1 - 15, y1 - 15, x2 + 15, y2 + 15], atol=0.01)  # 0.5 x 30 px


def test_a_vertical_box_read_as_a_character_or_two_is_padded_by_its_width():
    """A block of short lines on a street sign, found as one upright box and read as two characters at 0.56
    (readable by the line rule), was padded by its length: 121 px on every side, a third of a 960x540 frame."""
    sign = TextBox(quad(528, 310, 588, 431), 0.81, "<1", 0.56)
    word = TextBox(quad(900, 300, 960, 420), 0.9, "STATION", 0.99)
    dets, cats = TextDetector(FakeBackend([sign, word]), mode="all").detect_with_categories(
        np.zeros((540, 960, 3), np.uint8))
    assert cats == [None, None]
    np.testing.assert_allclose(dets.xyxy[0], [468, 250, 648, 491])  # grown by its width, 60 px
    np.testing.assert_allclose(dets.xyxy[1], [780, 180, 960, 540])  # a word read surely: grown by its length
