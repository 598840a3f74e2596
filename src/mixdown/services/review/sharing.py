"""Share links: roles, tokens (kept as SHA-256 only) and what a token grants."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select

from mixdown.core.errors import ParameterError
from mixdown.review.errors import Forbidden, NotFound, TokenMissing
from mixdown.review.places import song_folder, valid_song_name
from mixdown.review.tables import ShareLinkRow, SongRow
from mixdown.services.review._common import _iso, _now, _utc, _who
from mixdown.services.review.studio import Studio, _ensure_song

Role = Literal["reviewer", "listener"]
ROLES: dict[str, frozenset[str]] = {
    "reviewer": frozenset({"listen", "compare", "comment", "status"}),
    "listener": frozenset({"listen", "compare"}),
}
"""What each share-link role may do. The owner (signed in) may do everything, including
``render`` and ``upload``."""
OWNER_ACTIONS = frozenset({"listen", "compare", "comment", "status", "render", "upload",
                           "share"})


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
