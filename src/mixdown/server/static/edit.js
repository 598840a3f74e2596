// The studio's edit client: every change is POSTed as JSON with the revision of song.toml
// this page loaded (X-Song-Revision). The answer carries the new revision. A 409 (another
// tab or an editor changed the song) shows the message and reloads the page; any other
// refusal (422: the checker's message) is shown and the page keeps its state.
//
// Pages mark their root element with data-song-edit="/songs/NAME" and
// data-revision="SHA"; buttons [data-undo] / [data-redo] and a [data-edit-message] box
// inside it are wired here. Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y) undo and redo.
(function () {
  "use strict";
  const csrf = () => document.body.dataset.csrf;

  function root() { return document.querySelector("[data-song-edit]"); }

  function say(text, kind) {
    const box = document.querySelector("[data-edit-message]");
    if (!box) return;
    box.textContent = text || "";
    box.dataset.kind = kind || "";
  }

  function showHistory(r) {
    const u = document.querySelector("[data-undo]");
    const d = document.querySelector("[data-redo]");
    if (u) { u.disabled = !r.can_undo; u.title = r.undo_label ? "Undo: " + r.undo_label : ""; }
    if (d) { d.disabled = !r.can_redo; d.title = r.redo_label ? "Redo: " + r.redo_label : ""; }
  }

  async function post(path, payload) {
    const el = root();
    if (!el) throw new Error("this page cannot edit a song");
    const r = await fetch(el.dataset.songEdit + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRF-Token": csrf(), "X-Song-Revision": el.dataset.revision },
      body: JSON.stringify(payload || {}),
    });
    let data = {};
    try { data = await r.json(); } catch (e) { data = {}; }
    if (r.ok) {
      el.dataset.revision = data.revision;
      showHistory(data);
      say(data.changed === false ? "no change" : (data.label || "saved"), "ok");
      el.dispatchEvent(new CustomEvent("mixdown:edited", { detail: data, bubbles: true }));
      return data;
    }
    const message = (data.error && data.error.message) || ("error " + r.status);
    if (r.status === 409 && message.indexOf("changed since") >= 0) {
      say(message + " (reloading)", "conflict");
      el.dataset.conflict = "1";
      setTimeout(() => window.location.reload(), 1500);
    } else {
      say(message, "error");
    }
    const err = new Error(message);
    err.status = r.status;
    throw err;
  }

  window.mixdownEdit = post;

  function wire() {
    const el = root();
    if (!el) return;
    const u = document.querySelector("[data-undo]");
    const d = document.querySelector("[data-redo]");
    const run = (p) => post(p).then(() => {
      el.dispatchEvent(new CustomEvent("mixdown:reload", { bubbles: true }));
    }).catch(() => {});
    if (u) u.addEventListener("click", () => run("/undo"));
    if (d) d.addEventListener("click", () => run("/redo"));
    document.addEventListener("keydown", (e) => {
      if (!(e.ctrlKey || e.metaKey) || e.target.matches("input[type=text], textarea")) return;
      const k = e.key.toLowerCase();
      if (k === "z" && !e.shiftKey) { e.preventDefault(); run("/undo"); }
      else if (k === "y" || (k === "z" && e.shiftKey)) { e.preventDefault(); run("/redo"); }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
