"""What the commands share: options, error and progress handling, logging, output naming for one file."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any, Iterator

import click

from ..errors import RedactError, safe_traceback

log = logging.getLogger("redact")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so temp files are cleaned up on the way out."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


@contextlib.contextmanager
def reported_errors(debug: bool, left: str = "no output was left behind") -> Iterator[None]:
    """Turn exceptions into one line on stderr and an exit status. ``left`` says, after an interruption, what the
    command leaves behind (a batch its finished items, a review the choices saved in the plan)."""
    try:
        yield
    except click.exceptions.Exit:
        raise
    except click.ClickException:
        raise
    except _Terminated:
        click.echo(f"redact: terminated; {left}", err=True)
        sys.exit(143)
    except KeyboardInterrupt:
        click.echo(f"redact: interrupted; {left}", err=True)
        sys.exit(130)
    except RedactError as e:
        if debug:
            raise
        click.echo(f"redact: error: {e}", err=True)
        sys.exit(1)
    except Exception as e:  # the last line of defence: a clear line, never a traceback unless --debug
        if debug:
            raise
        # only the type: an unexpected exception's message could quote recognised text
        click.echo(f"redact: internal error: {type(e).__name__} (run with --debug for details)", err=True)
        sys.exit(1)


class ProgressBars:
    """tqdm bars on stderr, one per stage; silent with --quiet or when stderr is not a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if self.quiet:
            return
        bar = self.bars.get(stage)
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, desc=f"{stage:>6}", unit="frame", file=sys.stderr, leave=False,
                       disable=None, dynamic_ncols=True)
            self.bars[stage] = bar
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


@contextlib.contextmanager
def progress_bars(quiet: bool) -> Iterator[ProgressBars]:
    p = ProgressBars(quiet)
    try:
        yield p
    finally:
        p.close()


def setup_command(ctx: click.Context) -> None:
    _log_level(ctx.ensure_object(dict))
    signal.signal(signal.SIGTERM, _on_sigterm)


def _log_level(obj: dict[str, Any]) -> None:
    level = logging.DEBUG if obj.get("debug") else logging.INFO if obj.get("verbose") else logging.WARNING
    if obj.get("quiet"):
        level = logging.ERROR
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_SafeFormatter("redact: %(levelname)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)


class _SafeFormatter(logging.Formatter):
    """Log lines whose tracebacks (``exc_info``, at --debug) carry only the tool's own messages."""

    def formatException(self, ei: Any) -> str:
        return safe_traceback(ei[1]).rstrip("\n")


def safe_excepthook(etype: type[BaseException], value: BaseException, tb: Any) -> None:
    """--debug lets an error out with its traceback: printed by :func:`safe_traceback`, no foreign messages."""
    sys.stderr.write(safe_traceback(value))


VERBOSITY = (("quiet", ("-q", "--quiet"), "No progress bars or warnings."),
             ("verbose", ("-v", "--verbose"), "More log messages."),
             ("debug", ("--debug",), "Show tracebacks."))
"""The options that say how much the command tells: taken before the subcommand and after it alike."""


def _verbosity_flag(name: str) -> Any:
    def set_flag(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            obj = ctx.ensure_object(dict)
            obj[name] = True
            _log_level(obj)
    return set_flag


class VerbosityGroup(click.Group):
    """A group whose every subcommand also takes -q/-v/--debug (``redact run clip.mp4 --quiet``)."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params.extend(click.Option(list(decls), is_flag=True, expose_value=False, help=text,
                                       callback=_verbosity_flag(key)) for key, decls, text in VERBOSITY)
        super().add_command(cmd, name)


def output_for(src: Path, output: Path | None) -> Path:
    """The cleaned copy's path: ``output``, or the default beside ``src`` (:mod:`redact.naming`); a name the writer
    cannot write for this kind of input is a usage error."""
    from ..io import probe
    from ..naming import check_output_suffix, default_output

    kind = probe(src).kind
    out = output or default_output(src, kind)
    try:
        check_output_suffix(out, kind)
    except RedactError as e:
        raise click.UsageError(str(e)) from None
    return out


report_path_opt = click.option(
    "--report-path", type=click.Choice(["name", "full", "none"]), default="name", show_default=True,
    help="How the plan and report name the input and the cleaned copy: file name only, whole path, or not at all "
         "(folder names often hold patients' names; the SHA-256 identifies the input).")
style_opt = click.option("--style", type=click.Choice(["blur", "pixelate", "fill"]), default="blur",
                         show_default=True, help="How redacted regions look; all are irreversible.")
crf_opt = click.option("--crf", type=click.IntRange(0, 51), default=None,
                       help="H.264 quality, 0-51 (lower is better; 18 is visually close to the source). Default: follow "
                            "the source: CRF 18 capped near the source's bitrate, so the copy is at most about 1.3x "
                            "its size.")
preset_opt = click.option("--preset", type=click.Choice(["ultrafast", "superfast", "veryfast", "faster", "fast",
                                                         "medium", "slow"]),
                          default="veryfast", show_default=True, help="x264 speed/size trade-off.")
audio_opt = click.option("--audio", type=click.Choice(["keep", "reencode", "strip"]), default="keep",
                         show_default=True, help="keep: copy audio bit-exact; reencode: AAC; strip: no audio.")
provider_opt = click.option("--provider", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
                            show_default=True, help="Where neural detectors run (CUDA needs onnxruntime-gpu).")
unanalysable_opt = click.option(
    "--on-unanalysable", type=click.Choice(["fail", "cover"]), default="fail", show_default=True,
    help="A frame the detectors cannot analyse: fail the run, or cover that whole frame.")
threshold_opt = click.option("--face-threshold", default=None,
                             type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
                             help="Face detector score threshold (lower finds more; default is tuned for recall).")
detect_every_opt = click.option(
    "--detect-every", type=click.IntRange(1, 30), default=None,
    help="Run the full-resolution face detector every N frames (and on scene cuts), tracking in between; "
         "1 = every frame (slowest, most thorough). Default: the measured best trade-off.")
lying_opt = click.option(
    "--lying-faces/--no-lying-faces", default=None,
    help="Faces turned on their side (people lying in bed, a clip filmed sideways). By default a small look at the "
         "frame turned a quarter turn each way every 16 frames switches the turned face pass on where it finds such "
         "faces. --lying-faces: run the turned pass all through (slower); --no-lying-faces: never look.")
text_opt = click.option(
    "--text", type=click.Choice(["all", "pii", "off"]), default="all", show_default=True,
    help="On-screen text: redact all of it, only personal data (names, dates, NHS numbers, ...), or none.")


def _parse_keep(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int]:
    from ..policy import parse_ids

    if not value:
        return []
    try:
        return parse_ids(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


keep_opt = click.option("--keep", "keep_ids", metavar="IDS", default=None, callback=_parse_keep,
                        help="Leave these face tracks visible, e.g. --keep 3,7 (ids from the plan or report).")
keep_face_opt = click.option(
    "--keep-face", type=click.Path(path_type=Path), default=None, metavar="PHOTO",
    help="Leave visible the face tracks that match the one face in PHOTO (needs pip install '.[keep-face]').")
ocr_opt = click.option(
    "--ocr", type=click.Choice(["rapidocr", "easyocr"]), default="rapidocr", show_default=True,
    help="OCR backend for on-screen text: RapidOCR, or EasyOCR (slower; needs pip install '.[easyocr]').")
badges_opt = click.option("--badges/--no-badges", default=True, show_default=True,
                          help="Look for ID badges on people's chests (redacted unless kept).")
truncated_opt = click.option("--strict/--allow-truncated", default=False, show_default=True,
                             help="--strict refuses damaged/truncated inputs instead of processing what decodes.")


jobs_opt = click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=None,
    help="Worker processes for this clip: a long video is split into segments scanned and rendered in parallel "
         "(default: the CPUs this process may use, as many as the free memory holds at 1.5 GiB each; 1: no "
         "split). Never more than the usable CPUs.")


def jobs_for(jobs: int | None) -> int:
    from ..cpus import clip_jobs

    return clip_jobs(jobs)


def render_opts(f: Any) -> Any:
    """How the cleaned copy is written: --style, --crf, --preset, --audio (keyword arguments of those names)."""
    for opt in reversed((style_opt, crf_opt, preset_opt, audio_opt)):
        f = opt(f)
    return f


speech_opt = click.option(
    "--speech", type=click.Choice(["bleep", "mute", "off"]), default=None,
    help="Spoken personal data (names, dates of birth, NHS numbers, ...): bleep it (default), mute it, or leave the "
         "audio unchecked and bit-exact (off). Audio without speech (tones, alarms, music) is skipped, not transcribed.")


def scan_opts(f: Any) -> Any:
    """The analysis options shared by `run` and `scan` (passed on as keyword arguments to scan_options_from)."""
    for opt in reversed((provider_opt, unanalysable_opt, threshold_opt, detect_every_opt, lying_opt, text_opt, ocr_opt,
                         badges_opt, speech_opt, truncated_opt)):
        f = opt(f)
    return f


def speech_style_for(speech: str | None) -> str:
    """How speech tracks sound in the copy, from --speech (bleep unless "mute")."""
    return "mute" if speech == "mute" else "bleep"


def scan_options_from(provider: str, on_unanalysable: str, face_threshold: float | None, strict: bool,
                  detect_every: int | None, text: str, badges: bool = True, ocr: str = "rapidocr",
                  speech: str | None = None, lying_faces: bool | None = None) -> Any:
    from ..pipeline import ScanOptions

    # --speech bleep/mute asked for explicitly must analyse (an error without the extra); by default "auto"
    mode = "auto" if speech is None else "off" if speech == "off" else "on"
    opts = ScanOptions(face_threshold=face_threshold, provider=provider, on_unanalysable=on_unanalysable,
                       allow_truncated=not strict, text=text, badges=badges, ocr=ocr, speech=mode,
                       lying_faces="auto" if lying_faces is None else "on" if lying_faces else "off")
    if detect_every is not None:
        opts.detect_every = detect_every
    return opts


def keep_editor(input: Path, keep_ids: list[int], keep_face: Path | None, provider: str,
                 allow_truncated: bool) -> Any:
    """A plan editor applying --keep / --keep-face (None if neither). The reference photo is checked first,
    before any long analysis."""
    if not keep_ids and keep_face is None:
        return None
    from ..policy import apply_keep, keep_matching_faces

    embedder = reference = None
    if keep_face is not None:
        from ..identity import FaceEmbedder, embed_reference

        embedder = FaceEmbedder(provider="cpu" if provider == "auto" else provider)
        reference = embed_reference(embedder, keep_face)

    def edit(plan: Any) -> None:
        if keep_ids:
            apply_keep(plan, keep_ids)
        if embedder is not None:
            keep_matching_faces(plan, input, reference, embedder, allow_truncated=allow_truncated)

    return edit


def print_summary(report: dict[str, Any], output: Path, rjson: Path | None, rhtml: Path | None, quiet: bool) -> None:
    if quiet:
        return
    s = report.get("summary", {})
    counts = s.get("tracks_by_kind", {})
    found = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing"
    click.echo(f"redacted: {found}", err=True)
    kept = [t for t in report.get("tracks", []) if t.get("action") == "keep"]
    if kept:
        click.echo("kept (not redacted): " + ", ".join(f"track {t['id']} ({t['kind']})" for t in kept), err=True)
    if "by_face" in report.get("settings", {}).get("keep", {}) and not any(
            v.get("kept") for v in report["settings"]["keep"]["by_face"].get("tracks", [])):
        click.echo("warning: no face track matched the reference photo; every face stays redacted", err=True)
    for w in report.get("warnings", []):
        click.echo(f"warning: {w}", err=True)
    for n in report.get("notes", []):
        click.echo(f"note: {n}", err=True)
    click.echo(f"wrote {output}", err=True)
    for p in (rjson, rhtml):
        if p is not None:
            click.echo(f"wrote {p}", err=True)


