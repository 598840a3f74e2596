"""Budgets against what was spent, expenses, invoices.

Actual spending of a budget = its expenses + the room cost of its sessions (category
``studio``). Room costs in another currency than the budget's are not converted: they are
left out with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as OrmSession

from mixdown.db import Database
from mixdown.ledger import models as m
from mixdown.ledger.booking import session_cost
from mixdown.ledger.errors import LedgerError
from mixdown.ledger.lookup import by_id, by_name, taken
from mixdown.ledger.values import (
    check_text,
    format_money,
    parse_currency,
    parse_date,
    parse_money,
    parse_positive_int,
)

STUDIO_CATEGORY = "studio"
INVOICE_STATUSES = ("draft", "sent", "paid", "void")


@dataclass(frozen=True, slots=True)
class BudgetLineRecord:
    """A planned amount for a category."""

    id: int
    budget: str
    category: str
    song: str | None
    amount_minor: int
    currency: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"id": self.id, "budget": self.budget, "category": self.category,
                "song": self.song, "amount_minor": self.amount_minor, "currency": self.currency,
                "amount": format_money(self.amount_minor, self.currency)}


@dataclass(frozen=True, slots=True)
class ExpenseRecord:
    """Money spent."""

    id: int
    budget: str
    category: str
    song: str | None
    amount_minor: int
    currency: str
    spent_on: date
    description: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"id": self.id, "budget": self.budget, "category": self.category,
                "song": self.song, "amount_minor": self.amount_minor, "currency": self.currency,
                "amount": format_money(self.amount_minor, self.currency),
                "spent_on": self.spent_on.isoformat(), "description": self.description}


@dataclass(frozen=True, slots=True)
class CategoryRow:
    """Budget against actual for one category (minor units)."""

    category: str
    budget_minor: int
    actual_minor: int

    @property
    def remaining_minor(self) -> int:
        """Budget minus actual (negative: over budget)."""
        return self.budget_minor - self.actual_minor

    @property
    def over(self) -> bool:
        """More spent than budgeted."""
        return self.actual_minor > self.budget_minor

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"category": self.category, "budget_minor": self.budget_minor,
                "actual_minor": self.actual_minor, "remaining_minor": self.remaining_minor,
                "over": self.over}


@dataclass(frozen=True, slots=True)
class BudgetReport:
    """A budget against actual spending, per category, with overrun warnings."""

    budget: str
    currency: str
    rows: tuple[CategoryRow, ...]
    warnings: tuple[str, ...]

    @property
    def budget_minor(self) -> int:
        """Total budgeted."""
        return sum(r.budget_minor for r in self.rows)

    @property
    def actual_minor(self) -> int:
        """Total spent."""
        return sum(r.actual_minor for r in self.rows)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"budget": self.budget, "currency": self.currency,
                "rows": [r.as_dict() for r in self.rows], "budget_minor": self.budget_minor,
                "actual_minor": self.actual_minor,
                "remaining_minor": self.budget_minor - self.actual_minor,
                "warnings": list(self.warnings)}


def _category(text: str) -> str:
    return check_text(text, "category", limit=100).lower()


def _song_id(s: OrmSession, song: str | None) -> int | None:
    return by_name(s, m.Song, song, "song").id if song else None


def add_budget_line(db: Database, budget: str, *, category: str, amount: str,
                    song: str | None = None) -> BudgetLineRecord:
    """Plan ``amount`` (in the budget's currency, as typed) for ``category``."""
    cat = _category(category)
    with db.transaction() as s:
        b = by_name(s, m.Budget, budget, "budget")
        row = m.BudgetLine(budget_id=b.id, category=cat, song_id=_song_id(s, song),
                           amount_minor=parse_money(amount, b.currency))
        s.add(row)
        s.flush()
        return BudgetLineRecord(row.id, b.name, cat, song, row.amount_minor, b.currency)


def add_expense(db: Database, budget: str, *, category: str, amount: str, currency: str,
                spent_on: str, description: str = "", song: str | None = None
                ) -> ExpenseRecord:
    """Record money spent; the currency must be the budget's."""
    cat = _category(category)
    cur = parse_currency(currency)
    minor = parse_money(amount, cur)
    day = parse_date(spent_on, "date")
    text = check_text(description, "description", limit=500, required=False)
    with db.transaction() as s:
        b = by_name(s, m.Budget, budget, "budget")
        if cur != b.currency:
            raise LedgerError(f"expense in {cur} but budget {b.name!r} is in {b.currency}; "
                              "enter it in the budget's currency")
        row = m.Expense(budget_id=b.id, category=cat, song_id=_song_id(s, song),
                        amount_minor=minor, currency=cur, spent_on=day, description=text)
        s.add(row)
        s.flush()
        return ExpenseRecord(row.id, b.name, cat, song, minor, cur, day, text)


def list_expenses(db: Database, budget: str) -> tuple[ExpenseRecord, ...]:
    """A budget's expenses by date."""
    with db.transaction() as s:
        b = by_name(s, m.Budget, budget, "budget")
        songs = dict(s.execute(select(m.Song.id, m.Song.name)).all())
        rows = s.execute(select(m.Expense).where(m.Expense.budget_id == b.id)
                         .order_by(m.Expense.spent_on, m.Expense.id)).scalars()
        return tuple(ExpenseRecord(e.id, b.name, e.category, songs.get(e.song_id),
                                   e.amount_minor, e.currency, e.spent_on, e.description)
                     for e in rows)


def remove_expense(db: Database, ident: int) -> None:
    """Remove one expense by number."""
    with db.transaction() as s:
        s.delete(by_id(s, m.Expense, ident, "expense"))


def list_budget_lines(db: Database, budget: str) -> tuple[BudgetLineRecord, ...]:
    """A budget's lines."""
    with db.transaction() as s:
        b = by_name(s, m.Budget, budget, "budget")
        songs = dict(s.execute(select(m.Song.id, m.Song.name)).all())
        return tuple(BudgetLineRecord(x.id, b.name, x.category, songs.get(x.song_id),
                                      x.amount_minor, b.currency)
                     for x in s.execute(select(m.BudgetLine).where(
                         m.BudgetLine.budget_id == b.id).order_by(m.BudgetLine.id)).scalars())


def budget_report(db: Database, budget: str) -> BudgetReport:
    """Budget against actual per category; warns for each category over budget."""
    with db.transaction() as s:
        b = by_name(s, m.Budget, budget, "budget")
        planned = dict(s.execute(select(m.BudgetLine.category, func.sum(m.BudgetLine.amount_minor))
                                 .where(m.BudgetLine.budget_id == b.id)
                                 .group_by(m.BudgetLine.category)).all())
        actual = dict(s.execute(select(m.Expense.category, func.sum(m.Expense.amount_minor))
                                .where(m.Expense.budget_id == b.id)
                                .group_by(m.Expense.category)).all())
        warnings: list[str] = []
        studio = 0
        other_currency = 0
        q = (select(m.Session.start_utc, m.Session.end_utc, m.Room.rate_minor, m.Room.currency)
             .join(m.Room, m.Room.id == m.Session.room_id).where(m.Session.budget_id == b.id))
        for start, end, rate, cur in s.execute(q):
            if cur == b.currency:
                studio += session_cost(rate, start, end)
            else:
                other_currency += 1
        if other_currency:
            warnings.append(f"{other_currency} session(s) in rooms priced in another currency "
                            f"than {b.currency} are not counted")
        if studio:
            actual[STUDIO_CATEGORY] = actual.get(STUDIO_CATEGORY, 0) + studio
    rows = tuple(CategoryRow(c, int(planned.get(c, 0)), int(actual.get(c, 0)))
                 for c in sorted(set(planned) | set(actual)))
    for r in rows:
        if r.over:
            what = "nothing was budgeted" if r.budget_minor == 0 else (
                f"budget {format_money(r.budget_minor, b.currency)}")
            warnings.append(f"over budget: {r.category} spent "
                            f"{format_money(r.actual_minor, b.currency)}, {what} "
                            f"({format_money(-r.remaining_minor, b.currency)} over)")
    return BudgetReport(b.name, b.currency, rows, tuple(warnings))


# --- invoices ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoiceLineRecord:
    """One line of an invoice."""

    position: int
    description: str
    amount_minor: int
    session_id: int | None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"position": self.position, "description": self.description,
                "amount_minor": self.amount_minor, "session_id": self.session_id}


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    """An invoice with its lines."""

    id: int
    number: str
    party: str
    issued: date
    due: date | None
    currency: str
    status: str
    lines: tuple[InvoiceLineRecord, ...]

    @property
    def total_minor(self) -> int:
        """Sum of the lines."""
        return sum(x.amount_minor for x in self.lines)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"id": self.id, "number": self.number, "party": self.party,
                "issued": self.issued.isoformat(),
                "due": self.due.isoformat() if self.due else None, "currency": self.currency,
                "status": self.status, "lines": [x.as_dict() for x in self.lines],
                "total_minor": self.total_minor,
                "total": format_money(self.total_minor, self.currency)}


def _invoice_record(s: OrmSession, inv: m.Invoice) -> InvoiceRecord:
    lines = tuple(InvoiceLineRecord(x.position, x.description, x.amount_minor, x.session_id)
                  for x in s.execute(select(m.InvoiceLine).where(
                      m.InvoiceLine.invoice_id == inv.id).order_by(m.InvoiceLine.position))
                  .scalars())
    return InvoiceRecord(inv.id, inv.number, inv.party, inv.issued, inv.due, inv.currency,
                         inv.status, lines)


def add_invoice(db: Database, number: str, *, party: str, currency: str, issued: str,
                due: str | None = None, sessions: list[str] | tuple[str, ...] = (),
                lines: list[str] | tuple[str, ...] = ()) -> InvoiceRecord:
    """An invoice with a line per session (room hours x rate) and per ``"Text=amount"``."""
    num = check_text(number, "invoice number", limit=64)
    who = check_text(party, "party")
    cur = parse_currency(currency)
    day = parse_date(issued, "issue date")
    due_day = parse_date(due, "due date") if due else None
    if due_day is not None and due_day < day:
        raise LedgerError(f"due date {due_day} is before the issue date {day}")
    typed = []
    for text in lines:
        desc, _, amount = text.rpartition("=")
        if not desc.strip():
            raise LedgerError(f"invoice line {text!r} must be DESCRIPTION=AMOUNT")
        typed.append((check_text(desc, "invoice line", limit=500), parse_money(amount, cur)))
    if not typed and not sessions:
        raise LedgerError("an invoice needs at least one --session or --line")
    with db.transaction() as s:
        taken(s, m.Invoice, num, "invoice", column="number")
        inv = m.Invoice(number=num, party=who, issued=day, due=due_day, currency=cur,
                        status="draft")
        s.add(inv)
        s.flush()
        pos = 0
        for ident in sessions:
            row = by_id(s, m.Session, parse_positive_int(ident, "session"), "session")
            room = s.get(m.Room, row.room_id)
            if room.currency != cur:
                raise LedgerError(f"session #{row.id} is priced in {room.currency}, the "
                                  f"invoice in {cur}")
            pos += 1
            hours = (row.end_utc - row.start_utc).total_seconds() / 3600
            s.add(m.InvoiceLine(invoice_id=inv.id, position=pos, session_id=row.id,
                                description=f"{room.name}, {row.start_utc:%Y-%m-%d}, "
                                            f"{hours:g} h at {format_money(room.rate_minor, cur)}",
                                amount_minor=session_cost(room.rate_minor, row.start_utc,
                                                          row.end_utc)))
        for desc, amount in typed:
            pos += 1
            s.add(m.InvoiceLine(invoice_id=inv.id, position=pos, description=desc,
                                amount_minor=amount))
        s.flush()
        return _invoice_record(s, inv)


def set_invoice_status(db: Database, number: str, status: str) -> InvoiceRecord:
    """Mark an invoice draft, sent, paid or void."""
    if status not in INVOICE_STATUSES:
        raise LedgerError(f"invoice status {status!r} must be one of {', '.join(INVOICE_STATUSES)}")
    with db.transaction() as s:
        inv = by_name(s, m.Invoice, number, "invoice", column="number")
        inv.status = status
        return _invoice_record(s, inv)


def list_invoices(db: Database) -> tuple[InvoiceRecord, ...]:
    """Every invoice by number."""
    with db.transaction() as s:
        return tuple(_invoice_record(s, i) for i in
                     s.execute(select(m.Invoice).order_by(m.Invoice.number)).scalars())


def show_invoice(db: Database, number: str) -> InvoiceRecord:
    """One invoice by number."""
    with db.transaction() as s:
        return _invoice_record(s, by_name(s, m.Invoice, number, "invoice", column="number"))


def remove_invoice(db: Database, number: str) -> None:
    """Remove an invoice and its lines."""
    with db.transaction() as s:
        inv = by_name(s, m.Invoice, number, "invoice", column="number")
        s.execute(delete(m.InvoiceLine).where(m.InvoiceLine.invoice_id == inv.id))
        s.delete(inv)


__all__ = ["BudgetLineRecord", "BudgetReport", "CategoryRow", "ExpenseRecord",
           "InvoiceLineRecord", "InvoiceRecord", "add_budget_line", "add_expense",
           "add_invoice", "budget_report", "list_budget_lines", "list_expenses",
           "list_invoices", "remove_expense", "remove_invoice", "set_invoice_status",
           "show_invoice"]
