"""``redact run``, ``redact scan`` and ``redact render``: one clip or photo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .common import (reported_errors, jobs_for, keep_editor, output_for, progress_bars, scan_options_from, speech_style_for, print_summary,
                     jobs_opt, keep_face_opt, keep_opt, render_opts, report_path_opt, scan_opts, truncated_opt)


@click.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Cleaned copy (default: beside the input, INPUT.clean.mp4 or for a photo INPUT.clean.jpg/.png/...).")
@click.option("--plan-out", type=click.Path(path_type=Path), default=None, help="Also save the plan here.")
@click.option("--report/--no-report", default=True, show_default=True, help="Write OUTPUT.report.json (+ .html).")
@click.option("--html/--no-html", default=True, show_default=True, help="Also write the HTML report.")
@report_path_opt
@render_opts
@keep_opt
@keep_face_opt
@scan_opts
@jobs_opt
@click.pass_context
def run(ctx: click.Context, input: Path, output: Path | None, plan_out: Path | None, report: bool, html: bool,
        report_path: str, style: str, crf: int, preset: str, audio: str, keep_ids: list[int],
        keep_face: Path | None, jobs: int | None, **scan_kw: Any) -> None:
    """Scan INPUT and write a cleaned copy plus a report of what was removed."""
    from ..pipeline import RenderOptions, run as run_pipeline

    obj = ctx.obj
    with reported_errors(obj["debug"]):
        output = output_for(input, output)
        edit = keep_editor(input, keep_ids, keep_face, scan_kw["provider"], not scan_kw["strict"])
        with progress_bars(obj["quiet"]) as prog:
            res = run_pipeline(input, output, scan_options_from(**scan_kw),
                               RenderOptions(style=style, crf=crf, preset=preset, audio=audio,
                                             allow_truncated=not scan_kw["strict"],
                                             speech=speech_style_for(scan_kw["speech"])),
                               progress=prog, write_report=report, html=html, plan_out=plan_out, edit_plan=edit,
                               record_paths=report_path, jobs=jobs_for(jobs))
        print_summary(res.report, output, res.report_json, res.report_html, obj["quiet"])


@click.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON on stdout.")
@click.option("-o", "--output", "plan_path", type=click.Path(path_type=Path), default=None,
              help="Write the plan to this file.")
@report_path_opt
@scan_opts
@jobs_opt
@click.pass_context
def scan(ctx: click.Context, input: Path, as_json: bool, plan_path: Path | None, report_path: str,
         jobs: int | None, **scan_kw: Any) -> None:
    """Analyse INPUT and produce the plan (what would be redacted) without writing media."""
    from ..naming import recorded_path
    from ..pipeline import save_plan, scan as scan_pipeline

    obj = ctx.obj
    with reported_errors(obj["debug"]):
        with progress_bars(obj["quiet"]) as prog:
            res = scan_pipeline(input, scan_options_from(**scan_kw), progress=prog,
                                recorded_as=recorded_path(input, report_path), jobs=jobs_for(jobs))
        if plan_path is not None:
            save_plan(res.plan, plan_path)
        if as_json:
            click.echo(res.plan.to_json(indent=1))
        elif not obj["quiet"]:
            kinds: dict[str, int] = {}
            for t in res.plan.tracks:
                kinds[t.kind] = kinds.get(t.kind, 0) + 1
            found = ", ".join(f"{n} {k} track(s)" for k, n in sorted(kinds.items())) or "nothing to redact"
            click.echo(f"{input}: {res.plan.input.frames} frame(s), {found}", err=True)
            for w in res.warnings:
                click.echo(f"warning: {w}", err=True)
            for n in res.notes:
                click.echo(f"note: {n}", err=True)
            if plan_path is None:
                click.echo("(use --json or -o plan.json to keep the plan)", err=True)


@click.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("--plan", "plan_path", type=click.Path(path_type=Path), required=True, help="Plan from `redact scan`.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Cleaned copy (default: beside the input, INPUT.clean.mp4 or for a photo INPUT.clean.jpg/.png/...).")
@click.option("--report/--no-report", default=True, show_default=True)
@click.option("--html/--no-html", default=True, show_default=True)
@report_path_opt
@click.option("--speech", type=click.Choice(["bleep", "mute"]), default="bleep", show_default=True,
              help="How the plan's speech tracks sound in the copy: a tone, or silence.")
@render_opts
@keep_opt
@keep_face_opt
@truncated_opt
@jobs_opt
@click.pass_context
def render(ctx: click.Context, input: Path, plan_path: Path, output: Path | None, report: bool, html: bool,
           report_path: str, speech: str, style: str, crf: int, preset: str, audio: str, keep_ids: list[int],
           keep_face: Path | None, strict: bool, jobs: int | None) -> None:
    """Apply a (possibly edited) plan to INPUT and write the cleaned copy."""
    from ..naming import recorded_path
    from ..pipeline import RenderOptions, load_plan, render_and_report

    obj = ctx.obj
    with reported_errors(obj["debug"]):
        from ..policy import warn_unusual_keeps

        plan = load_plan(plan_path)
        warn_unusual_keeps(plan)
        output = output_for(input, output)
        edit = keep_editor(input, keep_ids, keep_face, "auto", not strict)
        if edit is not None:
            edit(plan)
        opts = RenderOptions(style=style, crf=crf, preset=preset, audio=audio, allow_truncated=not strict,
                             speech=speech)
        plan.settings["render"] = opts.to_dict()
        plan.input.path = recorded_path(input, report_path)  # the report names the file as asked, whatever the plan said
        with progress_bars(obj["quiet"]) as prog:
            _r, rep, rjson, rhtml = render_and_report(input, plan, output, opts, progress=prog,
                                                      write_report=report, html=html,
                                                      output_recorded_as=recorded_path(output, report_path),
                                                      jobs=jobs_for(jobs))
        print_summary(rep, output, rjson, rhtml, obj["quiet"])

