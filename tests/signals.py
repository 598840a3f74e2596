"""Signal and file factories shared by the tests (import as ``from signals import ...``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def write_wav(path: Path, audio: np.ndarray, sample_rate: int = 48_000) -> Path:
    """Write float32 (channels, frames) as a 32-bit float WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(audio, np.float32).T, sample_rate, subtype="FLOAT")
    return path


def constant(value: float, frames: int, channels: int = 1) -> np.ndarray:
    """A DC signal: the labelled-signal trick for routing tests (one constant per source)."""
    return np.full((channels, frames), value, np.float32)


def sine(freq: float, seconds: float, sample_rate: int = 48_000, amp: float = 1.0,
         channels: int = 1) -> np.ndarray:
    """A sine of ``amp`` peak."""
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(x[None, :], channels, axis=0)


def dense_clipped_loop(seconds: float = 30.0, sample_rate: int = 48_000, drive_db: float = 9.0,
                       seed: int = 7) -> np.ndarray:
    """A bright drum + synth loop driven into a hard clipper at 0 dBFS, float32 (2, frames).

    128 bpm: a kick on every beat, a snare on 2 and 4, 16th-note hats (high-passed noise,
    6 ms decay), a detuned supersaw in 8th-note stabs and a sub bass. Normalised to a
    0 dBFS peak, raised by ``drive_db`` and clipped at +-1: the drum transients clip many
    times a second, and the clipped bright noise overshoots between samples (true peak
    about +3 dBTP). At the default drive it sits near -14 LUFS, so reaching -14 LUFS at
    -1 dBTP needs about 4 dB of peak reduction, on peaks that never let a slow release
    recover.
    """
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    sr = sample_rate
    n = round(seconds * sr)
    t = np.arange(n) / sr
    beat = 60.0 / 128.0
    tb = t % beat
    kick = np.sin(2 * np.pi * (45 + 110 * np.exp(-tb / 0.015)) * tb) * np.exp(-tb / 0.12)
    hat = (sosfilt(butter(4, 6000, "high", fs=sr, output="sos"), rng.standard_normal(n))
           * np.exp(-(t % (beat / 4)) / 0.006))
    ts = (t - beat) % (2 * beat)
    snare = (sosfilt(butter(2, [180, 9000], "band", fs=sr, output="sos"), rng.standard_normal(n))
             + 0.5 * np.sin(2 * np.pi * 190 * ts)) * np.exp(-ts / 0.03)
    root = np.array([220.0, 174.61, 261.63, 196.0])[(t // (4 * beat)).astype(int) % 4]
    saw = np.zeros(n)
    for detune in (-0.11, -0.04, 0.0, 0.05, 0.12):
        for mul in (1.0, 1.5):
            phase = np.cumsum(root * mul * (1 + detune * 0.07)) / sr + rng.random()
            saw += 2 * (phase % 1.0) - 1
    synth = saw * (0.4 + 0.6 * np.exp(-(t % (beat / 2)) / 0.12))
    bass = (np.tanh(3 * np.sin(2 * np.pi * np.cumsum(root / 4) / sr))
            * (1 - 0.8 * np.exp(-tb / 0.05)))
    left = 0.5 * kick + 0.6 * snare + 0.5 * hat + 0.02 * synth + 0.1 * bass
    right = (0.5 * kick + 0.54 * snare + 0.4 * np.roll(hat, 17) + 0.02 * np.roll(synth, 240)
             + 0.1 * bass)
    x = np.stack([left, right])
    x = x / np.abs(x).max() * 10 ** (drive_db / 20)
    return np.clip(x, -1.0, 1.0).astype(np.float32)
