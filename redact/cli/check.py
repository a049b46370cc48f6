"""``redact check``: is anything identifiable in a clip? Writes nothing.

Exit status: 0 nothing identifiable, 3 something identifiable found, 4 please check: only weak, lone detections (tracks
the detectors saw only weakly, see :func:`redact.report.is_low_confidence`: often texture, sometimes a face seen
badly), or nothing found in an input that was not checked whole (damaged or truncated: only the frames that decoded;
its audio not checked for want of the speech model), 1 error, 2 usage, 130/143 interrupted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .common import reported_errors, progress_bars, scan_options_from, scan_opts

CHECK_FOUND = 3
CHECK_WEAK = 4
VERDICTS = {"identifiable": CHECK_FOUND, "please check": CHECK_WEAK, "nothing found": 0}
"""``check``'s verdict and its exit status."""
IDENTIFIABLE_KINDS = ("face", "badge", "text", "frame", "speech")


def _ranges(frames: set[int], clock: Any) -> list[list[float]]:
    """Runs of consecutive frames as ``[start_s, end_s]`` on ``clock`` (a :class:`redact.timeline.Timeline`; frame
    indices when there is none)."""
    out: list[list[float]] = []
    start: int | None = None
    prev = 0
    for f in sorted(frames):
        if start is None:
            start = prev = f
        elif f == prev + 1:
            prev = f
        else:
            out.append([start, prev + 1])
            start = prev = f
    if start is not None:
        out.append([start, prev + 1])
    if clock is not None:
        return [[round(clock.time(a), 2), round(clock.time(b), 2)] for a, b in out]
    return [[float(a), float(b)] for a, b in out]


def audio_checked(plan: Any, models: list[dict[str, Any]] | None = None) -> str:
    """Whether the input's audio was checked for spoken personal data: ``"checked"``, ``"not checked"`` (the speech
    model is missing), ``"off"`` (``--speech off``) or ``"none"`` (a photo, or a video without audio);
    :func:`check_summary` also says ``"partly checked"`` (a damaged file's undecodable packets were skipped)."""
    inp = plan.input
    if inp.kind != "video" or not inp.extra.get("audio_streams"):
        return "none"
    if (plan.settings.get("scan") or {}).get("speech") == "off":
        return "off"
    if models is not None:
        return "checked" if any(m.get("kind") == "speech" for m in models) else "not checked"
    from ..speech import MODEL_NAME  # the plan keeps the models' names only

    return "checked" if MODEL_NAME in (plan.settings.get("models") or ()) else "not checked"


def check_summary(plan: Any, warnings: list[str], notes: list[str] | None = None,
                  models: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What ``check`` reports: per kind, how many tracks (and how many of them the detectors saw only weakly: not
    confirmed, see :mod:`redact.track`) and when (never what was recognised), and what was not checked: the frames
    after the damage of a damaged or truncated input, the audio without the speech model. Nothing found in an input
    not checked whole is "please check", never "nothing found"."""
    from ..report import is_low_confidence
    from ..report.clock import on_frame_clock, timeline

    plan_clock = timeline(plan)
    found: dict[str, Any] = {}
    for t in plan.tracks:
        if t.action != "redact" or t.kind not in IDENTIFIABLE_KINDS:
            continue
        entry = found.setdefault(t.kind, {"tracks": 0, "low_confidence": 0, "frames": set(), "spans": []})
        entry["tracks"] += 1
        entry["low_confidence"] += is_low_confidence(t)
        entry["frames"].update(b.frame for b in t.boxes)
        if t.span is not None:
            start, end = on_frame_clock(plan, t.span, plan_clock)  # the frames' clock, as the frame ranges
            entry["spans"].append([round(start, 2), round(end, 2)])
    inp = plan.input
    # None: an image, or a clip of unknown rate: frames counted
    clock = plan_clock if inp.kind == "video" and plan_clock.time(0) is not None else None

    def when(kind: str, v: dict[str, Any]) -> dict[str, Any]:
        if kind == "speech":  # stretches of the audio, in seconds
            return {"ranges_s": sorted(v["spans"])}
        return {"frames": len(v["frames"]), "ranges_s" if clock else "ranges_frames": _ranges(v["frames"], clock)}

    from ..planning import SPEECH_SKIPPED

    audio = audio_checked(plan, models)
    unchecked = []  # what the verdict does not cover, in words (no verdict "nothing found" while this is not empty)
    if inp.extra.get("truncated"):
        unchecked.append(f"the input is damaged or truncated: only its first {inp.frames} frame(s) were analysed")
    if audio == "not checked":
        unchecked.append("the audio was not checked for spoken personal data (the speech model is not installed)")
    deaf = [w for w in warnings if w.startswith(SPEECH_SKIPPED)]
    if audio == "checked" and deaf:
        audio = "partly checked"
        unchecked += [w[len("speech: "):] for w in deaf]
    strong = any(v["tracks"] > v["low_confidence"] for v in found.values())
    verdict = "identifiable" if strong else "please check" if found or unchecked else "nothing found"
    return {
        "input": {"path": inp.path, "kind": inp.kind, "frames": inp.frames, "fps": inp.fps,
                  "width": inp.width, "height": inp.height},
        "verdict": verdict,
        "identifiable": strong,
        "audio": audio,
        "not_checked": unchecked,
        "found": {k: {"tracks": v["tracks"], "low_confidence": v["low_confidence"], **when(k, v)}
                  for k, v in sorted(found.items())},
        "warnings": list(warnings),
        "notes": list(notes or ()),
    }


@click.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@scan_opts
@click.pass_context
def check(ctx: click.Context, input: Path, as_json: bool, **scan_kw: Any) -> None:
    """Analyse INPUT and say whether it shows anything identifiable; writes nothing.

    Exit status 3 when faces, badges, on-screen text or personal speech were found, 4 (please check) when the only
    findings are weak, lone detections (often texture, sometimes a face seen badly) or when nothing was found in an
    input not checked whole (damaged: only the frames that decoded; audio without the speech model), 0 when
    none, 1 on error."""
    from ..pipeline import scan as scan_pipeline

    obj = ctx.obj
    with reported_errors(obj["debug"]):
        with progress_bars(obj["quiet"] or as_json) as prog:
            res = scan_pipeline(input, scan_options_from(**scan_kw), progress=prog, recorded_as=str(input))  # as typed
        summary = check_summary(res.plan, res.warnings, res.notes, res.models)
        if as_json:
            click.echo(json.dumps(summary, indent=1))
        else:
            click.echo(_check_text(input, summary))
            if not obj["quiet"]:
                for w in res.warnings:
                    click.echo(f"warning: {w}", err=True)
                for n in res.notes:
                    click.echo(f"note: {n}", err=True)
        if VERDICTS[summary["verdict"]]:
            ctx.exit(VERDICTS[summary["verdict"]])


AUDIO = {"checked": "checked for spoken personal data", "not checked": "NOT checked for spoken personal data",
         "partly checked": "partly checked for spoken personal data", "off": "not checked (--speech off)"}


def _check_text(input: Path, summary: dict[str, Any]) -> str:
    frames = f"{summary['input']['frames']} frame(s) analysed"
    audio = AUDIO.get(summary.get("audio", "none"))
    if summary["verdict"] == "nothing found":
        return f"{input}: nothing identifiable found ({frames}{f'; audio {audio}' if audio else ''})"
    if summary["verdict"] == "please check" and not summary["found"]:
        lines = [f"{input}: please check: nothing identifiable found, but not everything was checked ({frames})"]
    elif summary["verdict"] == "please check":
        lines = [f"{input}: please check: only weak, lone detections (often texture, sometimes a face seen badly)"]
    else:
        lines = [f"{input}: identifiable content found"]
    for kind, v in summary["found"].items():
        if "ranges_s" in v:
            when = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in v["ranges_s"])
        else:
            when = "in the image" if summary["input"]["kind"] == "image" else \
                ", ".join(f"frames {int(a)}-{int(b) - 1}" for a, b in v["ranges_frames"])
        weak = f" ({v['low_confidence']} seen only weakly: check them)" if v.get("low_confidence") else ""
        if kind == "frame":  # frames covered whole (--on-unanalysable cover): nobody looked at them
            lines.append(f"  frame: {v['frames']} frame(s) could not be analysed{weak}, {when}")
            continue
        lines.append(f"  {kind}: {v['tracks']} track(s){weak}, {when}")
    if summary.get("audio") in ("checked", "partly checked", "off") and "speech" not in summary["found"]:
        lines.append(f"  audio: {audio}{', nothing found' if summary['audio'] == 'checked' else ''}")
    lines += [f"  not checked: {what}" for what in summary.get("not_checked", ())]
    return "\n".join(lines)

