"""Frames decoded ahead, in a thread of their own: :func:`prefetched`.

A scan decodes each frame (and turns it into RGB) and then runs the detectors on it, one after the other, on one
thread: while the frame is decoded no detector runs, and while the detectors' Python code runs (the change watch, the
tracker) one core of two is idle. Decoding the next frames on a thread of their own, while the detectors work on this
one, overlaps the two (libav and swscale release the GIL). The frames, their order and every error are the same as
iterating the source itself: an error while decoding is raised where the consumer would have met it, after the frames
before it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from typing import Any, Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
U = TypeVar("U")

DEPTH = 3
"""Frames decoded ahead at most (a 720p RGB frame is 2.7 MiB, a 4K one 24 MiB)."""

_END = object()
_POLL_S = 0.1


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


@contextlib.contextmanager
def prefetched(items: Iterable[T], work: Callable[[T], U] | None = None, depth: int = DEPTH
               ) -> Iterator[Iterator[Any]]:
    """``with prefetched(source) as frames: for f in frames: ...``: the items of ``items`` (or ``work(item)`` for each,
    computed on the same thread, in order), taken from a thread that iterates ``items`` at most ``depth`` items ahead.

    An exception raised by ``items`` or ``work`` is raised by the iteration after the items before it. Leaving the
    block (at the end, on an error, or early) stops the thread and waits for it, so whatever ``items`` holds open
    (a decoder) is no longer used when the block is left; ``items`` itself is closed on that thread."""
    out: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        source = iter(items)
        try:
            for item in source:
                if not put(item if work is None else work(item)):
                    break
            else:
                put(_END)
        except BaseException as e:  # handed to the consumer, raised there
            put(_Failed(e))
        finally:
            close = getattr(source, "close", None)
            if callable(close):
                close()

    thread = threading.Thread(target=produce, name="redact-prefetch", daemon=True)

    def consume() -> Iterator[Any]:
        while True:
            item = out.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item

    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                out.get(timeout=_POLL_S)
        thread.join()
