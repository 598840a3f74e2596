"""Comments pinned to bar:beat, shown in each version's time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from mixdown.core.errors import MixdownError, ParameterError
from mixdown.review.errors import NotFound
from mixdown.review.tables import CommentRow, SongRow, VersionRow
from mixdown.review.timing import SongTiming, check_bar_beat
from mixdown.services.review._common import _iso, _now, _utc, _who
from mixdown.services.review.player import _timing
from mixdown.services.review.studio import Studio
from mixdown.services.review.versions import Version

MAX_COMMENT_CHARS = 5000


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
