"""Self-contained HTML report: inline CSS and SVG, no scripts, no external resources.

Every value that comes from outside (file paths, settings) is escaped.
"""

from __future__ import annotations

import html
from typing import Any, Iterable

from ..types import Plan, Track

COLOURS = {"face": "#c0392b", "badge": "#d68910", "text": "#2874a6", "frame": "#424949"}
KEPT = "#27ae60"

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2833;margin:0;background:#f4f6f7}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px;background:#fff;min-height:100vh}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #d5dbdb;padding-bottom:4px}
.sub{color:#566573;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{flex:1 1 130px;border:1px solid #d5dbdb;border-radius:6px;padding:10px 14px}
.card b{display:block;font-size:22px}.card span{color:#566573;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeded;vertical-align:top}
th{background:#f8f9f9;font-weight:600}
td.mono,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.kind{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px}
.warn{background:#fef5e7;border-left:4px solid #d68910;padding:8px 12px;margin:8px 0}
.note{color:#566573;font-size:12px}
svg text{font:11px system-ui,sans-serif;fill:#424949}
"""


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _table(rows: Iterable[tuple[str, Any]], mono: Iterable[str] = ()) -> str:
    mono = set(mono)
    out = ["<table>"]
    for k, v in rows:
        cls = ' class="mono"' if k in mono else ""
        out.append(f"<tr><th>{_e(k)}</th><td{cls}>{_e(v)}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _runs(frames: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs [start, end] of sorted frame indices."""
    runs: list[tuple[int, int]] = []
    for f in frames:
        if runs and f == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], f)
        elif not runs or f > runs[-1][1]:
            runs.append((f, f))
    return runs


def timeline_svg(plan: Plan, width: int = 1040) -> str:
    """One row per track, a bar where the track is present, coloured by kind; kept tracks in green outline."""
    n = max(plan.input.frames, 1)
    fps = plan.input.fps
    tracks = sorted(plan.tracks, key=lambda t: (t.first_frame, t.id))
    left, right, row_h, top = 90, 10, 16, 8
    plot_w = width - left - right
    height = top + row_h * max(len(tracks), 1) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="timeline of redacted tracks" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{row_h * max(len(tracks), 1)}" '
                 'fill="#f8f9f9" stroke="#d5dbdb"/>')
    for i, t in enumerate(tracks):
        y = top + i * row_h
        parts.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">#{t.id} {_e(t.kind)}</text>')
        colour = COLOURS.get(t.kind, "#7f8c8d")
        for a, b in _runs(sorted({bx.frame for bx in t.boxes})):
            x = left + plot_w * a / n
            w = max(plot_w * (b - a + 1) / n, 1.0)
            if t.action == "keep":
                parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="none" '
                             f'stroke="{KEPT}" stroke-width="1.5"/>')
            else:
                parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{colour}"/>')
    # time axis
    axis_y = top + row_h * max(len(tracks), 1)
    duration = n / fps if fps > 0 else None
    ticks = 8
    for k in range(ticks + 1):
        x = left + plot_w * k / ticks
        label = f"{duration * k / ticks:.1f}s" if duration else f"f{round(n * k / ticks)}"
        parts.append(f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 4}" stroke="#7f8c8d"/>')
        anchor = "start" if k == 0 else "end" if k == ticks else "middle"
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="{anchor}">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _kind_badge(kind: str) -> str:
    return f'<span class="kind" style="background:{COLOURS.get(kind, "#7f8c8d")}">{_e(kind)}</span>'


def _tracks_table(report: dict[str, Any]) -> str:
    head = ("<table><tr><th>#</th><th>kind</th><th>category</th><th>action</th><th>time</th><th>frames</th>"
            "<th>detected in</th><th>mean size</th></tr>")
    rows = [head]
    for t in report["tracks"]:
        when = (f"{t['start_s']:.2f}–{t['end_s']:.2f} s" if t.get("start_s") is not None
                else f"frames {t['first_frame']}–{t['last_frame']}")
        rows.append(
            f"<tr><td>{_e(t['id'])}</td><td>{_kind_badge(t['kind'])}</td><td>{_e(t.get('category') or '')}</td>"
            f"<td>{_e(t['action'])}</td><td>{_e(when)}</td><td>{_e(t['frames'])}</td>"
            f"<td>{_e(t['detected_frames'])} frames</td><td>{_e(t['mean_box_area_pct'])}% of frame</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _models(report: dict[str, Any]) -> str:
    if not report["models"]:
        return '<p class="note">Rendered from an existing plan; models are recorded in the plan\'s settings.</p>'
    rows = ["<table><tr><th>model</th><th>from package</th><th>weights SHA-256</th><th>runs on</th></tr>"]
    for m in report["models"]:
        pkg = f"{m.get('package', '')} {m.get('package_version', '')}".strip()
        rows.append(f"<tr><td>{_e(m.get('name'))}</td><td>{_e(pkg)}</td><td class='mono'>{_e(m.get('sha256'))}</td>"
                    f"<td>{_e(m.get('provider'))}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _flatten(d: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested settings as ("scan.provider", "auto") rows."""
    if isinstance(d, dict):
        return [row for k, v in d.items() for row in _flatten(v, f"{prefix}{k}.")]
    if isinstance(d, list):
        return [(prefix[:-1], ", ".join(str(x) for x in d))]
    return [(prefix[:-1], d)]


def render_html(report: dict[str, Any], plan: Plan) -> str:
    s = report["summary"]
    inp, out = report["input"], report["output"]
    kinds = s["tracks_by_kind"]
    cards = [
        (kinds.get("face", 0), "faces redacted"),
        (kinds.get("badge", 0), "badges redacted"),
        (kinds.get("text", 0), "text regions redacted"),
        (sum(s["kept_by_kind"].values()), "tracks kept"),
        (f"{100 * s['share_of_frames_redacted']:.0f}%", "of frames have a redaction"),
    ]
    warnings = "".join(f'<div class="warn">{_e(w)}</div>' for w in report["warnings"])
    duration = inp.get("duration")
    doc = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        f"<title>Redaction report — {_e(_basename(inp.get('path')))}</title><style>{CSS}</style></head><body><main>",
        "<h1>Redaction report</h1>",
        f"<p class=\"sub\">{_e(_basename(inp.get('path')))} → {_e(_basename(out.get('path')))} · "
        f"redact {_e(report['tool']['version'])}</p>",
        warnings,
        '<div class="cards">' + "".join(f"<div class=\"card\"><b>{_e(v)}</b><span>{_e(k)}</span></div>"
                                        for v, k in cards) + "</div>",
        "<p class=\"note\">This report lists what kind of thing was removed, where and when. "
        "It never contains the removed text itself.</p>",
        "<h2>Timeline</h2>", timeline_svg(plan),
        "<h2>Tracks</h2>", _tracks_table(report) if report["tracks"] else "<p>Nothing was found to redact.</p>",
        "<h2>Files</h2>",
        _table([
            ("input", inp.get("path")), ("input SHA-256", inp.get("sha256")),
            ("format", f"{inp.get('kind')} {inp.get('width')}×{inp.get('height')}, {inp.get('frames')} frame(s)"
                      + (f", {duration:.2f} s" if isinstance(duration, (int, float)) else "")
                      + (f", rotation {inp.get('rotation')}°" if inp.get("rotation") else "")),
            ("output", out.get("path")), ("output SHA-256", out.get("sha256")),
            ("audio", out.get("audio")),
        ], mono=("input SHA-256", "output SHA-256")),
        "<h2>Models</h2>", _models(report),
        "<h2>Settings</h2>", _table(_flatten(report["settings"])),
        "<h2>Timings</h2>", _table(sorted(report["timings"].items())),
        "</main></body></html>",
    ]
    return "".join(doc)


def _basename(p: Any) -> str:
    if not p:
        return ""
    return str(p).replace("\\", "/").rsplit("/", 1)[-1]
