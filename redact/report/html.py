"""Self-contained HTML report: inline CSS (``template.html``) and an inline SVG timeline.

No scripts, no links, no external resources of any kind. Every value is escaped with
:func:`html.escape`, including those we wrote ourselves.
"""

from __future__ import annotations

import datetime as _dt
import html
import importlib.resources
import math
from dataclasses import dataclass
from string import Template
from typing import Any, Iterable

from ..types import Plan, Track
from .clock import on_frame_clock, timeline
from .evidence import is_low_confidence

COLOURS = {"face": "#c0392b", "badge": "#d68910", "text": "#2874a6", "frame": "#424949", "speech": "#7d3c98"}
KEPT = "#1e8449"
CHECK = "#ffd23f"  # the marker of low-confidence tracks (as on the review page)
NOUNS = {"face": ("face", "faces"), "badge": ("name badge", "name badges"),
         "text": ("text region", "text regions"), "frame": ("whole-frame cover", "whole-frame covers"),
         "speech": ("spoken stretch", "spoken stretches")}
LEGEND = {"face": "face", "badge": "name badge", "text": "text", "frame": "whole frame (not analysable)",
          "speech": "speech (audio)"}
AUDIO = {"copied": "copied unchanged (bit-exact)", "reencoded": "re-encoded (AAC)", "stripped": "removed",
         "none": "the input has no audio",
         "reencoded, speech bleeped": "re-encoded (AAC), spoken personal data bleeped",
         "reencoded, speech muted": "re-encoded (AAC), spoken personal data muted"}


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _n(count: int, kind: str) -> str:
    one, many = NOUNS.get(kind, (kind, kind + "s"))
    return f"{count} {one if count == 1 else many}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def _when(iso: Any) -> str:
    """'2026-11-22T01:21:15+00:00' as '22 Nov 2026, 01:21 UTC'."""
    try:
        d = _dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso or "")
    return d.strftime("%d %b %Y, %H:%M UTC")


def _basename(p: Any) -> str:
    return str(p).replace("\\", "/").rsplit("/", 1)[-1] if p else ""


# -- timeline ---------------------------------------------------------------------------------

def _runs(frames: list[int], merge_gap: int = 0) -> list[tuple[int, int]]:
    """Runs ``(first, last)`` of sorted frame indices; gaps of ``merge_gap`` frames or fewer are bridged."""
    runs: list[tuple[int, int]] = []
    for f in frames:
        if runs and f <= runs[-1][1] + 1 + merge_gap:
            runs[-1] = (runs[-1][0], max(f, runs[-1][1]))
        else:
            runs.append((f, f))
    return runs


def nice_step(span: float, target: int = 8) -> float:
    """A 1-2-5 step that cuts ``span`` into at most about ``target`` intervals."""
    raw = span / max(target, 1)
    if raw <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw * 0.999)


def _time_label(t: float, step: float, span: float) -> str:
    if span >= 120:
        return f"{int(t // 60)}:{int(round(t % 60)):02d}"
    decimals = 0 if step >= 1 else 1 if step >= 0.1 else 2
    return f"{t:.{decimals}f} s"


def _track_label(t: Track, category: str | None) -> str:
    label = f"#{t.id} {t.kind}" + (f" · {category}" if category else "")
    return label if len(label) <= 24 else label[:23] + "…"


MAX_ROWS = 40
"""Timeline rows before tracks of a kind are drawn together (a crowd has hundreds of face tracks)."""

@dataclass
class _Row:
    label: str
    kind: str
    keep: bool
    low: bool
    tracks: list[Track]


def _rows(tracks: list[Track], cats: dict[int, str | None]) -> list[_Row]:
    """One row per track; past :data:`MAX_ROWS`, the redacted tracks of a kind (confident ones apart from those of
    low confidence) share a row, and kept tracks, speech and whole frames keep their own."""
    single = [_Row(_track_label(t, cats.get(t.id)), t.kind, t.action == "keep", is_low_confidence(t), [t])
              for t in tracks]
    if len(single) <= MAX_ROWS:
        return single
    own = [r.keep or r.kind in ("speech", "frame") for r in single]
    groups: dict[tuple[str, bool], list[int]] = {}
    for i, r in enumerate(single):
        if not own[i]:
            groups.setdefault((r.kind, r.low), []).append(i)
    low_rows = sum(len(g) for (_, low), g in groups.items() if low)
    if sum(own) + low_rows + sum(1 for _, low in groups if not low) <= MAX_ROWS:
        for key in [k for k in groups if k[1]]:  # the tracks to check keep their own rows where they fit
            for i in groups.pop(key):
                own[i] = True
    order = list(COLOURS)
    shared = [_Row(_n(len(g), kind) + (", low conf." if low else ""), kind, False, low,
                   [single[i].tracks[0] for i in g])
              for (kind, low), g in sorted(groups.items(), key=lambda kv: (kv[0][1], order.index(kv[0][0])
                                                                             if kv[0][0] in order else len(order)))]
    return shared + [r for i, r in enumerate(single) if own[i]]


def timeline_svg(plan: Plan, width: int = 1000, categories: dict[int, str | None] | None = None) -> str:
    """One row per track with a bar wherever the track has a box, coloured by kind (past :data:`MAX_ROWS` tracks,
    one row for the tracks of a kind: see :func:`_rows`); kept tracks are dashed outlines; low-confidence tracks
    have a yellow label and dashed dark outlines. The axis is in seconds as a player shows them
    (:mod:`redact.report.clock`), in frames for an image."""
    n = max(plan.input.frames, 1)
    clock = timeline(plan)
    timed = clock.time(0) is not None  # images (and clips of unknown rate) are drawn in frames
    cats = categories or {}
    spans = {t.id: on_frame_clock(plan, t.span, clock) for t in plan.tracks if t.span}  # speech: on the frames' clock

    def at(frame: float) -> float:  # a frame position on the axis (seconds where the clip has a clock)
        t = clock.time(frame) if timed else None
        return float(frame) if t is None else t

    tracks = sorted(plan.tracks, key=lambda t: (spans[t.id][0] if t.id in spans and timed else at(t.first_frame),
                                                t.id))
    table = _rows(tracks, cats)
    left, right, legend_h, row_h = 160, 14, 26, 18
    plot_w = width - left - right
    rows = max(len(table), 1)
    top = legend_h
    axis_y = top + row_h * rows
    height = axis_y + 26
    span = max(at(n), max((b for _, b in spans.values()), default=0.0) if timed else 0.0, 1e-9)
    px = plot_w / span
    merge_gap = int(n / plot_w) if n > plot_w else 0
    p = [f'<svg role="img" aria-label="Timeline of redacted regions" width="100%" '
         f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet">']
    p.append(_legend(plan, left))
    for i in range(rows):
        fill = "#f7f9f9" if i % 2 == 0 else "#ffffff"
        p.append(f'<rect x="{left}" y="{top + i * row_h}" width="{plot_w}" height="{row_h}" fill="{fill}"/>')
    step = nice_step(span)
    k = 0
    while k * step <= span * 1.0001:
        tick = k * step
        x = left + plot_w * tick / span
        label = _time_label(tick, step, span) if timed else f"frame {int(tick)}"
        p.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{axis_y + 4}" stroke="#d5dbdb" stroke-width="1"/>')
        anchor = "start" if k == 0 else "middle"
        p.append(f'<text x="{x:.1f}" y="{axis_y + 17}" text-anchor="{anchor}">{_e(label)}</text>')
        k += 1
    p.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#99a3a4"/>')
    for i, row in enumerate(table):
        y = top + i * row_h
        if row.low:
            p.append(f'<rect x="4" y="{y + 1}" width="{left - 8}" height="{row_h - 2}" rx="3" fill="{CHECK}"/>')
        p.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end">{_e(("⚠ " if row.low else "") + row.label)}</text>')
        colour = COLOURS.get(row.kind, "#7f8c8d")
        # (start, end) on the axis: a stretch of the audio as it is, a run of frames from its first to its last's end
        if len(row.tracks) == 1 and row.tracks[0].id in spans and timed:
            bars = [spans[row.tracks[0].id]]
        else:
            frames = sorted({bx.frame for t in row.tracks for bx in t.boxes})
            bars = [(at(a), at(b + 1)) for a, b in _runs(frames, merge_gap)]
        what = f"#{row.tracks[0].id} {row.kind}" if len(row.tracks) == 1 else row.label
        for a, b in bars:
            x, w = left + px * a, max(px * (b - a), 1.5)
            tip = f"{what}, {a:.2f}–{b:.2f} s" if timed else f"{what}, frames {int(a)}–{int(b) - 1}"
            if row.keep:
                style = f'fill="#eafaf1" stroke="{KEPT}" stroke-width="1.2" stroke-dasharray="3 2"'
            else:
                style = f'fill="{colour}"'
            if row.low:
                style += ' stroke="#1c2833" stroke-width="1.2" stroke-dasharray="3 2"'
                tip += ", low confidence"
            p.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" rx="2" {style}>'
                     f'<title>{_e(tip)}</title></rect>')
    if not tracks:
        p.append(f'<text x="{left + plot_w / 2:.0f}" y="{top + 13}" text-anchor="middle">nothing to redact</text>')
    p.append("</svg>")
    return "".join(p)


def _legend(plan: Plan, left: int) -> str:
    kinds = [k for k in COLOURS if any(t.kind == k and t.action == "redact" for t in plan.tracks)]
    items = [(f'fill="{COLOURS[k]}"', LEGEND[k]) for k in kinds]
    if any(t.action == "keep" for t in plan.tracks):
        items.append((f'fill="#eafaf1" stroke="{KEPT}" stroke-dasharray="3 2"', "kept visible"))
    if any(is_low_confidence(t) for t in plan.tracks):
        items.append((f'fill="{CHECK}" stroke="#1c2833" stroke-dasharray="3 2"', "low confidence: check"))
    out, x = [], left
    for style, label in items:
        out.append(f'<rect x="{x}" y="4" width="14" height="10" rx="2" {style}/>'
                   f'<text x="{x + 19}" y="13">{_e(label)}</text>')
        x += 30 + 7 * len(label)
    return "".join(out)


# -- tables -----------------------------------------------------------------------------------

def _kv(rows: Iterable[tuple[str, Any]], mono: Iterable[str] = ()) -> str:
    mono = set(mono)
    out = ['<table class="kv">']
    for k, v in rows:
        cls = ' class="mono"' if k in mono else ""
        out.append(f"<tr><th>{_e(k)}</th><td{cls}>{_e(v)}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _kind_badge(kind: str) -> str:
    return f'<span class="kind" style="background:{COLOURS.get(kind, "#7f8c8d")}">{_e(kind)}</span>'


def _evidence_text(ev: dict[str, Any]) -> str:
    n = ev["detections"]
    return f"seen in {n} frame{'' if n == 1 else 's'}, best score {ev['best_score']:.2f}"


def _unread_covers(plan: Plan) -> bool:
    """Whether the plan has covers of unread text changes (:func:`redact.planning.plan_from`, from
    :class:`redact.detect.watch.Settled`): text tracks no detector reported, every box of them ``tracked``."""
    return any(t.kind == "text" and not t.evidence and t.boxes and all(b.source == "tracked" for b in t.boxes)
               for t in plan.tracks)


MAX_TABLE = 60
"""Rows of the regions' table shown open; a longer table is folded (its low-confidence rows shown apart)."""


def _table(report: dict[str, Any], tracks: list[dict[str, Any]]) -> str:
    rows = ['<table><thead><tr><th>#</th><th>kind</th><th>category</th><th>action</th><th>time</th>'
            '<th class="num">frames</th><th class="num">detected in</th><th class="num">best score</th>'
            '<th class="num">mean size</th></tr></thead><tbody>']
    for t in tracks:
        if t.get("start_s") is not None:
            when = f"{t['start_s']:.2f}–{t['end_s']:.2f} s"
        elif t["frames"] and report["input"].get("kind") != "image":
            when = f"frames {t['first_frame']}–{t['last_frame']}"
        else:
            when = "—"
        action = '<span class="kept">kept</span>' if t["action"] == "keep" else "redacted"
        ev = t.get("evidence")
        kind = _kind_badge(t["kind"])
        if t.get("low_confidence") and ev:
            kind += f' <span class="low" title="{_e(_evidence_text(ev))}">low confidence</span>'
        best = f"{ev['best_score']:.2f}" if ev else "—"
        row_class = ' class="lowrow"' if t.get("low_confidence") else ""
        # a spoken stretch is in the sound, not in frames: no frame count or size (not "0 frames, 0%")
        sound = t["kind"] == "speech"
        frames, detected = ("—", "—") if sound else (t["frames"], t["detected_frames"])
        size = "—" if sound else f"{t['mean_box_area_pct']}%"
        rows.append(
            f"<tr{row_class}><td>{_e(t['id'])}</td><td>{kind}</td>"
            f"<td>{_e(t.get('category') or '—')}</td>"
            f"<td>{action}</td><td>{_e(when)}</td><td class=\"num\">{_e(frames)}</td>"
            f"<td class=\"num\">{_e(detected)}</td><td class=\"num\">{_e(best)}</td>"
            f"<td class=\"num\">{_e(size)}</td></tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


def _tracks_table(report: dict[str, Any], covers: bool = False) -> str:
    tracks = report["tracks"]
    if not tracks:
        return "<p>Nothing was found to redact.</p>"
    if len(tracks) <= MAX_TABLE:
        out = _table(report, tracks)
    else:  # a crowd: the rows to check first, every row folded below them
        low = [t for t in tracks if t.get("low_confidence")]
        out = (f"<h3>To check: {_n(len(low), 'region')} of low confidence</h3>" + _table(report, low)) if low else ""
        out += (f"<details><summary>All {len(tracks)} regions, by number (also in the JSON report)</summary>"
                f"{_table(report, tracks)}"
                "</details>")
    note = ('<p class="note">“detected in”: frames where a detector found it; in the other frames the region was '
            "followed by tracking or interpolated, or padded before and after. “best score”: the detector's "
            "highest confidence (0–1), — for regions drawn by hand or covered whole. “mean size”: the average "
            "share of the picture covered.")
    if covers:
        note += (" Text regions detected in no frame cover, whole, a part of the picture around known text that "
                 "changed on frames where it was not read again (between two readings), with what was read next "
                 "there.")
    if any(t["kind"] == "text" and t.get("category") == "unreadable" for t in report["tracks"]):
        note += " Category “unreadable”: shaped like text but not legible to the reader; redacted all the same."
    if any(t.get("low_confidence") for t in report["tracks"]):
        note += (" <b>low confidence</b>: seen only weakly (few detections, low score), so redacted only where "
                 "and near where it was seen; worth checking in the cleaned copy.")
    return out + note + "</p>"


def _models(report: dict[str, Any]) -> str:
    if not report["models"]:
        return '<p class="note">Rendered from an existing plan: the models that made it are in its settings.</p>'
    rows = ['<table><thead><tr><th>model</th><th>from package</th><th>weights SHA-256</th><th>ran on</th>'
            "<th>passes</th></tr></thead><tbody>"]
    for group in _model_groups(report["models"]):
        m = group[0]
        pkg = f"{m.get('package') or ''} {m.get('package_version') or ''}".strip()
        providers = ", ".join(dict.fromkeys(str(g.get("provider") or "—") for g in group))
        rows.append(f"<tr><td>{_e(m.get('name'))}</td><td>{_e(pkg or '—')}</td>"
                    f"<td class=\"mono\">{_e(m.get('sha256') or '—')}</td>"
                    f"<td>{_e(providers)}</td><td>{_e('; '.join(_pass(g) for g in group))}</td></tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


def _model_groups(models: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The report's models (one per detector pass) grouped by model, in order of first appearance: passes of one
    model (the same weights, e.g. CenterFace's light, full and tiled passes) share one row."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for m in models:
        key = ("sha256", m["sha256"]) if m.get("sha256") else ("name", m.get("name"))
        groups.setdefault(key, []).append(m)
    return list(groups.values())


def _pass(m: dict[str, Any]) -> str:
    """One pass of a model in a few words: what it looked at and how often ("960 px, every 4 frames")."""
    if m.get("kind") == "speech":
        return "the audio"
    parts = []
    tiles = m.get("tiles")
    if isinstance(tiles, (list, tuple)) and len(tiles) == 2:
        parts.append(f"{tiles[0]}×{tiles[1]} tiles")
    elif isinstance(m.get("max_side"), (int, float)):
        parts.append(f"{m['max_side']:g} px")
    every = m.get("every")
    if isinstance(every, int):
        parts.append("every frame" if every == 1 else f"every {every} frames")
    return ", ".join(parts) or "—"


def _settings(settings: dict[str, Any]) -> str:
    """The options of the run in a table; the trackers' tuning (some 130 values nobody sets by hand, which filled
    most of the page) folded away below it, still in the page for whoever needs it."""
    if not settings:
        return "<p>—</p>"
    rows = _flatten(settings)
    tuning = [(k, v) for k, v in rows if k.startswith("tracker.")]
    out = _kv([(k, v) for k, v in rows if not k.startswith("tracker.")])
    if tuning:
        out += f"<details><summary>Tracker tuning ({len(tuning)} values)</summary>{_kv(tuning)}</details>"
    return out


def _flatten(d: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested settings as ("scan.provider", "auto") rows."""
    if isinstance(d, dict):
        return [row for k, v in d.items() for row in _flatten(v, f"{prefix}{k}.")]
    if isinstance(d, list):
        return [(prefix[:-1], ", ".join(str(x) for x in d))]
    return [(prefix[:-1], "—" if d is None else d)]


def _format(inp: dict[str, Any]) -> str:
    parts = [str(inp.get("kind") or "?"), f"{inp.get('width')}×{inp.get('height')}"]
    if inp.get("kind") == "video":
        if inp.get("fps"):
            parts.append(f"{inp['fps']:g} fps")
        parts.append(f"{inp.get('frames')} frames")
        if isinstance(inp.get("duration"), (int, float)):
            parts.append(f"{inp['duration']:.2f} s")
    if inp.get("codec"):
        parts.append(str(inp["codec"]))
    if inp.get("rotation"):
        parts.append(f"rotated {inp['rotation']}°")
    return " · ".join(parts)


def _files(report: dict[str, Any]) -> str:
    inp, out = report["input"], report["output"]
    rows: list[tuple[str, Any]] = [("Input file", inp.get("path") or "— (not recorded)"), ("Input SHA-256", inp.get("sha256")),
                                   ("Input format", _format(inp))]
    if inp.get("truncated"):
        rows.append(("Input condition", "damaged or truncated: what could be decoded was processed"))
    rows += [("Cleaned copy", out.get("path") or ("— (not recorded)" if out.get("sha256") else "— (not written)")), ("Cleaned copy SHA-256", out.get("sha256"))]
    if out.get("frames") is not None:
        rows.append(("Cleaned copy format", f"{out.get('width')}×{out.get('height')} · {out['frames']} frame(s)"))
    if inp.get("kind") == "video" and out.get("audio"):
        rows.append(("Audio", AUDIO.get(str(out["audio"]), out["audio"])))
    return _kv(rows, mono=("Input SHA-256", "Cleaned copy SHA-256"))


# -- page -------------------------------------------------------------------------------------

def _lead(report: dict[str, Any]) -> str:
    s, inp = report["summary"], report["input"]
    kinds = {k: s["tracks_by_kind"][k] for k in ("face", "badge", "text", "speech") if s["tracks_by_kind"].get(k)}
    what = _and([_n(v, k) for k, v in kinds.items()])
    verb = "was" if sum(kinds.values()) == 1 else "were"
    found = f"{what} {verb} redacted" if what else "nothing was found to redact"
    if inp.get("kind") == "image":
        text = f"In this photo, {found}."
    else:
        dur = f"{s['duration_s']:.1f} s " if s.get("duration_s") is not None else ""
        text = (f"In this {dur}video ({s['frames']} frames), {found}. "
                f"{s['frames_with_redaction']} of {s['frames']} frames "
                f"({100 * s['share_of_frames_redacted']:.0f}%) contain at least one redaction.")
    covered = s.get("frames_covered_whole") or 0
    if covered:
        text += (f" {covered} frame{'s' if covered != 1 else ''} could not be analysed and "
                 f"{'were' if covered != 1 else 'was'} covered completely.")
    low = s.get("low_confidence") or 0
    if low:
        text += (f" {low} region{' was' if low == 1 else 's were'} found with low confidence and "
                 f"redacted only where seen: check {'it' if low == 1 else 'them'}.")
    kept = sum(s["kept_by_kind"].values())
    if kept:
        text += f" {kept} region{' was' if kept == 1 else 's were'} left visible on request (kept)."
    return f'<p class="lead">{_e(text)}</p>'


def _cards(report: dict[str, Any]) -> str:
    s = report["summary"]
    k = s["tracks_by_kind"]
    cards = [(k.get("face", 0), "faces redacted", COLOURS["face"]),
             (k.get("badge", 0), "badges redacted", COLOURS["badge"]),
             (k.get("text", 0), "text regions redacted", COLOURS["text"])]
    if k.get("speech") or any(m.get("kind") == "speech" for m in report.get("models") or []):
        cards.append((k.get("speech", 0), "spoken stretches redacted (audio)", COLOURS["speech"]))
    if report["input"].get("kind") != "image":
        cards.append((f"{100 * s['share_of_frames_redacted']:.0f}%", "of frames have a redaction", "#005eb8"))
    if s.get("frames_covered_whole"):
        cards.append((s["frames_covered_whole"], "frames covered whole (not analysable)", COLOURS["frame"]))
    if s.get("low_confidence"):
        cards.append((s["low_confidence"], "low confidence, to check", CHECK))
    cards.append((sum(s["kept_by_kind"].values()), "kept visible on request", KEPT))
    return '<div class="cards">' + "".join(
        f'<div class="card" style="--c:{c}"><b>{_e(v)}</b><span>{_e(label)}</span></div>' for v, label, c in cards
    ) + "</div>"


def render_html(report: dict[str, Any], plan: Plan) -> str:
    inp, out = report["input"], report["output"]
    name_in, name_out = _basename(inp.get("path")), _basename(out.get("path"))
    version = report["tool"]["version"]
    cats = {t["id"]: t.get("category") for t in report["tracks"]}
    timeline = (timeline_svg(plan, categories=cats) if inp.get("kind") == "video"
                else '<p class="note">A photo has no timeline.</p>')
    timings = [(k.removesuffix("_s"), f"{v:.2f} s" if k.endswith("_s") else v) for k, v in report["timings"].items()]
    content = [
        "<header><h1>Redaction report</h1>",
        f'<p class="sub"><b>{_e(name_in)}</b> → <b>{_e(name_out or "no output")}</b> · '
        f"{_e(_when(report.get('created_utc')))} · redact {_e(version)}</p></header>",
        "".join(f'<div class="warn">{_e(w)}</div>' for w in report["warnings"]),
        "".join(f'<div class="info"><b>Note</b> · {_e(n)}</div>' for n in report.get("notes", [])),
        _lead(report), _cards(report),
        "<h2>Timeline</h2>", f'<div class="timeline">{timeline}</div>',
        "<h2>Redacted and kept regions</h2>", _tracks_table(report, _unread_covers(plan)),
        "<h2>Files</h2>", _files(report),
        "<h2>Models</h2>", _models(report),
        "<h2>Settings</h2>", _settings(report["settings"]),
        "<h2>Timings</h2>", _kv(timings) if timings else "<p>—</p>",
        "<footer>This report says what kind of thing was hidden (face, name badge, text and its category), where "
        "and when. It never contains text read from the video or pictures from it. Times are those a player "
        "shows, from the frames' own timestamps; speech times are on the same clock. "
        f"Made on this computer by redact {_e(version)}, which works offline.</footer>",
    ]
    page = Template(importlib.resources.files(__package__).joinpath("template.html").read_text("utf-8"))
    return page.substitute(title=_e(f"Redaction report — {name_in}"), version=_e(version), content="".join(content))
