"""The text models load on a thread of their own while the scan starts (RapidOcrBackend(background=True), as the
default stack builds it): readings are the same, and a failure to load fails the scan at the first reading, with
nothing written, whatever ``on_unanalysable`` says."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from redact.errors import RedactError

pytest.importorskip("rapidocr")


def _sign() -> np.ndarray:
    image = np.full((240, 480, 3), 235, np.uint8)
    cv2.putText(image, "Ward 7 North", (30, 130), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 4, cv2.LINE_AA)
    return image


def test_loaded_in_the_background_reads_the_same():
    from redact.detect.rapidocr import RapidOcrBackend

    plain = RapidOcrBackend(provider="cpu")
    behind = RapidOcrBackend(provider="cpu", background=True)
    a, b = plain.read(_sign()), behind.read(_sign())
    assert [x.text for x in a] == [x.text for x in b] and any(x.text for x in a)
    assert all(np.array_equal(x.quad, y.quad) for x, y in zip(a, b))
    assert behind.describe() == plain.describe()


def test_default_stack_loads_text_in_the_background():
    from redact.detect.stack import text_stack
    from redact.options import ScanOptions

    (scheduled,) = text_stack(ScanOptions())
    backend = scheduled.detector.backend
    assert backend._loading is not None or backend._engine_ is not None  # started, not waited for
    backend.ready()
    assert backend._engine_ is not None


def _failing_load(monkeypatch):
    import redact.detect.rapidocr as rapidocr

    def broken() -> None:
        raise RuntimeError("onnxruntime could not read the model")

    monkeypatch.setattr(rapidocr, "_rapidocr_class", broken)
    return rapidocr.RapidOcrBackend(provider="cpu", background=True)


def test_a_failed_background_load_is_raised_at_first_use(monkeypatch):
    backend = _failing_load(monkeypatch)
    with pytest.raises(RedactError, match="text models could not be loaded"):
        backend.read(_sign())
    with pytest.raises(RedactError, match="text models could not be loaded"):  # and again: never a reading
        backend.ready()


@pytest.mark.parametrize("on_unanalysable", ["fail", "cover"])
def test_a_scan_whose_text_models_fail_to_load_writes_nothing(tmp_path, monkeypatch, on_unanalysable):
    from redact.detect.schedule import Scheduled
    from redact.detect.text import TextDetector
    from redact.pipeline import ScanOptions, run
    from tests.media import make_video

    backend = _failing_load(monkeypatch)
    path = make_video(tmp_path / "c.mp4", width=320, height=240, frames=6, draw=lambda i: cv2.resize(_sign(), (320, 240)))
    out = tmp_path / "out"
    out.mkdir()
    import redact.analyse

    monkeypatch.setattr(redact.analyse, "default_stack", lambda options: [Scheduled(TextDetector(backend), every=25)])
    with pytest.raises(RedactError, match="text models could not be loaded"):
        run(path, out / "o.mp4", ScanOptions(on_unanalysable=on_unanalysable))
    assert os.listdir(out) == []
