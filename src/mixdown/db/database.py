"""Which database to open, and opening it (SQLite in WAL mode, or PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from mixdown.core.errors import MixdownError

ENV_VAR = "MIXDOWN_DATABASE_URL"
DEFAULT_FILENAME = "mixdown.db"


class DatabaseError(MixdownError):
    """The database cannot be opened or migrated."""

    http_status = 503


def database_url(explicit: str | None = None, folder: str | Path = ".") -> str:
    """The URL to use: ``explicit``, else ``$MIXDOWN_DATABASE_URL``, else SQLite in ``folder``.

    Parameters
    ----------
    explicit
        A URL given on the command line (``--database``), or None.
    folder
        Where the default ``mixdown.db`` lives (the current folder; for ``serve``, the songs
        folder).
    """
    if explicit:
        return explicit
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    return f"sqlite:///{(Path(folder) / DEFAULT_FILENAME).resolve()}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


@dataclass(frozen=True)
class Database:
    """An open database: its engine and a session factory."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        """True for SQLite, False for PostgreSQL and the rest."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose changes are committed together at the end, or not at all."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open ``url`` and bring its schema up to date (``migrate=False`` to leave it).

    Raises
    ------
    DatabaseError
        The URL is malformed, the server does not answer, or a migration fails.
    """
    try:
        engine = create_engine(url, future=True, pool_pre_ping=True)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise DatabaseError(f"database {_safe(url)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    db = Database(url, engine, sessionmaker(engine, expire_on_commit=False))
    if migrate:
        from mixdown.db.migrate import upgrade

        try:
            upgrade(db)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise DatabaseError(f"database {_safe(url)}: {_first_line(exc)}") from exc
    return db


def _safe(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(malformed URL)"


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


__all__ = ["DEFAULT_FILENAME", "ENV_VAR", "Database", "DatabaseError", "database_url",
           "open_database"]
