"""Frames decoded ahead on a thread of their own (redact.io.prefetch) and the camera motion and cuts worked out there
(redact.analyse.FrameLooker): the same frames, in the same order, the same errors where they were met, the same plan;
nothing left running."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from redact.analyse import FrameLooker, Looked
from redact.io import FrameSource
from redact.io.prefetch import prefetched
from tests.media import make_video, pattern


def _running() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "redact-prefetch"]


def test_items_in_order_with_the_work_done_on_the_thread():
    names: list[str] = []

    def work(x: int) -> int:
        names.append(threading.current_thread().name)
        return 2 * x

    with prefetched(range(50), work, depth=2) as items:
        assert list(items) == [2 * x for x in range(50)]
    assert set(names) == {"redact-prefetch"}
    assert _running() == []


def test_an_error_is_raised_after_the_items_before_it():
    def source():
        yield from range(5)
        raise ValueError("broken at 5")

    seen = []
    with pytest.raises(ValueError, match="broken at 5"):
        with prefetched(source()) as items:
            for x in items:
                seen.append(x)
    assert seen == [0, 1, 2, 3, 4]
    assert _running() == []


def test_leaving_early_stops_the_thread_and_closes_the_source():
    state = {"closed": False, "made": 0}

    def source():
        try:
            for i in range(10**6):
                state["made"] += 1
                yield i
        finally:
            state["closed"] = True

    with prefetched(source(), depth=3) as items:
        for x in items:
            if x == 2:
                break
    assert state["closed"] and state["made"] < 10
    assert _running() == []
    with pytest.raises(RuntimeError, match="consumer"):  # an error in the consumer: the same
        with prefetched(source(), depth=3) as items:
            next(items)
            raise RuntimeError("consumer")
    assert _running() == []


def test_frames_prefetched_are_the_frames_read(tmp_path):
    path = make_video(tmp_path / "c.mp4", frames=20, draw=lambda i: pattern(i))
    with FrameSource(path) as src:
        plain = [(f.index, f.pts, f.image.copy()) for f in src]
    with FrameSource(path) as src, prefetched(src, FrameLooker()) as items:
        looked = list(items)
    assert all(isinstance(x, Looked) for x in looked)
    assert [(x.frame.index, x.frame.pts) for x in looked] == [(i, p) for i, p, _ in plain]
    assert all(np.array_equal(x.frame.image, img) for x, (_, _, img) in zip(looked, plain))
    # the camera motion and cuts are those worked out frame by frame on the scan's own thread
    inline = FrameLooker()
    with FrameSource(path) as src:
        direct = [inline(f) for f in src]
    for a, b in zip(looked, direct):
        assert a.cut == b.cut and a.moved == b.moved
        assert (a.transform is None) == (b.transform is None)
        if a.transform is not None:
            assert np.array_equal(a.transform, b.transform)


def test_a_scan_plans_the_same_with_frames_looked_at_ahead(tmp_path, face_scene, monkeypatch):
    """The scan's frames come through the prefetching thread: the plan is the one made from the frames given one by
    one to analyse (the path segments take)."""
    import redact.pipeline as pipeline
    from redact.pipeline import ScanOptions, scan

    path = make_video(tmp_path / "f.mp4", width=320, height=240, frames=16, draw=face_scene)
    options = ScanOptions(text="off", badges=False)
    ahead = scan(path, options).plan.to_dict()
    original = pipeline.analyse

    def unprefetched(frames, *args, **kwargs):  # the items handed to analyse, back to plain frames
        return original([x.frame if isinstance(x, Looked) else x for x in frames], *args, **kwargs)

    monkeypatch.setattr(pipeline, "analyse", unprefetched)
    plain = scan(path, options).plan.to_dict()
    assert ahead["tracks"] == plain["tracks"] and len(ahead["tracks"]) >= 1
