"""Releases: metadata, tracks with ISRCs, and the checklist that says when one is ready.

A release is ready when every item holds:

- ``metadata``: title, artist, a valid UPC/EAN, a release date and at least one track;
- ``audio: SONG``: the track's delivery report (``delivery.json`` written by
  ``mixdown deliver``) passed for the release's platform (every target if none is set),
  each delivered file is there, and the report's ISRC (if any) is the track's;
- ``artwork``: an image at least ``artwork_min_px`` square (3000 px by default);
- ``credits: SONG``: a writing credit, a performing/production credit, and every writer
  on the split sheet credited as a writer;
- ``splits: SONG``: writer shares total 100 % (publisher shares 100 % or none).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as OrmSession

from mixdown.core.codes import normalize_isrc, normalize_upc
from mixdown.core.errors import ParameterError
from mixdown.db import Database
from mixdown.ledger import models as m
from mixdown.ledger.errors import LedgerError
from mixdown.ledger.lookup import by_name, taken
from mixdown.ledger.rights import WRITER_ROLES, _credits, _sheet
from mixdown.ledger.values import check_text, parse_assignment, parse_date, parse_positive_int


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """A release track."""

    position: int
    song: str
    isrc: str
    delivery: str | None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"position": self.position, "song": self.song, "isrc": self.isrc,
                "delivery": self.delivery}


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    """A release and its tracks."""

    id: int
    title: str
    artist: str
    upc: str | None
    release_date: date | None
    distributor: str | None
    platform: str | None
    artwork: str | None
    artwork_min_px: int
    tracks: tuple[TrackRecord, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"id": self.id, "title": self.title, "artist": self.artist, "upc": self.upc,
                "date": self.release_date.isoformat() if self.release_date else None,
                "distributor": self.distributor, "platform": self.platform,
                "artwork": self.artwork, "artwork_min_px": self.artwork_min_px,
                "tracks": [t.as_dict() for t in self.tracks]}


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One checklist item: ``ok`` and what was found."""

    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class ReleaseCheck:
    """A release's checklist; ``ready`` when every item holds."""

    release: str
    items: tuple[CheckItem, ...]

    @property
    def ready(self) -> bool:
        """Every item holds."""
        return all(i.ok for i in self.items)

    def as_dict(self) -> dict[str, Any]:
        """``{"release", "ready", "items"}``."""
        return {"release": self.release, "ready": self.ready,
                "items": [i.as_dict() for i in self.items]}


def _code(fn: Any, text: str) -> str:
    try:
        return fn(text)
    except ParameterError as exc:
        raise LedgerError(str(exc)) from None


def _tracks(s: OrmSession, release_id: int) -> tuple[TrackRecord, ...]:
    q = (select(m.ReleaseTrack.position, m.Song.name, m.ReleaseTrack.isrc,
                m.ReleaseTrack.delivery).join(m.Song, m.Song.id == m.ReleaseTrack.song_id)
         .where(m.ReleaseTrack.release_id == release_id).order_by(m.ReleaseTrack.position))
    return tuple(TrackRecord(*row) for row in s.execute(q))


def release_record(s: OrmSession, r: m.Release) -> ReleaseRecord:
    """The record of a release row."""
    return ReleaseRecord(r.id, r.title, r.artist, r.upc, r.release_date, r.distributor,
                         r.platform, r.artwork, r.artwork_min_px, _tracks(s, r.id))


def _parse_tracks(tracks: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for text in tracks:
        song, isrc = parse_assignment(text, "track")
        out.append((check_text(song, "song name"), _code(normalize_isrc, isrc)))
    isrcs = [i for _, i in out]
    if len(set(isrcs)) != len(isrcs):
        raise LedgerError("the same ISRC is on two tracks of one release")
    return out


def _path(text: str, what: str) -> str:
    return str(Path(check_text(text, what, limit=1000)).expanduser().resolve())


def add_release(db: Database, title: str, *, artist: str, upc: str | None = None,
                release_date: str | None = None, distributor: str | None = None,
                platform: str | None = None, artwork: str | None = None,
                artwork_min_px: str | None = None,
                tracks: list[str] | tuple[str, ...] = (),
                deliveries: list[str] | tuple[str, ...] = ()) -> ReleaseRecord:
    """Add a release; ``tracks`` as ``"Song=ISRC"`` in order, ``deliveries`` as
    ``"Song=FOLDER"`` (a ``mixdown deliver`` folder)."""
    t = check_text(title, "release title")
    row = m.Release(
        title=t, artist=check_text(artist, "artist"),
        upc=_code(normalize_upc, upc) if upc else None,
        release_date=parse_date(release_date, "release date") if release_date else None,
        distributor=check_text(distributor, "distributor") if distributor else None,
        platform=check_text(platform, "platform", limit=64).lower() if platform else None,
        artwork=_path(artwork, "artwork") if artwork else None,
        artwork_min_px=parse_positive_int(artwork_min_px, "artwork size")
        if artwork_min_px else 3000)
    parsed = _parse_tracks(tracks)
    with db.transaction() as s:
        taken(s, m.Release, t, "release", column="title")
        s.add(row)
        s.flush()
        for pos, (song, isrc) in enumerate(parsed, 1):
            s.add(m.ReleaseTrack(release_id=row.id, position=pos, isrc=isrc,
                                 song_id=by_name(s, m.Song, song, "song").id))
        s.flush()
        _set_deliveries(s, row.id, deliveries)
        return release_record(s, row)


def _set_deliveries(s: OrmSession, release_id: int, deliveries: list[str] | tuple[str, ...]
                    ) -> None:
    for text in deliveries:
        song, folder = parse_assignment(text, "delivery")
        sg = by_name(s, m.Song, song, "song")
        track = s.execute(select(m.ReleaseTrack).where(
            m.ReleaseTrack.release_id == release_id, m.ReleaseTrack.song_id == sg.id)
        ).scalar_one_or_none()
        if track is None:
            raise LedgerError(f"song {sg.name!r} is not a track of this release")
        track.delivery = _path(folder, "delivery folder")


def edit_release(db: Database, title: str, *, artist: str | None = None,
                 upc: str | None = None, release_date: str | None = None,
                 distributor: str | None = None, platform: str | None = None,
                 artwork: str | None = None, artwork_min_px: str | None = None,
                 tracks: list[str] | None = None,
                 deliveries: list[str] | tuple[str, ...] = ()) -> ReleaseRecord:
    """Change fields of a release; ``tracks`` (if given) replaces the track list."""
    parsed = _parse_tracks(tracks) if tracks is not None else None
    with db.transaction() as s:
        r = by_name(s, m.Release, title, "release", column="title")
        if artist is not None:
            r.artist = check_text(artist, "artist")
        if upc is not None:
            r.upc = _code(normalize_upc, upc)
        if release_date is not None:
            r.release_date = parse_date(release_date, "release date")
        if distributor is not None:
            r.distributor = check_text(distributor, "distributor")
        if platform is not None:
            r.platform = check_text(platform, "platform", limit=64).lower()
        if artwork is not None:
            r.artwork = _path(artwork, "artwork")
        if artwork_min_px is not None:
            r.artwork_min_px = parse_positive_int(artwork_min_px, "artwork size")
        if parsed is not None:
            s.execute(delete(m.ReleaseTrack).where(m.ReleaseTrack.release_id == r.id))
            s.flush()
            for pos, (song, isrc) in enumerate(parsed, 1):
                s.add(m.ReleaseTrack(release_id=r.id, position=pos, isrc=isrc,
                                     song_id=by_name(s, m.Song, song, "song").id))
            s.flush()
        _set_deliveries(s, r.id, deliveries)
        s.flush()
        return release_record(s, r)


def list_releases(db: Database) -> tuple[ReleaseRecord, ...]:
    """Every release by date, then title."""
    with db.transaction() as s:
        return tuple(release_record(s, r) for r in s.execute(
            select(m.Release).order_by(m.Release.release_date, m.Release.title)).scalars())


def show_release(db: Database, title: str) -> ReleaseRecord:
    """One release by title."""
    with db.transaction() as s:
        return release_record(s, by_name(s, m.Release, title, "release", column="title"))


def remove_release(db: Database, title: str) -> None:
    """Remove a release and its tracks."""
    with db.transaction() as s:
        r = by_name(s, m.Release, title, "release", column="title")
        s.execute(delete(m.ReleaseTrack).where(m.ReleaseTrack.release_id == r.id))
        s.delete(r)


# --- the checklist -------------------------------------------------------------------------


def audio_item(track: TrackRecord, platform: str | None) -> CheckItem:
    """Whether the track's delivery report passed for ``platform`` (every target if None)."""
    name = f"audio: {track.song}"
    if not track.delivery:
        return CheckItem(name, False, "no delivery folder (release edit --delivery SONG=FOLDER)")
    path = Path(track.delivery)
    report = path / "delivery.json" if path.is_dir() else path
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
        targets = data["targets"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return CheckItem(name, False, f"{report}: no readable delivery report ({exc})")
    chosen = [t for t in targets if platform is None
              or str(t.get("target", {}).get("name", "")).lower() == platform]
    if not chosen:
        names = ", ".join(str(t.get("target", {}).get("name")) for t in targets) or "none"
        return CheckItem(name, False, f"{report}: not delivered for {platform} "
                                      f"(targets: {names})")
    isrc = data.get("isrc")
    if isrc and str(isrc).replace("-", "").upper() != track.isrc:
        return CheckItem(name, False, f"{report}: delivered with ISRC {isrc}, the track has "
                                      f"{track.isrc}")
    for t in chosen:
        tname = t.get("target", {}).get("name")
        for d in t.get("deliverables", []):
            if not d.get("passed"):
                return CheckItem(name, False, f"{d.get('deliverable')} for {tname} fails its "
                                              f"spec: {d.get('error') or 'see report.html'}")
            if not d.get("path") or not Path(d["path"]).is_file():
                return CheckItem(name, False, f"{d.get('deliverable')} for {tname}: file "
                                              f"{d.get('path')} is missing")
        if not t.get("deliverables"):
            return CheckItem(name, False, f"{tname}: no deliverables in the report")
    files = sum(len(t["deliverables"]) for t in chosen)
    return CheckItem(name, True, f"{files} file(s) meet their spec "
                                 f"({', '.join(str(t['target']['name']) for t in chosen)})")


def artwork_item(path: str | None, min_px: int) -> CheckItem:
    """Whether the artwork is a square image of at least ``min_px`` pixels a side."""
    if not path:
        return CheckItem("artwork", False, "no artwork (release edit --artwork FILE)")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
    except (OSError, UnidentifiedImageError) as exc:
        return CheckItem("artwork", False, f"{path}: not a readable image ({exc})")
    if w != h or w < min_px:
        return CheckItem("artwork", False, f"{path}: {w}x{h} px; needs a square of at least "
                                           f"{min_px}x{min_px}")
    return CheckItem("artwork", True, f"{w}x{h} px")


def check_release(db: Database, title: str) -> ReleaseCheck:
    """The release's checklist (see the module's description)."""
    with db.transaction() as s:
        r = by_name(s, m.Release, title, "release", column="title")
        rec = release_record(s, r)
        items = [_metadata_item(rec)]
        for t in rec.tracks:
            items.append(audio_item(t, rec.platform))
        items.append(artwork_item(rec.artwork, rec.artwork_min_px))
        for t in rec.tracks:
            sg = by_name(s, m.Song, t.song, "song")
            sheet = _sheet(s, sg)
            credits = _credits(s, sg)
            writers_credited = {c.person for c in credits if c.role in WRITER_ROLES}
            others = [c for c in credits if c.role not in WRITER_ROLES]
            missing = [w.party for w in sheet.writers if w.party not in writers_credited]
            if not writers_credited:
                items.append(CheckItem(f"credits: {t.song}", False, "no writer credited"))
            elif not others:
                items.append(CheckItem(f"credits: {t.song}", False, "no performer, producer or "
                                       "engineer credited (credit derive SONG)"))
            elif missing:
                items.append(CheckItem(f"credits: {t.song}", False,
                                       f"writers on the split sheet not credited: "
                                       f"{', '.join(missing)}"))
            else:
                items.append(CheckItem(f"credits: {t.song}", True,
                                       f"{len(credits)} credit(s)"))
            if not sheet.writers:
                items.append(CheckItem(f"splits: {t.song}", False, "no split sheet"))
            else:
                items.append(CheckItem(f"splits: {t.song}", sheet.complete,
                                       "writers 100%" + (", publishers 100%"
                                                         if sheet.publishers else "")
                                       if sheet.complete else "shares do not total 100%"))
    return ReleaseCheck(rec.title, tuple(items))


def _metadata_item(r: ReleaseRecord) -> CheckItem:
    missing = [n for n, v in (("UPC", r.upc), ("release date", r.release_date),
                              ("tracks", r.tracks)) if not v]
    if missing:
        return CheckItem("metadata", False, f"missing: {', '.join(missing)}")
    return CheckItem("metadata", True, f"UPC {r.upc}, {r.release_date}, {len(r.tracks)} track(s)")


__all__ = ["CheckItem", "ReleaseCheck", "ReleaseRecord", "TrackRecord", "add_release",
           "artwork_item", "audio_item", "check_release", "edit_release", "list_releases",
           "release_record", "remove_release", "show_release"]
