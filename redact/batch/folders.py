"""The folder side of a batch: walk IN_DIR, name each item's outputs under OUT_DIR, and keep every path inside it."""


from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OutputError, RedactError
from ..io import probe
from ..manifest import MANIFEST_NAME
from ..naming import IMAGE_IN_SUFFIXES, MEDIA_SUFFIXES, cleaned_name, sidecar_names

log = logging.getLogger(__name__)

_TMP_TAG = ".redact-tmp-"  # redact.io.atomic's temporary-file marker
OUTPUT_PROBLEMS = frozenset({"unsafe_name", "output_name_collision", "output_through_symlink"})


@dataclass
class Item:
    """One media file to clean. ``rel`` is relative to IN_DIR; the outputs are absolute paths under OUT_DIR."""

    rel: str
    source: Path
    output: Path | None = None
    plan: Path | None = None
    report_json: Path | None = None
    report_html: Path | None = None
    skip_reason: str | None = None  # set: never processed (recorded as skipped, or failed if OUTPUT_PROBLEMS)



@dataclass
class Walk:
    items: list[Item] = field(default_factory=list)
    ignored: int = 0  # files that are not media by their suffix
    ignored_files: list[str] = field(default_factory=list)  # those of them that are not our own temporary files
    skipped_dirs: list[str] = field(default_factory=list)  # symlinked directories (never followed)
    unreadable_dirs: list[str] = field(default_factory=list)  # folders that could not be listed



def _is_inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def check_folders(in_dir: Path, out_dir: Path) -> tuple[Path, Path]:
    """Resolved ``(in_dir, out_dir)``; raise when they overlap in a way that could touch the originals."""
    if not in_dir.is_dir():
        raise RedactError(f"input folder not found: {in_dir}")
    rin = in_dir.resolve()
    rout = out_dir.resolve()
    if rout == rin or (out_dir.exists() and os.path.samefile(in_dir, out_dir)):
        raise RedactError("the output folder must not be the input folder")
    if _is_inside(rin, rout):
        raise RedactError("the input folder must not be inside the output folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise RedactError(f"the output path is not a folder: {out_dir}")
    return rin, rout


def walk(in_dir: Path, out_dir: Path) -> Walk:
    """Every media file under ``in_dir`` (sorted), without following symlinked directories, leaving out
    ``out_dir`` when it lies inside ``in_dir``."""
    rin, rout = check_folders(in_dir, out_dir)
    res = Walk()

    def unreadable(e: OSError) -> None:
        where = Path(e.filename) if e.filename else rin
        res.unreadable_dirs.append(where.relative_to(rin).as_posix() if _is_inside(where, rin) else ".")

    for dirpath, dirnames, filenames in os.walk(rin, followlinks=False, onerror=unreadable):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            full = here / d
            if full.is_symlink():
                res.skipped_dirs.append(str(full.relative_to(rin)))
                continue
            if full == rout:
                log.info("leaving the output folder out of the walk")
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            full = here / name
            rel = full.relative_to(rin).as_posix()
            suffix = full.suffix.lower()
            if _TMP_TAG in name or suffix not in MEDIA_SUFFIXES:
                res.ignored += 1
                if _TMP_TAG not in name:
                    res.ignored_files.append(rel)
                continue
            res.items.append(Item(rel, full, skip_reason=_link_problem(full, rin)))
    return res


def _link_problem(path: Path, rin: Path) -> str | None:
    """Why ``path`` must not be read (None: it may): symlinks leading out of IN_DIR, non-regular files."""
    try:
        st = os.stat(path)  # follows the link
    except OSError:
        return "unreadable" if not path.is_symlink() else "broken_symlink"
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "broken_symlink"
        if not _is_inside(target, rin):
            return "symlink_outside_input"
    if not stat.S_ISREG(st.st_mode):
        return "not_a_regular_file"
    return None


def _safe_parts(rel: str) -> list[str]:
    parts = rel.split("/")
    for p in parts:
        if p in ("", ".", "..") or "\x00" in p:
            raise OutputError("an input path has an unsafe component")
    return parts


def _output_names(name: str, kind: str, long: bool) -> tuple[str, str, str, str]:
    """(output, plan, report json, report html) file names for input file ``name`` (:mod:`redact.naming`)."""
    out = cleaned_name(name, kind, whole=long)
    return (out, *sidecar_names(out))


def _kind_by_name(path: Path) -> str:
    """``"image"`` or ``"video"`` for naming the output: by suffix, except a GIF, which may be animated (a video)."""
    suffix = path.suffix.lower()
    if suffix == ".gif":
        try:
            return probe(path).kind
        except RedactError:
            return "image"  # it fails when processed, and is recorded so; its name only has to be stable
    return "image" if suffix in IMAGE_IN_SUFFIXES else "video"


def assign_outputs(items: list[Item], rout: Path, html: bool = True) -> None:
    """Give each item its output, plan and report paths under ``rout``, mirroring the input tree.

    ``clip.mov`` -> ``clip.clean.mp4``; when two inputs of a folder would share a name (``clip.mov`` and
    ``clip.mp4``, case-insensitively) the later ones use the whole input name (``clip.mp4.clean.mp4``); an item
    whose names still collide is skipped (``output_name_collision``). The assignment depends only on the set of
    input names, so a re-run with the same files gets the same names."""
    claimed: set[str] = {MANIFEST_NAME.casefold()}
    for item in items:
        if item.skip_reason:
            continue
        try:
            parts = _safe_parts(item.rel)
        except OutputError:
            item.skip_reason = "unsafe_name"
            continue
        parent = rout.joinpath(*parts[:-1])
        kind = _kind_by_name(Path(item.source))
        for long in (False, True):
            names = _output_names(parts[-1], kind, long)
            keys = [(parent / n).as_posix().casefold() for n in (names if html else names[:3])]
            if not claimed.intersection(keys):
                break
        else:
            item.skip_reason = "output_name_collision"
            continue
        claimed.update(keys)
        paths = [parent / n for n in names]
        for p in paths:
            if not _is_inside(p, rout):
                item.skip_reason = "unsafe_name"
                break
            if p.resolve() != p:  # an existing folder or file on the way is a symbolic link
                item.skip_reason = "output_through_symlink"
                break
        else:
            item.output, item.plan, item.report_json = paths[:3]
            item.report_html = paths[3] if html else None


def make_parent(path: Path, rout: Path) -> None:
    """Create ``path``'s parent folders under ``rout``, refusing any that is a symbolic link or not a folder."""
    cur = rout
    for part in path.relative_to(rout).parts[:-1]:
        cur = cur / part
        try:
            os.mkdir(cur)
        except FileExistsError:
            pass
        except OSError as e:
            raise OutputError(f"cannot create the folder {cur}: {e.strerror or e}") from e
        if cur.is_symlink() or not cur.is_dir():
            raise OutputError("an output folder is a symbolic link or not a folder; refusing to write there")
    if path.is_symlink():
        raise OutputError("an output file is a symbolic link; refusing to write through it")


def remove_stale_temporaries(rout: Path) -> int:
    """Remove temporary files an interrupted or killed run left in OUT_DIR; returns how many."""
    n = 0
    for dirpath, _dirs, files in os.walk(rout, followlinks=False):
        for name in files:
            if name.startswith(".") and _TMP_TAG in name:
                try:
                    os.unlink(os.path.join(dirpath, name))
                    n += 1
                except OSError as e:
                    log.warning("could not remove a stale temporary file: %s", e.strerror or e)
    return n
