"""The web studio (``mixdown serve``): start-up, page latency, waveform ready time.

* start-up: from launching ``mixdown serve`` to its printed address (it listens then);
* the songs page of a folder of 50 songs (each with a version) and a version page: median
  HTTP latency over warm requests (a real uvicorn, one keep-alive connection);
* a 10-minute version's page: its server time, and in Debian's chromium the time from
  navigation to the waveform drawn (peaks precomputed, no audio decoded for it).

Figures only, never asserted. ``python -m benchmarks.bench_serve`` runs this suite alone and
writes results/serve.json.
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import soundfile as sf

from mixdown.services import review

SONGS = 50
WARM = 5
TIMED = 40
LONG_S = 600.0

SONG = """\
schema_version = 1

[song]
title = "{title}"
tempo = 120
time_signature = [4, 4]
sample_rate = 48000
length = "{bars}:1"

[[marker]]
name = "Intro"
at = "1:1"

[[marker]]
name = "Chorus"
at = "5:1"

[[track]]
name = "Pad"
instrument = {{ type = "synth", preset = "pad" }}

[[track.clips]]
start = "1:1"
length = 8
notes = [["A3", 0, 4, 90], ["E4", 4, 4, 80]]
"""


def _song(folder: Path, name: str, bars: int = 3) -> Path:
    (folder / name).mkdir(parents=True, exist_ok=True)
    (folder / name / "song.toml").write_text(SONG.format(title=name.title(), bars=bars))
    return folder / name


def make_folder(work: Path) -> Path:
    """50 songs with a version each (one render, kept 50 times) and a 10-minute song."""
    songs = work / "songs"
    if (songs / "mixdown.db").exists():
        return songs
    shutil.rmtree(songs, ignore_errors=True)
    first = _song(songs, "song-00")
    with review.open_studio(songs) as studio:
        v = review.render_version(studio, "song-00", "bench")
        audio = review.version_audio_path(studio, v)
    for i in range(1, SONGS):
        review.keep_version(_song(songs, f"song-{i:02d}"), audio, "bench")
    long = _song(songs, "long", bars=int(LONG_S / 2) + 1)
    sr = 48000
    rng = np.random.default_rng(3)
    wav = work / "long.wav"
    with sf.SoundFile(wav, "w", sr, 2, "PCM_16") as f:
        for start in range(0, int(LONG_S * sr), sr * 10):
            n = min(sr * 10, int(LONG_S * sr) - start)
            t = (start + np.arange(n)) / sr
            env = 0.2 + 0.15 * np.sin(2 * np.pi * t / 30)
            x = env * (np.sin(2 * np.pi * 110 * t) + 0.1 * rng.standard_normal(n))
            f.write(np.stack([x, x], axis=1).astype(np.float32))
    review.keep_version(long, wav, "ten minutes")
    del first
    return songs


def _start(songs: Path) -> tuple[subprocess.Popen[str], str, float]:
    mixdown = str(Path(sys.executable).with_name("mixdown"))
    t = time.perf_counter()
    proc = subprocess.Popen([mixdown, "serve", str(songs), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    return proc, url, time.perf_counter() - t


def _latency(url: str, path: str) -> dict[str, float]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    times = []
    for i in range(WARM + TIMED):
        t = time.perf_counter()
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        dt = time.perf_counter() - t
        if r.status != 200:
            raise RuntimeError(f"{path}: {r.status} {body[:200]!r}")
        if i >= WARM:
            times.append(dt)
    conn.close()
    return {"median_ms": 1000 * statistics.median(times), "min_ms": 1000 * min(times),
            "bytes": len(body)}


def _waveform_ready_ms(url: str) -> dict[str, float]:
    """Navigation start to the waveform drawn, in chromium (first and warm visit)."""
    from playwright.sync_api import sync_playwright

    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update"]
    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
        page = browser.new_page()
        for label in ("first_visit_ms", "warm_visit_ms"):
            page.goto(url + "songs/long/versions/1")
            deadline = time.monotonic() + 60
            while not page.evaluate("document.body.dataset.waveformReadyMs"):
                if time.monotonic() > deadline:
                    raise RuntimeError("the waveform was never drawn")
                page.wait_for_timeout(10)
            out[label] = float(page.evaluate("document.body.dataset.waveformReadyMs"))
        browser.close()
    return out


def run(work: Path) -> dict[str, Any]:
    """Build the folder once, then time a fresh server."""
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    songs = make_folder(work)
    setup_s = time.perf_counter() - t
    proc, url, startup_s = _start(songs)
    try:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        t = time.perf_counter()
        conn.request("GET", "/songs/long/versions/1")
        cold = conn.getresponse()
        cold.read()
        long_cold_ms = 1000 * (time.perf_counter() - t)
        conn.close()
        result = {
            "songs": SONGS,
            "setup_s": setup_s,
            "startup_s": startup_s,
            "songs_page": _latency(url, "/"),
            "version_page": _latency(url, "/songs/song-07/versions/1"),
            "long_version_page_first_ms": long_cold_ms,
            "long_version_page": _latency(url, "/songs/long/versions/1"),
            "long_waveform_browser": _waveform_ready_ms(url),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return result


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    figures = run(here / "work" / "bench_serve")
    (here / "results").mkdir(exist_ok=True)
    (here / "results" / "serve.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
