"""How many OCR readings the default text stack needs on whole clips, and why (issue 24).

    .venv/bin/python benchmarks/text_readings.py CLIP [CLIP ...]

Runs (with run_due, so that it also runs on trees before the change) the default on-screen text detector (``text_stack`` of the default ScanOptions: the stride, cuts, the change
watch and its following of moving lines) over every frame of each clip with the scan's own camera motion and cut
detection, faces and badges left out (they do not change when text is read). Prints per clip: frames, readings in all,
readings a change alone made due, readings new ground the camera showed alone made due, frames on which some line
was followed instead of read, readings limited to the parts of the frame that changed (:mod:`redact.detect.regions`)
and the mean share of the frame they read, and seconds. Counts only: recognised text is never printed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine, machine, versions

from redact.detect.schedule import CutDetector, run_due
from redact.detect.stack import text_stack
from redact.io import FrameSource
from redact.motion import CameraMotion, MotionPath
from redact.pipeline import ScanOptions


def readings(path: Path) -> dict[str, float]:
    stack = text_stack(ScanOptions())
    for s in stack:
        s.reset()
    text = stack[0]
    detect, runs = text.detector.detect, [0]

    def counted(image):  # every reading goes through detect
        runs[0] += 1
        return detect(image)

    text.detector.detect = counted
    camera, motion, cuts = CameraMotion(), MotionPath(), CutDetector()
    frames, t0 = 0, time.perf_counter()
    with FrameSource(path) as src:
        for frame in src:
            transform, ok = camera.update(frame.image)
            motion.add(frame.index, transform, ok)
            run_due(stack, frame.index, frame.image, cuts.update(frame.image), motion=motion)
            frames += 1
    watch = text.watch
    reader = text.detector.backend  # a RegionalReader once the scan limits readings to what changed
    partial = getattr(reader, "partial", 0)
    return {"frames": frames, "readings": runs[0], "by_change": watch.readings if watch else 0,
            "by_reveal": getattr(watch, "reveals", 0),
            "followed_frames": getattr(watch, "follows", 0), "partial": partial,
            "partial_share": round(getattr(reader, "share", 0.0) / partial, 3) if partial else 0.0,
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    if not paths:
        print(__doc__)
        return 2
    print(describe_machine(machine(), versions()))
    for p in paths:
        r = readings(p)
        print(f"{p.name:45s} frames {r['frames']:4d}  readings {r['readings']:3d}  by change {r['by_change']:3d}  "
              f"by new ground {r['by_reveal']:3d}  "
              f"followed frames {r['followed_frames']:4d}  of the parts that changed {r['partial']:3d} "
              f"(mean share of the frame {r['partial_share']:.2f})  {r['seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
