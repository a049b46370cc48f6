"""A review of an item that ``redact batch`` cleaned: its save is recorded in the batch's manifest.

When the cleaned copy a review writes is one a batch manifest records (:func:`redact.manifest.find_batch_item`),
the review saves it as the batch would, and says so in the manifest:

- the clip must be the very bytes the batch cleaned (else the review is refused: it would put another clip's copy
  in the batch's place);
- the copy is rendered with the batch's render settings, its report named as the batch names it, its plan written
  to the batch's plan file, with or without the HTML report as the batch made it;
- the batch's folder is locked (:func:`redact.manifest.folder_lock`) while the copy is saved: no batch redoes the
  item meanwhile, and a save waits for no batch;
- the new files' hashes are appended as a ``reviewed`` record (:func:`redact.manifest.reviewed_record`) *before*
  the files are renamed into place: if the record cannot be written, nothing is (the batch's copy stays as it was).

The record counts tracks (kept, drawn by hand, changed since the item's last record); it never holds text.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import OutputError, RedactError
from ..io import sha256_file
from ..manifest import FolderBusy, Manifest, file_states, find_batch_item, folder_lock, plan_summary, reviewed_record
from ..naming import batch_recorded_path
from ..types import Plan


@dataclass
class BatchItem:
    """The batch item a review's output belongs to."""

    root: Path  # the batch's OUT_DIR
    rel_output: str  # the cleaned copy, relative to ``root``
    baseline: Plan | None  # the plan as the item's latest record has it (None: edited since, without a record)


def batch_item(clip_sha256: Callable[[], str], output: Path) -> BatchItem | None:
    """The batch item whose cleaned copy is ``output``, or None. :class:`OutputError` when the batch cleaned other
    bytes than the clip under review (``clip_sha256()``, called only when a batch records ``output``)."""
    found = find_batch_item(output)
    if found is None:
        return None
    root, rec = found
    rel = rec["output"]["path"]
    if rec["input"].get("sha256") != clip_sha256():
        raise OutputError(f"{output.name} is the cleaned copy of another file in the batch in {root} (its manifest "
                          "says so); choose another output (-o)")
    return BatchItem(root, rel, _recorded_plan(root, rec))


def _recorded_plan(root: Path, rec: dict[str, Any]) -> Plan | None:
    from ..pipeline import load_plan

    st = file_states(root, {"plan": rec.get("plan")})
    if not st.matching:
        return None
    try:
        return load_plan(root / st.matching[0])
    except RedactError:
        return None


def review_counts(plan: Plan, baseline: Plan | None) -> dict[str, int | None]:
    """What the manifest says of a review: tracks now kept and drawn by hand, and since ``baseline`` (the item's
    last recorded plan) how many changed action, were added or removed (None where the baseline is unknown)."""
    now = {t.id: t for t in plan.tracks}
    out: dict[str, int | None] = {"kept": sum(t.action == "keep" for t in plan.tracks),
                                  "drawn": sum(t.manual for t in plan.tracks),
                                  "changed_action": None, "added": None, "removed": None}
    if baseline is not None:
        before = {t.id: t for t in baseline.tracks}
        out["changed_action"] = sum(1 for i, t in now.items() if i in before and before[i].action != t.action)
        out["added"] = len(now.keys() - before.keys())
        out["removed"] = len(before.keys() - now.keys())
    return out


def save_item(item: BatchItem, clip: Path, plan: Plan, output: Path, *, progress: Any = None, jobs: int = 1,
              render: Callable[..., Any]) -> tuple[Path | None, Path | None]:
    """Render ``plan`` over the batch item's files and append its ``reviewed`` record (see the module docstring).
    ``render``: :func:`redact.pipeline.render_and_report`. Returns the report paths (JSON, HTML or None)."""
    from ..pipeline import RenderOptions

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(folder_lock(item.root))
        except FolderBusy:
            raise FolderBusy(f"a batch is writing to {item.root}; save again when it has finished") from None
        found = find_batch_item(output)  # the latest record, read under the lock
        if found is None or found[1]["input"].get("sha256") != plan.input.sha256:
            raise OutputError(f"the batch in {item.root} no longer records {output.name} as this clip's cleaned copy")
        root, rec = found
        settings = rec.get("settings") or {}
        try:
            options = RenderOptions(**settings["render"])
        except (KeyError, TypeError):
            raise RedactError("the batch's render settings cannot be read by this version; not saved") from None
        plan.settings["render"] = options.to_dict()
        plan_file = root / rec["plan"]["path"]
        review = review_counts(plan, item.baseline)

        def record(staged: dict[str, Path]) -> None:
            files: dict[str, dict[str, Any] | None] = {}
            for key, tmp in staged.items():
                rel = rec[key]["path"] if rec.get(key) else None
                if rel is None:  # a file the batch did not make (cannot happen: same names, same html choice)
                    raise OutputError(f"the batch did not record a {key} for {output.name}; not saved")
                files[key] = {"path": rel, "sha256": sha256_file(tmp), "size": tmp.stat().st_size}
            Manifest(root).append(reviewed_record(rec, files, plan_summary(plan), review))

        _r, _rep, rjson, rhtml = render(
            clip, plan, output, options, progress=progress, jobs=jobs, plan_path=plan_file,
            html=rec.get("report_html") is not None, before_commit=record,
            output_recorded_as=batch_recorded_path(item.rel_output, settings.get("report_path", "relative")))
        item.baseline = copy.deepcopy(plan)
        return rjson, rhtml
