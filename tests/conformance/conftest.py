"""Program-like material for the reference-meter comparisons (seeded, band-limited).

Real recordings and renders at any rate come through an anti-alias filter, so every
signal here is low-passed at min(20 kHz, 0.45 fs): that is the material meters are
compared on. (Content right at Nyquist is where 4x true-peak interpolators differ
most; the unit tests compare mixdown against an ideal band-limited peak there.)
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import numpy as np
import pytest
from scipy.signal import butter, sosfilt, sosfiltfilt


def _band_limit(x: np.ndarray, sr: int, top: float) -> np.ndarray:
    sos = butter(12, min(20_000.0, top * sr), fs=sr, output="sos")
    return sosfiltfilt(sos, x)


def _song(sr: int, seconds: float, seed: int) -> np.ndarray:
    """Drums, bass, detuned saw chords, a vocal-band line, in sections of different level."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    beat = 0.5
    edges = [0, 0.15, 0.4, 0.65, 0.75, 1.0]
    gains = [0.25, 0.6, 1.0, 0.3, 1.0]
    section = np.ones(n)
    for (a, b), g in zip(itertools.pairwise(edges), gains, strict=True):
        section[int(a * n) : int(b * n)] = g
    tb = t % beat
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-tb / 0.02)) * tb) * np.exp(-tb / 0.08)
    snare = rng.standard_normal(n) * np.exp(-((t - beat) % (2 * beat)) / 0.06) * 0.5
    hat = sosfilt(butter(4, min(7_000.0, 0.4 * sr), "high", fs=sr, output="sos"),
                  rng.standard_normal(n) * np.exp(-(t % (beat / 2)) / 0.015) * 0.15)
    bass_f = 55.0 * np.where((t // (4 * beat)) % 2 == 0, 1.0, 1.335)
    bass = np.tanh(2 * np.sin(2 * np.pi * np.cumsum(bass_f) / sr)) * 0.4
    chords = np.zeros(n)
    for f in (220.0, 277.18, 329.63, 440.0):
        chords += (2 * ((f * (1 + 0.001 * rng.standard_normal()) * t) % 1.0) - 1) * 0.08
    chords = sosfilt(butter(2, min(3_000.0, 0.4 * sr), fs=sr, output="sos"), chords)
    vox = sosfilt(butter(2, [300.0, min(3_400.0, 0.45 * sr)], "band", fs=sr, output="sos"),
                  rng.standard_normal(n)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2) * 0.6
    mono = 0.7 * kick + 0.35 * snare + 0.6 * bass
    x = np.stack([mono + 0.9 * chords + hat + 0.5 * vox,
                  mono + 0.7 * np.roll(chords, int(0.011 * sr)) + 0.6 * hat + 0.5 * vox])
    return x * section


def _speech(sr: int, seconds: float, seed: int) -> np.ndarray:
    """Glottal buzz and noise through three formants, 4 Hz syllables, phrases and pauses."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    phase = np.cumsum(120.0 * (1 + 0.1 * np.sin(2 * np.pi * 0.3 * t))) / sr
    buzz = (phase % 1.0) ** 8
    src = buzz - buzz.mean() + 0.3 * rng.standard_normal(n) * (np.sin(2 * np.pi * 2.3 * t) > 0.6)
    y = np.zeros(n)
    for fc, bw, g in ((500.0, 120.0, 1.0), (1500.0, 200.0, 0.5), (2500.0, 300.0, 0.3)):
        y += g * sosfilt(butter(2, [fc - bw, min(fc + bw, 0.45 * sr)], "band", fs=sr,
                                output="sos"), src)
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t + 2 * np.sin(2 * np.pi * 0.7 * t)), 0, None)
    level = np.interp(t, np.linspace(0, seconds, 9), rng.uniform(0.3, 1.0, 9))
    y *= syllables**1.5 * ((t % 7.0) < 5.5) * level
    return np.stack([y, 0.9 * y])


def _pink(sr: int, seconds: float, seed: int) -> np.ndarray:
    """Stereo pink noise under a slow level envelope (+-8 dB)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    f = np.fft.rfftfreq(n, 1 / sr)
    f[0] = f[1]
    x = np.fft.irfft(np.fft.rfft(rng.standard_normal((2, n))) / np.sqrt(f), n)
    env = 10 ** (8 * np.sin(2 * np.pi * np.arange(n) / n * 3) / 20)
    return x / x.std() * env


@functools.lru_cache(maxsize=8)
def _raw(kind: str, sr: int, seconds: float) -> np.ndarray:
    make = {"song": _song, "speech": _speech, "pink": _pink}[kind]
    return make(sr, seconds, seed=sr % 97)


def _program(kind: str, sr: int, seconds: float, top: float = 0.45) -> np.ndarray:
    x = _band_limit(_raw(kind, sr, seconds), sr, top)
    return (x * (0.5 / np.abs(x).max())).astype(np.float32)


@pytest.fixture(scope="session")
def program() -> Callable[..., np.ndarray]:
    """``program(kind, sample_rate, seconds, top=0.45)``: song, speech or pink, peak -6 dBFS.

    ``top`` is the band limit as a fraction of the rate (never above 20 kHz).
    """
    return _program
