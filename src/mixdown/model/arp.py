"""The arpeggiator: a note clip's held notes played one at a time on a tempo-synced grid.

On every step of the grid (``rate``, a note value such as ``"1/16"``, counted from the clip
start) the arpeggiator looks at the notes held at that moment, sorted by pitch and repeated
``octaves`` times an octave apart, and plays the next one in ``mode`` order (``up``, ``down``,
``up-down`` without repeating the turning notes, or ``random`` from ``seed``). The order starts
again whenever the set of held notes changes. Each note lasts ``gate`` of a step and keeps the
velocity of the held note it came from. Deterministic: the same clip gives the same notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

_NOTE_VALUE = re.compile(r"^\s*1\s*/\s*(1|2|4|8|16|32|64)\s*([dt]?)\s*$")


def note_value_beats(text: str) -> float:
    """Length in quarter-note beats of a note value: ``"1/16"`` = 0.25, ``"1/8d"`` (dotted)
    = 0.75, ``"1/8t"`` (triplet) = 1/3.

    Raises
    ------
    ValueError
        Not a note value.
    """
    m = _NOTE_VALUE.match(text)
    if not m:
        raise ValueError(f"must be a note value like '1/16', '1/8d' (dotted) or '1/8t' "
                         f"(triplet), got {text!r}")
    beats = 4.0 / int(m.group(1))
    return beats * 1.5 if m.group(2) == "d" else beats * 2 / 3 if m.group(2) == "t" else beats


class Arp(BaseModel):
    """Arpeggiator settings of a note clip (``arp = { mode = "up", rate = "1/16" }``).

    Attributes
    ----------
    mode : {"up", "down", "up-down", "random"}
    rate : str
        Step length as a note value (``"1/16"``, ``"1/8t"``, ``"1/8d"``); synced to the tempo.
    octaves : int
        How many octaves the held notes are repeated over (1 = as held).
    gate : float
        Length of each note as a fraction of a step (0 < gate <= 1).
    seed : int
        Seed of the ``random`` order.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    mode: Literal["up", "down", "up-down", "random"] = "up"
    rate: str = "1/16"
    octaves: int = Field(default=1, ge=1, le=4)
    gate: float = Field(default=0.5, gt=0, le=1)
    seed: int = Field(default=0, ge=0)

    @field_validator("rate")
    @classmethod
    def _rate(cls, v: str) -> str:
        note_value_beats(v)
        return v

    @property
    def step_beats(self) -> float:
        """The grid step in beats."""
        return note_value_beats(self.rate)


MAX_ARP_STEPS = 1_000_000
"""More grid steps than this in one clip is a mistake (a tiny rate over a long clip)."""


def arpeggiate(notes: Iterable[tuple[float, float, int, int]], arp: Arp,
               ) -> list[tuple[float, float, int, int]]:
    """The arpeggiated notes of a clip.

    Parameters
    ----------
    notes : iterable of (start, length, pitch, velocity)
        Held notes, in beats from the clip start.
    arp : Arp

    Returns
    -------
    list of (start, length, pitch, velocity)
        In beats from the clip start, in time order.
    """
    held = sorted(notes)
    if not held:
        return []
    step = arp.step_beats
    starts = np.array([n[0] for n in held])
    ends = np.array([n[0] + n[1] for n in held])
    n_steps = int(np.ceil(ends.max() / step - 1e-9))
    if n_steps > MAX_ARP_STEPS:
        raise ValueError(f"the arpeggiator would play {n_steps} steps; use a slower rate or a "
                         "shorter clip")
    rng = np.random.default_rng(arp.seed)
    out: list[tuple[float, float, int, int]] = []
    last: tuple[int, ...] = ()
    index = 0
    for k in range(n_steps):
        t = k * step
        on = np.nonzero((starts <= t + 1e-9) & (ends > t + 1e-9))[0]
        if on.size == 0:
            last = ()
            continue
        velocity: dict[int, int] = {}
        for i in on:
            p, v = held[i][2], held[i][3]
            velocity[p] = max(v, velocity.get(p, 0))
        pitches = tuple(sorted(velocity))
        if pitches != last:
            last, index = pitches, 0
        seq = [p + 12 * o for o in range(arp.octaves) for p in pitches]
        vels = [velocity[p] for _ in range(arp.octaves) for p in pitches]
        order = list(range(len(seq)))
        if arp.mode == "down":
            order.reverse()
        elif arp.mode == "up-down" and len(order) > 2:
            order = order + order[-2:0:-1]
        j = int(rng.integers(len(seq))) if arp.mode == "random" else order[index % len(order)]
        index += 1
        out.append((t, step * arp.gate, seq[j], vels[j]))
    return out


__all__ = ["MAX_ARP_STEPS", "Arp", "arpeggiate", "note_value_beats"]
