"""The one database of the studio and the ledger: URL choice, engine, schema migrations.

Tables are declared by the packages that own them (``review``, ``ledger``) on
:class:`Base`; their Alembic migrations live in ``db/migrations/versions`` and are applied
by :func:`upgrade`. SQLite needs no set-up; PostgreSQL is used when the URL names it.
"""

from __future__ import annotations

from mixdown.db.base import Base
from mixdown.db.database import (
    DEFAULT_FILENAME,
    ENV_VAR,
    Database,
    database_url,
    open_database,
)
from mixdown.db.migrate import current_revisions, upgrade

__all__ = [
    "DEFAULT_FILENAME",
    "ENV_VAR",
    "Base",
    "Database",
    "current_revisions",
    "database_url",
    "open_database",
    "upgrade",
]
