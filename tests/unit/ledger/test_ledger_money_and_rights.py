"""Budgets vs actual (with session costs and overrun warnings), invoices, credits, split
sheets and contracts."""

from __future__ import annotations

from datetime import date

import pytest

from mixdown.db import Database
from mixdown.ledger.errors import ConflictError, LedgerError, NotFoundError
from mixdown.services import ledger as L


@pytest.fixture
def ep(db: Database) -> Database:
    L.add_budget(db, "Night Drive EP", currency="EUR")
    L.add_person(db, "Ana Ruiz", roles=["engineer", "producer"])
    L.add_person(db, "Ben Ode", roles=["writer"])
    L.add_person(db, "Cy Lam", roles=["writer", "musician"])
    L.add_room(db, "Studio A", rate="60", currency="EUR")
    L.add_room(db, "Tokyo Room", rate="9000", currency="JPY")
    L.add_song(db, "Night Drive", budget="Night Drive EP")
    return db


def test_budget_vs_actual_counts_expenses_and_session_costs(ep: Database) -> None:
    L.add_budget_line(ep, "Night Drive EP", category="studio", amount="500")
    L.add_budget_line(ep, "Night Drive EP", category="mixing", amount="800")
    L.add_budget_line(ep, "Night Drive EP", category="mastering", amount="300")
    L.book_session(ep, room="Studio A", start="2026-12-01T10:00Z", end="2026-12-01T14:00Z",
                   songs=["Night Drive"])  # 240.00, charged to the song's budget
    L.book_session(ep, room="Studio A", start="2026-12-02T10:00Z", end="2026-12-02T15:30Z",
                   songs=["Night Drive"])  # 330.00
    L.add_expense(ep, "Night Drive EP", category="mixing", amount="799.99", currency="EUR",
                  spent_on="2026-12-10")
    L.add_expense(ep, "Night Drive EP", category="travel", amount="42.10", currency="EUR",
                  spent_on="2026-12-11")
    r = L.budget_report(ep, "Night Drive EP")
    rows = {x.category: (x.budget_minor, x.actual_minor) for x in r.rows}
    assert rows == {"studio": (50000, 57000), "mixing": (80000, 79999),
                    "mastering": (30000, 0), "travel": (0, 4210)}
    assert (r.budget_minor, r.actual_minor) == (160000, 57000 + 79999 + 4210)
    assert r.warnings == (
        "over budget: studio spent 570.00 EUR, budget 500.00 EUR (70.00 EUR over)",
        "over budget: travel spent 42.10 EUR, nothing was budgeted (42.10 EUR over)")


def test_money_rules(ep: Database) -> None:
    with pytest.raises(LedgerError, match="negative"):
        L.add_expense(ep, "Night Drive EP", category="x", amount="-1", currency="EUR",
                      spent_on="2026-12-01")
    with pytest.raises(LedgerError, match="budget 'Night Drive EP' is in EUR"):
        L.add_expense(ep, "Night Drive EP", category="x", amount="1", currency="USD",
                      spent_on="2026-12-01")
    with pytest.raises(NotFoundError, match="unknown budget"):
        L.add_budget_line(ep, "Nite Drive", category="x", amount="1")
    assert L.list_expenses(ep, "Night Drive EP") == ()
    L.book_session(ep, room="Tokyo Room", start="2026-12-01T10:00Z", end="2026-12-01T11:00Z",
                   songs=["Night Drive"])
    assert "not counted" in L.budget_report(ep, "Night Drive EP").warnings[0]


def test_invoice_from_sessions_and_lines(ep: Database) -> None:
    s = L.book_session(ep, room="Studio A", start="2026-12-01T10:00Z",
                       end="2026-12-01T12:15Z")
    inv = L.add_invoice(ep, "2026-001", party="Label Ltd", currency="EUR", issued="2026-12-05",
                        due="2027-01-04", sessions=[str(s.id)], lines=["Mixing=500",
                                                                        "Stems, 2 songs=80.5"])
    assert [x.amount_minor for x in inv.lines] == [13500, 50000, 8050]
    assert inv.total_minor == 71550 and inv.lines[0].session_id == s.id
    with pytest.raises(ConflictError, match="already exists"):
        L.add_invoice(ep, "2026-001", party="X", currency="EUR", issued="2026-12-05",
                      lines=["a=1"])
    with pytest.raises(LedgerError, match="before the issue date"):
        L.add_invoice(ep, "2026-002", party="X", currency="EUR", issued="2026-12-05",
                      due="2026-12-01", lines=["a=1"])
    with pytest.raises(ConflictError, match="on an invoice"):
        L.cancel_session(ep, s.id)
    assert L.set_invoice_status(ep, "2026-001", "paid").status == "paid"
    assert [i.number for i in L.list_invoices(ep)] == ["2026-001"]


def test_split_sheets_total_exactly_100(ep: Database) -> None:
    sheet = L.set_splits(ep, "Night Drive", writers=["Ben Ode=33.34", "Cy Lam=33.33",
                                                     "Ana Ruiz=33.33"],
                         publishers=["Pub A=50", "Pub B=50"])
    assert [w.share_bp for w in sheet.writers] == [3334, 3333, 3333] and sheet.complete
    for writers, match in ((["Ben Ode=60", "Cy Lam=39.99"], r"total 99\.99%, not exactly 100%"),
                           (["Ben Ode=60", "Cy Lam=40.01"], r"total 100\.01%"),
                           (["Ben Ode=60.001", "Cy Lam=40"], "two decimals"),
                           (["Ben Ode=100", "Ben Ode=0.5"], "listed twice"),
                           (["Nobody=100"], "unknown person"),
                           (["Ben Ode"], "NAME=VALUE")):
        with pytest.raises(LedgerError, match=match):
            L.set_splits(ep, "Night Drive", writers=writers)
    with pytest.raises(LedgerError, match=r"publisher shares total 90\.00%"):
        L.set_splits(ep, "Night Drive", writers=["Ben Ode=100"], publishers=["P=90"])
    # every refusal left the sheet as it was
    assert L.show_splits(ep, "Night Drive") == sheet


def test_credits_derive_from_sessions_and_splits(ep: Database) -> None:
    L.book_session(ep, room="Studio A", start="2026-12-01T10:00Z", end="2026-12-01T12:00Z",
                   people=["Ana Ruiz", "Cy Lam"], songs=["Night Drive"])
    added = L.derive_credits(ep, "Night Drive")
    assert {(c.person, c.role) for c in added} == {("Ana Ruiz", "engineer"),
                                                   ("Ana Ruiz", "producer"),
                                                   ("Cy Lam", "musician")}
    assert L.derive_credits(ep, "Night Drive") == ()  # nothing twice
    L.set_splits(ep, "Night Drive", writers=["Ben Ode=50", "Cy Lam=50"])
    got = {(c.person, c.role, c.source) for c in L.list_credits(ep, "Night Drive")}
    assert ("Ben Ode", "writer", "split") in got and ("Cy Lam", "writer", "split") in got
    with pytest.raises(LedgerError, match="already credited"):
        L.add_credit(ep, "Night Drive", person="Ana Ruiz", role="engineer")


def test_contracts_expiring_within_n_days(ep: Database) -> None:
    L.add_contract(ep, "Sync licence", kind="license", party="Ad Agency", starts="2026-01-01",
                   expires="2026-12-20", fee="1500", currency="EUR", status="signed",
                   territory="EU", song="Night Drive")
    L.add_contract(ep, "Producer deal", party="Ana Ruiz", starts="2026-01-01",
                   expires="2027-06-30", status="active")
    L.add_contract(ep, "Old deal", party="X", starts="2020-01-01", expires="2026-12-10",
                   status="terminated")
    today = date(2026, 12, 3)
    soon = L.list_contracts(ep, expiring_within=30, today=today)
    assert [c.title for c in soon] == ["Sync licence"]
    assert soon[0].kind == "licence" and soon[0].as_dict()["term_days"] == 353
    assert len(L.list_contracts(ep, expiring_within=365, today=today)) == 2
    with pytest.raises(LedgerError, match="not after the start"):
        L.add_contract(ep, "Bad", party="X", starts="2026-05-01", expires="2026-04-01")
    with pytest.raises(LedgerError, match="status 'maybe'"):
        L.add_contract(ep, "Bad", party="X", starts="2026-05-01", status="maybe")
