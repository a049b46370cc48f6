"""Command line: a thin layer over :mod:`redact.pipeline`, one module per group of commands, added to the group
explicitly here.

Exit status: 0 success, 1 failure (one line on stderr), 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import os
import sys

import click

from .. import __version__
from .batch import batch, verify
from .check import check
from .clip import render, run, scan
from .common import VERBOSITY, VerbosityGroup, safe_excepthook, setup_command
from .review import review


@click.group(cls=VerbosityGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="redact")
@click.option("-q", "--quiet", is_flag=True, help=VERBOSITY[0][2])
@click.option("-v", "--verbose", is_flag=True, help=VERBOSITY[1][2])
@click.option("--debug", is_flag=True, help=VERBOSITY[2][2])
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: bool, debug: bool) -> None:
    """Blur faces, badges and on-screen text in videos and photos, on this machine, offline."""
    ctx.ensure_object(dict).update(quiet=quiet, verbose=verbose, debug=debug)
    setup_command(ctx)


for _command in (run, scan, render, check, batch, verify, review):  # each also takes -q/-v/--debug (VerbosityGroup)
    cli.add_command(_command)


QUIET_POOLS = {"OPENBLAS_NUM_THREADS": "1", "OPENCV_FOR_THREADS_NUM": "1"}
"""Thread pools the command keeps to one thread (unless the environment says otherwise). The parallel work is
onnxruntime's and the encoder's; numpy's BLAS sees only 3x3 matrices and OpenCV's pool splits millisecond calls, and
both pools, idle, wait by spinning on ``sched_yield`` and take the CPU from the rest (`redact run`, faces and badges,
105 frames at 720p, 2 cores: system time 4.5 -> 1.5 s, CPU time 14% lower with BLAS at one thread; OpenCV's pool made
~400,000 involuntary context switches). Set before numpy or OpenCV is imported: none is, at module level, here."""


def main(argv: list[str] | None = None) -> None:
    for name, value in QUIET_POOLS.items():
        os.environ.setdefault(name, value)
    sys.excepthook = safe_excepthook
    cli.main(args=argv, prog_name="redact", standalone_mode=True)


if __name__ == "__main__":  # pragma: no cover
    main()

