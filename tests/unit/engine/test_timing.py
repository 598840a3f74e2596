"""Sample-exact placement: clips and notes land on the frame the tempo map says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mixdown import Clip, Project, Song, TempoPoint, Track
from mixdown.services.render import render_audio
from signals import write_wav

SR = 48_000


def impulse_file(root: Path) -> str:
    x = np.zeros((1, 64), np.float32)
    x[0, 0] = 1.0
    write_wav(root / "audio" / "click.wav", x)
    return "audio/click.wav"


@pytest.mark.parametrize(
    ("start", "frame"),
    [
        ("1:1", 0),
        ("1:2", 24_000),  # 120 bpm: a beat is 0.5 s
        (6.0, 144_000),
        ("3:1", 192_000),  # bar 3 = beat 8 = 4 s; the ramp starts there
        (12.0, 302_470),  # 6.3014565796 s on the ramp 120 -> 60 bpm (beats 8..16)
        ("5:1", 458_169),  # beat 16 = 9.5451774445 s = 458168.52 frames, rounded
        ("2.5s", 120_000),
    ],
)
def test_clip_lands_on_the_exact_sample(tmp_path: Path, start: object, frame: int) -> None:
    f = impulse_file(tmp_path)
    song = Song(tempo=120, tail_s=0.0, length=24.0,
                tempo_map=(TempoPoint(at=8, bpm=120), TempoPoint(at=16, bpm=60, ramp=True)))
    p = Project(song=song, tracks=(Track(name="T", clips=(Clip(start=start, file=f),)),))
    audio, _ = render_audio(p, root=tmp_path, block_frames=1000)
    hits = np.flatnonzero(audio[0])
    assert hits[0] == frame
    assert audio[0, frame] == 1.0
