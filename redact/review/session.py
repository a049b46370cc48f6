"""One review: a clip, its plan (saved atomically on every change), and the background scan and export jobs.

No HTTP here (see :mod:`redact.review.server`). Rules the page cannot bend:

- only face tracks may be kept (:func:`redact.policy.apply_keep`), and speech tracks (spoken personal data, which
  the person can hear on the page and leave audible); everything else stays redacted;
- detected tracks cannot be deleted, only the boxes drawn by hand (``source: "manual"``) can;
- a change that cannot be saved to the plan file is undone, so the page, the plan file and an export agree;
- an export renders a snapshot of the plan with :func:`redact.pipeline.render` (atomic) and writes the report;
  if the report fails the cleaned copy is removed too: an error leaves no output behind;
- the sound of a speech track is played from memory (:meth:`ReviewSession.audio_wav`: the clip's first audio
  stream, decoded once while the clip is open and dropped with it), never written to a file;
- an upload (an unblurred copy) lives in the review's private folder (:mod:`redact.review.uploads`): it is
  removed with its plan and outputs when another clip is opened, and the folder when the review closes;
- a clip whose output a batch manifest records (``redact review IN/x.mp4 -o OUT/x.clean.mp4``) is saved as the
  batch made it and the save is recorded in the manifest, or nothing is written (:mod:`redact.review.batch_item`).
"""

from __future__ import annotations

import copy
import io
import logging
import math
import re
import shutil
import tempfile
import threading
import wave
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np

from ..errors import OutputError, PlanMismatchError, RedactError
from ..io import probe, same_file, sha256_file
from ..naming import default_output, plan_path as default_plan_path
from ..policy import KEEPABLE_KINDS
from ..timeline import Timeline
from ..types import Plan, Track, TrackBox, next_track_id
from . import uploads
from .batch_item import BatchItem, batch_item, save_item
from .frames import FrameStore

log = logging.getLogger(__name__)

DRAWABLE_KINDS = ("face", "badge", "text")
AUDIO_MARGIN = 0.3
"""Seconds of sound played on each side of a speech track's span."""
MIN_BOX_SIDE = 2.0
UPLOAD_CHUNK = 1 << 20
MAX_UPLOAD_BYTES = 16 << 30


class ReviewError(RedactError):
    """A request the review cannot honour (shown to the user as it is: it never quotes recognised text)."""


class NotFound(ReviewError):
    """No such track, frame or file."""


class Cancelled(Exception):
    """The review is closing: a running job stops (its outputs are removed by the atomic writers)."""


@dataclass
class Job:
    name: str  # "scan" | "export"
    state: str = "running"  # "running" | "done" | "error"
    stage: str = ""
    done: int = 0
    total: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def safe_name(name: str) -> str:
    """A plain file name for an upload (no folders, no odd characters), keeping its extension."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .") or "clip"
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = stem[:80] or "clip"
    return f"{stem}.{ext[:10]}" if ext else stem


def error_message(e: BaseException) -> str:
    """What the page may show: our own one-line errors, else only the type (a message could quote text)."""
    if isinstance(e, RedactError):
        return str(e)
    return f"unexpected error ({type(e).__name__})"


def thumbnail_spec(t: Track) -> tuple[tuple, int, tuple[float, ...]] | None:
    """``(key, frame, box)`` of the picture that stands for ``t``: its best detection, else its middle box."""
    if not t.boxes:
        return None
    detected = [b for b in t.boxes if b.source == "detected"]
    if detected:
        b = max(detected, key=lambda b: (b.score, -b.frame))
    else:
        ordered = sorted(t.boxes, key=lambda b: b.frame)
        b = ordered[len(ordered) // 2]
    box = tuple(float(v) for v in b.box)
    return (t.id, b.frame, box), b.frame, box


def speech_frames(span: tuple[float, float] | None, clock: Timeline, frames: int) -> tuple[int, int]:
    """The frames ``(first, last)`` a speech track's span covers (seconds on the report's clock,
    :func:`redact.report.clock.on_frame_clock`, as frame positions on ``clock``), within the clip."""
    a, b = (clock.frame_at(span[0]), clock.frame_at(span[1])) if span is not None else (None, None)
    if a is None or b is None or frames <= 0:
        return 0, 0
    a, b = round(a, 6), round(b, 6)  # a span ending where a frame starts does not reach into that frame
    first = min(max(int(math.floor(a)), 0), frames - 1)
    last = min(max(int(math.ceil(b)) - 1, first), frames - 1)
    return first, last


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """A 16-bit PCM mono WAV file of ``samples`` (int16), built in memory."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(np.ascontiguousarray(samples, "<i2").tobytes())
    return buf.getvalue()


def evidence_view(t: Track) -> dict[str, Any] | None:
    """What the detectors saw of ``t`` for the page: ``{"detections", "best_score" (2 decimals), "confirmed"}``,
    numbers only, or None (boxes drawn by hand, whole-frame covers, plans made before evidence was recorded)."""
    from ..report import track_evidence

    ev = track_evidence(t)
    if ev is not None:
        ev["best_score"] = round(ev["best_score"], 2)
    return ev


class ReviewSession:
    """The state behind the review page. Every public method is thread-safe."""

    def __init__(self, scan_options: Any = None, render_options: Any = None, jobs: int = 1) -> None:
        """A review with no clip yet; folders left in the temp dir by reviews that no longer run are removed.
        ``jobs``: segment workers for the scan and the export (``-j``, :mod:`redact.segments`)."""
        from ..pipeline import RenderOptions, ScanOptions

        self.scan_options = scan_options or ScanOptions()
        self.render_options = render_options or RenderOptions()
        self.jobs = jobs
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._tmp: Path | None = None  # the private folder for uploads (uploads.create), made on the first one
        self._upload: Path | None = None  # the current clip's own folder in it, if the clip was uploaded
        self.clip: Path | None = None
        self.kind = "video"
        self.uploaded = False
        self.output: Path | None = None
        self.plan_path: Path | None = None
        self.plan: Plan | None = None
        self.frames: FrameStore | None = None
        self.job: Job | None = None
        self.result: dict[str, Path] | None = None
        self.batch: BatchItem | None = None  # the batch item the output is, if a batch manifest records it
        self._audio_lock = threading.Lock()  # one decode at a time (taken before self._lock, never after)
        self._audio: tuple[int, np.ndarray, int] | None = None  # (generation, int16 samples, rate) of the clip
        self._generation = 0  # counts clips opened and closed: a decode finishing for an older one is dropped
        uploads.sweep()

    # -- opening a clip ----------------------------------------------------------------------------------------
    def open(self, path: str | Path, *, plan_path: str | Path | None = None, output: str | Path | None = None,
             uploaded: bool = False) -> None:
        """Review ``path``: reuse its plan file if it was made for these bytes, else scan it in the background.

        An explicit ``plan_path`` that exists must be a valid plan for this clip (otherwise an error: it is not
        overwritten). The default plan file (next to the output) is replaced when it belongs to other bytes."""
        from ..pipeline import load_plan

        path = Path(path).expanduser()
        info = probe(path)  # InputError for anything that is not readable media
        out = Path(output).expanduser() if output is not None else default_output(path, info.kind)
        if same_file(path, out):
            raise OutputError(f"refusing to overwrite the input: {out}")
        if not out.parent.is_dir():
            raise OutputError(f"output directory does not exist: {out.parent}")
        explicit = plan_path is not None
        ppath = Path(plan_path).expanduser() if plan_path is not None else default_plan_path(out)
        if same_file(path, ppath):
            raise OutputError(f"refusing to use the input as the plan file: {ppath}")
        hashed: list[str] = []

        def digest() -> str:  # the clip's SHA-256, hashed once and only when needed
            if not hashed:
                hashed.append(sha256_file(path))
            return hashed[0]

        # a batch's item: its save is recorded in the manifest (OutputError: not the bytes the batch cleaned)
        item = batch_item(digest, out)
        existing: Plan | None = None
        if ppath.exists():
            try:
                existing = load_plan(ppath)
            except RedactError:
                if explicit:
                    raise
                log.warning("the plan file next to the output is not a valid plan; scanning again")
            if existing is not None and existing.input.sha256 != digest():
                if explicit:
                    raise PlanMismatchError(f"the plan {ppath} was made for another file; choose another --plan "
                                            "(it is not overwritten)")
                existing = None
        with self._lock:
            if self.busy():
                raise ReviewError("please wait: the video is still being processed")
            self._reset()
            self.clip, self.kind, self.output, self.plan_path, self.uploaded = path, info.kind, out, ppath, uploaded
            self.batch = item
            previous, self._upload = self._upload, path.parent if uploaded else None
            if previous is not None and previous != self._upload:
                shutil.rmtree(previous, ignore_errors=True)  # the last upload, its plan and its outputs
            if existing is not None:
                self._ready(existing)
            else:
                self.job = Job("scan", stage="scan", total=info.frames)
                self._spawn(self._scan_job, self.job, path, ppath)

    def open_upload(self, name: str, stream: io.BufferedIOBase | BinaryIO, length: int) -> None:
        """Copy ``length`` bytes of an uploaded file into the review's private folder and review the copy."""
        if length <= 0:
            raise ReviewError("the file is empty")
        if length > MAX_UPLOAD_BYTES:
            raise ReviewError("the file is too large to review here")
        with self._lock:
            if self.busy():
                raise ReviewError("please wait: the video is still being processed")
            if self._stop.is_set():
                raise ReviewError("the review is closing")
            folder = Path(tempfile.mkdtemp(prefix="upload-", dir=self._tempdir()))
        dst = folder / safe_name(name)
        left = length
        try:
            with open(dst, "xb") as f:
                while left > 0:
                    chunk = stream.read(min(UPLOAD_CHUNK, left))
                    if not chunk:
                        raise ReviewError("the upload was interrupted")
                    f.write(chunk)
                    left -= len(chunk)
            self.open(dst, uploaded=True)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def _tempdir(self) -> Path:
        if self._tmp is None:
            self._tmp = uploads.create()
        return self._tmp

    def _reset(self) -> None:
        if self.frames is not None:
            self.frames.close()
        self.plan = self.frames = self.job = self.result = None
        self._audio = None
        self._generation += 1

    def _ready(self, plan: Plan) -> None:
        self.plan = plan
        self.frames = FrameStore(self.clip, allow_truncated=self.scan_options.allow_truncated)  # type: ignore[arg-type]
        self.frames.want_thumbnails([s for s in map(thumbnail_spec, plan.tracks) if s is not None])
        self._spawn(self.frames.warm, plan.input.frames, self._stop)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        t = threading.Thread(target=target, args=args, daemon=True, name="redact-review")
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _progress(self, job: Job) -> Callable[[str, int, int | None], None]:
        def progress(stage: str, done: int, total: int | None) -> None:
            if self._stop.is_set():
                raise Cancelled()
            job.stage, job.done, job.total = stage, done, total

        return progress

    def _scan_job(self, job: Job, clip: Path, ppath: Path) -> None:
        from ..pipeline import save_plan, scan

        try:
            plan = scan(clip, self.scan_options, progress=self._progress(job), jobs=self.jobs).plan
            save_plan(plan, ppath)
        except Exception as e:  # shown on the page; the scan wrote nothing
            log.debug("review scan failed", exc_info=True)
            job.state, job.error = "error", error_message(e)
            return
        with self._lock:
            if self.job is job:
                self._ready(plan)
                job.state = "done"

    # -- what the page shows -----------------------------------------------------------------------------------
    def busy(self) -> bool:
        with self._lock:
            return self.job is not None and self.job.state == "running"

    def status(self) -> dict[str, Any]:
        with self._lock:
            if self.clip is None:
                state = "choose"
            elif self.plan is not None:
                state = "exporting" if self.busy() else "ready"
            else:
                state = "scanning" if self.busy() else "error"
            out: dict[str, Any] = {"state": state, "job": self.job.to_dict() if self.job else None,
                                   "clip": self.clip.name if self.clip else None}
            if self.result is not None:
                out["result"] = {k: str(v) for k, v in self.result.items() if v is not None}  # no HTML: absent
            return out

    def view(self) -> dict[str, Any]:
        """The plan as the page needs it (ids, kinds, actions, categories, evidence and boxes; no text)."""
        from ..report import safe_category
        from ..report.clock import on_frame_clock, timeline

        with self._lock:
            plan = self._need_plan()
            inp = plan.input
            clock = timeline(plan)

            def frames_of(t: Track) -> tuple[int, int]:
                if t.kind == "speech":
                    return speech_frames(on_frame_clock(plan, t.span, clock) if t.span else None, clock, inp.frames)
                return t.first_frame, t.last_frame

            tracks = []
            for t in sorted(plan.tracks, key=lambda t: (frames_of(t)[0], t.id)):
                boxes = sorted(t.boxes, key=lambda b: b.frame)
                first, last = frames_of(t)
                row: dict[str, Any] = {
                    "id": t.id, "kind": t.kind, "action": t.action, "category": safe_category(t.category),
                    "manual": t.manual, "keepable": t.kind in KEEPABLE_KINDS, "first": first,
                    "last": last, "evidence": evidence_view(t),
                    "boxes": [[b.frame, *(round(float(v), 1) for v in b.box)] for b in boxes],
                }
                if t.kind == "speech" and t.span is not None:  # on the report's clock, and as frame positions
                    span = on_frame_clock(plan, t.span, clock)
                    row["span"] = [round(float(v), 3) for v in span]
                    at = [clock.frame_at(v) for v in span]
                    row["span_frames"] = [round(float(v), 3) if v is not None else None for v in at]
                tracks.append(row)
            return {
                "input": {"name": self.clip.name if self.clip else "", "kind": inp.kind, "width": inp.width,
                          "height": inp.height, "frames": inp.frames, "fps": inp.fps,
                          "timeline": clock.to_json()},
                "plan_path": str(self.plan_path), "output": str(self.output), "uploaded": self.uploaded,
                "speech_style": getattr(self.render_options, "speech", "bleep"),
                "tracks": tracks,
            }

    def frame_jpeg(self, index: int) -> bytes:
        with self._lock:
            plan, frames = self._need_plan(), self.frames
        if not 0 <= index < plan.input.frames or frames is None:
            raise NotFound(f"no frame {index}")
        try:
            return frames.preview(index)
        except KeyError:
            raise NotFound(f"frame {index} could not be decoded") from None

    def thumbnail_jpeg(self, track_id: int) -> bytes:
        with self._lock:
            t = self._track(track_id)
            spec, frames = thumbnail_spec(t), self.frames
        if spec is None or frames is None:
            raise NotFound(f"track {track_id} has no boxes")
        try:
            return frames.thumbnail(*spec)
        except KeyError:
            raise NotFound(f"track {track_id}'s frame could not be decoded") from None

    def audio_wav(self, track_id: int) -> bytes:
        """The original sound of speech track ``track_id`` (its span and :data:`AUDIO_MARGIN` either side) as a
        16-bit mono WAV file, built in memory. :class:`NotFound` for other tracks and clips without sound."""
        with self._lock:
            t = self._track(track_id)
            if t.kind != "speech" or t.span is None:
                raise NotFound(f"track {track_id} is not speech")
            span, clip, generation = t.span, self.clip, self._generation
        samples, rate = self._samples(clip, generation)  # type: ignore[arg-type]
        if samples.size == 0:
            raise NotFound("the video has no sound")
        a = max(int(math.floor((span[0] - AUDIO_MARGIN) * rate)), 0)
        b = min(int(math.ceil((span[1] + AUDIO_MARGIN) * rate)), samples.size)
        if b <= a:
            raise NotFound("the video has no sound there")
        return wav_bytes(samples[a:b], rate)

    def _samples(self, clip: Path, generation: int) -> tuple[np.ndarray, int]:
        """The clip's first audio stream as 16 kHz mono int16 (empty: no sound), decoded once while the clip is
        open."""
        from ..speech import load_audio

        with self._audio_lock:
            with self._lock:
                if self._audio is not None and self._audio[0] == generation:
                    return self._audio[1], self._audio[2]
            try:
                decoded, rate = load_audio(clip)
            except RedactError:
                log.debug("review: the clip's audio could not be decoded", exc_info=True)
                decoded, rate = np.zeros(0, np.float32), 16000
            decoded = np.array(decoded, np.float32)  # our own copy, converted in place (long clips)
            np.clip(decoded, -1.0, 1.0, out=decoded)
            decoded *= 32767.0
            np.rint(decoded, out=decoded)
            samples = decoded.astype(np.int16)
            del decoded
            with self._lock:
                if self._generation == generation:  # still the same clip: keep it for the next request
                    self._audio = (generation, samples, rate)
        return samples, rate

    def download(self, what: str) -> Path:
        with self._lock:
            p = (self.result or {}).get(what)
        if p is None or not p.is_file():
            raise NotFound("nothing to download yet")
        return p

    # -- edits (each saved to the plan file, or undone) --------------------------------------------------------
    def set_action(self, track_id: int, action: Any) -> None:
        from ..policy import KeepError, apply_keep

        if action not in ("keep", "redact"):
            raise ReviewError("action must be 'keep' or 'redact'")
        with self._lock:
            plan = self._need_plan()
            t = self._track(track_id)
            before, settings = t.action, copy.deepcopy(plan.settings)
            by_id = set(plan.settings.get("keep", {}).get("by_id", []))
            if action == "keep" and t.kind == "speech":  # left audible: the person heard it on the page
                t.action = "keep"
                by_id.add(track_id)
            elif action == "keep":
                try:
                    apply_keep(plan, [track_id])
                except KeepError:
                    raise ReviewError("only faces can be left visible; name badges and writing are always "
                                      "blurred") from None
                by_id.add(track_id)
            else:
                t.action = "redact"
                by_id.discard(track_id)
            keep = plan.settings.setdefault("keep", {})
            keep["by_id"] = sorted(by_id)
            keep["kept"] = sorted(x.id for x in plan.tracks if x.action == "keep")

            def undo() -> None:
                t.action, plan.settings = before, settings

            self._save(undo)

    def add_manual(self, kind: Any, box: Any, first: Any, last: Any) -> int:
        """A new redact track of ``kind`` with ``box`` (display pixels) on frames ``first..last``."""
        if kind not in DRAWABLE_KINDS:
            raise ReviewError(f"kind must be one of {', '.join(DRAWABLE_KINDS)}")
        if not (isinstance(box, list) and len(box) == 4 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in box)):
            raise ReviewError("box must be [x1, y1, x2, y2]")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (first, last)):
            raise ReviewError("first and last must be frame numbers")
        with self._lock:
            plan = self._need_plan()
            w, h, n = plan.input.width, plan.input.height, plan.input.frames
            x1, x2 = sorted((min(max(float(box[0]), 0.0), w), min(max(float(box[2]), 0.0), w)))
            y1, y2 = sorted((min(max(float(box[1]), 0.0), h), min(max(float(box[3]), 0.0), h)))
            if x2 - x1 < MIN_BOX_SIDE or y2 - y1 < MIN_BOX_SIDE:
                raise ReviewError("the box is too small: drag a larger box over the picture")
            if not 0 <= first <= last < n:
                raise ReviewError(f"the time range must be within frames 0 to {n - 1}, start before end")
            t = Track(next_track_id(plan.tracks), kind,
                      [TrackBox(f, (x1, y1, x2, y2), 1.0, "manual") for f in range(first, last + 1)])
            plan.tracks.append(t)
            self._save(lambda: plan.tracks.remove(t))
            spec = thumbnail_spec(t)
            if self.frames is not None and spec is not None:
                self.frames.want_thumbnails([spec])
            return t.id

    def remove_manual(self, track_id: int) -> None:
        with self._lock:
            plan = self._need_plan()
            t = self._track(track_id)
            if not t.manual:
                raise ReviewError("only boxes drawn by hand can be removed; what was found stays blurred "
                                  "(faces can be left visible instead)")
            i = plan.tracks.index(t)
            plan.tracks.remove(t)
            self._save(lambda: plan.tracks.insert(i, t))

    def _save(self, undo: Callable[[], None]) -> None:
        from ..pipeline import save_plan

        assert self.plan is not None and self.plan_path is not None
        try:
            save_plan(self.plan, self.plan_path)
        except BaseException:
            undo()
            raise

    def _need_plan(self) -> Plan:
        if self.plan is None:
            raise NotFound("no video is ready for review yet")
        return self.plan

    def _track(self, track_id: int) -> Track:
        try:
            return self._need_plan().track(track_id)
        except KeyError:
            raise NotFound(f"no track {track_id}") from None

    # -- export ------------------------------------------------------------------------------------------------
    def export(self) -> None:
        """Render the cleaned copy and its report from a snapshot of the plan, in the background."""
        with self._lock:
            plan = copy.deepcopy(self._need_plan())
            if self.busy():
                raise ReviewError("please wait: the video is still being processed")
            plan.settings["render"] = self.render_options.to_dict()
            self.result = None
            self.job = Job("export", stage="render", total=plan.input.frames)
            self._spawn(self._export_job, self.job, self.clip, plan, self.output, self.batch)

    def _export_job(self, job: Job, clip: Path, plan: Plan, output: Path, item: BatchItem | None = None) -> None:
        from ..pipeline import render_and_report

        try:  # the cleaned copy and its report appear together or not at all
            if item is not None:  # a batch's item: as the batch made it, and recorded in its manifest
                rjson, rhtml = save_item(item, clip, plan, output, progress=self._progress(job), jobs=self.jobs,
                                         render=render_and_report)
            else:
                _r, _rep, rjson, rhtml = render_and_report(clip, plan, output, self.render_options,
                                                           progress=self._progress(job), jobs=self.jobs)
        except Exception as e:  # shown on the page; the atomic writers left nothing behind
            log.debug("review export failed", exc_info=True)
            job.state, job.error = "error", error_message(e)
            return
        with self._lock:
            if self.job is job:
                self.result = {"video": output, "report_json": rjson, "report_html": rhtml}  # type: ignore[dict-item]
                job.state = "done"

    # -- closing -----------------------------------------------------------------------------------------------
    def close(self, wait: float = 10.0) -> None:
        """Stop running jobs and remove the private folder of uploads (the review's own copies)."""
        self._stop.set()
        for t in list(self._threads):
            t.join(timeout=wait)
        with self._lock:
            self._reset()
            self._upload = None
            if self._tmp is not None:
                uploads.remove(self._tmp)
                self._tmp = None


__all__ = ["Cancelled", "Job", "NotFound", "ReviewError", "ReviewSession", "default_output",
           "default_plan_path", "safe_name"]
