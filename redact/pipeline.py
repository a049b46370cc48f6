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

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .analyse import FrameLooker, analyse, prepared_stack, trackers_for
from .detect.stack import default_stack
from .drawing import frame_processors
from .errors import OutputError, PlanMismatchError, RedactError
from .io import FrameSource, WriteResult, atomic_group, probe, same_file, sha256_file, write_image, write_video
from .io.atomic import check_unchanged
from .io.prefetch import prefetched
from .naming import recorded_path, report_paths
from .options import SPEECH_MODES, TEXT_MODES, Progress, RenderOptions, ScanOptions
from .planning import SPEECH_NOT_CHECKED, ScanResult, plan_from, redacted_speech
from .types import Plan

__all__ = ["SPEECH_MODES", "SPEECH_NOT_CHECKED", "TEXT_MODES", "Progress", "RenderOptions", "RenderResult", "RunResult",
           "ScanOptions", "ScanResult", "default_stack", "frame_processors", "load_plan", "render",
           "render_and_report", "run", "save_plan", "scan"]
"""Also the public names of the modules ``scan`` and ``render`` are built from (options, results, the default
stack, the frame drawing), so callers need import only this module."""


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


def scan(path: str | Path, options: ScanOptions | None = None, *, progress: Progress | None = None,
         detectors: list[Any] | None = None, recorded_as: str | None = None, jobs: int = 1) -> ScanResult:
    """Analyse ``path`` and return the plan of what to redact. The plan names the input ``recorded_as`` (default:
    its file name only, :func:`redact.naming.recorded_path`; the SHA-256 identifies it).

    ``detectors`` (for tests and benchmarks) replaces the default stack: plain detectors run on every frame,
    :class:`~redact.detect.schedule.Scheduled` ones at their stride. ``jobs`` > 1: a long enough video is split into that many segments
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
    stack = prepared_stack(options, detectors)
    trackers = trackers_for(stack, info)
    with FrameSource(path, allow_truncated=options.allow_truncated) as src, prefetched(src, FrameLooker()) as frames:
        seen = analyse(frames, src.info, options, stack, trackers, progress=progress)
        if src.truncated:
            seen.warnings.append(f"input is damaged or truncated: only the first {seen.frames} frame(s) were "
                                 f"analysed ({src.error})")
        seen.truncated = src.truncated
    return plan_from(path, info, digest, options, trackers, seen, [s.describe() for s in stack], recorded_as,
                      progress, t0)


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
        result = write_video(path, output, process, process_yuv=process_yuv, crf=options.crf, preset=options.preset,
                             speech=redacted_speech(plan), speech_style=options.speech,
                             audio=options.audio, allow_truncated=options.allow_truncated,
                             expect_frames=n_planned,  # a read error mid-render: no shorter copy
                             expect_sha256=expect_sha256)
    warnings = []
    if result.frames != n_planned:
        warnings.append(f"{result.frames} frames written, the plan covers {n_planned}")
    return RenderResult(str(output), sha256_file(output), result, warnings, time.perf_counter() - t0)


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
        path, s.plan, output, render_options, progress=progress, models=s.models, warnings=s.warnings, notes=s.notes,
        timings={"scan_s": round(s.seconds, 3)}, write_report=write_report, html=html,
        output_recorded_as=recorded_path(output, record_paths), jobs=jobs)
    return RunResult(s, r, rep, jpath, hpath)


def render_and_report(path: str | Path, plan: Plan, output: str | Path, options: RenderOptions | None = None, *,
                      progress: Progress | None = None, models: list[dict[str, Any]] | None = None,
                      warnings: list[str] | None = None, notes: list[str] | None = None,
                      timings: dict[str, Any] | None = None, write_report: bool = True, html: bool = True, plan_path: str | Path | None = None,
                      input_checked: bool = False, output_recorded_as: str | None = None, jobs: int = 1,
                      before_commit: Callable[[dict[str, Path]], None] | None = None
                      ) -> tuple[RenderResult, dict[str, Any], Path | None, Path | None]:
    """Render ``plan`` and write its report beside the cleaned copy (and the plan to ``plan_path``): the copy, its
    report and its plan appear together or not at all (:func:`redact.io.atomic_group`; an interrupt or error at
    any point leaves none of them), and the input is hashed just before they appear: a file changed since the scan
    writes nothing. ``input_checked``: the caller has just hashed the input against the plan (skip the first hash).
    The report names the cleaned copy ``output_recorded_as`` (default: its file name only). ``jobs``: see :func:`render`.
    ``warnings`` and ``notes``: the scan's (:class:`ScanResult`), for the report. ``before_commit``: called with the
    finished temporary files (``{"output", "report_json", "report_html", "plan"}``, those written) just before they
    are renamed into place; if it raises, nothing is written (the review records a batch item's new hashes here).
    Returns the render result, the report and the report paths written (``None`` for those not written)."""
    output = Path(output)
    _check_output(Path(path), output)
    jpath, hpath = report_paths(output)
    wanted = [p for p, on in ((jpath, write_report), (hpath, write_report and html)) if on]
    extra = [*wanted, *([Path(plan_path)] if plan_path is not None else [])]
    staged: dict[Path, Path] = {}

    def last_checks() -> None:
        check_unchanged(path, plan.input.sha256)
        if before_commit is not None:
            roles = {output: "output", jpath: "report_json", hpath: "report_html"}
            if plan_path is not None:
                roles[Path(plan_path)] = "plan"
            before_commit({roles[d]: t for d, t in staged.items()})

    with atomic_group([output, *extra], before_commit=last_checks) as tmps:
        staged.update(zip([output, *extra], tmps))
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
        rep = _build_report(plan, r, models=models or [], warnings=[*(warnings or []), *r.warnings],
                            notes=list(notes or []), timings=timings, output_recorded_as=recorded)
        if write_report:
            from .report import write_report_html, write_report_json

            write_report_json(rep, staged[jpath])
            if html:
                write_report_html(rep, plan, staged[hpath])
        if plan_path is not None:
            save_plan(plan, staged[Path(plan_path)])
    return r, rep, (jpath if write_report else None), (hpath if write_report and html else None)


def _build_report(plan: Plan, r: RenderResult, *, models: list[dict[str, Any]], warnings: list[str], notes: list[str],
                  timings: dict[str, Any], output_recorded_as: str) -> dict[str, Any]:
    from .report import build_report

    return build_report(plan, output_path=output_recorded_as, output_sha256=r.sha256, render=r.to_dict(), timings=timings,
                        models=models, warnings=warnings, notes=notes)


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
