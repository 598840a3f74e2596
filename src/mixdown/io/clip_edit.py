"""Audio clip edits that change a clip's file: time-stretch, pitch shift (Rubber Band, through
pedalboard's offline ``time_stretch``), reverse and peak normalisation.

Each (file content, edits, rate) is processed once and kept in the project's cache folder
(``.mixdown/cache``), like resampled clips: a render plays the processed file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mixdown.core.audio import AudioArray
from mixdown.core.units import db_to_gain

EDIT_VERSION = 1
"""Bumped when the processing changes: older cached files are not read again."""


@dataclass(frozen=True, slots=True)
class ClipEdit:
    """What is done to a clip's whole file before it plays.

    Attributes
    ----------
    stretch : float
        Length factor (1.25: 25 % longer, slower), pitch kept.
    pitch_semitones : float
        Pitch shift in semitones, length kept.
    preserve_formants : bool
        Keep the spectral envelope (a voice's formants) while shifting pitch.
    reverse : bool
        Play the file backwards.
    normalize_db : float or None
        Scale so the file's sample peak is this many dBFS.
    """

    stretch: float = 1.0
    pitch_semitones: float = 0.0
    preserve_formants: bool = False
    reverse: bool = False
    normalize_db: float | None = None

    @property
    def identity(self) -> bool:
        """Whether the edit leaves the file as it is."""
        return self == ClipEdit(preserve_formants=self.preserve_formants)


def apply_edit(audio: AudioArray, rate: int, edit: ClipEdit) -> AudioArray:
    """``audio`` (channels, frames) float32 at ``rate`` Hz with ``edit`` applied."""
    out = np.ascontiguousarray(audio, dtype=np.float32)
    if edit.stretch != 1.0 or edit.pitch_semitones != 0.0:
        import pedalboard

        # pedalboard's stretch_factor is a speed (2.0: half as long); ours is a length.
        out = pedalboard.time_stretch(out, float(rate), stretch_factor=1.0 / edit.stretch,
                                      pitch_shift_in_semitones=edit.pitch_semitones,
                                      preserve_formants=edit.preserve_formants)
        out = np.ascontiguousarray(out, dtype=np.float32)
    if edit.reverse:
        out = np.ascontiguousarray(out[:, ::-1])
    if edit.normalize_db is not None:
        peak = float(np.abs(out).max()) if out.size else 0.0
        if peak > 0.0:
            out = (out * np.float32(db_to_gain(edit.normalize_db) / peak)).astype(np.float32)
    return out


def edit_key(path: Path, rate: int, edit: ClipEdit) -> str:
    """A hash of the file's bytes, the rate and the edit (the processed file's name)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    h.update(json.dumps({"rate": rate, "edit": asdict(edit), "v": EDIT_VERSION},
                        sort_keys=True).encode())
    return h.hexdigest()[:16]
