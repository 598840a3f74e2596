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

from typing import Any

import numpy as np
from numpy.typing import NDArray

from mixdown.core.units import db_to_gain
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.instruments._kernels import OPERATORS, SINE_TABLE, adsr_coefficients, fm_kernel
from mixdown.dsp.instruments._voice import ParamTable, VoiceInstrument, velocity_gain

FEEDBACK_MAX = 1.5
"""Self-modulation index of the top operator at ``feedback = 1``, in radians."""

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
        fm_kernel(mix, offset, frames, self._active, self._kill, self._env_stage,
                   self._env_level, self._env_level0, self._env_par, self._phase, self._fb,
                   self._inc, self._vel_amp, self._vel_idx, self._ratio, self._level,
                   self._carrier, self._used, self._mods, self._fp, SINE_TABLE)


__all__ = ["ALGORITHMS", "FEEDBACK_MAX", "FM", "PARAMS", "PRESETS"]
