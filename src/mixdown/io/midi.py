"""MIDI files: read the notes of a Standard MIDI File (SMF) for a clip.

The notes come back in beats (quarter notes) from the start of the file, using the
file's ticks per quarter note. Tempo and time-signature events inside the file are
ignored: the song's tempo map decides where beats fall. All tracks and channels are
merged into one note list.

The parser (:func:`mixdown.io.smf.read_smf`) is our own and checks every length against
the bytes that are really there before trusting it, so a truncated or hostile file gives
one :class:`~mixdown.core.errors.FormatError` naming the file, never a crash or a hang.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mixdown.core.errors import FormatError
from mixdown.io.smf import MAX_CLIP_NOTES, read_smf
from mixdown.model.project import Note

MAX_MIDI_BYTES = 32 * 1024 * 1024
"""Refuse files larger than this (a song's MIDI is kilobytes)."""

MAX_NOTES = MAX_CLIP_NOTES
"""Refuse files with more notes than this."""


def read_midi_notes(path: str | Path) -> tuple[Note, ...]:
    """Read every note of a MIDI file.

    Parameters
    ----------
    path : Path
        A Standard MIDI File (format 0, 1 or 2) with ticks-per-quarter-note timing.

    Returns
    -------
    tuple of Note
        Sorted by start, then pitch. ``start`` and ``length`` are in beats from the
        file start (ticks / ticks per quarter note); velocity 1..127. A note-on with
        velocity 0 is a note-off. Overlapping notes of the same pitch and channel pair
        first-in, first-out. A note still held at the end of its track ends at the
        track's last event; a note that ends where it starts lasts one tick.

    Raises
    ------
    FormatError
        If the file is missing, not MIDI, truncated, uses SMPTE timing, or is corrupt.
    """
    p = Path(path)
    if p.is_file() and p.stat().st_size > MAX_MIDI_BYTES:
        raise FormatError(
            f"{p}: {p.stat().st_size} bytes is too large for a MIDI clip "
            f"(limit {MAX_MIDI_BYTES})", p
        )
    smf = read_smf(p, as_clip=True)
    if not smf.parts:
        return ()
    notes = np.concatenate([part.notes for part in smf.parts])
    notes = notes[np.lexsort((notes[:, 1] - notes[:, 0], notes[:, 2], notes[:, 0]))]
    tpq = smf.ticks_per_beat
    construct = Note.model_construct  # values are valid by construction: skip validation
    return tuple(construct(pitch=p_, start=s / tpq, length=(e - s) / tpq, velocity=v)
                 for s, e, p_, v in notes.tolist())
