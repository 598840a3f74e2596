"""The "fm" instrument: a 2- or 4-operator FM (phase modulation) voice.

Four sine operators, each with a frequency ratio, a fine detune, a level and its own
ADSR, are wired by an ``algorithm``:

========== =========================== ==========
algorithm  modulation                  carriers
========== =========================== ==========
2op        2 -> 1                      1
stack      4 -> 3 -> 2 -> 1            1
pairs      2 -> 1, 4 -> 3              1, 3
branch     2 -> 1, 3 -> 1, 4 -> 1      1
additive   none                        1, 2, 3, 4
========== =========================== ==========

A carrier's ``level`` is its output amplitude (1 = full scale before ``gain_db``); a
modulator's ``level`` is its peak modulation index in radians, so a carrier at
``fc`` modulated by ``fm`` with level ``I`` has sidebands at ``fc + k fm`` of amplitude
``J_k(I)`` (Bessel functions of the first kind). The top operator (2 in ``2op``,
4 otherwise) feeds back on itself: ``feedback`` 1 is :data:`FEEDBACK_MAX` radians of
self-modulation (averaged over the last two samples, as in the DX7).

Presets: ``init``, ``epiano``, ``bell``, ``bass``, ``brass``, ``organ``; parameters
you set override the preset.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from mixdown.core.units import db_to_gain
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.instruments._envelope import adsr_coefficients, adsr_run
from mixdown.dsp.instruments._oscillator import SINE_TABLE, sin_cycles
from mixdown.dsp.instruments._voice import ParamTable, VoiceInstrument, velocity_gain

FEEDBACK_MAX = 1.5
"""Self-modulation index of the top operator at ``feedback = 1``, in radians."""

OPERATORS = 4

# algorithm -> (modulations as (modulator, target) 1-based, carriers, feedback operator)
ALGORITHMS: dict[str, tuple[tuple[tuple[int, int], ...], tuple[int, ...], int]] = {
    "2op": (((2, 1),), (1,), 2),
    "stack": (((4, 3), (3, 2), (2, 1)), (1,), 4),
    "pairs": (((2, 1), (4, 3)), (1, 3), 4),
    "branch": (((2, 1), (3, 1), (4, 1)), (1,), 4),
    "additive": ((), (1, 2, 3, 4), 4),
}


def _p(name: str, doc: str, lo: float, hi: float) -> Param:
    return Param(name, None, doc, min=lo, max=hi)


PARAMS: list[Param] = [
    Param("preset", "init", "Starting sound; parameters you set override it.", kind="choice",
          choices=("init", "epiano", "bell", "bass", "brass", "organ"), automatable=False),
    Param("polyphony", 16, "Most notes sounding at once; the oldest is stolen.", kind="int",
          min=1, max=64, automatable=False),
    Param("algorithm", None, "Operator wiring: 2op, stack, pairs, branch or additive.",
          kind="choice", choices=tuple(ALGORITHMS), automatable=False),
    _p("feedback", "Self-modulation of the top operator (1 = 1.5 radians).", 0.0, 1.0),
    _p("gain_db", "Output gain in dB.", -60.0, 24.0),
    _p("velocity_sens", "How much velocity scales the level (0 none, 1 square law).", 0.0, 1.0),
    _p("velocity_to_index", "How much velocity scales the modulation indices (brightness).",
       0.0, 1.0),
]
for _n in range(1, OPERATORS + 1):
    PARAMS += [
        _p(f"op{_n}_ratio", f"Operator {_n} frequency as a multiple of the note frequency.",
           0.0625, 32.0),
        _p(f"op{_n}_detune_cents", f"Operator {_n} fine tuning in cents.", -100.0, 100.0),
        _p(f"op{_n}_level", f"Operator {_n} level: amplitude as a carrier (1 = full scale), "
           "peak modulation index in radians as a modulator.", 0.0, 32.0),
        _p(f"op{_n}_attack_s", f"Operator {_n} envelope attack time in seconds.", 0.0, 20.0),
        _p(f"op{_n}_decay_s", f"Operator {_n} envelope decay time in seconds.", 0.0, 30.0),
        _p(f"op{_n}_sustain", f"Operator {_n} envelope sustain level (0..1).", 0.0, 1.0),
        _p(f"op{_n}_release_s", f"Operator {_n} envelope release time in seconds.", 0.0, 30.0),
    ]


def _op(n: int, ratio: float = 1.0, level: float = 0.0, attack_s: float = 0.002,
        decay_s: float = 0.5, sustain: float = 1.0, release_s: float = 0.2,
        detune_cents: float = 0.0) -> dict[str, Any]:
    return {f"op{n}_ratio": ratio, f"op{n}_detune_cents": detune_cents, f"op{n}_level": level,
            f"op{n}_attack_s": attack_s, f"op{n}_decay_s": decay_s, f"op{n}_sustain": sustain,
            f"op{n}_release_s": release_s}


def _preset(algorithm: str, ops: list[dict[str, Any]], *, feedback: float = 0.0,
            gain_db: float = -12.0, velocity_sens: float = 0.6,
            velocity_to_index: float = 0.5) -> dict[str, Any]:
    out: dict[str, Any] = {"algorithm": algorithm, "feedback": feedback, "gain_db": gain_db,
                           "velocity_sens": velocity_sens,
                           "velocity_to_index": velocity_to_index}
    for op in ops:
        out.update(op)
    return out


PRESETS: dict[str, dict[str, Any]] = {
    "init": _preset("2op", [_op(1, level=1.0), _op(2, level=1.0, sustain=0.6), _op(3), _op(4)]),
    "epiano": _preset("pairs", [
        _op(1, level=1.0, attack_s=0.001, decay_s=3.0, sustain=0.0, release_s=0.4),
        _op(2, level=1.1, attack_s=0.001, decay_s=1.5, sustain=0.1, release_s=0.4),
        _op(3, level=0.35, attack_s=0.001, decay_s=1.2, sustain=0.0, release_s=0.3,
            detune_cents=3.0),
        _op(4, ratio=14.0, level=1.5, attack_s=0.001, decay_s=0.15, sustain=0.0,
            release_s=0.1),
    ], gain_db=-14.0, velocity_sens=0.7, velocity_to_index=0.8),
    "bell": _preset("pairs", [
        _op(1, level=1.0, attack_s=0.001, decay_s=5.0, sustain=0.0, release_s=2.5),
        _op(2, ratio=3.5, level=2.2, attack_s=0.001, decay_s=4.0, sustain=0.0, release_s=2.0),
        _op(3, ratio=2.0, level=0.4, attack_s=0.001, decay_s=3.0, sustain=0.0, release_s=2.0),
        _op(4, ratio=7.07, level=1.5, attack_s=0.001, decay_s=2.5, sustain=0.0,
            release_s=1.5),
    ]),
    "bass": _preset("2op", [
        _op(1, level=1.0, attack_s=0.001, decay_s=1.0, sustain=0.7, release_s=0.06),
        _op(2, level=2.5, attack_s=0.001, decay_s=0.3, sustain=0.35, release_s=0.08),
        _op(3), _op(4),
    ], feedback=0.4, gain_db=-10.0),
    "brass": _preset("2op", [
        _op(1, level=1.0, attack_s=0.04, decay_s=0.3, sustain=0.85, release_s=0.15),
        _op(2, level=2.0, attack_s=0.06, decay_s=0.5, sustain=0.6, release_s=0.15),
        _op(3), _op(4),
    ], feedback=0.5),
    "organ": _preset("additive", [
        _op(1, ratio=0.5, level=0.5, attack_s=0.004, decay_s=0.1, release_s=0.05),
        _op(2, ratio=1.0, level=0.5, attack_s=0.004, decay_s=0.1, release_s=0.05),
        _op(3, ratio=2.0, level=0.35, attack_s=0.004, decay_s=0.1, release_s=0.05),
        _op(4, ratio=3.0, level=0.25, attack_s=0.004, decay_s=0.1, release_s=0.05),
    ], feedback=0.05, velocity_sens=0.2, gain_db=-14.0),
}

TABLE = ParamTable("fm", PARAMS, PRESETS, "preset")

# kernel scalar parameters
_F_SR, _F_GAIN, _F_BETA, _F_FBOP, _F_KILL = range(5)


@njit(cache=True, nogil=True)
def _fm_kernel(mix: NDArray[np.float64], off: int, n: int,
               active: NDArray[np.int8], kill: NDArray[np.int32],
               env_stage: NDArray[np.int8], env_level: NDArray[np.float64],
               env_level0: NDArray[np.float64], env_par: NDArray[np.float64],
               phase: NDArray[np.float64], fb: NDArray[np.float64],
               inc: NDArray[np.float64], vel_amp: NDArray[np.float64],
               vel_idx: NDArray[np.float64], ratio: NDArray[np.float64],
               level: NDArray[np.float64], carrier: NDArray[np.int8],
               used: NDArray[np.int8], mods: NDArray[np.int8],
               fp: NDArray[np.float64], table: NDArray[np.float64]) -> None:
    inv_two_pi = 0.5 / math.pi
    fb_on_2 = int(fp[_F_FBOP]) == 1  # else the feedback operator is op 4
    fbk = 0.5 * fp[_F_BETA] * inv_two_pi  # feedback averages two samples, in cycles
    kill_n = fp[_F_KILL]
    u2, u3, u4 = used[1] != 0, used[2] != 0, used[3] != 0
    c2, c3, c4 = float(carrier[1]), float(carrier[2]), float(carrier[3])
    m12, m13, m14 = float(mods[0, 1]), float(mods[0, 2]), float(mods[0, 3])
    m23, m24, m34 = float(mods[1, 2]), float(mods[1, 3]), float(mods[2, 3])
    env = np.zeros((OPERATORS, n))
    for v in range(active.shape[0]):
        if active[v] == 0:
            continue
        over = True
        m = 0
        for j in range(OPERATORS):
            if used[j] != 0:
                end = adsr_run(env_stage, env_level, env_level0, v, j, env_par, env[j], n)
                if carrier[j] != 0:
                    if end > n:
                        over = False
                    m = max(m, end)
        m = min(m, n)
        kv = kill[v]
        if 0 < kv <= m:
            m = kv
            over = True
        p1, p2, p3, p4 = phase[v, 0], phase[v, 1], phase[v, 2], phase[v, 3]
        d1, d2, d3, d4 = ratio[0] * inc[v], ratio[1] * inc[v], ratio[2] * inc[v], ratio[3] * inc[v]
        vi = vel_idx[v]
        # per-operator output scale: amplitude for carriers, index (radians -> cycles) else
        s1 = level[0] if carrier[0] else level[0] * vi * inv_two_pi
        s2 = level[1] if carrier[1] else level[1] * vi * inv_two_pi
        s3 = level[2] if carrier[2] else level[2] * vi * inv_two_pi
        s4 = level[3] if carrier[3] else level[3] * vi * inv_two_pi
        f1 = fb[v, 0]
        f2 = fb[v, 1]
        g0 = vel_amp[v] * fp[_F_GAIN]
        o1 = o2 = o3 = o4 = 0.0
        for i in range(m):
            if u4:
                p4 += d4
                if p4 >= 1.0:
                    p4 -= math.floor(p4)
                y = sin_cycles(p4 + fbk * (f1 + f2), table)
                f2 = f1
                f1 = y
                o4 = y * env[3, i] * s4
            if u3:
                p3 += d3
                if p3 >= 1.0:
                    p3 -= math.floor(p3)
                o3 = sin_cycles(p3 + m34 * o4, table) * env[2, i] * s3
            if u2:
                p2 += d2
                if p2 >= 1.0:
                    p2 -= math.floor(p2)
                if fb_on_2:
                    y = sin_cycles(p2 + fbk * (f1 + f2), table)
                    f2 = f1
                    f1 = y
                else:
                    y = sin_cycles(p2 + m23 * o3 + m24 * o4, table)
                o2 = y * env[1, i] * s2
            p1 += d1
            if p1 >= 1.0:
                p1 -= math.floor(p1)
            o1 = sin_cycles(p1 + m12 * o2 + m13 * o3 + m14 * o4, table) * env[0, i] * s1
            out = o1 + c2 * o2 + c3 * o3 + c4 * o4
            gv = g0
            if kv > 0:
                gv *= (kv - i) / (kill_n + 1.0)
            mix[0, off + i] += out * gv
            mix[1, off + i] += out * gv
        phase[v, 0], phase[v, 1], phase[v, 2], phase[v, 3] = p1, p2, p3, p4
        fb[v, 0] = f1
        fb[v, 1] = f2
        if kv > 0:
            kill[v] = kv - m
        if over:
            active[v] = 0
            kill[v] = 0


@register_device(
    "fm", kind="instrument", params=PARAMS,
    doc="4-operator FM synth (2op/stack/pairs/branch/additive algorithms, per-operator "
        "ADSR, feedback) for bells, e-pianos and basses; presets.",
)
class FM(VoiceInstrument):
    """FM synthesiser (device type ``"fm"``).

    Parameters
    ----------
    **params
        Any of the parameters in :data:`PARAMS`; those left out come from ``preset``.
    """

    table = TABLE
    env_count = OPERATORS

    def _allocate_voices(self, capacity: int) -> None:
        self._phase = np.zeros((capacity, OPERATORS))
        self._fb = np.zeros((capacity, 2))
        self._inc = np.zeros(capacity)
        self._vel_amp = np.zeros(capacity)
        self._vel_idx = np.zeros(capacity)

    def _reset_voices(self) -> None:
        self._phase[:] = 0.0
        self._fb[:] = 0.0

    def _params_changed(self) -> None:
        p = self._p
        sr = self.sample_rate
        mods, carriers, fb_op = ALGORITHMS[p["algorithm"]]
        self._mods = np.zeros((OPERATORS, OPERATORS), np.int8)
        for src, dst in mods:
            self._mods[dst - 1, src - 1] = 1
        self._carrier = np.zeros(OPERATORS, np.int8)
        self._carrier[[c - 1 for c in carriers]] = 1
        self._used = self._carrier.copy()
        for src, _ in mods:
            self._used[src - 1] = 1
        self._env_par = np.stack([
            adsr_coefficients(p[f"op{j}_attack_s"], p[f"op{j}_decay_s"], p[f"op{j}_sustain"],
                              p[f"op{j}_release_s"], sr)
            for j in range(1, OPERATORS + 1)
        ])
        self._ratio = np.array([p[f"op{j}_ratio"] * 2.0 ** (p[f"op{j}_detune_cents"] / 1200.0)
                                for j in range(1, OPERATORS + 1)])
        self._level = np.array([p[f"op{j}_level"] for j in range(1, OPERATORS + 1)])
        self._fp = np.array([sr, db_to_gain(p["gain_db"]), FEEDBACK_MAX * p["feedback"],
                             fb_op - 1, self._kill_frames], dtype=np.float64)

    def _start_voice(self, slot: int, i: int, frame: int, request: Any) -> None:
        p = self._p
        vel = int(self._n_vel[i])
        self._inc[slot] = 440.0 * 2.0 ** ((float(self._n_pitch[i]) - 69.0) / 12.0) \
            / self.sample_rate
        self._phase[slot] = 0.0
        self._fb[slot] = 0.0
        self._vel_amp[slot] = velocity_gain(vel, p["velocity_sens"])
        vti = p["velocity_to_index"]
        self._vel_idx[slot] = 1.0 - vti + vti * min(max(vel, 1), 127) / 127.0

    def _kernel(self, mix: NDArray[np.float64], offset: int, frames: int, frame: int) -> None:
        _fm_kernel(mix, offset, frames, self._active, self._kill, self._env_stage,
                   self._env_level, self._env_level0, self._env_par, self._phase, self._fb,
                   self._inc, self._vel_amp, self._vel_idx, self._ratio, self._level,
                   self._carrier, self._used, self._mods, self._fp, SINE_TABLE)


__all__ = ["ALGORITHMS", "FEEDBACK_MAX", "FM", "PARAMS", "PRESETS"]
