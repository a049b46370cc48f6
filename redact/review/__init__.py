"""``redact review``: a local web page to check and edit the plan before the cleaned copy is written.

:class:`~redact.review.session.ReviewSession` holds the clip, its plan (saved on every change) and the
background jobs; :class:`~redact.review.server.ReviewServer` serves the page on ``127.0.0.1`` behind a random
token. The command is :mod:`redact.cli.review` (this package imports nothing heavy until the command runs).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ReviewError", "ReviewServer", "ReviewSession"]


def __getattr__(name: str) -> Any:
    if name == "ReviewServer":
        from .server import ReviewServer

        return ReviewServer
    if name in ("ReviewSession", "ReviewError"):
        from . import session

        return getattr(session, name)
    raise AttributeError(name)
