"""Versions: render, keep, list and get them; their audio and QC report."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from mixdown.core.errors import MixdownError, ParameterError
from mixdown.db import database_url
from mixdown.review.errors import NotFound
from mixdown.review.places import SONG_FILE, inside, song_folder, valid_song_name
from mixdown.review.tables import SongRow, VersionRow
from mixdown.review.timing import parse_snapshot
from mixdown.review.waveform import measure_waveform, save_waveform
from mixdown.services.review._common import (
    STATUS_LABELS,
    _finite,
    _iso,
    _note,
    _now,
    _number,
    _staging,
    _utc,
    _who,
    _write_json,
)
from mixdown.services.review.studio import Studio, _ensure_song, _song_row, studio_of_project

VERSION_AUDIO = "mix.wav"
RenderProgress = Callable[[float, str], None]
"""``progress(fraction 0..1, stage)``; stages: ``rendering``, ``measuring``, ``saving``,
``done``."""


@dataclass(frozen=True, slots=True)
class Version:
    """An immutable rendered version of a song.

    Attributes
    ----------
    song : str
        The song's name.
    number : int
        1, 2, 3... per song (``v7``); with ``song``, the version's id in URLs.
    id : int
        The database key.
    note : str
        What the producer said about it.
    created_at : datetime
        UTC.
    created_by : str
        Who made it.
    status, status_by, status_at
        Review status (:data:`STATUSES`), who set it and when (None until someone does).
    audio_format : str
        ``wav`` from the studio; the CLI keeps the format it rendered.
    sample_rate, channels, frames
        Of the audio (Hz, count, frames).
    integrated_lufs, true_peak_dbtp, loudness_range_lu : float or None
        From its QC report (None for silence).
    title : str
        ``[song] title`` at the time.
    tempo : float
        bpm at the start, at the time.
    song_toml : str
        The song.toml snapshot (not in ``as_dict``).
    """

    song: str
    number: int
    id: int
    note: str
    created_at: datetime
    created_by: str
    status: str
    status_by: str | None
    status_at: datetime | None
    audio_format: str
    sample_rate: int
    channels: int
    frames: int
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    loudness_range_lu: float | None
    title: str
    tempo: float
    song_toml: str = field(repr=False, default="")
    folder: str = field(repr=False, default="")
    audio_file: str = field(repr=False, default=VERSION_AUDIO)

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate

    @property
    def label(self) -> str:
        """``v3``."""
        return f"v{self.number}"

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON (without the song.toml snapshot)."""
        return {"song": self.song, "number": self.number, "label": self.label,
                "note": self.note, "created_at": _iso(self.created_at),
                "created_by": self.created_by, "status": self.status,
                "status_label": STATUS_LABELS.get(self.status, self.status),
                "status_by": self.status_by, "status_at": _iso(self.status_at),
                "audio_format": self.audio_format, "sample_rate": self.sample_rate,
                "channels": self.channels, "duration_s": self.duration_s,
                "integrated_lufs": self.integrated_lufs,
                "true_peak_dbtp": self.true_peak_dbtp,
                "loudness_range_lu": self.loudness_range_lu, "title": self.title,
                "tempo": self.tempo}


def _version(row: VersionRow, song: str) -> Version:
    return Version(
        song=song, number=row.number, id=row.id, note=row.note,
        created_at=_utc(row.created_at), created_by=row.created_by,  # type: ignore[arg-type]
        status=row.status, status_by=row.status_by, status_at=_utc(row.status_at),
        audio_format=row.audio_format, sample_rate=row.sample_rate, channels=row.channels,
        frames=row.frames, integrated_lufs=row.integrated_lufs,
        true_peak_dbtp=row.true_peak_dbtp, loudness_range_lu=row.loudness_range_lu,
        title=row.title, tempo=row.tempo, song_toml=row.song_toml, folder=row.folder,
        audio_file=row.audio_file)


def list_versions(studio: Studio, song: str) -> list[Version]:
    """A song's versions, oldest first (NotFound for an unknown song)."""
    if not valid_song_name(song):
        raise NotFound(f"no song {song!r}")
    with studio.db.transaction() as s:
        row = _song_row(s, song, create=False)
        if row is None:
            song_folder(studio.songs, song)  # a song with no versions yet, or unknown
            return []
        rows = s.execute(select(VersionRow).where(VersionRow.song_id == row.id)
                         .order_by(VersionRow.number)).scalars().all()
        return [_version(r, song) for r in rows]


def get_version(studio: Studio, song: str, number: int | str) -> Version:
    """Version ``number`` of ``song``.

    Raises
    ------
    NotFound
        Unknown song or version (also a number that is not a whole number > 0).
    """
    n = _number(number)
    if n is None or not valid_song_name(song):
        raise NotFound(f"no version {number!r} of song {song!r}")
    with studio.db.transaction() as s:
        row = s.execute(select(VersionRow).join(SongRow, VersionRow.song_id == SongRow.id)
                        .where(SongRow.name == song, VersionRow.number == n)
                        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no version {number!r} of song {song!r}")
        return _version(row, song)


def version_audio_path(studio: Studio, version: Version) -> Path:
    """The version's audio file (inside the store), for serving with range requests."""
    path = inside(studio.store, f"{version.folder}/{version.audio_file}")
    if not path.is_file():
        raise NotFound(f"{version.song} {version.label}: its audio is missing from the store")
    return path


def version_qc(studio: Studio, version: Version) -> dict[str, Any]:
    """The version's QC report (``mixdown analyze --json`` keys)."""
    path = inside(studio.store, f"{version.folder}/{version.audio_file}.qc.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotFound(f"{version.song} {version.label}: no QC report in the store") from None


def approved_version(studio: Studio, song: str) -> Version | None:
    """The newest approved version of ``song`` (None if none is approved)."""
    approved = [v for v in list_versions(studio, song) if v.status == "approved"]
    return approved[-1] if approved else None


def render_version(studio: Studio, song: str, note: str, *, author: str = "owner",
                   progress: RenderProgress | None = None) -> Version:
    """Render ``song`` through :func:`mixdown.services.render.render_project` (24-bit WAV,
    the song's ``[master]`` target applied) and keep it as a new version.

    Parameters
    ----------
    song : str
        The song's name (its folder under the songs folder).
    note : str
        What changed, in the producer's words (may be empty).
    author : str
        Who made it.
    progress : callable, optional
        ``progress(fraction, stage)``, fraction 0..1 over the whole job.

    Returns
    -------
    Version
        Status ``in_progress``.

    Raises
    ------
    NotFound
        Unknown song. Render errors (``ModelError``, ``RenderError``...) pass through; no
        version is kept and nothing is left in the store.
    """
    from mixdown.services.render import render_project

    folder = song_folder(studio.songs, song)
    note = _note(note)
    author = _who(author, "author")
    text = (folder / SONG_FILE).read_text(encoding="utf-8")
    with _staging(studio) as stage:
        out = stage / VERSION_AUDIO

        def step(done: int, total: int) -> None:
            if progress is not None:
                progress(0.9 * done / max(total, 1), "rendering")

        if progress is not None:
            progress(0.0, "rendering")
        report = render_project(folder, out, bit_depth=24, progress=step)
        return _keep(studio, song, text, stage, VERSION_AUDIO, "wav", report.qc, note, author,
                     progress)


def snapshot_text(given: object, project: Any, root: Path) -> str:
    """The song.toml text a render of ``given`` used: the file when a path was given, the
    project written out as TOML when a :class:`~mixdown.model.project.Project` was."""
    from mixdown.model.project import Project

    if not (root / SONG_FILE).is_file():
        raise ParameterError(f"{root}: no {SONG_FILE}; a version is kept for a project folder "
                             "(save the project first)")
    if isinstance(given, Project):
        from mixdown.io.project_save import project_to_document

        return project_to_document(project).as_string()
    return (root / SONG_FILE).read_text(encoding="utf-8")


def keep_version(project: str | Path, audio: str | Path, note: str, *,
                 song_toml: str | None = None, database: str | None = None,
                 author: str = "owner") -> Version:
    """Keep an audio file rendered from ``project`` (and its ``.qc.json`` sidecar) as a new
    version of the song in the project's studio (its parent folder; the database by the
    :func:`mixdown.db.database_url` rules); what ``render(..., version=NOTE)`` does.

    The audio and the sidecar are copied into the store; ``song_toml`` (default: the
    project's song.toml now) is the snapshot.
    """
    from mixdown.io.audio import format_for_path
    from mixdown.io.measure import analyze_file

    studio, song = studio_of_project(project, database)
    try:
        folder = song_folder(studio.songs, song)
        src = Path(audio)
        fmt = format_for_path(src)
        name = f"mix{src.suffix.lower()}"
        text = song_toml if song_toml is not None else \
            (folder / SONG_FILE).read_text(encoding="utf-8")
        sidecar = src.with_name(src.name + ".qc.json")
        with _staging(studio) as stage:
            shutil.copyfile(src, stage / name)
            if sidecar.is_file():
                qc = json.loads(sidecar.read_text(encoding="utf-8"))
                shutil.copyfile(sidecar, stage / f"{name}.qc.json")
            else:
                qc = analyze_file(stage / name).as_dict()
                _write_json(stage / f"{name}.qc.json", qc)
            return _keep(studio, song, text, stage, name, fmt, qc, _note(note),
                         _who(author, "author"), None)
    finally:
        studio.close()


def render_project_version(project: str | Path, note: str, *, database: str | None = None,
                           author: str = "owner", progress: RenderProgress | None = None
                           ) -> tuple[Version, Path]:
    """Render a project folder straight into its studio (the parent folder) as a new
    version: ``mixdown render PROJECT --version NOTE`` without ``-o``.

    Returns
    -------
    (Version, Path)
        The version and its audio file in the store.
    """
    studio, song = studio_of_project(project, database)
    try:
        version = render_version(studio, song, note, author=author, progress=progress)
        return version, version_audio_path(studio, version)
    finally:
        studio.close()


def approved_of_project(project: str | Path, database: str | None = None) -> Version | None:
    """The approved version of a project folder in its studio (the parent folder), for
    ``mixdown info``. A default SQLite database that does not exist is not created: there
    is then no approved version."""
    from mixdown.db import DEFAULT_FILENAME

    p = Path(project)
    folder = (p.parent if p.is_file() else p).resolve()
    songs = folder.parent
    default = songs / DEFAULT_FILENAME
    if database_url(database, songs) == f"sqlite:///{default.resolve()}" \
            and not default.is_file():
        return None
    studio, song = studio_of_project(folder, database)
    try:
        return approved_version(studio, song)
    finally:
        studio.close()


def _keep(studio: Studio, song: str, text: str, stage: Path, audio_name: str, fmt: str,
          qc: dict[str, Any], note: str, author: str,
          progress: RenderProgress | None) -> Version:
    """Measure a staged render, move it into the store and record the version."""
    from mixdown.io.audio import audio_info

    if progress is not None:
        progress(0.9, "measuring")
    info = audio_info(stage / audio_name)
    wave, curve = measure_waveform(stage / audio_name)
    save_waveform(stage, wave, curve)
    (stage / SONG_FILE).write_text(text, encoding="utf-8")
    project = parse_snapshot(text, f"{song}/{SONG_FILE}")
    if progress is not None:
        progress(0.97, "saving")
    song_id = _ensure_song(studio, song)
    for _ in range(5):
        uid = uuid.uuid4().hex[:16]
        rel = f"versions/{song}/{uid}"
        final = studio.store / rel
        try:
            with studio.db.transaction() as s:
                # take the song's row lock first (SQLite: the write lock), so versions kept
                # at the same time are numbered one after the other
                s.execute(update(SongRow).where(SongRow.id == song_id)
                          .values(name=SongRow.name))
                number = (s.execute(select(func.max(VersionRow.number))
                                    .where(VersionRow.song_id == song_id)).scalar() or 0) + 1
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(stage, final)
                row = VersionRow(
                    song_id=song_id, number=number, note=note, created_at=_now(),
                    created_by=author, folder=rel, audio_file=audio_name, audio_format=fmt,
                    sample_rate=info.sample_rate, channels=info.channels, frames=info.frames,
                    integrated_lufs=_finite(qc.get("integrated_lufs")),
                    true_peak_dbtp=_finite(qc.get("true_peak_dbtp")),
                    loudness_range_lu=_finite(qc.get("loudness_range_lu")),
                    title=project.song.title, tempo=project.song.tempo, song_toml=text,
                    status="in_progress")
                s.add(row)
                s.flush()
                version = _version(row, song)
        except IntegrityError:
            if final.exists():
                os.replace(final, stage)
            continue
        except BaseException:
            if final.exists():
                os.replace(final, stage)
            raise
        with studio._lock:
            studio._peaks[(version.folder, 0, None)] = wave
            studio._curves[(version.folder, 0)] = curve
        if progress is not None:
            progress(1.0, "done")
        return version
    raise MixdownError(f"song {song!r}: could not number the new version; try again")
