"""Video and image I/O: probe inputs, decode frames in display orientation, write clean outputs.

Reading and writing share one decode path, so frame indices and timestamps seen while scanning
are exactly those the writer uses. Outputs are written atomically and carry no source metadata.
"""

from .atomic import atomic_group, atomic_path, atomic_write_text, same_file, sha256_file, signals_deferred
from .audio import AUDIO_MODES
from .image import WRITE_FORMATS as IMAGE_WRITE_FORMATS
from .image import read_image, write_image
from .model import Frame, MediaInfo, WriteResult, YuvFrame
from .probe import is_image_path, probe
from .reader import FrameSource, read_frames
from .writer import VIDEO_SUFFIXES, write_video

__all__ = [
    "AUDIO_MODES",
    "IMAGE_WRITE_FORMATS",
    "VIDEO_SUFFIXES",
    "Frame",
    "FrameSource",
    "MediaInfo",
    "WriteResult",
    "YuvFrame",
    "atomic_group",
    "atomic_path",
    "atomic_write_text",
    "is_image_path",
    "probe",
    "read_frames",
    "read_image",
    "same_file",
    "sha256_file",
    "signals_deferred",
    "write_image",
    "write_video",
]
