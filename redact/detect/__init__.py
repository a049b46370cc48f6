"""Detectors: models that find faces (and, elsewhere, badges and text) in single RGB images."""

from redact.detect.base import Detector, providers
from redact.detect.faces import CenterFaceDetector

__all__ = ["CenterFaceDetector", "Detector", "providers"]
