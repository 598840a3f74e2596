"""Modulators: LFOs and envelope followers that move an automatable parameter.

A modulator adds an offset to its ``target`` (the same names as an automation lane's
``param``: ``volume_db``, ``pan``, ``send.<bus>``, ``<device>.<parameter>``,
``instrument.<parameter>``). Automation (or the fixed value) is the base; the offsets of
every modulator on the same target are summed, applied, and the result is clamped to the
parameter's range. ``depth`` is in the parameter's natural unit: semitones for a frequency
(a parameter ending in ``_hz``: the offset multiplies it by ``2 ** (offset / 12)``), dB for
a level (``_db``), otherwise the parameter's own unit (pan -1..1, resonance 0..1...).

Which target and source names exist is checked by :mod:`mixdown.resolve.modulators`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LFO_SHAPES = ("sine", "triangle", "saw", "square", "sample_hold")
"""LFO wave shapes; ``sample_hold`` holds a seeded random value for each cycle."""

MODULATOR_TYPES = ("lfo", "follower")
"""The ``type`` of each kind of modulator."""

LFO_RATE_HZ_MAX = 50.0
"""The fastest free-running LFO in Hz (parameters update every 256 frames: 5.3 ms at 48 kHz)."""


class ModulatorSpec(BaseModel):
    """Base of the modulator models: frozen, no unknown fields, finite numbers only; ``type``
    always counts as set, so that a saved song.toml names it."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @model_validator(mode="after")
    def _type_is_set(self) -> ModulatorSpec:
        self.__pydantic_fields_set__.add("type")
        return self


class Lfo(ModulatorSpec):
    """A low-frequency oscillator.

    ``rate`` is a note value synced to the song's tempo map (``"1/4"``: one cycle per quarter
    note; ``"1/8d"`` dotted, ``"1/8t"`` triplet, ``"2/1"`` two bars of 4/4), or ``rate_hz``
    a free rate in Hz. The wave runs from -1 to 1 and starts at ``phase`` (0..1 of a cycle)
    at the song's start; the offset is ``depth * wave``.
    """

    type: Literal["lfo"] = "lfo"
    target: str = Field(min_length=1)
    shape: Literal["sine", "triangle", "saw", "square", "sample_hold"] = "sine"
    rate: str | None = None
    rate_hz: float | None = Field(default=None, gt=0, le=LFO_RATE_HZ_MAX)
    depth: float
    phase: float = Field(default=0.0, ge=0, lt=1)
    seed: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _one_rate(self) -> Lfo:
        if (self.rate is None) == (self.rate_hz is None):
            raise ValueError("give either rate (a note value such as '1/4') or rate_hz, "
                             "exactly one")
        return self


class Follower(ModulatorSpec):
    """An envelope follower: the level of another track or bus moves ``target``.

    The envelope is the peak of ``source``'s signal after its fader (what a sidechain
    hears), as linear amplitude (1 = 0 dBFS, capped at 1), rising with ``attack_ms`` and
    falling with ``release_ms`` (one-pole time constants). The offset is
    ``depth * envelope``: ``depth = -12`` on ``volume_db`` ducks by 12 dB while the source
    peaks at full scale, by 6 dB while it peaks at -6 dBFS (0.5).
    """

    type: Literal["follower"] = "follower"
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    attack_ms: float = Field(default=5.0, ge=0.1, le=1000)
    release_ms: float = Field(default=150.0, ge=1, le=5000)
    depth: float


Modulator = Annotated[Lfo | Follower, Field(discriminator="type")]
"""One entry of a channel's ``modulators`` list."""

__all__ = ["LFO_RATE_HZ_MAX", "LFO_SHAPES", "MODULATOR_TYPES", "Follower", "Lfo", "Modulator",
           "ModulatorSpec"]
