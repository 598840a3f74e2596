"""Lo-fi devices: bit crusher, tape wow and flutter, vinyl crackle and noise.

- ``bitcrush``: sample-and-hold at ``rate_hz`` (a new input sample whenever the hold
  phase ``rate_hz * frames / sample_rate`` passes an integer), then rounding to a step
  of ``2 ** (1 - bits)`` (``bits`` may be fractional), optionally with TPDF dither of
  +-1 step. Undithered, the quantisation noise of a full-scale sine is
  ``6.02 bits + 1.76`` dB below it; TPDF dither adds 4.77 dB of noise.
- ``tape``: ``tanh`` saturation, then a delay line read at
  ``base + wow_ms sin(2 pi wow_hz t + a) + flutter_ms sin(2 pi flutter_hz t + b)``
  (4-point cubic interpolation; ``a`` and ``b`` come from ``seed``), so a tone's pitch
  swings by ``2 pi rate depth`` (relative); then a head bump (bell) and a 12 dB/oct
  high-frequency roll-off. The device reports the constant ``base`` delay as latency.
- ``vinyl``: the input through a ``wear`` low-pass, plus crackle (clicks at random
  intervals, uniform between 0.5 and 1.5 times ``1 / crackle_per_s``, so the count over
  a few seconds is close to the setting; random level between a quarter and all of
  ``crackle_db``, random polarity, 0.1 ms decay), hiss (white, ``hiss_db`` RMS,
  independent per channel) and rumble (one noise low-passed twice at 20 Hz and
  high-passed at 5 Hz, ``rumble_db`` RMS).

All randomness comes from seeded PCG64 generators drawn frame by frame (one generator
per stream), and every LFO and hold phase is a pure function of the absolute frame, so
a seed gives the same output for any split into blocks.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mixdown.core.audio import AudioArray
from mixdown.core.units import db_to_gain
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.effects._common import (
    IDENTITY_SOS,
    EffectBase,
    SosFilter,
    VecRamp,
    butterworth_sections,
    peaking_section,
)

TWO_PI = 2.0 * math.pi
SEED_MAX = 999_999
WOW_MAX_MS = 5.0
FLUTTER_MAX_MS = 1.0
CLICK_DECAY_MS = 0.1
"""Time constant of a crackle click's exponential decay, in ms."""
RUMBLE_HZ = 20.0
"""Corner of the two one-pole low-passes that shape the rumble noise, in Hz."""
RUMBLE_DC_HZ = 5.0
"""Corner of the one-pole high-pass that keeps DC out of the rumble, in Hz."""
TAPE_SATURATION_DRIVE = 3.0
"""``tape``: ``saturation = 1`` is ``tanh(3 x) / 3`` (quiet signals keep their level)."""


def _seed_param(what: str) -> Param:
    return Param("seed", 0, f"seed of the {what} (same seed, same output)", kind="int",
                 min=0, max=SEED_MAX, automatable=False)


def _generator(seed: int, stream: int) -> np.random.Generator:
    """An independent PCG64 generator for random stream ``stream`` of ``seed``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), stream])))


class _Phase:
    """A phase in cycles that is a pure function of the absolute frame.

    ``phase(n) = anchor_phase + rate_hz * (n - anchor_frame) / sample_rate``; a rate
    change re-anchors at the current frame, so the phase stays continuous.
    """

    __slots__ = ("frame", "phase", "rate")

    def __init__(self, rate_hz: float, phase: float = 0.0) -> None:
        self.frame = 0
        self.phase = phase
        self.rate = rate_hz

    def at(self, frame: int, sample_rate: int) -> float:
        """The phase in cycles at ``frame``."""
        return self.phase + self.rate * (frame - self.frame) / sample_rate

    def set_rate(self, rate_hz: float, frame: int, sample_rate: int) -> None:
        """Change the rate from ``frame`` on."""
        ph = self.at(frame, sample_rate)
        self.phase = ph - math.floor(ph)
        self.frame = frame
        self.rate = rate_hz


# -- bitcrush -------------------------------------------------------------------------------

@njit(cache=True, nogil=True, fastmath=False)
def _bitcrush_kernel(x, held, start, af, aph, rate, sr, dither, g0, g1, gpos,
                     glen):  # pragma: no cover - compiled
    # g: [bits, mix]; dither: (frames, channels, 2) uniforms, or (0, 0, 2) for none
    nch = x.shape[0]
    n = x.shape[1]
    hold = rate < sr
    use_dither = dither.shape[0] > 0
    step_steady = 2.0 ** (1.0 - g1[0])
    for i in range(n):
        if gpos + i < glen:
            t = (gpos + i + 1) / glen
            step = 2.0 ** (1.0 - (g0[0] + (g1[0] - g0[0]) * t))
            mix = g0[1] + (g1[1] - g0[1]) * t
        else:
            step = step_steady
            mix = g1[1]
        f = start + i
        take = True
        if hold and f > 0:
            take = (math.floor(aph + rate * (f - af) / sr)
                    != math.floor(aph + rate * (f - 1 - af) / sr))
        for c in range(nch):
            v = np.float64(x[c, i])
            if take:
                held[c] = v
            d = dither[i, c, 0] - dither[i, c, 1] if use_dither else 0.0
            wet = step * math.floor(held[c] / step + d + 0.5)
            x[c, i] = np.float32(v * (1.0 - mix) + wet * mix)


_BITCRUSH_PARAMS = (
    Param("bits", 8.0, "bit depth, 1..24 (fractional values allowed): step 2^(1 - bits)",
          min=1.0, max=24.0),
    Param("rate_hz", 48000.0, "sample-and-hold rate in Hz (at or above the sample rate: off)",
          min=100.0, max=192000.0),
    Param("dither", False, "add TPDF dither of +-1 step before rounding (seeded)", kind="bool",
          automatable=False),
    Param("mix", 1.0, "dry/wet balance: 0 = input only, 1 = crushed only", min=0.0, max=1.0),
    _seed_param("dither noise"),
)


@register_device(
    "bitcrush", kind="effect", params=_BITCRUSH_PARAMS,
    doc="Bit crusher: bit-depth reduction (optional seeded TPDF dither) and sample-rate "
        "reduction by hold.",
)
class Bitcrush(EffectBase):
    """Sample-and-hold then quantisation; see the module doc."""

    TYPE = "bitcrush"
    PARAMS = _BITCRUSH_PARAMS

    def __init__(self, *, bits: float = 8.0, rate_hz: float = 48000.0, dither: bool = False,
                 mix: float = 1.0, seed: int = 0) -> None:
        super().__init__(locals())
        self._glide = VecRamp(self._targets())
        self._hold = _Phase(self._p["rate_hz"])

    def _targets(self) -> list[float]:
        return [self._p["bits"], self._p["mix"]]

    def _prepare(self) -> None:
        self._held = np.zeros(self.channels)

    def _reset(self) -> None:
        self._held[:] = 0.0
        self._hold = _Phase(self._p["rate_hz"])
        self._glide.glide(self._targets(), 0)
        self._rng = _generator(self._p["seed"], 0)

    def _update(self, name: str) -> None:
        if name == "rate_hz":
            self._hold.set_rate(self._p["rate_hz"], self._frame, self.sample_rate)
        else:
            self._glide.glide(self._targets(), self._glide_frames)

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        n = block.shape[1]
        dither = (self._rng.random((n, self.channels, 2)) if self._p["dither"]
                  else np.zeros((0, 0, 2)))
        g, h = self._glide, self._hold
        _bitcrush_kernel(block, self._held, self._frame, h.frame, h.phase, h.rate,
                         float(self.sample_rate), dither, g.start, g.target, g.pos, g.length)
        g.advance(n)
        return block


# -- tape -----------------------------------------------------------------------------------

@njit(cache=True, nogil=True, fastmath=False)
def _tape_kernel(x, buf, ist, start, wow, flut, sr, base, g0, g1, gpos,
                 glen):  # pragma: no cover - compiled
    # wow/flut: [anchor frame, anchor phase, rate]; g: [wow ms, flutter ms, saturation drive]
    nch = x.shape[0]
    n = x.shape[1]
    size = buf.shape[1]
    w = ist[0]
    for i in range(n):
        if gpos + i < glen:
            t = (gpos + i + 1) / glen
            wd = g0[0] + (g1[0] - g0[0]) * t
            fd = g0[1] + (g1[1] - g0[1]) * t
            k = g0[2] + (g1[2] - g0[2]) * t
        else:
            wd = g1[0]
            fd = g1[1]
            k = g1[2]
        f = start + i
        pw = wow[1] + wow[2] * (f - wow[0]) / sr
        pf = flut[1] + flut[2] * (f - flut[0]) / sr
        d = base + (wd * math.sin(TWO_PI * (pw - math.floor(pw)))
                    + fd * math.sin(TWO_PI * (pf - math.floor(pf)))) * 1e-3 * sr
        r = w - d
        j = math.floor(r)
        fr = r - j
        j0 = int(j) % size
        for c in range(nch):
            v = np.float64(x[c, i])
            if k > 1e-9:
                v = math.tanh(k * v) / k
            buf[c, w] = v
            ym1 = buf[c, (j0 - 1) % size]
            y0 = buf[c, j0]
            y1 = buf[c, (j0 + 1) % size]
            y2 = buf[c, (j0 + 2) % size]
            # 4-point, 3rd-order Hermite (Catmull-Rom)
            c1 = 0.5 * (y1 - ym1)
            c2 = ym1 - 2.5 * y0 + 2.0 * y1 - 0.5 * y2
            c3 = 0.5 * (y2 - ym1) + 1.5 * (y0 - y1)
            x[c, i] = np.float32(((c3 * fr + c2) * fr + c1) * fr + y0)
        w = w + 1 if w + 1 < size else 0
    ist[0] = w


_TAPE_PARAMS = (
    Param("wow_ms", 0.6, f"wow depth: peak delay swing in ms (max {WOW_MAX_MS:g})",
          min=0.0, max=WOW_MAX_MS),
    Param("wow_hz", 0.8, "wow rate in Hz", min=0.05, max=5.0),
    Param("flutter_ms", 0.05, f"flutter depth: peak delay swing in ms (max {FLUTTER_MAX_MS:g})",
          min=0.0, max=FLUTTER_MAX_MS),
    Param("flutter_hz", 9.0, "flutter rate in Hz", min=2.0, max=30.0),
    Param("saturation", 0.3, "tape saturation 0..1: tanh(3 s x) / (3 s); 0 = linear",
          min=0.0, max=1.0),
    Param("head_bump_db", 2.0, "head-bump bell gain in dB (0 = off)", min=0.0, max=6.0),
    Param("head_bump_hz", 80.0, "head-bump centre frequency in Hz", min=30.0, max=250.0),
    Param("rolloff_hz", 12000.0, "high-frequency roll-off: 12 dB/oct low-pass -3 dB point in Hz",
          min=2000.0, max=20000.0),
    _seed_param("wow and flutter phases"),
)


@register_device(
    "tape", kind="effect", params=_TAPE_PARAMS,
    doc="Tape: wow and flutter (seeded LFOs on a fractional delay), saturation, head bump "
        "and high-frequency roll-off.",
)
class Tape(EffectBase):
    """Tape transport and head colour; see the module doc."""

    TYPE = "tape"
    PARAMS = _TAPE_PARAMS

    def __init__(self, *, wow_ms: float = 0.6, wow_hz: float = 0.8, flutter_ms: float = 0.05,
                 flutter_hz: float = 9.0, saturation: float = 0.3, head_bump_db: float = 2.0,
                 head_bump_hz: float = 80.0, rolloff_hz: float = 12000.0,
                 seed: int = 0) -> None:
        super().__init__(locals())
        self._glide = VecRamp(self._targets())
        self._wow = _Phase(wow_hz)
        self._flutter = _Phase(flutter_hz)

    def _targets(self) -> list[float]:
        p = self._p
        return [p["wow_ms"], p["flutter_ms"], TAPE_SATURATION_DRIVE * p["saturation"]]

    def design(self, sample_rate: int) -> np.ndarray:
        """Head bump and roll-off as 2 SOS rows."""
        p = self._p
        bump = (peaking_section(p["head_bump_hz"], p["head_bump_db"], 1.0, sample_rate)
                if p["head_bump_db"] > 0 else IDENTITY_SOS.copy())
        (lp,) = butterworth_sections("lowpass", p["rolloff_hz"], 2, sample_rate)
        return np.vstack([bump, lp])

    def _prepare(self) -> None:
        sr = self.sample_rate
        self._base = math.ceil((WOW_MAX_MS + FLUTTER_MAX_MS) * 1e-3 * sr) + 2
        self.latency_frames = self._base
        size = 1 << (2 * self._base + 8).bit_length()
        self._buf = np.zeros((self.channels, size))
        self._ist = np.zeros(1, dtype=np.int64)
        self._filter = SosFilter(2, self.channels)

    def _reset(self) -> None:
        self._buf[:] = 0.0
        self._ist[:] = self._base  # the write index starts one delay ahead of 0
        rng = _generator(self._p["seed"], 0)
        self._wow = _Phase(self._p["wow_hz"], float(rng.random()))
        self._flutter = _Phase(self._p["flutter_hz"], float(rng.random()))
        self._glide.glide(self._targets(), 0)
        self._filter.reset()
        self._filter.set(self.design(self.sample_rate), 0)

    def _update(self, name: str) -> None:
        if name == "wow_hz":
            self._wow.set_rate(self._p[name], self._frame, self.sample_rate)
        elif name == "flutter_hz":
            self._flutter.set_rate(self._p[name], self._frame, self.sample_rate)
        elif name in ("head_bump_db", "head_bump_hz", "rolloff_hz"):
            self._filter.set(self.design(self.sample_rate), self._glide_frames)
        else:
            self._glide.glide(self._targets(), self._glide_frames)

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        g = self._glide
        lfo = [np.array([p.frame, p.phase, p.rate]) for p in (self._wow, self._flutter)]
        _tape_kernel(block, self._buf, self._ist, self._frame, lfo[0], lfo[1],
                     float(self.sample_rate), float(self._base), g.start, g.target, g.pos,
                     g.length)
        g.advance(block.shape[1])
        self._filter.process(block)
        return block


# -- vinyl ----------------------------------------------------------------------------------

@njit(cache=True, nogil=True, fastmath=False)
def _vinyl_kernel(x, hiss, crackle, rumble, st, sr, click_a, rum_a, rum_r, rum_norm, g0, g1,
                  gpos, glen):  # pragma: no cover - compiled
    # g: [crackle gain, clicks per second, hiss gain, rumble gain];
    # st: [click, rumble lp1, rumble lp2, frames to the next click (< 0: none pending),
    #      rumble high-pass]
    nch = x.shape[0]
    n = x.shape[1]
    for i in range(n):
        if gpos + i < glen:
            t = (gpos + i + 1) / glen
            cg = g0[0] + (g1[0] - g0[0]) * t
            dens = g0[1] + (g1[1] - g0[1]) * t
            hg = g0[2] + (g1[2] - g0[2]) * t
            rg = g0[3] + (g1[3] - g0[3]) * t
        else:
            cg = g1[0]
            dens = g1[1]
            hg = g1[2]
            rg = g1[3]
        click = click_a * st[0]
        if dens <= 0.0:
            st[3] = -1.0  # no click pending
        else:
            if st[3] < 0.0:
                st[3] = (0.5 + crackle[i, 0]) * sr / dens
            st[3] -= 1.0
            if st[3] < 0.0:
                sign = 1.0 if crackle[i, 2] < 0.5 else -1.0
                click += sign * (0.25 + 0.75 * crackle[i, 1])
                st[3] = max(st[3] + (0.5 + crackle[i, 0]) * sr / dens, 0.0)
        st[0] = click
        st[1] = (1.0 - rum_a) * rumble[i] + rum_a * st[1]
        lp = (1.0 - rum_a) * st[1] + rum_a * st[2]
        st[4] = rum_r * (st[4] + lp - st[2])  # the DC blocker
        st[2] = lp
        add = cg * click + rg * rum_norm * st[4]
        for c in range(nch):
            x[c, i] = np.float32(np.float64(x[c, i]) + add + hg * hiss[i, c])


_VINYL_PARAMS = (
    Param("crackle_db", -20.0, "peak level of the loudest clicks in dBFS", min=-96.0, max=0.0),
    Param("crackle_per_s", 8.0, "average number of clicks per second (0 = none)",
          min=0.0, max=500.0),
    Param("hiss_db", -60.0, "hiss (white noise) RMS level in dBFS", min=-120.0, max=-20.0),
    Param("rumble_db", -50.0,
          f"rumble (noise of {RUMBLE_DC_HZ:g}-{RUMBLE_HZ:g} Hz) RMS level in dBFS",
          min=-120.0, max=-10.0),
    Param("wear", 0.3, "worn-record low-pass: 0 = off, 1 = -3 dB at 3 kHz (12 dB/oct)",
          min=0.0, max=1.0),
    _seed_param("crackle, hiss and rumble"),
)
WEAR_MIN_HZ = 3000.0
"""``vinyl``: the wear low-pass corner at ``wear = 1``; ``wear`` sweeps it down from 20 kHz."""


def wear_cutoff_hz(wear: float) -> float:
    """The ``vinyl`` wear low-pass -3 dB point in Hz (``wear`` > 0)."""
    return 20000.0 * (WEAR_MIN_HZ / 20000.0) ** wear


def rumble_filter(sample_rate: int) -> tuple[float, float, float]:
    """The rumble shaping at ``sample_rate``: ``(a, r, norm)``.

    White noise through two one-pole low-passes ``(1 - a) / (1 - a z^-1)`` at
    :data:`RUMBLE_HZ` and a DC blocker ``r (1 - z^-1) / (1 - r z^-1)`` at
    :data:`RUMBLE_DC_HZ`; ``norm`` scales the result back to unit RMS (from the impulse
    response's energy).
    """
    from scipy.signal import lfilter

    a = math.exp(-TWO_PI * RUMBLE_HZ / sample_rate)
    r = math.exp(-TWO_PI * RUMBLE_DC_HZ / sample_rate)
    imp = np.zeros(4 * sample_rate)
    imp[0] = 1.0
    h = lfilter([1.0 - a], [1.0, -a], lfilter([1.0 - a], [1.0, -a], imp))
    h = lfilter([r, -r], [1.0, -r], h)
    return a, r, 1.0 / math.sqrt(float(np.sum(h * h)))


@register_device(
    "vinyl", kind="effect", params=_VINYL_PARAMS,
    doc="Vinyl: seeded crackle, hiss and rumble, and a wear low-pass.",
)
class Vinyl(EffectBase):
    """Record-player noises added to a worn-sounding input; see the module doc."""

    TYPE = "vinyl"
    PARAMS = _VINYL_PARAMS

    def __init__(self, *, crackle_db: float = -20.0, crackle_per_s: float = 8.0,
                 hiss_db: float = -60.0, rumble_db: float = -50.0, wear: float = 0.3,
                 seed: int = 0) -> None:
        super().__init__(locals())
        self._glide = VecRamp(self._targets())

    def _targets(self) -> list[float]:
        p = self._p
        return [db_to_gain(p["crackle_db"]), p["crackle_per_s"], db_to_gain(p["hiss_db"]),
                db_to_gain(p["rumble_db"])]

    def design(self, sample_rate: int) -> np.ndarray:
        """The wear low-pass as one SOS row (identity at ``wear = 0``)."""
        if self._p["wear"] <= 0:
            return IDENTITY_SOS[None, :].copy()
        return np.vstack(butterworth_sections("lowpass", wear_cutoff_hz(self._p["wear"]), 2,
                                              sample_rate))

    def _prepare(self) -> None:
        self._st = np.zeros(5)
        self._rumble = rumble_filter(self.sample_rate)
        self._filter = SosFilter(1, self.channels)

    def _reset(self) -> None:
        self._st[:] = (0.0, 0.0, 0.0, -1.0, 0.0)
        seed = self._p["seed"]
        self._rngs = [_generator(seed, k) for k in range(3)]
        self._glide.glide(self._targets(), 0)
        self._filter.reset()
        self._filter.set(self.design(self.sample_rate), 0)

    def _update(self, name: str) -> None:
        if name == "wear":
            self._filter.set(self.design(self.sample_rate), self._glide_frames)
        else:
            self._glide.glide(self._targets(), self._glide_frames)

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        n = block.shape[1]
        sr = self.sample_rate
        hiss = self._rngs[0].standard_normal((n, self.channels))
        crackle = self._rngs[1].random((n, 3))
        rumble = self._rngs[2].standard_normal(n)
        self._filter.process(block)
        g = self._glide
        _vinyl_kernel(block, hiss, crackle, rumble, self._st, float(sr),
                      math.exp(-1.0 / (CLICK_DECAY_MS * 1e-3 * sr)), *self._rumble, g.start,
                      g.target, g.pos, g.length)
        g.advance(n)
        return block
