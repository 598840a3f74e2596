"""MIDI import benchmark: a 300k-note, 16-track General MIDI file.

* mixdown: ``import_midi`` — parse (our validating parser), map to a project, write the
  project folder (song.toml and 16 MIDI clip files); and ``read_smf`` alone;
* pretty-midi (on mido): parse the same file into notes, the usual Python route.

mixdown is timed best-of-3; pretty-midi once (it takes tens of seconds).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from mixdown.io.smf import read_smf
from mixdown.io.smf_write import (
    channel_message,
    meta_tempo,
    meta_text,
    note_events,
    smf_bytes,
    track_chunk,
)
from mixdown.services.interchange import export_midi, import_midi

NOTES = 300_000
TRACKS = 16
TPB = 480
REPEATS = 3


def make_file(path: Path) -> Path:
    """16 tracks (drums on channel 10) of sixteenth notes, tempo steps every 8 bars."""
    if path.exists():
        return path
    rng = np.random.default_rng(1)
    per = NOTES // TRACKS
    tempo = [(i * 32 * TPB, meta_tempo(round(60e6 / bpm)))
             for i, bpm in enumerate(rng.uniform(80, 160, 16))]
    chunks = [track_chunk([(0, meta_text(0x03, "Bench")), *tempo])]
    for k in range(TRACKS):
        starts = np.arange(per, dtype=np.int64) * (TPB // 4)
        notes = np.stack([starts, starts + rng.integers(10, TPB // 4, per),
                          rng.integers(36, 84, per), rng.integers(1, 128, per)], axis=1)
        meta = [(0, meta_text(0x03, f"Part {k + 1}")), (0, channel_message(0xC0, k, k * 8))]
        chunks.append(track_chunk(meta, *note_events(notes, k)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(smf_bytes(1, TPB, chunks))
    return path


def _best(fn: Any) -> float:
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def run(workdir: Path) -> dict[str, Any]:
    src = make_file(workdir / "300k.mid")
    out = workdir / "project"

    def do_import() -> None:
        shutil.rmtree(out, ignore_errors=True)
        import_midi(src, out)

    import_s = _best(do_import)
    parse_s = _best(lambda: read_smf(src))
    export_s = _best(lambda: export_midi(out, workdir / "back.mid"))
    import pretty_midi

    t = time.perf_counter()
    pm = pretty_midi.PrettyMIDI(str(src))
    pm_s = time.perf_counter() - t
    return {
        "notes": NOTES, "file_bytes": src.stat().st_size,
        "mixdown_import_s": import_s, "mixdown_parse_s": parse_s,
        "mixdown_export_s": export_s,
        "pretty_midi_parse_s": pm_s,
        "pretty_midi_notes": sum(len(i.notes) for i in pm.instruments),
        "speedup_parse_vs_pretty_midi": pm_s / parse_s,
    }
