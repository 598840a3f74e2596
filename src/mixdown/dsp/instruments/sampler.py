"""The "sampler" instrument: one-shots and multi-sampled, velocity-layered zones.

A zone is a dict. In song.toml a zone names its sample with ``file``; resolving the
project decodes that file into ``audio`` and ``sample_rate`` (dsp never opens files):

============== ============================================== ==========
key            meaning                                        default
============== ============================================== ==========
audio          float array, (channels, frames), 1-2 channels  required
sample_rate    its sample rate in Hz                          required
root           MIDI note the sample sounds at                 60
lo_key/hi_key  key range it answers (MIDI notes, inclusive)   0 / 127
lo_vel/hi_vel  velocity range (a velocity layer, inclusive)   0 / 127
loop_start     loop start frame (with loop_end)               no loop
loop_end       loop end frame, exclusive                      no loop
gain_db        zone gain in dB                                0
one_shot       play the whole sample, ignore note ends         false
============== ============================================== ==========

Every zone whose key and velocity ranges contain a note plays it (layers stack).
Pitch is changed by resampling (4-point, 3rd-order Hermite interpolation): a note
``k`` semitones above ``root`` plays ``2 ** (k / 12)`` times faster; a zone recorded at
another rate is resampled to the render's rate. A looped zone loops while the note
is held and plays on past ``loop_end`` to the end of the sample after release. A note
at the root key, at equal rates, with velocity 127 (or ``velocity_sens`` 0) and the
default envelope plays the sample's samples unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mixdown.core.errors import ParameterError
from mixdown.core.names import closest
from mixdown.core.units import db_to_gain
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.instruments._kernels import adsr_coefficients, sampler_kernel
from mixdown.dsp.instruments._voice import ParamTable, VoiceInstrument, velocity_gain

PARAMS: list[Param] = [
    Param("zones", (), "Sample zones: a list of {file (a project file; from Python: audio and "
          "sample_rate), root, lo_key, hi_key, lo_vel, hi_vel, loop_start, loop_end, gain_db, "
          "one_shot}.", kind="any",
          automatable=False),
    Param("polyphony", 32, "Most voices sounding at once; the oldest is stolen.", kind="int",
          min=1, max=128, automatable=False),
    Param("pitch_tracking", True, "Transpose by the note's distance from the zone's root.",
          kind="bool", automatable=False),
    Param("attack_s", 0.0, "Amp envelope attack time in seconds.", min=0.0, max=20.0),
    Param("decay_s", 0.0, "Amp envelope decay time to the sustain level in seconds.",
          min=0.0, max=20.0),
    Param("sustain", 1.0, "Amp envelope sustain level (0..1).", min=0.0, max=1.0),
    Param("release_s", 0.05, "Amp envelope release time to silence in seconds.", min=0.0,
          max=30.0),
    Param("gain_db", 0.0, "Output gain in dB.", min=-60.0, max=24.0),
    Param("velocity_sens", 0.5, "How much velocity scales the level (0 none, 1 square law).",
          min=0.0, max=1.0),
]

TABLE = ParamTable("sampler", PARAMS)

_ZONE_KEYS = ("audio", "sample_rate", "root", "lo_key", "hi_key", "lo_vel", "hi_vel",
              "loop_start", "loop_end", "gain_db", "one_shot")
_IGNORED_KEYS = ("file", "path", "name")  # where the engine found the audio; not used here


@dataclass(frozen=True, slots=True)
class Zone:
    """A checked sampler zone (audio as float32, shape (2, frames))."""

    audio: NDArray[np.float32]
    sample_rate: int
    root: float
    lo_key: int
    hi_key: int
    lo_vel: int
    hi_vel: int
    loop_start: int
    loop_end: int  # -1: no loop
    gain_db: float
    one_shot: bool


def check_zones(zones: Any) -> tuple[Zone, ...]:
    """Validate the ``zones`` parameter.

    Raises
    ------
    ParameterError
        Naming the zone index and the field, e.g. ``sampler zones[2].hi_key``.
    """
    if isinstance(zones, Mapping) or not isinstance(zones, Sequence) or isinstance(zones, str):
        raise ParameterError(f"sampler zones: must be a list of zone tables, got "
                             f"{type(zones).__name__}")
    return tuple(_check_zone(i, z) for i, z in enumerate(zones))


def _check_zone(i: int, zone: Any) -> Zone:
    where = f"sampler zones[{i}]"
    if not isinstance(zone, Mapping):
        raise ParameterError(f"{where}: must be a table of zone fields, got "
                             f"{type(zone).__name__}")
    for key in zone:
        if key not in _ZONE_KEYS and key not in _IGNORED_KEYS:
            hint = closest(str(key), ("file", *_ZONE_KEYS), n=1, cutoff=0.5)
            raise ParameterError(f"{where}: unknown field {key!r}{hint}")
    for key in ("audio", "sample_rate"):
        if key not in zone:
            raise ParameterError(f"{where}.{key}: missing; every zone needs audio and its "
                                 "sample_rate")
    audio = zone["audio"]
    if not isinstance(audio, np.ndarray) or audio.dtype.kind != "f" or audio.ndim not in (1, 2):
        raise ParameterError(f"{where}.audio: must be a float array shaped (channels, frames), "
                             f"got {getattr(audio, 'dtype', type(audio).__name__)} "
                             f"{getattr(audio, 'shape', '')}")
    if audio.ndim == 1:
        audio = audio[None, :]
    if audio.shape[0] not in (1, 2):
        raise ParameterError(f"{where}.audio: must have 1 or 2 channels (channels, frames), got "
                             f"shape {audio.shape}; transpose a frames-first array")
    frames = audio.shape[1]
    if frames < 1:
        raise ParameterError(f"{where}.audio: is empty; give at least one frame")
    if not np.isfinite(audio).all():
        raise ParameterError(f"{where}.audio: contains NaN or infinite samples")
    data = np.ascontiguousarray(np.broadcast_to(audio, (2, frames)), dtype=np.float32)
    rate = zone["sample_rate"]
    if isinstance(rate, bool) or not isinstance(rate, int | np.integer) \
            or not 1_000 <= rate <= 768_000:
        raise ParameterError(f"{where}.sample_rate: must be a whole number of Hz in "
                             f"1000..768000, got {rate!r}")

    def number(key: str, default: float, lo: float, hi: float, whole: bool = True) -> float:
        value = zone.get(key, default)
        ok = not isinstance(value, bool) and isinstance(value, int | float | np.number) \
            and math.isfinite(value) and lo <= value <= hi and (not whole or value == int(value))
        if not ok:
            kind = "a whole number" if whole else "a number"
            raise ParameterError(f"{where}.{key}: must be {kind} in {lo:g}..{hi:g}, "
                                 f"got {value!r}")
        return float(value)

    root = number("root", 60, 0, 127, whole=False)
    lo_key, hi_key = int(number("lo_key", 0, 0, 127)), int(number("hi_key", 127, 0, 127))
    if lo_key > hi_key:
        raise ParameterError(f"{where}.lo_key: {lo_key} is above hi_key {hi_key}; swap them")
    lo_vel, hi_vel = int(number("lo_vel", 0, 0, 127)), int(number("hi_vel", 127, 0, 127))
    if lo_vel > hi_vel:
        raise ParameterError(f"{where}.lo_vel: {lo_vel} is above hi_vel {hi_vel}; swap them")
    loop_start, loop_end = zone.get("loop_start"), zone.get("loop_end")
    if (loop_start is None) != (loop_end is None):
        raise ParameterError(f"{where}.loop_start: give both loop_start and loop_end (frames), "
                             "or neither")
    if loop_start is None:
        ls, le = 0, -1
    else:
        ls = int(number("loop_start", 0, 0, frames - 1))
        le = int(number("loop_end", frames, 1, frames))
        if le <= ls:
            raise ParameterError(f"{where}.loop_end: {le} must be after loop_start {ls}")
    gain_db = number("gain_db", 0.0, -120.0, 24.0, whole=False)
    one_shot = zone.get("one_shot", False)
    if not isinstance(one_shot, bool):
        raise ParameterError(f"{where}.one_shot: must be true or false, got {one_shot!r}")
    return Zone(data, int(rate), root, lo_key, hi_key, lo_vel, hi_vel, ls, le, gain_db,
                one_shot)


@register_device(
    "sampler", kind="instrument", params=PARAMS,
    doc="Plays one-shots and multi-sampled zones (key ranges, velocity layers, sustain "
        "loops) with Hermite-interpolated pitch shifting and an amp ADSR.",
)
class Sampler(VoiceInstrument):
    """Zone-based sampler (device type ``"sampler"``).

    Parameters
    ----------
    **params
        Any of the parameters in :data:`PARAMS`; ``zones`` as described in the
        module docstring.
    """

    table = TABLE
    env_count = 1

    def __init__(self, **params: Any) -> None:
        self._zones = check_zones(TABLE.resolve(params)["zones"])
        super().__init__(**params)
        self._p["zones"] = self._zones
        lengths = [z.audio.shape[1] for z in self._zones]
        self._z_off = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) \
            if lengths else np.zeros(0, np.int64)
        self._z_len = np.array(lengths, np.int64)
        self._z_ls = np.array([z.loop_start for z in self._zones], np.int64)
        self._z_le = np.array([z.loop_end for z in self._zones], np.int64)
        self._data = np.concatenate([z.audio for z in self._zones], axis=1) if lengths \
            else np.zeros((2, 1), np.float32)

    def _voice_requests(self, i: int) -> Sequence[Any]:
        key = round(float(self._n_pitch[i]))
        vel = int(self._n_vel[i])
        return [k for k, z in enumerate(self._zones)
                if z.lo_key <= key <= z.hi_key and z.lo_vel <= vel <= z.hi_vel]

    def _allocate_voices(self, capacity: int) -> None:
        self._zone = np.zeros(capacity, np.int64)
        self._pos = np.zeros(capacity)
        self._rate = np.zeros(capacity)
        self._looping = np.zeros(capacity, np.int8)
        self._amp = np.zeros(capacity)
        self._one_shot = np.zeros(capacity, bool)

    def _params_changed(self) -> None:
        p = self._p
        self._env_par = adsr_coefficients(p["attack_s"], p["decay_s"], p["sustain"],
                                          p["release_s"], self.sample_rate)[None, :]
        self._gain = db_to_gain(p["gain_db"])

    def _start_voice(self, slot: int, i: int, frame: int, request: Any) -> None:
        z = self._zones[request]
        rate = z.sample_rate / self.sample_rate
        if self._p["pitch_tracking"]:
            rate *= 2.0 ** ((float(self._n_pitch[i]) - z.root) / 12.0)
        self._zone[slot] = request
        self._pos[slot] = 0.0
        self._rate[slot] = rate
        self._looping[slot] = z.loop_end > 0 and not z.one_shot
        self._one_shot[slot] = z.one_shot
        self._amp[slot] = (velocity_gain(int(self._n_vel[i]), self._p["velocity_sens"])
                           * db_to_gain(z.gain_db))

    def _release_slot(self, slot: int) -> None:
        if self._one_shot[slot]:
            return
        self._looping[slot] = 0
        super()._release_slot(slot)

    def _kernel(self, mix: NDArray[np.float64], offset: int, frames: int, frame: int) -> None:
        sampler_kernel(mix, offset, frames, self._active, self._kill, self._env_stage,
                        self._env_level, self._env_level0, self._env_par, self._zone,
                        self._pos, self._rate, self._looping, self._amp, self._data,
                        self._z_off, self._z_len, self._z_ls, self._z_le,
                        float(self._kill_frames), self._gain)


__all__ = ["PARAMS", "Sampler", "Zone", "check_zones"]
