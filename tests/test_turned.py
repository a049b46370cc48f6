"""Faces of people lying down (redact.detect.turned, ScanOptions.lying_faces; issue 23)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect import CenterFaceDetector
from redact.detect.base import iou_matrix
from redact.detect.stack import face_stack
from redact.detect.schedule import Scheduled
from redact.detect.turned import FOLLOW_UPS, LOOK_MAX_SIDE, LOOK_TRIGGER, TRIGGER, ScheduledTurned, TurnedDetector, boxes_back, turn_image
from redact.options import ScanOptions
from redact.types import Detections

CROP_FACE = (84, 60, 174, 178)  # the astronaut's face in astronaut[0:256, 96:352]


class WhiteBoxes:
    """A stand-in detector: the bounding box of the white pixels, in the pixels of the image it is given."""

    kind, name = "face", "white"

    def __init__(self):
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, image: np.ndarray) -> Detections:
        self.shapes.append(image.shape)
        ys, xs = np.nonzero(image[..., 0] == 255)
        if not len(xs):
            return Detections.empty()
        return Detections([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], [0.9])

    def describe(self) -> dict:
        return {"name": self.name}


@pytest.mark.parametrize("turn", [90, 180, 270])
@pytest.mark.parametrize("box", [(10, 20, 50, 30), (0, 0, 7, 5), (300, 100, 320, 180), (123, 45, 124, 46)])
def test_boxes_found_in_a_turned_frame_map_back_exactly(turn, box):
    frame = np.zeros((180, 320, 3), np.uint8)  # not square: width and height swap in a quarter turn
    x1, y1, x2, y2 = box
    frame[y1:y2, x1:x2] = 255
    turned = turn_image(frame, turn)
    assert turned.shape[:2] == ((180, 320) if turn == 180 else (320, 180))
    found = WhiteBoxes().detect(turned)
    assert boxes_back(found.xyxy, turn, 320, 180).tolist() == [list(map(float, box))]


def test_turned_detector_looks_at_both_quarter_turns_and_reports_frame_pixels():
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[30:50, 100:112] = 255
    inner = WhiteBoxes()
    found = TurnedDetector(inner).detect(frame)
    assert inner.shapes == [(160, 90, 3), (160, 90, 3)]
    assert found.kind == "face" and found.xyxy.tolist() == [[100, 30, 112, 50]] * 2
    assert len(TurnedDetector(inner).detect(np.zeros((90, 160, 3), np.uint8))) == 0
    with pytest.raises(ValueError):
        TurnedDetector(inner, turns=(45,))
    with pytest.raises(ValueError):
        boxes_back(np.zeros((1, 4)), 45, 10, 10)


@pytest.fixture(scope="module")
def astronaut_head() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[0:256, 96:352])


@pytest.mark.parametrize("turn", [90, 270])
def test_a_face_lying_on_its_side_is_found_where_it_is(astronaut_head, turn):
    """A head lying sideways in a 720p frame (a patient in bed seen from the side): the turned passes see it upright
    and give its box in the frame's pixels."""
    size, x0, y0 = 128, 700, 300
    frame = np.full((720, 1280, 3), (200, 205, 210), np.uint8)
    head = cv2.resize(astronaut_head, (size, size), interpolation=cv2.INTER_AREA)
    frame[y0:y0 + size, x0:x0 + size] = np.rot90(head, turn // 90)  # counter-clockwise, as turn_image
    s = size / 256
    face = np.array([CROP_FACE], np.float32) * s
    truth = boxes_back(face, 360 - turn, size, size)[0] + [x0, y0, x0, y0]  # the face box turned with the head
    found = TurnedDetector(CenterFaceDetector(provider="cpu", max_side=960)).detect(frame)
    assert len(found) >= 1
    iou = iou_matrix(found.xyxy, truth[None].astype(np.float32))[:, 0]
    assert iou.max() > 0.5
    assert found.score[int(np.argmax(iou))] > 0.7  # seen upright: a confident face


def test_lying_faces_adds_a_turned_pass_with_the_full_pass():
    plain = face_stack(ScanOptions(provider="cpu", lying_faces="off"))
    assert not any(isinstance(s.detector, TurnedDetector) for s in plain)
    stack = face_stack(ScanOptions(provider="cpu", lying_faces=True, detect_every=5))
    turned = [s for s in stack if isinstance(s.detector, TurnedDetector)]
    assert len(turned) == 1 and turned[0].every == 5 and turned[0].detector.turns == (90, 270)
    assert turned[0].describe()["inner"]["name"] == "centerface"


# -- lying_faces="auto": a look, the turned pass switched on where it finds faces the upright passes do not explain --
class Marked:
    """A stand-in face detector that sees a "face" (a white block with a red band along one side: the top of the
    head) only upright: the red band along the block's top edge in the image it is given. Reports the block."""

    kind, name = "face", "marked"

    def __init__(self, score: float = 0.9):
        self.score, self.runs = score, 0

    def detect(self, image: np.ndarray) -> Detections:
        self.runs += 1
        white = (image[..., 0] == 255) & (image[..., 1] == 255)
        red = (image[..., 0] == 255) & (image[..., 1] == 0)
        ys, xs = np.nonzero(white | red)
        if not len(xs):
            return Detections.empty()
        box = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        ry = np.nonzero(red)[0]
        if not len(ry) or ry.max() >= box[1] + (box[3] - box[1]) // 4:  # the band is not along the top
            return Detections.empty()
        return Detections(np.array([box], np.float32), np.array([self.score], np.float32))

    def describe(self) -> dict:
        return {"name": self.name}


def face_frame(top: str, w: int = 320, h: int = 180) -> np.ndarray:
    """A frame with one marked block at (100, 40)-(160, 100); ``top``: which side of the frame the head's top is on."""
    frame = np.zeros((h, w, 3), np.uint8)
    frame[40:100, 100:160] = 255
    band = {"up": np.s_[40:48, 100:160], "left": np.s_[40:100, 100:108], "right": np.s_[40:100, 152:160]}[top]
    frame[band] = (255, 0, 0)
    return frame


def auto(look: Marked, full: Marked, **kw) -> ScheduledTurned:
    s = ScheduledTurned(look, full, every=4, **kw)
    s.reset()
    return s


def play(s: ScheduledTurned, frames, upright=None) -> dict[int, Detections]:
    """Run ``s`` as run_frame would over ``frames`` (index -> image), with ``upright`` as the other passes' faces."""
    out = {}
    for i, image in frames:
        if s.due(i, cut=False):
            out[i] = s.run(i, image, {"face": upright if upright is not None else Detections.empty()})
    return out


def test_auto_switches_on_only_the_turn_that_shows_a_lying_face():
    """A head lying with its top to the left is upright in the frame turned 270 degrees counter-clockwise: the first
    look (in full) finds it on frame 0, the full turned pass again on frame 1, and from then on that pass runs for
    that turn alone, with the full pass."""
    look, full = Marked(), Marked()
    s = auto(look, full)
    frame = face_frame("left")
    ran = play(s, [(i, frame) for i in range(40)])
    assert sorted(ran) == [0, 1] + list(range(4, 40, 4))  # the follow-up on frame 1, then with the full pass
    assert ran[0].xyxy.tolist() == [[100, 40, 160, 100]]  # the look's confident face is kept at once
    assert s.switched_on(8) == [270] and s._state[270].switched == 1 and s._state[90].switched == 0
    # frame 0: both turns in full (the first look); 270 seen again on frame 1: on; 90: looks on frames 16 and 32
    assert s.looks == 2 == look.runs and s.full_runs == 2 + 1 + len(range(4, 40, 4)) == full.runs
    assert all(len(ran[i]) == 1 for i in ran)


@pytest.mark.parametrize("top", ["up", "right", "left"])
def test_auto_costs_the_looks_alone_where_nothing_lies_unexplained(top):
    """Upright faces (and lying ones an upright pass found: explained), or none: a look every 16 frames, each turn, and
    the full turned pass only as the first look."""
    look, full = Marked(), Marked()
    s = auto(look, full)
    frame = face_frame(top)
    upright = Detections(np.array([[98, 38, 162, 102]], np.float32), np.array([0.6], np.float32))
    ran = play(s, [(i, frame) for i in range(64)], upright=upright if top != "up" else None)
    assert sorted(ran) == [0, 16, 32, 48]
    assert all(len(d) == 0 for d in ran.values())  # a look keeps no face an upright pass found: it has its box
    assert s.looks == 6 == look.runs and s.full_runs == 2 == full.runs and s.switched_on(63) == []


def test_auto_ignores_a_weak_turned_face_and_a_face_not_seen_again():
    weak = auto(Marked(score=0.5), Marked(score=0.5))
    ran = play(weak, [(i, face_frame("left")) for i in range(32)])
    assert weak.full_runs == 2 and all(len(d) == 0 for d in ran.values())  # under the trigger: not kept, not followed
    once = auto(Marked(), Marked())
    frames = [(i, face_frame("left") if i == 0 else np.zeros((180, 320, 3), np.uint8)) for i in range(32)]
    ran = play(once, frames)
    assert sorted(ran) == [0, 1, 2, 16]  # two follow-ups find nothing: back to a look every 16 frames
    assert once.full_runs == 2 + FOLLOW_UPS == 4 and len(ran[0]) == 1


def test_auto_switches_the_turn_off_after_hold_frames_without_it():
    s = auto(Marked(), Marked(), hold=16)
    blank = np.zeros((180, 320, 3), np.uint8)
    ran = play(s, [(i, face_frame("left") if i < 12 else blank) for i in range(80)])
    assert s.switched_on(8) == [270]
    # on from frame 1 (confirmed) to 8 + 16: frames 0, 1, 4..24 run the full pass; then looks every 16 frames again
    assert s.full_runs == 1 + 1 + len(range(0, 25, 4)) and s.switched_on(40) == []
    assert sorted(ran) == [0, 1, 4, 8, 12, 16, 20, 24, 32, 48, 64]
    s.reset()
    assert s.looks == s.full_runs == 0 and s.switched_on(0) == []


def test_auto_checks_its_settings_and_describes_itself():
    with pytest.raises(ValueError):
        ScheduledTurned(Marked(), Marked(), look_every=0)
    with pytest.raises(ValueError):
        ScheduledTurned(Marked(), Marked(), hold=0)
    d = ScheduledTurned(Marked(), Marked(), every=4).describe()
    assert d["name"] == "turned-auto" and d["every"] == 4 and d["look"] == {"name": "marked"}
    assert d["turns"] == [90, 270] and d["trigger"] == TRIGGER and d["look_trigger"] == LOOK_TRIGGER


@pytest.mark.parametrize("mode,kinds", [("auto", [ScheduledTurned]), (True, [Scheduled]), ("on", [Scheduled]),
                                        ("off", []), (False, [])])
def test_lying_faces_modes_build_the_stack(mode, kinds):
    stack = face_stack(ScanOptions(provider="cpu", lying_faces=mode, detect_every=5))
    turned = [s for s in stack if isinstance(s.detector, TurnedDetector)]
    assert [type(s) for s in turned] == kinds
    assert all(s.every == 5 for s in turned)
    if mode == "auto":
        assert stack[-1] is turned[0]  # after the other face passes, whose faces it is given
        assert turned[0].looker.detector.describe()["max_side"] == LOOK_MAX_SIDE
    with pytest.raises(ValueError):
        ScanOptions(lying_faces="sometimes")


def lying_frames(astronaut_head: np.ndarray, turn: int, n: int) -> list[tuple[int, np.ndarray]]:
    size, x0, y0 = 128, 700, 300
    frame = np.full((720, 1280, 3), (200, 205, 210), np.uint8)
    head = cv2.resize(astronaut_head, (size, size), interpolation=cv2.INTER_AREA)
    frame[y0:y0 + size, x0:x0 + size] = np.rot90(head, turn // 90)
    return [(i, frame) for i in range(n)]


def test_auto_with_centerface_switches_on_the_turn_of_a_lying_head(astronaut_head):
    """CenterFace as the look and the full turned pass, on a 720p clip of a head lying on its side that no upright pass
    found (empty context): frame 0 already has its box (the first look's confident face), and the turn that shows it
    upright runs in full from the second full pass; the other turn is only looked at."""
    for turn, on in ((90, 270), (270, 90)):
        s = ScheduledTurned(CenterFaceDetector(provider="cpu", max_side=LOOK_MAX_SIDE, threshold=LOOK_TRIGGER),
                            CenterFaceDetector(provider="cpu", max_side=960), every=4)
        s.reset()
        ran = play(s, lying_frames(astronaut_head, turn, 13))
        assert s.switched_on(8) == [on] and s.full_runs == 2 + 4  # both turns on frame 0; frames 1, 4, 8 and 12
        assert len(ran[0]) >= 1 and ran[0].score.max() >= TRIGGER  # (upside down, the other turn may score it too)
        for x1, y1, x2, y2 in ran[0].xyxy:
            assert 700 <= x1 < x2 <= 828 and 300 <= y1 < y2 <= 428  # on the head


def test_default_stack_leaves_the_turned_pass_off_on_an_upright_head(astronaut_head):
    """The default face stack on a clip of an upright head (or a lying one its upright passes find, as they do a
    large one on a plain wall): the turned look's faces are explained, nothing is switched on."""
    from redact.detect.schedule import run_due

    for turn in (0, 90):
        stack = face_stack(ScanOptions(provider="cpu"))
        for s in stack:
            s.reset()
        auto_pass = stack[-1]
        assert isinstance(auto_pass, ScheduledTurned)
        for i, image in lying_frames(astronaut_head, turn, 9):
            found = run_due(stack, i, image, cut=False)["face"]
            assert len(found) >= 1 or i % 4  # the full pass's frames (the light pass does not see it lying)
        assert auto_pass.switched_on(8) == [] and auto_pass.full_runs == 2 and auto_pass.looks == 0  # the first look


@pytest.mark.parametrize("flag,mode", [(None, "auto"), (True, "on"), (False, "off")])
def test_cli_flag_picks_the_mode(flag, mode):
    """No flag: auto (the default); --lying-faces: on; --no-lying-faces: off."""
    from redact.cli.common import scan_options_from

    opts = scan_options_from("cpu", "fail", None, False, None, "all", lying_faces=flag)
    assert opts.lying_faces == mode


def test_auto_follow_up_between_full_passes_runs_that_turn_alone():
    """A turn on (a head with its top to the left: 270) and, on frame 16, a face for the other turn's look (the head
    turned over, top to the right): frame 17 follows up that turn alone, and the passes keep the full pass's step."""
    s = auto(Marked(), Marked())
    runs = []
    for i in range(24):
        if s.due(i, cut=False):
            before = s.full_runs
            s.run(i, face_frame("left" if i < 16 else "right"), {"face": Detections.empty()})
            runs.append((i, s.full_runs - before))
    assert s.switched_on(17) == [90, 270]
    # frame 16: 270 (on) in full and 90's look; 17: 90's follow-up alone; then both turns with the full pass
    assert runs == [(0, 2), (1, 1), (4, 1), (8, 1), (12, 1), (16, 1), (17, 1), (20, 2)]


# -- faces a look found but did not keep, handed back to their frames once the turn is switched on -----------------
class Shades:
    """A stand-in face detector for blocks of two greys, each a "face" only upright (a red band along its top edge):
    white blocks score 0.9, grey (128) ones ``weak``. Reports each block with its band."""

    kind, name = "face", "shades"

    def __init__(self, weak: float = 0.4):
        self.scores = {255: 0.9, 128: weak}

    def detect(self, image: np.ndarray) -> Detections:
        red = (image[..., 0] == 255) & (image[..., 1] == 0)
        boxes, scores = [], []
        for grey, score in self.scores.items():
            ys, xs = np.nonzero((image == grey).all(axis=2))
            if not len(xs):
                continue
            x1, y1, x2, y2 = xs.min() - 8, ys.min() - 8, xs.max() + 9, ys.max() + 9  # with its band
            ry, rx = np.nonzero(red[max(0, y1):y2, max(0, x1):x2])
            if len(ry) and ry.max() + max(0, y1) < ys.min():  # the band is above the block
                boxes.append([xs.min(), ry.min() + max(0, y1), xs.max() + 1, ys.max() + 1])
                scores.append(score)
        return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32))

    def describe(self) -> dict:
        return {"name": self.name}


def two_lying(weak_too: bool, w: int = 320, h: int = 180) -> np.ndarray:
    """A white head at (100, 40)-(160, 100) and (``weak_too``) a grey one at (200, 100)-(240, 140), both lying with
    the top of the head to the left (a red band along the left edge)."""
    frame = np.zeros((h, w, 3), np.uint8)
    frame[40:100, 108:160] = 255
    frame[40:100, 100:108] = (255, 0, 0)
    if weak_too:
        frame[100:140, 206:240] = 128
        frame[100:140, 200:206] = (255, 0, 0)
    return frame


def test_auto_hands_back_the_look_s_weaker_faces_once_the_turn_is_switched_on():
    """The first look (frame 0) finds the white head (0.9) and the grey one (0.4, under the trigger: not kept then);
    the follow-up on frame 1 switches 270 on and hands the grey head back to frame 0, once."""
    s = auto(Shades(), Shades())
    assert s.hands_back == FOLLOW_UPS
    back = {}
    for i in range(6):
        if s.due(i, cut=False):
            s.run(i, two_lying(i == 0), {"face": Detections.empty()})
            back[i] = s.handed_back()
    assert s.switched_on(1) == [270]
    assert back[0] == [] and back[4] == []
    (at, dets), = back[1]
    assert at == 0 and dets.score.tolist() == [pytest.approx(0.4)]
    assert dets.xyxy.tolist() == [[200, 100, 240, 140]]


def test_auto_hands_nothing_back_when_the_turn_is_not_switched_on():
    s = auto(Shades(), Shades())
    blank = np.zeros((180, 320, 3), np.uint8)
    for i in range(20):
        if s.due(i, cut=False):
            s.run(i, two_lying(True) if i == 0 else blank, {"face": Detections.empty()})
            assert s.handed_back() == []  # followed up twice, not seen again: what the look held back is let go
    assert s.switched_on(19) == [] and s._state[270].held == []


def test_a_weak_face_of_the_look_frame_gets_a_box_there_once_the_turn_is_switched_on():
    """Through the scan's analysis and tracker: the grey head shows on frame 0 only (the look's frame), the white one
    all through. Frame 0 gets a box on the grey head, handed back when frame 1 switched the turn on."""
    from redact.analyse import analyse, prepared_stack, trackers_for
    from redact.io.model import Frame, MediaInfo

    stack = prepared_stack(ScanOptions(), [auto(Shades(), Shades())])
    info = MediaInfo("synthetic", "video", 320, 180, 0, 25.0, 12, 0.48, "h264")
    trackers = trackers_for(stack, info)
    frames = [Frame(i, two_lying(i == 0), i / 25, i, None) for i in range(12)]
    analyse(frames, info, ScanOptions(), stack, trackers)
    tracks = trackers["face"].finish(12)
    grey = np.array([[200, 100, 240, 140]], np.float32)
    at0 = [b.box for t in tracks for b in t.boxes if b.frame == 0]
    assert len(at0) == 2
    assert max(iou_matrix(grey, np.array(at0, np.float32))[0]) > 0.5
