// mixdown studio: the player (wavesurfer.js over precomputed peaks), the bar:beat ruler,
// the loudness curve, comments on the waveform, loudness-matched A/B and render progress.
// Data comes from <script type="application/json"> blocks the server writes (escaped by
// Jinja's tojson); nothing here builds HTML from user text (textContent only).
"use strict";

(function () {
  const csrf = () => document.body.dataset.csrf;

  function readJSON(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- musical time: seconds <-> bar:beat from the song's bar starts -------------------
  function barBeatAt(bars, seconds) {
    let i = 0;
    while (i + 1 < bars.length && bars[i + 1].seconds <= seconds) i++;
    const bar = bars[i];
    const beatLen = bar.beat_s;
    const beat = 1 + (seconds - bar.seconds) / beatLen;
    return { bar: bar.bar, beat: Math.max(1, Math.round(beat * 100) / 100) };
  }

  function secondsAt(bars, bar, beat) {
    const b = bars.find((x) => x.bar === bar) || bars[bars.length - 1];
    return b.seconds + (beat - 1) * b.beat_s;
  }

  function fmt(s) {
    const m = Math.floor(s / 60);
    return m + ":" + (s - 60 * m).toFixed(1).padStart(4, "0");
  }

  // ---- the version player ----------------------------------------------------------------
  function drawRuler(box, data) {
    box.replaceChildren();
    const every = data.bars.length > 64 ? 8 : data.bars.length > 24 ? 4 : 1;
    for (const b of data.bars) {
      if ((b.bar - 1) % every !== 0) continue;
      const tick = el("span", "tick", String(b.bar));
      tick.style.left = (100 * b.seconds / data.duration_s) + "%";
      box.appendChild(tick);
    }
  }

  function drawLoudness(svg, data) {
    const curve = data.loudness;
    if (!curve || !curve.lufs.length) return;
    const W = 1000, H = 60, floor = -40, top = 0;
    const pts = curve.lufs.map((v, i) => {
      const t = (curve.start_s || 0) + i * curve.hop_s;
      const lv = v === null || !isFinite(v) ? floor : Math.max(floor, Math.min(top, v));
      return (W * t / data.duration_s).toFixed(1) + "," + (H * (top - lv) / (top - floor)).toFixed(1);
    });
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("preserveAspectRatio", "none");
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", pts.join(" "));
    line.setAttribute("class", "lufs");
    svg.replaceChildren(line);
  }

  function setupPlayer() {
    const data = readJSON("version-data");
    if (!data) return;
    const peaks = data.peaks;
    const regions = WaveSurfer.Regions.create();
    const seconds = WaveSurfer.Timeline.create({ container: "#seconds", height: 14,
      style: { fontSize: "10px", color: "#66707a" } });
    const ws = WaveSurfer.create({
      container: "#waveform",
      url: data.audio_url,
      peaks: [peaks.max, peaks.min],
      duration: data.duration_s,
      height: 120,
      waveColor: "#7aa2c8",
      progressColor: "#2f5f8a",
      cursorColor: "#d33",
      normalize: false,
      interact: true,
      plugins: [regions, seconds],
    });
    window.mixdownPlayer = ws;
    ws.once("redrawcomplete", () => {
      document.body.dataset.waveformReadyMs = performance.now().toFixed(1);
    });
    drawRuler(document.getElementById("ruler"), data);
    drawLoudness(document.getElementById("loudness"), data);

    const time = document.getElementById("time");
    const position = document.getElementById("position");
    const update = (t) => {
      if (time) time.textContent = fmt(t) + " / " + fmt(data.duration_s);
      if (position) {
        const bb = barBeatAt(data.bars, t);
        position.textContent = bb.bar + ":" + bb.beat.toFixed(2).replace(/\.?0+$/, "");
      }
    };
    ws.on("timeupdate", update);
    update(0);

    // sections: a marker at each start; looping one is chosen below the waveform (or L)
    let loop = null;
    const loopSelect = document.getElementById("loop-section");
    const setLoop = (section) => {
      loop = section;
      if (loopSelect) loopSelect.value = section ? section.name : "";
      if (section) { ws.setTime(section.start_s); ws.play(); }
    };
    const sectionAt = (t) => data.sections.find((s) => s.start_s <= t && t < s.end_s) || null;
    if (loopSelect) {
      loopSelect.addEventListener("change", () =>
        setLoop(data.sections.find((s) => s.name === loopSelect.value) || null));
    }
    ws.on("timeupdate", (t) => {
      if (loop && (t >= loop.end_s || t < loop.start_s - 0.05)) ws.setTime(loop.start_s);
    });
    ws.on("decode", () => {
      for (const s of data.sections) {
        regions.addRegion({ id: "section-" + s.name, start: s.start_s, content: s.name,
          color: "rgba(60,120,40,0.7)", drag: false, resize: false });
      }
      for (const c of data.comments) {
        const r = regions.addRegion({ id: "comment-" + c.id, start: c.seconds,
          content: "\u25C6 " + c.bar + ":" + c.beat, color: c.resolved ? "#999" : "#e08a00",
          drag: false, resize: false });
        r.element.title = c.bar + ":" + c.beat + " " + c.author + ": " + c.text;
        r.element.dataset.comment = String(c.id);
      }
    });
    regions.on("region-clicked", (r, e) => { e.stopPropagation(); ws.setTime(r.start); });
    window.mixdownLoop = { set: setLoop, get: () => loop, sectionAt };

    // a click on the waveform fills the comment position
    ws.on("interaction", (t) => {
      const bb = barBeatAt(data.bars, t);
      const bar = document.querySelector("#comment-form [name=bar]");
      const beat = document.querySelector("#comment-form [name=beat]");
      if (bar && beat) { bar.value = bb.bar; beat.value = Math.floor(bb.beat); }
    });

    const play = document.getElementById("play");
    if (play) play.addEventListener("click", () => ws.playPause());
    ws.on("play", () => play && (play.textContent = "Pause"));
    ws.on("pause", () => play && (play.textContent = "Play"));

    // platform preview: the version's level as each platform will play it
    const platform = document.getElementById("platform");
    if (platform) {
      platform.addEventListener("change", () => {
        const opt = platform.selectedOptions[0];
        const db = parseFloat(opt.dataset.gainDb || "0");
        // a media element can only turn down: a platform that would raise it plays it as is
        ws.setVolume(Math.min(1, Math.pow(10, db / 20)));
        const out = document.getElementById("platform-gain");
        if (out) out.textContent = opt.value ? (db >= 0 ? "+" : "") + db.toFixed(1) + " dB" : "";
      });
    }

    document.addEventListener("keydown", (e) => {
      // Typing in a field is never a shortcut; on a focused button (Play, after a click)
      // only Space and Enter are its own, and the arrows still move the playhead.
      if (e.target.closest("input, textarea, select")) return;
      if (e.target.closest("button") && (e.code === "Space" || e.key === "Enter")) return;
      const bar = data.bars.length > 1 ? data.bars[1].seconds - data.bars[0].seconds : 2;
      if (e.code === "Space") { e.preventDefault(); ws.playPause(); }
      else if (e.key === "ArrowRight") { e.preventDefault(); ws.setTime(Math.min(data.duration_s, ws.getCurrentTime() + bar)); }
      else if (e.key === "ArrowLeft") { e.preventDefault(); ws.setTime(Math.max(0, ws.getCurrentTime() - bar)); }
      else if (e.key === "Home") { ws.setTime(0); }
      else if (e.key === "l" || e.key === "L") { setLoop(loop ? null : sectionAt(ws.getCurrentTime())); }
    });
  }

  // ---- loudness-matched A/B --------------------------------------------------------------
  // Each side: source -> match gain (constant: the dB that brings it to the common loudness)
  // -> switch gain (1 for the side heard, 0 for the other) -> output. Both play all the time
  // from the same start, so switching is a 5 ms cross-fade at the same playhead, no gap.
  function setupAB() {
    const data = readJSON("ab-data");
    if (!data) return;
    const ctx = new AudioContext();
    const sides = data.sides.map((s) => {
      const match = ctx.createGain();
      match.gain.value = Math.pow(10, s.gain_db / 20);
      const sw = ctx.createGain();
      sw.gain.value = 0;
      match.connect(sw).connect(ctx.destination);
      return { ...s, match, sw, buffer: null, source: null };
    });
    const ab = { ctx, sides, active: 0, playing: false, startedAt: 0, offset: 0, ready: false };
    window.mixdownAB = ab;
    const status = document.getElementById("ab-status");
    const say = (t) => { if (status) status.textContent = t; };

    Promise.all(sides.map((s) => fetch(s.url).then((r) => r.arrayBuffer())
      .then((b) => ctx.decodeAudioData(b)).then((buf) => { s.buffer = buf; })))
      .then(() => { ab.ready = true; say("ready"); document.body.dataset.abReady = "1"; })
      .catch((err) => say("could not load the audio: " + err));

    const position = () => ab.playing ? ab.offset + ctx.currentTime - ab.startedAt : ab.offset;
    ab.position = position;

    function choose(i) {
      ab.active = i;
      const now = ctx.currentTime;
      sides.forEach((s, j) => {
        s.sw.gain.cancelScheduledValues(now);
        s.sw.gain.setValueAtTime(s.sw.gain.value, now);
        s.sw.gain.linearRampToValueAtTime(j === i ? 1 : 0, now + 0.005);
      });
      document.querySelectorAll("[data-ab-side]").forEach((b) =>
        b.classList.toggle("active", Number(b.dataset.abSide) === i));
      say("hearing " + sides[i].label + " (" + (sides[i].gain_db >= 0 ? "+" : "") +
          sides[i].gain_db.toFixed(1) + " dB)");
    }
    ab.choose = choose;

    function start() {
      if (!ab.ready) return;
      const when = ctx.currentTime + 0.05;
      for (const s of sides) {
        s.source = ctx.createBufferSource();
        s.source.buffer = s.buffer;
        s.source.connect(s.match);
        s.source.start(when, Math.min(ab.offset, s.buffer.duration));
      }
      ab.startedAt = when;
      ab.playing = true;
      choose(ab.active);
    }
    function stop() {
      if (!ab.playing) return;
      ab.offset = position();
      for (const s of sides) { s.source.stop(); s.source.disconnect(); s.source = null; }
      ab.playing = false;
    }
    ab.toggle = () => { ctx.resume(); ab.playing ? stop() : start(); };
    ab.seek = (t) => { const was = ab.playing; stop(); ab.offset = Math.max(0, t); if (was) start(); };

    document.querySelectorAll("[data-ab-side]").forEach((b) =>
      b.addEventListener("click", () => choose(Number(b.dataset.abSide))));
    const toggle = document.getElementById("ab-play");
    if (toggle) toggle.addEventListener("click", ab.toggle);
    document.addEventListener("keydown", (e) => {
      if (e.target.closest("input, textarea, select")) return;
      if (e.key === "a" || e.key === "A") choose(0);
      else if (e.key === "b" || e.key === "B") choose(1);
      else if (e.code === "Space") { e.preventDefault(); ab.toggle(); }
      else if (e.key === "ArrowRight") ab.seek(position() + 5);
      else if (e.key === "ArrowLeft") ab.seek(position() - 5);
    });
    choose(0);
  }

  // ---- render with live progress (server-sent events) ------------------------------------
  function watchJob(box) {
    const url = box.dataset.events;
    if (!url || box.dataset.watching) return;
    box.dataset.watching = "1";
    const bar = box.querySelector("progress");
    const text = box.querySelector(".job-text");
    const source = new EventSource(url);
    source.addEventListener("progress", (e) => {
      const d = JSON.parse(e.data);
      if (bar) bar.value = d.percent;
      if (text) text.textContent = d.state + " " + d.percent.toFixed(0) + "%";
      box.dataset.percent = String(d.percent);
    });
    source.addEventListener("done", (e) => {
      const d = JSON.parse(e.data);
      source.close();
      if (bar) bar.value = 100;
      box.dataset.state = "done";
      if (text) text.replaceChildren(el("span", null, "done: "),
        Object.assign(el("a", null, "version " + d.result.number), { href: d.result.url }));
    });
    source.addEventListener("failed", (e) => {
      const d = JSON.parse(e.data);
      source.close();
      box.dataset.state = "failed";
      if (text) text.textContent = "failed: " + d.message;
    });
  }

  // ---- reference upload (raw body: the server counts bytes as they come) ------------------
  function setupUpload() {
    const form = document.getElementById("reference-form");
    if (!form) return;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const file = form.querySelector("input[type=file]").files[0];
      const out = document.getElementById("reference-result");
      if (!file) return;
      const r = await fetch(form.action + "?name=" + encodeURIComponent(file.name), {
        method: "POST", body: file, headers: { "X-CSRF-Token": csrf(),
          "Content-Type": "application/octet-stream" } });
      const d = await r.json();
      out.textContent = r.ok ? "uploaded " + d.name : d.error.message;
      if (r.ok) location.reload();
    });
  }

  function init(root) {
    (root || document).querySelectorAll("[data-events]").forEach(watchJob);
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupPlayer();
    setupAB();
    setupUpload();
    init();
  });
  document.addEventListener("htmx:afterSwap", (e) => init(e.target));
  window.mixdownStudio = { barBeatAt, secondsAt };
})();
