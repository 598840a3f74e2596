"""The song's key (``key = "D minor"``): its scale, transposition by scale degrees and
quantising pitches to the scale."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mixdown.core.errors import ModelError
from mixdown.model.chords import PITCH_CLASSES

MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic minor": (0, 2, 3, 5, 7, 9, 11),
}
"""Scales as semitones above the tonic."""

_ALIASES = {"maj": "major", "ionian": "major", "min": "minor", "m": "minor",
            "aeolian": "minor", "natural minor": "minor"}

_KEY = re.compile(r"^\s*([A-Ga-g])(#|b|♯|♭)?\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class Key:
    """A tonic pitch class (0 = C) and a scale (semitones above it, ascending)."""

    name: str
    tonic: int
    scale: tuple[int, ...]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        """The scale's pitch classes, 0..11, from the tonic up."""
        return tuple((self.tonic + s) % 12 for s in self.scale)

    def _degree(self, pitch: int) -> tuple[int, int]:
        """(scale degree counted from the tonic of octave -1, semitones above that tone)."""
        rel = pitch - self.tonic
        octave, within = divmod(rel, 12)
        i = max(k for k, s in enumerate(self.scale) if s <= within)
        return octave * len(self.scale) + i, within - self.scale[i]

    def _pitch(self, degree: int) -> int:
        octave, i = divmod(degree, len(self.scale))
        return self.tonic + 12 * octave + self.scale[i]

    def transpose_degrees(self, pitch: int, degrees: int) -> int:
        """``pitch`` moved by ``degrees`` steps of the scale (a tone outside the scale keeps its
        distance above the scale tone below it)."""
        degree, extra = self._degree(pitch)
        return self._pitch(degree + degrees) + extra

    def quantize(self, pitch: int) -> int:
        """The nearest pitch of the scale (ties go down)."""
        if (pitch - self.tonic) % 12 in self.scale:
            return pitch
        for d in range(1, 7):
            for cand in (pitch - d, pitch + d):
                if (cand - self.tonic) % 12 in self.scale:
                    return cand
        return pitch  # pragma: no cover - every scale has a tone within a tritone


def parse_key(text: str) -> Key:
    """Parse ``"D minor"``, ``"F# major"``, ``"Bb dorian"``, ``"Am"`` or ``"C"`` (major).

    Raises
    ------
    ModelError
        Not a key; the message lists the modes.
    """
    m = _KEY.match(text) if isinstance(text, str) else None
    mode = ""
    if m:
        mode = re.sub(r"\s+", " ", m.group(3).lower().replace("_", " ").replace("-", " "))
        mode = _ALIASES.get(mode, mode) or "major"
    if not m or mode not in MODES:
        raise ModelError(f"unknown key {text!r}; write a tonic and a mode, e.g. \"D minor\", "
                         f"\"F# major\", \"Bb dorian\" (modes: {', '.join(MODES)})")
    tonic = PITCH_CLASSES[m.group(1).upper()]
    acc = m.group(2) or ""
    tonic = (tonic + (1 if acc in ("#", "♯") else -1 if acc in ("b", "♭") else 0)) % 12
    return Key(text, tonic, MODES[mode])


__all__ = ["MODES", "Key", "parse_key"]
