"""A real song for the arrangement view's tests: a commented song.toml with an audio track
(a noise take and a constant clip), an empty audio track and a synth track with notes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signals import write_wav

SR = 48_000

SONG = """\
# an arrangement test song
[song]
title = "Arrange"
tempo = 100
time_signature = [4, 4]
tail_s = 0.0

[[marker]]
name = "Verse"
at = "1:1"

[[marker]]
name = "Chorus"
at = "5:1"

# the vocal take
[[track]]
name = "Vox"
clips = [
  { start = "2:1", file = "audio/noise.wav" },  # the take
  { start = "6:1", file = "audio/dc.wav", length = 4 },  # a steady tone
]

[[track]]
name = "Dub"

[[track]]
name = "Keys"
instrument = { type = "synth" }
clips = [{ start = "1:1", length = 8, notes = [
  { pitch = 60, start = 0, length = 1 },
  { pitch = 64, start = 2, length = 1.5 },
  { pitch = 67, start = 5, length = 2 },
] }]
"""


def noise(seconds: float, seed: int = 3) -> np.ndarray:
    """Seeded white noise at -20 dBFS RMS, float32 (1, frames)."""
    return (np.random.default_rng(seed).standard_normal((1, round(seconds * SR))) * 0.1
            ).astype(np.float32)


def make_arrange_song(songs: Path, name: str = "tune") -> Path:
    """Write ``songs/name`` (song.toml and its audio); return the project folder."""
    folder = songs / name
    write_wav(folder / "audio" / "noise.wav", noise(4.0))
    write_wav(folder / "audio" / "dc.wav", np.full((1, 4 * SR), 0.5, np.float32))
    (folder / "song.toml").write_text(SONG)
    return folder
