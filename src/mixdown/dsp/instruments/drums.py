"""The "drums" instrument: a drum machine whose kit is synthesised (no sample files).

Notes map to General MIDI drum sounds (:data:`GM_DRUMS`; :data:`DRUM_NOTES` names the
common ones for step patterns). Each hit is synthesised once per (sound, velocity),
kept, and mixed in at its exact start frame, so rendering costs a copy per hit. Hits
are one-shots: note ends are ignored. The hi-hats (closed 42, pedal 44, open 46) are
one instrument: a new hat hit chokes the one still ringing with a
:data:`CHOKE_S` fade.

Decay times are T60s (the time to fall 60 dB). ``kit`` ("808", "909", "acoustic")
sets every sound parameter you leave out. Levels (``*_level_db``, ``gain_db``) are read
when a hit starts; a hit already sounding keeps its level.

Sound design, briefly: kick = sine swept down ``kick_sweep_st`` semitones to
``kick_tune_hz`` plus a noise click; snare = two damped tones plus band-passed
noise (``snare_snappy``); clap = four band-passed noise bursts and a tail; hats and
cymbals = inharmonic band-limited square clusters and noise, high-passed; toms =
swept sines; rim = a damped 2-tone click; cowbell = two squares (ratio 1.48)
band-passed.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError
from mixdown.core.units import db_to_gain
from mixdown.dsp.base import NoteEvent, Param, register_device
from mixdown.dsp.instruments._voice import ParamTable, velocity_gain

DRUM_NOTES: dict[str, int] = {
    "kick": 36, "snare": 38, "clap": 39, "hat": 42, "closed_hat": 42, "open_hat": 46,
    "tom_low": 45, "tom_mid": 47, "tom_high": 50, "rim": 37, "cowbell": 56, "crash": 49,
    "ride": 51, "perc": 56,
}
"""Drum names for step patterns -> General MIDI note."""

T60 = math.log(1000.0)
"""An envelope ``exp(-T60 t / decay_s)`` falls 60 dB in ``decay_s``."""

TAIL_DB = 80.0
"""Hits are cut where their envelope is this far down (then faded over 2 ms)."""

CHOKE_S = 0.004
"""Fade-out time of a choked hi-hat, in seconds."""

HIT_PEAK = 0.5
"""Every hit is scaled to this peak (-6 dBFS) before its level, velocity and gain."""

_VELOCITY_TIMBRE = frozenset({"kick", "snare"})
"""Sounds whose timbre (not only level) follows velocity: cached per velocity."""


@dataclass(frozen=True, slots=True)
class DrumSound:
    """A GM drum note: the sound that plays it, a tuning factor, a level offset, a choke group."""

    sound: str
    tune: float = 1.0
    level_db: float = 0.0
    choke: str = ""


GM_DRUMS: dict[int, DrumSound] = {
    35: DrumSound("kick", 0.9), 36: DrumSound("kick"),
    37: DrumSound("rim"),
    38: DrumSound("snare"), 40: DrumSound("snare", 1.06, -1.0),
    39: DrumSound("clap"),
    42: DrumSound("closed_hat", choke="hat"), 44: DrumSound("pedal_hat", choke="hat"),
    46: DrumSound("open_hat", choke="hat"),
    41: DrumSound("tom", 0.63), 43: DrumSound("tom", 0.71), 45: DrumSound("tom", 0.8),
    47: DrumSound("tom", 1.0), 48: DrumSound("tom", 1.12), 50: DrumSound("tom", 1.33),
    49: DrumSound("crash"), 57: DrumSound("crash", 1.12, -1.0), 52: DrumSound("crash", 0.85),
    51: DrumSound("ride"), 59: DrumSound("ride", 1.06, -1.0), 53: DrumSound("ride_bell"),
    56: DrumSound("cowbell"),
}
"""General MIDI drum note -> sound. Other notes are silent."""

_LEVEL_PARAM = {
    "kick": "kick_level_db", "snare": "snare_level_db", "clap": "clap_level_db",
    "closed_hat": "hat_level_db", "pedal_hat": "hat_level_db",
    "open_hat": "open_hat_level_db", "tom": "tom_level_db", "rim": "rim_level_db",
    "cowbell": "cowbell_level_db", "crash": "crash_level_db", "ride": "ride_level_db",
    "ride_bell": "ride_level_db",
}


def _p(name: str, doc: str, lo: float, hi: float) -> Param:
    return Param(name, None, doc, min=lo, max=hi)


def _level(name: str, what: str) -> Param:
    return _p(name, f"{what} level in dB.", -60.0, 12.0)


PARAMS: list[Param] = [
    Param("kit", "808", "Kit the sounds start from: 808, 909 or acoustic.", kind="choice",
          choices=("808", "909", "acoustic"), automatable=False),
    Param("gain_db", 0.0, "Output gain in dB (read when a hit starts).", min=-60.0, max=24.0),
    Param("velocity_sens", 0.7, "How much velocity scales the level (0 none, 1 square law).",
          min=0.0, max=1.0),
    _p("kick_tune_hz", "Kick fundamental after the pitch sweep, in Hz.", 30.0, 150.0),
    _p("kick_decay_s", "Kick decay time (T60) in seconds.", 0.05, 3.0),
    _p("kick_sweep_st", "Kick pitch sweep at the attack, in semitones above the tune.",
       0.0, 48.0),
    _p("kick_click", "Kick attack click amount (0..1).", 0.0, 1.0),
    _level("kick_level_db", "Kick"),
    _p("snare_tone_hz", "Snare drum-head tone in Hz.", 100.0, 400.0),
    _p("snare_decay_s", "Snare decay time (T60) of the noise, in seconds.", 0.05, 2.0),
    _p("snare_snappy", "Snare wires: noise against tone (0 tone only, 1 mostly noise).",
       0.0, 1.0),
    _level("snare_level_db", "Snare"),
    _p("clap_tone_hz", "Clap band-pass centre in Hz.", 500.0, 4000.0),
    _p("clap_decay_s", "Clap tail decay time (T60) in seconds.", 0.05, 2.0),
    _level("clap_level_db", "Clap"),
    _p("hat_tone_hz", "Hi-hat brightness: band-pass centre in Hz.", 3000.0, 16000.0),
    _p("hat_decay_s", "Closed hi-hat decay time (T60) in seconds.", 0.01, 0.5),
    _p("open_hat_decay_s", "Open hi-hat decay time (T60) in seconds.", 0.1, 4.0),
    _level("hat_level_db", "Closed and pedal hi-hat"),
    _level("open_hat_level_db", "Open hi-hat"),
    _p("tom_tune_hz", "Mid tom (note 47) pitch in Hz; the others are tuned around it.",
       50.0, 400.0),
    _p("tom_decay_s", "Tom decay time (T60) in seconds.", 0.05, 3.0),
    _level("tom_level_db", "Tom"),
    _p("rim_tune_hz", "Rim shot click frequency in Hz.", 300.0, 4000.0),
    _level("rim_level_db", "Rim shot"),
    _p("cowbell_tune_hz", "Cowbell lower tone in Hz (the upper one is 1.48 times it).",
       250.0, 1500.0),
    _p("cowbell_decay_s", "Cowbell decay time (T60) in seconds.", 0.05, 2.0),
    _level("cowbell_level_db", "Cowbell"),
    _p("crash_decay_s", "Crash cymbal decay time (T60) in seconds.", 0.3, 8.0),
    _level("crash_level_db", "Crash cymbal"),
    _p("ride_decay_s", "Ride cymbal decay time (T60) in seconds.", 0.3, 10.0),
    _level("ride_level_db", "Ride cymbal"),
]

KITS: dict[str, dict[str, Any]] = {
    "808": {
        "kick_tune_hz": 50.0, "kick_decay_s": 0.9, "kick_sweep_st": 18.0, "kick_click": 0.15,
        "kick_level_db": 0.0, "snare_tone_hz": 185.0, "snare_decay_s": 0.3,
        "snare_snappy": 0.6, "snare_level_db": -3.0, "clap_tone_hz": 1100.0,
        "clap_decay_s": 0.35, "clap_level_db": -4.0, "hat_tone_hz": 8000.0,
        "hat_decay_s": 0.07, "open_hat_decay_s": 0.6, "hat_level_db": -8.0,
        "open_hat_level_db": -9.0, "tom_tune_hz": 140.0, "tom_decay_s": 0.6,
        "tom_level_db": -4.0, "rim_tune_hz": 1700.0, "rim_level_db": -6.0,
        "cowbell_tune_hz": 540.0, "cowbell_decay_s": 0.35, "cowbell_level_db": -8.0,
        "crash_decay_s": 2.5, "crash_level_db": -8.0, "ride_decay_s": 3.0,
        "ride_level_db": -10.0,
    },
    "909": {
        "kick_tune_hz": 55.0, "kick_decay_s": 0.5, "kick_sweep_st": 24.0, "kick_click": 0.5,
        "kick_level_db": 0.0, "snare_tone_hz": 200.0, "snare_decay_s": 0.25,
        "snare_snappy": 0.75, "snare_level_db": -3.0, "clap_tone_hz": 1200.0,
        "clap_decay_s": 0.3, "clap_level_db": -4.0, "hat_tone_hz": 9000.0,
        "hat_decay_s": 0.06, "open_hat_decay_s": 0.45, "hat_level_db": -8.0,
        "open_hat_level_db": -9.0, "tom_tune_hz": 160.0, "tom_decay_s": 0.4,
        "tom_level_db": -4.0, "rim_tune_hz": 2000.0, "rim_level_db": -6.0,
        "cowbell_tune_hz": 560.0, "cowbell_decay_s": 0.3, "cowbell_level_db": -8.0,
        "crash_decay_s": 2.2, "crash_level_db": -8.0, "ride_decay_s": 2.6,
        "ride_level_db": -10.0,
    },
    "acoustic": {
        "kick_tune_hz": 62.0, "kick_decay_s": 0.35, "kick_sweep_st": 7.0, "kick_click": 0.6,
        "kick_level_db": 0.0, "snare_tone_hz": 210.0, "snare_decay_s": 0.35,
        "snare_snappy": 0.85, "snare_level_db": -3.0, "clap_tone_hz": 1000.0,
        "clap_decay_s": 0.3, "clap_level_db": -5.0, "hat_tone_hz": 9500.0,
        "hat_decay_s": 0.05, "open_hat_decay_s": 0.8, "hat_level_db": -9.0,
        "open_hat_level_db": -9.0, "tom_tune_hz": 120.0, "tom_decay_s": 0.7,
        "tom_level_db": -4.0, "rim_tune_hz": 1500.0, "rim_level_db": -6.0,
        "cowbell_tune_hz": 600.0, "cowbell_decay_s": 0.4, "cowbell_level_db": -9.0,
        "crash_decay_s": 3.0, "crash_level_db": -8.0, "ride_decay_s": 3.5,
        "ride_level_db": -10.0,
    },
}

# character of each kit that is not a parameter: (kick sweep time constant in s,
# metal share of the hats and cymbals, kick beater thump)
_FLAVOUR: dict[str, tuple[float, float, float]] = {
    "808": (0.015, 0.85, 0.0),
    "909": (0.03, 0.5, 0.2),
    "acoustic": (0.01, 0.3, 0.6),
}

TABLE = ParamTable("drums", PARAMS, KITS, "kit")

_HAT_METAL_HZ = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)  # the TR-808's six oscillators


# -- synthesis helpers (offline, float64, vectorised) ----------------------------------------


def _blep(t: NDArray[np.float64], dt: float) -> NDArray[np.float64]:
    """PolyBLEP residuals for phases ``t`` within ``dt`` of a step (others are 0)."""
    u = t / dt
    w = (t - 1.0) / dt
    return np.where(t < dt, u + u - u * u - 1.0, w * w + w + w + 1.0)


def _square(freq: float, n: int, sr: int, phase0: float = 0.0) -> NDArray[np.float64]:
    """A band-limited (polyBLEP) square wave, +-1, n samples."""
    dt = freq / sr
    ph = dt * np.arange(1, n + 1) + phase0
    ph -= np.floor(ph)
    half = ph + 0.5
    half -= half >= 1.0
    y = np.where(ph < 0.5, 1.0, -1.0)
    for t, sign in ((ph, 1.0), (half, -1.0)):
        near = np.flatnonzero((t < dt) | (t > 1.0 - dt))  # the few samples by a step
        y[near] += sign * _blep(t[near], dt)
    return y


def _decay(decay_s: float, n: int, sr: int) -> NDArray[np.float64]:
    return np.exp(-T60 / decay_s * np.arange(n) / sr)


def _length(decay_s: float, sr: int) -> int:
    return math.ceil(decay_s * TAIL_DB / 60.0 * sr) + 1


def _sweep_sine(f_end: float, sweep_st: float, tau_s: float, n: int,
                sr: int) -> NDArray[np.float64]:
    """A sine whose frequency falls from ``f_end * 2**(sweep/12)`` to ``f_end``."""
    t = np.arange(n) / sr
    f = f_end * 2.0 ** (sweep_st / 12.0 * np.exp(-t / tau_s))
    return np.sin(2.0 * np.pi * np.cumsum(f) / sr)


def _band(x: NDArray[np.float64], lo_hz: float, hi_hz: float, sr: int,
          order: int = 2) -> NDArray[np.float64]:
    hi = min(hi_hz, 0.45 * sr)
    lo = min(lo_hz, 0.9 * hi)
    from scipy.signal import butter, sosfilt  # lazily: scipy.signal costs 0.4 s to import

    return sosfilt(butter(order, [lo, hi], "bandpass", fs=sr, output="sos"), x)


def _high(x: NDArray[np.float64], hz: float, sr: int, order: int = 2) -> NDArray[np.float64]:
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(order, min(hz, 0.45 * sr), "highpass", fs=sr, output="sos"), x)


def _low(x: NDArray[np.float64], hz: float, sr: int, order: int = 2) -> NDArray[np.float64]:
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(order, min(hz, 0.45 * sr), "lowpass", fs=sr, output="sos"), x)


def _metal(freqs: Sequence[float], n: int, sr: int,
           rng: np.random.Generator) -> NDArray[np.float64]:
    out = np.zeros(n)
    for f in freqs:
        out += _square(f, n, sr, rng.random())
    return out / len(freqs)


class _Synth:
    """Synthesises one hit of a sound from the resolved parameters."""

    def __init__(self, p: dict[str, Any], sr: int) -> None:
        self.p = p
        self.sr = sr
        self.sweep_tau, self.metal, self.thump = _FLAVOUR[p["kit"]]

    def hit(self, sound: str, tune: float, vel: int) -> NDArray[np.float64]:
        seed = zlib.crc32(f"{sound}:{tune}:{vel}:{self.p['kit']}".encode())
        rng = np.random.default_rng(seed)
        y: NDArray[np.float64] = getattr(self, "_" + sound)(tune, vel / 127.0, rng)
        fade = min(y.size, max(1, round(0.002 * self.sr)))
        y[-fade:] *= np.linspace(1.0, 0.0, fade + 1)[1:]
        return y * (HIT_PEAK / np.abs(y).max())

    def _kick(self, tune: float, v: float, rng: np.random.Generator) -> NDArray[np.float64]:
        p, sr = self.p, self.sr
        n = _length(p["kick_decay_s"], sr)
        body = _sweep_sine(p["kick_tune_hz"] * tune, p["kick_sweep_st"], self.sweep_tau, n, sr)
        y = body * _decay(p["kick_decay_s"], n, sr)
        nc = min(n, round(0.01 * sr))
        click = _high(rng.uniform(-1.0, 1.0, nc), 1500.0, sr) * _decay(0.006, nc, sr)
        y[:nc] += p["kick_click"] * (0.4 + 0.6 * v) * 0.8 * click
        if self.thump:
            nt = min(n, round(0.06 * sr))
            thump = _low(rng.uniform(-1.0, 1.0, nt), 400.0, sr) * _decay(0.04, nt, sr)
            y[:nt] += self.thump * 1.5 * thump
        return y

    def _snare(self, tune: float, v: float, rng: np.random.Generator) -> NDArray[np.float64]:
        p, sr = self.p, self.sr
        decay = p["snare_decay_s"]
        n = _length(decay, sr)
        f0 = p["snare_tone_hz"] * tune
        tone_decay = 0.5 * decay
        tone = (_sweep_sine(f0, 2.0, 0.01, n, sr) + 0.5 * _sweep_sine(1.83 * f0, 2.0, 0.01, n, sr))
        tone *= _decay(tone_decay, n, sr) / 1.5
        noise = _band(rng.uniform(-1.0, 1.0, n), 1200.0, 6000.0 + 4000.0 * v, sr)
        noise *= _decay(decay, n, sr) * 2.0
        s = p["snare_snappy"]
        return (1.0 - 0.6 * s) * tone + s * noise

    def _clap(self, tune: float, v: float, rng: np.random.Generator) -> NDArray[np.float64]:
        p, sr = self.p, self.sr
        decay = p["clap_decay_s"]
        gap = 0.011
        n = _length(decay, sr) + round(3 * gap * sr)
        t = np.arange(n) / sr
        env = np.zeros(n)
        for k in range(3):
            t0 = k * gap
            m = (t >= t0) & (t < t0 + gap)
            env[m] = np.exp(-(t[m] - t0) / 0.0025)
        m = t >= 3 * gap
        env[m] = 0.8 * np.exp(-T60 / decay * (t[m] - 3 * gap))
        fc = p["clap_tone_hz"] * tune
        noise = _band(rng.uniform(-1.0, 1.0, n), fc / 1.6, fc * 1.6, sr)
        return 2.5 * noise * env

    def _cymbal_source(self, n: int, freqs: Sequence[float],
                       rng: np.random.Generator) -> NDArray[np.float64]:
        return self.metal * _metal(freqs, n, self.sr, rng) \
            + (1.0 - self.metal) * rng.uniform(-1.0, 1.0, n)

    def _hat(self, decay: float, tune: float, rng: np.random.Generator) -> NDArray[np.float64]:
        sr = self.sr
        n = _length(decay, sr)
        tone = self.p["hat_tone_hz"] * tune
        src = self._cymbal_source(n, [f * tune for f in _HAT_METAL_HZ], rng)
        y = _band(src, 0.75 * tone, 1.6 * tone, sr, order=3)
        return 3.0 * y * _decay(decay, n, sr)

    def _closed_hat(self, tune: float, v: float, rng: np.random.Generator) -> NDArray[np.float64]:
        return self._hat(self.p["hat_decay_s"], tune, rng)

    def _pedal_hat(self, tune: float, v: float, rng: np.random.Generator) -> NDArray[np.float64]:
        return 0.5 * self._hat(0.7 * self.p["hat_decay_s"], tune, rng)

    def _open_hat(self, tune: float, v: float, rng: np.random.Generator) -> NDArray[np.float64]:
        return self._hat(self.p["open_hat_decay_s"], tune, rng)

    def _tom(self, tune: float, v: float, rng: np.random.Generator) -> NDArray[np.float64]:
        p, sr = self.p, self.sr
        decay = p["tom_decay_s"]
        n = _length(decay, sr)
        y = _sweep_sine(p["tom_tune_hz"] * tune, 3.0, 0.04, n, sr) * _decay(decay, n, sr)
        ns = min(n, round(0.03 * sr))
        y[:ns] += 0.15 * _band(rng.uniform(-1.0, 1.0, ns), 500.0, 5000.0, sr) \
            * _decay(0.02, ns, sr)
        return y

    def _rim(self, tune: float, v: float, rng: np.random.Generator) -> NDArray[np.float64]:
        sr = self.sr
        decay = 0.06
        n = _length(decay, sr)
        f = self.p["rim_tune_hz"] * tune
        y = _sweep_sine(f, 0.0, 1.0, n, sr) + 0.6 * _sweep_sine(0.47 * f, 0.0, 1.0, n, sr)
        y *= _decay(decay, n, sr)
        nc = min(n, round(0.002 * sr))
        y[:nc] += 0.5 * _high(rng.uniform(-1.0, 1.0, nc), 2000.0, sr)
        return y

    def _cowbell(self, tune: float, v: float, rng: np.random.Generator) -> NDArray[np.float64]:
        p, sr = self.p, self.sr
        decay = p["cowbell_decay_s"]
        n = _length(decay, sr)
        f = p["cowbell_tune_hz"] * tune
        src = _square(f, n, sr) + _square(1.48 * f, n, sr)
        y = _band(src, 0.8 * f, 5.0 * f, sr)
        return 0.8 * y * (0.6 * _decay(0.05, n, sr) + 0.4 * _decay(decay, n, sr))

    def _crash(self, tune: float, v: float, rng: np.random.Generator) -> NDArray[np.float64]:
        sr = self.sr
        decay = self.p["crash_decay_s"] * (1.0 / tune)
        n = _length(decay, sr)
        freqs = 300.0 * tune * 2.0 ** (rng.random(12) * 2.0)
        y = _high(self._cymbal_source(n, freqs, rng), 3000.0 * tune, sr)
        y = _low(y, 14000.0, sr)
        return 2.0 * y * (_decay(decay, n, sr) + 0.5 * _decay(0.15, n, sr))

    def _ride(self, tune: float, v: float, rng: np.random.Generator) -> NDArray[np.float64]:
        return self._ride_like(tune, rng, ping=0.35, bell=False)

    def _ride_bell(self, tune: float, v: float,
                   rng: np.random.Generator) -> NDArray[np.float64]:
        return self._ride_like(tune, rng, ping=0.9, bell=True)

    def _ride_like(self, tune: float, rng: np.random.Generator, ping: float,
                   bell: bool) -> NDArray[np.float64]:
        sr = self.sr
        decay = self.p["ride_decay_s"]
        n = _length(decay, sr)
        freqs = 400.0 * tune * 2.0 ** (rng.random(8) * 1.5)
        wash = _high(self._cymbal_source(n, freqs, rng), 5000.0, sr) * _decay(decay, n, sr)
        partials = (1500.0, 2250.0, 3370.0) if bell else (3100.0, 4550.0, 5930.0)
        t = np.arange(1, n + 1) / sr
        tone = sum(np.sin(2.0 * np.pi * f * tune * t + 2.0 * np.pi * rng.random())
                   for f in partials) / 3.0
        tone *= _decay(0.6 * decay, n, sr)
        return 0.8 * wash + ping * tone


_MIX_PARAMS = frozenset({"gain_db", "velocity_sens", *_LEVEL_PARAM.values()})
"""Parameters applied when mixing a hit, not when synthesising it."""


@functools.lru_cache(maxsize=512)
def _cached_hit(sound: str, tune: float, vel: int, sample_rate: int,
                params: tuple[tuple[str, Any], ...]) -> NDArray[np.float32]:
    """A synthesised hit, shared by every drum machine with the same sound parameters."""
    y = _Synth(dict(params), sample_rate).hit(sound, tune, vel).astype(np.float32)
    y.flags.writeable = False
    return y


# -- the instrument ------------------------------------------------------------------------


@dataclass(slots=True)
class _Hit:
    start: int
    data: NDArray[np.float32]
    gain: np.float32
    group: str
    choke: int = -1  # frame where a choke fade starts; -1 none

    @property
    def end(self) -> int:
        return self.start + self.data.size


@register_device(
    "drums", kind="instrument", params=PARAMS,
    doc="Drum machine with a synthesised kit (808, 909, acoustic) on General MIDI notes: "
        "kick, snare, clap, hats (open choked by closed), toms, rim, cowbell, crash, ride.",
)
class Drums:
    """Synthesised drum machine (device type ``"drums"``).

    Parameters
    ----------
    **params
        Any of the parameters in :data:`PARAMS`; the sound parameters left out come
        from ``kit``.
    """

    latency_frames: int = 0

    def __init__(self, **params: Any) -> None:
        self._p = TABLE.resolve(params)
        self.sample_rate = 0
        self.channels = 2
        self._prepared = False
        self.set_notes(())

    @property
    def params(self) -> dict[str, Any]:
        """The current parameter values, kit resolved (a copy)."""
        return dict(self._p)

    def set_param(self, name: str, value: Any) -> None:
        """Change a parameter between blocks; sound parameters affect later hits."""
        self._p[name] = TABLE.check_change(name, value)

    def prepare(self, sample_rate: int, channels: int, max_block_frames: int) -> None:
        """Set the stream format; see :meth:`render`."""
        if not (isinstance(sample_rate, int) and 1_000 <= sample_rate <= 768_000):
            raise ParameterError(f"sample_rate must be an int in 1000..768000 Hz, "
                                 f"got {sample_rate!r}")
        if not (isinstance(channels, int) and channels >= 1):
            raise ParameterError(f"channels must be an int >= 1, got {channels!r}")
        self.sample_rate = sample_rate
        self.channels = channels
        self._out = np.zeros((channels, max(1, int(max_block_frames))), np.float32)
        self._prepared = True
        self.reset()

    def set_notes(self, notes: Sequence[NoteEvent]) -> None:
        """Give the whole note list (absolute frames); note ends are ignored."""
        n = len(notes)
        starts = np.fromiter((nt.start_frame for nt in notes), np.int64, n)
        order = np.argsort(starts, kind="stable")
        self._n_start = starts[order]
        pitches = np.fromiter((round(float(nt.pitch)) for nt in notes), np.int64, n)
        self._n_pitch = pitches[order]
        self._n_vel = np.fromiter((min(max(int(nt.velocity), 1), 127) for nt in notes),
                                  np.int64, n)[order]
        self.reset()

    def reset(self) -> None:
        """Silence every hit and rewind to frame 0 of the note list."""
        self._hits: list[_Hit] = []
        self._cursor = 0
        self._next_frame = 0

    def hit(self, pitch: int, velocity: int) -> NDArray[np.float32]:
        """The samples of one hit (mono, peak :data:`HIT_PEAK`, before level, velocity
        gain and ``gain_db``; cached and read-only).

        Raises
        ------
        ParameterError
            If ``pitch`` is not a drum note (see :data:`GM_DRUMS`) or not prepared.
        """
        if not self._prepared:
            raise ParameterError("drums: call prepare() before rendering hits")
        sound = GM_DRUMS.get(pitch)
        if sound is None:
            raise ParameterError(f"drums: note {pitch} plays no sound; use one of "
                                 f"{sorted(GM_DRUMS)}")
        vel = velocity if sound.sound in _VELOCITY_TIMBRE else 127
        key = tuple(sorted((k, v) for k, v in self._p.items() if k not in _MIX_PARAMS))
        return _cached_hit(sound.sound, sound.tune, vel, self.sample_rate, key)

    def _start_hits(self, until: int) -> None:
        """Start every note with ``start_frame < until`` not started yet."""
        c = self._cursor
        starts = self._n_start
        while c < starts.size and starts[c] < until:
            pitch = int(self._n_pitch[c])
            sound = GM_DRUMS.get(pitch)
            if sound is not None:
                vel = int(self._n_vel[c])
                start = int(starts[c])
                p = self._p
                gain = db_to_gain(p["gain_db"] + p[_LEVEL_PARAM[sound.sound]] + sound.level_db)
                gain *= velocity_gain(vel, p["velocity_sens"])
                if sound.choke:
                    for h in self._hits:
                        if h.group == sound.choke and h.choke < 0 and h.end > start:
                            h.choke = start
                self._hits.append(_Hit(start, self.hit(pitch, vel), np.float32(gain),
                                       sound.choke))
            c += 1
        self._cursor = c

    def render(self, start_frame: int, frames: int) -> AudioArray:
        """Render frames ``[start_frame, start_frame + frames)``.

        Returns
        -------
        ndarray [shape=(channels, frames), float32]
            The same mono kit in every channel; a view of an internal buffer, valid
            until the next call.
        """
        if not self._prepared:
            raise ParameterError("drums: call prepare() before render()")
        if frames < 0 or start_frame < 0:
            raise ParameterError(f"render range must be >= 0, got start_frame={start_frame}, "
                                 f"frames={frames}")
        if frames > self._out.shape[1]:
            self._out = np.zeros((self.channels, frames), np.float32)
        if start_frame < self._next_frame:
            self.reset()
        end = start_frame + frames
        self._start_hits(end)
        fade = max(1, round(CHOKE_S * self.sample_rate))
        out = self._out[:, :frames]
        out.fill(0.0)
        mono = out[0]
        keep: list[_Hit] = []
        for h in self._hits:
            stop = h.end if h.choke < 0 else min(h.end, h.choke + fade)
            a = max(start_frame, h.start)
            b = min(end, stop)
            if a < b:
                seg = h.data[a - h.start:b - h.start] * h.gain
                if h.choke >= 0 and b > h.choke:
                    f = np.arange(a, b)
                    w = np.clip((h.choke + fade - f) / fade, 0.0, 1.0).astype(np.float32)
                    seg *= w
                mono[a - start_frame:b - start_frame] += seg
            if stop > end:
                keep.append(h)
        self._hits = keep
        out[1:] = mono
        self._next_frame = end
        return out


__all__ = ["DRUM_NOTES", "GM_DRUMS", "KITS", "PARAMS", "DrumSound", "Drums"]
