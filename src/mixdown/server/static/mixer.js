// mixdown studio: the mixer page. A channel strip per track, bus and the master, built from
// the JSON the server writes (#mixer-data) and re-fetched after each change, undo or redo.
// Every change is one POST through window.mixdownEdit (static/edit.js): one at a time, in
// order, each with the revision the last one returned. Nothing here builds HTML from text
// (textContent only).
"use strict";

(function () {
  const root = document.getElementById("mixer-root");
  if (!root) return;
  const box = document.getElementById("mixer-strips");
  const songUrl = root.dataset.songEdit;
  const api = "/api/songs/" + encodeURIComponent(root.dataset.song);
  let state = JSON.parse(document.getElementById("mixer-data").textContent);
  let queue = Promise.resolve();
  const AUTO = "mixdown.mixer.autoRender";
  const openDetails = new Set();  // instruments whose parameters the user opened

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function fmt(v, digits) {
    if (v === null || v === undefined) return "";
    return String(Math.round(v * 10 ** digits) / 10 ** digits);
  }

  // ---- changes ---------------------------------------------------------------------------
  function change(payload, structural) {
    queue = queue.then(() => window.mixdownEdit("/mixer/change", payload)).then((r) => {
      root.dataset.edits = String(Number(root.dataset.edits || 0) + 1);
      return refresh(structural).then(() => {
        if (r && r.changed !== false) afterChange();
      });
    }).catch((err) => {
      if (err && err.status === 409 && root.dataset.conflict) return; // reloading
      return refresh(true);  // put the controls back to what the file says
    });
    return queue;
  }

  function afterChange() {
    if (document.getElementById("mixer-auto-render").checked) startRender();
  }

  async function refresh(rebuild) {
    const r = await fetch(api + "/mixer", { headers: { Accept: "application/json" } });
    if (!r.ok) return;
    state = await r.json();
    if (!root.dataset.conflict) root.dataset.revision = state.revision;
    if (rebuild !== false) build();
    else showMeters();
    await showHistory();
  }

  // ---- controls ----------------------------------------------------------------------------
  // A number control: a range input (optionally logarithmic) and a number box, both sending
  // the value on "change" (release, a key, Enter); the number box sends it as typed.
  function numberControl(key, opts, send) {
    const wrap = el("span", "mixer-number");
    const range = document.createElement("input");
    range.type = "range";
    const num = document.createElement("input");
    num.type = "number";
    num.step = "any";
    num.dataset.ctl = key + ":number";
    range.dataset.ctl = key + ":range";
    const log = opts.log && opts.min > 0;
    const toRange = (v) => log ? Math.log(v / opts.min) / Math.log(opts.max / opts.min) * 1000 : v;
    const fromRange = (x) => log ? opts.min * Math.pow(opts.max / opts.min, x / 1000) : x;
    if (log) { range.min = "0"; range.max = "1000"; range.step = "1"; }
    else { range.min = String(opts.min); range.max = String(opts.max); range.step = String(opts.step); }
    const show = (v) => {
      num.value = v === null || v === undefined ? "" : String(v);
      if (v !== null && v !== undefined) range.value = String(toRange(Math.min(opts.max, Math.max(opts.min, v))));
    };
    show(opts.value);
    range.addEventListener("input", () => {
      const v = fromRange(Number(range.value));
      num.value = log ? String(Number(v.toPrecision(4))) : range.value;
    });
    range.addEventListener("change", () => {
      const v = log ? Number(fromRange(Number(range.value)).toPrecision(4)) : Number(range.value);
      num.value = String(v);
      send(v);
    });
    num.addEventListener("change", () => {
      if (num.value.trim() === "" && opts.optional) { send(null); return; }
      const v = Number(num.value);
      if (num.value.trim() === "" || !Number.isFinite(v)) { show(opts.value); return; }
      if (v >= opts.min && v <= opts.max) range.value = String(toRange(v));
      send(v);
    });
    if (opts.label) range.setAttribute("aria-label", opts.label);
    if (opts.label) num.setAttribute("aria-label", opts.label + " (" + (opts.unit || "value") + ")");
    wrap.append(range, num);
    if (opts.unit) wrap.append(el("span", "unit", opts.unit));
    return { wrap, range, num };
  }

  function checkbox(key, label, checked, send) {
    const lab = el("label", "mixer-check");
    const c = document.createElement("input");
    c.type = "checkbox";
    c.checked = !!checked;
    c.dataset.ctl = key;
    c.addEventListener("change", () => send(c.checked));
    lab.append(c, document.createTextNode(" " + label));
    return lab;
  }

  function button(text, title, onClick) {
    const b = el("button", "mixer-small", text);
    b.type = "button";
    if (title) { b.title = title; b.setAttribute("aria-label", title); }
    b.addEventListener("click", onClick);
    return b;
  }

  function select(options, value, onChange, key) {
    const s = document.createElement("select");
    for (const [v, text] of options) {
      const o = el("option", null, text);
      o.value = v;
      s.append(o);
    }
    s.value = value;
    if (key) s.dataset.ctl = key;
    if (onChange) s.addEventListener("change", () => onChange(s.value));
    return s;
  }

  // ---- a strip ---------------------------------------------------------------------------
  function paramControl(strip, dev, p, key) {
    const row = el("div", "mixer-param");
    row.dataset.param = p.name;
    row.title = p.doc + (p.set ? "" : " (default)");
    row.append(el("span", "param-name", p.name));
    const send = (v) => change({ op: "param", strip: strip.ref, device: dev.index === -1 ? "instrument" : dev.index, param: p.name, value: v });
    if (p.kind === "bool") {
      row.append(checkbox(key, "", p.value, send));
    } else if (p.kind === "choice") {
      row.append(select(p.choices.map((c) => [c, c]), p.value, send, key));
    } else if (p.kind === "float" || p.kind === "int") {
      const lo = p.min === null ? Math.min(0, p.value) : p.min;
      const hi = p.max === null ? Math.max(lo + 1, p.value * 2, p.default * 2, 1) : p.max;
      const step = p.kind === "int" ? 1 : (hi - lo) / 200;
      const c = numberControl(key, { min: lo, max: hi, step: step, value: p.value, unit: p.unit,
        label: strip.name + " " + dev.type + " " + p.name, log: p.unit === "Hz" && lo > 0 },
      (v) => send(p.kind === "int" ? Math.round(v) : v));
      row.append(c.wrap);
    } else if (p.kind === "str") {
      const t = document.createElement("input");
      t.type = "text";
      t.value = p.value === null ? "" : String(p.value);
      t.dataset.ctl = key;
      t.addEventListener("change", () => send(t.value));
      row.append(t);
    } else {
      row.append(el("span", "param-note", "structured: edit in song.toml"));
    }
    return row;
  }

  function deviceBox(strip, dev, count) {
    const d = el("div", "mixer-device" + (dev.bypass ? " bypassed" : ""));
    d.dataset.device = String(dev.index);
    d.dataset.type = dev.type;
    const head = el("div", "device-head");
    head.append(el("strong", null, dev.name || dev.type));
    if (dev.kind === "instrument") head.append(el("span", "device-kind", "instrument"));
    const base = strip.key + ":dev" + dev.index;
    if (dev.index >= 0) {
      head.append(checkbox(base + ":bypass", "bypass", dev.bypass,
        (v) => change({ op: "bypass", strip: strip.ref, device: dev.index, value: v })));
      if (dev.index > 0) head.append(button("↑", "move " + dev.type + " up",
        () => change({ op: "move_device", strip: strip.ref, device: dev.index, to: dev.index - 1 }, true)));
      if (dev.index < count - 1) head.append(button("↓", "move " + dev.type + " down",
        () => change({ op: "move_device", strip: strip.ref, device: dev.index, to: dev.index + 1 }, true)));
      head.append(button("×", "remove " + dev.type,
        () => change({ op: "remove_device", strip: strip.ref, device: dev.index }, true)));
    }
    d.append(head);
    if (!dev.known) d.append(el("p", "param-note", "unknown device type"));
    const params = el("details", "device-params");
    params.open = dev.kind !== "instrument" || openDetails.has(base);
    params.addEventListener("toggle", () => {
      if (params.open) openDetails.add(base); else openDetails.delete(base);
    });
    params.append(el("summary", null, dev.params.length + " parameters"));
    for (const p of dev.params) params.append(paramControl(strip, dev, p, base + ":" + p.name));
    d.append(params);
    return d;
  }

  function meterBox(key) {
    const m = el("div", "mixer-meter");
    m.dataset.meter = key;
    const bars = el("div", "meter-bars");
    const peak = el("div", "meter-peak");
    const rms = el("div", "meter-rms");
    bars.append(peak, rms);
    m.append(bars, el("div", "meter-text"));
    return m;
  }

  function strip(s) {
    s.ref = s.kind === "master" ? { kind: "master" } : { kind: s.kind, name: s.name };
    const sec = el("section", "strip strip-" + s.kind);
    sec.dataset.strip = s.key;
    const head = el("header", "strip-head");
    head.append(el("h2", null, s.kind === "master" ? "Master" : s.name),
      el("span", "strip-kind", s.kind === "master" ? "" : s.kind + (s.output !== "master" ? " → " + s.output : "")));
    sec.append(head, meterBox(s.key));

    const vr = state.view.volume_range_db;
    const fader = numberControl(s.key + ":volume_db",
      { min: Math.max(vr[0], -60), max: vr[1], step: 0.5, value: s.volume_db, unit: "dB", label: s.name + " volume" },
      (v) => change({ op: "set", strip: s.ref, field: "volume_db", value: v }));
    fader.wrap.classList.add("mixer-fader");
    fader.range.dataset.field = "volume_db";
    fader.num.dataset.field = "volume_db";
    sec.append(fader.wrap);

    if (s.kind !== "master") {
      const pan = numberControl(s.key + ":pan", { min: -1, max: 1, step: 0.01, value: s.pan, label: s.name + " pan", unit: "pan" },
        (v) => change({ op: "set", strip: s.ref, field: "pan", value: v }));
      pan.range.dataset.field = "pan";
      pan.num.dataset.field = "pan";
      sec.append(pan.wrap);
      const flags = el("div", "strip-flags");
      for (const [field, label] of [["mute", "M"], ["solo", "S"], ["phase_invert", "Ø"]]) {
        const c = checkbox(s.key + ":" + field, label, s[field],
          (v) => change({ op: "set", strip: s.ref, field: field, value: v }));
        c.title = field.replace("_", " ");
        c.querySelector("input").dataset.field = field;
        flags.append(c);
      }
      sec.append(flags);

      const sends = el("div", "strip-sends");
      sends.append(el("h3", null, "Sends"));
      for (const snd of s.sends) {
        const row = el("div", "mixer-send");
        row.dataset.send = snd.to;
        row.append(el("span", "send-to", "→ " + snd.to + (snd.pre_fader ? " (pre)" : "")));
        const c = numberControl(s.key + ":send:" + snd.to, { min: -60, max: vr[1], step: 0.5, value: snd.level_db, unit: "dB", label: s.name + " send to " + snd.to },
          (v) => change({ op: "send", strip: s.ref, to: snd.to, level_db: v }));
        row.append(c.wrap, button("×", "remove the send to " + snd.to,
          () => change({ op: "remove_send", strip: s.ref, to: snd.to }, true)));
        sends.append(row);
      }
      const free = state.view.buses.filter((b) => b !== s.name && !s.sends.some((x) => x.to === b));
      if (free.length) {
        const pick = select(free.map((b) => [b, b]), free[0], null, s.key + ":newsend");
        sends.append(el("div", "mixer-add", null));
        sends.lastChild.append(pick, button("+ send", "add a send",
          () => change({ op: "send", strip: s.ref, to: pick.value, level_db: -12 }, true)));
      }
      sec.append(sends);
    } else {
      const t = el("div", "strip-target");
      t.append(el("h3", null, "Target"));
      const opts = [["", "none (no loudness target)"]].concat(state.targets.map((n) => [n, n]));
      const known = state.targets.includes(s.target) || !s.target;
      if (!known) opts.push([s.target, s.target]);
      t.append(select(opts, s.target || "", (v) => change({ op: "set", strip: s.ref, field: "target", value: v || null }), "master:target"));
      for (const [field, label, lo, hi] of [["target_lufs", "LUFS", -40, 0], ["ceiling_dbtp", "ceiling dBTP", -6, 0]]) {
        const row = el("div", "mixer-param");
        row.append(el("span", "param-name", label));
        const c = numberControl("master:" + field, { min: lo, max: hi, step: 0.1, value: s[field], optional: true, label: "master " + label },
          (v) => change({ op: "set", strip: s.ref, field: field, value: v }));
        c.num.dataset.field = field;
        row.append(c.wrap);
        t.append(row);
      }
      sec.append(t);
    }

    const chain = el("div", "strip-devices");
    chain.append(el("h3", null, "Devices"));
    const inserts = s.devices.filter((d) => d.index >= 0).length;
    for (const dev of s.devices) chain.append(deviceBox(s, dev, inserts));
    const pick = select(state.view.device_types.map((t) => [t, t]), "eq", null, s.key + ":newdevice");
    const add = el("div", "mixer-add");
    add.append(pick, button("+ device", "add a device",
      () => change({ op: "add_device", strip: s.ref, type: pick.value }, true)));
    chain.append(add);
    sec.append(chain);
    return sec;
  }

  function build() {
    const focused = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.ctl : null;
    if (!state.view) {  // song.toml does not load (an outside edit): undo can fix it
      const p = el("p", "message mixer-error", "song.toml does not load: " + state.error);
      p.setAttribute("role", "alert");
      box.replaceChildren(p);
      return;
    }
    box.replaceChildren(...state.view.strips.map(strip));
    if (focused) {
      const again = box.querySelector(`[data-ctl="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
    showMeters();
  }

  // ---- meters and the render -------------------------------------------------------------
  function pct(db) { return Math.max(0, Math.min(100, (db + 60) / 60 * 100)); }

  function showMeters() {
    const m = state.meters;
    const note = document.getElementById("mixer-meter-note");
    const audio = document.getElementById("mixer-audio");
    if (!m) {
      note.textContent = "No meters yet: render to measure every strip.";
      return;
    }
    const stale = m.revision !== root.dataset.revision;
    note.textContent = (stale ? "Meters from an earlier version of the mix (render to update). " : "Meters from the last render")
      + (m.section ? " of the section " + m.section + ". " : (stale ? "" : ". "))
      + (m.pre_target ? "The master is measured before its loudness target." : "");
    note.dataset.stale = stale ? "1" : "0";
    for (const box of document.querySelectorAll("[data-meter]")) {
      const v = m.strips[box.dataset.meter];
      box.classList.toggle("stale", stale);
      if (!v) { box.querySelector(".meter-text").textContent = "—"; continue; }
      box.dataset.peak = String(v.peak_dbfs);
      box.dataset.rms = String(v.rms_dbfs);
      box.dataset.lufs = String(v.short_term_lufs);
      box.querySelector(".meter-peak").style.height = pct(v.peak_dbfs) + "%";
      box.querySelector(".meter-rms").style.height = pct(v.rms_dbfs) + "%";
      box.querySelector(".meter-text").textContent =
        "peak " + fmt(v.peak_dbfs, 1) + " dBFS · RMS " + fmt(v.rms_dbfs, 1) + " dBFS · short-term max "
        + fmt(v.short_term_lufs, 1) + " LUFS";
      box.title = "integrated " + fmt(v.integrated_lufs, 1) + " LUFS";
    }
    const src = songUrl + "/mixer/preview/" + (m.name || m.revision) + ".wav";
    if (audio.dataset.src !== src) {
      audio.dataset.src = src;
      audio.src = src;
    }
    audio.hidden = false;
  }

  let rendering = false;
  let again = false;
  async function startRender() {
    if (rendering) { again = true; return; }
    rendering = true;
    const job = document.getElementById("mixer-job");
    const bar = document.getElementById("mixer-progress");
    root.dataset.renderState = "running";
    try {
      const section = document.getElementById("mixer-section").value || null;
      const r = await fetch(songUrl + "/mixer/render", { method: "POST",
        headers: { "X-CSRF-Token": document.body.dataset.csrf, Accept: "application/json",
                   "Content-Type": "application/json" },
        body: JSON.stringify({ section: section }) });
      const data = await r.json();
      if (!r.ok) throw new Error((data.error && data.error.message) || "error " + r.status);
      bar.hidden = false;
      await new Promise((resolve, reject) => {
        const src = new EventSource(data.events);
        src.addEventListener("progress", (e) => {
          const p = JSON.parse(e.data);
          bar.value = p.percent;
          job.textContent = p.message + " " + Math.round(p.percent) + "%";
        });
        src.addEventListener("done", (e) => {
          src.close();
          const p = JSON.parse(e.data);
          state.meters = p.result.meters;
          resolve();
        });
        src.addEventListener("failed", (e) => {
          src.close();
          reject(new Error(JSON.parse(e.data).message));
        });
        src.onerror = () => { if (src.readyState === EventSource.CLOSED) reject(new Error("lost the render's progress")); };
      });
      bar.value = 100;
      job.textContent = "rendered";
      root.dataset.renderState = "done";
      root.dataset.renders = String(Number(root.dataset.renders || 0) + 1);
      showMeters();
    } catch (err) {
      job.textContent = "render failed: " + err.message;
      root.dataset.renderState = "failed";
    } finally {
      rendering = false;
      if (again) { again = false; startRender(); }
    }
  }

  async function showHistory() {
    const list = document.getElementById("mixer-history");
    const r = await fetch(api + "/history", { headers: { Accept: "application/json" } });
    if (!r.ok) return;
    const h = await r.json();
    list.reversed = true;
    list.replaceChildren(...h.steps.map((s, i) => {
      const li = el("li", (i < h.position ? "done" : "undone") + (s.kind === "external" ? " external" : ""), s.label);
      if (s.author) li.append(el("span", "who", " · " + s.author));
      return li;
    }).reverse());
  }

  // ---- wiring ----------------------------------------------------------------------------
  const sectionPick = document.getElementById("mixer-section");
  for (const name of state.sections || []) {
    const o = el("option", null, "section: " + name);
    o.value = name;
    sectionPick.append(o);
  }
  const auto = document.getElementById("mixer-auto-render");
  auto.checked = localStorage.getItem(AUTO) === "1";
  auto.addEventListener("change", () => localStorage.setItem(AUTO, auto.checked ? "1" : "0"));
  document.getElementById("mixer-render-button").addEventListener("click", startRender);
  root.addEventListener("mixdown:reload", () => {
    queue = queue.then(() => refresh(true)).then(() => {
      root.dataset.edits = String(Number(root.dataset.edits || 0) + 1);
      afterChange();
    });
  });
  build();
  showHistory().then(() => { root.dataset.ready = "1"; });
  window.mixdownMixer = { state: () => state, render: startRender, change: change };
})();
