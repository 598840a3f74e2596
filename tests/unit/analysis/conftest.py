"""Signal factories for the analysis tests (float32, channels first, seeded)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest


def _tone(level_dbfs: float, seconds: float, sample_rate: int = 48_000, *,
          freq: float = 1000.0, channels: int = 2, phase: float = 0.0) -> np.ndarray:
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    x = 10.0 ** (level_dbfs / 20.0) * np.sin(2 * np.pi * freq * t + phase)
    return np.repeat(x[None, :], channels, axis=0).astype(np.float32)


@pytest.fixture
def tone() -> Callable[..., np.ndarray]:
    """``tone(level_dbfs, seconds, sample_rate=48000, freq=1000, channels=2, phase=0)``."""
    return _tone


@pytest.fixture
def noise(rng: np.random.Generator) -> Callable[..., np.ndarray]:
    """``noise(seconds, sample_rate=48000, channels=2, rms=0.1)``: seeded white noise."""

    def make(seconds: float, sample_rate: int = 48_000, channels: int = 2,
             rms: float = 0.1) -> np.ndarray:
        n = round(seconds * sample_rate)
        return (rng.standard_normal((channels, n)) * rms).astype(np.float32)

    return make
