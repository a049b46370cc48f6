"""redact: on-device redaction of faces, badges and on-screen text in video and images."""

__version__ = "0.1.0"
