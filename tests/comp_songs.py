"""A song with two known takes of one passage (for the comp panel's tests): at 120 bpm in
4/4 a bar is 2 s; "take 1" is a 440 Hz sine, "take 2" a 660 Hz sine with a phase offset (a
hard cut between them jumps), both 10 s from bar 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signals import write_wav

SR = 48_000
BAR = 2 * SR  # frames per bar

SONG = """\
# two takes of the verse, to comp
[song]
title = "Comp Me"   # the title
tempo = 120
tail_s = 0.0

[[track]]
name = "Vox"        # lead vocal
comp_crossfade_s = 0.02

[[track.takes]]
name = "take 1"
file = "audio/take1.wav"
start = "1:1"

# the better chorus
[[track.takes]]
name = "take 2"
file = "audio/take2.wav"
start = "1:1"
"""


def take_signal(n: int, seconds: float = 10.0) -> np.ndarray:
    """Take ``n`` (1 or 2) as float64 mono samples."""
    t = np.arange(round(seconds * SR)) / SR
    return 0.5 * np.sin(2 * np.pi * 440.0 * t) if n == 1 else 0.5 * np.sin(
        2 * np.pi * 660.0 * t + 2.0)


def make_comp_song(songs: Path, name: str = "tune") -> Path:
    """Write ``songs/name`` (song.toml and the two takes' WAVs); the project folder."""
    folder = songs / name
    for n in (1, 2):
        write_wav(folder / "audio" / f"take{n}.wav", take_signal(n)[None], SR)
    (folder / "song.toml").write_text(SONG)
    return folder


def check_switch(out: np.ndarray, boundary: int, xf_s: float) -> None:
    """Assert that ``out`` (mono) plays take 1 before ``boundary`` (frames), take 2 from
    the crossfade's end on, and steps no further than the two sines themselves allow (no
    click) around the switch."""
    a, b = take_signal(1), take_signal(2)
    n = round(xf_s * SR)
    np.testing.assert_allclose(out[BAR // 2:boundary], a[BAR // 2:boundary], atol=1e-6)
    np.testing.assert_allclose(out[boundary + n:boundary + BAR], b[boundary + n:boundary + BAR],
                               atol=1e-6)
    own_jump = float(np.hypot(*(0.5 * 2 * np.pi * f / SR for f in (440.0, 660.0))))
    steps = np.abs(np.diff(out[boundary - 4800:boundary + 4800]))
    assert steps.max() <= own_jump * 1.01
