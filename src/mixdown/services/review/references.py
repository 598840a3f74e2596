"""Reference tracks: upload (checked, decoded, measured), list, get, audio path."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mixdown.core.errors import FormatError
from mixdown.review.errors import NotFound, UnsupportedUpload, UploadTooLarge
from mixdown.review.places import inside, song_folder, valid_song_name
from mixdown.review.tables import ReferenceRow, SongRow
from mixdown.review.waveform import measure_waveform, save_waveform
from mixdown.services.review._common import (
    _finite,
    _iso,
    _now,
    _number,
    _staging,
    _utc,
    _write_json,
)
from mixdown.services.review.studio import Studio, _ensure_song, _song_row

MAX_REFERENCE_BYTES = 200 * 1024 * 1024
"""Largest reference upload accepted (bytes)."""
REFERENCE_SUFFIXES = (".wav", ".flac", ".mp3", ".aif", ".aiff", ".ogg")


@dataclass(frozen=True, slots=True)
class Reference:
    """A reference track uploaded for a song (decoded and measured when accepted)."""

    song: str
    id: int
    name: str
    created_at: datetime
    sample_rate: int
    channels: int
    frames: int
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    loudness_range_lu: float | None
    folder: str = field(repr=False, default="")
    audio_file: str = field(repr=False, default="")

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"song": self.song, "id": self.id, "name": self.name,
                "created_at": _iso(self.created_at), "sample_rate": self.sample_rate,
                "channels": self.channels, "duration_s": self.duration_s,
                "integrated_lufs": self.integrated_lufs, "true_peak_dbtp": self.true_peak_dbtp,
                "loudness_range_lu": self.loudness_range_lu}


def _reference(row: ReferenceRow, song: str) -> Reference:
    return Reference(
        song=song, id=row.id, name=row.name, created_at=_utc(row.created_at),  # type: ignore[arg-type]
        sample_rate=row.sample_rate, channels=row.channels, frames=row.frames,
        integrated_lufs=row.integrated_lufs, true_peak_dbtp=row.true_peak_dbtp,
        loudness_range_lu=row.loudness_range_lu, folder=row.folder,
        audio_file=row.audio_file)


def add_reference(studio: Studio, song: str, filename: str, data: bytes, *,
                  max_bytes: int = MAX_REFERENCE_BYTES) -> Reference:
    """Accept a reference track for ``song``: checked for size, fully decoded and measured
    before it is kept.

    Raises
    ------
    NotFound
        Unknown song.
    UploadTooLarge
        More than ``max_bytes`` (413).
    UnsupportedUpload
        Not a WAV/FLAC/MP3/AIFF/OGG file that decodes (415).
    """
    from mixdown.io.audio import audio_info
    from mixdown.io.measure import analyze_file

    song_folder(studio.songs, song)
    shown = Path(str(filename or "").replace("\\", "/")).name.strip() or "reference"
    shown = "".join(c for c in shown if c.isprintable())[:200] or "reference"
    if len(data) > max_bytes:
        raise UploadTooLarge(f"{shown}: {len(data)} bytes is over the {max_bytes}-byte limit "
                             "for a reference track")
    suffix = Path(shown).suffix.lower()
    if suffix not in REFERENCE_SUFFIXES:
        raise UnsupportedUpload(f"{shown}: not an audio file mixdown reads (give "
                                f"{', '.join(REFERENCE_SUFFIXES)})")
    if not data:
        raise UnsupportedUpload(f"{shown}: the file is empty")
    name = f"reference{suffix}"
    with _staging(studio) as stage:
        (stage / name).write_bytes(data)
        try:
            info = audio_info(stage / name)
            qc = analyze_file(stage / name)
            wave, curve = measure_waveform(stage / name)
        except FormatError as exc:
            reason = str(exc).split(": ", 1)[-1]
            raise UnsupportedUpload(f"{shown}: cannot be decoded as audio ({reason})") from None
        save_waveform(stage, wave, curve)
        _write_json(stage / f"{name}.qc.json", qc.as_dict())
        song_id = _ensure_song(studio, song)
        rel = f"references/{song}/{uuid.uuid4().hex[:16]}"
        final = studio.store / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage, final)
        try:
            with studio.db.transaction() as s:
                row = ReferenceRow(
                    song_id=song_id, name=shown, folder=rel, audio_file=name,
                    created_at=_now(), sample_rate=info.sample_rate, channels=info.channels,
                    frames=qc.frames, integrated_lufs=_finite(qc.integrated_lufs),
                    true_peak_dbtp=_finite(qc.true_peak_dbtp),
                    loudness_range_lu=_finite(qc.loudness_range_lu))
                s.add(row)
                s.flush()
                return _reference(row, song)
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise


def list_references(studio: Studio, song: str) -> list[Reference]:
    """A song's reference tracks, oldest first."""
    if not valid_song_name(song):
        raise NotFound(f"no song {song!r}")
    with studio.db.transaction() as s:
        row = _song_row(s, song, create=False)
        if row is None:
            song_folder(studio.songs, song)
            return []
        rows = s.execute(select(ReferenceRow).where(ReferenceRow.song_id == row.id)
                         .order_by(ReferenceRow.id)).scalars().all()
        return [_reference(r, song) for r in rows]


def get_reference(studio: Studio, song: str, reference_id: int | str) -> Reference:
    """Reference ``reference_id`` of ``song`` (NotFound otherwise)."""
    n = _number(reference_id)
    if n is None or not valid_song_name(song):
        raise NotFound(f"no reference {reference_id!r} of song {song!r}")
    with studio.db.transaction() as s:
        row = s.execute(select(ReferenceRow).join(SongRow, ReferenceRow.song_id == SongRow.id)
                        .where(SongRow.name == song, ReferenceRow.id == n)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no reference {reference_id!r} of song {song!r}")
        return _reference(row, song)


def reference_audio_path(studio: Studio, reference: Reference) -> Path:
    """The reference's audio file (inside the store)."""
    path = inside(studio.store, f"{reference.folder}/{reference.audio_file}")
    if not path.is_file():
        raise NotFound(f"{reference.name}: its audio is missing from the store")
    return path
