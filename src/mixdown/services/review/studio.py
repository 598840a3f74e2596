"""The studio (songs folder, database, versions store) and its songs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mixdown.core.errors import MixdownError
from mixdown.db import Database, database_url, open_database
from mixdown.review.errors import NotFound
from mixdown.review.places import SONG_FILE, STORE_DIRNAME, song_folder, song_names
from mixdown.review.tables import SongRow, VersionRow
from mixdown.review.timing import SongTiming, parse_snapshot
from mixdown.review.waveform import LoudnessCurve, Peaks
from mixdown.services.review._common import _iso, _now, _utc

if TYPE_CHECKING:
    from mixdown.services.review.player import Bar


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


def song_project(studio: Studio, song: str) -> Path:
    """The project folder of ``song`` (NotFound for a name that is not a song here)."""
    return song_folder(studio.songs, song)


def song_summary(studio: Studio, song: str) -> SongSummary:
    """One song's :class:`SongSummary` (NotFound for an unknown song)."""
    song_folder(studio.songs, song)
    for summary in list_songs(studio):
        if summary.name == song:
            return summary
    raise NotFound(f"no song {song!r}")
