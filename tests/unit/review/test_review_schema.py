"""The review migrations build exactly the tables the models declare, and go down again."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import mixdown.review.tables  # noqa: F401 - registers the review tables on Base
from mixdown.db import Base, current_revisions, open_database
from mixdown.db.migrate import alembic_config

REVIEW_TABLES = {"review_songs", "review_versions", "review_status_changes",
                 "review_comments", "review_references", "review_share_links"}


def _review_only(diff: object) -> bool:
    """True for a difference that concerns a review_ table."""
    text = repr(diff)
    return "review_" in text


def test_migrated_schema_equals_the_models(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 's.db'}")
    assert "review_0001" in current_revisions(db)
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, Base.metadata) if _review_only(d)]
    assert diffs == []
    assert set(inspect(db.engine).get_table_names()) >= REVIEW_TABLES
    db.close()


def test_review_tables_are_the_models_tables() -> None:
    declared = {t for t in Base.metadata.tables if t.startswith("review_")}
    assert declared == REVIEW_TABLES


def test_downgrade_removes_the_review_tables_and_upgrade_restores_them(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'd.db'}")
    cfg = alembic_config(db)
    command.downgrade(cfg, "review@base_0001")
    names = set(inspect(db.engine).get_table_names())
    assert not (REVIEW_TABLES & names)
    assert "mixdown_meta" in names
    command.upgrade(cfg, "heads")
    assert set(inspect(db.engine).get_table_names()) >= REVIEW_TABLES
    db.close()
