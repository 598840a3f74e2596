"""The ledger at scale on SQLite: 100k sessions, 10k songs (issue 12's bench).

Median wall times (ms) of listing one month of sessions, a budget's budget vs actual, and
booking a session (the overlap checks under the booking lock). Figures only: nothing is
asserted. Run alone with ``python -m benchmarks.bench_ledger`` (writes
results/ledger.json) or as part of ``make bench``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from mixdown.ledger import models as m
from mixdown.services import ledger as L

SESSIONS = 100_000
SONGS = 10_000
ROOMS = 20
PEOPLE = 300
BUDGETS = 100
EXPENSES = 20_000
DAYS = 3650  # ten years of bookings
REPEATS = 25


def _fill(db: Any) -> dict[str, int]:
    start = datetime(2020, 1, 1, 9, 0)
    with db.transaction() as s:
        s.execute(insert(m.Budget), [{"id": b + 1, "name": f"Budget {b}", "currency": "EUR"}
                                     for b in range(BUDGETS)])
        s.execute(insert(m.Room), [{"id": r + 1, "name": f"Room {r}", "rate_minor": 4000 + r * 100,
                                    "currency": "EUR"} for r in range(ROOMS)])
        s.execute(insert(m.Person), [{"id": p + 1, "name": f"Person {p}", "roles": "musician"}
                                     for p in range(PEOPLE)])
        s.execute(insert(m.Song), [{"id": i + 1, "name": f"Song {i}",
                                    "budget_id": i % BUDGETS + 1} for i in range(SONGS)])
        sessions, people, songs = [], [], []
        per_room = SESSIONS // ROOMS
        step = timedelta(days=DAYS) / per_room
        for i in range(SESSIONS):
            room, k = i % ROOMS, i // ROOMS
            a = start + step * k
            song = (i * 7919) % SONGS + 1
            sessions.append({"id": i + 1, "room_id": room + 1, "start_utc": a,
                             "end_utc": a + timedelta(hours=3), "notes": "",
                             "budget_id": (song - 1) % BUDGETS + 1})
            people.append({"session_id": i + 1, "person_id": (i * 31) % PEOPLE + 1})
            songs.append({"session_id": i + 1, "song_id": song})
        s.execute(insert(m.Session), sessions)
        s.execute(insert(m.SessionPerson), people)
        s.execute(insert(m.SessionSong), songs)
        s.execute(insert(m.BudgetLine), [
            {"budget_id": b + 1, "category": c, "amount_minor": 500_000}
            for b in range(BUDGETS) for c in ("studio", "mixing", "mastering", "travel")])
        s.execute(insert(m.Expense), [
            {"budget_id": e % BUDGETS + 1, "category": ("mixing", "mastering", "travel")[e % 3],
             "amount_minor": 1000 + e, "currency": "EUR",
             "spent_on": date(2020, 1, 1) + timedelta(days=e % DAYS), "description": ""}
            for e in range(EXPENSES)])
    return {"sessions": SESSIONS, "songs": SONGS, "rooms": ROOMS, "people": PEOPLE,
            "budgets": BUDGETS, "expenses": EXPENSES}


def _median_ms(fn: Any, repeats: int = REPEATS) -> tuple[float, Any]:
    out = fn()  # warm
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def run(work: Path) -> dict[str, Any]:
    """Build the database in ``work`` and time the three operations."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = L.open_ledger(f"sqlite:///{work / 'ledger.db'}")
    t = time.perf_counter()
    sizes = _fill(db)
    fill_s = time.perf_counter() - t
    month_ms, month = _median_ms(lambda: L.list_sessions(
        db, start="2024-03-01T00:00Z", end="2024-04-01T00:00Z"))
    budget_ms, report = _median_ms(lambda: L.budget_report(db, "Budget 42"))
    slots = iter(range(10_000))

    def book() -> Any:
        k = next(slots)
        a = datetime(2031, 1, 1) + timedelta(hours=2 * k)
        return L.book_session(db, room="Room 3", start=a, end=a + timedelta(hours=1),
                              people=["Person 7"], songs=["Song 11"])

    book_ms, _ = _median_ms(book)
    db.close()
    return {"sizes": sizes, "fill_s": fill_s,
            "list_month_ms": month_ms, "list_month_sessions": len(month),
            "budget_vs_actual_ms": budget_ms,
            "budget_sessions_counted": report.actual_minor > 0,
            "book_session_ms": book_ms, "repeats": REPEATS}


def main() -> None:
    """Run alone and write results/ledger.json."""
    here = Path(__file__).resolve().parent
    res = run(here / "work" / "bench_ledger")
    res["date"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    (here / "results" / "ledger.json").write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
