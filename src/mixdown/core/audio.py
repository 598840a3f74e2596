"""Array conventions: audio is float32 shaped (channels, frames)."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from mixdown.core.errors import ParameterError

AudioArray: TypeAlias = NDArray[np.float32]
"""Audio inside mixdown: ``float32``, shape ``(channels, frames)``."""

SAMPLE_RATES = (44_100, 48_000, 88_200, 96_000)
"""Sample rates a render can use, in Hz."""


def check_audio(audio: np.ndarray, *, name: str = "audio") -> None:
    """Raise :class:`ParameterError` unless ``audio`` is 2-D (channels, frames)."""
    if not isinstance(audio, np.ndarray) or audio.ndim != 2:
        shape = getattr(audio, "shape", None)
        raise ParameterError(f"{name} must be a 2-D array shaped (channels, frames), got {shape}")
    if audio.shape[0] < 1 or audio.shape[0] > 64:
        raise ParameterError(
            f"{name} has {audio.shape[0]} channels; expected 1..64 (is it frames-first? "
            "transpose it to (channels, frames))"
        )
