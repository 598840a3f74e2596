"""Recording sessions: booking without double booking, listing, editing, cancelling.

Sessions are half-open intervals ``[start, end)`` in UTC: one may start when another ends.
A booking first writes the ``booking`` row of ``ledger_locks``; on SQLite that takes the
database's write lock, on PostgreSQL that row's lock, so two bookings never check and
insert at the same time and two processes cannot both book the same room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session as OrmSession

from mixdown.db import Database
from mixdown.ledger import models as m
from mixdown.ledger.errors import ConflictError, LedgerError
from mixdown.ledger.lookup import by_id, by_name
from mixdown.ledger.values import (
    TEXT_MAX,
    check_text,
    format_money,
    local_text,
    parse_datetime,
    utc_iso,
)

MAX_SESSION = timedelta(hours=24 * 7)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A booked session; ``start``/``end`` naive UTC, ``cost_minor`` = hours x room rate."""

    id: int
    room: str
    start: datetime
    end: datetime
    people: tuple[str, ...]
    songs: tuple[str, ...]
    notes: str
    budget: str | None
    cost_minor: int
    currency: str

    @property
    def hours(self) -> float:
        """Length in hours."""
        return (self.end - self.start).total_seconds() / 3600

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON: times as UTC ISO 8601 (``...Z``)."""
        return {"id": self.id, "room": self.room, "start": utc_iso(self.start),
                "end": utc_iso(self.end), "people": list(self.people),
                "songs": list(self.songs), "notes": self.notes, "budget": self.budget,
                "hours": round(self.hours, 4), "cost_minor": self.cost_minor,
                "currency": self.currency, "cost": format_money(self.cost_minor, self.currency)}

    def line(self) -> str:
        """One human line (local time)."""
        who = ", ".join(self.people) or "nobody"
        what = ", ".join(self.songs) or "no song"
        return (f"#{self.id} {local_text(self.start)}-{local_text(self.end)[11:]} "
                f"{self.room}: {who}; {what}")


def session_cost(rate_minor: int, start: datetime, end: datetime) -> int:
    """Hours x hourly rate, rounded half up to a minor unit (integer arithmetic)."""
    seconds = int((end - start).total_seconds())
    return (rate_minor * seconds * 2 + 3600) // 7200


def lock_bookings(s: OrmSession) -> None:
    """Take the booking lock for the rest of the transaction (must be its first write)."""
    s.execute(update(m.Lock).where(m.Lock.name == "booking")
              .values(counter=m.Lock.counter + 1))


def check_free(s: OrmSession, room_id: int, person_ids: list[int], start: datetime,
               end: datetime, *, ignore: int | None = None) -> None:
    """Raise ConflictError if the room or a person is booked in ``[start, end)``."""
    q = select(m.Session).where(m.Session.room_id == room_id, m.Session.start_utc < end,
                                m.Session.end_utc > start)
    if ignore is not None:
        q = q.where(m.Session.id != ignore)
    clash = s.execute(q.limit(1)).scalar_one_or_none()
    if clash is not None:
        room = s.get(m.Room, room_id)
        raise ConflictError(f"room {room.name!r} is already booked "
                            f"{local_text(clash.start_utc)}-{local_text(clash.end_utc)[11:]} "
                            f"(session #{clash.id})")
    if person_ids:
        q = (select(m.Session, m.Person.name).join(m.SessionPerson,
             m.SessionPerson.session_id == m.Session.id)
             .join(m.Person, m.Person.id == m.SessionPerson.person_id)
             .where(m.SessionPerson.person_id.in_(person_ids), m.Session.start_utc < end,
                    m.Session.end_utc > start))
        if ignore is not None:
            q = q.where(m.Session.id != ignore)
        row = s.execute(q.limit(1)).first()
        if row is not None:
            clash, name = row
            raise ConflictError(f"{name!r} is already booked "
                                f"{local_text(clash.start_utc)}-{local_text(clash.end_utc)[11:]}"
                                f" (session #{clash.id})")


def _times(start: str | datetime, end: str | datetime) -> tuple[datetime, datetime]:
    a = start if isinstance(start, datetime) else parse_datetime(start, "start")
    b = end if isinstance(end, datetime) else parse_datetime(end, "end")
    if b <= a:
        raise LedgerError(f"end {local_text(b)} is not after start {local_text(a)}")
    if b - a > MAX_SESSION:
        raise LedgerError("a session lasts at most 7 days; book longer work as several")
    return a, b


def _budget_for(s: OrmSession, song_ids: list[int], budget: str | None) -> int | None:
    if budget:
        return by_name(s, m.Budget, budget, "budget").id
    ids = {s.get(m.Song, i).budget_id for i in song_ids} - {None}
    return ids.pop() if len(ids) == 1 else None


def session_record(s: OrmSession, row: m.Session) -> SessionRecord:
    """The record of a session row."""
    room = s.get(m.Room, row.room_id)
    people = tuple(s.execute(select(m.Person.name).join(
        m.SessionPerson, m.SessionPerson.person_id == m.Person.id)
        .where(m.SessionPerson.session_id == row.id).order_by(m.Person.name)).scalars())
    songs = tuple(s.execute(select(m.Song.name).join(
        m.SessionSong, m.SessionSong.song_id == m.Song.id)
        .where(m.SessionSong.session_id == row.id).order_by(m.Song.name)).scalars())
    budget = s.get(m.Budget, row.budget_id).name if row.budget_id else None
    return SessionRecord(row.id, room.name, row.start_utc, row.end_utc, people, songs,
                         row.notes, budget, session_cost(room.rate_minor, row.start_utc,
                                                         row.end_utc), room.currency)


def _names(s: OrmSession, model: Any, names: list[str], what: str) -> list[int]:
    ids: list[int] = []
    for n in names:
        ident = by_name(s, model, check_text(n, f"{what} name"), what).id
        if ident not in ids:
            ids.append(ident)
    return ids


def book_session(db: Database, *, room: str, start: str | datetime, end: str | datetime,
                 people: list[str] | tuple[str, ...] = (), songs: list[str] | tuple[str, ...] = (),
                 notes: str = "", budget: str | None = None) -> SessionRecord:
    """Book ``room`` from ``start`` to ``end`` (ISO 8601, local unless a zone is given).

    Raises
    ------
    ConflictError
        The room or one of the people is already booked then.
    NotFoundError
        An unknown room, person, song or budget.
    """
    a, b = _times(start, end)
    notes = check_text(notes, "notes", limit=TEXT_MAX, multiline=True, required=False)
    with db.transaction() as s:
        lock_bookings(s)
        room_id = by_name(s, m.Room, check_text(room, "room name"), "room").id
        person_ids = _names(s, m.Person, list(people), "person")
        song_ids = _names(s, m.Song, list(songs), "song")
        check_free(s, room_id, person_ids, a, b)
        row = m.Session(room_id=room_id, start_utc=a, end_utc=b, notes=notes,
                        budget_id=_budget_for(s, song_ids, budget))
        s.add(row)
        s.flush()
        s.add_all([m.SessionPerson(session_id=row.id, person_id=p) for p in person_ids])
        s.add_all([m.SessionSong(session_id=row.id, song_id=x) for x in song_ids])
        s.flush()
        return session_record(s, row)


def edit_session(db: Database, ident: int, *, room: str | None = None,
                 start: str | None = None, end: str | None = None,
                 people: list[str] | None = None, songs: list[str] | None = None,
                 notes: str | None = None) -> SessionRecord:
    """Move or change a session; the same double-booking rules apply."""
    with db.transaction() as s:
        lock_bookings(s)
        row = by_id(s, m.Session, ident, "session")
        a, b = _times(start or row.start_utc, end or row.end_utc)
        room_id = by_name(s, m.Room, room, "room").id if room else row.room_id
        if people is None:
            person_ids = list(s.execute(select(m.SessionPerson.person_id).where(
                m.SessionPerson.session_id == ident)).scalars())
        else:
            person_ids = _names(s, m.Person, people, "person")
        check_free(s, room_id, person_ids, a, b, ignore=ident)
        row.room_id, row.start_utc, row.end_utc = room_id, a, b
        if notes is not None:
            row.notes = check_text(notes, "notes", limit=TEXT_MAX, multiline=True,
                                   required=False)
        if people is not None:
            s.execute(delete(m.SessionPerson).where(m.SessionPerson.session_id == ident))
            s.add_all([m.SessionPerson(session_id=ident, person_id=p) for p in person_ids])
        if songs is not None:
            song_ids = _names(s, m.Song, songs, "song")
            s.execute(delete(m.SessionSong).where(m.SessionSong.session_id == ident))
            s.add_all([m.SessionSong(session_id=ident, song_id=x) for x in song_ids])
        s.flush()
        return session_record(s, row)


def list_sessions(db: Database, *, start: str | datetime | None = None,
                  end: str | datetime | None = None, room: str | None = None,
                  person: str | None = None, song: str | None = None
                  ) -> tuple[SessionRecord, ...]:
    """Sessions overlapping ``[start, end)`` (either may be None), by start time."""
    a = start if isinstance(start, datetime) or start is None else parse_datetime(start, "from")
    b = end if isinstance(end, datetime) or end is None else parse_datetime(end, "to")
    with db.transaction() as s:
        where: list[Any] = []
        if a is not None:
            where.append(m.Session.end_utc > a)
            where.append(m.Session.start_utc > a - MAX_SESSION)  # lets the index bound it
        if b is not None:
            where.append(m.Session.start_utc < b)
        if room:
            where.append(m.Session.room_id == by_name(s, m.Room, room, "room").id)
        if person:
            pid = by_name(s, m.Person, person, "person").id
            where.append(m.Session.id.in_(select(m.SessionPerson.session_id)
                                          .where(m.SessionPerson.person_id == pid)))
        if song:
            sid = by_name(s, m.Song, song, "song").id
            where.append(m.Session.id.in_(select(m.SessionSong.session_id)
                                          .where(m.SessionSong.song_id == sid)))
        return _records(s, where)


def _records(s: OrmSession, where: list[Any]) -> tuple[SessionRecord, ...]:
    """Records of the sessions matching ``where``: plain rows, one query per table (no ORM
    objects, no per-session queries)."""
    rows = s.execute(select(m.Session.id, m.Session.room_id, m.Session.start_utc,
                            m.Session.end_utc, m.Session.notes, m.Session.budget_id)
                     .where(*where).order_by(m.Session.start_utc, m.Session.id)).all()
    if not rows:
        return ()
    rooms = {r.id: (r.name, r.rate_minor, r.currency) for r in
             s.execute(select(m.Room.id, m.Room.name, m.Room.rate_minor, m.Room.currency))}
    budgets = dict(s.execute(select(m.Budget.id, m.Budget.name)).all())
    people: dict[int, list[str]] = {}
    songs: dict[int, list[str]] = {}
    for sid, name in s.execute(select(m.SessionPerson.session_id, m.Person.name)
                               .join(m.Session, m.Session.id == m.SessionPerson.session_id)
                               .join(m.Person, m.Person.id == m.SessionPerson.person_id)
                               .where(*where)):
        people.setdefault(sid, []).append(name)
    for sid, name in s.execute(select(m.SessionSong.session_id, m.Song.name)
                               .join(m.Session, m.Session.id == m.SessionSong.session_id)
                               .join(m.Song, m.Song.id == m.SessionSong.song_id)
                               .where(*where)):
        songs.setdefault(sid, []).append(name)
    out = []
    for ident, room_id, a, b, notes, budget_id in rows:
        name, rate, currency = rooms[room_id]
        out.append(SessionRecord(
            ident, name, a, b, tuple(sorted(people.get(ident, []))),
            tuple(sorted(songs.get(ident, []))), notes,
            budgets.get(budget_id) if budget_id else None, session_cost(rate, a, b), currency))
    return tuple(out)


def show_session(db: Database, ident: int) -> SessionRecord:
    """One session by number."""
    with db.transaction() as s:
        return session_record(s, by_id(s, m.Session, ident, "session"))


def cancel_session(db: Database, ident: int) -> None:
    """Remove a session that no invoice bills."""
    with db.transaction() as s:
        row = by_id(s, m.Session, ident, "session")
        if s.execute(select(m.InvoiceLine.id).where(m.InvoiceLine.session_id == ident)).first():
            raise ConflictError(f"session #{ident} is on an invoice; remove that line first")
        s.execute(delete(m.SessionPerson).where(m.SessionPerson.session_id == ident))
        s.execute(delete(m.SessionSong).where(m.SessionSong.session_id == ident))
        s.delete(row)


__all__ = ["SessionRecord", "book_session", "cancel_session", "check_free", "edit_session",
           "list_sessions", "lock_bookings", "session_cost", "session_record", "show_session"]
