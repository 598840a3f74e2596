"""Finding rows by the names people type, with a clear message when a name is unknown."""

from __future__ import annotations

import difflib
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mixdown.ledger.errors import ConflictError, NotFoundError

T = TypeVar("T")


def by_name(s: Session, model: type[T], name: str, what: str, *, column: str = "name") -> T:
    """The row of ``model`` whose ``column`` is ``name``.

    Raises
    ------
    NotFoundError
        No such row; the message names the closest known ones.
    """
    col: Any = getattr(model, column)
    row = s.execute(select(model).where(col == name)).scalar_one_or_none()
    if row is not None:
        return row
    known = [n for (n,) in s.execute(select(col).limit(5000))]
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else (
        f"; known: {', '.join(repr(k) for k in sorted(known)[:10])}" if known
        else f"; there are none yet (add one with `mixdown ledger {what} add`)")
    raise NotFoundError(f"unknown {what} {name!r}{hint}")


def by_id(s: Session, model: type[T], ident: int, what: str) -> T:
    """The row of ``model`` with primary key ``ident``."""
    row = s.get(model, ident)
    if row is None:
        raise NotFoundError(f"unknown {what} {ident}")
    return row


def taken(s: Session, model: type[Any], name: str, what: str, *, column: str = "name",
          exclude_id: int | None = None) -> None:
    """Raise ConflictError if ``name`` is already used by another row."""
    col = getattr(model, column)
    q = select(model.id).where(col == name)
    if exclude_id is not None:
        q = q.where(model.id != exclude_id)
    if s.execute(q).first() is not None:
        raise ConflictError(f"{what} {name!r} already exists")


def integrity(exc: IntegrityError, what: str) -> ConflictError:
    """A database constraint broken by a race, as one line."""
    return ConflictError(f"{what}: the database refused the change "
                         f"({str(exc.orig).strip().splitlines()[0]})")


__all__ = ["by_id", "by_name", "integrity", "taken"]
