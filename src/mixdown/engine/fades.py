"""Fade curves of audio clips: the gain at each position of a fade, by shape."""

from __future__ import annotations

import numpy as np


def fade_gain(x: np.ndarray, shape: str) -> np.ndarray:
    """The gain (0..1, amplitude) of a fade in at relative positions ``x`` (0..1).

    ``linear`` is ``x``; ``equal_power`` is ``sin(x pi/2)`` (a fade in plus the mirrored fade
    out keep constant power); ``s_curve`` is ``(1 - cos(x pi)) / 2`` (slow at both ends). A
    fade out is the same curve run backwards: ``fade_gain(1 - x)``.
    """
    x = np.clip(x, 0.0, 1.0)
    if shape == "linear":
        return x
    if shape == "equal_power":
        return np.sin(x * (np.pi / 2))
    if shape == "s_curve":
        return 0.5 - 0.5 * np.cos(x * np.pi)
    raise ValueError(f"unknown fade shape {shape!r}")
