"""redact: on-device redaction of faces, badges and on-screen text in video and images."""

import os as _os

# onnxruntime (1.2x+) ships Microsoft's 1DS telemetry: on import it writes a session file to the temporary folder
# and queues events (OS, Python path, network type, a device id) in ~/.cache/Microsoft/DeveloperTools/.onnxruntime
# for upload. An offline tool must not: switched off before any detector imports it (tests/test_privacy.py).
_os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__version__ = "0.1.0"
