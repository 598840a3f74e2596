// The arrangement view: tracks, clips and automation lanes on a bar:beat timeline.
// The page fetches its state (JSON) from data-state and draws it; every change is one
// mixdownEdit(...) POST (edit.js: one undo step, the revision checked), after which the
// state is fetched again and redrawn. Positions sent to the server are beats from the
// song start; the server writes them back in the form song.toml used ("bar:beat").
(function () {
  "use strict";
  const root = document.getElementById("arrange");
  if (!root) return;
  const timeline = document.getElementById("arr-timeline");
  const HEAD = 130;          // px of the name column
  const CLIP_H = 56, LANE_H = 44, RULER_H = 38;
  let ppb = 28;              // px per beat
  let state = null;
  let sel = null;            // {type: "clip", track, clip} | {type: "point", target, param, index}
  let cursor = 0;            // beats
  const peaksCache = new Map();

  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, parent) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  };
  const x = (beats) => HEAD + beats * ppb;

  // -- time ----------------------------------------------------------------------------
  function secondsAt(beats) {
    const t = state.beat_seconds, i = Math.floor(beats);
    if (i < 0) return 0;
    if (i >= t.length - 1) return t[t.length - 1] + (beats - (t.length - 1)) * (t[t.length - 1] - t[t.length - 2]);
    return t[i] + (beats - i) * (t[i + 1] - t[i]);
  }
  function beatsAt(seconds) {
    const t = state.beat_seconds;
    let lo = 0, hi = t.length - 1;
    if (seconds >= t[hi]) return hi + (seconds - t[hi]) / (t[hi] - t[hi - 1]);
    while (hi - lo > 1) { const m = (lo + hi) >> 1; if (t[m] <= seconds) lo = m; else hi = m; }
    return lo + (seconds - t[lo]) / (t[hi] - t[lo]);
  }
  function barBeat(beats) {
    let bar = state.bars[0];
    for (const b of state.bars) { if (b.at <= beats + 1e-9) bar = b; else break; }
    const unit = 4 / bar.signature[1];
    const beat = (beats - bar.at) / unit + 1;
    return bar.bar + ":" + (Math.round(beat * 1000) / 1000);
  }
  function snap(beats) {
    const v = $("arr-snap").value;
    if (v === "0") return beats;
    if (v === "bar") {
      let best = 0, dist = Infinity;
      for (const b of state.bars) { const d = Math.abs(b.at - beats); if (d < dist) { dist = d; best = b.at; } }
      return best;
    }
    const g = parseFloat(v);
    return Math.round(beats / g) * g;
  }

  // -- state ---------------------------------------------------------------------------
  async function load() {
    const r = await fetch(root.dataset.state, { headers: { Accept: "application/json" } });
    const data = await r.json();
    if (!r.ok) { say((data.error && data.error.message) || ("error " + r.status), "error"); return; }
    state = data;
    root.dataset.revision = data.revision;
    draw();
    root.dataset.drawn = data.revision;  // the revision on screen (tests wait for it)
  }
  function say(text, kind) {
    const box = document.querySelector("[data-edit-message]");
    if (box) { box.textContent = text; box.dataset.kind = kind || ""; }
  }
  async function edit(op, payload) {
    try {
      await window.mixdownEdit("/arrange/" + op, payload);
    } catch (e) {
      draw();  // put a dragged clip back where the song has it
      return false;
    }
    return true;
  }
  root.addEventListener("mixdown:edited", () => load());
  root.addEventListener("mixdown:reload", () => load());

  // -- drawing -------------------------------------------------------------------------
  function rows() {
    const out = [];
    for (const t of state.tracks) {
      out.push({ kind: "track", track: t });
      const lanes = t.automation.slice();
      if (!lanes.some((l) => l.param === "volume_db")) lanes.unshift({ param: "volume_db", points: [] });
      for (const lane of lanes) out.push({ kind: "lane", target: t.name, lane });
    }
    for (const b of state.buses) {
      const lanes = b.automation.length ? b.automation : [{ param: "volume_db", points: [] }];
      for (const lane of lanes) out.push({ kind: "lane", target: b.name, lane, bus: true });
    }
    const ml = state.master.automation.length ? state.master.automation : [{ param: "volume_db", points: [] }];
    for (const lane of ml) out.push({ kind: "lane", target: "master", lane, bus: true });
    return out;
  }

  function draw() {
    if (!state) return;
    const width = x(state.length_beats) + 40;
    timeline.innerHTML = "";
    const inner = el("div", "arr-inner", timeline);
    inner.style.width = width + "px";
    drawRuler(inner);
    let y = RULER_H;
    for (const row of rows()) {
      const h = row.kind === "track" ? CLIP_H : LANE_H;
      const r = el("div", "arr-row arr-" + row.kind, inner);
      r.style.top = y + "px"; r.style.height = h + "px"; r.style.width = width + "px";
      const name = el("div", "arr-name", r);
      name.style.height = h + "px";
      if (row.kind === "track") {
        name.textContent = row.track.name;
        r.dataset.track = row.track.name;
        r.dataset.kind = row.track.kind;
        drawGrid(r, h);
        row.track.clips.forEach((c) => drawClip(r, row.track, c));
      } else {
        name.textContent = (row.bus ? row.target + " · " : "") + row.lane.param;
        name.classList.add("arr-lane-name");
        r.dataset.target = row.target;
        r.dataset.param = row.lane.param;
        drawGrid(r, h);
        drawLane(r, row.target, row.lane, h, width);
      }
      r.addEventListener("mousedown", (e) => {
        if (e.target !== r && !e.target.classList.contains("arr-gridline")) return;
        if (row.kind === "track") setCursor(snap(Math.max(0, (e.offsetX - HEAD) / ppb)));
      });
      y += h;
    }
    inner.style.height = y + "px";
    const ph = el("div", "arr-playhead", inner);
    ph.id = "arr-playhead"; ph.style.height = y + "px";
    const player = $("arr-audio");
    ph.hidden = !player;
    ph.style.left = x(player ? beatsAt(player.currentTime || 0) : 0) + "px";
    const cur = el("div", "arr-cursor", inner);
    cur.id = "arr-cursor-line"; cur.style.height = y + "px";
    placeCursor();
    showInspector();
  }

  function drawRuler(inner) {
    const ruler = el("div", "arr-ruler", inner);
    ruler.style.height = RULER_H + "px";
    ruler.style.width = inner.style.width;
    const every = ppb * 4 < 40 ? 4 : ppb * 4 < 70 ? 2 : 1;
    for (const b of state.bars) {
      const t = el("div", "arr-bar", ruler);
      t.style.left = x(b.at) + "px";
      if ((b.bar - 1) % every === 0) t.textContent = b.bar;
    }
    for (const s of state.sections) {
      const m = el("div", "arr-section", ruler);
      m.style.left = x(s.at) + "px";
      m.textContent = s.name;
    }
    for (const p of state.tempo) {
      const m = el("div", "arr-tempo", ruler);
      m.style.left = x(p.at) + "px";
      m.textContent = (Math.round(p.bpm * 100) / 100) + " bpm" + (p.ramp ? " ↗" : "");
    }
    ruler.addEventListener("mousedown", (e) => {
      const rect = ruler.getBoundingClientRect();
      setCursor(snap(Math.max(0, (e.clientX - rect.left - HEAD) / ppb)));
      const audio = $("arr-audio");
      if (audio && audio.readyState > 0) audio.currentTime = secondsAt(cursor);
    });
  }

  function drawGrid(row, h) {
    for (const b of state.bars) {
      const g = el("div", "arr-gridline", row);
      g.style.left = x(b.at) + "px"; g.style.height = h + "px";
    }
  }

  function setCursor(beats) {
    cursor = beats;
    placeCursor();
  }
  function placeCursor() {
    const c = $("arr-cursor-line");
    if (c) c.style.left = x(cursor) + "px";
    $("arr-cursor").textContent = "cursor " + barBeat(cursor);
  }

  // -- clips ---------------------------------------------------------------------------
  function drawClip(row, track, c) {
    const d = el("div", "arr-clip arr-clip-" + c.kind, row);
    d.dataset.track = track.name;
    d.dataset.clip = c.index;
    d.dataset.start = c.start;
    d.style.left = x(c.start) + "px";
    const w = Math.max(4, (c.end - c.start) * ppb);
    d.style.width = w + "px";
    d.style.height = (CLIP_H - 6) + "px";
    if (sel && sel.type === "clip" && sel.track === track.name && sel.clip === c.index) d.classList.add("selected");
    if (c.problem) { d.classList.add("problem"); d.title = c.problem; }
    const label = el("span", "arr-clip-label", d);
    label.textContent = (c.name || c.kind) + " · " + c.start_label;
    const canvas = el("canvas", null, d);
    canvas.width = Math.min(Math.round(w), 16000); canvas.height = CLIP_H - 6;
    if (c.kind === "audio") drawWave(canvas, c); else drawNotes(canvas, c);
    if (c.kind === "audio") drawFades(d, c, w);
    el("div", "arr-edge arr-edge-l", d).dataset.edge = "start";
    el("div", "arr-edge arr-edge-r", d).dataset.edge = "end";
    d.addEventListener("mousedown", (e) => clipDown(e, d, track, c));
  }

  function drawFades(d, c, w) {
    const secs = c.seconds || 1;
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "arr-fades");
    svg.setAttribute("viewBox", `0 0 ${w} 100`);
    svg.setAttribute("preserveAspectRatio", "none");
    const shape = (s, u) => s === "equal_power" ? Math.sin(u * Math.PI / 2) : s === "s_curve" ? (1 - Math.cos(u * Math.PI)) / 2 : u;
    const path = (len, s, out) => {
      const pw = (len / secs) * w; let p = "";
      for (let i = 0; i <= 20; i++) {
        const u = i / 20, px = out ? w - pw + u * pw : u * pw;
        const g = out ? shape(s, 1 - u) : shape(s, u);
        p += (i ? "L" : "M") + px.toFixed(1) + " " + (100 - g * 100).toFixed(1);
      }
      return p;
    };
    if (c.fade_in_s > 0) { const p = document.createElementNS(svg.namespaceURI, "path"); p.setAttribute("d", path(c.fade_in_s, c.fade_in_shape, false)); svg.appendChild(p); }
    if (c.fade_out_s > 0) { const p = document.createElementNS(svg.namespaceURI, "path"); p.setAttribute("d", path(c.fade_out_s, c.fade_out_shape, true)); svg.appendChild(p); }
    d.appendChild(svg);
  }

  async function peaksOf(file) {
    if (!peaksCache.has(file)) {
      peaksCache.set(file, fetch(root.dataset.peaks + "?file=" + encodeURIComponent(file))
        .then((r) => (r.ok ? r.json() : null)).catch(() => null));
    }
    return peaksCache.get(file);
  }

  async function drawWave(canvas, c) {
    const pk = await peaksOf(c.file);
    if (!pk) return;
    const g = canvas.getContext("2d"), h = canvas.height, mid = h / 2;
    const t0 = secondsAt(c.start), gain = Math.pow(10, (c.gain_db || 0) / 20);
    g.fillStyle = "rgba(30, 70, 120, .75)";
    const n = pk.min.length;
    for (let px = 0; px < canvas.width; px++) {
      const a = secondsAt(c.start + px / ppb) - t0, b = secondsAt(c.start + (px + 1) / ppb) - t0;
      let i0 = Math.floor((c.offset_s + a / c.stretch) * pk.points_per_second);
      let i1 = Math.max(i0 + 1, Math.floor((c.offset_s + b / c.stretch) * pk.points_per_second));
      if (c.reverse) { const r0 = n - i1, r1 = n - i0; i0 = r0; i1 = r1; }
      let lo = 0, hi = 0;
      for (let i = Math.max(0, i0); i < Math.min(n, i1); i++) { lo = Math.min(lo, pk.min[i]); hi = Math.max(hi, pk.max[i]); }
      lo = Math.max(-1, lo * gain); hi = Math.min(1, hi * gain);
      g.fillRect(px, mid - hi * mid, 1, Math.max(1, (hi - lo) * mid));
    }
  }

  function drawNotes(canvas, c) {
    const notes = c.notes || [];
    if (!notes.length) return;
    const g = canvas.getContext("2d"), h = canvas.height - 14;
    let lo = 127, hi = 0;
    for (const n of notes) { lo = Math.min(lo, n[2]); hi = Math.max(hi, n[2]); }
    const span = Math.max(12, hi - lo + 1), step = h / span;
    g.fillStyle = "rgba(120, 50, 140, .85)";
    for (const n of notes) {
      g.fillRect(n[0] * ppb, 14 + (hi - n[2]) * step, Math.max(2, n[1] * ppb - 1), Math.max(2, step - 1));
    }
  }

  function select(s) {
    sel = s;
    timeline.querySelectorAll(".selected").forEach((e) => e.classList.remove("selected"));
    if (s && s.type === "clip") {
      const d = timeline.querySelector(`.arr-clip[data-track="${CSS.escape(s.track)}"][data-clip="${s.clip}"]`);
      if (d) d.classList.add("selected");
    } else if (s && s.type === "point") {
      const p = timeline.querySelector(`.arr-lane-row[data-target="${CSS.escape(s.target)}"][data-param="${CSS.escape(s.param)}"] circle[data-index="${s.index}"]`);
      if (p) p.classList.add("selected");
    }
    showInspector();
  }

  function clipDown(e, d, track, c) {
    if (e.button !== 0) return;
    e.preventDefault(); e.stopPropagation();
    select({ type: "clip", track: track.name, clip: c.index });
    const edge = e.target.dataset ? e.target.dataset.edge : null;
    const x0 = e.clientX, y0 = e.clientY;
    const left0 = x(c.start), w0 = (c.end - c.start) * ppb;
    let moved = false, over = null;
    const rowsEls = Array.from(timeline.querySelectorAll(".arr-track"));
    function move(ev) {
      const dx = ev.clientX - x0;
      if (Math.abs(dx) > 2 || Math.abs(ev.clientY - y0) > 4) moved = true;
      if (!moved) return;
      if (edge === "start") {
        const nb = snap(c.start + dx / ppb);
        d.style.left = x(nb) + "px"; d.style.width = Math.max(4, (c.end - nb) * ppb) + "px";
      } else if (edge === "end") {
        const nb = snap(c.end + dx / ppb);
        d.style.width = Math.max(4, (nb - c.start) * ppb) + "px";
      } else {
        d.style.left = x(Math.max(0, snap(c.start + dx / ppb))) + "px";
        over = null;
        for (const r of rowsEls) {
          const rect = r.getBoundingClientRect();
          if (ev.clientY >= rect.top && ev.clientY < rect.bottom) over = r;
        }
        rowsEls.forEach((r) => r.classList.toggle("drop", r === over && r.dataset.track !== track.name && r.dataset.kind === track.kind));
      }
    }
    function up(ev) {
      document.removeEventListener("mousemove", move);
      document.removeEventListener("mouseup", up);
      rowsEls.forEach((r) => r.classList.remove("drop"));
      const dx = ev.clientX - x0;
      if (!moved) {
        const rect = d.getBoundingClientRect();
        setCursor(snap(c.start + (ev.clientX - rect.left) / ppb));
        return;
      }
      const payload = { track: track.name, clip: c.index };
      if (edge === "start") {
        const nb = snap(c.start + dx / ppb);
        if (Math.abs(nb - c.start) < 1e-9) return draw();
        edit("trim", { ...payload, start: Math.max(0, nb) });
      } else if (edge === "end") {
        const nb = snap(c.end + dx / ppb);
        if (Math.abs(nb - c.end) < 1e-9) return draw();
        edit("trim", { ...payload, end: nb });
      } else {
        const nb = snap(c.start + dx / ppb);
        const other = over && over.dataset.track !== track.name ? over.dataset.track : null;
        if (other && over.dataset.kind !== track.kind) {
          say("a " + (c.kind === "audio" ? "audio clip goes on an audio track" : "note clip goes on an instrument track"), "error");
          return draw();
        }
        if (Math.abs(nb - c.start) < 1e-9 && !other) return draw();
        if (nb < 0) { say("the clip would start before the song start (bar 1)", "error"); return draw(); }
        const body = { ...payload, to: nb };
        if (other) { body.to_track = other; sel = null; }
        edit("move", body);
      }
      void w0; void left0;
    }
    document.addEventListener("mousemove", move);
    document.addEventListener("mouseup", up);
  }

  // -- automation lanes ----------------------------------------------------------------
  function range(param, points) {
    if (param === "volume_db" || param.startsWith("send.")) return [-48, 12];
    if (param === "pan") return [-1, 1];
    const vals = points.map((p) => p.value);
    const lo = Math.min(0, ...vals), hi = Math.max(1, ...vals);
    return [lo, hi];
  }

  function drawLane(r, target, lane, h, width) {
    r.classList.add("arr-lane-row");
    const [lo, hi] = range(lane.param, lane.points);
    const yv = (v) => 4 + (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (h - 8);
    const vy = (py) => lo + (1 - (py - 4) / (h - 8)) * (hi - lo);
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "arr-lane");
    svg.setAttribute("width", width); svg.setAttribute("height", h);
    r.appendChild(svg);
    const pts = lane.points;
    if (pts.length) {
      let d = "M" + x(0) + " " + yv(pts[0].value);
      for (const p of pts) d += " L" + x(p.at) + " " + yv(p.value);
      d += " L" + width + " " + yv(pts[pts.length - 1].value);
      const path = document.createElementNS(ns, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    }
    pts.forEach((p, i) => {
      const c = document.createElementNS(ns, "circle");
      c.setAttribute("cx", x(p.at)); c.setAttribute("cy", yv(p.value)); c.setAttribute("r", 5);
      c.dataset.index = i;
      const t = document.createElementNS(ns, "title");
      t.textContent = `${p.label}: ${Math.round(p.value * 100) / 100}`;
      c.appendChild(t);
      if (sel && sel.type === "point" && sel.target === target && sel.param === lane.param && sel.index === i) c.classList.add("selected");
      c.addEventListener("mousedown", (e) => {
        e.preventDefault(); e.stopPropagation();
        select({ type: "point", target, param: lane.param, index: i });
        const x0 = e.clientX, y0 = e.clientY;
        let moved = false;
        const move = (ev) => {
          if (Math.abs(ev.clientX - x0) + Math.abs(ev.clientY - y0) > 3) moved = true;
          if (!moved) return;
          c.setAttribute("cx", x(Math.max(0, snap(p.at + (ev.clientX - x0) / ppb))));
          c.setAttribute("cy", Math.max(4, Math.min(h - 4, yv(p.value) + ev.clientY - y0)));
        };
        const up = (ev) => {
          document.removeEventListener("mousemove", move);
          document.removeEventListener("mouseup", up);
          if (!moved) return;
          const at = Math.max(0, snap(p.at + (ev.clientX - x0) / ppb));
          const v = vy(Math.max(4, Math.min(h - 4, yv(p.value) + ev.clientY - y0)));
          edit("point-move", { target, param: lane.param, index: i, at, value: Math.round(v * 10) / 10 });
        };
        document.addEventListener("mousemove", move);
        document.addEventListener("mouseup", up);
      });
      c.addEventListener("dblclick", (e) => {
        e.stopPropagation();
        edit("point-delete", { target, param: lane.param, index: i });
      });
      svg.appendChild(c);
    });
    svg.addEventListener("mousedown", (e) => {
      if (e.target.tagName === "circle" || e.button !== 0) return;
      const rect = svg.getBoundingClientRect();
      const px = e.clientX - rect.left, py = e.clientY - rect.top;
      if (px < HEAD) return;
      const at = Math.max(0, snap((px - HEAD) / ppb));
      edit("point-add", { target, param: lane.param, at, value: Math.round(vy(py) * 10) / 10 });
    });
  }

  // -- the inspector and the commands --------------------------------------------------
  function selectedClip() {
    if (!sel || sel.type !== "clip" || !state) return null;
    const t = state.tracks.find((t) => t.name === sel.track);
    return t ? t.clips.find((c) => c.index === sel.clip) : null;
  }

  function showInspector() {
    const box = $("arr-inspector");
    const c = selectedClip();
    if (!c) { box.hidden = true; return; }
    box.hidden = false;
    $("arr-inspector-title").textContent = `${sel.track} · ${c.name || c.kind} · ${c.start_label}`;
    box.querySelector("[data-audio-only]").hidden = c.kind !== "audio";
    if (c.kind === "audio") {
      $("arr-gain").value = c.gain_db;
      $("arr-fade-in").value = c.fade_in_s;
      $("arr-fade-out").value = c.fade_out_s;
      $("arr-fade-in-shape").value = c.fade_in_shape;
      $("arr-fade-out-shape").value = c.fade_out_shape;
      $("arr-clip-info").textContent = `${c.file} · ${c.seconds.toFixed(3)} s from ${c.offset_s.toFixed(3)} s`;
    } else {
      $("arr-clip-info").textContent = `${(c.notes || []).length} notes · ${(c.end - c.start).toFixed(2)} beats`;
    }
  }

  function clipPayload() { return { track: sel.track, clip: sel.clip }; }
  $("arr-gain").addEventListener("change", () => {
    if (selectedClip()) edit("gain", { ...clipPayload(), gain_db: parseFloat($("arr-gain").value) });
  });
  for (const id of ["arr-fade-in", "arr-fade-out", "arr-fade-in-shape", "arr-fade-out-shape"]) {
    $(id).addEventListener("change", () => {
      if (!selectedClip()) return;
      edit("fades", { ...clipPayload(),
        fade_in_s: parseFloat($("arr-fade-in").value) || 0,
        fade_out_s: parseFloat($("arr-fade-out").value) || 0,
        fade_in_shape: $("arr-fade-in-shape").value,
        fade_out_shape: $("arr-fade-out-shape").value });
    });
  }

  function split() { if (selectedClip()) edit("split", { ...clipPayload(), at: cursor }); else say("select a clip to split", "error"); }
  function duplicate() { if (selectedClip()) edit("duplicate", clipPayload()); }
  function remove() {
    if (selectedClip()) { const p = clipPayload(); sel = null; edit("delete", p); }
    else if (sel && sel.type === "point") { const s = sel; sel = null; edit("point-delete", { target: s.target, param: s.param, index: s.index }); }
  }
  $("arr-split").addEventListener("click", split);
  $("arr-duplicate").addEventListener("click", duplicate);
  $("arr-delete").addEventListener("click", remove);
  $("arr-zoom-in").addEventListener("click", () => { ppb = Math.min(200, ppb * 1.5); draw(); });
  $("arr-zoom-out").addEventListener("click", () => { ppb = Math.max(3, ppb / 1.5); draw(); });
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.target.matches("input, select, textarea")) return;
    const k = e.key.toLowerCase();
    if (k === "s") { e.preventDefault(); split(); }
    else if (k === "d") { e.preventDefault(); duplicate(); }
    else if (k === "delete" || k === "backspace") { e.preventDefault(); remove(); }
    else if (k === " " && $("arr-audio")) { e.preventDefault(); togglePlay(); }
  });

  // -- playback of the last render -------------------------------------------------------
  const audio = $("arr-audio");
  function togglePlay() {
    if (!audio) return;
    if (audio.paused) { audio.currentTime = secondsAt(cursor); audio.play(); } else audio.pause();
  }
  if (audio) {
    $("arr-play").addEventListener("click", togglePlay);
    const tick = () => {
      const ph = $("arr-playhead");
      if (ph && state) ph.style.left = x(beatsAt(audio.currentTime)) + "px";
      if (!audio.paused) requestAnimationFrame(tick);
    };
    audio.addEventListener("play", () => { $("arr-play").textContent = "Pause"; requestAnimationFrame(tick); });
    audio.addEventListener("pause", () => { $("arr-play").textContent = "Play"; });
  }

  load();
})();
