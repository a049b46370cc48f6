from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A real face (scikit-image's astronaut, public domain NASA photo), RGB uint8 512x512."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def face_scene(astronaut):
    """A function frame_index -> 320x240 RGB frame with the astronaut's face moving slowly to the right."""
    crop = astronaut[0:256, 96:352]  # head and shoulders

    def draw(i: int, width: int = 320, height: int = 240) -> np.ndarray:
        import cv2

        img = np.full((height, width, 3), (200, 210, 205), np.uint8)
        small = cv2.resize(crop, (128, 128), interpolation=cv2.INTER_AREA)
        x = 40 + 4 * i
        y = 50
        x = min(x, width - 128)
        img[y:y + 128, x:x + 128] = small
        return img

    return draw


_STACKS: dict[str, list] = {}
"""Default detector stacks built in this test session, by thread and scan settings (at most two kept: each holds
models)."""


@pytest.fixture(autouse=True)
def shared_detector_stacks(request):
    """One default detector stack per scan settings for the whole test session, as a batch worker keeps one per
    settings (``scan`` resets a stack before every clip; loading the models costs more than a small clip's scan).
    A test that uses ``monkeypatch`` gets stacks built afresh: it may patch what building one does. Stacks are kept
    per thread (a review server scans in its own): two scans at once never share a detector's state."""
    if "monkeypatch" in request.fixturenames:
        yield
        return
    import threading

    import redact.analyse

    build = redact.analyse.default_stack

    def shared(options):
        key = f"{threading.get_ident()} {sorted(options.to_dict().items())!r}"
        if key not in _STACKS:
            while len(_STACKS) >= 2:
                _STACKS.pop(next(iter(_STACKS)))
            _STACKS[key] = build(options)
        return _STACKS[key]

    redact.analyse.default_stack = shared
    try:
        yield
    finally:
        redact.analyse.default_stack = build


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield


def listdir(p: Path) -> list[str]:
    return sorted(x.name for x in p.iterdir())
