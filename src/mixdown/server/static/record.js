// The record panel: count-in and click at the song's tempo (Web Audio, scheduled), the newest
// version playing from the bar, the microphone captured sample-exactly by an AudioWorklet
// (record-worklet.js) between two frames of the AudioContext, uploaded as a float WAV.
(() => {
  "use strict";
  const panel = document.getElementById("record-panel");
  if (!panel) return;
  const song = panel.dataset.song;
  const rate = Number(panel.dataset.sampleRate) || 48000;
  const csrf = () => document.body.dataset.csrf;
  const status = document.getElementById("record-status");
  const beats = document.getElementById("record-beats");
  const LEAD_S = 0.4; // scheduling margin before the first click

  const say = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
  };

  async function json(response) {
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error((body.error && body.error.message) || `${response.status}`);
    }
    return body;
  }

  async function openInput(ctx) {
    await ctx.audioWorklet.addModule("/static/record-worklet.js");
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    const source = ctx.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(ctx, "mixdown-recorder", {
      numberOfInputs: 1, numberOfOutputs: 1, channelCount: 2, channelCountMode: "explicit",
    });
    const silent = ctx.createGain();
    silent.gain.value = 0;
    source.connect(node);
    node.connect(silent);
    silent.connect(ctx.destination);
    const device = stream.getAudioTracks()[0].label || "default";
    return { stream, node, device };
  }

  // Capture frames [start, stop) of the context; resolves to Float32Arrays per channel.
  function capture(node, start, stop) {
    const parts = [];
    return new Promise((resolve) => {
      node.port.onmessage = (event) => {
        if (event.data.done) {
          const n = parts.reduce((s, p) => s + p[0].length, 0);
          const out = parts[0].map(() => new Float32Array(n));
          let at = 0;
          for (const p of parts) {
            p.forEach((ch, c) => out[c].set(ch, at));
            at += p[0].length;
          }
          resolve(out);
        } else {
          parts.push(event.data.channels);
        }
      };
      node.port.postMessage({ start, stop });
    });
  }

  // A 32-bit float WAV of the channels at `sr`.
  function wav(channels, sr) {
    const n = channels[0].length;
    const ch = channels.length;
    const buffer = new ArrayBuffer(44 + n * ch * 4);
    const v = new DataView(buffer);
    const text = (o, s) => [...s].forEach((c, i) => v.setUint8(o + i, c.charCodeAt(0)));
    text(0, "RIFF"); v.setUint32(4, 36 + n * ch * 4, true); text(8, "WAVE");
    text(12, "fmt "); v.setUint32(16, 16, true); v.setUint16(20, 3, true);
    v.setUint16(22, ch, true); v.setUint32(24, sr, true); v.setUint32(28, sr * ch * 4, true);
    v.setUint16(32, ch * 4, true); v.setUint16(34, 32, true);
    text(36, "data"); v.setUint32(40, n * ch * 4, true);
    let o = 44;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < ch; c++) { v.setFloat32(o, channels[c][i], true); o += 4; }
    }
    return new Blob([buffer], { type: "audio/wav" });
  }

  function click(ctx, at, accent) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = accent ? 1760 : 880;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(accent ? 0.5 : 0.3, at + 0.002);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.05);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start(at);
    osc.stop(at + 0.06);
  }

  async function songBuffer(ctx, version) {
    if (version === null || version === undefined) return null;
    const r = await fetch(`/songs/${encodeURIComponent(song)}/versions/${version}/audio`);
    if (!r.ok) return null;
    return ctx.decodeAudioData(await r.arrayBuffer());
  }

  async function record(event) {
    event.preventDefault();
    const button = document.getElementById("record-button");
    button.disabled = true;
    let ctx = null;
    let input = null;
    try {
      ctx = new AudioContext({ sampleRate: rate });
      await ctx.resume();
      input = await openInput(ctx);
      const q = new URLSearchParams({
        track: document.getElementById("record-track").value,
        bar: document.getElementById("record-bar").value,
        count_in: document.getElementById("record-count-in").value,
        bars: document.getElementById("record-bars").value,
        device: input.device,
      });
      const plan = await json(await fetch(`/songs/${encodeURIComponent(song)}/record/plan?${q}`));
      const playSong = document.getElementById("record-play-song").checked;
      const buffer = playSong ? await songBuffer(ctx, plan.latest_version) : null;
      const sr = ctx.sampleRate;
      const t0 = ctx.currentTime + LEAD_S; // the recording's first frame
      const start = Math.round(t0 * sr);
      const barFrame = start + Math.round(plan.count_in_s * sr);
      const stop = barFrame + Math.round(plan.length_s * sr);
      const tBar = barFrame / sr;
      beats.replaceChildren();
      for (const [at, accent] of plan.clicks) {
        click(ctx, tBar + at, accent);
        const li = document.createElement("li");
        li.className = accent ? "accent" : "";
        beats.append(li);
        const wait = (tBar + at - ctx.currentTime) * 1000;
        setTimeout(() => li.classList.add("on"), Math.max(0, wait));
      }
      if (buffer) {
        const src = ctx.createBufferSource();
        src.buffer = buffer;
        src.connect(ctx.destination);
        const from = plan.bar_s - plan.count_in_s; // the song's pre-roll, where there is one
        if (from >= 0) src.start(start / sr, from);
        else src.start(start / sr - from, 0);
        status.dataset.songFrom = String(from); // where in the version playback began (s)
      }
      say("counting", `Count-in: ${plan.count_in_bars} bar(s)…`);
      const recTimer = setTimeout(() => say("recording", `● Recording ${plan.bars} bars into ` +
        `${plan.track} from bar ${plan.bar}…`), Math.max(0, (tBar - ctx.currentTime) * 1000));
      const channels = await capture(input.node, start, stop);
      clearTimeout(recTimer);
      say("uploading", "Storing the take…");
      const up = new URLSearchParams({
        track: plan.track, bar: String(plan.bar), device: input.device,
        pre_roll_s: String((barFrame - start) / sr),
      });
      const took = await json(await fetch(`/songs/${encodeURIComponent(song)}/record?${up}`, {
        method: "POST", body: wav(channels, sr),
        headers: { "X-CSRF-Token": csrf(), "Content-Type": "audio/wav",
                   "X-Song-Revision": panel.dataset.revision || "" },
      }));
      status.dataset.result = JSON.stringify(took);
      document.getElementById("latency-value").textContent = took.latency_s > 0
        ? `${(took.latency_s * 1000).toFixed(2)} ms on ${input.device}`
        : `not measured yet for ${input.device}`;
      if (took.revision) panel.dataset.revision = took.revision;
      say("done", `Recorded ${took.take} on ${took.track} at bar ${took.bar} ` +
        `(${took.file}; latency ${(took.latency_s * 1000).toFixed(1)} ms compensated).`);
    } catch (err) {
      say("error", String(err.message || err));
    } finally {
      if (input) input.stream.getTracks().forEach((t) => t.stop());
      if (ctx) ctx.close();
      button.disabled = false;
    }
  }

  async function calibrate() {
    const shown = document.getElementById("latency-value");
    let ctx = null;
    let input = null;
    try {
      ctx = new AudioContext({ sampleRate: rate });
      await ctx.resume();
      input = await openInput(ctx);
      const r = await fetch(`/record/probe.wav?rate=${ctx.sampleRate}`);
      const probe = await ctx.decodeAudioData(await r.arrayBuffer());
      const sr = ctx.sampleRate;
      const start = Math.round((ctx.currentTime + LEAD_S) * sr);
      const src = ctx.createBufferSource();
      src.buffer = probe;
      src.connect(ctx.destination);
      src.start(start / sr);
      shown.textContent = "measuring…";
      const channels = await capture(input.node, start, start + Math.round(1.5 * sr));
      const q = new URLSearchParams({ device: input.device });
      const m = await json(await fetch(`/record/calibrate?${q}`, {
        method: "POST", body: wav(channels, sr),
        headers: { "X-CSRF-Token": csrf(), "Content-Type": "audio/wav" },
      }));
      shown.textContent = `${(m.latency_s * 1000).toFixed(2)} ms on ${m.device}`;
      shown.dataset.latency = String(m.latency_s);
    } catch (err) {
      shown.textContent = `not measured: ${err.message || err}`;
    } finally {
      if (input) input.stream.getTracks().forEach((t) => t.stop());
      if (ctx) ctx.close();
    }
  }

  const form = document.getElementById("record-form");
  if (form) form.addEventListener("submit", record);
  document.getElementById("calibrate-button").addEventListener("click", calibrate);
})();
