"""Delay: tempo-synced or free echo with filtered feedback and ping-pong.

The delay time is a note value synced to the song's tempo (``"1/4"``, ``"1/8d"``
dotted, ``"1/8t"`` triplet; a beat is a quarter note) or ``time_ms`` when
``sync`` is false, rounded to a whole number of frames so that every echo lands
exactly on a sample. When the time changes (a tempo change, automation) the read
head glides to the new time over :data:`GLIDE_MS`, like a tape delay.

The first echo is the input, untouched; the feedback path goes through optional
one-pole low-cut and high-cut filters, so each further repeat is darker and
thinner. With ``ping_pong`` the input (summed to mono) enters the left line and
every repeat crosses to the other channel.
"""

from __future__ import annotations

import math
import re

import numpy as np
from numba import njit

from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.effects._common import EffectBase, Ramp, require_channels

MAX_DELAY_S = 6.0
"""Longest delay time in seconds."""
GLIDE_MS = 50.0
"""How long the read head takes to move to a new delay time, in ms."""
DEFAULT_BPM = 120.0

_NOTE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([dt]?)\s*$")


def note_value_beats(value: str) -> float:
    """Length of a note value in quarter-note beats (``"1/8d"`` = 0.75).

    Raises
    ------
    ParameterError
        If ``value`` is not ``N/M`` with an optional ``d`` (dotted) or ``t`` (triplet).
    """
    m = _NOTE.match(value) if isinstance(value, str) else None
    if not m or int(m.group(1)) == 0 or int(m.group(2)) == 0:
        raise ParameterError(
            f"delay: time must be a note value like '1/4', '1/8d' (dotted) or '1/8t' "
            f"(triplet), got {value!r}; or set sync = false and time_ms"
        )
    beats = 4.0 * int(m.group(1)) / int(m.group(2))
    return beats * {"": 1.0, "d": 1.5, "t": 2.0 / 3.0}[m.group(3)]


@njit(cache=True, nogil=True, fastmath=False)
def _delay_kernel(x, buf, ist, fst, d0, d1, dpos, dlen, g0, g1, gpos, glen, lp_a, hp_a,
                  ping_pong):  # pragma: no cover - compiled
    # g0/g1: [mix, feedback] at the start and the end of their glide
    # ist: [write index]; fst: [lp state per line..., hp x1 per line..., hp y1 per line...]
    nch = x.shape[0]
    n = x.shape[1]
    size = buf.shape[1]
    lines = buf.shape[0]
    w = ist[0]
    wet = np.zeros(2)
    for i in range(n):
        d = d0 + (d1 - d0) * ((dpos + i + 1) / dlen) if dpos + i < dlen else d1
        if gpos + i < glen:
            t = (gpos + i + 1) / glen
            mix = g0[0] + (g1[0] - g0[0]) * t
            fb = g0[1] + (g1[1] - g0[1]) * t
        else:
            mix = g1[0]
            fb = g1[1]
        di = math.floor(d)
        frac = d - di
        r0 = w - di
        if r0 < 0:
            r0 += size
        r1 = r0 - 1
        if r1 < 0:
            r1 += size
        for k in range(lines):
            if frac == 0.0:
                wet[k] = buf[k, r0]
            else:
                wet[k] = buf[k, r0] + (buf[k, r1] - buf[k, r0]) * frac
        for k in range(lines):  # feedback filters: one-pole low-pass, then high-pass
            v = wet[k]
            if lp_a > 0.0:
                v = fst[k] + (1.0 - lp_a) * (v - fst[k])
                fst[k] = v
            if hp_a > 0.0:
                y = hp_a * (fst[2 + k] + v - fst[4 + k])
                fst[4 + k] = v
                fst[2 + k] = y
                v = y
            fst[6 + k] = v
        if ping_pong:
            mono = 0.0
            for c in range(nch):
                mono += np.float64(x[c, i])
            mono /= nch
            buf[0, w] = mono + fb * fst[7]
            buf[1, w] = fb * fst[6]
        else:
            for k in range(lines):
                buf[k, w] = np.float64(x[k, i]) + fb * fst[6 + k]
        for c in range(nch):
            x[c, i] = np.float32(x[c, i] * (1.0 - mix) + wet[c] * mix)
        w += 1
        if w == size:
            w = 0
    ist[0] = w


_PARAMS = (
    Param("time", "1/4", "delay as a note value synced to the tempo: '1/4', '1/8d', '1/8t'",
          kind="str", automatable=False),
    Param("sync", True, "true: use time (note value); false: use time_ms", kind="bool",
          automatable=False),
    Param("time_ms", 250.0, "delay time in ms when sync is false", min=1.0,
          max=MAX_DELAY_S * 1000.0),
    Param("feedback", 0.35, "level of each repeat relative to the one before, 0..0.99",
          min=0.0, max=0.99),
    Param("mix", 0.25, "dry/wet balance: 0 = input only, 1 = echoes only", min=0.0, max=1.0),
    Param("ping_pong", False, "repeats alternate left and right (input summed to mono)",
          kind="bool", automatable=False),
    Param("lowcut_hz", 0.0, "one-pole high-pass in the feedback path in Hz (0 = off)",
          min=0.0, max=5000.0),
    Param("highcut_hz", 0.0, "one-pole low-pass in the feedback path in Hz (0 = off)",
          min=0.0, max=20000.0),
)


@register_device(
    "delay", kind="effect", params=_PARAMS,
    doc="Echo synced to the tempo (note values) or in ms, filtered feedback, ping-pong.",
)
class Delay(EffectBase):
    """Stereo (or mono) feedback delay; see the module doc."""

    TYPE = "delay"
    PARAMS = _PARAMS

    def __init__(self, *, time: str = "1/4", sync: bool = True, time_ms: float = 250.0,
                 feedback: float = 0.35, mix: float = 0.25, ping_pong: bool = False,
                 lowcut_hz: float = 0.0, highcut_hz: float = 0.0) -> None:
        super().__init__(locals())
        self.bpm = DEFAULT_BPM
        self._delay = Ramp(0.0)
        self._buf = np.zeros((1, 1))
        self._ist = np.zeros(1, dtype=np.int64)
        self._fst = np.zeros(8)
        self._mix = Ramp(mix)
        self._fb = Ramp(feedback)

    def _validate(self) -> None:
        note_value_beats(self._p["time"])

    def delay_seconds(self) -> float:
        """The delay time now, in seconds (from the tempo when synced)."""
        if self._p["sync"]:
            return note_value_beats(self._p["time"]) * 60.0 / self.bpm
        return self._p["time_ms"] * 1e-3

    def delay_frames(self) -> int:
        """The delay time now in whole frames (at least 1).

        Raises
        ------
        ParameterError
            If the time is longer than :data:`MAX_DELAY_S`.
        """
        s = self.delay_seconds()
        if s > MAX_DELAY_S:
            raise ParameterError(
                f"delay: {self._p['time']!r} at {self.bpm:g} bpm is {s:.2f} s, longer than "
                f"{MAX_DELAY_S:g} s; use a shorter note value"
            )
        return max(1, math.floor(s * self.sample_rate + 0.5))

    def set_tempo(self, bpm: float) -> None:
        """Follow the song's tempo in bpm (synced delay times glide to the new length)."""
        if not (math.isfinite(bpm) and bpm > 0):
            raise ParameterError(f"delay: tempo must be a finite number > 0 bpm, got {bpm!r}")
        self.bpm = float(bpm)
        if self.sample_rate and self._p["sync"]:
            self._retime()

    def _retime(self) -> None:
        frames = float(self.delay_frames())
        if frames != self._delay.target:
            glide = round(GLIDE_MS * 1e-3 * self.sample_rate) if self._frame > 0 else 0
            self._delay.glide(frames, glide)

    def _prepare(self) -> None:
        lines = self.channels if not self._p["ping_pong"] else 2
        require_channels(self.TYPE, self.channels)
        self._buf = np.zeros((lines, round(MAX_DELAY_S * self.sample_rate) + 2))

    def _reset(self) -> None:
        self._buf[:] = 0.0
        self._ist[:] = 0
        self._fst[:] = 0.0
        self._delay.jump(float(self.delay_frames()))
        self._mix.jump(self._p["mix"])
        self._fb.jump(self._p["feedback"])

    def _update(self, name: str) -> None:
        if name in ("time", "time_ms"):
            self._retime()
        elif name in ("mix", "feedback"):
            # both glide together so that one (start, end, position) describes them
            for ramp, key in ((self._mix, "mix"), (self._fb, "feedback")):
                ramp.glide(self._p[key], self._glide_frames)

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        p = self._p
        sr = self.sample_rate
        lp_a = math.exp(-2.0 * math.pi * p["highcut_hz"] / sr) if p["highcut_hz"] > 0 else 0.0
        hp_a = (1.0 / (1.0 + 2.0 * math.pi * p["lowcut_hz"] / sr)
                if p["lowcut_hz"] > 0 else 0.0)
        d = self._delay
        m, f = self._mix, self._fb
        _delay_kernel(block, self._buf, self._ist, self._fst, d.start, d.target, d.pos,
                      d.length, np.array([m.start, f.start]), np.array([m.target, f.target]),
                      m.pos, m.length, lp_a, hp_a, p["ping_pong"])
        for r in (d, m, f):
            r.advance(block.shape[1])
        return block
