"""PII categories travel with text detections through merging and tracking (never the text itself)."""

from __future__ import annotations

import numpy as np
import pytest

from redact.detect.base import merge_enclosing
from redact.track import build_tracks
from redact.types import Detections, most_sensitive


def test_most_sensitive_order():
    assert most_sensitive(["date", "nhs_number", None]) == "nhs_number"
    assert most_sensitive(["label", "name"]) == "name"
    assert most_sensitive([None, None]) is None
    assert most_sensitive(["zzz_unknown", "label"]) == "label"


def test_category_length_checked_and_propagated():
    with pytest.raises(ValueError):
        Detections(np.zeros((2, 4)), np.zeros(2), "text", category=["date"])
    d = Detections(np.array([[0, 0, 10, 10], [50, 50, 60, 60]]), np.array([0.9, 0.8]), "text",
                   category=["date", None])
    assert d.filter(np.array([False, True])).categories() == [None]
    assert d.clip(40, 40).categories() == ["date"]
    both = Detections.concat([d, Detections(np.array([[1, 1, 2, 2]]), np.array([0.5]), "text")])
    assert both.categories() == ["date", None, None]


def test_merge_keeps_the_most_sensitive_category():
    d = Detections(np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]]), np.array([0.9, 0.8, 0.7]),
                   "text", category=["label", "nhs_number", None])
    m = merge_enclosing(d, 0.5)
    assert len(m) == 2
    assert set(m.categories()) == {"nhs_number", None}


def test_track_category_is_the_most_sensitive_of_its_detections():
    per_frame = []
    for f in range(6):
        cat = "date" if f < 3 else "nhs_number"
        per_frame.append((f, Detections(np.array([[100, 100, 200, 130]]), np.array([0.9]), "text", category=[cat])))
    tracks = build_tracks(per_frame, 6, 640, 360, kind="text")
    assert len(tracks) == 1 and tracks[0].category == "nhs_number"
    assert tracks[0].to_dict()["category"] == "nhs_number"


def test_face_tracks_have_no_category():
    per_frame = [(f, Detections(np.array([[10, 10, 50, 50]]), np.array([0.9]))) for f in range(3)]
    assert build_tracks(per_frame, 3, 100, 100)[0].category is None
