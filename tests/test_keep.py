"""Keeping tracks visible: by id (--keep) and by reference photo (--keep-face). Everything else stays redacted."""

from __future__ import annotations

import copy
import importlib.util
import math
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from redact import identity
from redact.cli import cli
from redact.policy import KeepError, apply_keep, keep_matching_faces, parse_ids, sample_frames, face_boxes_by_frame
from redact.types import InputInfo, Plan, Track, TrackBox

from .conftest import ROOT, SHARED, listdir
from .media import make_video

SAMPLE = ROOT / "samples" / "demo.mp4"
needs_identity = pytest.mark.skipif(not identity.available(),
                                    reason="optional extra not installed: pip install '.[keep-face]'")


# -- keep by id ----------------------------------------------------------------------------------------------

def _plan(kinds=("face", "face", "text", "frame"), frames=10) -> Plan:
    tracks = [Track(i + 1, k, [TrackBox(f, (10.0 * i, 0.0, 10.0 * i + 8, 8.0), 0.9) for f in range(frames)])
              for i, k in enumerate(kinds)]
    return Plan(InputInfo("x.mp4", "0" * 64, "video", 64, 64, frames, 25.0), tracks)


def test_parse_ids():
    assert parse_ids("3,7") == [3, 7]
    assert parse_ids(" 7, 3,3 ") == [3, 7]
    for bad in ("", "a", "3,", "0", "-1", "1.5"):
        with pytest.raises(ValueError):
            parse_ids(bad)


def test_apply_keep_marks_face_tracks_and_records_them():
    plan = _plan()
    assert apply_keep(plan, [2]) == [2]
    assert [t.action for t in plan.tracks] == ["redact", "keep", "redact", "redact"]
    assert plan.settings["keep"] == {"by_id": [2], "kept": [2]}
    assert plan.to_dict()["tracks"][1]["action"] == "keep"


@pytest.mark.parametrize("ids, message", [([1, 9], "unknown track id(s) 9"), ([1, 3], "3 (text)"),
                                          ([4], "4 (frame)")])
def test_apply_keep_refuses_unknown_and_non_face_ids_changing_nothing(ids, message):
    plan = _plan()
    with pytest.raises(KeepError, match=message.replace("(", r"\(").replace(")", r"\)")):
        apply_keep(plan, ids)
    assert all(t.action == "redact" for t in plan.tracks)
    assert "keep" not in plan.settings


# -- keep by face: the decision rule, with a fake embedder ----------------------------------------------------

class _FakeEmbedder:
    def describe(self):
        return {"name": "fake"}


def _fake_embeddings(monkeypatch, table):
    """``table[(track id, frame)]`` -> distance to the reference (None: no embedding)."""

    def fake_embed_regions(path, wanted, embedder, *, allow_truncated=True):
        out = {}
        for f, items in wanted.items():
            for tid, _box in items:
                d = table.get((tid, f), 0.1)
                out[(f, tid)] = None if d is None else np.array([d, 0.0], np.float32)
        return out

    monkeypatch.setattr(identity, "embed_regions", fake_embed_regions)


def test_keep_face_rule_median_under_threshold_and_every_sample_under_ceiling(monkeypatch):
    plan = _plan(kinds=("face", "face", "face", "face", "face", "face", "text"), frames=40)
    by_frame = face_boxes_by_frame(plan.tracks)
    table = {}
    for f in range(40):
        table[(2, f)] = 0.8  # a stranger
        if f >= 30:
            table[(3, f)] = 0.9  # the track swapped to someone else late on
        table[(5, f)] = 0.46  # close, but its median is not under the threshold
        table[(6, f)] = 0.3
    samples4 = sample_frames(plan.track(4), by_frame)
    table[(4, samples4[2])] = None  # one sample could not be embedded
    samples1 = sample_frames(plan.track(1), by_frame)
    table[(1, samples1[0])] = 0.5  # the right person, one turned frame over the threshold: still kept
    samples6 = sample_frames(plan.track(6), by_frame)
    table[(6, samples6[-1])] = 0.53  # one frame past the ceiling: not kept however close the rest are
    _fake_embeddings(monkeypatch, table)
    verdicts = {v.id: v for v in keep_matching_faces(plan, "x.mp4", np.zeros(2, np.float32), _FakeEmbedder(),
                                                     threshold=0.45, ceiling=0.52)}
    assert [t.action for t in plan.tracks] == ["keep"] + ["redact"] * 6
    assert verdicts[1].kept and verdicts[1].samples >= 10 and verdicts[1].matched == verdicts[1].samples - 1
    assert verdicts[1].median_distance == pytest.approx(0.1) and verdicts[1].max_distance == pytest.approx(0.5)
    assert not verdicts[2].kept and verdicts[2].samples == 1  # rejected by its first sample
    assert not verdicts[3].kept and verdicts[3].matched < verdicts[3].samples
    assert not verdicts[4].kept and verdicts[4].unsure >= 1
    assert not verdicts[5].kept and verdicts[5].samples >= 10 and verdicts[5].median_distance == pytest.approx(0.46)
    assert not verdicts[6].kept and verdicts[6].max_distance == pytest.approx(0.53)
    assert 7 not in verdicts  # text is never matched
    rec = plan.settings["keep"]
    assert rec["kept"] == [1] and rec["by_face"]["threshold"] == 0.45 and rec["by_face"]["ceiling"] == 0.52
    assert "embedding" not in repr(rec)


def test_keep_face_keeps_a_second_track_on_the_kept_face_and_only_that(monkeypatch):
    """A weak second detection on part of the kept face (its own track) is kept with it; a face that sticks out
    of the kept box, or re-detects as another face, is not."""
    host = [TrackBox(f, (0.0, 0.0, 40.0, 40.0), 0.9) for f in range(10)]
    inside = [TrackBox(f, (10.0, 20.0, 30.0, 38.0), 0.4, "detected" if f in (0, 5) else "interpolated")
              for f in range(8)]
    sticking_out = [TrackBox(f, (30.0, 10.0, 50.0, 30.0), 0.4) for f in range(0, 10, 3)]
    other_face = [TrackBox(f, (2.0, 2.0, 12.0, 12.0), 0.4) for f in range(0, 10, 3)]
    plan = Plan(InputInfo("x.mp4", "0" * 64, "video", 64, 64, 10, 25.0),
                [Track(1, "face", host), Track(2, "face", inside), Track(3, "face", sticking_out),
                 Track(4, "face", other_face)])
    table = {(t, f): 0.8 for t in (2, 3, 4) for f in range(10)}
    _fake_embeddings(monkeypatch, table)
    located = []

    def fake_locate_regions(path, wanted, embedder, *, allow_truncated=True):
        out = {}
        for f, items in wanted.items():
            for key, _box in items:
                located.append(key)
                tid, role = key
                # the host's region and track 2's resolve to the same face; track 4's to a small face of its own
                out[(f, key)] = (3.0, 3.0, 11.0, 11.0) if tid == 4 and role == "own" else (5.0, 5.0, 35.0, 38.0)
        return out

    monkeypatch.setattr(identity, "locate_regions", fake_locate_regions)
    verdicts = {v.id: v for v in keep_matching_faces(plan, "x.mp4", np.zeros(2, np.float32), _FakeEmbedder(),
                                                     threshold=0.45, ceiling=0.52)}
    assert [t.action for t in plan.tracks] == ["keep", "keep", "redact", "redact"]
    assert verdicts[2].kept and verdicts[2].duplicate_of == 1 and verdicts[1].duplicate_of is None
    assert not verdicts[3].kept and not verdicts[4].kept
    assert {k[0] for k in located} == {2, 4}  # track 3 sticks out of the box: never even re-detected
    assert plan.settings["keep"]["kept"] == [1, 2]


def test_track_matches_rule():
    from redact.policy import track_matches

    assert track_matches([0.3, 0.5, 0.4], 0.45, 0.52)
    assert not track_matches([0.3, 0.5, 0.5], 0.45, 0.52)  # median 0.5
    assert not track_matches([0.1, 0.1, 0.52], 0.45, 0.52)  # a sample at the ceiling
    assert not track_matches([0.1, None, 0.1], 0.45, 0.52)  # a sample that could not be embedded
    assert not track_matches([], 0.45, 0.52)
    assert track_matches([0.44, 0.44], 0.45, 0.52) and not track_matches([0.40, 0.51], 0.45, 0.52)  # median 0.455
    with pytest.raises(ValueError):
        keep_matching_faces(_plan(), "x.mp4", np.zeros(2, np.float32), _FakeEmbedder(), threshold=0.5,
                            ceiling=0.4)


def test_samples_cover_the_span_and_the_crossings():
    a = Track(1, "face", [TrackBox(f, (0.0, 0.0, 10.0, 10.0), 0.9) for f in range(200)])
    b = Track(2, "face", [TrackBox(f, (5.0, 5.0, 15.0, 15.0) if 90 <= f < 95 else (50.0, 50.0, 60.0, 60.0), 0.9)
                          for f in range(200)])
    frames = sample_frames(a, face_boxes_by_frame([a, b]))
    assert frames[0] == 0 and frames[-1] == 199
    assert set(range(90, 95)) <= set(frames)  # every frame where another face touches it
    assert len(frames) <= 16 + 5


# -- on the shipped sample --------------------------------------------------------------------------------------

def _samples_module():
    spec = importlib.util.spec_from_file_location("make_samples_for_keep", ROOT / "samples" / "make_samples.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _truth(i: int) -> dict[str, tuple[int, int, int, int]]:
    """Where the patient's head, the monitor's text and the nurse's badge are in frame ``i`` of demo.mp4
    (from samples/make_samples.py's geometry, not from the plan)."""
    ms = _samples_module()
    ox, oy = ms.camera_offset(i)
    sx = int(478 + 16 * math.sin(i * 0.09) + 4 * math.sin(i * 0.31))  # the nurse sways (render_frame)
    sy = int(150 + 4 * math.sin(i * 0.17))
    fs = 104  # staff face size; the badge hangs at (-2, 214) in her sprite (make_person), 284 x 128
    world = {"head": (172, 300, 282, 440), "screen_text": (160, 74, 460, 210),
             "badge": (sx - 2 + 12, sy + 12 + int(fs * 1.95) + 44, sx - 2 + 270, sy + 12 + int(fs * 1.95) + 120)}
    return {k: (x1 - ox, y1 - oy, x2 - ox, y2 - oy) for k, (x1, y1, x2, y2) in world.items()}


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def _crop(img, box):
    x1, y1, x2, y2 = (int(v) for v in box)
    return img[y1:y2, x1:x2]


@pytest.fixture(scope="module")
def sample_plan():
    from redact.pipeline import scan

    return scan(SAMPLE).plan


def _patient_track(plan: Plan) -> Track:
    head = _truth(0)["head"]

    def overlap(t):
        b = next(b.box for b in t.boxes if b.frame == 0)
        w = min(b[2], head[2]) - max(b[0], head[0])
        h = min(b[3], head[3]) - max(b[1], head[1])
        return max(w, 0) * max(h, 0)

    return max((t for t in plan.tracks if t.kind == "face" and t.first_frame == 0), key=overlap)


def check_patient_kept(src, dst, plan: Plan, patient: Track, step: int = 3) -> None:
    """Every ``step``-th frame of the sample: the kept patient's box is the source (PSNR >= 30 dB), except where
    a redact box crosses it (late in the clip the badge text's tracked box grows into its edge: that strip stays
    redacted), while the monitor's text and the badge are unreadable (changed strongly, PSNR < 22 dB)."""
    kept = {b.frame: b.box for b in patient.boxes}
    by_frame = plan.boxes_by_frame()
    for i in range(0, len(src), step):
        truth = _truth(i)
        x1, y1, x2, y2 = (int(v) for v in kept[i])
        mask = np.ones((y2 - y1, x2 - x1), bool)
        for t, b in by_frame[i]:
            if t.action == "redact":
                bx1, by1, bx2, by2 = (int(v) for v in b.box)
                mask[max(by1 - y1, 0):max(by2 - y1, 0), max(bx1 - x1, 0):max(bx2 - x1, 0)] = False
        assert mask.mean() > 0.7, i
        assert _psnr(_crop(src[i], kept[i])[mask], _crop(dst[i], kept[i])[mask]) >= 30, i
        for name in ("screen_text", "badge"):
            diff = np.abs(_crop(src[i], truth[name]).astype(np.int16) - _crop(dst[i], truth[name])).mean()
            assert diff > 15, (i, name, diff)
            assert _psnr(_crop(src[i], truth[name]), _crop(dst[i], truth[name])) < 22, (i, name)


@pytest.mark.slow
def test_kept_patient_is_untouched_while_badge_and_screen_stay_redacted(sample_plan, tmp_path):
    from redact.io import read_frames
    from redact.pipeline import render

    plan = copy.deepcopy(sample_plan)
    patient = _patient_track(plan)
    apply_keep(plan, [patient.id])
    out = tmp_path / "kept.mp4"
    render(SAMPLE, plan, out)
    src, dst = read_frames(SAMPLE), read_frames(out)
    assert len(src) == len(dst) == 100
    check_patient_kept(src, dst, plan, patient)
    kept = {b.frame: b.box for b in patient.boxes}
    # and the same plan without the keep blurs the patient: the check above can fail
    plain = tmp_path / "plain.mp4"
    render(SAMPLE, sample_plan, plain)
    box = kept[50]
    assert _psnr(_crop(src[50], box), _crop(read_frames(plain)[50], box)) < 28


def test_a_kept_face_does_not_unredact_an_overlapping_badge(tmp_path):
    from redact.io import read_frames, sha256_file
    from redact.pipeline import render

    yy, xx = np.mgrid[0:120, 0:160]
    pattern = (127 + 100 * np.sin(xx / 1.5) * np.cos(yy / 2.0)).astype(np.uint8)
    src_path = tmp_path / "stripes.mp4"
    make_video(src_path, width=160, height=120, frames=3, fps=10, audio=False,
               draw=lambda i, *a: np.repeat(pattern[:, :, None], 3, axis=2))
    face = Track(1, "face", [TrackBox(f, (20.0, 20.0, 100.0, 100.0), 0.9) for f in range(3)])
    badge = Track(2, "badge", [TrackBox(f, (80.0, 60.0, 140.0, 110.0), 0.9) for f in range(3)])
    plan = Plan(InputInfo(str(src_path), sha256_file(src_path), "video", 160, 120, 3, 10.0), [face, badge])
    apply_keep(plan, [1])
    render(src_path, plan, tmp_path / "out.mp4")
    src, out = read_frames(src_path)[1], read_frames(tmp_path / "out.mp4")[1]
    assert _psnr(src[20:60, 20:80], out[20:60, 20:80]) >= 30  # kept only: untouched
    assert _psnr(src[64:100, 84:100], out[64:100, 84:100]) < 20  # kept and badge: redacted
    assert _psnr(src[64:100, 104:136], out[64:100, 104:136]) < 20  # badge only: redacted


@pytest.mark.slow
@needs_identity
def test_keep_face_keeps_the_patient_and_nobody_else(sample_plan, tmp_path, astronaut):
    from redact.identity import FaceEmbedder, embed_reference

    photo = tmp_path / "me.jpg"
    Image.fromarray(astronaut).save(photo, quality=92)
    embedder = FaceEmbedder(provider="cpu")
    ref = embed_reference(embedder, photo)
    plan = copy.deepcopy(sample_plan)
    verdicts = keep_matching_faces(plan, SAMPLE, ref, embedder)
    patient = _patient_track(plan)
    kept = [t.id for t in plan.tracks if t.action == "keep"]
    assert kept == [patient.id]
    faces = [t for t in plan.tracks if t.kind == "face"]
    assert len(faces) >= 4 and len(verdicts) == len(faces)  # staff, badge photo, bystander all judged
    v = next(v for v in verdicts if v.id == patient.id)
    assert v.samples >= 10 and v.matched == v.samples and v.max_distance < identity.DEFAULT_THRESHOLD
    assert all(v.max_distance is None or v.max_distance > identity.CEILING for v in verdicts
               if v.id != patient.id)


@needs_identity
def test_reference_photo_must_show_exactly_one_face(tmp_path, astronaut):
    from redact.errors import RedactError
    from redact.identity import FaceEmbedder, embed_reference

    two = np.concatenate([astronaut[:256, 96:352], astronaut[:256, 96:352]], axis=1)
    Image.fromarray(two).save(tmp_path / "two.jpg")
    Image.fromarray(np.full((200, 200, 3), 180, np.uint8)).save(tmp_path / "none.jpg")
    embedder = FaceEmbedder(provider="cpu")
    with pytest.raises(RedactError, match="exactly one face; found 2"):
        embed_reference(embedder, tmp_path / "two.jpg")
    with pytest.raises(RedactError, match="found 0"):
        embed_reference(embedder, tmp_path / "none.jpg")


# -- the command line ---------------------------------------------------------------------------------------------

@pytest.fixture
def clip(tmp_path, face_scene):
    p = tmp_path / "clip.mp4"
    make_video(p, width=320, height=240, frames=8, fps=10, audio=False, draw=face_scene)
    return p


def test_cli_keep_by_id_shows_the_kept_track(clip, tmp_path):
    import json

    out = tmp_path / "out" / "clean.mp4"
    out.parent.mkdir()
    r = CliRunner().invoke(cli, ["run", str(clip), "-o", str(out), "--text", "off", "--keep", "1"])
    assert r.exit_code == 0, r.output
    assert "kept (not redacted): track 1 (face)" in r.output
    rep = json.loads((tmp_path / "out" / "clean.report.json").read_text())
    assert [t["action"] for t in rep["tracks"] if t["id"] == 1] == ["keep"]
    assert rep["summary"]["kept_by_kind"] == {"face": 1} and rep["settings"]["keep"]["kept"] == [1]


@pytest.mark.parametrize("args, code, message", [
    (["--keep", "99"], 1, "unknown track id(s) 99"),
    (["--keep", "x"], 2, "not a track id"),
])
def test_cli_bad_keep_is_a_clear_error_and_writes_nothing(clip, tmp_path, args, code, message):
    out = tmp_path / "out"
    out.mkdir()
    r = CliRunner().invoke(cli, ["run", str(clip), "-o", str(out / "o.mp4"), "--text", "off", *args])
    assert r.exit_code == code, r.output
    assert message in r.output and "Traceback" not in r.output
    assert listdir(out) == []


def test_cli_keep_face_without_the_extra_says_how_to_install_it(clip, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dlib", None)  # import dlib -> ImportError
    out = tmp_path / "out"
    out.mkdir()
    photo = tmp_path / "me.jpg"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(photo)
    r = CliRunner().invoke(cli, ["run", str(clip), "-o", str(out / "o.mp4"), "--keep-face", str(photo)])
    assert r.exit_code == 1, r.output
    assert "pip install '.[keep-face]'" in r.output
    assert listdir(out) == []


def test_cli_render_honours_keep_in_an_edited_plan_and_keep_option(clip, tmp_path):
    import json

    r = CliRunner().invoke(cli, ["-q", "scan", str(clip), "--text", "off", "--json"])
    plan = json.loads(r.output)
    faces = [t["id"] for t in plan["tracks"] if t["kind"] == "face"]
    assert faces
    plan["tracks"][0]["action"] = "keep"
    p = tmp_path / "plan.json"
    p.write_text(json.dumps(plan))
    r = CliRunner().invoke(cli, ["render", str(clip), "--plan", str(p), "-o", str(tmp_path / "a.mp4")])
    assert r.exit_code == 0 and f"track {plan['tracks'][0]['id']} (face)" in r.output
    r = CliRunner().invoke(cli, ["render", str(clip), "--plan", str(p), "-o", str(tmp_path / "b.mp4"), "--keep", "99"])
    assert r.exit_code == 1 and "unknown track id(s) 99" in r.output
    assert not (tmp_path / "b.mp4").exists()


HEAD_POSE = SHARED / "footage" / "intel_preview_head-pose-face-detection-{}.gif"


@pytest.mark.slow
@needs_identity
@pytest.mark.skipif(not HEAD_POSE.with_name(HEAD_POSE.name.format("female")).is_file(),
                    reason="../shared footage not present")
def test_keep_face_on_real_footage_keeps_the_woman_and_not_the_man(tmp_path):
    """The done-when on shared footage: a photo of the woman from one clip keeps her, and only her, in another
    (her face untouched, the man's face blurred)."""
    from redact.identity import FaceEmbedder, embed_reference
    from redact.io import FrameSource
    from redact.pipeline import ScanOptions, scan

    embedder = FaceEmbedder(provider="cpu")
    with FrameSource(str(HEAD_POSE).format("female")) as src:
        image = next(f.image for f in src if f.index == 10)
    x1, y1, x2, y2 = embedder.locate(image)
    w, h = x2 - x1, y2 - y1
    photo = tmp_path / "her.png"
    Image.fromarray(image[max(0, int(y1 - h)):int(y2 + h), max(0, int(x1 - w)):int(x2 + w)]).save(photo)
    clip = str(HEAD_POSE).format("female-and-male")
    plan = scan(clip, ScanOptions(text="off", badges=False, provider="cpu")).plan
    keep_matching_faces(plan, clip, embed_reference(embedder, photo), embedder)
    faces = [t for t in plan.tracks if t.kind == "face"]
    centre_x = {t.id: float(np.mean([(b.box[0] + b.box[2]) / 2 for b in t.boxes])) for t in faces}
    kept = {t.id for t in faces if t.action == "keep"}
    her = {tid for tid, x in centre_x.items() if x < 240}  # she is on the left half of the 480 px frame
    assert kept and kept <= her  # her track (and a second track on her chin, if the detector made one) only
    assert any(len(t.boxes) >= 50 for t in faces if t.id in kept), [(t.id, len(t.boxes)) for t in faces]
    assert all(t.action == "redact" for t in faces if t.id not in her)  # the man
    assert all(t.action == "keep" for t in faces if t.id in her)  # no part of her face left to blur
