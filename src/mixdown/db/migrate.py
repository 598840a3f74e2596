"""Alembic, run from code: the migration scripts ship inside the package.

Each owning package keeps its own chain of revisions (``review_0001``, ``ledger_0001`` ...),
all starting from ``base_0001``; :func:`upgrade` applies every head, so the chains never
need merging.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

if TYPE_CHECKING:
    from mixdown.db.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")

# Alembic keeps module-level state while it runs: one upgrade at a time in a process.
_UPGRADING = threading.Lock()


def alembic_config(db: Database) -> Config:
    """An Alembic config pointing at our scripts and ``db``'s engine."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = db.engine
    return cfg


def upgrade(db: Database, revision: str = "heads") -> None:
    """Apply every migration up to ``revision`` (default: all heads) in one transaction each."""
    with _UPGRADING:
        command.upgrade(alembic_config(db), revision)


def current_revisions(db: Database) -> set[str]:
    """The revisions the database is at (empty for a new database)."""
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


__all__ = ["MIGRATIONS", "alembic_config", "current_revisions", "upgrade"]
