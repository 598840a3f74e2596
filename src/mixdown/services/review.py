"""Use case: the review studio over a folder of songs (what ``mixdown serve`` shows).

A *studio* is a songs folder (every project folder directly under it is a song), the shared
database (:func:`mixdown.db.database_url`: ``--database``, ``$MIXDOWN_DATABASE_URL``, else
``mixdown.db`` in the songs folder) and the versions store: ``.mixdown-studio/`` beside a
SQLite database file (so, by default, in the songs folder), else in the songs folder.

A *version* is an immutable render of a song: audio, QC report, song.toml snapshot, note,
time, and its waveform peaks and short-term loudness curve, measured once. It is written
into a staging folder of the store and renamed into place before its row is committed, so
a failed render leaves nothing behind. Renders from the CLI (``mixdown render PROJECT
--version NOTE``) land in the studio of the project's parent folder.

Comments are pinned to bar:beat and shown at the seconds of *each* version's tempo map, so
a comment keeps its musical place when a later version changes the tempo. Share links
carry a random token (stored as its SHA-256 only). Every error a user can cause is a
:class:`~mixdown.core.errors.MixdownError` with an ``http_status``: unknown names and
traversal attempts 404, missing token 401, wrong or revoked token 403, oversize upload
413, non-audio upload 415, bad values 422.

Every result is a frozen dataclass with ``as_dict()`` (JSON-ready).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import secrets
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mixdown.core.errors import FormatError, MixdownError, ParameterError
from mixdown.db import Database, database_url, open_database
from mixdown.review.diff import Change, diff_projects
from mixdown.review.errors import (
    Forbidden,
    NotFound,
    TokenMissing,
    UnsupportedUpload,
    UploadTooLarge,
)
from mixdown.review.places import (
    SONG_FILE,
    STORE_DIRNAME,
    inside,
    song_folder,
    song_names,
    valid_song_name,
)
from mixdown.review.tables import (
    CommentRow,
    ReferenceRow,
    ShareLinkRow,
    SongRow,
    StatusChangeRow,
    VersionRow,
)
from mixdown.review.timing import (
    Section,
    SongTiming,
    check_bar_beat,
    parse_snapshot,
    timing_of,
)
from mixdown.review.waveform import (
    LoudnessCurve,
    Peaks,
    load_curve,
    load_peaks,
    measure_waveform,
    reduce_peaks,
    save_waveform,
)

Status = Literal["in_progress", "needs_feedback", "changes_requested", "approved"]
STATUSES: tuple[str, ...] = ("in_progress", "needs_feedback", "changes_requested", "approved")
STATUS_LABELS: dict[str, str] = {
    "in_progress": "in progress", "needs_feedback": "needs feedback",
    "changes_requested": "changes requested", "approved": "approved"}
Role = Literal["reviewer", "listener"]
ROLES: dict[str, frozenset[str]] = {
    "reviewer": frozenset({"listen", "compare", "comment", "status"}),
    "listener": frozenset({"listen", "compare"}),
}
"""What each share-link role may do. The owner (signed in) may do everything, including
``render`` and ``upload``."""
OWNER_ACTIONS = frozenset({"listen", "compare", "comment", "status", "render", "upload",
                           "share"})
MAX_REFERENCE_BYTES = 200 * 1024 * 1024
"""Largest reference upload accepted (bytes)."""
REFERENCE_SUFFIXES = (".wav", ".flac", ".mp3", ".aif", ".aiff", ".ogg")
MAX_COMMENT_CHARS = 5000
MAX_NOTE_CHARS = 2000
MAX_WHO_CHARS = 128
VERSION_AUDIO = "mix.wav"
RenderProgress = Callable[[float, str], None]
"""``progress(fraction 0..1, stage)``; stages: ``rendering``, ``measuring``, ``saving``,
``done``."""

__all__ = [
    "MAX_REFERENCE_BYTES", "ROLES", "STATUSES", "STATUS_LABELS", "Bar", "Change", "Comment",
    "Comparison", "Forbidden", "Grant", "LoudnessCurve", "NotFound", "Peaks", "PlatformPreview",
    "Reference", "Section", "ShareLink", "Side", "SongSummary", "SongTiming", "StatusChange",
    "Studio", "TokenMissing", "UnsupportedUpload", "UploadTooLarge", "Version", "add_comment",
    "add_reference", "approved_of_project", "approved_version", "bar_grid", "check_token",
    "compare", "create_share_link", "diff_projects", "diff_versions", "get_reference",
    "get_version", "keep_version", "list_comments", "list_references", "list_share_links",
    "list_songs", "list_versions", "loudness_curve", "open_studio", "peaks", "peaks_json",
    "platform_preview_gain", "reference_audio_path", "render_project_version", "render_version",
    "resolve_comment", "revoke_share_link", "sections", "set_status", "snapshot_text",
    "song_summary", "status_history", "studio_of_project", "version_audio_path", "version_qc",
    "version_timing",
]


# -- the studio ---------------------------------------------------------------------------


@dataclass
class Studio:
    """An open studio: the songs folder, the database and the versions store.

    Holds caches of what does not change (song.toml summaries keyed by file stamp, version
    timings, peaks and loudness curves); safe to share between threads. Close it with
    :meth:`close` (or use it as a context manager).
    """

    songs: Path
    db: Database
    store: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _song_info: dict[str, tuple[tuple[int, int], dict[str, Any]]] = field(
        default_factory=dict, repr=False)
    _timings: dict[int, SongTiming] = field(default_factory=dict, repr=False)
    _peaks: dict[tuple[str, int, float | None], Peaks] = field(default_factory=dict,
                                                               repr=False)
    _curves: dict[tuple[str, int], LoudnessCurve] = field(default_factory=dict, repr=False)
    _grids: dict[int, tuple[Bar, ...]] = field(default_factory=dict, repr=False)
    _peaks_json: dict[tuple[str, int, float | None], bytes] = field(default_factory=dict,
                                                                    repr=False)

    def close(self) -> None:
        """Close the database connections."""
        self.db.close()

    def __enter__(self) -> Studio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_studio(folder: str | Path = ".", database: str | None = None) -> Studio:
    """Open the studio over the songs folder ``folder``.

    Parameters
    ----------
    folder : path
        The songs folder (each project folder directly under it is a song).
    database : str, optional
        A database URL; default ``$MIXDOWN_DATABASE_URL``, else ``FOLDER/mixdown.db``.

    Raises
    ------
    NotFound
        ``folder`` is not a folder.
    DatabaseError
        The database cannot be opened or migrated.
    """
    songs = Path(folder)
    if not songs.is_dir():
        raise NotFound(f"{folder}: no such folder of songs")
    songs = songs.resolve()
    url = database_url(database, songs)
    with _OPENING:  # Alembic's command API is not thread-safe
        db = open_database(url)
    return Studio(songs=songs, db=db, store=_store_for(url, songs))


_OPENING = threading.Lock()


def _store_for(url: str, songs: Path) -> Path:
    """The versions store: beside a SQLite database file, else in the songs folder."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database \
            and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        return Path(parsed.database).resolve().parent / STORE_DIRNAME
    return songs / STORE_DIRNAME


def studio_of_project(project: str | Path, database: str | None = None
                      ) -> tuple[Studio, str]:
    """The studio a project folder belongs to (its parent folder) and its song name; for
    ``mixdown render PROJECT --version`` outside ``serve``."""
    p = Path(project)
    folder = p.parent if p.name == SONG_FILE and p.is_file() else p
    folder = folder.resolve()
    if not (folder / SONG_FILE).is_file():
        raise NotFound(f"{project}: no {SONG_FILE} here")
    return open_studio(folder.parent, database), folder.name


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _iso(t: datetime | None) -> str | None:
    t = _utc(t)
    return t.isoformat() if t is not None else None


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def _who(who: str, what: str = "name") -> str:
    text = (who or "").strip()
    if not text:
        raise ParameterError(f"{what} must not be empty")
    if len(text) > MAX_WHO_CHARS:
        raise ParameterError(f"{what} is longer than {MAX_WHO_CHARS} characters")
    return text


# -- results ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SongSummary:
    """A row of the songs page.

    Attributes
    ----------
    name : str
        The project folder's name (the song's id in URLs).
    title : str
        ``[song] title``.
    tempo : float or None
        bpm at the start.
    length_s : float or None
        Render length in seconds (with the tail).
    versions : int
        How many versions exist.
    last_version : int or None
        Number of the newest version.
    last_created_at : datetime or None
        When it was made.
    integrated_lufs, true_peak_dbtp : float or None
        The newest version's loudness (LUFS) and true peak (dBTP).
    status : str or None
        The newest version's review status.
    approved_version : int or None
        The newest approved version.
    error : str or None
        Why the song.toml could not be read (the other fields then come from the database).
    """

    name: str
    title: str
    tempo: float | None
    length_s: float | None
    versions: int = 0
    last_version: int | None = None
    last_created_at: datetime | None = None
    integrated_lufs: float | None = None
    true_peak_dbtp: float | None = None
    status: str | None = None
    approved_version: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"name": self.name, "title": self.title, "tempo": self.tempo,
                "length_s": self.length_s, "versions": self.versions,
                "last_version": self.last_version,
                "last_created_at": _iso(self.last_created_at),
                "integrated_lufs": self.integrated_lufs, "true_peak_dbtp": self.true_peak_dbtp,
                "status": self.status, "approved_version": self.approved_version,
                "error": self.error}


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


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment at bar:beat (or a bar:beat range), placed in one version's time.

    Attributes
    ----------
    id : int
        Database key.
    song : str
        The song.
    version : int
        Number of the version it was made on.
    parent_id : int or None
        The comment it answers (threads).
    bar, beat : int, float
        Where it is pinned (bar and beat from 1).
    end_bar, end_beat : int, float or None
        End of a range.
    seconds, end_seconds : float or None
        Those positions in seconds in the tempo map of the version it was listed for.
    text, author, created_at
        What was said, by whom, when (UTC).
    resolved_by, resolved_at
        Who resolved it and when (None while open).
    """

    id: int
    song: str
    version: int
    parent_id: int | None
    bar: int
    beat: float
    end_bar: int | None
    end_beat: float | None
    seconds: float
    end_seconds: float | None
    text: str
    author: str
    created_at: datetime
    resolved_by: str | None = None
    resolved_at: datetime | None = None

    @property
    def resolved(self) -> bool:
        """True once resolved."""
        return self.resolved_at is not None

    @property
    def position(self) -> str:
        """``17:1`` or ``17:1-19:1``."""
        start = f"{self.bar}:{self.beat:g}"
        if self.end_bar is None:
            return start
        return f"{start}-{self.end_bar}:{(self.end_beat or 1.0):g}"

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON (text as typed: escape it where shown)."""
        return {"id": self.id, "song": self.song, "version": self.version,
                "parent_id": self.parent_id, "bar": self.bar, "beat": self.beat,
                "end_bar": self.end_bar, "end_beat": self.end_beat,
                "position": self.position, "seconds": self.seconds,
                "end_seconds": self.end_seconds, "text": self.text, "author": self.author,
                "created_at": _iso(self.created_at), "resolved": self.resolved,
                "resolved_by": self.resolved_by, "resolved_at": _iso(self.resolved_at)}


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One status change of a version."""

    song: str
    version: int
    status: str
    by: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"song": self.song, "version": self.version, "status": self.status,
                "status_label": STATUS_LABELS.get(self.status, self.status), "by": self.by,
                "at": _iso(self.at)}


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A review link of a song. ``token`` is only known right after
    :func:`create_share_link` (the database keeps its hash)."""

    id: int
    song: str
    role: str
    label: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    token: str | None = field(default=None, repr=False)

    @property
    def revoked(self) -> bool:
        """True once revoked."""
        return self.revoked_at is not None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON (without the token)."""
        return {"id": self.id, "song": self.song, "role": self.role, "label": self.label,
                "created_at": _iso(self.created_at), "created_by": self.created_by,
                "revoked": self.revoked, "revoked_at": _iso(self.revoked_at)}


@dataclass(frozen=True, slots=True)
class Grant:
    """What a valid share token allows: one song, one role."""

    song: str
    role: str
    link_id: int

    def allows(self, action: str) -> bool:
        """True if the role may do ``action`` (``listen``, ``compare``, ``comment``,
        ``status``; never ``render``, ``upload`` or ``share``)."""
        return action in ROLES.get(self.role, frozenset())

    def require(self, action: str, song: str | None = None) -> None:
        """Raise :class:`Forbidden` unless the role may do ``action`` (on ``song``)."""
        if song is not None and song != self.song:
            raise Forbidden("this review link is for another song")
        if not self.allows(action):
            raise Forbidden(f"a {self.role} may not {action}; ask the producer")

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"song": self.song, "role": self.role,
                "actions": sorted(ROLES.get(self.role, frozenset()))}


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a comparison: a version or a reference, and the gain that matches it."""

    kind: Literal["version", "reference"]
    label: str
    id: int
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    loudness_range_lu: float | None
    gain_db: float

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"kind": self.kind, "label": self.label, "id": self.id,
                "integrated_lufs": self.integrated_lufs, "true_peak_dbtp": self.true_peak_dbtp,
                "loudness_range_lu": self.loudness_range_lu, "gain_db": self.gain_db}


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two takes at the same loudness.

    Attributes
    ----------
    a, b : Side
        Each side with ``gain_db``: the gain (dB, to 0.1 dB) that brings it to
        ``matched_lufs``. The louder one is turned down to the quieter one (never up, so
        nothing clips on playback).
    matched_lufs : float or None
        The loudness both play at (None if either is silent: gains are then 0).
    loudness_difference_db : float or None
        ``b - a`` integrated loudness, LU.
    true_peak_difference_db, loudness_range_difference_lu : float or None
        ``b - a``.
    changes : list of Change
        What changed in the song between two versions (``a`` to ``b``); empty against a
        reference.
    """

    a: Side
    b: Side
    matched_lufs: float | None
    loudness_difference_db: float | None
    true_peak_difference_db: float | None
    loudness_range_difference_lu: float | None
    changes: tuple[Change, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"a": self.a.as_dict(), "b": self.b.as_dict(), "matched_lufs": self.matched_lufs,
                "loudness_difference_db": self.loudness_difference_db,
                "true_peak_difference_db": self.true_peak_difference_db,
                "loudness_range_difference_lu": self.loudness_range_difference_lu,
                "changes": [c.as_dict() for c in self.changes]}


@dataclass(frozen=True, slots=True)
class PlatformPreview:
    """How a streaming platform would play a version.

    Attributes
    ----------
    platform : str
        Target name (``spotify``...).
    target_lufs : float
        The platform's normalisation level, LUFS.
    gain_db : float
        Gain the platform applies (to 0.1 dB): ``target - integrated``, or 0 for silence.
    plays_at_lufs : float or None
        Loudness after that gain.
    true_peak_after_dbtp : float or None
        True peak after that gain (above 0 dBTP: the platform would limit or clip).
    """

    platform: str
    target_lufs: float
    gain_db: float
    plays_at_lufs: float | None
    true_peak_after_dbtp: float | None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"platform": self.platform, "target_lufs": self.target_lufs,
                "gain_db": self.gain_db, "plays_at_lufs": self.plays_at_lufs,
                "true_peak_after_dbtp": self.true_peak_after_dbtp}


# -- songs --------------------------------------------------------------------------------


def _song_row(s: Session, name: str, *, create: bool) -> SongRow | None:
    row = s.execute(select(SongRow).where(SongRow.name == name)).scalar_one_or_none()
    if row is None and create:
        row = SongRow(name=name, created_at=_now())
        s.add(row)
        s.flush()
    return row


def _ensure_song(studio: Studio, name: str) -> int:
    """The song's id, creating its row (safe against a concurrent creation)."""
    for _ in range(3):
        try:
            with studio.db.transaction() as s:
                row = _song_row(s, name, create=True)
                assert row is not None
                return row.id
        except IntegrityError:
            continue
    raise MixdownError(f"song {name!r}: could not be registered in the database")


def _song_file_info(studio: Studio, name: str, folder: Path) -> dict[str, Any]:
    """Title, tempo and length of a song.toml, cached by its modification stamp."""
    from mixdown.services.project import check_project

    file = folder / SONG_FILE
    st = file.stat()
    stamp = (st.st_mtime_ns, st.st_size)
    cached = studio._song_info.get(name)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    info: dict[str, Any] = {"title": name, "tempo": None, "length_s": None, "error": None}
    try:
        project = parse_snapshot(file.read_text(encoding="utf-8"), str(file))
        info["title"] = project.song.title
        info["tempo"] = project.song.tempo
        info["length_s"] = check_project(folder).duration_s
    except (MixdownError, OSError, UnicodeDecodeError) as exc:
        info["error"] = str(exc).splitlines()[0]
    with studio._lock:
        studio._song_info[name] = (stamp, info)
    return info


def list_songs(studio: Studio) -> list[SongSummary]:
    """Every song of the studio (project folders under the songs folder, by name), with its
    newest version, that version's loudness and status, and the approved version."""
    names = song_names(studio.songs)
    cols = (SongRow.name, VersionRow.number, VersionRow.created_at,
            VersionRow.integrated_lufs, VersionRow.true_peak_dbtp, VersionRow.status)
    latest: dict[str, Any] = {}
    counts: dict[str, int] = {}
    approved: dict[str, int] = {}
    with studio.db.transaction() as s:
        for row in s.execute(select(*cols).join(VersionRow, VersionRow.song_id == SongRow.id)
                             .order_by(VersionRow.number)):
            latest[row.name] = row
            counts[row.name] = counts.get(row.name, 0) + 1
            if row.status == "approved":
                approved[row.name] = row.number
    out = []
    for name in names:
        info = _song_file_info(studio, name, studio.songs / name)
        last = latest.get(name)
        out.append(SongSummary(
            name=name, title=info["title"], tempo=info["tempo"], length_s=info["length_s"],
            versions=counts.get(name, 0), last_version=last.number if last else None,
            last_created_at=_utc(last.created_at) if last else None,
            integrated_lufs=last.integrated_lufs if last else None,
            true_peak_dbtp=last.true_peak_dbtp if last else None,
            status=last.status if last else None, approved_version=approved.get(name),
            error=info["error"]))
    return out


def song_summary(studio: Studio, song: str) -> SongSummary:
    """One song's :class:`SongSummary` (NotFound for an unknown song)."""
    song_folder(studio.songs, song)
    for summary in list_songs(studio):
        if summary.name == song:
            return summary
    raise NotFound(f"no song {song!r}")


def sections(studio: Studio, version: Version) -> tuple[Section, ...]:
    """The song's sections (markers) in ``version``: name, bar:beat and seconds."""
    return _timing(studio, version).sections


def version_timing(studio: Studio, version: Version) -> SongTiming:
    """``version``'s meter and tempo maps (from its song.toml snapshot; cached):
    ``seconds(bar, beat)``, ``bar_beat(seconds)``, ``bpm_at(bar, beat)``."""
    return _timing(studio, version)


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a version: its number, start (seconds) and beat length (seconds)."""

    bar: int
    seconds: float
    beat_s: float
    beats: float

    def as_dict(self) -> dict[str, Any]:
        """``{"bar", "seconds", "beat_s", "beats"}`` (seconds to 0.1 ms)."""
        return {"bar": self.bar, "seconds": round(self.seconds, 4),
                "beat_s": round(self.beat_s, 5), "beats": self.beats}


def bar_grid(studio: Studio, version: Version) -> tuple[Bar, ...]:
    """Every bar that starts within ``version``'s audio, in its own tempo map (cached)."""
    got = studio._grids.get(version.id)
    if got is not None:
        return got
    timing = _timing(studio, version)
    bars = []
    bar = 1
    start = timing.seconds(1, 1.0)
    while start <= version.duration_s and bar <= 100_000:
        beats = timing.meter.signature_at_bar(bar).beats_per_bar
        end = timing.seconds(bar + 1, 1.0)
        bars.append(Bar(bar, start, (end - start) / beats, beats))
        bar, start = bar + 1, end
    got = tuple(bars)
    with studio._lock:
        studio._grids[version.id] = got
    return got


# -- versions -----------------------------------------------------------------------------


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


def _number(value: int | str) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("v")
        if not text.isdigit() or len(text) > 9:
            return None
        value = int(text)
    if not isinstance(value, int) or value < 1:
        return None
    return value


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


def _note(note: str) -> str:
    text = (note or "").strip()
    if len(text) > MAX_NOTE_CHARS:
        raise ParameterError(f"the note is longer than {MAX_NOTE_CHARS} characters")
    return text


@contextlib.contextmanager
def _staging(studio: Studio) -> Iterator[Path]:
    """A new folder in the store's ``tmp/``, removed afterwards unless moved away."""
    tmp = studio.store / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    stage = tmp / uuid.uuid4().hex
    stage.mkdir()
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from mixdown.core.files import atomic_path
    from mixdown.core.jsonable import to_jsonable

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n")


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


# -- waveform and loudness ----------------------------------------------------------------


def peaks(studio: Studio, item: Version | Reference,
          points_per_second: float | None = None) -> Peaks:
    """The waveform peaks of a version or reference (min/max pairs, channels merged), at
    about ``points_per_second`` (default: the stored 200 per second). Read from the store
    once, then cached."""
    key = (item.folder, 0, None)
    base = studio._peaks.get(key)
    if base is None:
        base = load_peaks(inside(studio.store, item.folder))
        with studio._lock:
            studio._peaks[key] = base
    if points_per_second is None:
        return base
    rkey = (item.folder, 0, float(points_per_second))
    got = studio._peaks.get(rkey)
    if got is None:
        got = reduce_peaks(base, points_per_second)
        with studio._lock:
            studio._peaks[rkey] = got
    return got


def peaks_json(studio: Studio, item: Version | Reference,
               points_per_second: float | None = None, *, bits: int = 8) -> bytes:
    """:func:`peaks` as audiowaveform JSON bytes (:meth:`Peaks.as_dict`), cached: what a
    waveform request answers with."""
    key = (item.folder, bits, points_per_second)
    got = studio._peaks_json.get(key)
    if got is None:
        got = json.dumps(peaks(studio, item, points_per_second).as_dict(bits),
                         separators=(",", ":")).encode()
        with studio._lock:
            studio._peaks_json[key] = got
    return got


def loudness_curve(studio: Studio, item: Version | Reference) -> LoudnessCurve:
    """Short-term loudness (LUFS, 3 s window) every 0.1 s of a version or reference."""
    key = (item.folder, 0)
    got = studio._curves.get(key)
    if got is None:
        got = load_curve(inside(studio.store, item.folder))
        with studio._lock:
            studio._curves[key] = got
    return got


# -- compare ------------------------------------------------------------------------------


def _side(item: Version | Reference, gain: float) -> Side:
    if isinstance(item, Version):
        return Side("version", item.label, item.number, item.integrated_lufs,
                    item.true_peak_dbtp, item.loudness_range_lu, gain)
    return Side("reference", item.name, item.id, item.integrated_lufs, item.true_peak_dbtp,
                item.loudness_range_lu, gain)


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 2)


def compare(studio: Studio, a: Version, b: Version | Reference) -> Comparison:
    """Compare version ``a`` with a version or reference ``b`` at the same loudness.

    Each side's ``gain_db`` brings it to the quieter side's integrated loudness (to 0.1 dB);
    between two versions, ``changes`` lists what changed in the song.
    """
    la, lb = a.integrated_lufs, b.integrated_lufs
    if la is None or lb is None:
        matched, ga, gb = None, 0.0, 0.0
    else:
        matched = min(la, lb)
        ga, gb = round(matched - la, 1) + 0.0, round(matched - lb, 1) + 0.0
    changes: tuple[Change, ...] = ()
    if isinstance(b, Version) and a.song == b.song:
        changes = tuple(diff_versions(a, b))
    return Comparison(
        a=_side(a, ga), b=_side(b, gb),
        matched_lufs=None if matched is None else round(matched, 2),
        loudness_difference_db=_diff(la, lb),
        true_peak_difference_db=_diff(a.true_peak_dbtp, b.true_peak_dbtp),
        loudness_range_difference_lu=_diff(a.loudness_range_lu, b.loudness_range_lu),
        changes=changes)


def diff_versions(old: Version, new: Version) -> list[Change]:
    """What changed in the song from ``old`` to ``new`` (their song.toml snapshots)."""
    return diff_projects(parse_snapshot(old.song_toml, f"{old.song} {old.label}"),
                         parse_snapshot(new.song_toml, f"{new.song} {new.label}"))


def platform_preview_gain(version: Version | Reference, platform: str) -> PlatformPreview:
    """How ``platform`` (a row of :mod:`mixdown.core.targets`) would play ``version``: the
    normalisation gain (dB, to 0.1 dB) bringing it to the platform's level.

    Raises
    ------
    ParameterError
        Unknown platform (the message lists the known ones).
    """
    from mixdown.core.targets import get_target

    target = get_target(platform)
    lufs = version.integrated_lufs
    if lufs is None:
        return PlatformPreview(target.name, target.lufs, 0.0, None, version.true_peak_dbtp)
    gain = round(target.lufs - lufs, 1) + 0.0
    tp = version.true_peak_dbtp
    return PlatformPreview(target.name, target.lufs, gain, round(lufs + gain, 2),
                           None if tp is None else round(tp + gain, 2))


# -- references ---------------------------------------------------------------------------


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


# -- comments -----------------------------------------------------------------------------


def _timing(studio: Studio, version: Version) -> SongTiming:
    got = studio._timings.get(version.id)
    if got is None:
        got = timing_of(parse_snapshot(version.song_toml, f"{version.song} {version.label}"))
        with studio._lock:
            studio._timings[version.id] = got
    return got


def _comment(row: CommentRow, song: str, made_on: int, timing: SongTiming) -> Comment:
    end_s = None
    if row.end_bar is not None:
        end_s = timing.seconds(row.end_bar, row.end_beat or 1.0)
    return Comment(
        id=row.id, song=song, version=made_on, parent_id=row.parent_id, bar=row.bar,
        beat=row.beat, end_bar=row.end_bar, end_beat=row.end_beat,
        seconds=timing.seconds(row.bar, row.beat), end_seconds=end_s, text=row.text,
        author=row.author, created_at=_utc(row.created_at),  # type: ignore[arg-type]
        resolved_by=row.resolved_by, resolved_at=_utc(row.resolved_at))


def add_comment(studio: Studio, version: Version, *, bar: int, beat: float, text: str,
                author: str, end_bar: int | None = None, end_beat: float | None = None,
                parent_id: int | None = None) -> Comment:
    """Pin a comment to ``bar:beat`` (or the range to ``end_bar:end_beat``) of ``version``.

    Raises
    ------
    ParameterError
        Empty or too long text, a position that is not a bar:beat of the song (bar from 1,
        beat from 1 and within the bar), a range that ends before it starts, a position
        past the version's end.
    NotFound
        A ``parent_id`` that is not a comment of this song.
    """
    timing = _timing(studio, version)
    bar, beat = check_bar_beat(bar, beat)
    body = (text or "").strip()
    if not body:
        raise ParameterError("a comment needs some text")
    if len(body) > MAX_COMMENT_CHARS:
        raise ParameterError(f"a comment holds at most {MAX_COMMENT_CHARS} characters")
    who = _who(author, "author")
    start = _place(timing, bar, beat, version)
    if end_bar is not None or end_beat is not None:
        end_bar, end_beat = check_bar_beat(end_bar if end_bar is not None else bar,
                                           end_beat if end_beat is not None else 1.0, "end")
        if _place(timing, end_bar, end_beat, version) <= start:
            raise ParameterError(f"the range ends at {end_bar}:{end_beat:g}, not after its "
                                 f"start {bar}:{beat:g}")
    with studio.db.transaction() as s:
        row_v = s.get(VersionRow, version.id)
        if row_v is None:
            raise NotFound(f"no version {version.label} of song {version.song!r}")
        if parent_id is not None:
            parent = s.get(CommentRow, parent_id) if isinstance(parent_id, int) else None
            if parent is None or parent.song_id != row_v.song_id:
                raise NotFound(f"no comment {parent_id!r} on song {version.song!r}")
        row = CommentRow(song_id=row_v.song_id, version_id=version.id, parent_id=parent_id,
                         bar=bar, beat=beat, end_bar=end_bar, end_beat=end_beat, text=body,
                         author=who, created_at=_now())
        s.add(row)
        s.flush()
        return _comment(row, version.song, version.number, timing)


def _place(timing: SongTiming, bar: int, beat: float, version: Version) -> float:
    try:
        beats_per_bar = timing.meter.signature_at_bar(bar).beats_per_bar
    except MixdownError as exc:
        raise ParameterError(f"{bar}:{beat:g}: {exc}") from None
    if beat >= beats_per_bar + 1:
        raise ParameterError(f"{bar}:{beat:g}: bar {bar} has {beats_per_bar:g} beats")
    seconds = timing.seconds(bar, beat)
    if seconds > version.duration_s:
        raise ParameterError(f"{bar}:{beat:g} is past the end of {version.label} "
                             f"({version.duration_s:.1f} s)")
    return seconds


def list_comments(studio: Studio, version: Version) -> list[Comment]:
    """The comments of ``version`` and of every earlier version of its song (a comment
    keeps its bar:beat on later versions), in song order, each with its seconds in
    ``version``'s tempo map. Replies carry ``parent_id``."""
    timing = _timing(studio, version)
    with studio.db.transaction() as s:
        rows = s.execute(
            select(CommentRow, VersionRow.number)
            .join(VersionRow, CommentRow.version_id == VersionRow.id)
            .join(SongRow, CommentRow.song_id == SongRow.id)
            .where(SongRow.name == version.song, VersionRow.number <= version.number)
            .order_by(CommentRow.id)).all()
    out = [_comment(row, version.song, number, timing) for row, number in rows]
    out.sort(key=lambda c: (c.seconds if c.parent_id is None else math.inf, c.id))
    return out


def resolve_comment(studio: Studio, song: str, comment_id: int, *, by: str,
                    resolved: bool = True) -> None:
    """Mark a comment resolved (or open again with ``resolved=False``)."""
    who = _who(by, "who")
    with studio.db.transaction() as s:
        row = s.execute(select(CommentRow).join(SongRow, CommentRow.song_id == SongRow.id)
                        .where(SongRow.name == song, CommentRow.id == comment_id)
                        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no comment {comment_id!r} on song {song!r}")
        row.resolved_at = _now() if resolved else None
        row.resolved_by = who if resolved else None


# -- statuses -----------------------------------------------------------------------------


def set_status(studio: Studio, version: Version, status: str, *, by: str) -> Version:
    """Set ``version``'s review status (one of :data:`STATUSES`), recording who and when.

    Raises
    ------
    ParameterError
        Unknown status (the message lists them).
    """
    key = (status or "").strip().lower().replace(" ", "_").replace("-", "_")
    if key not in STATUSES:
        raise ParameterError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    who = _who(by, "who")
    now = _now()
    with studio.db.transaction() as s:
        row = s.get(VersionRow, version.id)
        if row is None:
            raise NotFound(f"no version {version.label} of song {version.song!r}")
        row.status, row.status_by, row.status_at = key, who, now
        s.add(StatusChangeRow(version_id=row.id, status=key, by=who, at=now))
        s.flush()
        return _version(row, version.song)


def status_history(studio: Studio, version: Version) -> list[StatusChange]:
    """Every status change of ``version``, oldest first."""
    with studio.db.transaction() as s:
        rows = s.execute(select(StatusChangeRow).where(StatusChangeRow.version_id == version.id)
                         .order_by(StatusChangeRow.id)).scalars().all()
        return [StatusChange(version.song, version.number, r.status, r.by,
                             _utc(r.at)) for r in rows]  # type: ignore[arg-type]


# -- share links --------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _link(row: ShareLinkRow, song: str, token: str | None = None) -> ShareLink:
    return ShareLink(id=row.id, song=song, role=row.role, label=row.label,
                     created_at=_utc(row.created_at),  # type: ignore[arg-type]
                     created_by=row.created_by, revoked_at=_utc(row.revoked_at), token=token)


def create_share_link(studio: Studio, song: str, role: str = "reviewer", *,
                      label: str = "", by: str = "owner") -> ShareLink:
    """A new review link for ``song``: its ``token`` (``secrets.token_urlsafe(32)``) is
    returned once and stored only as a SHA-256 hash."""
    song_folder(studio.songs, song)
    if role not in ROLES:
        raise ParameterError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    text = (label or "").strip()[:255]
    who = _who(by, "who")
    song_id = _ensure_song(studio, song)
    token = secrets.token_urlsafe(32)
    with studio.db.transaction() as s:
        row = ShareLinkRow(song_id=song_id, token_hash=_hash(token), role=role, label=text,
                           created_at=_now(), created_by=who)
        s.add(row)
        s.flush()
        return _link(row, song, token)


def list_share_links(studio: Studio, song: str) -> list[ShareLink]:
    """A song's review links (tokens are not known any more)."""
    if not valid_song_name(song):
        raise NotFound(f"no song {song!r}")
    with studio.db.transaction() as s:
        rows = s.execute(select(ShareLinkRow).join(SongRow, ShareLinkRow.song_id == SongRow.id)
                         .where(SongRow.name == song).order_by(ShareLinkRow.id)).scalars().all()
        return [_link(r, song) for r in rows]


def revoke_share_link(studio: Studio, song: str, link_id: int) -> None:
    """Revoke a review link: its token is refused (403) from now on."""
    with studio.db.transaction() as s:
        row = s.execute(select(ShareLinkRow).join(SongRow, ShareLinkRow.song_id == SongRow.id)
                        .where(SongRow.name == song, ShareLinkRow.id == link_id)
                        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no review link {link_id!r} for song {song!r}")
        if row.revoked_at is None:
            row.revoked_at = _now()


def check_token(studio: Studio, token: str | None) -> Grant:
    """What a review-link token allows.

    Raises
    ------
    TokenMissing
        No token (401).
    Forbidden
        A token that is not a link's, or a revoked link's (403).
    """
    if not token or not token.strip():
        raise TokenMissing("this page needs a review link (no token given)")
    if len(token) > 200:
        raise Forbidden("this review link is not valid")
    with studio.db.transaction() as s:
        row = s.execute(select(ShareLinkRow, SongRow.name)
                        .join(SongRow, ShareLinkRow.song_id == SongRow.id)
                        .where(ShareLinkRow.token_hash == _hash(token.strip()))).first()
    if row is None:
        raise Forbidden("this review link is not valid")
    link, song = row
    if link.revoked_at is not None:
        raise Forbidden("this review link was revoked")
    return Grant(song=song, role=link.role, link_id=link.id)
