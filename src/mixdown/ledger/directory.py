"""People, studios, rooms, songs and budgets: add, list, show, edit, remove."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, exists, or_, select

from mixdown.db import Database
from mixdown.ledger import models as m
from mixdown.ledger.errors import ConflictError, LedgerError
from mixdown.ledger.lookup import by_name, taken
from mixdown.ledger.values import (
    check_text,
    format_money,
    parse_currency,
    parse_money,
)

ROLE = re.compile(r"^[a-z][a-z0-9 _-]{0,40}$")


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A person as the ledger knows them."""

    id: int
    name: str
    roles: tuple[str, ...]
    email: str | None
    phone: str | None
    pro: str | None
    ipi: str | None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        d = asdict(self)
        d["roles"] = list(self.roles)
        return d


@dataclass(frozen=True, slots=True)
class RoomRecord:
    """A room with its hourly rate (minor units of ``currency``)."""

    id: int
    name: str
    studio: str | None
    rate_minor: int
    currency: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON (``rate`` is the human text)."""
        return {**asdict(self), "rate": format_money(self.rate_minor, self.currency)}


@dataclass(frozen=True, slots=True)
class StudioRecord:
    """A studio and its rooms' names."""

    id: int
    name: str
    address: str | None
    rooms: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {**asdict(self), "rooms": list(self.rooms)}


@dataclass(frozen=True, slots=True)
class SongRecord:
    """A song and the mixdown project it is linked to."""

    id: int
    name: str
    project_path: str | None
    project_version: str | None
    budget: str | None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class BudgetRecord:
    """A production budget."""

    id: int
    name: str
    currency: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


def parse_roles(roles: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Roles, lower case, deduplicated; each a short word."""
    out: list[str] = []
    for r in roles:
        for part in r.split(","):
            role = check_text(part, "role", limit=40).lower()
            if not ROLE.match(role):
                raise LedgerError(f"role {part!r} must be a word such as engineer, writer, "
                                  "producer, musician")
            if role not in out:
                out.append(role)
    return tuple(out)


def _ipi(text: str | None) -> str | None:
    if text is None:
        return None
    digits = re.sub(r"[\s.-]", "", text)
    if not re.fullmatch(r"\d{9,11}", digits):
        raise LedgerError(f"IPI {text!r} must be 9 to 11 digits")
    return digits.zfill(11)


def _opt(text: str | None, what: str, limit: int = 200) -> str | None:
    return None if text is None else (check_text(text, what, limit=limit, required=False) or None)


def person_record(p: m.Person) -> PersonRecord:
    """The record of a row."""
    return PersonRecord(p.id, p.name, tuple(r for r in p.roles.split(",") if r), p.email,
                        p.phone, p.pro, p.ipi)


def add_person(db: Database, name: str, *, roles: list[str] | tuple[str, ...] = (),
               email: str | None = None, phone: str | None = None, pro: str | None = None,
               ipi: str | None = None) -> PersonRecord:
    """Add a person; the name must be new."""
    name = check_text(name, "person name")
    row = m.Person(name=name, roles=",".join(parse_roles(roles)), email=_opt(email, "email"),
                   phone=_opt(phone, "phone", 64), pro=_opt(pro, "PRO", 64), ipi=_ipi(ipi))
    with db.transaction() as s:
        taken(s, m.Person, name, "person")
        s.add(row)
        s.flush()
        return person_record(row)


def edit_person(db: Database, name: str, *, new_name: str | None = None,
                roles: list[str] | None = None, email: str | None = None,
                phone: str | None = None, pro: str | None = None,
                ipi: str | None = None) -> PersonRecord:
    """Change the given fields of a person (None leaves a field)."""
    with db.transaction() as s:
        p = by_name(s, m.Person, name, "person")
        if new_name is not None:
            new = check_text(new_name, "person name")
            taken(s, m.Person, new, "person", exclude_id=p.id)
            p.name = new
        if roles is not None:
            p.roles = ",".join(parse_roles(roles))
        if email is not None:
            p.email = _opt(email, "email")
        if phone is not None:
            p.phone = _opt(phone, "phone", 64)
        if pro is not None:
            p.pro = _opt(pro, "PRO", 64)
        if ipi is not None:
            p.ipi = _ipi(ipi)
        s.flush()
        return person_record(p)


def list_people(db: Database, *, role: str | None = None) -> tuple[PersonRecord, ...]:
    """Everyone, by name (only those with ``role`` if given)."""
    with db.transaction() as s:
        rows = s.execute(select(m.Person).order_by(m.Person.name)).scalars()
        out = tuple(person_record(p) for p in rows)
    return tuple(p for p in out if role is None or role.lower() in p.roles)


def show_person(db: Database, name: str) -> PersonRecord:
    """One person by name."""
    with db.transaction() as s:
        return person_record(by_name(s, m.Person, name, "person"))


def remove_person(db: Database, name: str) -> None:
    """Remove a person who is on no session, credit or split sheet."""
    with db.transaction() as s:
        p = by_name(s, m.Person, name, "person")
        for model, what in ((m.SessionPerson, "sessions"), (m.Credit, "credits"),
                            (m.Split, "split sheets")):
            if s.execute(select(exists().where(model.person_id == p.id))).scalar():
                raise ConflictError(f"person {name!r} is on {what}; remove those first")
        s.delete(p)


# --- studios and rooms ---------------------------------------------------------------------


def _studio_record(s: Any, st: m.Studio) -> StudioRecord:
    rooms = tuple(s.execute(select(m.Room.name).where(m.Room.studio_id == st.id)
                            .order_by(m.Room.name)).scalars())
    return StudioRecord(st.id, st.name, st.address, rooms)


def add_studio(db: Database, name: str, *, address: str | None = None) -> StudioRecord:
    """Add a studio."""
    name = check_text(name, "studio name")
    with db.transaction() as s:
        taken(s, m.Studio, name, "studio")
        st = m.Studio(name=name, address=_opt(address, "address", 500))
        s.add(st)
        s.flush()
        return _studio_record(s, st)


def list_studios(db: Database) -> tuple[StudioRecord, ...]:
    """Every studio with its rooms."""
    with db.transaction() as s:
        return tuple(_studio_record(s, st) for st in
                     s.execute(select(m.Studio).order_by(m.Studio.name)).scalars())


def remove_studio(db: Database, name: str) -> None:
    """Remove a studio that has no rooms."""
    with db.transaction() as s:
        st = by_name(s, m.Studio, name, "studio")
        if s.execute(select(exists().where(m.Room.studio_id == st.id))).scalar():
            raise ConflictError(f"studio {name!r} has rooms; remove them first")
        s.delete(st)


def room_record(s: Any, r: m.Room) -> RoomRecord:
    """The record of a room row."""
    studio = s.get(m.Studio, r.studio_id).name if r.studio_id else None
    return RoomRecord(r.id, r.name, studio, r.rate_minor, r.currency)


def add_room(db: Database, name: str, *, rate: str, currency: str,
             studio: str | None = None) -> RoomRecord:
    """Add a room; ``rate`` per hour as typed (``"60"``, ``"62.50"``) in ``currency``."""
    name = check_text(name, "room name")
    cur = parse_currency(currency)
    rate_minor = parse_money(rate, cur, "rate")
    with db.transaction() as s:
        taken(s, m.Room, name, "room")
        studio_id = by_name(s, m.Studio, studio, "studio").id if studio else None
        r = m.Room(name=name, studio_id=studio_id, rate_minor=rate_minor, currency=cur)
        s.add(r)
        s.flush()
        return room_record(s, r)


def edit_room(db: Database, name: str, *, new_name: str | None = None,
              rate: str | None = None, currency: str | None = None,
              studio: str | None = None) -> RoomRecord:
    """Change a room's name, rate, currency or studio."""
    with db.transaction() as s:
        r = by_name(s, m.Room, name, "room")
        if new_name is not None:
            new = check_text(new_name, "room name")
            taken(s, m.Room, new, "room", exclude_id=r.id)
            r.name = new
        if currency is not None:
            r.currency = parse_currency(currency)
        if rate is not None:
            r.rate_minor = parse_money(rate, r.currency, "rate")
        if studio is not None:
            r.studio_id = by_name(s, m.Studio, studio, "studio").id
        s.flush()
        return room_record(s, r)


def list_rooms(db: Database) -> tuple[RoomRecord, ...]:
    """Every room by name."""
    with db.transaction() as s:
        return tuple(room_record(s, r) for r in
                     s.execute(select(m.Room).order_by(m.Room.name)).scalars())


def show_room(db: Database, name: str) -> RoomRecord:
    """One room by name."""
    with db.transaction() as s:
        return room_record(s, by_name(s, m.Room, name, "room"))


def remove_room(db: Database, name: str) -> None:
    """Remove a room with no sessions."""
    with db.transaction() as s:
        r = by_name(s, m.Room, name, "room")
        if s.execute(select(exists().where(m.Session.room_id == r.id))).scalar():
            raise ConflictError(f"room {name!r} has sessions; remove them first")
        s.delete(r)


# --- budgets -------------------------------------------------------------------------------


def add_budget(db: Database, name: str, *, currency: str) -> BudgetRecord:
    """Add a production budget in ``currency``."""
    name = check_text(name, "budget name")
    cur = parse_currency(currency)
    with db.transaction() as s:
        taken(s, m.Budget, name, "budget")
        b = m.Budget(name=name, currency=cur)
        s.add(b)
        s.flush()
        return BudgetRecord(b.id, b.name, b.currency)


def list_budgets(db: Database) -> tuple[BudgetRecord, ...]:
    """Every budget by name."""
    with db.transaction() as s:
        return tuple(BudgetRecord(b.id, b.name, b.currency) for b in
                     s.execute(select(m.Budget).order_by(m.Budget.name)).scalars())


def remove_budget(db: Database, name: str) -> None:
    """Remove a budget with its lines and expenses (songs and sessions are unlinked)."""
    with db.transaction() as s:
        b = by_name(s, m.Budget, name, "budget")
        s.execute(delete(m.BudgetLine).where(m.BudgetLine.budget_id == b.id))
        s.execute(delete(m.Expense).where(m.Expense.budget_id == b.id))
        for model in (m.Song, m.Session):
            for row in s.execute(select(model).where(model.budget_id == b.id)).scalars():
                row.budget_id = None
        s.delete(b)


# --- songs ---------------------------------------------------------------------------------


def song_record(s: Any, song: m.Song) -> SongRecord:
    """The record of a song row."""
    budget = s.get(m.Budget, song.budget_id).name if song.budget_id else None
    return SongRecord(song.id, song.name, song.project_path, song.project_version, budget)


def _project_path(path: str | Path) -> str:
    p = Path(path)
    if p.is_file() and p.name == "song.toml":
        p = p.parent
    if not (p / "song.toml").is_file():
        raise LedgerError(f"{path}: not a mixdown project (no song.toml there)")
    return str(p.resolve())


def add_song(db: Database, name: str, *, project: str | Path | None = None,
             version: str | None = None, budget: str | None = None) -> SongRecord:
    """Add a song, optionally linked to a mixdown project folder and a budget."""
    name = check_text(name, "song name")
    path = _project_path(project) if project is not None else None
    with db.transaction() as s:
        taken(s, m.Song, name, "song")
        budget_id = by_name(s, m.Budget, budget, "budget").id if budget else None
        song = m.Song(name=name, project_path=path, project_version=_opt(version, "version"),
                      budget_id=budget_id)
        s.add(song)
        s.flush()
        return song_record(s, song)


def edit_song(db: Database, name: str, *, new_name: str | None = None,
              project: str | Path | None = None, version: str | None = None,
              budget: str | None = None) -> SongRecord:
    """Change a song's name, project link, version or budget."""
    with db.transaction() as s:
        song = by_name(s, m.Song, name, "song")
        if new_name is not None:
            new = check_text(new_name, "song name")
            taken(s, m.Song, new, "song", exclude_id=song.id)
            song.name = new
        if project is not None:
            song.project_path = _project_path(project)
        if version is not None:
            song.project_version = _opt(version, "version")
        if budget is not None:
            song.budget_id = by_name(s, m.Budget, budget, "budget").id
        s.flush()
        return song_record(s, song)


def list_songs(db: Database, *, budget: str | None = None) -> tuple[SongRecord, ...]:
    """Every song by name (only a budget's if given)."""
    with db.transaction() as s:
        q = select(m.Song).order_by(m.Song.name)
        if budget:
            q = q.where(m.Song.budget_id == by_name(s, m.Budget, budget, "budget").id)
        return tuple(song_record(s, x) for x in s.execute(q).scalars())


def show_song(db: Database, name: str) -> SongRecord:
    """One song by name."""
    with db.transaction() as s:
        return song_record(s, by_name(s, m.Song, name, "song"))


def remove_song(db: Database, name: str) -> None:
    """Remove a song that is on no session, release, credit or split sheet."""
    with db.transaction() as s:
        song = by_name(s, m.Song, name, "song")
        for model, what in ((m.SessionSong, "sessions"), (m.ReleaseTrack, "releases"),
                            (m.Credit, "credits"), (m.Split, "split sheets")):
            if s.execute(select(exists().where(model.song_id == song.id))).scalar():
                raise ConflictError(f"song {name!r} is on {what}; remove those first")
        s.execute(delete(m.BudgetLine).where(m.BudgetLine.song_id == song.id))
        for e in s.execute(select(m.Expense).where(or_(m.Expense.song_id == song.id))).scalars():
            e.song_id = None
        s.delete(song)


__all__ = ["BudgetRecord", "PersonRecord", "RoomRecord", "SongRecord", "StudioRecord",
           "add_budget", "add_person", "add_room", "add_song", "add_studio", "edit_person",
           "edit_room", "edit_song", "list_budgets", "list_people", "list_rooms", "list_songs",
           "list_studios", "parse_roles", "remove_budget", "remove_person", "remove_room",
           "remove_song", "remove_studio", "show_person", "show_room", "show_song"]
