// The review page. Plain JavaScript, no libraries, nothing loaded from anywhere but this local server.
// Every URL is relative: the page lives under /<token>/, so each request carries the token.
"use strict";

const COLOURS = {face: "#c0392b", badge: "#d68910", text: "#2874a6", frame: "#424949", speech: "#7d3c98"};
const KEPT = "#1e8449";
const CHECK = "#ffd23f";  // the "please check" marker of low-confidence tracks (unlike any kind's colour)
const NAMES = {face: "Face", badge: "Name badge", text: "Writing", frame: "Whole picture", speech: "Speech"};
const CATEGORIES = {nhs_number: "NHS number", hospital_number: "hospital number", name: "a name",
  date: "a date", address: "an address", postcode: "a postcode", phone: "a phone number", email: "an email",
  label: "a label", badge: "badge"};
// what was said, in a speech card's label ("speech · name, 1.20–2.85 s"): the category only, never the words
const SAID = {nhs_number: "NHS number", hospital_number: "hospital number", name: "name", date: "date",
  address: "address", postcode: "postcode", phone: "phone number", email: "email", label: "label"};
const SVG = "http://www.w3.org/2000/svg";
const TL = {width: 1000, left: 180, right: 12, rowH: 24, top: 4};  // the timeline's geometry (viewBox units)

const $ = (id) => document.getElementById(id);
const state = {
  status: null, plan: null, frame: 0, playing: false, selected: null, images: new Map(),
  byFrame: new Map(), drawing: false, drag: null, newBox: null, from: 0, to: 0, poll: null,
  audio: null, audioId: null,  // the speech snippet playing (an Audio element) and its track's id
};

// -- talking to the server -----------------------------------------------------------------------------------
async function api(method, path, body) {
  const opts = {method, headers: {}};
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  let data = {};
  try { data = await r.json(); } catch (e) { data = {}; }
  if (!r.ok) throw new Error(data.error || `the request failed (${r.status})`);
  return data;
}

function showMessage(text, kind) {
  const m = $("message");
  m.textContent = text || "";
  m.className = "message" + (kind === "info" ? " info" : "");
  m.hidden = !text;
}

function flashSaved() {
  const s = $("saved");
  s.textContent = "✓ Changes saved";
  s.hidden = false;
}

async function guarded(fn) {
  try {
    showMessage("");
    await fn();
  } catch (e) {
    showMessage(e.message);
  }
}

// -- which screen ------------------------------------------------------------------------------------------------
function showSection(name) {
  for (const id of ["choose", "scanning", "review", "closed"]) $(id).hidden = id !== name;
}

async function refresh() {
  const st = await api("GET", "api/status");
  state.status = st;
  if (st.state === "choose") {
    showSection("choose");
  } else if (st.state === "scanning") {
    showSection("scanning");
    $("scan-title").textContent = `Looking for faces, name badges and writing in ${st.clip}…`;
    progress($("scan-bar"), $("scan-text"), st.job, "Checked");
    keepPolling();
  } else if (st.state === "error") {
    showSection("choose");
    showMessage(`We could not check ${st.clip}: ${st.job && st.job.error}`);
  } else {
    if (!state.plan || $("review").hidden) await loadPlan();
    showSection("review");
    fitCanvas();
    draw();
    exportState(st);
    if (st.state === "exporting") keepPolling();
  }
}

function keepPolling() {
  if (state.poll) return;
  state.poll = setTimeout(async () => {
    state.poll = null;
    await guarded(refresh);
  }, 400);
}

function progress(bar, label, job, verb) {
  const total = job && job.total;
  const outer = bar.parentElement;
  if (total) {
    const pct = Math.min(100, Math.round(100 * job.done / total));
    outer.classList.remove("busy");
    bar.style.width = pct + "%";
    outer.setAttribute("aria-valuenow", String(pct));
    label.textContent = `${verb} ${job.done} of ${total} frames (${pct}%)`;
  } else {
    outer.classList.add("busy");
    bar.style.width = "";
    label.textContent = job && job.done ? `${verb} ${job.done} frames` : "Starting…";
  }
}

// -- choosing a clip ----------------------------------------------------------------------------------------------
async function upload(file) {
  showSection("scanning");
  $("scan-title").textContent = `Copying ${file.name}…`;
  $("scan-text").textContent = "Copying the file (it stays on this computer)…";
  $("scan-bar").parentElement.classList.add("busy");
  const r = await fetch("api/upload?name=" + encodeURIComponent(file.name),
    {method: "POST", headers: {"Content-Type": "application/octet-stream"}, body: file});
  let data = {};
  try { data = await r.json(); } catch (e) { data = {}; }
  if (!r.ok) {
    showSection("choose");
    throw new Error(data.error || "the file could not be opened");
  }
  resetReview();
  await refresh();
}

async function openPath(path) {
  await api("POST", "api/open", {path});
  resetReview();
  await refresh();
}

function resetReview() {
  stopSound();
  state.plan = null;
  state.images = new Map();
  state.selected = null;
  state.frame = 0;
  $("saved").hidden = true;
  $("export-done").hidden = true;
  $("export-progress").hidden = true;
}

// -- the plan -----------------------------------------------------------------------------------------------------
async function loadPlan() {
  setPlan(await api("GET", "api/plan"));
}

function setPlan(plan) {
  state.plan = plan;
  state.byFrame = new Map();
  for (const t of plan.tracks) {
    for (const b of t.boxes) {
      const list = state.byFrame.get(b[0]) || [];
      list.push({track: t, box: b.slice(1)});
      state.byFrame.set(b[0], list);
    }
  }
  const inp = plan.input;
  $("clip-name").textContent = inp.name;
  $("seek").max = String(Math.max(inp.frames - 1, 0));
  $("out-path").textContent = plan.output;
  $("plan-path").textContent = plan.plan_path;
  // an uploaded copy lives in a temporary folder: offer the download, not that folder's path
  $("save-where").hidden = plan.uploaded;
  $("save-upload").hidden = !plan.uploaded;
  $("changes-file").hidden = plan.uploaded;
  $("changes-upload").hidden = !plan.uploaded;
  $("done-where").hidden = plan.uploaded;
  const canvas = $("view");
  if (canvas.width !== inp.width || canvas.height !== inp.height) {
    canvas.width = inp.width;
    canvas.height = inp.height;
  }
  fitCanvas();
  const video = inp.kind === "video";
  for (const id of ["play-btn", "prev-btn", "next-btn", "seek", "time"]) $(id).hidden = !video;
  $("draw-panel").querySelector(".range-row").hidden = !video;
  const speech = plan.tracks.some(isSpeech);
  $("speech-note").hidden = !speech;
  $("speech-how").textContent = bleepedWord();
  renderLegend();
  renderTracks();
  renderTimeline();
  show(Math.min(state.frame, Math.max(inp.frames - 1, 0)));
}

function fitCanvas() {
  // as large as the panel allows, and at most 70% of the window's height (portrait phone clips)
  if (!state.plan) return;
  const canvas = $("view");
  const {width, height} = state.plan.input;
  const room = $("stage").clientWidth || width;
  const scale = Math.min(room / width, 0.7 * window.innerHeight / height);
  canvas.style.width = `${Math.max(1, Math.floor(width * scale))}px`;
  canvas.style.height = `${Math.max(1, Math.floor(height * scale))}px`;
}

const CROWD = 12;  // boxes on a frame past which only the selected, kept, drawn and to-check ones are named

function trackName(t) {
  const named = (t.kind === "text" || t.kind === "speech") && t.category && CATEGORIES[t.category];
  const cat = named ? ` (${CATEGORIES[t.category]})` : "";
  return `${NAMES[t.kind] || t.kind} ${t.id}${cat}`;
}

// a speech track's stretch of the sound, in seconds ("1.20–2.85 s")
function spanText(t) {
  return `${Number(t.span[0]).toFixed(2)}–${Number(t.span[1]).toFixed(2)} s`;
}

function isSpeech(t) {
  return t.kind === "speech" && Array.isArray(t.span);
}

// how speech is made unheard in the cleaned copy: "bleep" (a tone) or "mute" (silence)
function bleepWord() {
  return state.plan && state.plan.speech_style === "mute" ? "Mute" : "Bleep";
}

function bleepedWord() {
  return state.plan && state.plan.speech_style === "mute" ? "muted" : "bleeped";
}

// a track the detectors saw only weakly (one faint detection, say) is covered only where it was seen
function isLow(t) {
  return Boolean(t.evidence && !t.evidence.confirmed);
}

function evidenceText(t) {
  const ev = t.evidence;
  if (!ev) return "";
  if (t.kind === "speech") return `heard with confidence ${Number(ev.best_score).toFixed(2)}`;
  const n = ev.detections;
  return `seen in ${n} frame${n === 1 ? "" : "s"}, best score ${Number(ev.best_score).toFixed(2)}`;
}

function lowTracks() {
  return state.plan.tracks.filter(isLow).sort((a, b) => a.first - b.first || a.id - b.id);
}

// The clip's clock as a player shows it: the plan's frame times (knots [frame, seconds], linear between), else
// frame / fps (redact/timeline.py holds the same rule).
function knots() {
  const inp = state.plan ? state.plan.input : null;
  return inp && Array.isArray(inp.timeline) ? inp.timeline : [];
}

// The knot pair [i, i + 1] whose span holds v in column col (0: frames, 1: seconds), the first or last pair
// outside them (a bisection: a phone clip whose rate varies has hundreds of knots).
function segment(k, col, v) {
  let lo = 0, hi = k.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (v >= k[mid][col]) lo = mid; else hi = mid - 1;
  }
  return lo;
}

function timeAt(frame) {
  const fps = state.plan ? state.plan.input.fps || 0 : 0;
  const k = knots();
  if (k.length === 0) return fps ? frame / fps : null;
  if (k.length === 1) return fps ? k[0][1] + (frame - k[0][0]) / fps : k[0][1];
  const i = segment(k, 0, frame);
  const [f0, t0] = k[i], [f1, t1] = k[i + 1];
  return t0 + (frame - f0) * (t1 - t0) / (f1 - f0);
}

function frameAt(seconds) {
  const fps = state.plan ? state.plan.input.fps || 0 : 0;
  const k = knots();
  if (k.length === 0) return fps ? seconds * fps : null;
  if (k.length === 1) return fps ? k[0][0] + (seconds - k[0][1]) * fps : k[0][0];
  const i = segment(k, 1, seconds);
  const [f0, t0] = k[i], [f1, t1] = k[i + 1];
  return t1 > t0 ? f0 + (seconds - t0) * (f1 - f0) / (t1 - t0) : f0;
}

function fmtTime(frame) {
  const s = timeAt(frame);
  if (s === null) return `frame ${frame}`;
  const m = Math.floor(s / 60);
  const rest = (s - 60 * m).toFixed(1).padStart(4, "0");
  return `${m}:${rest}`;
}

// -- the list of tracks -------------------------------------------------------------------------------------
function renderTracks() {
  const box = $("tracks");
  box.textContent = "";
  const tracks = state.plan.tracks;
  if (!tracks.length) {
    const p = document.createElement("p");
    p.textContent = "We found nothing to blur. You can still draw a box over anything you want hidden.";
    box.appendChild(p);
  }
  // faces first (the choices to make), then boxes drawn by hand, then what is always blurred; in each, what
  // to check first
  const rank = (t) => (t.keepable ? 0 : t.manual ? 1 : 2);
  const ordered = [...tracks].sort((a, b) => rank(a) - rank(b) || isLow(b) - isLow(a) || a.first - b.first
    || a.id - b.id);
  for (const t of ordered) box.appendChild(trackCard(t));
  renderLowConf();
}

// -- low-confidence tracks: a count and a button that goes through them one by one ------------------------------
function renderLowConf() {
  const low = lowTracks();
  $("lowconf").hidden = !low.length;
  $("lowconf-count").textContent = `Low confidence: ${low.length} to check`;
  const i = low.findIndex((t) => t.id === state.selected);
  $("lowconf-pos").textContent = i >= 0 ? `${i + 1} of ${low.length}` : "";
}

function nextLow() {
  const low = lowTracks();
  if (!low.length) return;
  pause();
  const i = low.findIndex((t) => t.id === state.selected);
  // after the one selected; else the first from here on; else from the start
  let t = i >= 0 ? low[(i + 1) % low.length] : low.find((x) => x.first >= state.frame);
  if (!t) t = low[0];
  select(t.id, false);
  show(t.first);
  const card = document.querySelector(`.track[data-id='${t.id}']`);
  if (card) card.scrollIntoView({block: "nearest"});
}

function trackCard(t) {
  const card = document.createElement("div");
  card.className = "track" + (state.selected === t.id ? " selected" : "") + (isLow(t) ? " low" : "");
  card.dataset.id = String(t.id);
  card.dataset.kind = t.kind;
  if (t.evidence) card.title = evidenceText(t).replace(/^s/, "S");
  card.style.setProperty("--c", t.action === "keep" ? KEPT : COLOURS[t.kind] || "#7f8c8d");
  const speech = isSpeech(t);
  if (!speech) {  // a speech track has no picture (and no thumbnail to ask for)
    const img = document.createElement("img");
    img.src = `thumb/${t.id}.jpg`;
    img.alt = "";
    img.loading = "lazy";
    card.appendChild(img);
  }
  const info = document.createElement("div");
  info.className = "info";
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = trackName(t) + (t.manual ? " — drawn by you" : "");
  info.appendChild(name);
  const when = document.createElement("div");
  when.className = "when";
  if (speech) {
    when.textContent = `speech · ${SAID[t.category] || "personal data"}, ${spanText(t)}`;
  } else {
    when.textContent = state.plan.input.kind === "video" ? `${fmtTime(t.first)} to ${fmtTime(t.last + 1)}` : "";
  }
  info.appendChild(when);
  if (speech) {
    const play = document.createElement("button");
    play.type = "button";
    play.className = "button small play";
    play.addEventListener("click", (ev) => {
      ev.stopPropagation();
      if (state.audioId === t.id) {
        stopSound();
        return;
      }
      select(t.id, true);
      playSound(t);
    });
    info.appendChild(play);
    playLabel(play, state.audioId === t.id);
  }
  if (isLow(t)) {
    const tag = document.createElement("div");
    tag.className = "pill check";
    tag.textContent = "⚠ Please check";
    info.appendChild(tag);
    const why = document.createElement("div");
    why.className = "why";
    why.textContent = `Low confidence: ${evidenceText(t)}`;
    info.appendChild(why);
  }
  if (t.keepable) {
    const sw = document.createElement("div");
    sw.className = "switch";
    sw.setAttribute("role", "group");
    const bleep = bleepWord();
    sw.setAttribute("aria-label", speech ? `${trackName(t)}: ${bleep.toLowerCase()} or keep audible`
      : `${trackName(t)}: blur or show`);
    const choices = speech ? [["redact", bleep, "blur"], ["keep", "Keep audible", "show"]]
      : [["redact", "Blur", "blur"], ["keep", "Show", "show"]];
    for (const [action, label, cls] of choices) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = cls;
      b.textContent = label;
      b.setAttribute("aria-pressed", String(t.action === action));
      b.addEventListener("click", (ev) => {
        ev.stopPropagation();
        if (t.action !== action) guarded(() => setAction(t.id, action));
      });
      sw.appendChild(b);
    }
    info.appendChild(sw);
    const pill = document.createElement("div");
    pill.className = "pill " + (t.action === "keep" ? "visible" : "blurred");
    if (speech) pill.textContent = t.action === "keep" ? "Will be audible" : `Will be ${bleepedWord()}`;
    else pill.textContent = t.action === "keep" ? "Will be visible" : "Will be blurred";
    info.appendChild(pill);
  } else {
    const pill = document.createElement("div");
    pill.className = "pill " + (t.action === "keep" ? "visible" : "locked");
    pill.textContent = t.action === "keep" ? "Left visible in the plan file" : "Always blurred";
    info.appendChild(pill);
  }
  if (t.manual) {
    const rm = document.createElement("button");
    rm.type = "button";
    rm.className = "button small remove";
    rm.textContent = "Remove this box";
    rm.addEventListener("click", (ev) => {
      ev.stopPropagation();
      guarded(() => removeTrack(t.id));
    });
    info.appendChild(rm);
  }
  card.appendChild(info);
  card.addEventListener("click", () => select(t.id, true));
  return card;
}

function select(id, seek) {
  state.selected = id;
  for (const c of document.querySelectorAll(".track")) c.classList.toggle("selected", c.dataset.id === String(id));
  const t = state.plan.tracks.find((x) => x.id === id);
  if (seek && t && !(state.frame >= t.first && state.frame <= t.last)) show(t.first);
  else draw();
  renderTimeline();
  renderLowConf();
}

async function setAction(id, action) {
  setPlan(await api("POST", `api/track/${id}`, {action}));
  flashSaved();
}

async function removeTrack(id) {
  setPlan(await api("POST", `api/track/${id}/remove`, {}));
  if (state.selected === id) state.selected = null;
  flashSaved();
}

// -- the sound of a speech track: its stretch of the original audio (and a moment either side), on demand ------
function playLabel(button, playing) {
  button.textContent = playing ? "■ Stop" : "▶ Play";
  button.setAttribute("aria-pressed", String(playing));
  button.setAttribute("aria-label", playing ? "Stop the sound" : "Play what was said (the original sound)");
}

function soundButtons() {
  for (const b of document.querySelectorAll(".track button.play")) {
    playLabel(b, state.audioId !== null && b.closest(".track").dataset.id === String(state.audioId));
  }
}

function playSound(t) {
  stopSound();
  pause();
  const audio = new Audio(`api/audio/${t.id}.wav`);
  state.audio = audio;
  state.audioId = t.id;
  const done = () => {
    if (state.audio !== audio) return;
    state.audio = null;
    state.audioId = null;
    soundButtons();
  };
  audio.addEventListener("ended", done);
  audio.addEventListener("error", () => {
    if (state.audio === audio) showMessage("The sound could not be played.");
    done();
  });
  soundButtons();
  audio.play().catch(() => {
    if (state.audio === audio) showMessage("The sound could not be played.");
    done();
  });
}

function stopSound() {
  const audio = state.audio;
  state.audio = null;
  state.audioId = null;
  if (audio) {
    audio.pause();
    audio.removeAttribute("src");
    audio.load();  // let go of the sound
  }
  soundButtons();
}

// -- the legend and the timeline ------------------------------------------------------------------------------
function renderLegend() {
  const lg = $("legend");
  lg.textContent = "";
  const items = [["face", "face"], ["badge", "name badge"], ["text", "writing"], ["frame", "whole picture"],
    ["speech", "speech"]]
    .filter(([k]) => state.plan.tracks.some((t) => t.kind === k && t.action === "redact"))
    .map(([k, label]) => [COLOURS[k], label + (k === "speech" ? ` (${bleepedWord()})` : " (blurred)")]);
  const kept = state.plan.tracks.filter((t) => t.action === "keep");
  if (kept.length) {
    const heard = kept.some((t) => t.kind === "speech"), seen = kept.some((t) => t.kind !== "speech");
    items.push([KEPT, heard && seen ? "left visible or audible" : heard ? "left audible" : "left visible"]);
  }
  if (state.plan.tracks.some(isLow)) items.push([null, "low confidence: please check"]);
  for (const [colour, label] of items) {
    const s = document.createElement("span");
    const i = document.createElement("i");
    if (colour) i.style.background = colour;
    else i.className = "check";
    s.appendChild(i);
    s.appendChild(document.createTextNode(label));
    lg.appendChild(s);
  }
}

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function runs(frames) {
  const out = [];
  for (const f of frames) {
    if (out.length && f <= out[out.length - 1][1] + 1) out[out.length - 1][1] = f;
    else out.push([f, f]);
  }
  return out;
}

function renderTimeline() {
  const host = $("timeline");
  host.textContent = "";
  const plan = state.plan;
  if (plan.input.kind !== "video") {
    host.hidden = true;
    return;
  }
  host.hidden = false;
  const n = Math.max(plan.input.frames, 1);
  const tracks = plan.tracks;
  const {width, left, right, rowH, top} = TL;
  const plotW = width - left - right;
  const rows = Math.max(tracks.length, 1);
  const axisY = top + rowH * rows;
  const svg = el("svg", {viewBox: `0 0 ${width} ${axisY + 24}`, width: "100%", role: "img",
    "aria-label": "Timeline: when each thing is on screen"});
  const px = plotW / n;
  for (let i = 0; i < rows; i++) {
    svg.appendChild(el("rect", {x: left, y: top + i * rowH, width: plotW, height: rowH,
      fill: i % 2 ? "#ffffff" : "#f7f9f9"}));
  }
  const timed = timeAt(0) !== null;  // ticks in seconds as a player shows them, placed on the frames
  const span = timed ? timeAt(n) : n;
  const step = niceStep(span);
  for (let k = 0; k * step <= span * 1.0001; k++) {
    const at = timed ? frameAt(k * step) : k * step;
    if (at < 0 || at > n * 1.0001) continue;
    const x = left + px * at;
    svg.appendChild(el("line", {x1: x, y1: top, x2: x, y2: axisY + 4, stroke: "#d5dbdb"}));
    const label = timed ? `${+(k * step).toFixed(2)} s` : `${Math.round(k * step)}`;
    const anchor = k === 0 ? "start" : (k + 1) * step > span * 1.0001 && x > width - right - 30 ? "end" : "middle";
    svg.appendChild(el("text", {x, y: axisY + 18, "text-anchor": anchor}, label));
  }
  tracks.forEach((t, i) => {
    const y = top + i * rowH;
    const sel = state.selected === t.id;
    const low = isLow(t);
    if (low) svg.appendChild(el("rect", {x: 4, y: y + 3, width: left - 8, height: rowH - 6, rx: 4, fill: CHECK}));
    svg.appendChild(el("text", {x: left - 8, y: y + 16, "text-anchor": "end", "font-weight": sel ? 700 : 400},
      short((low ? "⚠ " : "") + trackName(t), 26)));
    const colour = COLOURS[t.kind] || "#7f8c8d";
    if (isSpeech(t)) {  // one bar over its stretch of the sound, placed on the frames it is heard with
      const pos = Array.isArray(t.span_frames) && t.span_frames[0] !== null ? t.span_frames : t.span.map(v => frameAt(v) ?? v);
      const a = Math.min(Math.max(pos[0], 0), n), b = Math.min(Math.max(pos[1], 0), n);
      const attrs = {x: left + px * a, y: y + 4, width: Math.max(px * (b - a), 2), height: rowH - 8, rx: 3,
        "data-id": t.id, class: "speech-bar"};
      if (t.action === "keep") Object.assign(attrs, {fill: "#eafaf1", stroke: KEPT, "stroke-dasharray": "4 2",
        "stroke-width": 1.5});
      else attrs.fill = colour;
      if (sel) Object.assign(attrs, {stroke: "#1c2833", "stroke-width": 2});
      const r = el("rect", attrs);
      const heard = t.action === "keep" ? "kept audible" : bleepedWord();
      r.appendChild(el("title", {}, `${trackName(t)}: ${spanText(t)} (${heard})`));
      r.addEventListener("click", (ev) => {  // to where it is said
        ev.stopPropagation();
        pause();
        select(t.id, false);
        show(t.first);
      });
      svg.appendChild(r);
      return;
    }
    for (const [a, b] of runs(t.boxes.map((x) => x[0]))) {
      const attrs = {x: left + px * a, y: y + 4, width: Math.max(px * (b - a + 1), 2), height: rowH - 8, rx: 3};
      if (t.action === "keep") Object.assign(attrs, {fill: "#eafaf1", stroke: KEPT, "stroke-dasharray": "4 2",
        "stroke-width": 1.5});
      else attrs.fill = colour;
      if (low && !sel) Object.assign(attrs, {stroke: "#1c2833", "stroke-width": 1.5, "stroke-dasharray": "3 2"});
      if (sel) Object.assign(attrs, {stroke: "#1c2833", "stroke-width": 2});
      const r = el("rect", attrs);
      const ev = low ? ` (low confidence: ${evidenceText(t)})` : "";
      r.appendChild(el("title", {}, `${trackName(t)}: ${fmtTime(a)} to ${fmtTime(b + 1)}${ev}`));
      svg.appendChild(r);
    }
  });
  if (!tracks.length) {
    svg.appendChild(el("text", {x: left + plotW / 2, y: top + 16, "text-anchor": "middle"}, "nothing found"));
  }
  const x = left + px * (state.frame + 0.5);
  svg.appendChild(el("line", {id: "playhead", x1: x, y1: 0, x2: x, y2: axisY + 4, stroke: "#1c2833",
    "stroke-width": 2}));
  svg.addEventListener("click", (ev) => {
    const pt = svg.getBoundingClientRect();
    const vx = (ev.clientX - pt.left) * width / pt.width;
    const vy = (ev.clientY - pt.top) * (axisY + 24) / pt.height;
    if (vx < left) {
      const row = Math.floor((vy - top) / rowH);
      if (tracks[row]) select(tracks[row].id, true);
      return;
    }
    show(Math.min(n - 1, Math.max(0, Math.floor((vx - left) / px))));
  });
  host.appendChild(svg);
}

function short(text, n) {
  return text.length <= n ? text : text.slice(0, n - 1) + "…";
}

function niceStep(span) {
  const raw = span / 8;
  if (raw <= 0) return 1;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw * 0.999) return m * mag;
  return 10 * mag;
}

function movePlayhead() {
  const ph = $("playhead");
  if (!ph || !state.plan) return;
  const n = Math.max(state.plan.input.frames, 1);
  const x = TL.left + (TL.width - TL.left - TL.right) / n * (state.frame + 0.5);
  ph.setAttribute("x1", x);
  ph.setAttribute("x2", x);
}

// -- frames -----------------------------------------------------------------------------------------------------
function image(i) {
  let p = state.images.get(i);
  if (!p) {
    p = new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error(`frame ${i} could not be shown`));
      img.src = `frame/${i}.jpg`;
    });
    p.catch(() => state.images.delete(i));
    state.images.set(i, p);
    if (state.images.size > 300) state.images.delete(state.images.keys().next().value);
  }
  return p;
}

function show(i) {
  state.frame = i;
  $("seek").value = String(i);
  const total = state.plan.input.frames;
  $("time").textContent = `${fmtTime(i)} / ${fmtTime(total)}`;
  movePlayhead();
  image(i).then(() => { if (state.frame === i) draw(); }).catch((e) => showMessage(e.message));
}

function draw() {
  const canvas = $("view");
  const ctx = canvas.getContext("2d");
  const p = state.images.get(state.frame);
  if (!p) return;
  p.then((img) => {
    const W = canvas.width, H = canvas.height;
    ctx.filter = "none";
    ctx.drawImage(img, 0, 0, W, H);
    const items = state.byFrame.get(state.frame) || [];
    const blur = $("show-blur").checked;
    const k = W / (canvas.clientWidth || W);  // canvas pixels per screen pixel: lines and labels stay readable
    if (blur) {
      for (const {track, box} of items) {
        if (track.action !== "redact") continue;
        const [x1, y1, x2, y2] = box;
        ctx.save();
        ctx.beginPath();
        ctx.rect(x1, y1, x2 - x1, y2 - y1);
        ctx.clip();
        ctx.filter = `blur(${Math.max(6, Math.min(x2 - x1, y2 - y1) / 5)}px)`;
        ctx.drawImage(img, 0, 0, W, H);
        ctx.restore();
      }
    }
    ctx.filter = "none";
    const crowded = items.length > CROWD;
    for (const {track, box} of items) {
      const [x1, y1, x2, y2] = box;
      const kept = track.action === "keep";
      const colour = kept ? KEPT : COLOURS[track.kind] || "#7f8c8d";
      const sel = state.selected === track.id;
      const low = isLow(track);
      ctx.lineWidth = (sel ? 4 : 2.5) * k;
      if (low) {  // low confidence: a yellow and black dashed outline, like a "please check" tape
        ctx.strokeStyle = CHECK;
        ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
        ctx.strokeStyle = "#1c2833";
        ctx.setLineDash([7 * k, 7 * k]);
      } else {
        ctx.strokeStyle = colour;
        ctx.setLineDash(kept ? [8 * k, 5 * k] : []);
      }
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx.setLineDash([]);
      // name what there is a choice about; in a crowd only what is selected, kept, drawn or to check
      if (crowded ? !(sel || kept || track.manual || low) : !(track.kind === "face" || track.manual || sel || low)) continue;
      const label = (low ? "⚠ " : "") + trackName(track) + (kept ? " · visible" : "")
        + (low ? " · please check" : "");
      ctx.font = `600 ${14 * k}px system-ui, sans-serif`;
      const tw = ctx.measureText(label).width + 10 * k;
      const th = 20 * k;
      const ly = y1 - th >= 0 ? y1 - th : y2;
      const lx = Math.max(0, Math.min(x1, W - tw));  // a box at the right edge keeps its label in the picture
      ctx.fillStyle = low ? CHECK : colour;
      ctx.fillRect(lx, ly, tw, th);
      ctx.fillStyle = low ? "#1c2833" : "#fff";
      ctx.fillText(label, lx + 5 * k, ly + th * 0.75);
    }
    const nb = state.drag || state.newBox;
    if (nb) {
      ctx.lineWidth = 3 * k;
      ctx.strokeStyle = "#ffb81c";
      ctx.setLineDash([8 * k, 5 * k]);
      ctx.strokeRect(nb[0], nb[1], nb[2] - nb[0], nb[3] - nb[1]);
      ctx.setLineDash([]);
    }
  });
}

// -- playing ----------------------------------------------------------------------------------------------------
function play() {
  if (!state.plan || state.plan.input.kind !== "video") return;
  if (state.frame >= state.plan.input.frames - 1) show(0);
  state.playing = true;
  $("play-btn").textContent = "❚❚";
  $("play-btn").setAttribute("aria-label", "Pause");
  const fps = state.plan.input.fps || 25;
  let last = performance.now();
  const tick = () => {
    if (!state.playing) return;
    const next = state.frame + 1;
    if (next >= state.plan.input.frames) { pause(); return; }
    for (let k = 2; k < 10 && next + k < state.plan.input.frames; k++) image(next + k);
    image(next).then(() => {
      const held = timeAt(next) - timeAt(state.frame);  // the frame shows as long as it does in a player
      const wait = Math.max(0, last + 1000 * (held > 0 && held < 5 ? held : 1 / fps) - performance.now());
      setTimeout(() => {
        if (!state.playing) return;
        last = performance.now();
        show(next);
        tick();
      }, wait);
    }).catch(() => pause());
  };
  tick();
}

function pause() {
  state.playing = false;
  $("play-btn").textContent = "▶";
  $("play-btn").setAttribute("aria-label", "Play");
}

// -- drawing a box ------------------------------------------------------------------------------------------
function canvasPoint(ev) {
  const canvas = $("view");
  const r = canvas.getBoundingClientRect();
  const x = (ev.clientX - r.left) * canvas.width / r.width;
  const y = (ev.clientY - r.top) * canvas.height / r.height;
  return [Math.min(Math.max(x, 0), canvas.width), Math.min(Math.max(y, 0), canvas.height)];
}

function startDrawing() {
  pause();
  state.drawing = true;
  state.newBox = null;
  $("stage").classList.add("drawing");
  $("draw-hint").hidden = false;
  $("draw-btn").hidden = true;
  $("draw-form").hidden = false;
  $("stage").scrollIntoView({block: "center"});
  const n = state.plan.input.frames;
  state.from = state.frame;
  state.to = Math.min(n - 1, state.frame + Math.round(2 * (state.plan.input.fps || 1)));
  updateRange();
}

function stopDrawing() {
  state.drawing = false;
  state.drag = null;
  state.newBox = null;
  $("stage").classList.remove("drawing");
  $("draw-hint").hidden = true;
  $("draw-btn").hidden = false;
  $("draw-form").hidden = true;
  draw();
}

function updateRange() {
  $("from-label").textContent = fmtTime(state.from);
  $("to-label").textContent = fmtTime(state.to + 1);
}

async function addBox() {
  if (!state.newBox) throw new Error("First drag over the picture to draw the box.");
  const kind = document.querySelector("input[name=kind]:checked").value;
  const first = Math.min(state.from, state.to), last = Math.max(state.from, state.to);
  const box = state.newBox.map((v) => Math.round(v * 10) / 10);
  const plan = await api("POST", "api/manual", {kind, box, first, last});
  stopDrawing();
  state.selected = plan.added;
  setPlan(plan);
  flashSaved();
}

// -- exporting --------------------------------------------------------------------------------------------------
async function startExport() {
  pause();
  $("export-done").hidden = true;
  exportState(await api("POST", "api/export", {}));
  keepPolling();
}

function exportState(st) {
  const job = st.job;
  const running = st.state === "exporting";
  $("export-btn").disabled = running;
  $("export-progress").hidden = !running;
  if (running) progress($("export-bar"), $("export-text"), job, "Saved");
  const done = job && job.name === "export" && job.state === "done" && st.result;
  $("export-done").hidden = !done;
  if (done) $("done-path").textContent = st.result.video;
  if (job && job.name === "export" && job.state === "error") {
    showMessage(`The cleaned video could not be saved: ${job.error}. Nothing was written.`);
  }
}

// -- wiring -------------------------------------------------------------------------------------------------
function wire() {
  $("file-input").addEventListener("change", (ev) => {
    const f = ev.target.files[0];
    ev.target.value = "";
    if (f) guarded(() => upload(f));
  });
  $("path-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    guarded(() => openPath($("path-input").value));
  });
  $("seek").addEventListener("input", (ev) => { pause(); show(Number(ev.target.value)); });
  $("play-btn").addEventListener("click", () => (state.playing ? pause() : play()));
  $("prev-btn").addEventListener("click", () => { pause(); if (state.frame > 0) show(state.frame - 1); });
  $("next-btn").addEventListener("click", () => {
    pause();
    if (state.frame < state.plan.input.frames - 1) show(state.frame + 1);
  });
  $("show-blur").addEventListener("change", draw);
  $("draw-btn").addEventListener("click", startDrawing);
  $("cancel-btn").addEventListener("click", stopDrawing);
  $("add-btn").addEventListener("click", () => guarded(addBox));
  $("from-btn").addEventListener("click", () => { state.from = state.frame; updateRange(); });
  $("to-btn").addEventListener("click", () => { state.to = state.frame; updateRange(); });
  $("export-btn").addEventListener("click", () => guarded(startExport));
  $("lowconf-next").addEventListener("click", nextLow);
  $("another-btn").addEventListener("click", () => {
    pause();
    stopSound();
    showMessage("");
    showSection("choose");
  });
  $("close-btn").addEventListener("click", () => guarded(async () => {
    pause();
    stopSound();
    await api("POST", "api/quit", {});
    showSection("closed");
  }));
  const canvas = $("view");
  canvas.addEventListener("pointerdown", (ev) => {
    if (!state.drawing) return;
    ev.preventDefault();
    canvas.setPointerCapture(ev.pointerId);
    const [x, y] = canvasPoint(ev);
    state.drag = [x, y, x, y];
    state.anchor = [x, y];
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!state.drawing || !state.drag) return;
    const [x, y] = canvasPoint(ev);
    const [ax, ay] = state.anchor;
    state.drag = [Math.min(ax, x), Math.min(ay, y), Math.max(ax, x), Math.max(ay, y)];
    draw();
  });
  canvas.addEventListener("pointerup", () => {
    if (!state.drawing || !state.drag) return;
    const d = state.drag;
    state.drag = null;
    if (d[2] - d[0] >= 4 && d[3] - d[1] >= 4) {
      state.newBox = d;
      $("draw-hint").hidden = true;
    }
    draw();
  });
  window.addEventListener("resize", fitCanvas);
  document.addEventListener("keydown", (ev) => {
    if (!state.plan || $("review").hidden || ["INPUT", "BUTTON", "A", "LABEL"].includes(ev.target.tagName)) return;
    if (ev.key === " ") { ev.preventDefault(); state.playing ? pause() : play(); }
    else if (ev.key === "ArrowRight" && state.frame < state.plan.input.frames - 1) { pause(); show(state.frame + 1); }
    else if (ev.key === "ArrowLeft" && state.frame > 0) { pause(); show(state.frame - 1); }
  });
}

wire();
guarded(refresh);
