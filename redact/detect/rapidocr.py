"""The RapidOCR adapter, in one place: PP-OCR ONNX models from the rapidocr wheel (SHA-256 checked, never
downloaded), run on onnxruntime sessions made here, with detection, direction and recognition timed separately and
recognition skipped for lines the caller already knows (:class:`RapidOcrBackend`)."""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.resources
import importlib.util
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np

from redact.detect.base import CUDA, cpu_threads, create_session, providers
from redact.detect.faces import check_image
from redact.detect.ocr import Recognise, TextBox, checked_file
from redact.errors import RedactError

log = logging.getLogger(__name__)

RAPIDOCR = "rapidocr"
RAPIDOCR_MODELS = {  # role -> (file in rapidocr/models, SHA-256), as rapidocr 3.10.0 ships them
    "det": ("PP-OCRv6_det_small.onnx", "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"),
    "rec": ("PP-OCRv6_rec_small.onnx", "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"),
    "cls": ("ch_ppocr_mobile_v2.0_cls_mobile.onnx", "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c"),
}
CATALOGUE = "default_models.yaml"
"""rapidocr's catalogue of models it can download (URLs and checksums for every language, engine and version)."""

_IMPORT_LOCK = threading.Lock()


def _rapidocr_class() -> Any:
    """``rapidocr.RapidOCR``, imported without building rapidocr's download catalogue (:data:`CATALOGUE`): two of
    its modules turn that 1,600-line YAML file into OmegaConf objects when imported (0.45 of 0.7 CPU-s of importing
    rapidocr, 2-core Xeon), only to look up models to download when no model file is given. Every model here is
    given as a checked file (:func:`~redact.detect.ocr.checked_file`) and nothing is ever downloaded, so the
    catalogue is read as empty: a step asked to find a model on its own would fail instead of downloading."""
    with _IMPORT_LOCK:
        if "rapidocr.inference_engine.base" in sys.modules or "rapidocr.utils.model_resolver" in sys.modules:
            from rapidocr import RapidOCR

            return RapidOCR
        from omegaconf import OmegaConf

        load = vars(OmegaConf)["load"]

        def load_unless_catalogue(path: Any, *args: Any, **kwargs: Any) -> Any:
            if Path(str(path)).name == CATALOGUE:
                return OmegaConf.create({})
            return load.__func__(path, *args, **kwargs)

        OmegaConf.load = staticmethod(load_unless_catalogue)  # type: ignore[method-assign,assignment]
        try:
            from rapidocr import RapidOCR
        finally:
            OmegaConf.load = load  # type: ignore[method-assign]
        return RapidOCR


class RapidOcrBackend:
    """PP-OCRv6 small (det + rec, optional 0/180 degree classifier) through ``rapidocr`` on onnxruntime.

    ``det_only``: find text boxes without reading them (every box then has ``text=None``).
    ``use_cls``: turn upside-down lines before recognition. ``box_thresh``: rapidocr's minimum
    detection score of a box. ``det_limit_side``: rapidocr scales an image so its *shorter* side is
    at least this many pixels before detection: with the default 1088 a 1280x720 frame is detected
    at 1920x1088 (rapidocr's own default, 736, detects it at 1312x736 and misses text under ~12 px
    tall: recall of legible words on a 720p frame of benchmarks/text.py went from 0.36 to 0.91 on
    the subset measured, for about 2.2x the detection time), a 1920x1080 one at its own size.
    ``unclip_ratio`` defaults to 2.0 (rapidocr: 1.6): boxes reach further around the letters. ``det_thresh``: the DB detector's per-pixel text threshold.
    ``unclip_ratio``: how far DB grows each text kernel into a box. ``max_side_len``: rapidocr first
    scales an image whose longer side is above this down to it. Logging by rapidocr is switched
    off (its logger prints to stderr on its own and does not propagate).

    After each :meth:`read`, :attr:`last_seconds` holds rapidocr's own time per step
    (``{"det", "cls", "rec"}``, seconds; 0 for a step that did not run).
    """

    name = "rapidocr-ppocrv6-small"

    def __init__(self, provider: str = "cpu", det_only: bool = False, use_cls: bool = True,
                 box_thresh: float = 0.5, det_limit_side: int = 1088, threads: int | None = None,
                 det_thresh: float = 0.3, unclip_ratio: float = 2.0, max_side_len: int = 2000,
                 background: bool = False):
        if importlib.util.find_spec(RAPIDOCR) is None:
            raise RedactError(f"the '{RAPIDOCR}' package is needed for text detection (it is not installed)")
        folder = Path(str(importlib.resources.files(RAPIDOCR) / "models"))
        roles = ["det"] if det_only else ["det", "rec"] + (["cls"] if use_cls else [])
        paths = {r: checked_file(folder, *RAPIDOCR_MODELS[r], RAPIDOCR) for r in roles}
        self.det_only, self.use_cls = det_only, use_cls and not det_only
        self.box_thresh, self.det_limit_side = float(box_thresh), int(det_limit_side)
        self.det_thresh, self.unclip_ratio, self.max_side_len = float(det_thresh), float(unclip_ratio), int(max_side_len)
        self.last_seconds = {"det": 0.0, "cls": 0.0, "rec": 0.0}
        self._engine_: Any = None
        self._provider = ""
        self._loading: threading.Thread | None = None
        self._load_error: RedactError | None = None
        if not background:
            self._load(folder, paths, provider, threads)
            return
        self._loading = threading.Thread(target=self._load_caught, args=(folder, paths, provider, threads),
                                         name="redact-rapidocr-load", daemon=True)
        self._loading.start()

    def _load_caught(self, folder: Path, paths: dict[str, Path], provider: str, threads: int | None) -> None:
        try:
            self._load(folder, paths, provider, threads)
        except RedactError as e:
            self._load_error = e
        except Exception as e:  # any failure to load stops the scan at the first reading: nothing goes unread
            self._load_error = RedactError(f"the text models could not be loaded ({type(e).__name__}: {e})")

    def ready(self) -> None:
        """Wait until the models are loaded (made with ``background``: loading on a thread of its own, alongside the
        scan's start); raise the :class:`RedactError` loading them raised."""
        if self._loading is not None:
            self._loading.join()
            self._loading = None
        if self._load_error is not None:
            raise self._load_error

    @property
    def _engine(self) -> Any:
        self.ready()
        return self._engine_

    @property
    def provider(self) -> str:
        """The onnxruntime provider the models run on."""
        self.ready()
        return self._provider

    def _load(self, folder: Path, paths: dict[str, Path], provider: str, threads: int | None) -> None:
        try:
            RapidOCR = _rapidocr_class()
        except ImportError as e:
            raise RedactError(f"the '{RAPIDOCR}' package is needed for text detection ({e})") from None
        det_only = self.det_only
        cuda = providers(provider)[0] == CUDA
        params: dict[str, Any] = {
            "Global.log_level": "critical",
            "Global.text_score": 0.0,  # keep every box: low-confidence text is ours to judge
            "Global.use_rec": not det_only,
            "Global.use_cls": self.use_cls,
            "Global.model_root_dir": str(folder),
            "Global.max_side_len": self.max_side_len,
            "Det.box_thresh": self.box_thresh,
            "Det.thresh": self.det_thresh,
            "Det.unclip_ratio": self.unclip_ratio,
            "Det.limit_side_len": self.det_limit_side,
            "EngineConfig.onnxruntime.use_cuda": cuda,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads or cpu_threads(),
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        for role, path in paths.items():
            params[f"{role.capitalize()}.model_path"] = str(path)
        engine = RapidOCR(params=params)
        silence_rapidocr()
        with _own_sessions(provider, threads):  # load now (rapidocr loads lazily): errors surface here
            engine._load_det_model()
            if not det_only:
                engine._load_rec_model()
                if self.use_cls:
                    engine._load_cls_model()
        for role, path in paths.items():  # our session options instead of rapidocr's (see _own_sessions)
            step = getattr(engine, f"text_{role}")
            if not getattr(step.session.session, _OURS, False):  # a rapidocr that made its session another way
                _own_session(step, path, provider, threads)
        _fast_det_preprocess(engine.text_det)
        _unsorted_boxes(engine.text_det)
        det: Any = engine.text_det  # rapidocr types its session None until loaded
        used = det.session.session.get_providers()[0]
        if provider == "cuda" and used != CUDA:
            raise RedactError(f"CUDA was requested but rapidocr's onnxruntime session runs on {used}")
        self._engine_, self._provider = engine, used
        log.debug("RapidOCR ready on %s (det_only %s, cls %s)", used, det_only, self.use_cls)

    partial_recognition = True
    """:meth:`read` accepts ``recognise``: the text detector may skip recognising lines it has read before."""

    def read(self, image: np.ndarray, recognise: Recognise | None = None) -> list[TextBox]:
        """Text lines of ``image``. ``recognise``: given the lines' ``[x1, y1, x2, y2]`` boxes (N x 4, image
        pixels), which of them to recognise (N booleans); the others come back with ``text=None``."""
        from rapidocr.utils.process_img import map_boxes_to_original

        check_image(image)
        silence_rapidocr()  # again: any RapidOCR built since (by anyone) resets its logger's level
        h, w = image.shape[:2]
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)  # one pass: 4 ms at 1920x1088 (a reversed view made contiguous: 30 ms)
        img, record = self._engine.preprocess_img(bgr)
        t0 = time.perf_counter()
        crops, det = self._detect_and_crop(img, record)
        self.last_seconds = {"det": time.perf_counter() - t0, "cls": 0.0, "rec": 0.0}
        if det is None or det.boxes is None or len(det.boxes) == 0:
            return []
        quads = map_boxes_to_original(np.array(det.boxes, np.float32), record, h, w)
        return self._lines(list(quads), list(det.scores), recognise, lambda idx: [crops[i] for i in idx])

    def read_regions(self, image: np.ndarray, regions: np.ndarray, recognise: Recognise | None = None
                     ) -> list[TextBox]:
        """Text lines of ``image`` found inside ``regions`` (N x 4 ``[x1, y1, x2, y2]``, image pixels) only: each
        region, rounded out to the detector's 32-pixel grid, is cut from the image as :meth:`read` would detect it
        (resized the same way) and detected there, in step with that grid (a region cut elsewhere finds boxes a pixel
        or two tighter). Boxes in image pixels; ``recognise`` as in :meth:`read`, given the boxes of all regions
        together. The regions should not overlap (a line in two would be found twice)."""
        check_image(image)
        silence_rapidocr()
        h, w = image.shape[:2]
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        t0 = time.perf_counter()
        det: Any = self._engine.text_det
        resized = det.get_preprocess().resize(bgr)  # the whole image as the detector would see it
        if resized is None:
            return []
        dh, dw = resized.shape[:2]
        rx, ry = dw / w, dh / h
        mean = np.asarray(det.mean or [0.5] * 3, np.float32)
        std = np.asarray(det.std or [0.5] * 3, np.float32)
        quads: list[np.ndarray] = []
        scores: list[float] = []
        for left, top, right, bottom in _grid_pieces(regions, rx, ry, dw, dh):
            piece = resized[top:bottom, left:right].astype(np.float32)
            blob = ((piece / 255.0 - mean) / std).transpose(2, 0, 1)[None]
            boxes, box_scores = det.postprocess_op(det.session(np.ascontiguousarray(blob)), piece.shape[:2])
            for box, score in zip(boxes, box_scores):  # (in the detector's order, as read: see _unsorted_boxes)
                quad = (np.asarray(box, np.float32) + np.array([left, top], np.float32)) / np.array([rx, ry], np.float32)
                quad[:, 0] = np.clip(quad[:, 0], 0, w)
                quad[:, 1] = np.clip(quad[:, 1], 0, h)
                quads.append(quad)
                scores.append(float(score))
        self.last_seconds = {"det": time.perf_counter() - t0, "cls": 0.0, "rec": 0.0}
        return self._lines(quads, scores, recognise, lambda idx: self._engine.crop_text_regions(
            bgr, np.asarray([quads[i] for i in idx], np.float32)))

    def detect_at(self, image: np.ndarray, side: int, regions: np.ndarray | None = None) -> list[TextBox]:
        """Text lines of ``image`` (RGB) found by the detector alone (``text=None``) with the image scaled so its
        shorter side is about ``side`` pixels (each side rounded to the detector's 32-pixel grid), whatever
        ``det_limit_side`` says: a cheaper detection than :meth:`read`'s. ``regions`` (N x 4 ``[x1, y1, x2, y2]``,
        image pixels, not overlapping): only those parts of the scaled image, each rounded out to the 32-pixel grid, as
        :meth:`read_regions` does. Boxes in image pixels. :attr:`last_seconds` is left as the last :meth:`read` set
        it."""
        check_image(image)
        h, w = image.shape[:2]
        s = side / min(h, w)
        dw, dh = max(32, int(round(w * s / 32)) * 32), max(32, int(round(h * s / 32)) * 32)
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        resized = cv2.resize(bgr, (dw, dh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        det: Any = self._engine.text_det
        rx, ry = dw / w, dh / h
        pieces = [(0, 0, dw, dh)] if regions is None else _grid_pieces(regions, rx, ry, dw, dh)
        out = []
        for left, top, right, bottom in pieces:
            piece = resized[top:bottom, left:right]
            boxes, scores = det.postprocess_op(det.session(_det_blob(piece, det.mean, det.std)), piece.shape[:2])
            for box, score in zip(boxes, scores):
                quad = (np.asarray(box, np.float32) + np.array([left, top], np.float32)) / np.array([rx, ry], np.float32)
                quad[:, 0] = np.clip(quad[:, 0], 0, w)
                quad[:, 1] = np.clip(quad[:, 1], 0, h)
                out.append(TextBox(quad, float(score)))
        return out

    def _lines(self, quads: list[np.ndarray], scores: list[float], recognise: Recognise | None,
               crops_of: Callable[[list[int]], list[np.ndarray]]) -> list[TextBox]:
        """The detected lines (``quads``, each 4 x 2 image pixels, with their detection ``scores``) as text boxes:
        those ``recognise`` asks for (all when None) recognised from ``crops_of(their indices)``, the others (and all
        of them with ``det_only``) with ``text=None``."""
        n = len(quads)
        texts: list[str | None] = [None] * n
        text_scores = [0.0] * n
        if n and not self.det_only:
            want = np.ones(n, bool)
            if recognise is not None:
                q = np.asarray(quads)
                want = np.asarray(recognise(np.concatenate([q.min(axis=1), q.max(axis=1)], axis=1)), bool).reshape(n)
            idx = [int(i) for i in np.nonzero(want)[0]]
            for i, text, score in zip(idx, *self._recognise(crops_of(idx))):
                texts[i], text_scores[i] = text, score
        return [TextBox(q, s, t, ts if t is not None else 0.0) for q, s, t, ts in zip(quads, scores, texts, text_scores)]

    def recognise_quads(self, image: np.ndarray, quads: np.ndarray) -> tuple[list[str | None], list[float]]:
        """Recognise the lines at ``quads`` (N x 4 x 2, image pixels) of ``image`` without detecting them: texts
        (``None``: could not be read) and confidences."""
        check_image(image)
        silence_rapidocr()
        if self.det_only or not len(quads):
            return [None] * len(quads), [0.0] * len(quads)
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        boxes = np.asarray(quads, np.float32).reshape(-1, 4, 2)
        return self._recognise(self._engine.crop_text_regions(bgr, boxes))

    def _detect_and_crop(self, img: np.ndarray, record: dict[str, Any]) -> tuple[list[np.ndarray], Any]:
        from rapidocr.main import RapidOCRError

        try:
            return self._engine.detect_and_crop(img, record)
        except RapidOCRError:  # rapidocr raises it only for an empty result: no text in the image
            return [], None

    def _recognise(self, crops: list[np.ndarray]) -> tuple[list[str | None], list[float]]:
        """Texts and confidences of ``crops`` (line images), turned upright first when ``use_cls``; lines
        rapidocr could not read come back as ``None`` (counted unreadable: fail closed)."""
        from rapidocr.main import RapidOCRError

        none: tuple[list[str | None], list[float]] = ([None] * len(crops), [0.0] * len(crops))
        if not crops:
            return none
        try:
            t0 = time.perf_counter()
            if self.use_cls:
                crops, _ = self._engine.cls_and_rotate(crops)
            t1 = time.perf_counter()
            rec = self._engine.recognize_txt(crops)
            self.last_seconds.update(cls=t1 - t0, rec=time.perf_counter() - t1)
        except RapidOCRError:  # raised for an empty result only
            return none
        if rec.txts is None or len(rec.txts) != len(crops):
            return none
        return list(rec.txts), [float(x) for x in rec.scores]

    def describe(self) -> dict[str, Any]:
        roles = ["det"] if self.det_only else ["det", "rec"] + (["cls"] if self.use_cls else [])
        return {
            "name": self.name,
            "package": RAPIDOCR,
            "package_version": importlib.metadata.version(RAPIDOCR),
            "models": {r: {"file": RAPIDOCR_MODELS[r][0], "sha256": RAPIDOCR_MODELS[r][1]} for r in roles},
            "provider": self.provider,
            "det_only": self.det_only,
            "use_cls": self.use_cls,
            "box_thresh": self.box_thresh,
            "det_limit_side": self.det_limit_side,
            "det_thresh": self.det_thresh,
            "unclip_ratio": self.unclip_ratio,
            "max_side_len": self.max_side_len,
        }


_OURS = "_redact_session"


@contextlib.contextmanager
def _own_sessions(provider: str, threads: int | None) -> Iterator[None]:
    """While rapidocr loads its steps, each step's onnxruntime session is one made by
    :func:`~redact.detect.base.create_session` from the file rapidocr was given (see :func:`_own_session` for why),
    instead of one of rapidocr's that would be replaced straight away (three sessions made for nothing: 0.1-0.2
    CPU-s)."""
    from rapidocr.inference_engine.onnxruntime import main as step_module

    def ours(model: Any, *args: Any, **kwargs: Any) -> Any:
        session = create_session(str(model), provider, threads)
        setattr(session, _OURS, True)
        return session

    with _IMPORT_LOCK:
        theirs = vars(step_module).get("InferenceSession")
        if theirs is None:  # another rapidocr: its own sessions, replaced afterwards
            yield
            return
        step_module.InferenceSession = ours
        try:
            yield
        finally:
            step_module.InferenceSession = theirs


def _own_session(step: Any, path: Path, provider: str, threads: int | None) -> None:
    """Run one rapidocr step (its ``session.session`` an onnxruntime session) on a session made with
    :func:`~redact.detect.base.create_session` from the same checked file: rapidocr's own turns onnxruntime's
    memory arena off and lets idle worker threads spin (RapidOCR alone on 5 frames of a 720p clip: 5.6-5.75 s,
    user 8.2-8.3 s, system 1.4-2.2 s; on ours 4.9 s, 7.5 s, 0.8 s)."""
    step.session.session = create_session(str(path), provider, threads)


def _unsorted_boxes(det: Any) -> None:
    """Keep the detector's boxes in the order it found them: rapidocr sorts the boxes top to bottom but leaves
    their scores in the detector's order, so a line would be given another line's detection score (:meth:`read`
    pairs them one to one, and the crops are cut in the boxes' order)."""
    det.sorted_boxes = lambda boxes: boxes


def _fast_det_preprocess(det: Any) -> None:
    """Normalise detection input in one OpenCV pass (``blobFromImage``: float32, channels first) instead of
    rapidocr's NumPy steps, which go through float64: 110 ms -> 32 ms for a 1920x1088 input, same values to
    1.2e-7. Kept as rapidocr's when its mean/std are not the same on every channel (one scale cannot express it)."""
    from rapidocr.ch_ppocr_det.utils import DetPreProcess

    mean, std = np.asarray(det.mean or [0.5] * 3, float), np.asarray(det.std or [0.5] * 3, float)
    if np.ptp(mean) or np.ptp(std):
        return

    class Fast(DetPreProcess):
        def __call__(self, img: np.ndarray) -> np.ndarray | None:
            resized = self.resize(img)
            return None if resized is None else _det_blob(resized, det.mean, det.std)

    det.get_preprocess = lambda: Fast(det.limit_side_len, det.limit_type, det.mean, det.std)


def _grid_pieces(regions: np.ndarray, rx: float, ry: float, dw: int, dh: int) -> list[tuple[int, int, int, int]]:
    """``regions`` (N x 4, image pixels) in a ``dw`` x ``dh`` image scaled by ``rx``, ``ry``: each rounded out to the
    detector's 32-pixel grid (``left, top, right, bottom``); those under 32 pixels either way left out."""
    out = []
    for x1, y1, x2, y2 in np.asarray(regions, np.float64).reshape(-1, 4):
        left, top = max(0, int(x1 * rx) // 32 * 32), max(0, int(y1 * ry) // 32 * 32)
        right, bottom = min(dw, -(-int(np.ceil(x2 * rx)) // 32) * 32), min(dh, -(-int(np.ceil(y2 * ry)) // 32) * 32)
        if right - left >= 32 and bottom - top >= 32:
            out.append((left, top, right, bottom))
    return out


def _det_blob(image: np.ndarray, mean: Any, std: Any) -> np.ndarray:
    """The detector's input for ``image`` (BGR, already at the detector's size): ``(x / 255 - mean) / std``,
    float32, channels first, batch of one (``mean``/``std`` per channel; rapidocr's default 0.5 when None). One
    OpenCV pass (``blobFromImage``) when they are the same on every channel, as rapidocr's defaults are."""
    m, s = np.asarray(mean or [0.5] * 3, np.float64), np.asarray(std or [0.5] * 3, np.float64)
    if not (np.ptp(m) or np.ptp(s)):
        return cv2.dnn.blobFromImage(image, 1.0 / (255.0 * s[0]), mean=tuple(255.0 * m), swapRB=False)
    blob = ((image.astype(np.float32) / 255.0 - m.astype(np.float32)) / s.astype(np.float32)).transpose(2, 0, 1)
    return np.ascontiguousarray(blob[None])


def silence_rapidocr() -> None:
    """Switch off rapidocr's own logger (it writes to stderr itself and sets its level per engine)."""
    logging.getLogger("RapidOCR").setLevel(logging.CRITICAL + 1)
