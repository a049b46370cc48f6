"""``redact review [INPUT]``: look at the plan in a browser, change it, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .common import reported_errors, jobs_for, scan_options_from, speech_style_for, jobs_opt, render_opts, scan_opts


@click.command()
@click.argument("input", required=False, type=click.Path(path_type=Path))
@click.option("--plan", "plan_path", type=click.Path(path_type=Path), default=None,
              help="Plan file to resume (used if it was made for INPUT; default: OUTPUT's .plan.json).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Cleaned copy written by Export (default: INPUT.clean.mp4 beside the input).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; print the page's address.")
@render_opts
@scan_opts
@jobs_opt
@click.pass_context
def review(ctx: click.Context, input: Path | None, plan_path: Path | None, output: Path | None, no_browser: bool,
           style: str, crf: int, preset: str, audio: str, jobs: int | None, **scan_kw: Any) -> None:
    """Open a page on this computer to check what will be blurred, keep faces, draw boxes and export.

    Without INPUT the page asks for a video. The page is served on 127.0.0.1 only, behind a random address
    that only this command prints; stop with Ctrl-C or the page's Close button.
    """
    obj = ctx.obj
    # every choice is saved to the plan as it is made: a SIGTERM leaves the plan (an export under way, nothing)
    with reported_errors(obj["debug"], left="choices already saved in the plan are kept; an unfinished export left "
                                            "nothing"):
        from ..pipeline import RenderOptions
        from ..review.server import ReviewServer, Stopped
        from ..review.session import ReviewSession

        if input is None and (plan_path is not None or output is not None):
            raise click.UsageError("--plan and --output need an INPUT")
        session = ReviewSession(scan_options_from(**scan_kw),
                                RenderOptions(style=style, crf=crf, preset=preset, audio=audio,
                                              allow_truncated=not scan_kw["strict"],
                                              speech=speech_style_for(scan_kw["speech"])), jobs=jobs_for(jobs))
        try:
            if input is not None:
                session.open(input, plan_path=plan_path, output=output)
            server = ReviewServer(session)
        except BaseException:
            session.close()
            raise
        click.echo(f"Review page: {server.url}", err=True)
        click.echo("(keep this window open while you use the page; Ctrl-C or the page's Close button stops it)",
                   err=True)
        if not no_browser:
            import webbrowser

            if not webbrowser.open(server.url):
                click.echo("could not open a browser: open the address above", err=True)
        try:
            server.serve_forever()
        except Stopped as e:  # SIGHUP: the terminal is gone, nobody to tell
            sys.exit(128 + e.signum)
        except KeyboardInterrupt as e:
            if type(e) is not KeyboardInterrupt:  # SIGTERM: the usual exit status (143)
                raise
            click.echo("redact: review closed", err=True)
            sys.exit(0)
