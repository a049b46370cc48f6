"""A batch item saved again from ``redact review``: the save is recorded in the manifest ("reviewed"), ``verify``
tells a change after the batch from damage, and a batch re-run never cleans the item again over the reviewer's
choices (nor overwrites any file that differs from its record)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from redact.batch import BatchSettings, InlineExecutor, run_batch
from redact.errors import OutputError, RedactError
from redact.batch.driver import folder_lock
from redact.manifest import MANIFEST_NAME, Manifest, read_records, verify
from redact.pipeline import RenderOptions, ScanOptions, load_plan, render_and_report
from redact.review.session import ReviewSession

from .conftest import listdir
from .media import make_video
from .test_batch import FAST, invoke, settings, snapshot

DEADLINE_S = 300  # a bound on waiting for the background export, never a timing assertion
ITEM = "ward/face.mp4"
OUT = "ward/face.clean.mp4"
CHANGED_AFTER = "changed after the batch (reviewed? no review record in the manifest)"  # redact.manifest's


@pytest.fixture
def batched(tmp_path, face_scene):
    src, out = tmp_path / "in", tmp_path / "out"
    (src / "ward").mkdir(parents=True)
    make_video(src / ITEM, width=320, height=240, frames=3, fps=10, audio=False, draw=face_scene)
    make_video(src / "plain.mp4", width=64, height=48, frames=5, fps=10)
    s = run_batch(src, out, settings(), InlineExecutor())
    assert sorted(s.done) == ["plain.mp4", ITEM]
    return src, out


def records(out: Path) -> list[dict]:
    return read_records(out / MANIFEST_NAME)


def review(src: Path, out: Path) -> ReviewSession:
    session = ReviewSession(ScanOptions(text="off"))
    session.open(src / ITEM, output=out / OUT)
    assert session.status()["state"] == "ready"  # the batch's plan is reused: no scan
    return session


def keep_faces_and_draw(session: ReviewSession) -> int:
    faces = [t.id for t in session.plan.tracks if t.kind == "face"]
    assert faces
    for tid in faces:
        session.set_action(tid, "keep")
    session.add_manual("badge", [10, 10, 60, 40], 0, 2)
    return len(faces)


def save(session: ReviewSession) -> dict:
    session.export()
    end = time.monotonic() + DEADLINE_S
    while session.busy():
        assert time.monotonic() < end
        time.sleep(0.1)
    return session.job.to_dict()


def test_a_review_save_is_recorded_verifies_and_a_rerun_keeps_it(batched):
    src, out = batched
    before = records(out)
    session = review(src, out)
    faces = keep_faces_and_draw(session)
    job = save(session)
    session.close()
    assert job["state"] == "done", job
    recs = records(out)
    assert len(recs) == len(before) + 1
    rec = recs[-1]
    assert rec["status"] == "reviewed" and rec["input"] == next(r["input"] for r in before if r["input"]["path"] == ITEM)
    assert rec["review"] == {"kept": faces, "drawn": 1, "changed_action": faces, "added": 1, "removed": 0}
    assert rec["settings_key"] == before[0]["settings_key"] and rec["tool"]["name"] == "redact"
    assert rec["output"]["path"] == OUT and rec["report_html"] is None  # as the batch made it (--no-html)
    assert rec["summary"]["tracks_by_kind"] == {"badge": 1}
    # the plan beside the copy is what was rendered, and names the copy as the batch does
    plan = load_plan(out / rec["plan"]["path"])
    assert sum(t.action == "keep" for t in plan.tracks) == faces
    assert plan.settings["render"]["preset"] == "ultrafast"  # the batch's render settings, not the page's
    report = json.loads((out / rec["report_json"]["path"]).read_text())
    assert report["output"]["path"] == OUT
    res = verify(out)
    assert res.ok, res.problems
    assert res.reviewed == [ITEM]
    r = invoke("verify", out)
    assert r.exit_code == 0 and "saved again from `redact review`" in r.output

    # the same settings: the item is done (its latest record is the review), nothing rewritten
    after = snapshot(out)
    s = run_batch(src, out, settings(), InlineExecutor())
    assert sorted(s.resumed) == ["plain.mp4", ITEM] and s.reviewed == 1 and s.ok
    assert snapshot(out) == after
    # other settings: plain is cleaned again, the reviewed item is not, and the batch says why
    r = invoke("batch", src, "-o", out, *FAST, "--style", "fill")
    assert r.exit_code == 1, r.output
    assert f"kept    {ITEM}: reviewed after the batch" in r.output
    assert "1 not redone" in r.output
    now = snapshot(out)
    assert all(now[p] == after[p] for p in after if p.startswith("ward/"))
    assert now["plain.clean.mp4"] != after["plain.clean.mp4"]
    assert verify(out).ok
    assert records(out)[-1]["input"]["path"] == "plain.mp4"  # a refusal is not recorded: the review stays latest


def test_verify_tells_a_change_after_the_batch_from_damage(batched):
    src, out = batched
    session = review(src, out)
    keep_faces_and_draw(session)  # saved to the batch's plan at once; the copy not saved again
    session.close()
    good = (out / "plain.clean.mp4").read_bytes()
    (out / "plain.clean.mp4").write_bytes(b"damaged")
    res = verify(out)
    assert not res.ok
    problems = dict(res.problems)
    assert problems["ward/face.clean.plan.json"] == CHANGED_AFTER
    assert problems["plain.clean.mp4"] == "sha256 mismatch"
    assert res.changed_after == ["ward/face.clean.plan.json"]
    r = invoke("verify", out)
    assert r.exit_code == 1
    assert f"{CHANGED_AFTER}: ward/face.clean.plan.json" in r.output
    assert "sha256 mismatch: plain.clean.mp4" in r.output
    # a report changed alone (the copy and plan as recorded) is not what a review leaves: damage
    (out / "plain.clean.mp4").write_bytes(good)
    report = json.loads((out / "plain.clean.report.json").read_text())
    (out / "plain.clean.report.json").write_text(json.dumps({**report, "tracks": []}))
    assert dict(verify(out).problems)["plain.clean.report.json"] == "sha256 mismatch"


def test_a_rerun_never_overwrites_a_copy_changed_after_the_batch(batched):
    """A save from an older review (no record): the files differ from the manifest; the batch leaves them."""
    src, out = batched
    plan = load_plan(out / "ward/face.clean.plan.json")
    for t in plan.tracks:
        if t.kind == "face":
            t.action = "keep"
    render_and_report(src / ITEM, plan, out / OUT, RenderOptions(preset="ultrafast"),
                      plan_path=out / "ward/face.clean.plan.json", html=False)
    changed = snapshot(out)
    assert set(dict(verify(out).problems).values()) == {CHANGED_AFTER}
    for other in (settings(), BatchSettings(ScanOptions(text="off").to_dict(),
                                            RenderOptions(preset="ultrafast", style="fill").to_dict(), html=False)):
        s = run_batch(src, out, other, InlineExecutor())
        assert [rel for rel, _why in s.refused] == [ITEM] and not s.ok
        assert "changed after the batch recorded it" in s.refused[0][1]
        now = snapshot(out)
        assert all(now[p] == changed[p] for p in changed if p.startswith("ward/"))
    # saved again from review, the item is recorded and verifies
    session = review(src, out)
    job = save(session)
    session.close()
    assert job["state"] == "done", job
    assert records(out)[-1]["review"]["changed_action"] is None  # the plan had been changed without a record
    assert verify(out).ok


def test_a_review_save_fails_closed(batched, monkeypatch, tmp_path, face_scene):
    src, out = batched
    before = snapshot(out)
    n = len(records(out))
    session = review(src, out)
    keep_faces_and_draw(session)
    plan_after_edits = (out / "ward/face.clean.plan.json").read_bytes()

    def full_disk(self, record):
        raise OutputError("cannot append to the manifest: No space left on device")

    with monkeypatch.context() as m:  # the record cannot be written: neither can the files
        m.setattr(Manifest, "append", full_disk)
        job = save(session)
    assert job["state"] == "error" and "No space left" in job["error"]
    now = snapshot(out)
    assert now["ward/face.clean.mp4"] == before["ward/face.clean.mp4"]
    assert (out / "ward/face.clean.plan.json").read_bytes() == plan_after_edits
    assert sorted(listdir(out / "ward")) == sorted(p.split("/")[1] for p in before if p.startswith("ward/"))
    assert len(records(out)) == n

    with folder_lock(out.resolve()):  # a batch is running on the folder
        job = save(session)
    assert job["state"] == "error" and "a batch is writing" in job["error"]
    assert snapshot(out)["ward/face.clean.mp4"] == before["ward/face.clean.mp4"] and len(records(out)) == n
    session.close()

    # another clip cannot be saved over the batch's copy of this one
    other = make_video(tmp_path / "other.mp4", width=320, height=240, frames=4, fps=10, audio=False,
                       draw=face_scene)
    with pytest.raises(RedactError, match="another file in the batch"):
        ReviewSession(ScanOptions(text="off")).open(other, output=out / OUT)
    assert snapshot(out)["ward/face.clean.mp4"] == before["ward/face.clean.mp4"]
