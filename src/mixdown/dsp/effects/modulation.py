"""Modulation: chorus, flanger and phaser.

The LFO is a sine whose phase is a pure function of the absolute frame count,
``phase(n) = phase_a + rate_hz * (n - n_a) / sample_rate`` (the anchor
``(n_a, phase_a)`` moves only when ``rate_hz`` is automated, so the phase stays
continuous), evaluated every :data:`CONTROL_FRAMES` frames on a grid of absolute
frames and interpolated linearly in between. Nothing depends on the block split.

Chorus and flanger read a modulated delay line, ``delay_ms + depth_ms * sin``,
with linear interpolation; the phaser is a chain of first-order all-passes
whose break frequency sweeps ``centre_hz * 2 ** (depth_octaves * sin)``. The
right channel's LFO runs ``stereo_phase_deg`` ahead of the left's.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.effects._common import EffectBase, VecRamp, require_channels

CONTROL_FRAMES = 8
"""LFO values are computed every this many absolute frames and interpolated between."""
TWO_PI = 2.0 * math.pi


@njit(cache=True, nogil=True, fastmath=False)
def _lfo(frame, anchor_frame, anchor_phase, rate_hz, sr, offset):  # pragma: no cover
    ph = anchor_phase + rate_hz * (frame - anchor_frame) / sr + offset
    return math.sin(TWO_PI * (ph - math.floor(ph)))


@njit(cache=True, nogil=True, fastmath=False)
def _glide_at(g0, g1, gpos, glen, i, out):  # pragma: no cover - compiled
    if gpos + i < glen:
        t = (gpos + i + 1) / glen
        for k in range(out.shape[0]):
            out[k] = g0[k] + (g1[k] - g0[k]) * t
    else:
        for k in range(out.shape[0]):
            out[k] = g1[k]


@njit(cache=True, nogil=True, fastmath=False)
def _chorus_kernel(x, buf, ist, start, anchor_frame, anchor_phase, rate_hz, sr, voices,
                   stereo, g0, g1, gpos, glen):  # pragma: no cover - compiled
    # buf: delay line per channel (float64); g: [mix, feedback, delay, depth] (frames)
    nch = x.shape[0]
    n = x.shape[1]
    size = buf.shape[1]
    w = ist[0]
    g = np.empty(4)
    lf0 = np.empty((nch, voices))
    lf1 = np.empty((nch, voices))
    for i in range(n):
        f = start + i
        q = f % CONTROL_FRAMES
        if q == 0 or i == 0:
            f0 = f - q
            for c in range(nch):
                for v in range(voices):
                    off = v / voices + c * stereo
                    lf0[c, v] = _lfo(f0, anchor_frame, anchor_phase, rate_hz, sr, off)
                    lf1[c, v] = _lfo(f0 + CONTROL_FRAMES, anchor_frame, anchor_phase, rate_hz,
                                     sr, off)
        frac_q = q / CONTROL_FRAMES
        _glide_at(g0, g1, gpos, glen, i, g)
        mix = g[0]
        fb = g[1]
        for c in range(nch):
            acc = 0.0
            for v in range(voices):
                lf = lf0[c, v] + (lf1[c, v] - lf0[c, v]) * frac_q
                d = g[2] + g[3] * lf
                if d < 1.0:
                    d = 1.0
                di = math.floor(d)
                frac = d - di
                r0 = w - di
                if r0 < 0:
                    r0 += size
                r1 = r0 - 1
                if r1 < 0:
                    r1 += size
                acc += buf[c, r0] + (buf[c, r1] - buf[c, r0]) * frac
            wet = acc / voices
            buf[c, w] = np.float64(x[c, i]) + fb * wet
            x[c, i] = np.float32(x[c, i] * (1.0 - mix) + wet * mix)
        w += 1
        if w == size:
            w = 0
    ist[0] = w


@njit(cache=True, nogil=True, fastmath=False)
def _phaser_kernel(x, z, last, start, anchor_frame, anchor_phase, rate_hz, sr, stereo,
                   stages, g0, g1, gpos, glen):  # pragma: no cover - compiled
    # z: (channels, stages) all-pass states; last: (channels,) feedback sample;
    # g: [mix, feedback, centre_hz, depth_octaves]
    nch = x.shape[0]
    n = x.shape[1]
    nyq = 0.49 * sr
    g = np.empty(4)
    ac0 = np.empty(nch)
    ac1 = np.empty(nch)
    for i in range(n):
        f = start + i
        q = f % CONTROL_FRAMES
        _glide_at(g0, g1, gpos, glen, i, g)
        if q == 0 or i == 0 or gpos + i <= glen:  # a pure function of the frame
            f0 = f - q
            for c in range(nch):
                off = c * stereo
                l0 = _lfo(f0, anchor_frame, anchor_phase, rate_hz, sr, off)
                l1 = _lfo(f0 + CONTROL_FRAMES, anchor_frame, anchor_phase, rate_hz, sr, off)
                t0 = math.tan(math.pi * min(g[2] * 2.0 ** (g[3] * l0), nyq) / sr)
                t1 = math.tan(math.pi * min(g[2] * 2.0 ** (g[3] * l1), nyq) / sr)
                ac0[c] = (t0 - 1.0) / (t0 + 1.0)
                ac1[c] = (t1 - 1.0) / (t1 + 1.0)
        frac_q = q / CONTROL_FRAMES
        mix = g[0]
        fb = g[1]
        for c in range(nch):
            a = ac0[c] + (ac1[c] - ac0[c]) * frac_q
            dry = np.float64(x[c, i])
            v = dry + fb * last[c]
            for s in range(stages):
                y = a * v + z[c, s]
                z[c, s] = v - a * y
                v = y
            last[c] = v
            x[c, i] = np.float32(dry * (1.0 - mix) + v * mix)


class _Modulated(EffectBase):
    """Shared LFO anchor and the glides of ``GLIDED`` parameters."""

    GLIDED: tuple[str, ...] = ("mix", "feedback")

    def __init__(self, values: dict[str, object]) -> None:
        super().__init__(values)
        self._anchor_frame = 0
        self._anchor_phase = 0.0
        self._rate = float(self._p["rate_hz"])
        self._glide = VecRamp([float(self._p[k]) for k in self.GLIDED])

    def lfo_phase(self, frame: int) -> float:
        """LFO phase in cycles (0..1) at absolute ``frame`` for the current rate."""
        ph = self._anchor_phase + self._rate * (frame - self._anchor_frame) / self.sample_rate
        return ph - math.floor(ph)

    def _reset_mod(self) -> None:
        self._anchor_frame = 0
        self._anchor_phase = 0.0
        self._rate = float(self._p["rate_hz"])
        self._glide.glide([float(self._p[k]) for k in self.GLIDED], 0)

    def _update(self, name: str) -> None:
        if name == "rate_hz":
            # the LFO grid point at or before the current frame keeps its phase
            grid = self._frame - self._frame % CONTROL_FRAMES
            self._anchor_phase = self.lfo_phase(grid)
            self._anchor_frame = grid
            self._rate = float(self._p["rate_hz"])
        elif name in self.GLIDED:
            self._glide.glide([float(self._p[k]) for k in self.GLIDED], self._glide_frames)

    def _glides(self, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
        r = self._glide
        return r.start * scale, r.target * scale, r.pos, r.length


class _DelayModulated(_Modulated):
    MAX_MS = 60.0
    GLIDED = ("mix", "feedback", "delay_ms", "depth_ms")

    def _validate(self) -> None:
        if self._p["depth_ms"] > self._p["delay_ms"]:
            raise ParameterError(
                f"{self.TYPE}: depth_ms ({self._p['depth_ms']:g}) must not exceed delay_ms "
                f"({self._p['delay_ms']:g}); lower depth_ms or raise delay_ms"
            )

    def _prepare(self) -> None:
        require_channels(self.TYPE, self.channels)
        self._buf = np.zeros((self.channels, round(self.MAX_MS * 1e-3 * self.sample_rate) + 4))
        self._ist = np.zeros(1, dtype=np.int64)

    def _reset(self) -> None:
        self._buf[:] = 0.0
        self._ist[:] = 0
        self._reset_mod()

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        p = self._p
        sr = self.sample_rate
        ms = sr * 1e-3
        g0, g1, gpos, glen = self._glides(np.array([1.0, 1.0, ms, ms]))
        _chorus_kernel(block, self._buf, self._ist, self._frame, self._anchor_frame,
                       self._anchor_phase, self._rate, float(sr), int(p.get("voices", 1)),
                       p["stereo_phase_deg"] / 360.0, g0, g1, gpos, glen)
        self._glide.advance(block.shape[1])
        return block


def _common_params(rate: float, mix: float, fb_min: float, fb_max: float, fb: float,
                   stereo: float) -> tuple[Param, ...]:
    return (
        Param("rate_hz", rate, "LFO rate in Hz", min=0.01, max=20.0),
        Param("mix", mix, "dry/wet balance: 0 = input only, 1 = effect only", min=0.0, max=1.0),
        Param("feedback", fb, f"feedback of the effect into itself, {fb_min:g}..{fb_max:g}",
              min=fb_min, max=fb_max),
        Param("stereo_phase_deg", stereo, "LFO phase of the right channel ahead of the left, "
              "in degrees", min=0.0, max=180.0),
    )


_CHORUS_PARAMS = (
    *_common_params(0.8, 0.5, 0.0, 0.9, 0.0, 90.0),
    Param("delay_ms", 12.0, "centre delay of the voices in ms", min=1.0, max=40.0),
    Param("depth_ms", 3.0, "delay swing either side of delay_ms, in ms", min=0.0, max=20.0),
    Param("voices", 2, "number of delayed voices, LFO phases spread evenly", kind="int",
          min=1, max=4, automatable=False),
)


@register_device("chorus", kind="effect", params=_CHORUS_PARAMS,
                 doc="Chorus: 1 to 4 voices of a sine-modulated delay, stereo-spread LFO.")
class Chorus(_DelayModulated):
    """Multi-voice chorus."""

    TYPE = "chorus"
    PARAMS = _CHORUS_PARAMS

    def __init__(self, *, rate_hz: float = 0.8, mix: float = 0.5, feedback: float = 0.0,
                 stereo_phase_deg: float = 90.0, delay_ms: float = 12.0, depth_ms: float = 3.0,
                 voices: int = 2) -> None:
        super().__init__(locals())


_FLANGER_PARAMS = (
    *_common_params(0.25, 0.5, -0.95, 0.95, 0.5, 90.0),
    Param("delay_ms", 2.5, "centre delay in ms", min=0.1, max=10.0),
    Param("depth_ms", 2.0, "delay swing either side of delay_ms, in ms", min=0.0, max=10.0),
)


@register_device("flanger", kind="effect", params=_FLANGER_PARAMS,
                 doc="Flanger: a short sine-modulated delay with feedback (comb sweep).")
class Flanger(_DelayModulated):
    """Flanger (one voice, feedback of either sign)."""

    TYPE = "flanger"
    PARAMS = _FLANGER_PARAMS

    def __init__(self, *, rate_hz: float = 0.25, mix: float = 0.5, feedback: float = 0.5,
                 stereo_phase_deg: float = 90.0, delay_ms: float = 2.5,
                 depth_ms: float = 2.0) -> None:
        super().__init__(locals())


_PHASER_PARAMS = (
    *_common_params(0.5, 0.5, -0.9, 0.9, 0.3, 90.0),
    Param("centre_hz", 800.0, "centre break frequency of the all-passes in Hz", min=20.0,
          max=10000.0),
    Param("depth_octaves", 2.0, "sweep either side of centre_hz, in octaves", min=0.0,
          max=5.0),
    Param("stages", 4, "first-order all-pass stages (2..12, even: stages / 2 notches)",
          kind="int", min=2, max=12, automatable=False),
)


@register_device("phaser", kind="effect", params=_PHASER_PARAMS,
                 doc="Phaser: swept first-order all-pass chain with feedback.")
class Phaser(_Modulated):
    """Phaser; with mix 0.5 each pair of stages makes one notch."""

    TYPE = "phaser"
    PARAMS = _PHASER_PARAMS
    GLIDED = ("mix", "feedback", "centre_hz", "depth_octaves")

    def __init__(self, *, rate_hz: float = 0.5, mix: float = 0.5, feedback: float = 0.3,
                 stereo_phase_deg: float = 90.0, centre_hz: float = 800.0,
                 depth_octaves: float = 2.0, stages: int = 4) -> None:
        super().__init__(locals())

    def _validate(self) -> None:
        if self._p["stages"] % 2:
            raise ParameterError(f"phaser: stages must be even (2, 4, .. 12), got "
                                 f"{self._p['stages']}")

    def _prepare(self) -> None:
        require_channels(self.TYPE, self.channels)
        self._z = np.zeros((self.channels, self._p["stages"]))
        self._last = np.zeros(self.channels)

    def _reset(self) -> None:
        self._z[:] = 0.0
        self._last[:] = 0.0
        self._reset_mod()

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        p = self._p
        g0, g1, gpos, glen = self._glides(np.ones(4))
        _phaser_kernel(block, self._z, self._last, self._frame, self._anchor_frame,
                       self._anchor_phase, self._rate, float(self.sample_rate),
                       p["stereo_phase_deg"] / 360.0, p["stages"], g0, g1, gpos, glen)
        self._glide.advance(block.shape[1])
        return block
