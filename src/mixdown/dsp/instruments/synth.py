"""The "synth" instrument: a polyphonic subtractive synthesiser.

Per voice: three oscillators (saw, square, triangle, sine or noise; band-limited
with polyBLEP/polyBLAMP corrections), unison copies with detune and stereo spread,
a resonant low-pass filter (12 or 24 dB/octave, topology-preserving state-variable
stages) with key tracking and its own ADSR, and an amp ADSR. ``mono`` plays one voice
whose legato notes glide over ``glide_s``.

Presets: parameters whose declared default is ``None`` take their value from the
``preset`` (``init``, ``bass``, ``pad``, ``lead``, ``pluck``, ``keys``) unless the user
sets them, so ``{type = "synth", preset = "bass", cutoff_hz = 500}`` is the bass
preset with a brighter filter.

Levels: an oscillator at level 1 swings +-1 before ``gain_db``; the presets set
``gain_db`` near -12 dB, which leaves headroom for chords.

Pitch and cutoff are updated on a control grid of :data:`CONTROL_FRAMES` frames
anchored at absolute frame 0 (and at each note start); everything else runs per
sample in one compiled kernel whose state carries exactly across blocks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mixdown.core.units import db_to_gain
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.instruments._kernels import (
    ATTACK,
    CONTROL_FRAMES,
    MIN_K,
    SINE_TABLE,
    adsr_coefficients,
    synth_kernel,
)
from mixdown.dsp.instruments._voice import (
    ParamTable,
    VoiceInstrument,
    note_seed,
    velocity_gain,
)

WAVES = ("saw", "square", "triangle", "sine", "noise")
"""Oscillator waveforms; the first four are the kernel's oscillator codes."""
_NOISE = 4

_K_BUTTER2 = math.sqrt(2.0)
_K_BUTTER4 = (2.0 * math.cos(math.pi / 8.0), 2.0 * math.cos(3.0 * math.pi / 8.0))


def filter_damping(filter_type: str, resonance: float) -> tuple[float, float, int]:
    """SVF damping ``k = 1/Q`` of the stages: ``(k1, k2, stages)``.

    At resonance 0 the response is Butterworth (``lp12``: one stage with k = sqrt 2;
    ``lp24``: two stages with k = 2 cos(pi/8) and 2 cos(3 pi/8)), -3 dB at the cutoff.
    Resonance moves the (last) stage's damping linearly to :data:`MIN_K`.
    """
    if filter_type == "lp12":
        return _K_BUTTER2 - (_K_BUTTER2 - MIN_K) * resonance, 0.0, 1
    k1, k2 = _K_BUTTER4
    return k1, k2 - (k2 - MIN_K) * resonance, 2


def _p(name: str, doc: str, lo: float, hi: float, kind: str = "float",
       automatable: bool = True) -> Param:
    return Param(name, None, doc, kind=kind, min=lo, max=hi,  # type: ignore[arg-type]
                 automatable=automatable)


PARAMS: list[Param] = [
    Param("preset", "init", "Starting sound; parameters you set override it.", kind="choice",
          choices=("init", "bass", "pad", "lead", "pluck", "keys"), automatable=False),
    Param("polyphony", 16, "Most notes sounding at once; the oldest is stolen.", kind="int",
          min=1, max=64, automatable=False),
    Param("mono", None, "One voice: legato notes glide and do not retrigger.", kind="bool",
          automatable=False),
    _p("glide_s", "Portamento time of a legato note in mono mode, in seconds.", 0.0, 5.0),
    _p("gain_db", "Output gain in dB.", -60.0, 24.0),
    _p("velocity_sens", "How much velocity scales the level (0 none, 1 square law).", 0.0, 1.0),
]
for _n in (1, 2, 3):
    PARAMS += [
        Param(f"osc{_n}_wave", None, f"Oscillator {_n} waveform.", kind="choice",
              choices=WAVES),
        _p(f"osc{_n}_octave", f"Oscillator {_n} transposition in octaves.", -3, 3, "int"),
        _p(f"osc{_n}_semitones", f"Oscillator {_n} transposition in semitones.", -24, 24,
           "int"),
        _p(f"osc{_n}_detune_cents", f"Oscillator {_n} fine tuning in cents.", -100.0, 100.0),
        _p(f"osc{_n}_level", f"Oscillator {_n} level (1 = full scale, 0 = off).", 0.0, 1.0),
    ]
PARAMS += [
    _p("unison", "Detuned copies of every voice (1 = none).", 1, 8, "int", automatable=False),
    _p("unison_detune_cents", "Detune between the outermost unison copies, in cents.",
       0.0, 100.0),
    _p("stereo_spread", "Stereo width of the unison copies (0 mono, 1 hard left/right).",
       0.0, 1.0),
    Param("filter_type", None, "Low-pass slope: lp12 (12 dB/oct) or lp24 (24 dB/oct).",
          kind="choice", choices=("lp12", "lp24")),
    _p("cutoff_hz", "Filter cutoff in Hz (-3 dB point at resonance 0).", 20.0, 20_000.0),
    _p("resonance", "Filter resonance (0 flat Butterworth, 1 = Q of 20).", 0.0, 1.0),
    _p("key_track", "Cutoff follows the note pitch (1 = fully, relative to C4).", 0.0, 1.0),
    _p("filter_env_st", "Filter envelope depth in semitones of cutoff.", -96.0, 96.0),
    _p("filter_velocity", "How much velocity scales the filter envelope depth.", 0.0, 1.0),
    _p("filter_attack_s", "Filter envelope attack time in seconds.", 0.0, 20.0),
    _p("filter_decay_s", "Filter envelope decay time in seconds.", 0.0, 20.0),
    _p("filter_sustain", "Filter envelope sustain level (0..1).", 0.0, 1.0),
    _p("filter_release_s", "Filter envelope release time in seconds.", 0.0, 30.0),
    _p("attack_s", "Amp envelope attack time (linear rise) in seconds.", 0.0, 20.0),
    _p("decay_s", "Amp envelope decay time to the sustain level in seconds.", 0.0, 20.0),
    _p("sustain", "Amp envelope sustain level (0..1, linear).", 0.0, 1.0),
    _p("release_s", "Amp envelope release time to silence in seconds.", 0.0, 30.0),
]


def _preset(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "mono": False, "glide_s": 0.0, "gain_db": -12.0, "velocity_sens": 0.5,
        "osc1_wave": "saw", "osc1_octave": 0, "osc1_semitones": 0, "osc1_detune_cents": 0.0,
        "osc1_level": 1.0,
        "osc2_wave": "saw", "osc2_octave": 0, "osc2_semitones": 0, "osc2_detune_cents": 0.0,
        "osc2_level": 0.0,
        "osc3_wave": "sine", "osc3_octave": -1, "osc3_semitones": 0, "osc3_detune_cents": 0.0,
        "osc3_level": 0.0,
        "unison": 1, "unison_detune_cents": 0.0, "stereo_spread": 0.0,
        "filter_type": "lp24", "cutoff_hz": 20_000.0, "resonance": 0.0, "key_track": 0.0,
        "filter_env_st": 0.0, "filter_velocity": 0.0, "filter_attack_s": 0.0,
        "filter_decay_s": 0.3, "filter_sustain": 0.0, "filter_release_s": 0.2,
        "attack_s": 0.002, "decay_s": 0.2, "sustain": 1.0, "release_s": 0.15,
    }
    base.update(over)
    return base


PRESETS: dict[str, dict[str, Any]] = {
    "init": _preset(),
    "bass": _preset(
        osc2_wave="square", osc2_octave=-1, osc2_level=0.5, osc3_level=0.4,
        cutoff_hz=260.0, resonance=0.25, key_track=0.3, filter_env_st=36.0,
        filter_velocity=0.5, filter_decay_s=0.25, filter_sustain=0.15, filter_release_s=0.1,
        attack_s=0.002, decay_s=0.4, sustain=0.8, release_s=0.08, velocity_sens=0.6,
        gain_db=-11.0,
    ),
    "pad": _preset(
        osc2_detune_cents=7.0, osc2_level=0.7, osc3_wave="triangle", osc3_octave=1,
        osc3_level=0.3, unison=4, unison_detune_cents=25.0, stereo_spread=0.8,
        filter_type="lp12", cutoff_hz=1_500.0, resonance=0.1, key_track=0.5,
        filter_env_st=12.0, filter_attack_s=1.2, filter_decay_s=2.0, filter_sustain=0.5,
        filter_release_s=1.5, attack_s=0.8, decay_s=1.5, sustain=0.8, release_s=1.8,
        velocity_sens=0.3, gain_db=-15.0,
    ),
    "lead": _preset(
        mono=True, glide_s=0.06, osc2_wave="square", osc2_detune_cents=7.0, osc2_level=0.5,
        cutoff_hz=2_200.0, resonance=0.35, key_track=0.6, filter_env_st=18.0,
        filter_velocity=0.4, filter_attack_s=0.005, filter_decay_s=0.4, filter_sustain=0.4,
        filter_release_s=0.3, attack_s=0.005, decay_s=0.2, sustain=0.9, release_s=0.15,
        velocity_sens=0.4, gain_db=-12.0,
    ),
    "pluck": _preset(
        osc2_wave="square", osc2_octave=1, osc2_level=0.3, cutoff_hz=500.0, resonance=0.3,
        key_track=0.7, filter_env_st=48.0, filter_velocity=0.6, filter_decay_s=0.25,
        filter_sustain=0.0, filter_release_s=0.2, attack_s=0.001, decay_s=0.6, sustain=0.0,
        release_s=0.3, velocity_sens=0.7, gain_db=-10.0,
    ),
    "keys": _preset(
        osc1_wave="triangle", osc2_wave="sine", osc2_octave=1, osc2_level=0.4,
        osc3_wave="square", osc3_octave=0, osc3_level=0.12, filter_type="lp12",
        cutoff_hz=2_500.0, key_track=0.8, filter_env_st=12.0, filter_velocity=0.5,
        filter_decay_s=0.8, filter_sustain=0.3, attack_s=0.003, decay_s=1.2, sustain=0.4,
        release_s=0.4, velocity_sens=0.8, gain_db=-12.0,
    ),
}

TABLE = ParamTable("synth", PARAMS, PRESETS, "preset")


@register_device(
    "synth", kind="instrument", params=PARAMS,
    doc="Polyphonic subtractive synth: 3 band-limited oscillators, unison, resonant "
        "low-pass with envelope and key tracking, amp ADSR, mono/glide, presets.",
)
class Synth(VoiceInstrument):
    """Polyphonic subtractive synthesiser (device type ``"synth"``).

    Parameters
    ----------
    **params
        Any of the parameters in :data:`PARAMS` (see ``mixdown devices synth``);
        those left out come from ``preset``.
    """

    table = TABLE
    env_count = 2

    def __init__(self, **params: Any) -> None:
        self._held: list[int] = []
        super().__init__(**params)

    def _capacity(self) -> int:
        return 1 if self._p["mono"] else super()._capacity()

    def _allocate_voices(self, capacity: int) -> None:
        uni = int(self._p["unison"])
        self._ctrl_due = np.zeros(capacity, np.int8)
        self._g_from = np.zeros(capacity)
        self._g_to = np.zeros(capacity)
        self._g_start = np.zeros(capacity, np.int64)
        self._g_frames = np.zeros(capacity, np.int64)
        self._pitch_now = np.zeros(capacity)
        self._inc = np.zeros(capacity)
        self._phase = np.zeros((capacity, uni, 3))
        self._rng = np.ones(capacity, np.uint64)
        self._vel_gain = np.zeros(capacity)
        self._fenv_st = np.zeros(capacity)
        self._fco = np.zeros((capacity, 2, 3))
        self._fst = np.zeros((capacity, 2, 2, 2))
        self._last_mod = np.zeros(capacity)

    def _reset_voices(self) -> None:
        self._held.clear()
        self._fst[:] = 0.0
        self._phase[:] = 0.0

    def _params_changed(self) -> None:
        p = self._p
        sr = self.sample_rate
        self._env_par = np.stack([
            adsr_coefficients(p["attack_s"], p["decay_s"], p["sustain"], p["release_s"], sr),
            adsr_coefficients(p["filter_attack_s"], p["filter_decay_s"], p["filter_sustain"],
                              p["filter_release_s"], sr),
        ])
        uni = int(p["unison"])
        pos = np.linspace(-1.0, 1.0, uni) if uni > 1 else np.zeros(1)
        detune = 0.5 * p["unison_detune_cents"] * pos
        pan = p["stereo_spread"] * pos
        norm = 1.0 / math.sqrt(uni)
        self._pan = np.stack([np.sqrt(1.0 - pan), np.sqrt(1.0 + pan)], axis=1) * norm
        ratio = np.empty((uni, 3))
        waves = np.empty(3, np.int64)
        levels = np.empty(3)
        noise = 0.0
        for o in range(3):
            k = f"osc{o + 1}_"
            semis = 12.0 * p[k + "octave"] + p[k + "semitones"] + p[k + "detune_cents"] / 100.0
            ratio[:, o] = 2.0 ** ((semis + detune / 100.0) / 12.0)
            waves[o] = WAVES.index(p[k + "wave"])
            levels[o] = p[k + "level"]
            if waves[o] == _NOISE:
                noise += levels[o]
                levels[o] = 0.0
        self._ratio = ratio
        self._wave = waves
        self._level = levels
        k1, k2, stages = filter_damping(p["filter_type"], p["resonance"])
        self._fp = np.array([p["cutoff_hz"], p["key_track"], k1, k2, stages, sr,
                             db_to_gain(p["gain_db"]), 0.45 * sr, noise,
                             self._kill_frames], dtype=np.float64)
        self._ctrl_due[:] = 1

    def _start_voice(self, slot: int, i: int, frame: int, request: Any) -> None:
        pitch = float(self._n_pitch[i])
        vel = int(self._n_vel[i])
        self._g_from[slot] = pitch
        self._g_to[slot] = pitch
        self._g_start[slot] = frame
        self._g_frames[slot] = 0
        self._ctrl_due[slot] = 1
        seed = note_seed(pitch, int(self._n_start[i]))
        self._rng[slot] = np.uint64(seed)
        if self._phase.shape[1] > 1:
            self._phase[slot] = np.random.default_rng(seed).random(self._phase.shape[1:])
        else:
            self._phase[slot] = 0.0
        self._set_velocity(slot, vel)
        self._fst[slot] = 0.0

    def _set_velocity(self, slot: int, vel: int) -> None:
        p = self._p
        self._vel_gain[slot] = velocity_gain(vel, p["velocity_sens"])
        fv = p["filter_velocity"]
        self._fenv_st[slot] = p["filter_env_st"] * (1.0 - fv + fv * min(max(vel, 1), 127) / 127)

    # -- mono mode --------------------------------------------------------------------------

    def _pitch_at(self, slot: int, frame: int) -> float:
        gf = int(self._g_frames[slot])
        el = frame - int(self._g_start[slot])
        if gf > 0 and el < gf:
            return float(self._g_from[slot] + (self._g_to[slot] - self._g_from[slot]) * (el / gf))
        return float(self._g_to[slot])

    def _glide(self, slot: int, frame: int, pitch: float) -> None:
        self._g_from[slot] = self._pitch_at(slot, frame)
        self._g_to[slot] = pitch
        self._g_start[slot] = frame
        self._g_frames[slot] = round(self._p["glide_s"] * self.sample_rate)
        self._ctrl_due[slot] = 1

    def _note_on(self, i: int, frame: int) -> None:
        if not self._p["mono"]:
            super()._note_on(i, frame)
            return
        if self._active[0] and self._held:  # legato: glide, keep the envelopes running
            self._glide(0, frame, float(self._n_pitch[i]))
            self._v_note[0] = i
        elif self._active[0]:  # still releasing: retrigger from the current level
            pitch = float(self._n_pitch[i])
            self._g_from[0] = self._g_to[0] = pitch
            self._g_frames[0] = 0
            self._ctrl_due[0] = 1
            self._env_stage[0] = ATTACK
            self._v_note[0] = i
            self._v_released[0] = False
            self._set_velocity(0, int(self._n_vel[i]))
        else:
            self._held.clear()
            super()._note_on(i, frame)
        self._held.append(i)

    def _note_off(self, i: int, frame: int) -> None:
        if not self._p["mono"]:
            super()._note_off(i, frame)
            return
        if i in self._held:
            self._held.remove(i)
        if self._v_note[0] != i or not self._active[0]:
            return
        if self._held:  # fall back to the most recent note still held
            j = self._held[-1]
            self._glide(0, frame, float(self._n_pitch[j]))
            self._v_note[0] = j
        else:
            self._release_slot(0)

    def _kernel(self, mix: NDArray[np.float64], offset: int, frames: int, frame: int) -> None:
        synth_kernel(mix, offset, frames, frame, self._active, self._kill, self._env_stage,
                      self._env_level, self._env_level0, self._env_par, self._ctrl_due,
                      self._g_from, self._g_to, self._g_start, self._g_frames,
                      self._pitch_now, self._inc, self._phase, self._ratio, self._pan,
                      self._wave, self._level, self._rng, self._vel_gain, self._fenv_st,
                      self._fco, self._fst, self._last_mod, self._fp, SINE_TABLE)


__all__ = ["CONTROL_FRAMES", "PARAMS", "PRESETS", "WAVES", "Synth", "filter_damping"]
