// The comp panel: one lane per take over the bar ruler and the comp on top. Clicking a
// take's lane in a bar plays that take in that bar (whole bars merge into ranges); the
// table edits any range in bar:beat. Save sends the ranges and the crossfade as one edit
// (window.mixdownEdit, one undo step); the checker's refusal is shown by edit.js.
(function () {
  "use strict";
  const root = document.getElementById("comp");
  const data = document.getElementById("comp-state");
  if (!root || !data) return;
  const state = JSON.parse(data.textContent);
  if (!state.takes.length) return;
  const lanes = document.getElementById("comp-timeline");
  const body = document.querySelector("#comp-ranges tbody");
  const total = state.bar_s[state.bar_s.length - 1] || 1;
  const pct = (s) => (100 * s / total) + "%";
  let ranges = state.comp.map((r) => ({ start: r.start, end: r.end, take: r.take }));

  function wholeBar(pos) {  // "N:1" or "N" -> N, else null
    const m = /^\s*(\d+)(?::1(?:\.0*)?)?\s*$/.exec(String(pos));
    return m ? parseInt(m[1], 10) : null;
  }

  function barSeconds(pos) {
    const m = /^\s*(\d+)(?::([\d.]+))?\s*$/.exec(String(pos));
    if (!m) return null;
    const bar = parseInt(m[1], 10), beat = m[2] ? parseFloat(m[2]) : 1;
    const a = state.bar_s[bar - 1], b = state.bar_s[bar];
    if (a === undefined) return null;
    const beats = 4;  // drawing only: a bar's beats spread evenly
    return b === undefined ? a : a + (b - a) * (beat - 1) / beats;
  }

  function pick(bar, take) {
    const perBar = {}, other = [];
    for (const r of ranges) {
      const a = wholeBar(r.start), b = wholeBar(r.end);
      if (a === null || b === null || b <= a) { other.push(r); continue; }
      for (let n = a; n < b; n++) perBar[n] = r.take;
    }
    perBar[bar] = take;
    const bars = Object.keys(perBar).map(Number).sort((x, y) => x - y);
    const merged = [];
    for (const n of bars) {
      const last = merged[merged.length - 1];
      if (last && last.take === perBar[n] && last.endBar === n) last.endBar = n + 1;
      else merged.push({ startBar: n, endBar: n + 1, take: perBar[n] });
    }
    ranges = other.concat(merged.map((m) => ({ start: m.startBar + ":1", end: m.endBar + ":1",
                                               take: m.take })));
    draw();
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function lane(label, name) {
    const l = el("div", "comp-lane");
    l.dataset.lane = name;
    l.appendChild(el("span", "comp-label", label));
    lanes.appendChild(l);
    return l;
  }

  function draw() {
    lanes.textContent = "";
    const ruler = lane("", "ruler");
    for (let n = 1; n <= state.bars; n++) {
      const m = el("div", "comp-bar", String(n));
      m.style.left = pct(state.bar_s[n - 1]);
      ruler.appendChild(m);
    }
    const comp = lane("comp", "comp");
    for (const r of ranges) {
      const a = barSeconds(r.start), b = barSeconds(r.end);
      if (a === null || b === null) continue;
      const box = el("div", "comp-range", r.take);
      box.style.left = pct(a); box.style.width = pct(Math.max(b - a, 0));
      comp.appendChild(box);
    }
    for (const t of state.takes) {
      const l = lane(t.name, t.name);
      const span = el("div", "comp-span");
      span.style.left = pct(t.start_s); span.style.width = pct(t.end_s - t.start_s);
      l.appendChild(span);
      for (let n = 1; n <= state.bars; n++) {
        const cell = el("div", "comp-bar");
        cell.style.left = pct(state.bar_s[n - 1]);
        cell.style.width = pct(state.bar_s[n] - state.bar_s[n - 1]);
        cell.dataset.bar = String(n);
        cell.title = t.name + " in bar " + n;
        cell.addEventListener("click", () => pick(n, t.name));
        l.appendChild(cell);
      }
    }
    body.textContent = "";
    ranges.forEach((r, i) => {
      const tr = el("tr");
      for (const key of ["start", "end"]) {
        const td = el("td"), inp = el("input");
        inp.type = "text"; inp.value = r[key]; inp.dataset.key = key;
        inp.addEventListener("change", () => { r[key] = inp.value.trim(); draw(); });
        td.appendChild(inp); tr.appendChild(td);
      }
      const td = el("td"), sel = el("select");
      for (const t of state.takes) {
        const o = el("option", "", t.name); o.value = t.name; sel.appendChild(o);
      }
      sel.value = r.take;
      sel.addEventListener("change", () => { r.take = sel.value; draw(); });
      td.appendChild(sel); tr.appendChild(td);
      const del = el("button", "", "Remove"); del.type = "button";
      del.addEventListener("click", () => { ranges.splice(i, 1); draw(); });
      const td2 = el("td"); td2.appendChild(del); tr.appendChild(td2);
      body.appendChild(tr);
    });
  }

  document.getElementById("comp-add").addEventListener("click", () => {
    ranges.push({ start: "1:1", end: "2:1", take: state.takes[state.takes.length - 1].name });
    draw();
  });
  document.getElementById("comp-save").addEventListener("click", () => {
    const xf = parseFloat(document.getElementById("comp-crossfade").value);
    window.mixdownEdit("/record/comp", {
      track: state.track, ranges: ranges,
      crossfade_s: Number.isFinite(xf) ? xf : null,
    }).then(() => { root.dataset.saved = "1"; }).catch(() => {});
  });
  root.addEventListener("mixdown:reload", () => window.location.reload());
  draw();
})();
