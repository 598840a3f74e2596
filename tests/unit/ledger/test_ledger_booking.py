"""Booking: no double booking of a room or a person, and two processes never both win."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mixdown.ledger import models as m
from mixdown.ledger.errors import ConflictError, LedgerError, NotFoundError
from mixdown.services import ledger as L


@pytest.fixture
def studio(db):
    L.add_person(db, "Ana Ruiz", roles=["engineer"])
    L.add_person(db, "Ben Ode", roles=["writer"])
    L.add_room(db, "Studio A", rate="60", currency="EUR")
    L.add_room(db, "Studio B", rate="45.50", currency="EUR")
    L.add_song(db, "Night Drive")
    return db


def _count(db, model) -> int:
    with db.transaction() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_booking_and_its_cost(studio) -> None:
    s = L.book_session(studio, room="Studio A", start="2026-12-01T10:00Z",
                       end="2026-12-01T14:30Z", people=["Ana Ruiz"], songs=["Night Drive"])
    assert (s.room, s.people, s.songs) == ("Studio A", ("Ana Ruiz",), ("Night Drive",))
    assert s.cost_minor == 27000  # 4.5 h x 60.00
    assert s.as_dict()["start"] == "2026-12-01T10:00:00Z"
    assert [x.id for x in L.list_sessions(studio)] == [s.id]


def test_a_room_is_never_double_booked(studio) -> None:
    L.book_session(studio, room="Studio A", start="2026-12-01T10:00Z", end="2026-12-01T14:00Z")
    for start, end in (("09:00", "10:30"), ("13:59", "15:00"), ("11:00", "12:00"),
                       ("09:00", "15:00")):
        with pytest.raises(ConflictError, match=r"room 'Studio A' is already booked .*#1"):
            L.book_session(studio, room="Studio A", start=f"2026-12-01T{start}Z",
                           end=f"2026-12-01T{end}Z")
    # back to back is fine; another room at the same time is fine
    L.book_session(studio, room="Studio A", start="2026-12-01T14:00Z", end="2026-12-01T16:00Z")
    L.book_session(studio, room="Studio B", start="2026-12-01T10:00Z", end="2026-12-01T14:00Z")
    assert _count(studio, m.Session) == 3


def test_a_person_is_never_in_two_rooms(studio) -> None:
    L.book_session(studio, room="Studio A", start="2026-12-01T10:00Z", end="2026-12-01T14:00Z",
                   people=["Ana Ruiz"])
    with pytest.raises(ConflictError, match="'Ana Ruiz' is already booked"):
        L.book_session(studio, room="Studio B", start="2026-12-01T12:00Z",
                       end="2026-12-01T13:00Z", people=["Ben Ode", "Ana Ruiz"])
    assert _count(studio, m.Session) == 1 and _count(studio, m.SessionPerson) == 1
    L.book_session(studio, room="Studio B", start="2026-12-01T12:00Z", end="2026-12-01T13:00Z",
                   people=["Ben Ode"])


def test_moving_a_session_follows_the_same_rules(studio) -> None:
    a = L.book_session(studio, room="Studio A", start="2026-12-01T10:00Z",
                       end="2026-12-01T12:00Z", people=["Ana Ruiz"])
    b = L.book_session(studio, room="Studio B", start="2026-12-01T13:00Z",
                       end="2026-12-01T15:00Z", people=["Ana Ruiz"])
    with pytest.raises(ConflictError, match="Ana Ruiz"):
        L.edit_session(studio, b.id, start="2026-12-01T11:00Z")
    moved = L.edit_session(studio, a.id, start="2026-12-01T09:00Z", end="2026-12-01T11:00Z")
    assert moved.start.hour == 9
    assert L.show_session(studio, b.id).start.hour == 13  # unchanged by the refusal


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"start": "2026-12-01T14:00Z", "end": "2026-12-01T10:00Z"}, LedgerError, "not after"),
    ({"start": "2026-12-01T10:00Z", "end": "2026-12-01T10:00Z"}, LedgerError, "not after"),
    ({"start": "2026-12-32T10:00", "end": "2026-12-01T11:00"}, LedgerError, "ISO 8601"),
    ({"room": "Studio C"}, NotFoundError, r"unknown room 'Studio C'; did you mean .*'Studio A'"),
    ({"people": ["Ana Ruis"]}, NotFoundError, "did you mean 'Ana Ruiz'"),
    ({"songs": ["Night Dirve"]}, NotFoundError, "unknown song"),
    ({"notes": "x" * 10_001}, LedgerError, "at most 10000"),
])
def test_bad_bookings_write_nothing(studio, kwargs, error, match) -> None:
    args = {"room": "Studio A", "start": "2026-12-01T10:00Z", "end": "2026-12-01T11:00Z",
            "people": ["Ben Ode"], "songs": ["Night Drive"], **kwargs}
    with pytest.raises(error, match=match):
        L.book_session(studio, **args)
    assert _count(studio, m.Session) == 0 and _count(studio, m.SessionPerson) == 0


def test_a_month_of_sessions(studio) -> None:
    for day in (1, 15, 31):
        L.book_session(studio, room="Studio A", start=f"2026-12-{day:02d}T10:00Z",
                       end=f"2026-12-{day:02d}T12:00Z")
    L.book_session(studio, room="Studio A", start="2026-11-30T23:00Z", end="2026-12-01T01:00Z")
    L.book_session(studio, room="Studio A", start="2027-01-01T10:00Z", end="2027-01-01T11:00Z")
    got = L.list_sessions(studio, start="2026-12-01T00:00Z", end="2027-01-01T00:00Z")
    assert [x.start.day for x in got] == [30, 1, 15, 31]  # the overnight one overlaps
    assert len(L.list_sessions(studio, room="Studio B")) == 0


WORKER = """
import json, sys, time
from pathlib import Path
from mixdown.services import ledger as L
from mixdown.core.errors import MixdownError
url, go, ready, slot = sys.argv[1:5]
db = L.open_ledger(url)
L.list_rooms(db)  # connected and migrated before the start line
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.001)
try:
    s = L.book_session(db, room="Studio A", start=f"2026-12-{slot}T10:00Z",
                       end=f"2026-12-{slot}T12:00Z")
    print(json.dumps({"ok": s.id}))
except MixdownError as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
"""


def test_two_processes_never_both_book_the_room(studio, db_url: str, tmp_path: Path) -> None:
    procs_per_round, rounds = 4, 3
    for r in range(rounds):
        slot = f"{r + 10:02d}"
        go = tmp_path / f"go{r}"
        ready = [tmp_path / f"ready{r}_{i}" for i in range(procs_per_round)]
        procs = [subprocess.Popen([sys.executable, "-c", WORKER, db_url, str(go), str(rd), slot],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for rd in ready]
        deadline = time.monotonic() + 120
        while not all(p.exists() for p in ready):
            assert time.monotonic() < deadline, [p.communicate() for p in procs]
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.01)
        go.touch()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            results.append(json.loads(out))
        wins = [x for x in results if "ok" in x]
        assert len(wins) == 1, results
        for x in results:
            if "error" in x:
                assert x["error"] == "ConflictError" and "already booked" in x["message"]
    assert _count(studio, m.Session) == rounds
