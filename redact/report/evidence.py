"""What a plan says of how sure the detectors were of a track (its ``evidence``), checked: the numbers the report,
the HTML report and the review page show."""

from __future__ import annotations

import logging
import math
from typing import Any

from ..types import Track

log = logging.getLogger(__name__)


def track_evidence(t: Track) -> dict[str, Any] | None:
    """``{"detections", "best_score", "confirmed"}`` of ``t`` (numbers and a flag, nothing else of the plan's
    ``evidence``), or None when it has none (boxes drawn by hand, whole-frame covers, older plans)."""
    ev = t.evidence
    if not isinstance(ev, dict):
        return None
    n, score, confirmed = ev.get("detections"), ev.get("best_score"), ev.get("confirmed")
    if not (isinstance(n, int) and not isinstance(n, bool) and n >= 0 and isinstance(confirmed, bool)
            and isinstance(score, (int, float)) and not isinstance(score, bool) and math.isfinite(score)):
        log.warning("a track's evidence is malformed; left out of the report")
        return None
    return {"detections": n, "best_score": round(float(score), 3), "confirmed": confirmed}


def is_low_confidence(t: Track) -> bool:
    """An unconfirmed track: the detectors saw it only weakly, so it is covered only where it was seen."""
    ev = track_evidence(t)
    return ev is not None and not ev["confirmed"]
