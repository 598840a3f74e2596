"""Synthetic program-like mixes for the mastering tests (seeded, a few seconds long).

Each is built from tones, noise and envelopes so that it behaves like music for a
loudness meter and a limiter: a kick and snare pattern, a bass line, a pad, hats.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter
from tp_meters import fade

KINDS = ("dense", "dynamic", "mono", "intersample", "dense_44k", "dense_96k")


def _pink(rng: np.random.Generator, n: int) -> np.ndarray:
    # Paul Kellet's economy pink filter (-3 dB/octave within 0.5 dB above 20 Hz)
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1.0, -2.494956002, 2.017265875, -0.522189400]
    return lfilter(b, a, rng.normal(0.0, 1.0, n))


def _hits(n: int, sr: int, period_s: float, offset_s: float, decay_s: float) -> np.ndarray:
    t = np.arange(n) / sr
    phase = (t - offset_s) % period_s
    return np.where(t >= offset_s, np.exp(-phase / decay_s), 0.0)


def _band(sr: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A stereo band: kick, snare, hats, bass, pad; peaks near 0 dBFS, about -12 LUFS."""
    n = round(sr * seconds)
    t = np.arange(n) / sr
    beat = 0.5  # 120 bpm
    kick_env = _hits(n, sr, beat, 0.0, 0.06)
    kick = np.sin(2 * np.pi * (50 + 80 * kick_env) * t) * kick_env
    snare = _hits(n, sr, 2 * beat, beat, 0.08) * rng.normal(0, 0.5, n)
    hats = _hits(n, sr, beat / 2, beat / 4, 0.02) * np.diff(rng.normal(0, 0.3, n + 1))
    notes = np.array([55.0, 55.0, 65.4, 49.0])[(t // (2 * beat)).astype(int) % 4]
    bass = 0.5 * np.tanh(2 * np.sin(2 * np.pi * np.cumsum(notes) / sr))
    pad_l = 0.08 * _pink(rng, n)
    pad_r = 0.08 * _pink(rng, n)
    left = 0.8 * kick + 0.5 * snare + 0.3 * hats + bass + pad_l
    right = 0.8 * kick + 0.45 * snare + 0.35 * np.roll(hats, 11) + bass + pad_r
    out = np.stack([left, right])
    return out / np.abs(out).max() * 0.95


def program(kind: str, rng: np.random.Generator, seconds: float = 6.0) -> tuple[np.ndarray, int]:
    """One of :data:`KINDS` as float32 (channels, frames) and its sample rate."""
    if kind == "dense":
        return fade(np.tanh(2.0 * _band(48_000, seconds, rng)) * 0.9), 48_000
    if kind == "dense_44k":
        return fade(np.tanh(2.0 * _band(44_100, seconds, rng)) * 0.9), 44_100
    if kind == "dense_96k":
        return fade(np.tanh(2.0 * _band(96_000, seconds, rng)) * 0.9), 96_000
    if kind == "mono":
        return fade(_band(48_000, seconds, rng).mean(axis=0, keepdims=True) * 0.5), 48_000
    if kind == "dynamic":
        # a quiet verse (pad and hats 24 dB down) then the full band: a wide loudness range
        x = _band(48_000, seconds, rng)
        n = x.shape[1]
        env = np.where(np.arange(n) < n // 2, 10 ** (-24 / 20), 1.0)
        return fade(x * env * 0.5), 48_000
    if kind == "intersample":
        # a clipped master with square leads and fs/4 content: overs of several dB
        sr = 48_000
        x = _band(sr, seconds, rng)
        n = np.arange(x.shape[1])
        lead = 0.3 * np.sign(np.sin(2 * np.pi * 1760 * n / sr))
        fs4 = 0.2 * np.sin(2 * np.pi * n / 4 + np.pi / 4)
        x = np.clip(1.6 * x + lead + fs4, -1.0, 1.0)
        return fade(x), sr
    raise ValueError(kind)
