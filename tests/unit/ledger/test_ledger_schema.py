"""Migrations build exactly the models' tables, and upgrading keeps every row."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, insert, select, text

from ledger_support import new_url
from mixdown.db import Base, current_revisions, open_database, upgrade
from mixdown.ledger import models as m
from mixdown.ledger.backup import ledger_tables


def _ledger_only(obj, name, type_, reflected, compare_to) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    tname = name if type_ == "table" else getattr(table, "name", "")
    return str(tname or "").startswith("ledger_")


def test_migrated_schema_matches_the_models(db) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": _ledger_only})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []
    names = {t.name for t in Base.metadata.sorted_tables if t.name.startswith("ledger_")}
    with db.engine.connect() as conn:
        from sqlalchemy import inspect

        present = {t for t in inspect(conn).get_table_names() if t.startswith("ledger_")}
    assert present == names


def test_the_booking_lock_row_is_seeded(db) -> None:
    with db.transaction() as s:
        assert s.execute(select(m.Lock.name)).scalars().all() == ["booking"]


def test_upgrade_from_the_first_schema_keeps_every_row(backend: str, tmp_path: Path,
                                                       request: pytest.FixtureRequest) -> None:
    url = new_url(backend, tmp_path, request, migrated=False)
    db = open_database(url, migrate=False)
    upgrade(db, "ledger_0001")
    assert current_revisions(db) == {"ledger_0001"}
    rows = {
        "ledger_people": [{"id": i, "name": f"P{i}", "roles": "engineer"} for i in range(1, 6)],
        "ledger_rooms": [{"id": 1, "name": "A", "rate_minor": 6000, "currency": "EUR"}],
        "ledger_budgets": [{"id": 1, "name": "EP", "currency": "EUR"}],
        "ledger_songs": [{"id": 1, "name": "S", "budget_id": 1}],
        "ledger_sessions": [{"id": i, "room_id": 1, "budget_id": 1, "notes": "",
                             "start_utc": f"2026-12-0{i} 10:00:00",
                             "end_utc": f"2026-12-0{i} 12:00:00"} for i in range(1, 4)],
        "ledger_session_people": [{"session_id": 1, "person_id": 2}],
        "ledger_session_songs": [{"session_id": 1, "song_id": 1}],
        "ledger_expenses": [{"id": 1, "budget_id": 1, "category": "mixing", "amount_minor": 5,
                             "currency": "EUR", "spent_on": "2026-12-01", "description": ""}],
    }
    with db.engine.begin() as conn:
        for table, values in rows.items():
            from datetime import date, datetime

            for v in values:
                for k in ("start_utc", "end_utc"):
                    if k in v:
                        v[k] = datetime.fromisoformat(v[k])
                if "spent_on" in v:
                    v["spent_on"] = date.fromisoformat(v["spent_on"])
            conn.execute(insert(Base.metadata.tables[table]), values)
    upgrade(db)
    assert "ledger_0002" in current_revisions(db)
    with db.engine.connect() as conn:
        for table, values in rows.items():
            t = Base.metadata.tables[table]
            assert conn.execute(select(func.count()).select_from(t)).scalar() == len(values)
        names = conn.execute(text("SELECT name FROM ledger_people ORDER BY id")).scalars()
        assert list(names) == [f"P{i}" for i in range(1, 6)]
        for t in ledger_tables():  # the new tables are there and empty
            if t.name not in rows and t.name not in m.TABLES_0001:
                assert conn.execute(select(func.count()).select_from(t)).scalar() == 0
    db.close()
