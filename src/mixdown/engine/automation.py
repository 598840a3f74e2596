"""Automation curves evaluated at absolute frame positions.

A curve is a list of points ``(frame, value, shape)``; the segment from point i to
point i+1 follows ``v = v_i + (v_{i+1} - v_i) * f(x)`` where ``x`` is the fraction of
the segment in time and ``f(x) = (exp(4c x) - 1) / (exp(4c) - 1)`` for the point's
curve ``c`` (``c = 0`` is linear). Before the first point the curve holds the first
value, after the last the last. Volume curves are interpolated in dB.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True, boundscheck=False)
def _linear_run(fr: np.ndarray, vals: np.ndarray, pos: int,
                out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[k]``: a curve of linear segments at frame ``pos + k``, with the arithmetic of
    :meth:`Curve.values_at` (so the same bits), walking the segments once."""
    m = fr.shape[0]
    j = -1
    for k in range(out.shape[0]):
        f = np.float64(pos + k)
        while j + 1 < m and fr[j + 1] <= f:
            j += 1
        if j < 0:
            out[k] = vals[0]
        elif j >= m - 1:
            out[k] = vals[m - 1]
        else:
            x = (f - fr[j]) / (fr[j + 1] - fr[j])
            out[k] = vals[j] + (vals[j + 1] - vals[j]) * x


@dataclass(frozen=True, slots=True)
class Curve:
    """Piecewise curve over frames (float positions, exact seconds * sample rate)."""

    frames: tuple[float, ...]
    values: tuple[float, ...]
    shapes: tuple[float, ...]
    is_constant: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_constant", len(set(self.values)) == 1)

    @classmethod
    def constant(cls, value: float) -> Curve:
        """A curve that never changes."""
        return cls((0.0,), (float(value),), (0.0,))

    def value_at(self, frame: float) -> float:
        """The value at one frame."""
        return float(self.values_at(np.array([frame], dtype=np.float64))[0])

    def values_at(self, frames: NDArray[np.float64]) -> NDArray[np.float64]:
        """Values at many frames (vectorised)."""
        out = np.empty(frames.shape, dtype=np.float64)
        if self.is_constant:
            out.fill(self.values[0])
            return out
        fr = np.asarray(self.frames)
        idx = np.searchsorted(fr, frames, side="right") - 1
        before = idx < 0
        after = idx >= len(fr) - 1
        out[before] = self.values[0]
        out[after & ~before] = self.values[-1]
        mid = ~(before | after)
        if mid.any():
            i = idx[mid]
            f0 = fr[i]
            f1 = fr[i + 1]
            v0 = np.asarray(self.values)[i]
            v1 = np.asarray(self.values)[i + 1]
            c = np.asarray(self.shapes)[i]
            x = (frames[mid] - f0) / (f1 - f0)
            out[mid] = v0 + (v1 - v0) * shape(x, c)
        return out

    def values_over(self, start: int, frames: int) -> NDArray[np.float64]:
        """Values at frames ``start .. start + frames - 1``: :meth:`values_at` of that
        range, the same bits; curves of linear segments take one compiled pass."""
        if self.is_constant or any(abs(c) > 1e-9 for c in self.shapes):
            return self.values_at(np.arange(start, start + frames, dtype=np.float64))
        out = np.empty(frames, dtype=np.float64)
        _linear_run(np.asarray(self.frames, dtype=np.float64),
                    np.asarray(self.values, dtype=np.float64), start, out)
        return out

    def changes_within(self, start: int, stop: int) -> bool:
        """True if the value may change anywhere in frames ``[start, stop)``.

        False when every frame there lies before the first point, after the last, or on
        segments whose end values are all equal (a held value between steps, such as
        an imported CC7 level): each of those frames evaluates to exactly that value.
        """
        if self.is_constant:
            return False
        fr = self.frames
        if stop <= fr[0] or start >= fr[-1]:
            return False
        # The segments that frames start .. stop - 1 fall in (as values_at finds them).
        first = max(bisect_right(fr, start) - 1, 0)
        last = min(bisect_right(fr, stop - 1), len(fr) - 1)
        held = self.values[first]
        return any(v != held for v in self.values[first:last + 1])


def shape(x: NDArray[np.float64], c: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Map segment fraction ``x`` (0..1) through the curve shape ``c`` (-1..1)."""
    c_arr = np.broadcast_to(np.asarray(c, dtype=np.float64), x.shape)
    out = x.copy()
    curved = np.abs(c_arr) > 1e-9
    if curved.any():
        k = 4.0 * c_arr[curved]
        out[curved] = np.expm1(k * x[curved]) / np.expm1(k)
    return out


def scalar_shape(x: float, c: float) -> float:
    """Scalar :func:`shape`."""
    if abs(c) <= 1e-9:
        return x
    k = 4.0 * c
    return math.expm1(k * x) / math.expm1(k)
