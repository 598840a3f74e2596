"""The review studio's tables (``review_`` prefix) on the shared :class:`mixdown.db.Base`.

Songs are project folders under the songs folder, named by their folder. A version is
immutable once written: audio, QC report, song.toml snapshot, note, time. Comments are
stored in bars and beats (never seconds), so they keep their musical place when a later
version changes the tempo. Share tokens are stored as SHA-256 hashes only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mixdown.db.base import Base

NAME_LEN = 255
WHO_LEN = 128


class SongRow(Base):
    """A song: one project folder under the songs folder."""

    __tablename__ = "review_songs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VersionRow(Base):
    """An immutable rendered version of a song (its files live in the versions store)."""

    __tablename__ = "review_versions"
    __table_args__ = (UniqueConstraint("song_id", "number", name="uq_review_versions_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    song_id: Mapped[int] = mapped_column(ForeignKey("review_songs.id", ondelete="CASCADE"),
                                         index=True)
    number: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(WHO_LEN))
    folder: Mapped[str] = mapped_column(String(512))
    audio_file: Mapped[str] = mapped_column(String(64))
    audio_format: Mapped[str] = mapped_column(String(16))
    sample_rate: Mapped[int] = mapped_column(Integer)
    channels: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer)
    integrated_lufs: Mapped[float | None] = mapped_column(Float, nullable=True)
    true_peak_dbtp: Mapped[float | None] = mapped_column(Float, nullable=True)
    loudness_range_lu: Mapped[float | None] = mapped_column(Float, nullable=True)
    title: Mapped[str] = mapped_column(String(NAME_LEN))
    tempo: Mapped[float] = mapped_column(Float)
    song_toml: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    status_by: Mapped[str | None] = mapped_column(String(WHO_LEN), nullable=True)
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StatusChangeRow(Base):
    """One status change of a version: who set what, and when (the history)."""

    __tablename__ = "review_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("review_versions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    by: Mapped[str] = mapped_column(String(WHO_LEN))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CommentRow(Base):
    """A comment pinned to bar:beat (optionally to a range), made on one version."""

    __tablename__ = "review_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    song_id: Mapped[int] = mapped_column(ForeignKey("review_songs.id", ondelete="CASCADE"),
                                         index=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("review_versions.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_comments.id", ondelete="CASCADE"), nullable=True)
    bar: Mapped[int] = mapped_column(Integer)
    beat: Mapped[float] = mapped_column(Float)
    end_bar: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_beat: Mapped[float | None] = mapped_column(Float, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(WHO_LEN))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(WHO_LEN), nullable=True)


class ReferenceRow(Base):
    """A reference track uploaded for a song (decoded and measured when accepted)."""

    __tablename__ = "review_references"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    song_id: Mapped[int] = mapped_column(ForeignKey("review_songs.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN))
    folder: Mapped[str] = mapped_column(String(512))
    audio_file: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sample_rate: Mapped[int] = mapped_column(Integer)
    channels: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer)
    integrated_lufs: Mapped[float | None] = mapped_column(Float, nullable=True)
    true_peak_dbtp: Mapped[float | None] = mapped_column(Float, nullable=True)
    loudness_range_lu: Mapped[float | None] = mapped_column(Float, nullable=True)


class ShareLinkRow(Base):
    """A review link for one song: the SHA-256 of its token, a role, and whether revoked."""

    __tablename__ = "review_share_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    song_id: Mapped[int] = mapped_column(ForeignKey("review_songs.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(NAME_LEN))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(WHO_LEN))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                        nullable=True)


__all__ = ["CommentRow", "ReferenceRow", "ShareLinkRow", "SongRow", "StatusChangeRow",
           "VersionRow"]
