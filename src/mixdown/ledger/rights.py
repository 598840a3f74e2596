"""Credits (derived from sessions where possible), split sheets, contracts and licences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as OrmSession

from mixdown.db import Database
from mixdown.ledger import models as m
from mixdown.ledger.directory import parse_roles
from mixdown.ledger.errors import LedgerError
from mixdown.ledger.lookup import by_name, taken
from mixdown.ledger.values import (
    FULL_SHARE,
    check_text,
    format_money,
    parse_assignment,
    parse_currency,
    parse_date,
    parse_money,
    parse_share,
    share_text,
)

WRITER_ROLES = frozenset({"writer", "composer", "lyricist", "songwriter"})
"""Roles that count as writing credits."""
CONTRACT_KINDS = ("contract", "licence")
CONTRACT_STATUSES = ("draft", "sent", "signed", "active", "expired", "terminated")


@dataclass(frozen=True, slots=True)
class CreditRecord:
    """A role of a person on a song; ``source`` is manual, session or split."""

    song: str
    person: str
    role: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"song": self.song, "person": self.person, "role": self.role,
                "source": self.source}


def _credit(s: OrmSession, song_id: int, person_id: int, role: str, source: str) -> bool:
    exists = s.execute(select(m.Credit.id).where(
        m.Credit.song_id == song_id, m.Credit.person_id == person_id,
        m.Credit.role == role)).first()
    if exists:
        return False
    s.add(m.Credit(song_id=song_id, person_id=person_id, role=role, source=source))
    return True


def add_credit(db: Database, song: str, *, person: str, role: str) -> CreditRecord:
    """Credit ``person`` as ``role`` on ``song``."""
    (r,) = parse_roles([role])
    with db.transaction() as s:
        sg = by_name(s, m.Song, song, "song")
        p = by_name(s, m.Person, person, "person")
        if not _credit(s, sg.id, p.id, r, "manual"):
            raise LedgerError(f"{p.name!r} is already credited as {r} on {sg.name!r}")
        return CreditRecord(sg.name, p.name, r, "manual")


def derive_credits(db: Database, song: str) -> tuple[CreditRecord, ...]:
    """Credit everyone booked on the song's sessions with their (non-writing) roles.

    Returns the credits added (none twice).
    """
    added = []
    with db.transaction() as s:
        sg = by_name(s, m.Song, song, "song")
        q = (select(m.Person).join(m.SessionPerson, m.SessionPerson.person_id == m.Person.id)
             .join(m.SessionSong, m.SessionSong.session_id == m.SessionPerson.session_id)
             .where(m.SessionSong.song_id == sg.id).distinct().order_by(m.Person.name))
        for p in s.execute(q).scalars():
            roles = [r for r in p.roles.split(",") if r and r not in WRITER_ROLES] or ["musician"]
            for r in roles:
                if _credit(s, sg.id, p.id, r, "session"):
                    added.append(CreditRecord(sg.name, p.name, r, "session"))
    return tuple(added)


def list_credits(db: Database, song: str) -> tuple[CreditRecord, ...]:
    """A song's credits by person and role."""
    with db.transaction() as s:
        sg = by_name(s, m.Song, song, "song")
        return _credits(s, sg)


def _credits(s: OrmSession, sg: m.Song) -> tuple[CreditRecord, ...]:
    q = (select(m.Person.name, m.Credit.role, m.Credit.source)
         .join(m.Person, m.Person.id == m.Credit.person_id)
         .where(m.Credit.song_id == sg.id).order_by(m.Person.name, m.Credit.role))
    return tuple(CreditRecord(sg.name, n, r, src) for n, r, src in s.execute(q))


def remove_credit(db: Database, song: str, *, person: str, role: str) -> None:
    """Remove one credit."""
    with db.transaction() as s:
        sg = by_name(s, m.Song, song, "song")
        p = by_name(s, m.Person, person, "person")
        row = s.execute(select(m.Credit).where(m.Credit.song_id == sg.id,
                        m.Credit.person_id == p.id, m.Credit.role == role.lower())
                        ).scalar_one_or_none()
        if row is None:
            raise LedgerError(f"{p.name!r} has no {role} credit on {sg.name!r}")
        s.delete(row)


# --- split sheets --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Share:
    """One party's share, in basis points (10000 = 100 %)."""

    party: str
    share_bp: int

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON (``percent`` as exact text)."""
        return {"party": self.party, "share_bp": self.share_bp,
                "percent": share_text(self.share_bp)}


@dataclass(frozen=True, slots=True)
class SplitSheet:
    """A song's writer and publisher shares; each side totals 100 % when set."""

    song: str
    writers: tuple[Share, ...]
    publishers: tuple[Share, ...]

    @property
    def complete(self) -> bool:
        """Writers total 100 %, and publishers total 100 % or are not set."""
        return (sum(x.share_bp for x in self.writers) == FULL_SHARE
                and sum(x.share_bp for x in self.publishers) in (0, FULL_SHARE))

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"song": self.song, "writers": [x.as_dict() for x in self.writers],
                "publishers": [x.as_dict() for x in self.publishers],
                "complete": self.complete}


def _shares(items: list[str] | tuple[str, ...], what: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for text in items:
        name, value = parse_assignment(text, f"{what} share")
        name = check_text(name, f"{what} name")
        if any(n == name for n, _ in out):
            raise LedgerError(f"{what} {name!r} is listed twice")
        out.append((name, parse_share(value, f"{what} share of {name!r}")))
    total = sum(bp for _, bp in out)
    if out and total != FULL_SHARE:
        raise LedgerError(f"{what} shares total {share_text(total)}%, not exactly 100%: "
                          + ", ".join(f"{n} {share_text(bp)}%" for n, bp in out))
    return out


def set_splits(db: Database, song: str, *, writers: list[str] | tuple[str, ...],
               publishers: list[str] | tuple[str, ...] = ()) -> SplitSheet:
    """Replace the song's split sheet: ``"Name=60"`` per writer (a known person) and per
    publisher; each side must total exactly 100 %. Writers are credited as writers."""
    w = _shares(writers, "writer")
    p = _shares(publishers, "publisher")
    if not w:
        raise LedgerError("a split sheet needs at least one --writer NAME=PERCENT")
    with db.transaction() as s:
        sg = by_name(s, m.Song, song, "song")
        ids = {name: by_name(s, m.Person, name, "person").id for name, _ in w}
        s.execute(delete(m.Split).where(m.Split.song_id == sg.id))
        for name, bp in w:
            s.add(m.Split(song_id=sg.id, kind="writer", party=name, person_id=ids[name],
                          share_bp=bp))
            _credit(s, sg.id, ids[name], "writer", "split")
        for name, bp in p:
            s.add(m.Split(song_id=sg.id, kind="publisher", party=name, share_bp=bp))
        s.flush()
        return _sheet(s, sg)


def _sheet(s: OrmSession, sg: m.Song) -> SplitSheet:
    rows = list(s.execute(select(m.Split).where(m.Split.song_id == sg.id)
                          .order_by(m.Split.share_bp.desc(), m.Split.party)).scalars())
    return SplitSheet(sg.name, tuple(Share(x.party, x.share_bp) for x in rows
                                     if x.kind == "writer"),
                      tuple(Share(x.party, x.share_bp) for x in rows if x.kind == "publisher"))


def show_splits(db: Database, song: str) -> SplitSheet:
    """A song's split sheet (empty if never set)."""
    with db.transaction() as s:
        return _sheet(s, by_name(s, m.Song, song, "song"))


# --- contracts and licences ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContractRecord:
    """A contract or licence."""

    id: int
    title: str
    kind: str
    party: str
    territory: str
    starts: date
    expires: date | None
    fee_minor: int
    currency: str
    status: str
    song: str | None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"id": self.id, "title": self.title, "kind": self.kind, "party": self.party,
                "territory": self.territory, "starts": self.starts.isoformat(),
                "expires": self.expires.isoformat() if self.expires else None,
                "term_days": (self.expires - self.starts).days if self.expires else None,
                "fee_minor": self.fee_minor, "currency": self.currency,
                "fee": format_money(self.fee_minor, self.currency), "status": self.status,
                "song": self.song}


def _contract_record(s: OrmSession, c: m.Contract) -> ContractRecord:
    song = s.get(m.Song, c.song_id).name if c.song_id else None
    return ContractRecord(c.id, c.title, c.kind, c.party, c.territory, c.starts, c.expires,
                          c.fee_minor, c.currency, c.status, song)


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    v = value.strip().lower().replace("license", "licence")
    if v not in allowed:
        raise LedgerError(f"{what} {value!r} must be one of {', '.join(allowed)}")
    return v


def add_contract(db: Database, title: str, *, party: str, starts: str,
                 expires: str | None = None, kind: str = "contract",
                 territory: str = "World", fee: str = "0", currency: str = "EUR",
                 status: str = "draft", song: str | None = None) -> ContractRecord:
    """Add a contract or licence; its term runs from ``starts`` to ``expires``."""
    t = check_text(title, "contract title")
    k = _choice(kind, CONTRACT_KINDS, "kind")
    st = _choice(status, CONTRACT_STATUSES, "status")
    cur = parse_currency(currency)
    a = parse_date(starts, "start date")
    b = parse_date(expires, "expiry date") if expires else None
    if b is not None and b <= a:
        raise LedgerError(f"expiry {b} is not after the start {a}")
    row = m.Contract(title=t, kind=k, party=check_text(party, "party"),
                     territory=check_text(territory, "territory"), starts=a, expires=b,
                     fee_minor=parse_money(fee, cur, "fee"), currency=cur, status=st)
    with db.transaction() as s:
        taken(s, m.Contract, t, "contract", column="title")
        row.song_id = by_name(s, m.Song, song, "song").id if song else None
        s.add(row)
        s.flush()
        return _contract_record(s, row)


def edit_contract(db: Database, title: str, *, status: str | None = None,
                  expires: str | None = None) -> ContractRecord:
    """Change a contract's status or expiry."""
    with db.transaction() as s:
        c = by_name(s, m.Contract, title, "contract", column="title")
        if status is not None:
            c.status = _choice(status, CONTRACT_STATUSES, "status")
        if expires is not None:
            b = parse_date(expires, "expiry date")
            if b <= c.starts:
                raise LedgerError(f"expiry {b} is not after the start {c.starts}")
            c.expires = b
        s.flush()
        return _contract_record(s, c)


def list_contracts(db: Database, *, expiring_within: int | None = None,
                   today: date | None = None) -> tuple[ContractRecord, ...]:
    """Contracts by expiry; with ``expiring_within`` days, only those (not ended or
    terminated) expiring from today to today + N days."""
    with db.transaction() as s:
        q = select(m.Contract).order_by(m.Contract.expires, m.Contract.title)
        if expiring_within is not None:
            day = today or date.today()
            q = q.where(m.Contract.expires >= day,
                        m.Contract.expires <= day + timedelta(days=expiring_within),
                        m.Contract.status.not_in(("expired", "terminated")))
        return tuple(_contract_record(s, c) for c in s.execute(q).scalars())


def show_contract(db: Database, title: str) -> ContractRecord:
    """One contract by title."""
    with db.transaction() as s:
        return _contract_record(s, by_name(s, m.Contract, title, "contract", column="title"))


def remove_contract(db: Database, title: str) -> None:
    """Remove a contract."""
    with db.transaction() as s:
        s.delete(by_name(s, m.Contract, title, "contract", column="title"))


__all__ = ["CONTRACT_KINDS", "CONTRACT_STATUSES", "WRITER_ROLES", "ContractRecord",
           "CreditRecord", "Share", "SplitSheet", "add_contract", "add_credit",
           "derive_credits", "edit_contract", "list_contracts", "list_credits",
           "remove_contract", "remove_credit", "set_splits", "show_contract", "show_splits"]
