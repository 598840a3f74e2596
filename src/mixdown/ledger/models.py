"""The ledger's tables (all prefixed ``ledger_``), declared on :class:`mixdown.db.Base`.

Times are naive UTC; money is integer minor units beside an ISO 4217 code; shares are
basis points. The migrations in ``db/migrations/versions/ledger_*.py`` build exactly this.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mixdown.db import Base

NAME = 200
"""Longest name (people, rooms, songs, releases...)."""


class Lock(Base):
    """One row per lock; a booking writes its row first, so bookings run one at a time."""

    __tablename__ = "ledger_locks"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)


class Person(Base):
    """A person: engineer, musician, writer, producer..."""

    __tablename__ = "ledger_people"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    roles: Mapped[str] = mapped_column(String(500), default="")
    """Comma-separated roles, lower case."""
    email: Mapped[str | None] = mapped_column(String(NAME))
    phone: Mapped[str | None] = mapped_column(String(64))
    pro: Mapped[str | None] = mapped_column(String(64))
    """Performing rights organisation (PRS, ASCAP, GEMA...)."""
    ipi: Mapped[str | None] = mapped_column(String(11))
    """IPI name number (9 to 11 digits)."""


class Studio(Base):
    """A studio, with rooms."""

    __tablename__ = "ledger_studios"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    address: Mapped[str | None] = mapped_column(String(500))


class Room(Base):
    """A bookable room with an hourly rate."""

    __tablename__ = "ledger_rooms"
    __table_args__ = (CheckConstraint("rate_minor >= 0", name="rate_nonneg"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    studio_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_studios.id"))
    rate_minor: Mapped[int] = mapped_column(BigInteger)
    """Per hour, in minor units of ``currency``."""
    currency: Mapped[str] = mapped_column(String(3))


class Budget(Base):
    """A production's money (an EP, an album): budget lines and expenses in one currency."""

    __tablename__ = "ledger_budgets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    currency: Mapped[str] = mapped_column(String(3))


class Song(Base):
    """A song, optionally linked to a mixdown project folder (and a version of it)."""

    __tablename__ = "ledger_songs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    project_path: Mapped[str | None] = mapped_column(String(1000))
    project_version: Mapped[str | None] = mapped_column(String(NAME))
    budget_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_budgets.id"), index=True)


class Session(Base):
    """A recording session: a room from ``start`` to ``end`` (UTC), people and songs."""

    __tablename__ = "ledger_sessions"
    __table_args__ = (
        CheckConstraint("end_utc > start_utc", name="end_after_start"),
        Index("ix_ledger_sessions_room_start", "room_id", "start_utc"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("ledger_rooms.id"))
    start_utc: Mapped[datetime] = mapped_column(DateTime, index=True)
    end_utc: Mapped[datetime] = mapped_column(DateTime)
    budget_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_budgets.id"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")


class SessionPerson(Base):
    """Who is booked on a session."""

    __tablename__ = "ledger_session_people"
    session_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_sessions.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("ledger_people.id"), primary_key=True,
                                           index=True)


class SessionSong(Base):
    """Which songs a session works on."""

    __tablename__ = "ledger_session_songs"
    session_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_sessions.id", ondelete="CASCADE"), primary_key=True)
    song_id: Mapped[int] = mapped_column(ForeignKey("ledger_songs.id"), primary_key=True,
                                         index=True)


class BudgetLine(Base):
    """What a budget plans to spend on a category (optionally for one song)."""

    __tablename__ = "ledger_budget_lines"
    __table_args__ = (CheckConstraint("amount_minor >= 0", name="amount_nonneg"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("ledger_budgets.id"), index=True)
    category: Mapped[str] = mapped_column(String(NAME))
    song_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_songs.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class Expense(Base):
    """Money spent, in the budget's currency."""

    __tablename__ = "ledger_expenses"
    __table_args__ = (CheckConstraint("amount_minor >= 0", name="amount_nonneg"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("ledger_budgets.id"), index=True)
    category: Mapped[str] = mapped_column(String(NAME))
    song_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_songs.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    spent_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(500), default="")


# --- ledger_0002: invoices, credits, splits, contracts, releases ---------------------------


class Invoice(Base):
    """An invoice to a party, in one currency."""

    __tablename__ = "ledger_invoices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    party: Mapped[str] = mapped_column(String(NAME))
    issued: Mapped[date] = mapped_column(Date)
    due: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="draft")


class InvoiceLine(Base):
    """One line of an invoice (a session's room hours, or anything typed)."""

    __tablename__ = "ledger_invoice_lines"
    __table_args__ = (CheckConstraint("amount_minor >= 0", name="amount_nonneg"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_sessions.id"))


class Credit(Base):
    """A role of a person on a song (``source``: manual, session or split)."""

    __tablename__ = "ledger_credits"
    __table_args__ = (UniqueConstraint("song_id", "person_id", "role",
                                       name="uq_ledger_credits_song_person_role"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    song_id: Mapped[int] = mapped_column(ForeignKey("ledger_songs.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("ledger_people.id"))
    role: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="manual")


class Split(Base):
    """One share of a song's split sheet: a writer (a person) or a publisher, in basis points."""

    __tablename__ = "ledger_splits"
    __table_args__ = (
        UniqueConstraint("song_id", "kind", "party", name="uq_ledger_splits_song_kind_party"),
        CheckConstraint("share_bp > 0 AND share_bp <= 10000", name="share_range"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    song_id: Mapped[int] = mapped_column(ForeignKey("ledger_songs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(NAME))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_people.id"))
    share_bp: Mapped[int] = mapped_column(Integer)


class Contract(Base):
    """A contract or licence: party, territory, term, fee, status, expiry."""

    __tablename__ = "ledger_contracts"
    __table_args__ = (CheckConstraint("fee_minor >= 0", name="fee_nonneg"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(NAME), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(NAME))
    territory: Mapped[str] = mapped_column(String(NAME), default="World")
    starts: Mapped[date] = mapped_column(Date)
    expires: Mapped[date | None] = mapped_column(Date, index=True)
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    song_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_songs.id"))


class Release(Base):
    """A release: title, artist, UPC, date, distributor, the platform it is delivered for."""

    __tablename__ = "ledger_releases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(NAME), unique=True)
    artist: Mapped[str] = mapped_column(String(NAME))
    upc: Mapped[str | None] = mapped_column(String(13))
    release_date: Mapped[date | None] = mapped_column(Date)
    distributor: Mapped[str | None] = mapped_column(String(NAME))
    platform: Mapped[str | None] = mapped_column(String(64))
    """The delivery target the audio must pass (``spotify``...); None: every target."""
    artwork: Mapped[str | None] = mapped_column(String(1000))
    artwork_min_px: Mapped[int] = mapped_column(Integer, default=3000)


class ReleaseTrack(Base):
    """A track of a release: a song with its ISRC and the delivery folder of its audio."""

    __tablename__ = "ledger_release_tracks"
    __table_args__ = (UniqueConstraint("release_id", "position",
                                       name="uq_ledger_release_tracks_release_position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_releases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    song_id: Mapped[int] = mapped_column(ForeignKey("ledger_songs.id"))
    isrc: Mapped[str] = mapped_column(String(12))
    delivery: Mapped[str | None] = mapped_column(String(1000))


TABLES_0001 = ("ledger_locks", "ledger_people", "ledger_studios", "ledger_rooms",
               "ledger_budgets", "ledger_songs", "ledger_sessions", "ledger_session_people",
               "ledger_session_songs", "ledger_budget_lines", "ledger_expenses")

__all__ = ["NAME", "TABLES_0001", "Budget", "BudgetLine", "Contract", "Credit", "Expense",
           "Invoice", "InvoiceLine", "Lock", "Person", "Release", "ReleaseTrack", "Room",
           "Session", "SessionPerson", "SessionSong", "Song", "Split", "Studio"]
