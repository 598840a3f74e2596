"""Review studio benchmark (issue 10): what ``mixdown serve``'s pages need, warm.

* the songs page's data (:func:`list_songs`) for a folder of 50 songs with 3 versions each;
* a version page's data: the version, its comments (20, placed in its tempo map), sections,
  peaks, loudness curve and the comparison with the version before;
* the waveform of a 10-minute version: peaks read from the store by a fresh studio (cold)
  and from its cache (warm), and their JSON (audiowaveform format, 200 points/s).

Versions are kept from one real render (a short song) copied into each song, so the 50-song
folder is quick to build; the 10-minute version is noise written as a 24-bit WAV. Figures
only (medians of repeated runs); nothing here is asserted.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from mixdown.db import ENV_VAR
from mixdown.services import review as rv
from mixdown.services.render import render_project

SONGS = 50
VERSIONS = 3
COMMENTS = 20
REPEATS = 30
SONG = """\
schema_version = 1

[song]
title = "Bench {k}"
tempo = {tempo}
length = "9:1"
tail_s = 0.5

[[marker]]
name = "Verse"
at = "1:1"

[[marker]]
name = "Chorus"
at = "5:1"

[[track]]
name = "Keys"
instrument = {{ type = "synth", preset = "pad" }}
volume_db = {db}

[[track.clips]]
start = "1:1"
length = 32
notes = [["A3", 0, 16], ["E4", 16, 16]]
"""


def _median_ms(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def _songs_folder(work: Path) -> Path:
    songs = work / "songs"
    if songs.exists():
        shutil.rmtree(songs)
    songs.mkdir(parents=True)
    for k in range(SONGS):
        folder = songs / f"song-{k:02d}"
        folder.mkdir()
        (folder / "song.toml").write_text(SONG.format(k=k, tempo=100 + k, db=-6 - k % 5))
    return songs


def run(work: Path) -> dict[str, Any]:
    """Build the folders, time the calls, return the figures (ms)."""
    import os

    os.environ.pop(ENV_VAR, None)
    work.mkdir(parents=True, exist_ok=True)
    songs = _songs_folder(work)
    mix = work / "mix.wav"
    render_project(songs / "song-00", mix)
    t = time.perf_counter()
    for k in range(SONGS):
        for v in range(VERSIONS):
            rv.keep_version(songs / f"song-{k:02d}", mix, f"take {v + 1}")
    keep_s = (time.perf_counter() - t) / (SONGS * VERSIONS)
    out: dict[str, Any] = {"songs": SONGS, "versions_per_song": VERSIONS,
                           "keep_version_ms": 1000 * keep_s}
    with rv.open_studio(songs) as studio:
        t = time.perf_counter()
        rv.list_songs(studio)
        out["songs_page_cold_ms"] = 1000 * (time.perf_counter() - t)
        out["songs_page_warm_median_ms"] = _median_ms(lambda: rv.list_songs(studio))
        song = "song-07"
        v = rv.get_version(studio, song, VERSIONS)
        for i in range(COMMENTS):
            rv.add_comment(studio, v, bar=1 + i % 8, beat=1 + i % 4, text=f"note {i}",
                           author="bench")

        def version_page() -> dict[str, Any]:
            ver = rv.get_version(studio, song, VERSIONS)
            before = rv.get_version(studio, song, VERSIONS - 1)
            return {"version": ver.as_dict(),
                    "comments": [c.as_dict() for c in rv.list_comments(studio, ver)],
                    "sections": [s.name for s in rv.sections(studio, ver)],
                    "peaks": rv.peaks(studio, ver, points_per_second=50).points,
                    "curve": rv.loudness_curve(studio, ver).as_dict(),
                    "compare": rv.compare(studio, before, ver).as_dict(),
                    "statuses": [s.as_dict() for s in rv.status_history(studio, ver)]}

        version_page()
        out["version_page_warm_median_ms"] = _median_ms(version_page)
    out.update(_ten_minutes(work))
    return out


def _ten_minutes(work: Path) -> dict[str, Any]:
    songs = work / "long"
    if songs.exists():
        shutil.rmtree(songs)
    (songs / "epic").mkdir(parents=True)
    (songs / "epic" / "song.toml").write_text(SONG.format(k=0, tempo=120, db=-6))
    wav = work / "ten-minutes.wav"
    sr, seconds = 48_000, 600
    rng = np.random.default_rng(7)
    with sf.SoundFile(wav, "w", sr, 2, subtype="PCM_24") as f:
        for start in range(0, seconds, 10):
            env = 0.1 + 0.4 * abs(np.sin(start / 60))
            f.write((rng.standard_normal((10 * sr, 2)) * env * 0.3).astype(np.float32))
    t = time.perf_counter()
    version = rv.keep_version(songs / "epic", wav, "ten minutes")
    keep_s = time.perf_counter() - t
    wav.unlink()
    with rv.open_studio(songs) as studio:
        v = rv.get_version(studio, "epic", version.number)
        t = time.perf_counter()
        p = rv.peaks(studio, v)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        body = json.dumps(p.as_dict())
        json_s = time.perf_counter() - t
        warm = _median_ms(lambda: rv.peaks(studio, v))
        cached_json = _median_ms(lambda: rv.peaks_json(studio, v))
    return {"ten_min_keep_version_s": keep_s, "ten_min_peaks_cold_ms": 1000 * cold,
            "ten_min_peaks_json_ms": 1000 * json_s, "ten_min_peaks_json_bytes": len(body),
            "ten_min_peaks_points": p.points,
            "ten_min_peaks_ready_cold_ms": 1000 * (cold + json_s),
            "ten_min_peaks_warm_median_ms": warm,
            "ten_min_peaks_json_cached_warm_median_ms": cached_json}


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    figures = run(here / "work" / "bench_review")
    out = here / "results" / "review.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    json.dump(figures, sys.stdout, indent=2)
