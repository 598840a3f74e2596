"""Plumbing shared by the built-in effects: parameters, glides and a biquad cascade.

Not public API. Every built-in effect subclasses :class:`EffectBase`, which checks
parameters against the device's :class:`~mixdown.dsp.base.Param` table, dispatches
``set_param`` and keeps the absolute frame count that block-invariant glides and
LFOs are computed from.

Glides (automation smoothing) are linear over :data:`SMOOTH_MS` and computed from
the number of frames since the ``set_param`` call, never accumulated, so that the
output does not depend on how the stream is split into blocks.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numba import njit
from numpy.typing import NDArray

from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError
from mixdown.dsp.base import Param

SMOOTH_MS = 5.0
"""Length of the linear glide that an automated parameter change takes, in ms.

A little shorter than the engine's control grid (256 frames = 5.3 ms at 48 kHz), so
a curve sampled on the grid is followed as connected linear segments."""

IDENTITY_SOS = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])
"""A second-order section that passes its input unchanged."""

REST_STATE = 1e-150
"""A biquad cascade whose state is below this (float64) has rung out: on digital silence
it is set to 0 and stops computing (:meth:`SosFilter.process`)."""


def smooth_frames(sample_rate: int) -> int:
    """The glide length in frames at ``sample_rate`` (at least one frame)."""
    return max(1, round(SMOOTH_MS * 1e-3 * sample_rate))


def time_coef(time_ms: float, sample_rate: int) -> float:
    """One-pole smoothing coefficient ``exp(-1 / (tau * fs))`` for a time constant in ms.

    A time of 0 gives 0 (instant response).
    """
    if time_ms <= 0.0:
        return 0.0
    return math.exp(-1.0 / (time_ms * 1e-3 * sample_rate))


class Ramp:
    """A value that glides linearly to a new target over ``length`` frames.

    The value at frame ``k`` after :meth:`glide` is
    ``start + (target - start) * (min(k + 1, length) / length)``: a pure function of
    ``k``, so the same frames get the same values whatever the block split.
    """

    __slots__ = ("length", "pos", "start", "target")

    def __init__(self, value: float) -> None:
        self.start = float(value)
        self.target = float(value)
        self.pos = 0
        self.length = 0

    @property
    def steady(self) -> bool:
        """True once the glide has reached its target."""
        return self.pos >= self.length

    def current(self) -> float:
        """The value applied at the last processed frame."""
        if self.pos >= self.length:
            return self.target
        return self.start + (self.target - self.start) * (self.pos / self.length)

    def glide(self, value: float, length: int) -> None:
        """Start gliding from the current value to ``value`` over ``length`` frames."""
        self.start = self.current()
        self.target = float(value)
        self.pos = 0
        self.length = max(int(length), 0)

    def jump(self, value: float) -> None:
        """Set the value at once."""
        self.start = self.target = float(value)
        self.pos = self.length = 0

    def values(self, frames: int) -> NDArray[np.float64]:
        """Per-frame values for the next ``frames`` frames (advances the glide)."""
        k = np.arange(self.pos + 1, self.pos + 1 + frames, dtype=np.float64)
        out = self.start + (self.target - self.start) * (np.minimum(k, self.length) / self.length)
        self.advance(frames)
        return out

    def advance(self, frames: int) -> None:
        """Move the glide on by ``frames`` frames."""
        self.pos = min(self.pos + frames, self.length)


class EffectBase(ABC):
    """Shared plumbing for built-in effects (parameters, prepare, block checks).

    Subclasses set ``TYPE`` and ``PARAMS`` and implement ``_prepare``, ``_reset``,
    ``_process`` and ``_update`` (called after an automated change).
    """

    TYPE: ClassVar[str] = ""
    PARAMS: ClassVar[tuple[Param, ...]] = ()

    latency_frames: int

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.latency_frames = 0
        self.sample_rate = 0
        self.channels = 0
        self.max_block_frames = 0
        self._frame = 0
        self._p: dict[str, Any] = {}
        for p in self.PARAMS:
            self._p[p.name] = p.check(values.get(p.name, p.default), f"{self.TYPE}: ")
        self._validate()

    # -- parameters ---------------------------------------------------------------------
    @property
    def params(self) -> dict[str, Any]:
        """A copy of the current parameter values."""
        return dict(self._p)

    def _param_decl(self, name: str) -> Param:
        for p in self.PARAMS:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.PARAMS)
        raise ParameterError(f"{self.TYPE}: no parameter {name!r}; known: {known}")

    def _validate(self) -> None:  # noqa: B027 - an optional hook
        """Check relations between parameters (override); raise ParameterError."""

    def set_param(self, name: str, value: Any) -> None:
        """Change an automatable parameter between blocks; it glides over ``SMOOTH_MS``.

        Raises
        ------
        ParameterError
            For an unknown name, a value out of range, or a parameter that cannot
            be automated (it changes the latency or the structure).
        """
        decl = self._param_decl(name)
        if not decl.automatable:
            raise ParameterError(
                f"{self.TYPE}: {name} cannot be automated (it changes the structure or the "
                "latency); set it in the device's parameters instead"
            )
        if decl.kind == "bool" and not isinstance(value, bool) and value in (0, 1):
            value = bool(value)  # automation curves carry numbers
        old = self._p[name]
        self._p[name] = decl.check(value, f"{self.TYPE}: ")
        try:
            self._validate()
        except ParameterError:
            self._p[name] = old
            raise
        if self.sample_rate:
            self._update(name)

    @property
    def _glide_frames(self) -> int:
        """Glide length for a change now: none before the first frame of a stream."""
        return smooth_frames(self.sample_rate) if self._frame > 0 else 0

    # -- stream -------------------------------------------------------------------------
    def prepare(self, sample_rate: int, channels: int, max_block_frames: int) -> None:
        """Allocate state for a stream of ``channels`` at ``sample_rate`` Hz."""
        if not isinstance(sample_rate, int | np.integer) or sample_rate < 8000:
            raise ParameterError(f"{self.TYPE}: sample_rate must be an int >= 8000 Hz, got "
                                 f"{sample_rate!r}")
        if channels < 1:
            raise ParameterError(f"{self.TYPE}: channels must be >= 1, got {channels}")
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.max_block_frames = max(int(max_block_frames), 1)
        self._prepare()
        self.reset()

    def reset(self) -> None:
        """Clear all state (delay lines, envelopes, filter memories, glides)."""
        self._frame = 0
        if self.sample_rate:
            self._reset()

    def process(self, block: AudioArray, sidechain: AudioArray | None = None) -> AudioArray:
        """Process one block in place and return it.

        Parameters
        ----------
        block : ndarray [shape=(channels, frames), float32]
            Audio; modified in place.
        sidechain : ndarray [shape=(any, frames), float32], optional
            Detector input for devices that take one; ignored by the others.

        Returns
        -------
        ndarray [shape=(channels, frames), float32]
            ``block``.
        """
        if not self.sample_rate:
            raise ParameterError(f"{self.TYPE}: call prepare() before process()")
        if (not isinstance(block, np.ndarray) or block.ndim != 2
                or block.shape[0] != self.channels or block.dtype != np.float32):
            raise ParameterError(
                f"{self.TYPE}: block must be float32 shaped ({self.channels}, frames), got "
                f"{getattr(block, 'dtype', type(block))} {getattr(block, 'shape', None)}"
            )
        n = block.shape[1]
        if n == 0:
            return block
        out = self._process(block, sidechain)
        self._frame += n
        return out

    # -- hooks --------------------------------------------------------------------------
    def _prepare(self) -> None:  # noqa: B027 - an optional hook
        """Allocate state after ``prepare`` (a device without state needs nothing)."""

    def _reset(self) -> None:  # noqa: B027 - an optional hook
        """Clear state (a device without state has none)."""

    def _update(self, name: str) -> None:  # noqa: B027 - an optional hook
        """React to a parameter change (by default the new value is simply read)."""

    @abstractmethod
    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        """Process one block; every effect defines this."""


def require_channels(device: str, channels: int, allowed: tuple[int, ...] = (1, 2)) -> None:
    """Raise ParameterError unless ``channels`` is one of ``allowed``."""
    if channels not in allowed:
        raise ParameterError(
            f"{device}: works on {' or '.join(map(str, allowed))} channels, got {channels}; "
            "split the signal or use a stereo bus"
        )


# -- biquad cascade --------------------------------------------------------------------------

@njit(cache=True, nogil=True, fastmath=False)
def sos_kernel(sos0: np.ndarray, sos1: np.ndarray, pos: int, length: int,
               x: np.ndarray, z: np.ndarray) -> int:  # pragma: no cover - compiled
    """Run a cascade of second-order sections over ``x`` (channels, frames) in place.

    Transposed direct form II in float64, the same arithmetic as
    ``scipy.signal.sosfilt`` (bit-identical output for a float64 input). While
    ``pos < length`` the coefficients glide linearly from ``sos0`` to ``sos1``
    (frame ``k`` of the glide uses ``t = (k + 1) / length``); afterwards ``sos1``
    is used. ``z`` (sections, channels, 2) is the filter state. Returns the new
    ``pos``.
    """
    nsec = sos1.shape[0]
    nch = x.shape[0]
    n = x.shape[1]
    ramp_n = min(max(length - pos, 0), n)
    for i in range(ramp_n):
        t = (pos + i + 1) / length
        for c in range(nch):
            v = np.float64(x[c, i])
            for s in range(nsec):
                b0 = sos0[s, 0] + (sos1[s, 0] - sos0[s, 0]) * t
                b1 = sos0[s, 1] + (sos1[s, 1] - sos0[s, 1]) * t
                b2 = sos0[s, 2] + (sos1[s, 2] - sos0[s, 2]) * t
                a1 = sos0[s, 4] + (sos1[s, 4] - sos0[s, 4]) * t
                a2 = sos0[s, 5] + (sos1[s, 5] - sos0[s, 5]) * t
                y = b0 * v + z[s, c, 0]
                z[s, c, 0] = b1 * v - a1 * y + z[s, c, 1]
                z[s, c, 1] = b2 * v - a2 * y
                v = y
            x[c, i] = np.float32(v)
    for i in range(ramp_n, n):
        for c in range(nch):
            v = np.float64(x[c, i])
            for s in range(nsec):
                y = sos1[s, 0] * v + z[s, c, 0]
                z[s, c, 0] = sos1[s, 1] * v - sos1[s, 4] * y + z[s, c, 1]
                z[s, c, 1] = sos1[s, 2] * v - sos1[s, 5] * y
                v = y
            x[c, i] = np.float32(v)
    return pos + n


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _sos_stereo_kernel(sos: np.ndarray, act: np.ndarray, x: np.ndarray, z: np.ndarray,
                       buf: np.ndarray) -> None:  # pragma: no cover - compiled
    """The steady cascade (no glide) of the sections ``act`` over a stereo ``x`` in place.

    Same arithmetic as :func:`sos_kernel` per sample and section, so the same bits, but
    two sections at a time over the whole block with their state in registers (the
    four recursions of a pass run in parallel). ``buf`` is float64 (2, >= frames).
    """
    n = x.shape[1]
    for i in range(n):
        buf[0, i] = np.float64(x[0, i])
        buf[1, i] = np.float64(x[1, i])
    na = act.shape[0]
    k = 0
    while k < na:
        s = act[k]
        t = act[k + 1] if k + 1 < na else -1
        b0 = sos[s, 0]
        b1 = sos[s, 1]
        b2 = sos[s, 2]
        a1 = sos[s, 4]
        a2 = sos[s, 5]
        p0 = z[s, 0, 0]
        q0 = z[s, 0, 1]
        p1 = z[s, 1, 0]
        q1 = z[s, 1, 1]
        if t < 0:
            for i in range(n):
                v0 = buf[0, i]
                v1 = buf[1, i]
                y0 = b0 * v0 + p0
                y1 = b0 * v1 + p1
                p0 = b1 * v0 - a1 * y0 + q0
                p1 = b1 * v1 - a1 * y1 + q1
                q0 = b2 * v0 - a2 * y0
                q1 = b2 * v1 - a2 * y1
                buf[0, i] = y0
                buf[1, i] = y1
        else:
            c0 = sos[t, 0]
            c1 = sos[t, 1]
            c2 = sos[t, 2]
            d1 = sos[t, 4]
            d2 = sos[t, 5]
            r0 = z[t, 0, 0]
            u0 = z[t, 0, 1]
            r1 = z[t, 1, 0]
            u1 = z[t, 1, 1]
            for i in range(n):
                v0 = buf[0, i]
                v1 = buf[1, i]
                y0 = b0 * v0 + p0
                y1 = b0 * v1 + p1
                p0 = b1 * v0 - a1 * y0 + q0
                p1 = b1 * v1 - a1 * y1 + q1
                q0 = b2 * v0 - a2 * y0
                q1 = b2 * v1 - a2 * y1
                w0 = c0 * y0 + r0
                w1 = c0 * y1 + r1
                r0 = c1 * y0 - d1 * w0 + u0
                r1 = c1 * y1 - d1 * w1 + u1
                u0 = c2 * y0 - d2 * w0
                u1 = c2 * y1 - d2 * w1
                buf[0, i] = w0
                buf[1, i] = w1
            z[t, 0, 0] = r0
            z[t, 0, 1] = u0
            z[t, 1, 0] = r1
            z[t, 1, 1] = u1
        z[s, 0, 0] = p0
        z[s, 0, 1] = q0
        z[s, 1, 0] = p1
        z[s, 1, 1] = q1
        k += 2
    for i in range(n):
        x[0, i] = np.float32(buf[0, i])
        x[1, i] = np.float32(buf[1, i])


def butterworth_sections(kind: str, cutoff_hz: float, order: int,
                         sample_rate: int) -> list[NDArray[np.float64]]:
    """Butterworth high- or low-pass of ``order`` as RBJ-cookbook sections.

    Each biquad has the bilinear transform prewarped at the cutoff, with the
    Butterworth pole Q values ``1 / (2 cos(psi_k))`` (``psi_k`` the pole angles),
    so the cascade is exactly -3.01 dB at ``cutoff_hz``. An odd order adds one
    first-order section.

    Parameters
    ----------
    kind : {"highpass", "lowpass"}
    cutoff_hz : float
        -3 dB frequency in Hz (clamped below Nyquist).
    order : int >= 1
    sample_rate : int
        In Hz.

    Returns
    -------
    list of ndarray [shape=(6,), float64]
        SOS rows ``[b0, b1, b2, 1, a1, a2]``.
    """
    f = min(cutoff_hz, 0.49 * sample_rate)
    w0 = 2.0 * math.pi * f / sample_rate
    cw, sw = math.cos(w0), math.sin(w0)
    rows: list[NDArray[np.float64]] = []
    for k in range(1, order // 2 + 1):
        # pole angle from the negative real axis: (2k - 1) pi / 2N (even N), k pi / N (odd N)
        psi = (2 * k - 1) * math.pi / (2 * order) if order % 2 == 0 else k * math.pi / order
        q = 1.0 / (2.0 * math.cos(psi))
        alpha = sw / (2.0 * q)
        a0 = 1.0 + alpha
        if kind == "lowpass":
            b = [(1 - cw) / 2, 1 - cw, (1 - cw) / 2]
        else:
            b = [(1 + cw) / 2, -(1 + cw), (1 + cw) / 2]
        rows.append(np.array([b[0] / a0, b[1] / a0, b[2] / a0, 1.0,
                              -2.0 * cw / a0, (1.0 - alpha) / a0]))
    if order % 2:
        kk = math.tan(w0 / 2.0)
        a1 = (kk - 1.0) / (kk + 1.0)
        if kind == "lowpass":
            rows.append(np.array([kk / (1 + kk), kk / (1 + kk), 0.0, 1.0, a1, 0.0]))
        else:
            rows.append(np.array([1 / (1 + kk), -1 / (1 + kk), 0.0, 1.0, a1, 0.0]))
    return rows


def peaking_section(freq_hz: float, gain_db: float, q: float,
                    sample_rate: int) -> NDArray[np.float64]:
    """RBJ-cookbook peaking (bell) EQ: exactly ``gain_db`` at ``freq_hz``."""
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * min(freq_hz, 0.49 * sample_rate) / sample_rate
    alpha = math.sin(w0) / (2.0 * q)
    cw = math.cos(w0)
    a0 = 1.0 + alpha / a
    return np.array([(1 + alpha * a) / a0, -2 * cw / a0, (1 - alpha * a) / a0, 1.0,
                     -2 * cw / a0, (1 - alpha / a) / a0])


def shelf_section(kind: str, freq_hz: float, gain_db: float, q: float,
                  sample_rate: int) -> NDArray[np.float64]:
    """RBJ-cookbook low or high shelf: ``gain_db`` far from ``freq_hz``, half of it there."""
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * min(freq_hz, 0.49 * sample_rate) / sample_rate
    cw = math.cos(w0)
    ta = 2.0 * math.sqrt(a) * math.sin(w0) / (2.0 * q)
    if kind == "low":
        b0 = a * ((a + 1) - (a - 1) * cw + ta)
        b1 = 2 * a * ((a - 1) - (a + 1) * cw)
        b2 = a * ((a + 1) - (a - 1) * cw - ta)
        a0 = (a + 1) + (a - 1) * cw + ta
        a1 = -2 * ((a - 1) + (a + 1) * cw)
        a2 = (a + 1) + (a - 1) * cw - ta
    else:
        b0 = a * ((a + 1) + (a - 1) * cw + ta)
        b1 = -2 * a * ((a - 1) + (a + 1) * cw)
        b2 = a * ((a + 1) + (a - 1) * cw - ta)
        a0 = (a + 1) - (a - 1) * cw + ta
        a1 = 2 * ((a - 1) - (a + 1) * cw)
        a2 = (a + 1) - (a - 1) * cw - ta
    return np.array([b0 / a0, b1 / a0, b2 / a0, 1.0, a1 / a0, a2 / a0])


class SosFilter:
    """A gliding biquad cascade with fixed section slots (identity slots are skipped).

    ``set(sos, glide_frames)`` changes the coefficients; the cascade glides from
    the coefficients in use to the new ones (linear interpolation of each section,
    which stays stable: the biquad stability triangle is convex).
    """

    def __init__(self, slots: int, channels: int) -> None:
        self.sos0 = np.tile(IDENTITY_SOS, (slots, 1))
        self.sos1 = self.sos0.copy()
        self.z = np.zeros((slots, channels, 2))
        self.pos = 0
        self.length = 0
        self._active = np.zeros(0, dtype=np.intp)
        self._all = False
        self._watch = False
        self._buf = np.zeros((2, 0))
        self._refresh()

    def _refresh(self) -> None:
        # A slot may be skipped only where skipping it changes nothing: identity
        # coefficients (now and, while gliding, at the start) and an all-zero state.
        # The result changes only with set/reset, at the end of a glide, or when an
        # identity slot's state rings out to 0 (_watch): process() re-runs it then only.
        # (ndarray methods, not the np.* wrappers: this runs at every automation step)
        ident_coef = (self.sos1 == IDENTITY_SOS).all(1)
        if self.pos < self.length:
            ident_coef &= (self.sos0 == IDENTITY_SOS).all(1)
        ident = ident_coef & ~(self.z != 0.0).any(axis=(1, 2))
        self._active = (~ident).nonzero()[0]
        self._all = self._active.size == self.sos1.shape[0]
        self._watch = bool((ident_coef & ~ident).any())

    def current(self) -> NDArray[np.float64]:
        """Coefficients applied at the last processed frame."""
        if self.pos >= self.length:
            return self.sos1.copy()
        t = self.pos / self.length
        return self.sos0 + (self.sos1 - self.sos0) * t

    def set(self, sos: NDArray[np.float64], glide_frames: int) -> None:
        """Glide to ``sos`` (slots, 6) over ``glide_frames`` (0: at once)."""
        if glide_frames > 0:
            self.sos0 = self.current()
            self.pos = 0
            self.length = glide_frames
        else:
            self.pos = self.length = 0
        self.sos1 = np.array(sos, dtype=np.float64)
        self._refresh()

    def reset(self) -> None:
        """Clear the filter memories and finish any glide."""
        self.z[:] = 0.0
        self.pos = self.length = 0
        self._refresh()

    def _resting(self, x: AudioArray) -> bool:
        """True for digital silence into a cascade that has rung out (every state value
        below :data:`REST_STATE`): the state is set to exactly 0 and the block is left as
        it is. Filtering it would give zeros too (a zero's sign aside), and a state that
        small cannot change a single bit of what later audio makes (it lies hundreds of
        orders below half an ulp of any product of a coefficient and a float32 sample)."""
        z = self.z
        if z.size and (z.max() >= REST_STATE or z.min() <= -REST_STATE):
            return False
        if x.any():
            return False
        if z.any():
            z[:] = 0.0
            self._refresh()
        return True

    @property
    def is_identity(self) -> bool:
        """True when every slot passes its input unchanged."""
        return self._active.size == 0

    def process(self, x: AudioArray) -> None:
        """Filter ``x`` (channels, frames) float32 in place."""
        act = self._active
        n = x.shape[1]
        gliding = self.pos < self.length
        if act.size == 0:
            self.pos = min(self.pos + n, self.length)
            return
        if not gliding and self._resting(x):
            return
        if not gliding and x.shape[0] == 2:
            if self._buf.shape[1] < n:
                self._buf = np.zeros((2, n))
            _sos_stereo_kernel(self.sos1, act, x, self.z, self._buf)
            if self._watch:
                self._refresh()
            return
        if self._all:
            self.pos = sos_kernel(self.sos0, self.sos1, self.pos, self.length, x, self.z)
        else:
            z = self.z[act]
            self.pos = sos_kernel(self.sos0[act], self.sos1[act], self.pos, self.length, x, z)
            self.z[act] = z
        self.pos = min(self.pos, self.length)
        if self._watch or (gliding and self.pos >= self.length):
            self._refresh()


class VecRamp:
    """Several values gliding together (one position), e.g. ``[mix, feedback]``.

    A change restarts the glide of every value from where it is now; values not
    changed stay put. Frame ``k`` of a glide uses ``t = min(k + 1, length) / length``.
    """

    __slots__ = ("length", "pos", "start", "target")

    def __init__(self, values: list[float]) -> None:
        self.target = np.array(values, dtype=np.float64)
        self.start = self.target.copy()
        self.pos = 0
        self.length = 0

    def current(self) -> NDArray[np.float64]:
        """The values applied at the last processed frame."""
        if self.pos >= self.length:
            return self.target.copy()
        return self.start + (self.target - self.start) * (self.pos / self.length)

    def glide(self, values: list[float], length: int) -> None:
        """Glide from the current values to ``values`` over ``length`` frames (0: jump)."""
        new = np.array(values, dtype=np.float64)
        if length <= 0:
            self.start = new.copy()
            self.pos = self.length = 0
        else:
            self.start = self.current()
            self.pos = 0
            self.length = int(length)
        self.target = new

    def advance(self, frames: int) -> None:
        """Move the glide on by ``frames`` frames."""
        self.pos = min(self.pos + frames, self.length)
