"""The database seam: which URL is used, SQLite set-up, migrations applied once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from mixdown.db import DEFAULT_FILENAME, ENV_VAR, current_revisions, database_url, open_database
from mixdown.db.database import DatabaseError


def test_url_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert database_url(None, tmp_path) == f"sqlite:///{tmp_path.resolve() / DEFAULT_FILENAME}"
    monkeypatch.setenv(ENV_VAR, "sqlite:////elsewhere.db")
    assert database_url(None, tmp_path) == "sqlite:////elsewhere.db"
    assert database_url("postgresql+psycopg://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"


def test_new_sqlite_database_is_migrated_in_wal_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    db = open_database(url)
    # the heads of every chain: base_0001, or the chains built on it (ledger_..., review_...)
    heads = current_revisions(db)
    assert heads and all(h == "base_0001" or not h.startswith("base_") for h in heads)
    with db.transaction() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        rows = s.execute(text("SELECT value FROM mixdown_meta WHERE key='created_by'")).all()
    assert rows == [("mixdown",)]
    db.close()
    again = open_database(url)  # a second open applies nothing twice
    with again.transaction() as s:
        assert s.execute(text("SELECT count(*) FROM mixdown_meta")).scalar() == 1
    again.close()


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'r.db'}")
    with pytest.raises(RuntimeError), db.transaction() as s:
        s.execute(text("INSERT INTO mixdown_meta(key, value) VALUES ('a', 'b')"))
        raise RuntimeError("half-way")
    with db.transaction() as s:
        assert s.execute(text("SELECT count(*) FROM mixdown_meta WHERE key='a'")).scalar() == 0
    db.close()


def test_bad_url_is_one_clear_error() -> None:
    with pytest.raises(DatabaseError, match="database"):
        open_database("nosuchdialect://x/y")
