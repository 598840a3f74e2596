"""The ledger's API, for the CLI and the web studio.

Every function takes an open :class:`~mixdown.db.Database` (see :func:`open_ledger`) and
returns frozen records with ``as_dict()``. Values are given as people type them (strings:
``"60"``, ``"2026-12-01T10:00"``, ``"Ana Ruiz=60"``) and parsed by mixdown; a bad one raises
:class:`~mixdown.ledger.errors.LedgerError` (``NotFoundError`` 404, ``ConflictError`` 409,
the rest 422) and changes nothing: every call is one transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from mixdown.core.files import atomic_path
from mixdown.db import Database, database_url, open_database
from mixdown.db.database import DatabaseError
from mixdown.ledger import backup as _backup
from mixdown.ledger import booking as _booking
from mixdown.ledger import directory as _directory
from mixdown.ledger import documents as _documents
from mixdown.ledger import money as _money
from mixdown.ledger import releases as _releases
from mixdown.ledger import rights as _rights
from mixdown.ledger.booking import SessionRecord
from mixdown.ledger.calendar import sessions_ics
from mixdown.ledger.directory import (
    BudgetRecord,
    PersonRecord,
    RoomRecord,
    SongRecord,
    StudioRecord,
)
from mixdown.ledger.errors import ConflictError, LedgerError, NotFoundError
from mixdown.ledger.money import (
    BudgetLineRecord,
    BudgetReport,
    CategoryRow,
    ExpenseRecord,
    InvoiceLineRecord,
    InvoiceRecord,
)
from mixdown.ledger.releases import CheckItem, ReleaseCheck, ReleaseRecord, TrackRecord
from mixdown.ledger.rights import ContractRecord, CreditRecord, Share, SplitSheet
from mixdown.ledger.values import format_money, parse_positive_int, share_text

F = TypeVar("F", bound=Callable[..., Any])


def _guard(fn: F) -> F:
    """Database trouble as one-line errors: a constraint broken by a race is a conflict."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except IntegrityError as exc:
            first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ConflictError(f"the database refused the change: {first}") from exc
        except OperationalError as exc:
            first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise DatabaseError(f"database: {first}") from exc
        except SQLAlchemyError as exc:
            raise DatabaseError(f"database: {type(exc).__name__}: {exc}".splitlines()[0]) \
                from exc

    return wrapper  # type: ignore[return-value]


def open_ledger(url: str | None = None, folder: str | Path = ".") -> Database:
    """Open the ledger's database: ``url``, else ``$MIXDOWN_DATABASE_URL``, else
    ``mixdown.db`` in ``folder``; migrated to the newest schema."""
    return open_database(database_url(url, folder))


# people, studios, rooms, budgets, songs
add_person = _guard(_directory.add_person)
edit_person = _guard(_directory.edit_person)
list_people = _guard(_directory.list_people)
show_person = _guard(_directory.show_person)
remove_person = _guard(_directory.remove_person)
add_studio = _guard(_directory.add_studio)
list_studios = _guard(_directory.list_studios)
remove_studio = _guard(_directory.remove_studio)
add_room = _guard(_directory.add_room)
edit_room = _guard(_directory.edit_room)
list_rooms = _guard(_directory.list_rooms)
show_room = _guard(_directory.show_room)
remove_room = _guard(_directory.remove_room)
add_budget = _guard(_directory.add_budget)
list_budgets = _guard(_directory.list_budgets)
remove_budget = _guard(_directory.remove_budget)
add_song = _guard(_directory.add_song)
edit_song = _guard(_directory.edit_song)
list_songs = _guard(_directory.list_songs)
show_song = _guard(_directory.show_song)
remove_song = _guard(_directory.remove_song)
# sessions
book_session = _guard(_booking.book_session)
edit_session = _guard(_booking.edit_session)
list_sessions = _guard(_booking.list_sessions)
show_session = _guard(_booking.show_session)
cancel_session = _guard(_booking.cancel_session)
# money
add_budget_line = _guard(_money.add_budget_line)
list_budget_lines = _guard(_money.list_budget_lines)
add_expense = _guard(_money.add_expense)
list_expenses = _guard(_money.list_expenses)
remove_expense = _guard(_money.remove_expense)
budget_report = _guard(_money.budget_report)
add_invoice = _guard(_money.add_invoice)
set_invoice_status = _guard(_money.set_invoice_status)
list_invoices = _guard(_money.list_invoices)
show_invoice = _guard(_money.show_invoice)
remove_invoice = _guard(_money.remove_invoice)
# credits, splits, contracts
add_credit = _guard(_rights.add_credit)
derive_credits = _guard(_rights.derive_credits)
list_credits = _guard(_rights.list_credits)
remove_credit = _guard(_rights.remove_credit)
set_splits = _guard(_rights.set_splits)
show_splits = _guard(_rights.show_splits)
add_contract = _guard(_rights.add_contract)
edit_contract = _guard(_rights.edit_contract)
list_contracts = _guard(_rights.list_contracts)
show_contract = _guard(_rights.show_contract)
remove_contract = _guard(_rights.remove_contract)
# releases
add_release = _guard(_releases.add_release)
edit_release = _guard(_releases.edit_release)
list_releases = _guard(_releases.list_releases)
show_release = _guard(_releases.show_release)
remove_release = _guard(_releases.remove_release)
check_release = _guard(_releases.check_release)


# --- files ---------------------------------------------------------------------------------


def _write(path: str | Path, data: str | bytes) -> Path:
    p = Path(path)
    with atomic_path(p) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8", newline="")
    return p


@_guard
def write_calendar(db: Database, path: str | Path, *, start: str | datetime | None = None,
                   end: str | datetime | None = None, room: str | None = None,
                   person: str | None = None) -> tuple[SessionRecord, ...]:
    """Write the sessions overlapping ``[start, end)`` as an ICS calendar; returns them."""
    sessions = _booking.list_sessions(db, start=start, end=end, room=room, person=person)
    _write(path, sessions_ics(sessions))
    return sessions


@_guard
def write_invoice(db: Database, number: str, *, html: str | Path | None = None,
                  pdf: str | Path | None = None) -> InvoiceRecord:
    """Write an invoice as HTML and/or PDF."""
    inv = _money.show_invoice(db, number)
    if html:
        _write(html, _documents.invoice_html(inv))
    if pdf:
        _write(pdf, _documents.invoice_pdf(inv))
    return inv


@_guard
def write_split_sheet(db: Database, song: str, *, html: str | Path | None = None,
                      pdf: str | Path | None = None) -> SplitSheet:
    """Write a song's split sheet (with its credits) as HTML and/or PDF."""
    sheet = _rights.show_splits(db, song)
    if not sheet.writers:
        raise LedgerError(f"song {song!r} has no split sheet (split set {song!r} --writer ...)")
    credits = _rights.list_credits(db, song)
    if html:
        _write(html, _documents.split_sheet_html(sheet, credits))
    if pdf:
        _write(pdf, _documents.split_sheet_pdf(sheet, credits))
    return sheet


@_guard
def write_budget_report(db: Database, budget: str, *, csv: str | Path | None = None,
                        chart: str | Path | None = None) -> BudgetReport:
    """Budget vs actual, written as CSV and/or a chart (PNG/SVG by suffix)."""
    report = _money.budget_report(db, budget)
    if csv:
        _write(csv, _documents.budget_csv(report))
    if chart:
        p = Path(chart)
        if p.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise LedgerError(f"{p}: a chart is .png, .svg or .pdf")
        with atomic_path(p) as tmp:
            _documents.budget_chart(report, tmp, p.suffix.lower().lstrip("."))
    return report


@_guard
def budget_chart(db: Database, budget: str, fmt: str = "svg") -> bytes:
    """Budget vs actual as a chart image in memory (``fmt``: svg or png), for the studio."""
    import io

    if fmt not in ("svg", "png"):
        raise LedgerError(f"a budget chart is svg or png, not {fmt!r}")
    report = _money.budget_report(db, budget)
    buf = io.BytesIO()
    _documents.budget_chart(report, buf, fmt)  # type: ignore[arg-type]
    return buf.getvalue()


def _release_credits(db: Database, r: ReleaseRecord) -> dict[str, tuple[CreditRecord, ...]]:
    return {t.song: _rights.list_credits(db, t.song) for t in r.tracks}


@_guard
def export_release(db: Database, title: str, *, json: str | Path | None = None,
                   csv: str | Path | None = None, ddex: str | Path | None = None
                   ) -> ReleaseRecord:
    """Write a release's metadata as JSON, CSV and/or DDEX ERN 4-style XML."""
    r = _releases.show_release(db, title)
    credits = _release_credits(db, r)
    if json:
        _write(json, _documents.release_json(r, credits))
    if csv:
        _write(csv, _documents.release_csv(r))
    if ddex:
        _write(ddex, _documents.release_ddex(r, credits))
    return r


@_guard
def backup_ledger(db: Database, path: str | Path) -> dict[str, int]:
    """Write every ledger row to ``path``; returns the rows per table."""
    return _backup.backup(db, path)


@_guard
def restore_ledger(db: Database, path: str | Path, *, force: bool = False) -> dict[str, int]:
    """Load a backup (into an empty ledger, or over one with ``force``)."""
    return _backup.restore(db, path, force=force)


__all__ = [
    "BudgetLineRecord", "BudgetRecord", "BudgetReport", "CategoryRow", "CheckItem",
    "ConflictError", "ContractRecord", "CreditRecord", "Database", "ExpenseRecord",
    "InvoiceLineRecord", "InvoiceRecord", "LedgerError", "NotFoundError", "PersonRecord",
    "ReleaseCheck", "ReleaseRecord", "RoomRecord", "SessionRecord", "Share", "SongRecord",
    "SplitSheet", "StudioRecord", "TrackRecord", "add_budget", "add_budget_line", "add_contract",
    "add_credit", "add_expense", "add_invoice", "add_person", "add_release", "add_room",
    "add_song", "add_studio", "backup_ledger", "book_session", "budget_chart",
    "budget_report", "cancel_session",
    "check_release", "derive_credits", "edit_contract", "edit_person", "edit_release", "edit_room",
    "edit_session", "edit_song", "export_release", "format_money", "list_budget_lines",
    "list_budgets", "list_contracts", "list_credits", "list_expenses", "list_invoices",
    "list_people", "list_releases", "list_rooms", "list_sessions", "list_songs", "list_studios",
    "open_ledger", "parse_positive_int", "remove_budget", "remove_contract", "remove_credit",
    "remove_expense", "remove_invoice", "remove_person", "remove_release", "remove_room",
    "remove_song", "remove_studio", "restore_ledger", "set_invoice_status", "set_splits",
    "share_text", "show_contract", "show_invoice", "show_person", "show_release", "show_room",
    "show_session", "show_splits", "write_budget_report", "write_calendar", "write_invoice",
    "write_split_sheet"
]
