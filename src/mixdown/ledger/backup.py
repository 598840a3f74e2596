"""Backup and restore: every row of every ledger table, as one JSON document.

Restore runs in one transaction: into an empty ledger, or with ``force`` over an existing
one (its rows are deleted first). A failure leaves the database as it was.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Table, delete, func, insert, select, text

from mixdown.core.files import atomic_path
from mixdown.db import Base, Database
from mixdown.db.migrate import current_revisions
from mixdown.ledger import models  # noqa: F401  (declares the tables on Base)
from mixdown.ledger.errors import ConflictError, LedgerError

FORMAT = "mixdown-ledger-backup"
VERSION = 1


def ledger_tables() -> list[Table]:
    """The ledger's tables, parents before children (the lock table is not data)."""
    return [t for t in Base.metadata.sorted_tables
            if t.name.startswith("ledger_") and t.name != "ledger_locks"]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def backup(db: Database, path: str | Path) -> dict[str, int]:
    """Write every ledger row to ``path`` (atomically); returns the row count per table."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with db.transaction() as s:
        for t in ledger_tables():
            pk = list(t.primary_key.columns)
            rows = s.execute(select(t).order_by(*pk)).mappings()
            tables[t.name] = [{k: _plain(v) for k, v in r.items()} for r in rows]
    doc = {"format": FORMAT, "version": VERSION,
           "revisions": sorted(r for r in current_revisions(db) if r.startswith("ledger_")),
           "tables": tables}
    p = Path(path)
    with atomic_path(p) as tmp:
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {k: len(v) for k, v in tables.items()}


def _typed(t: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    extra = set(row) - {c.name for c in t.columns}
    if extra:
        raise ValueError(f"unknown column(s) {', '.join(sorted(extra))}")
    for c in t.columns:
        if c.name not in row:
            raise ValueError(f"a row lacks the column {c.name}")
        v = row[c.name]
        if v is not None and isinstance(c.type, DateTime):
            v = datetime.fromisoformat(v)
        elif v is not None and isinstance(c.type, Date):
            v = date.fromisoformat(v)
        out[c.name] = v
    return out


def restore(db: Database, path: str | Path, *, force: bool = False) -> dict[str, int]:
    """Load a backup; returns the row count per table.

    Raises
    ------
    LedgerError
        Not a ledger backup, or one from a newer schema.
    ConflictError
        The ledger has rows and ``force`` is False.
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise LedgerError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise LedgerError(f"{p}: not a ledger backup (not JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT \
            or not isinstance(doc.get("tables"), dict):
        raise LedgerError(f"{p}: not a ledger backup (no {FORMAT!r} header)")
    if doc.get("version") != VERSION:
        raise LedgerError(f"{p}: backup version {doc.get('version')!r}; this mixdown reads "
                          f"version {VERSION}")
    tables = ledger_tables()
    known = {t.name for t in tables}
    unknown = set(doc["tables"]) - known
    if unknown:
        raise LedgerError(f"{p}: tables this mixdown does not know: {', '.join(sorted(unknown))}"
                          " (a backup from a newer version?)")
    counts: dict[str, int] = {}
    with db.transaction() as s:
        present = sum(s.execute(select(func.count()).select_from(t)).scalar_one()
                      for t in tables)
        if present and not force:
            raise ConflictError(f"the ledger already has {present} row(s); restore into an "
                                "empty database, or add --force to replace them")
        for t in reversed(tables):
            s.execute(delete(t))
        for t in tables:
            rows = doc["tables"].get(t.name, [])
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise LedgerError(f"{p}: table {t.name} is not a list of rows")
            try:
                typed = [_typed(t, r) for r in rows]
            except (TypeError, ValueError) as exc:
                raise LedgerError(f"{p}: table {t.name}: bad value ({exc})") from None
            if typed:
                s.execute(insert(t), typed)
            counts[t.name] = len(typed)
        if db.engine.dialect.name == "postgresql":
            for t in tables:
                if "id" in t.columns and counts.get(t.name):
                    s.execute(text(f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                                   f"(SELECT max(id) FROM {t.name}))"))
    return counts


__all__ = ["FORMAT", "VERSION", "backup", "ledger_tables", "restore"]
