"""One clip on several cores (``-j N``): the clip is split into segments scanned and rendered in worker processes.

- :mod:`.index`: where a clip can be split (a demux pass: timestamps and keyframes), and decoding one segment with
  the whole-clip decoder's indices and timestamps;
- :mod:`.scan`: detectors per segment (with an overlap), the records stitched, the trackers run once;
- :mod:`.render`: segments encoded in parallel from keyframes, joined without re-encoding, audio once;
- :mod:`.pool`: the worker processes, each pinned to its share of the CPUs (:mod:`redact.cpus`).

Entry points are :func:`redact.pipeline.scan` / :func:`~redact.pipeline.render` with ``jobs`` > 1; clips that
are short (fewer than :data:`~.index.MIN_SEGMENT_FRAMES` frames per segment), images, and inputs whose index is not
plain are done serially.
"""

from .index import MIN_SEGMENT_FRAMES, SegmentMismatch
from .render import parallel_render
from .scan import parallel_scan

__all__ = ["MIN_SEGMENT_FRAMES", "SegmentMismatch", "parallel_render", "parallel_scan"]
