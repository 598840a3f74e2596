"""Saturation: a memoryless waveshaper with optional 2x oversampling.

Shapers of ``u = drive * x``, each with slope 1 at 0 (so quiet signals gain
exactly ``drive_db``) and bounded:

- ``tanh``: ``tanh(u)``, odd harmonics, |y| < 1;
- ``soft``: cubic ``u - 4 u^3 / 27`` up to |u| = 1.5, then +-1 (odd harmonics);
- ``hard``: ``clip(u, -1, 1)`` (odd harmonics, the brightest);
- ``tube``: asymmetric ``(tanh(u + b) - tanh(b)) / (1 - tanh(b)^2)`` with
  ``b`` = :data:`TUBE_BIAS`: even and odd harmonics, then a 5 Hz DC blocker.

Oversampling runs the shaper at twice the rate between two linear-phase
half-band FIR filters (63 taps, Kaiser window, > 80 dB stop band), computed with
carried history, so it is block-invariant; it costs :data:`OVERSAMPLE_LATENCY`
frames of latency, and the dry path is delayed to match.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mixdown.core.audio import AudioArray
from mixdown.core.units import db_to_gain
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.effects._common import EffectBase, VecRamp

TUBE_BIAS = 0.25
"""Operating-point offset of the ``tube`` shaper (sets its even-harmonic content)."""
MODES = ("tanh", "soft", "hard", "tube")
_TAPS = 63


def _halfband() -> np.ndarray:
    from mixdown.dsp.filters import kaiser_lowpass

    h = kaiser_lowpass(_TAPS, 0.5, 8.6)
    h[1::2] = 0.0  # exact half-band: odd taps vanish except the centre, which is 1/2
    h[_TAPS // 2] = 0.5
    h[0::2] *= 0.5 / h[0::2].sum()  # each polyphase branch has unit gain at DC (x2)
    return h


HALFBAND: np.ndarray = _halfband()
"""The half-band low-pass used to upsample and downsample (at the doubled rate)."""
OVERSAMPLE_LATENCY = (_TAPS - 1) // 2
"""Frames of latency added by 2x oversampling (two 63-tap filters at twice the rate)."""
_H_EVEN = np.ascontiguousarray(HALFBAND[0::2])  # 32 taps; the odd phase is 0.5 at tap 31
_H_MID = float(HALFBAND[_TAPS // 2])
_DC_HZ = 5.0


@njit(cache=True, nogil=True, fastmath=False, inline="always")
def _shape(u, mode, tb, tnorm):  # pragma: no cover - compiled
    if mode == 0:
        return math.tanh(u)
    if mode == 1:
        if u >= 1.5:
            return 1.0
        if u <= -1.5:
            return -1.0
        return u - (4.0 / 27.0) * u * u * u
    if mode == 2:
        return min(max(u, -1.0), 1.0)
    return (math.tanh(u + TUBE_BIAS) - tb) * tnorm


@njit(cache=True, nogil=True, fastmath=False, inline="always")
def _dot(h, buf, start):  # pragma: no cover - compiled
    # four partial sums in a fixed order: deterministic, and 4x the parallelism
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    for k in range(0, h.shape[0], 4):
        a0 += h[k] * buf[start + k]
        a1 += h[k + 1] * buf[start + k + 1]
        a2 += h[k + 2] * buf[start + k + 2]
        a3 += h[k + 3] * buf[start + k + 3]
    return (a0 + a1) + (a2 + a3)


@njit(cache=True, nogil=True, fastmath=False)
def _saturation_kernel(x, mode, oversample, h, hmid, xh, se, so, dry, dc, ist, g0, g1, gpos,
                       glen, dc_r):  # pragma: no cover - compiled
    # g: [drive, mix, output] (linear). Histories are doubled ring buffers: a value is
    # written at p and p + N so that the window [p, p + N) is contiguous, newest first.
    nch = x.shape[0]
    n = x.shape[1]
    nh = h.shape[0]          # 32
    nodd = so.shape[1] // 2  # 17
    ndry = dry.shape[1]
    tb = math.tanh(TUBE_BIAS)
    tnorm = 1.0 / (1.0 - tb * tb)
    for c in range(nch):
        xc = x[c]
        xhc = xh[c]
        sec = se[c]
        soc = so[c]
        dryc = dry[c]
        p = ist[0]
        po = ist[1]
        pd = ist[2]
        for i in range(n):
            if gpos + i < glen:
                t = (gpos + i + 1) / glen
                drive = g0[0] + (g1[0] - g0[0]) * t
                mix = g0[1] + (g1[1] - g0[1]) * t
                out = g0[2] + (g1[2] - g0[2]) * t
            else:
                drive = g1[0]
                mix = g1[1]
                out = g1[2]
            v = np.float64(xc[i])
            if oversample:
                p = p - 1 if p > 0 else nh - 1
                po = po - 1 if po > 0 else nodd - 1
                # upsample: even phase = 2 * sum h[2k] x[n-k]; odd phase = x[n-15]
                xhc[p] = v
                xhc[p + nh] = v
                ue = 2.0 * _dot(h, xhc, p)
                uo = xhc[p + 15]
                e = _shape(drive * ue, mode, tb, tnorm)
                sec[p] = e
                sec[p + nh] = e
                o = _shape(drive * uo, mode, tb, tnorm)
                soc[po] = o
                soc[po + nodd] = o
                wet = _dot(h, sec, p) + hmid * soc[po + nodd - 1]
                dryc[pd] = v  # the dry path delayed by the latency
                pd = pd + 1 if pd + 1 < ndry else 0
                dv = dryc[pd]
            else:
                wet = _shape(drive * v, mode, tb, tnorm)
                dv = v
            if mode == 3:
                y = wet - dc[c, 0] + dc_r * dc[c, 1]
                dc[c, 0] = wet
                dc[c, 1] = y
                wet = y
            xc[i] = np.float32((dv * (1.0 - mix) + wet * mix) * out)
        if c == nch - 1:
            ist[0] = p
            ist[1] = po
            ist[2] = pd


_PARAMS = (
    Param("drive_db", 12.0, "gain into the shaper in dB (quiet signals gain exactly this)",
          min=0.0, max=48.0),
    Param("mode", "tanh", "shaper: tanh, soft (cubic), hard (clip), tube (asymmetric)",
          kind="choice", choices=MODES, automatable=False),
    Param("mix", 1.0, "dry/wet balance: 0 = input only, 1 = saturated only", min=0.0, max=1.0),
    Param("output_db", 0.0, "output gain in dB", min=-48.0, max=12.0),
    Param("oversample", True, "run the shaper at 2x the rate (less aliasing, 31 frames "
          "latency)", kind="bool", automatable=False),
)


@register_device(
    "saturation", kind="effect", params=_PARAMS,
    doc="Waveshaping saturation (tanh, soft, hard, tube) with optional 2x oversampling.",
)
class Saturation(EffectBase):
    """Waveshaper; see the module doc for the curves."""

    TYPE = "saturation"
    PARAMS = _PARAMS

    def __init__(self, *, drive_db: float = 12.0, mode: str = "tanh", mix: float = 1.0,
                 output_db: float = 0.0, oversample: bool = True) -> None:
        super().__init__(locals())
        self._glide = VecRamp(self._targets())

    def _targets(self) -> list[float]:
        p = self._p
        return [db_to_gain(p["drive_db"]), p["mix"], db_to_gain(p["output_db"])]

    def _prepare(self) -> None:
        ch = self.channels
        self.latency_frames = OVERSAMPLE_LATENCY if self._p["oversample"] else 0
        nh = _H_EVEN.shape[0]
        self._xh = np.zeros((ch, 2 * nh))
        self._se = np.zeros((ch, 2 * nh))
        self._so = np.zeros((ch, 2 * 17))
        self._dry = np.zeros((ch, OVERSAMPLE_LATENCY + 1))
        self._dc = np.zeros((ch, 2))
        self._ist = np.zeros(3, dtype=np.int64)

    def _reset(self) -> None:
        for a in (self._xh, self._se, self._so, self._dry, self._dc):
            a[:] = 0.0
        self._ist[:] = 0
        self._glide.glide(self._targets(), 0)

    def _update(self, name: str) -> None:
        self._glide.glide(self._targets(), self._glide_frames)

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        p = self._p
        g = self._glide
        _saturation_kernel(block, MODES.index(p["mode"]), p["oversample"], _H_EVEN, _H_MID,
                           self._xh, self._se, self._so, self._dry, self._dc, self._ist,
                           g.start, g.target, g.pos, g.length,
                           math.exp(-2.0 * math.pi * _DC_HZ / self.sample_rate))
        g.advance(block.shape[1])
        return block
