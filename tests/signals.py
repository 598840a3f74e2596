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
