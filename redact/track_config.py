"""What a :class:`redact.track.Tracker` is told: matching, gap, rolls, padding and growth, and how the camera motion is
used (:class:`TrackerConfig`). The rules these settings tune are in :mod:`redact.track`'s notes; ``Tracker`` and the
constants named below (``PIN_MARGIN``) are that module's."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class TrackerConfig:
    iou_match: float = 0.3
    """A detection continues a track if its IoU with the track's predicted box is at least this ..."""
    centre_match: float = 2.0
    """... or, failing that, if its centre is within this many box sides (the larger box's longer
    side) of the predicted centre and the two sizes differ by less than ``size_match`` times."""
    size_match: float = 2.0
    """(see ``centre_match``: the square root of the ratio of the two boxes' areas)"""
    scene_match: float = 0.6
    """Where the prediction was carried along the measured camera motion (see :meth:`Tracker.update`), the centre
    gate is this many sides, plus ``scene_match_growth`` sides per frame since the track's last detection (at most
    ``centre_match``): the prediction then knows where the scene went, so a face missed on this frame is not matched
    to its neighbour in a crowd."""
    scene_match_growth: float = 0.05
    """(see ``scene_match``)"""
    new_match_picture: bool = True
    """A track whose own speed in the scene is not measured yet (one detection) may also match a detection near its
    picture-space prediction (``centre_match``), at a cost above any match in the scene: an object crossing the
    frame against a pan moves further in the scene than in the picture."""
    max_gap: int = 15
    """Frames a track survives without a detection (a detector blink, a head turn)."""
    pre_roll: int = 5
    """Frames covered before a track's first detection (the face was probably there already)."""
    post_roll: int = 10
    """Frames covered after a track's last detection."""
    pad: float = 0.25
    """Padding on each side, as a fraction of the box's width / height."""
    motion_pad: float = 2.0
    """Extra padding on each side: this many frames of the box's speed (per axis)."""
    carry_growth: float = 0.05
    """Away from a detection, each frame of distance adds this fraction of the size per side (and,
    before the first / after the last detection, the box's speed times that distance) ..."""
    max_growth: float = 1.0
    """... together at most this fraction of the size per side."""
    scene_tol: float = 0.5
    """With camera motion: an object counts as static in the scene between two detections when the first,
    carried along the camera motion to the second's frame, is off by at most this fraction of the box size
    (per axis, at least ``scene_tol_px``); then the frames between also cover both carried boxes whole."""
    scene_tol_px: float = 8.0
    static_growth: bool = True
    """Whether the frames between two detections of an object static in the scene (see ``scene_tol``) grow with
    their distance from a detection as other frames do. Text is rigid and does not move between two readings that
    agree: those frames are covered by both readings carried along the camera motion, without growth (a burnt-in
    caption read at the same place 25 frames apart grew by 10% of its width towards the middle)."""
    confirm_hits: int = 3
    """A track with this many detections (frames) is confirmed ..."""
    confirm_score: float = 0.5
    """... and so is one with a detection scoring at least this. Unconfirmed tracks get no growth and no rolls
    beyond their own detections' spacing (see :mod:`redact.track`'s notes)."""
    lone_score: float = 0.0
    """A track with a single detection is confirmed by its score only where that scores at least this (and
    ``confirm_score``); 0: ``confirm_score`` alone. One box seen on one frame, never again on the frames after it that
    the detectors looked at, earned the full rolls and growth of a face at 0.3; on the faces-crowd clips dressed in
    masks and caps three such boxes of the light 320 px pass (a shirt, a woman's hair from behind, a headscarf under a
    chin; scored 0.50-0.53) were 28% of the face spill (docs/benchmarks.md, "Faces in masks and caps: where the
    spill comes from"). Such a track is still covered wherever it was seen (see ``confirm_score``)."""
    max_extra: float = 0.6
    """Padding + motion padding + growth: at most this fraction of the detection's size on each side."""
    pad_px: float = 0.0
    """Padding on each side is at least this many pixels (a 12 px face in a crowd jitters by more than 15% of it)."""
    scene_fill: bool = False
    """Where the camera motion is known, the box between two detections is where the scene-consistent motion puts it
    (both detections carried along the camera motion and blended; both carried boxes too when the object is static
    in the scene), and a roll frame's box is the detection carried along the camera motion, each padded by the
    object's own speed in the scene, not also the picture-space blend / the box left where the object was in the
    picture. Where the motion is unknown (flat frame, cut), as without motion."""
    union_scale: float = 3.0
    """A box that covers both where an object was and where the camera motion carried it is at most this many times
    its detection per side; beyond that the measured motion is followed (see :meth:`Tracker._grown`)."""
    cadence_roll: float = 2.0
    """A confirmed track's rolls are at most this many times its longest interval between detections (0: off) ...
    """
    min_roll: int = 3
    """... and at least this many frames (never more than ``pre_roll`` / ``post_roll``). A face that an every-frame
    detector re-finds on each frame was watched coming and going: it needs a few frames of roll, not the stride of
    the slowest detector of its kind; one found only every 8th or 16th frame keeps rolls of that stride."""
    fill_growth: float = 1.0
    """Between two detections, growth (``carry_growth``) runs at this share of its rate in the rolls: beyond the last
    detection nothing bounds where the object went, between two both ends do."""
    merge_contained: float = 0.0
    """With this > 0, detections of one frame of which one lies at least this share of its area inside another are
    one object: their enclosing box is tracked (CenterFace reports a forehead or a cheek beside the whole face, and
    such a box became a second track on the same face, with rolls and growth of its own). Nothing is dropped."""
    part_area: float = 0.0
    """With this > 0 and the camera motion given to :meth:`Tracker.update`: a detection that continues a track and,
    against the track's previous detection carried along the camera motion to its frame, lies at least ``part_inside``
    of its area inside it while smaller than ``part_area`` of its area, is a part of the same object (CenterFace boxes
    the eyes and brows alone of a face in a surgical mask and theatre cap): the box enclosing both is tracked on that
    frame. Nothing is dropped (boxes only grow); 0: off."""
    part_inside: float = 0.8
    """(see ``part_area``)"""
    watched: bool = False
    """With ``scene_fill``: a change watch looks at every frame after each detection of this kind (text,
    :mod:`redact.detect.watch`), so where the camera motion is known the frames between two detections and after the
    last one are padded by no speed of the object's own (no motion padding, no drift): text that moves on its own is
    followed there (the tracker gets it where it is) or read again, and the speed measured between two readings of a
    line was mostly the change of its box's extent (words found at one reading, the whole line at the next; a side
    padded over ink at one reading and not at the next), which grew boxes after the last reading by up to
    ``max_extra`` of the line a side. Frames before the first detection (nobody watched the line there) keep it. Set
    only for such a kind (:func:`redact.detect.schedule.tracker_config_for` turns it off where a detector of the kind
    has no watch)."""
    scene_growth: float | None = None
    """With ``scene_fill``, growth per frame (instead of ``carry_growth``) of a box carried along the known camera
    motion; None: ``carry_growth``. For a kind whose every frame a change watch looks at (text,
    :mod:`redact.detect.watch`): what it found stays where the camera motion carries it, or the watch follows it on
    its own, or reads it again; growth would only cover an error of the motion. Set only for such a kind
    (:func:`redact.detect.schedule.tracker_config_for`); where the motion is unknown, boxes grow as before."""
    pinned: bool = False
    """Whether an object found twice at the same place in the picture while the camera motion says it should have
    moved (:data:`PIN_MARGIN`) is fixed in the picture from then on (until two detections agree with the motion
    better): a caption, a clock or a frame counter burnt into the video, text on a screen recorded by the camera
    itself, or any writing while the motion estimate follows a crowd walking past a still camera. Such a track is
    matched where it was in the picture, and the frames between, before and after its detections get its boxes
    there, not carried along the camera motion (on a still night crowd shot, whose estimated motion drifted by
    46 px and 3 degrees in a second, a caption's box carried so grew by half its height between two readings, and a
    held box carried so made a new track at every reading, each rolled and grown by the bogus speed)."""

    def __post_init__(self) -> None:
        for name in ("iou_match", "centre_match", "scene_match", "scene_match_growth", "pad", "motion_pad",
                     "carry_growth", "max_growth", "scene_tol", "scene_tol_px", "confirm_score", "lone_score", "max_extra",
                     "cadence_roll", "pad_px", "union_scale", "fill_growth", "merge_contained", "size_match",
                     "part_area", "part_inside"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"TrackerConfig.{name} must be a finite number >= 0, got {v!r}")
        v = self.scene_growth
        if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise ValueError(f"TrackerConfig.scene_growth must be None or a finite number >= 0, got {v!r}")
        if self.size_match <= 1:
            raise ValueError(f"TrackerConfig.size_match must be more than 1, got {self.size_match!r}")
        if not 0 < self.iou_match <= 1:
            raise ValueError(f"TrackerConfig.iou_match must be in (0, 1], got {self.iou_match}")
        for name in ("max_gap", "pre_roll", "post_roll", "confirm_hits", "min_roll"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                raise ValueError(f"TrackerConfig.{name} must be an integer >= 0, got {v!r}")
