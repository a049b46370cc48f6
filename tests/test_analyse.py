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
