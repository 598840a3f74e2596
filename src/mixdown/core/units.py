"""Unit conversions: decibels, gain, MIDI pitch, frequency."""

from __future__ import annotations

import math
import re

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mixdown.core.errors import ModelError


def db_to_gain(db: float) -> float:
    """Convert decibels to a linear amplitude factor (``-inf`` dB gives 0)."""
    if db == -math.inf:
        return 0.0
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    """Convert a linear amplitude factor to decibels (0 gives ``-inf``)."""
    gain = abs(gain)
    if gain == 0.0:
        return -math.inf
    return 20.0 * math.log10(gain)


def db_to_gain_array(db: ArrayLike) -> NDArray[np.float64]:
    """Vectorised :func:`db_to_gain`."""
    return np.power(10.0, np.asarray(db, dtype=np.float64) / 20.0)


def midi_to_hz(pitch: float, a4_hz: float = 440.0) -> float:
    """MIDI note number (69 = A4) to frequency in Hz, equal temperament."""
    return a4_hz * 2.0 ** ((pitch - 69.0) / 12.0)


_NOTE_RE = re.compile(r"^([A-Ga-g])([#b]?)(-?\d+)$")
_STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def note_name_to_midi(name: str) -> int:
    """Parse a note name such as ``C4`` (= 60), ``F#2`` or ``Bb3`` to a MIDI number."""
    m = _NOTE_RE.match(name.strip())
    if not m:
        raise ModelError(f"not a note name: {name!r} (write e.g. 'C4', 'F#2', 'Bb3' or 60)")
    letter, accidental, octave = m.groups()
    pitch = _STEPS[letter.upper()] + (12 * (int(octave) + 1))
    pitch += {"#": 1, "b": -1, "": 0}[accidental]
    if not 0 <= pitch <= 127:
        raise ModelError(f"note {name!r} is outside MIDI range 0..127")
    return pitch
