"""The scan's per-frame analysis set-up (redact.analyse): the strides a segment's overlap is sized to, and the
tracker settings, the same for a serial scan and a segment-parallel one."""

from __future__ import annotations

from dataclasses import replace

import pytest

from redact.analyse import TRACKER_BASE, prepared_stack, stack_strides, tracker_configs
from redact.detect.schedule import Scheduled
from redact.detect.stack import default_stack
from redact.options import ScanOptions


@pytest.mark.parametrize("options", [
    ScanOptions(provider="cpu"),
    ScanOptions(provider="cpu", detect_every=1, tile_every=0, text="off", badges=False),
    ScanOptions(provider="cpu", detect_every=3, tile_every=32, text_every=40, badge_every=9),
], ids=["default", "faces-only", "other-strides"])
def test_every_stride_of_the_default_stack_sizes_the_overlap(options):
    # a segment analyses the longest stride (and a few frames) before its own: a detector added to the stack with
    # a longer stride than default_strides knows would get too short an overlap
    assert max(stack_strides(options, None)) >= max(s.every for s in default_stack(options))


def test_custom_detectors_size_the_overlap_by_their_own_strides():
    class Plain:
        kind = "face"

    stack = [Scheduled(Plain(), every=7), Plain(), Scheduled(Plain(), every=30)]
    assert stack_strides(ScanOptions(), stack) == [7, 30]


def test_trackers_are_configured_from_the_base_settings_sized_to_the_stack():
    class Face:
        kind = "face"

    stack = prepared_stack(ScanOptions(), [Scheduled(Face(), every=30)])
    configs = tracker_configs(stack)
    assert list(configs) == ["face"]
    assert configs["face"] == replace(TRACKER_BASE["face"], pre_roll=30, post_roll=30, max_gap=60)


class Recorder:
    """A stand-in tracker: what it was given, in order."""

    def __init__(self):
        self.calls = []

    def cut(self, frame_index):
        self.calls.append(("cut", frame_index))

    def update(self, frame_index, dets, motion=None):
        self.calls.append(("update", frame_index, dets.xyxy.tolist()))


def one_box(x: float):
    import numpy as np

    from redact.types import Detections

    return Detections(np.array([[x, 0, x + 10, 10]], np.float32), np.array([0.9], np.float32))


def test_tracker_feed_gives_each_frame_in_order_lagged_where_a_detector_hands_back():
    from redact.analyse import TrackerFeed

    face, text = Recorder(), Recorder()
    feed = TrackerFeed({"face": face, "text": text}, {"face": 2})
    for f in range(6):
        if f == 3:
            feed.cut(3)
        feed.add("face", f, one_box(f * 100))
        feed.add("text", f, one_box(f * 100))
        if f == 1:  # handed back to frame 0, which the face tracker has not been given yet: merged with its boxes
            feed.add("face", 0, one_box(2))
        if f == 4:  # to frame 1, already given: on the first frame still to give, 2 (nothing is dropped)
            feed.add("face", 1, one_box(900))
        feed.give(f)
        if f == 1:
            assert face.calls == [] and [c[1] for c in text.calls] == [0, 1]  # not lagged: as it always was
    feed.give(None)
    assert text.calls[3] == ("cut", 3) and [c[1] for c in text.calls] == [0, 1, 2, 3, 3, 4, 5]
    assert face.calls == [("update", 0, [[0, 0, 12, 10]]), ("update", 1, [[100, 0, 110, 10]]),
                          ("update", 2, [[200, 0, 210, 10], [900, 0, 910, 10]]), ("cut", 3),
                          ("update", 3, [[300, 0, 310, 10]]),
                          ("update", 4, [[400, 0, 410, 10]]), ("update", 5, [[500, 0, 510, 10]])]
