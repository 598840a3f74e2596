"""Resonant multimode filter: a TPT ("Cytomic") state-variable filter, 12 or 24 dB/oct.

One stage is Andrew Simper's trapezoidal SVF, the bilinear transform of the analog
prototype (cutoff prewarped, so the digital response is the analog one at
``tan(pi f / fs) / tan(pi fc / fs)``)::

    low-pass  1 / (s^2 + k s + 1)      band-pass  s / (s^2 + k s + 1)
    high-pass s^2 / (s^2 + k s + 1)    notch      (s^2 + 1) / (s^2 + k s + 1)

with damping ``k = K0 (1 - r) - K_OSC r`` for resonance ``r``: at ``r = 0`` a
Butterworth response (Q = 0.707, -3.01 dB at the cutoff), peak gain about ``1 / k``
near ``r = 1``. The band-pass output is not normalised: its skirts have unity slope
gain and its peak at the cutoff is ``1 / k``. ``slope_db = 24`` cascades a fixed stage
(the low-Q pole pair of a 4th-order Butterworth) with a resonant stage (the high-Q
pair), so that ``r = 0`` is a 4th-order Butterworth.

Stability and self-oscillation: the damping actually used is ``k + GAMMA * v1^2``
with ``v1`` the stage's band-pass output (an amplitude-dependent damping, as in a van
der Pol oscillator), solved implicitly each sample (the cubic for ``v1`` has one real
root; a few Newton steps). Quiet signals see the linear filter; loud ones are damped
more (a band-pass level of 1 adds 0.053 to ``k``, 4 % of it at resonance 0), so the
output is bounded for any input. At
``r = 1``, ``k`` is slightly negative: an impulse (or any input) starts a sine at the
cutoff that settles at :data:`SELF_OSC_AMPLITUDE` peak and rings on with no input.

``cutoff_hz`` glides in log-frequency and ``resonance``, ``drive_db`` and ``mix``
glide linearly over ``SMOOTH_MS``, with the coefficients recomputed every sample of a
glide, so sweeps do not zipper; the glide is a pure function of the frames since the
change, so the output does not depend on the block split.

``drive_db`` is a ``tanh`` before the filter at the base rate, not oversampled: it is
meant as gentle colour, and the low-pass modes remove most of what it folds back above
the cutoff. Quiet signals gain exactly ``drive_db``; over the first
:data:`DRIVE_FADE_DB` the shaper fades in from a plain gain (``g x (1 - w) +
tanh(g x) w``, ``w = drive_db / DRIVE_FADE_DB``), so 0 dB is linear and the drive is
continuous.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError
from mixdown.core.units import db_to_gain
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.effects._common import EffectBase, VecRamp

MODES = ("lowpass", "highpass", "bandpass", "notch")
K_OSC = 0.01
"""Negative damping at resonance 1 (self-oscillation starts above r = K0 / (K0 + K_OSC))."""
GAMMA = 0.0533
"""Amplitude-dependent damping ``GAMMA * v1^2`` that bounds the output."""
SELF_OSC_AMPLITUDE = math.sqrt(4.0 * K_OSC / (3.0 * GAMMA))
"""Peak level of the self-oscillation at resonance 1 (about 0.5), from the energy balance
``-K_OSC <v1^2> + GAMMA <v1^4> = 0`` of a sine."""
DRIVE_FADE_DB = 6.0
"""``drive_db`` over which the tanh fades in from a plain gain (see the module doc)."""
K_12 = math.sqrt(2.0)
"""Damping of the 12 dB/oct stage at resonance 0 (Butterworth)."""
K_24 = (2.0 * math.cos(math.pi / 8.0), 2.0 * math.cos(3.0 * math.pi / 8.0))
"""Dampings of the 4th-order Butterworth pole pairs: the fixed stage, the resonant one."""


def damping(resonance: float, slope_db: int = 12) -> tuple[float, ...]:
    """The linear damping ``k`` of each stage (first to last) for ``resonance`` 0..1."""
    if slope_db == 24:
        return K_24[0], K_24[1] * (1.0 - resonance) - K_OSC * resonance
    return (K_12 * (1.0 - resonance) - K_OSC * resonance,)


@njit(cache=True, nogil=True, fastmath=False)
def _coefs(p, sr):  # pragma: no cover - compiled
    # p: [log2 cutoff, k of the resonant stage, drive gain, mix, tanh share]
    # -> g = tan(pi fc / fs)
    fc = min(2.0 ** p[0], 0.49 * sr)
    return math.tan(math.pi * fc / sr)


@njit(cache=True, nogil=True, fastmath=False, inline="always")
def _band(rhs, a, b):  # pragma: no cover - compiled
    # the band-pass output v of one TPT step with damping k + GAMMA v^2: the real root of
    # a v^3 + b v = rhs (a, b > 0: increasing, one root). Newton from an upper bound of |v|
    # (both b |v| and a |v|^3 are below |rhs|) converges monotonically; quiet signals stop
    # after one step, at the linear solution rhs / b to within a relative (a / b) v^2.
    m = abs(rhs)
    v = m / b
    if a * m * m > b * b * b:  # loud: the cubic's bound is the tighter one
        v = (m / a) ** (1.0 / 3.0)
    for _ in range(60):
        av2 = a * v * v
        step = ((av2 + b) * v - m) / (3.0 * av2 + b)
        v -= step
        if step <= 1e-15 * v:
            break
    return v if rhs >= 0.0 else -v


@njit(cache=True, nogil=True, fastmath=False)
def _svf_kernel(x, z, mode, kfix, g0, g1, gpos, glen, sr):  # pragma: no cover - compiled
    # z: (channels, stages, 2) = [ic1eq, ic2eq]; the last stage is resonant
    nch = x.shape[0]
    n = x.shape[1]
    nst = z.shape[1]
    p = np.empty(5)
    for k in range(5):
        p[k] = g1[k]
    g_steady = _coefs(p, sr)
    for i in range(n):
        if gpos + i < glen:
            t = (gpos + i + 1) / glen
            for k in range(5):
                p[k] = g0[k] + (g1[k] - g0[k]) * t
            g = _coefs(p, sr)
        else:
            for k in range(5):
                p[k] = g1[k]
            g = g_steady
        kres = p[1]
        drive = p[2]
        mix = p[3]
        shape = p[4]
        for c in range(nch):
            dry = np.float64(x[c, i])
            u = dry
            if shape > 0.0:
                u = drive * dry * (1.0 - shape) + math.tanh(drive * dry) * shape
            for s in range(nst):
                kl = kres if s == nst - 1 else kfix
                ic1 = z[c, s, 0]
                ic2 = z[c, s, 1]
                v1 = _band(ic1 + g * (u - ic2), g * GAMMA, 1.0 + g * (g + kl))
                v2 = ic2 + g * v1
                ke = kl + GAMMA * v1 * v1
                z[c, s, 0] = 2.0 * v1 - ic1
                z[c, s, 1] = 2.0 * v2 - ic2
                if mode == 0:
                    u = v2
                elif mode == 1:
                    u = u - ke * v1 - v2
                elif mode == 2:
                    u = v1
                else:
                    u = u - ke * v1
            x[c, i] = np.float32(dry * (1.0 - mix) + u * mix)


_PARAMS = (
    Param("mode", "lowpass", "response: lowpass, highpass, bandpass or notch",
          kind="choice", choices=MODES, automatable=False),
    Param("cutoff_hz", 1000.0, "cutoff in Hz (-3 dB at resonance 0; glides in log-frequency)",
          min=20.0, max=20000.0),
    Param("resonance", 0.3, "0 = Butterworth (Q 0.707), 1 = self-oscillation at the cutoff",
          min=0.0, max=1.0),
    Param("slope_db", 12, "12 or 24 dB/oct (one or two state-variable stages)", kind="int",
          min=12, max=24, automatable=False),
    Param("drive_db", 0.0,
          "gain into a tanh before the filter in dB (0 = off; the tanh fades in over 6 dB)",
          min=0.0, max=24.0),
    Param("mix", 1.0, "dry/wet balance: 0 = input only, 1 = filtered only", min=0.0, max=1.0),
)


@register_device(
    "filter", kind="effect", params=_PARAMS,
    doc="Resonant multimode filter (TPT state-variable: low/high/band-pass, notch; 12 or "
        "24 dB/oct), resonance up to self-oscillation, tanh drive.",
)
class Filter(EffectBase):
    """Resonant state-variable filter; see the module doc for the responses."""

    TYPE = "filter"
    PARAMS = _PARAMS

    def __init__(self, *, mode: str = "lowpass", cutoff_hz: float = 1000.0,
                 resonance: float = 0.3, slope_db: int = 12, drive_db: float = 0.0,
                 mix: float = 1.0) -> None:
        super().__init__(locals())
        self._glide = VecRamp(self._targets())

    def _validate(self) -> None:
        if self._p["slope_db"] not in (12, 24):
            raise ParameterError(f"{self.TYPE}: slope_db must be 12 or 24, got "
                                 f"{self._p['slope_db']}")

    def _targets(self) -> list[float]:
        p = self._p
        return [math.log2(p["cutoff_hz"]), damping(p["resonance"], p["slope_db"])[-1],
                db_to_gain(p["drive_db"]), p["mix"], min(p["drive_db"] / DRIVE_FADE_DB, 1.0)]

    def _prepare(self) -> None:
        self._z = np.zeros((self.channels, 2 if self._p["slope_db"] == 24 else 1, 2))

    def _reset(self) -> None:
        self._z[:] = 0.0
        self._glide.glide(self._targets(), 0)

    def _update(self, name: str) -> None:
        self._glide.glide(self._targets(), self._glide_frames)

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        g = self._glide
        _svf_kernel(block, self._z, MODES.index(self._p["mode"]), K_24[0], g.start, g.target,
                    g.pos, g.length, float(self.sample_rate))
        g.advance(block.shape[1])
        return block
