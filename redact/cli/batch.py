"""``redact batch`` and ``redact verify``: a folder of clips, and a check of what a batch wrote.

Exit status: batch 0 all items cleaned, 1 some failed or were not redone because their files changed after the
batch (or an error); verify 0 every recorded hash matches, 1
otherwise. 2 usage, 130/143 interrupted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .common import reported_errors, scan_options_from, speech_style_for, render_opts, scan_opts


@click.command()
@click.argument("in_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Folder for the cleaned copies (mirrors IN_DIR), their plans and reports, and the manifest.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Items cleaned in parallel (local worker processes or concurrent Ray tasks).")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: worker processes on this machine; ray: Ray tasks (needs pip install '.[ray]').")
@click.option("--address", default=None, metavar="ray://HOST:PORT",
              help="Ray cluster to use (default: start a local Ray). Workers must see IN_DIR and OUT_DIR.")
@click.option("--threads", type=click.IntRange(1, 64), default=None,
              help="CPU threads per item (default: this machine's CPUs divided by --jobs; Ray: 1).")
@click.option("--retry-failed", is_flag=True, help="Try again items that failed in an earlier run.")
@click.option("--html/--no-html", default=True, show_default=True, help="Also write the HTML reports.")
@click.option("--report-path", "report_path", type=click.Choice(["relative", "name", "none"]), default="relative",
              show_default=True,
              help="How each item's plan and report name its input and cleaned copy: the path under IN_DIR/OUT_DIR, "
                   "the file name only, or not at all (folder names often hold patients' names; the manifest keeps "
                   "relative paths).")
@render_opts
@scan_opts
@click.pass_context
def batch(ctx: click.Context, in_dir: Path, out_dir: Path, jobs: int, executor: str, address: str | None,
          threads: int | None, retry_failed: bool, html: bool, report_path: str, style: str, crf: int, preset: str, audio: str,
          **scan_kw: Any) -> None:
    """Clean every clip and photo under IN_DIR into OUT_DIR, in parallel, with a manifest.

    Re-running resumes: items already cleaned from the same bytes with the same settings are not redone. An item
    saved again from `redact review` is never cleaned again, nor is any file that changed after the batch
    overwritten: such items are named and the exit status is 1."""
    from ..batch import LocalExecutor, RayExecutor, run_batch, settings_from
    from ..pipeline import RenderOptions

    obj = ctx.obj
    if address is not None and executor != "ray":
        raise click.UsageError("--address needs --executor ray")
    # the items cleaned before an interruption stay, each whole and recorded; the one under way leaves nothing
    with reported_errors(obj["debug"], left="finished items are recorded, re-run to resume"):
        settings = settings_from(scan_options_from(**scan_kw),
                                 RenderOptions(style=style, crf=crf, preset=preset, audio=audio,
                                               allow_truncated=not scan_kw["strict"],
                                               speech=speech_style_for(scan_kw["speech"])), html, report_path)
        if executor == "ray":
            ex: Any = RayExecutor(address=address, workers=jobs, threads=threads or 1)
        else:
            ex = LocalExecutor(jobs, threads)

        reported: set[str] = set()
        count = {"todo": 0, "finished": 0, "started": False}  # this run's items, known once the folder is walked

        def starting(n: int, so_far: Any) -> None:
            count.update(todo=n, started=True)
            if not obj["quiet"]:
                done = f", {len(so_far.resumed)} already done" if so_far.resumed else ""
                click.echo(f"batch: {n} item(s) to clean{done}", err=True)

        def progress(rel: str, status: str, rec: dict[str, Any]) -> None:
            reported.add(rel)
            if count["started"]:  # an item cleaned (or failed) by this run: "[k/n]" after its name
                count["finished"] += 1
                rel = f"{rel} [{count['finished']}/{count['todo']}]"
            if obj["quiet"] and status == "done":
                return
            if status == "failed":
                err = rec.get("error") or {}
                click.echo(f"failed  {rel}: {err.get('type')}: {err.get('message')}", err=True)
            elif status == "skipped":
                click.echo(f"skipped {rel}: {(rec.get('error') or {}).get('message')}", err=True)
            else:
                n = rec.get("warnings") or 0  # e.g. a damaged input of which only the first frames were cleaned
                click.echo(f"done    {rel}" + (f" ({n} warning(s): see its report)" if n else ""), err=True)

        try:
            summary = run_batch(in_dir, out_dir, settings, ex, retry_failed=retry_failed, progress=progress,
                                starting=starting)
        finally:
            close = getattr(ex, "close", None)
            if close is not None:
                close()
        # what an earlier run recorded is not recorded again, but is still named: which items have no cleaned copy
        for rel, err in summary.failed:
            if rel not in reported:
                err = err or {}
                click.echo(f"failed  {rel} (in an earlier run): {err.get('type')}: {err.get('message')}", err=True)
        for rel, why in summary.skipped:
            if rel not in reported and not obj["quiet"]:
                click.echo(f"skipped {rel} (in an earlier run): {why}", err=True)
        for rel, why in summary.refused:  # never quiet: the item was not cleaned with these settings
            click.echo(f"kept    {rel}: {why}", err=True)
        if not obj["quiet"]:
            for rel in summary.ignored_files:
                click.echo(f"ignored {rel}: not a video or photo by its name (not in the manifest)", err=True)
        if not obj["quiet"] or not summary.ok:
            click.echo(f"batch: {len(summary.done)} cleaned, {len(summary.resumed)} already done, "
                       f"{len(summary.failed)} failed, {len(summary.skipped)} skipped, "
                       f"{summary.ignored} other file(s) ignored ({summary.seconds:.1f} s)"
                       + (f", {len(summary.refused)} not redone: changed after the batch" if summary.refused else ""),
                       err=True)
            if summary.reviewed:
                click.echo(f"({summary.reviewed} of those already done were saved again from `redact review`)",
                           err=True)
            if summary.failed_earlier:
                click.echo(f"({summary.failed_earlier} of them failed in an earlier run and were not retried; "
                           "use --retry-failed)", err=True)
        if not summary.ok:
            ctx.exit(1)


@click.command()
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.pass_context
def verify(ctx: click.Context, out_dir: Path, as_json: bool) -> None:
    """Re-hash every cleaned copy, plan and report in OUT_DIR against the batch manifest.

    Exit status 0 when every file matches its recorded SHA-256, 1 otherwise (mismatches and missing files are
    listed; a file changed after the batch as `redact review` leaves it is told apart from damage). An item saved
    again from `redact review` has a "reviewed" record with its new hashes, and verifies."""
    from ..manifest import verify as verify_manifest

    obj = ctx.obj
    with reported_errors(obj["debug"]):
        res = verify_manifest(out_dir)
        if as_json:
            click.echo(json.dumps({"ok": res.ok, "items": res.items, "files": res.checked,
                                   "problems": [{"path": p, "problem": what} for p, what in res.problems],
                                   "failed_items": res.failed_items, "unrecorded": res.unrecorded,
                                   "reviewed_items": res.reviewed, "changed_after_batch": res.changed_after},
                                  indent=1))
        else:
            for p, what in res.problems:
                click.echo(f"{what}: {p}")
            if res.unrecorded and not obj["quiet"]:
                click.echo(f"note: {len(res.unrecorded)} file(s) in the folder are not in the manifest "
                           f"(not verified), e.g. {res.unrecorded[0]}", err=True)
            if res.changed_after:
                click.echo(f"note: {len(res.changed_after)} file(s) changed after the batch as `redact review` leaves "
                           "them (a plan for the same input, a report naming the copy), with no review record: "
                           "saved by an older version? Open the item in `redact review` and save it again to record "
                           "it", err=True)
            if res.reviewed and not obj["quiet"]:
                click.echo(f"note: {len(res.reviewed)} item(s) were saved again from `redact review` after the "
                           "batch (recorded in the manifest)", err=True)
            if res.failed_items and not obj["quiet"]:
                click.echo(f"note: {len(res.failed_items)} item(s) failed and have no output "
                           f"(see the manifest)", err=True)
            click.echo(f"verify: {res.checked} file(s) of {res.items} item(s) checked, "
                       f"{len(res.problems)} problem(s)", err=True)
        if not res.ok:
            ctx.exit(1)
