"""A song-like stereo test signal shared by the benchmarks (drums, bass, chords, a vocal band)."""

from __future__ import annotations

import numpy as np

SR = 48_000


def program_mix(rng: np.random.Generator, n: int, sample_rate: int = SR) -> np.ndarray:
    """``n`` frames of a song-like stereo mix, float64 (2, n), unnormalised."""
    from scipy.signal import butter, sosfilt

    t = np.arange(n) / sample_rate
    beat = 0.5
    tb = t % beat
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-tb / 0.02)) * tb) * np.exp(-tb / 0.08)
    snare = rng.standard_normal(n) * np.exp(-((t - beat) % (2 * beat)) / 0.06) * 0.5
    hat = sosfilt(butter(4, 7000, "high", fs=sample_rate, output="sos"),
                  rng.standard_normal(n) * np.exp(-(t % (beat / 2)) / 0.015) * 0.15)
    bass = np.tanh(2 * np.sin(2 * np.pi * np.cumsum(
        55.0 * np.where((t // (4 * beat)) % 2 == 0, 1.0, 1.335)) / sample_rate)) * 0.4
    chords = sum((2 * ((f * t) % 1.0) - 1) * 0.08 for f in (220.0, 277.18, 329.63, 440.0))
    chords = sosfilt(butter(2, 3000, fs=sample_rate, output="sos"), chords)
    vox = sosfilt(butter(2, [300, 3400], "band", fs=sample_rate, output="sos"),
                  rng.standard_normal(n)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2) * 0.6
    mono = 0.7 * kick + 0.35 * snare + 0.6 * bass
    return np.stack([mono + 0.9 * chords + hat + 0.5 * vox,
                     mono + 0.7 * np.roll(chords, 528) + 0.6 * hat + 0.5 * vox])
