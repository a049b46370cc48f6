"""What every detector looks like, plus the choice of onnxruntime execution providers.

A detector takes one ``HxWx3`` uint8 RGB image and returns :class:`~redact.types.Detections`
in that image's pixels. Detectors are created once (model loading is slow) and then called per
frame. ``describe()`` says exactly which weights and settings produced the detections; it goes
into the plan so a result can be traced back to the model that made it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from redact.cpus import session_threads
from redact.errors import RedactError
from redact.types import Detections, most_sensitive

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
PREFERENCES = ("auto", "cpu", "cuda")


@runtime_checkable
class Detector(Protocol):
    kind: str
    """What the detector finds: one of :data:`redact.types.KINDS` (``"face"``)."""
    name: str
    """Short model name, e.g. ``"centerface"``."""

    def detect(self, image: np.ndarray) -> Detections:
        """Detect in one ``HxWx3`` uint8 RGB image; boxes are in that image's pixels."""
        ...

    def describe(self) -> dict[str, Any]:
        """``{"name", "package", "package_version", "weights", "sha256", "provider", ...settings}``."""
        ...


@runtime_checkable
class ContextDetector(Protocol):
    """A detector that also looks at what the detectors before it found in the same frame (e.g. badges are
    searched below faces). :func:`redact.detect.schedule.run_frame` passes ``context``: the detections of this
    frame so far, merged per kind (a kind absent from it was not detected, or its detector was not due)."""

    kind: str
    name: str
    uses_context: bool  # True

    def detect(self, image: np.ndarray, context: Mapping[str, Detections] | None = None) -> Detections:
        ...

    def describe(self) -> dict[str, Any]:
        ...


def providers(prefer: str = "auto") -> list[str]:
    """onnxruntime execution providers for ``prefer``, most preferred first.

    ``"auto"``: CUDA when onnxruntime reports it available, else CPU. ``"cpu"``: CPU only.
    ``"cuda"``: CUDA (with CPU behind it for any operator CUDA lacks); raises
    :class:`RedactError` when this onnxruntime build has no CUDA provider.
    """
    import onnxruntime as ort

    if prefer not in PREFERENCES:
        raise ValueError(f"unknown provider preference {prefer!r} (expected one of {', '.join(PREFERENCES)})")
    available = ort.get_available_providers()
    if prefer == "cpu":
        return [CPU]
    if CUDA in available:
        return [CUDA, CPU]
    if prefer == "cuda":
        raise RedactError(
            "CUDA was requested but this onnxruntime has no CUDAExecutionProvider "
            "(install onnxruntime-gpu, or use --provider cpu)"
        )
    return [CPU]


def provider_options(names: Sequence[str]) -> list[dict[str, str]]:
    """Options per provider so results match across providers up to float noise.

    CUDA's TF32 matmuls/convolutions round to ~10 mantissa bits, enough to move a borderline
    score across the threshold; full fp32 keeps GPU and CPU results comparable.
    """
    return [{"use_tf32": "0"} if n == CUDA else {} for n in names]


def cpu_threads() -> int:
    """Threads for one inference session (:func:`redact.cpus.session_threads`)."""
    return session_threads()


def session_options(threads: int | None = None) -> Any:
    """onnxruntime session options: ``threads`` intra-op threads, sequential graph, quiet log, and worker threads
    that sleep between runs instead of spinning: a spinning pool takes CPU from decoding, tracking and encoding
    on a small machine (`redact run`, 105 frames at 720p, faces and badges, 2 cores: 15.4-16.3 s against
    17.3-18.0 s spinning; user time 22-23 s against 27-29 s)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads or cpu_threads()
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3  # errors only; onnxruntime writes to stderr itself
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if _shared_cpu_arena(ort):
        so.add_session_config_entry("session.use_env_allocators", "1")
    return so


_ARENA_LOCK = threading.Lock()
_ARENA: list[bool] = []  # [registered?] once tried in this process


def _shared_cpu_arena(ort: Any) -> bool:
    """One CPU memory arena for every inference session of this process, registered with onnxruntime once. Each
    session kept an arena of its own, sized for its largest input: with faces, badges and text on, 105 frames of a
    720p clip peaked at 1634 MiB; sharing one, 1185 MiB, no slower (whole processes, 3 runs each, wall ratio
    0.99-1.04). Turning the arenas off saved more (794 MiB) but cost 24% of the time. False where onnxruntime
    cannot register one (each session then keeps its own)."""
    with _ARENA_LOCK:
        if not _ARENA:
            try:
                info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
                ort.create_and_register_allocator(info, ort.OrtArenaCfg({"arena_extend_strategy": 0}))
                _ARENA.append(True)
            except (AttributeError, RuntimeError, TypeError, ValueError) as e:
                log.debug("no shared onnxruntime CPU arena (%s): one per session", type(e).__name__)
                _ARENA.append(False)
        return _ARENA[0]


def create_session(model: bytes | str, prefer: str = "auto", threads: int | None = None) -> Any:
    """One onnxruntime session for ``model`` (the ONNX bytes, or a file's path) on the providers chosen by
    ``prefer``."""
    import onnxruntime as ort

    names = providers(prefer)
    sess = ort.InferenceSession(
        model, sess_options=session_options(threads), providers=names, provider_options=provider_options(names)
    )
    used = sess.get_providers()
    if prefer == "cuda" and used[0] != CUDA:
        raise RedactError(f"CUDA was requested but onnxruntime could not start it (running on {used[0]})")
    if names[0] != used[0]:
        log.warning("onnxruntime fell back from %s to %s", names[0], used[0])
    log.debug("onnxruntime session on %s", used)
    return sess


def _boxes(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, np.float64).reshape(-1, 4)


def _areas(a: np.ndarray) -> np.ndarray:
    return (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])


def _intersections(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    return np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes ``a`` ``(N, 4)`` and ``b`` ``(M, 4)`` as an ``(N, M)`` array."""
    a, b = _boxes(a), _boxes(b)
    inter = _intersections(a, b)
    union = _areas(a)[:, None] + _areas(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def cover_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N, M)``: the share of box ``a[n]``'s area that lies inside box ``b[m]`` (0 for an empty ``a[n]``)."""
    a, b = _boxes(a), _boxes(b)
    return _intersections(a, b) / np.maximum(_areas(a), 1e-9)[:, None]


def nms(xyxy: np.ndarray, score: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, highest score first."""
    order = np.argsort(-np.asarray(score), kind="stable")
    boxes = np.asarray(xyxy, np.float64)[order]
    n = len(order)
    full = iou_matrix(boxes, boxes) if n <= 2048 else None  # at most 32 MiB; row by row beyond
    keep: list[int] = []
    alive = np.ones(n, bool)
    for i in range(n):
        if not alive[i]:
            continue
        keep.append(int(order[i]))
        row = full[i, i + 1:] if full is not None else iou_matrix(boxes[i], boxes[i + 1:])[0]
        alive[i + 1:] &= row < iou
    return np.asarray(keep, dtype=np.int64)


def merge_enclosing(dets: Detections, iou: float, contained: float = 0.0) -> Detections:
    """Replace each group of boxes linked by IoU >= ``iou`` (or, with ``contained`` > 0, one lying at least that share
    of its area inside the other) with the box enclosing the group. Nothing is dropped: every box lies inside its
    group's box."""
    n = len(dets)
    if n < 2:
        return dets
    linked = iou_matrix(dets.xyxy, dets.xyxy) >= iou
    if contained > 0:
        inside = cover_matrix(dets.xyxy, dets.xyxy) >= contained
        linked |= inside | inside.T
    group = np.arange(n)
    changed = True
    while changed:  # propagate the smallest index through linked boxes (connected components)
        spread = np.where(linked, group[None, :], n).min(axis=1)
        changed = bool(np.any(spread < group))
        group = np.minimum(group, spread)
    xyxy, score, cats, quads = [], [], [], []
    all_cats, all_quads = dets.categories(), dets.quads()
    for g in np.unique(group):
        m = group == g
        box = dets.xyxy[m]
        xyxy.append([box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max()])
        score.append(dets.score[m].max())
        cats.append(most_sensitive(c for c, keep in zip(all_cats, m) if keep))
        # a box merged from several has no one quad: its enclosing box is its shape
        quads.append(all_quads[m][0] if m.sum() == 1 else np.full((4, 2), np.nan, np.float32))
    category = None if dets.category is None else np.array(cats, dtype=object)
    quad = None if dets.quad is None else np.asarray(quads, np.float32)
    return Detections(np.asarray(xyxy, np.float32), np.asarray(score, np.float32), dets.kind, category, quad)
