# ruff: noqa: E501
"""Resolving before building the graph changed no sample: renders are byte-identical to the
ones the engine made before the resolve step existed (hashes taken on that code)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mixdown.services.render import render_audio

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"

SONG = """
[song]
tempo = 110
tail_s = 0.5
length = "5:1"
[[track]]
name = "Loop"
volume_db = -3
pan = -0.3
clips = [{ start = "1:1", file = "audio/loop.wav", loop = true, length = 6, fade_in_s = 0.05, fade_out_s = 0.2, gain_db = -2 },
         { start = "3:2", file = "audio/hit.wav", offset_s = 0.01 }]
devices = [{ type = "compressor", threshold_db = -20, ratio = 3, sidechain = "Keys" }]
sends = { Space = -10 }
automation = [{ param = "volume_db", points = [["1:1", -6], ["3:1", 0, 0.5]] },
              { param = "pan", points = [[0, -1], [8, 1]] }]
[[track]]
name = "Keys"
instrument = { type = "sampler", zones = [{ file = "audio/hit.wav", root = 60 }] }
clips = [{ start = "1:1", bars = 4, notes = [["C4", 0, 1], ["E4", 1.5, 0.5, 80], ["G4", 3, 2]] }]
automation = [{ param = "instrument.gain_db", points = [[0, 0], [8, -12]] }]
[[track]]
name = "Drums"
instrument = { type = "drums" }
clips = [{ start = "1:1", bars = 2, swing = 0.3, pattern = { kick = "x...x...", hat = "x.x.x.x." } }]
devices = [{ type = "eq", name = "tone", bell1_hz = 800, bell1_gain_db = 3 }]
automation = [{ param = "tone.bell1_gain_db", points = [[0, 0], [8, 6]] },
              { param = "send.Space", points = [[0, -20], [4, -5]] }]
sends = { Space = -12 }
[[bus]]
name = "Space"
devices = [{ type = "reverb", wet = 1.0 }]
[master]
automation = [{ param = "volume_db", points = [[0, -1], [16, -2]] }]
"""


def _digest(audio: np.ndarray) -> str:
    assert audio.dtype == np.float32
    return hashlib.sha256(np.ascontiguousarray(audio).tobytes()).hexdigest()


def test_the_demo_chorus_renders_the_same_bytes() -> None:
    audio, sr = render_audio(DEMO, section="Chorus", tail_s=0.5)
    assert (sr, audio.shape) == (48_000, (2, 945_600))
    assert _digest(audio) == "d60adefdce60eed4371376883190540fa73450e184d06ccc3111671a6e4a697b"


@pytest.mark.parametrize(("rate", "frames", "digest"), [
    (None, 442_909, "6f1cc61757f9688bb547b8a836f0be0e42de81364d353dac248b517b49301674"),
    (44_100, 406_923, "e3a1c038b38c4ed89890aa8b1807f84d6ba0e47142d55ef251475f9edc20f42a"),
])
def test_clips_sampler_automation_and_sidechain_render_the_same_bytes(
        tmp_path: Path, rate: int | None, frames: int, digest: str) -> None:
    """Looped, faded, offset and resampled audio clips, a sampler zone, swing, sends,
    sidechain and automation of every kind of target."""
    (tmp_path / "audio").mkdir()
    rng = np.random.default_rng(7)
    sf.write(str(tmp_path / "audio" / "loop.wav"),
             (0.3 * rng.standard_normal((12000, 2))).astype(np.float32), 44100, subtype="FLOAT")
    sf.write(str(tmp_path / "audio" / "hit.wav"),
             (0.5 * np.sin(np.arange(9000) / 7.0)).astype(np.float32), 48000, subtype="FLOAT")
    (tmp_path / "song.toml").write_text(SONG)
    audio, _ = render_audio(tmp_path, sample_rate=rate)
    assert audio.shape == (2, frames)
    assert _digest(audio) == digest
