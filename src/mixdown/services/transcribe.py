"""Use case: audio to MIDI (``mixdown transcribe``).

The take is read and transcribed completely before anything is written; the MIDI file is
then written atomically. A file that is not audio, holds no frames or is silent is an
error and writes nothing; audio in which no note is found gives a MIDI file with no notes
and a warning.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mixdown.core.errors import FormatError, MixdownError
from mixdown.core.files import atomic_path
from mixdown.core.jsonable import to_jsonable
from mixdown.io.transcribe import (
    TranscribedNote,
    TranscribeSettings,
    notes_to_midi,
    read_take,
    transcribe_audio,
)


@dataclass(frozen=True, slots=True)
class TranscribeReport:
    """What a transcription found and wrote (times in seconds, pitches as MIDI numbers)."""

    source: Path
    output: Path
    duration_s: float
    bpm: float
    notes: tuple[TranscribedNote, ...]
    warnings: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return to_jsonable(asdict(self))  # type: ignore[no-any-return]


def transcribe(source: str | Path, output: str | Path, *,
               settings: TranscribeSettings | None = None,
               bpm: float = 120.0) -> TranscribeReport:
    """Transcribe the audio file ``source`` to the MIDI file ``output`` (atomic).

    Parameters
    ----------
    source : str or Path
        Any audio file mixdown reads (WAV, FLAC, MP3...).
    output : str or Path
        The .mid file to write (replaced if it exists); its folder must exist.
    settings : TranscribeSettings, optional
        basic-pitch's thresholds.
    bpm : float
        The tempo written in the MIDI file (notes keep their times in seconds).

    Raises
    ------
    FormatError
        ``source`` is not audio, is empty or silent (nothing is written).
    """
    src, out = Path(source), Path(output)
    if out.is_dir():
        raise MixdownError(f"{out}: is a folder; give the .mid file to write")
    if out.suffix.lower() not in (".mid", ".midi"):
        raise MixdownError(f"{out}: transcribe writes a MIDI file; name it .mid")
    if not out.parent.is_dir():
        raise FormatError(f"{out}: the folder {out.parent} does not exist", out)
    (settings or TranscribeSettings()).check()
    audio, sr = read_take(src)
    notes = transcribe_audio(audio, sr, settings)
    data = notes_to_midi(notes, bpm=bpm)
    warnings = () if notes else (f"{src}: no notes found; the MIDI file has none",)
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
    return TranscribeReport(src, out, audio.shape[1] / sr, bpm, tuple(notes), warnings)


__all__ = ["TranscribeReport", "transcribe"]
