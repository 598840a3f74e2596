"""The ledger's pages in the studio: every route with good and bad input, the owner-only
rule, CSRF, escaping. A real songs folder and the real SQLite ``mixdown.db`` the server and
the ledger share; the app runs in-process under FastAPI's TestClient."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from mixdown.server import ServeConfig, create_app
from mixdown.server.security import CSRF_COOKIE
from mixdown.services import ledger as L
from mixdown.services import review
from web_songs import make_song

EVIL = "<script>alert(1)</script>"
HX = {"HX-Request": "true"}


@pytest.fixture
def songs(tmp_path: Path) -> Path:
    """A songs folder with ``tune``, and a ledger: a room, two people (one with markup in
    the name), the song ``Tune`` linked to the ``tune`` project, a budget with a line and an
    expense, a session, and a release of ``Tune``."""
    folder = tmp_path / "songs"
    make_song(folder, "tune", title="Tune")
    db = L.open_ledger(folder=folder)
    try:
        L.add_room(db, "Studio A", rate="60", currency="EUR")
        L.add_person(db, "Ana Ruiz", roles=["engineer"])
        L.add_person(db, f"Ben {EVIL}", roles=["writer"])
        L.add_budget(db, "EP", currency="EUR")
        L.add_song(db, "Tune", project=folder / "tune", budget="EP")
        L.add_budget_line(db, "EP", category="studio", amount="500")
        L.add_expense(db, "EP", category="studio", amount="620", currency="EUR",
                      spent_on="2026-12-02", description="overtime")
        L.book_session(db, room="Studio A", start="2026-12-01T10:00", end="2026-12-01T14:00",
                       people=["Ana Ruiz"], songs=["Tune"])
        L.add_release(db, "Tune EP", artist="Ana Ruiz", tracks=["Tune=USRC17607839"])
    finally:
        db.close()
    return folder


def _client(folder: Path, csrf: bool = True) -> TestClient:
    client = TestClient(create_app(ServeConfig.from_options(folder)), follow_redirects=False)
    client.get("/static/studio.css")
    if csrf:
        client.headers["X-CSRF-Token"] = client.cookies.get(CSRF_COOKIE) or ""
    return client


@pytest.fixture
def client(songs: Path) -> Iterator[TestClient]:
    with _client(songs) as c:
        yield c


def _sessions(folder: Path) -> int:
    db = L.open_ledger(folder=folder)
    try:
        return len(L.list_sessions(db))
    finally:
        db.close()


def test_calendar_lists_sessions_and_escapes(client: TestClient) -> None:
    page = client.get("/ledger/sessions?month=2026-12")
    assert page.status_code == 200
    assert 'data-day="2026-12-01"' in page.text and "Studio A · Ana Ruiz · Tune" in page.text
    assert EVIL not in page.text and "&lt;script&gt;" in page.text  # the people list
    assert client.get("/ledger/sessions?month=2026-11").text.count('class="session"') == 0
    bad = client.get("/ledger/sessions?month=December")
    assert bad.status_code == 422 and "YYYY-MM" in bad.json()["error"]["message"]
    assert client.get("/ledger").headers["location"] == "/ledger/sessions"


def test_book_a_session(client: TestClient, songs: Path) -> None:
    r = client.post("/ledger/sessions", data={"room": "Studio A", "start": "2026-12-03T10:00",
                                              "end": "2026-12-03T12:00",
                                              "people": f"Ana Ruiz, Ben {EVIL}",
                                              "songs": "Tune"})
    assert r.status_code == 201, r.text
    assert _sessions(songs) == 2
    page = client.get("/ledger/sessions?month=2026-12").text
    assert 'data-day="2026-12-03"' in page and "10:00–12:00 Studio A" in page
    htmx = client.post("/ledger/sessions", headers=HX, data={
        "room": "Studio A", "start": "2026-12-04T10:00", "end": "2026-12-04T11:00"})
    assert htmx.status_code == 204 and htmx.headers["HX-Refresh"] == "true"


def test_double_booking_is_refused_and_nothing_written(client: TestClient, songs: Path
                                                       ) -> None:
    clash = {"room": "Studio A", "start": "2026-12-01T13:00", "end": "2026-12-01T15:00"}
    r = client.post("/ledger/sessions", data=clash)
    assert r.status_code == 409
    assert "'Studio A' is already booked" in r.json()["error"]["message"]
    frag = client.post("/ledger/sessions", data={**clash, "room": "Studio A"}, headers=HX)
    assert frag.status_code == 409 and frag.text.startswith('<p class="message ledger-error"')
    assert "already booked" in frag.text
    person = client.post("/ledger/sessions", headers=HX, data={
        "room": "Studio A", "start": "2026-12-01T14:00", "end": "2026-12-01T15:00",
        "people": "Ana Ruiz"})
    assert person.status_code == 201 or person.status_code == 204  # back to back is fine
    assert _sessions(songs) == 2


@pytest.mark.parametrize(("form", "status", "words"), [
    ({"room": "Studio A", "start": "2026-12-05T12:00", "end": "2026-12-05T10:00"}, 422,
     "not after start"),
    ({"room": "Studio Z", "start": "2026-12-05T10:00", "end": "2026-12-05T12:00"}, 404,
     "Studio Z"),
    ({"room": "Studio A", "start": "tomorrow", "end": "2026-12-05T12:00"}, 422, "start"),
    ({"room": "Studio A", "start": "2026-12-05T10:00", "end": "2026-12-05T12:00",
      "people": EVIL}, 404, "person"),
])
def test_bad_bookings(client: TestClient, songs: Path, form: dict[str, str], status: int,
                      words: str) -> None:
    r = client.post("/ledger/sessions", data=form, headers=HX)
    assert r.status_code == status, r.text
    assert words in r.text and EVIL not in r.text and "Traceback" not in r.text
    assert _sessions(songs) == 1


def test_people_list_and_add(client: TestClient) -> None:
    r = client.post("/ledger/people", data={"name": "Cleo Park", "roles": "producer, writer",
                                            "email": "cleo@example.org"})
    assert r.status_code == 201, r.text
    page = client.get("/ledger/people").text
    assert 'data-person="Cleo Park"' in page and "producer, writer" in page
    assert EVIL not in page
    dup = client.post("/ledger/people", data={"name": "Cleo Park"}, headers=HX)
    assert dup.status_code == 409 and "Cleo Park" in dup.text
    empty = client.post("/ledger/people", data={"name": "  "})
    assert empty.status_code == 422 and "person name" in empty.json()["error"]["message"]


def test_budget_table_and_chart(client: TestClient) -> None:
    page = client.get("/ledger/budgets").text
    assert 'data-budget="EP"' in page
    # actual: the 620 EUR expense and the 4 h session at 60 EUR/h on the song's budget
    assert "<td>studio</td><td class=\"num\">500.00 EUR</td><td class=\"num\">860.00 EUR" \
        in page and "-360.00 EUR" in page and "over budget" in page
    assert 'src="/ledger/budgets/EP/chart.svg"' in page
    chart = client.get("/ledger/budgets/EP/chart.svg")
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in chart.content and b"budget vs actual" in chart.content
    missing = client.get("/ledger/budgets/Nope/chart.svg")
    assert missing.status_code == 404 and "Nope" in missing.json()["error"]["message"]


def test_credits_and_splits(client: TestClient) -> None:
    ok = client.post("/ledger/songs/Tune/credits", data={"person": "Ana Ruiz",
                                                        "role": "engineer"})
    assert ok.status_code == 201, ok.text
    again = client.post("/ledger/songs/Tune/credits", headers=HX,
                        data={"person": "Ana Ruiz", "role": "engineer"})
    assert again.status_code == 422 and "already credited" in again.text
    nobody = client.post("/ledger/songs/Tune/credits", data={"person": "Nobody",
                                                            "role": "engineer"})
    assert nobody.status_code == 404
    short = client.post("/ledger/songs/Tune/splits", headers=HX,
                        data={"writers": f"Ana Ruiz=50, Ben {EVIL}=40"})
    assert short.status_code == 422 and "not exactly 100%" in short.text
    assert EVIL not in short.text and "&lt;script&gt;" in short.text
    good = client.post("/ledger/songs/Tune/splits",
                       data={"writers": f"Ana Ruiz=60\nBen {EVIL}=40"})
    assert good.status_code == 201, good.text
    page = client.get("/ledger/songs").text
    assert "60.00 %" in page and "40.00 %" in page and "engineer" in page
    assert EVIL not in page
    assert '<a class="studio-song" href="/songs/tune">' in page
    assert client.post("/ledger/songs/Nope/splits",
                       data={"writers": "Ana Ruiz=100"}).status_code == 404


def test_songs_page_links_the_ledger(client: TestClient) -> None:
    page = client.get("/").text
    assert 'href="/ledger/sessions"' in page
    assert '<a class="ledger-song" href="/ledger/songs#song-Tune">Tune</a>' in page


def test_release_checklist_and_fix(client: TestClient, tmp_path: Path) -> None:
    listing = client.get("/ledger/releases").text
    assert 'href="/ledger/releases/Tune%20EP"' in listing and "not ready" in listing
    page = client.get("/ledger/releases/Tune EP")
    assert page.status_code == 200 and 'data-ready="no"' in page.text
    assert "missing: UPC, release date" in page.text
    bad = client.post("/ledger/releases/Tune EP", data={"upc": "123"}, headers=HX)
    assert bad.status_code == 422 and "UPC" in bad.text
    ok = client.post("/ledger/releases/Tune EP", data={"upc": "012345678905",
                                                      "release_date": "2027-01-15"})
    assert ok.status_code == 200, ok.text
    check = client.post("/ledger/releases/Tune EP/check", headers=HX)
    assert check.status_code == 200
    assert '<li class="ok" data-item="metadata">' in check.text
    assert '<li class="fail" data-item="splits: Tune">' in check.text
    assert client.post("/ledger/releases/Nope/check", headers=HX).status_code == 404
    assert client.get("/ledger/releases/Nope").status_code == 404


def test_reviewer_is_refused(songs: Path) -> None:
    with review.open_studio(songs) as studio:
        token = review.create_share_link(studio, "tune", "reviewer").token
    with _client(songs) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        for url in ("/ledger/sessions", "/ledger/people", "/ledger/budgets",
                    "/ledger/budgets/EP/chart.svg", "/ledger/songs", "/ledger/releases",
                    "/ledger/releases/Tune EP"):
            r = c.get(url)
            assert r.status_code == 403, url
            assert "only the producer" in r.json()["error"]["message"]
        r = c.post("/ledger/sessions", data={"room": "Studio A", "start": "2026-12-09T10:00",
                                             "end": "2026-12-09T11:00"})
        assert r.status_code == 403
        assert "Ledger" not in c.get("/songs/tune").text.split("</header>")[0]
    assert _sessions(songs) == 1


POSTS = [("/ledger/sessions", {"room": "Studio A", "start": "2026-12-09T10:00",
                               "end": "2026-12-09T11:00"}),
         ("/ledger/people", {"name": "Dee"}),
         ("/ledger/songs/Tune/credits", {"person": "Ana Ruiz", "role": "engineer"}),
         ("/ledger/songs/Tune/splits", {"writers": "Ana Ruiz=100"}),
         ("/ledger/releases/Tune EP", {"upc": "012345678905"}),
         ("/ledger/releases/Tune EP/check", {})]


@pytest.mark.parametrize(("url", "form"), POSTS)
def test_csrf_missing_is_refused(songs: Path, url: str, form: dict[str, str]) -> None:
    with _client(songs, csrf=False) as c:
        r = c.post(url, data=form)
        assert r.status_code == 403 and "CSRF" in r.json()["error"]["message"]
        c.headers["X-CSRF-Token"] = "wrong"
        assert c.post(url, data=form).status_code == 403
    assert _sessions(songs) == 1
    db = L.open_ledger(folder=songs)
    try:
        assert [p.name for p in L.list_people(db)] == ["Ana Ruiz", f"Ben {EVIL}"]
        assert L.list_credits(db, "Tune") == () and not L.show_splits(db, "Tune").writers
        assert L.show_release(db, "Tune EP").upc is None
    finally:
        db.close()


def test_names_with_slashes_and_markup(client: TestClient, songs: Path) -> None:
    title = "A/B & <EP>"
    db = L.open_ledger(folder=songs)
    try:
        L.add_release(db, title, artist=EVIL, tracks=["Tune=USRC17607839"])
    finally:
        db.close()
    listing = client.get("/ledger/releases").text
    assert 'href="/ledger/releases/A/B%20%26%20%3CEP%3E"' in listing and EVIL not in listing
    page = client.get("/ledger/releases/A/B%20%26%20%3CEP%3E")
    assert page.status_code == 200 and "A/B &amp; &lt;EP&gt;" in page.text
    assert EVIL not in page.text
    check = client.post("/ledger/releases/A/B%20%26%20%3CEP%3E/check", headers=HX)
    assert check.status_code == 200 and "A/B &amp; &lt;EP&gt;: not ready" in check.text
