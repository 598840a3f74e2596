"""The ledger's pages in a real browser: Debian's chromium driven by Playwright, against a
real ``mixdown serve`` over a songs folder whose ``mixdown.db`` holds a ledger.

One flow (issue 12): book a session from the calendar page and see it in the month; a
double booking is refused with the ledger's message; open a release, see it not ready with
its failing items, set the splits and a credit through the pages, and see it ready. A
screenshot of each page goes to ``test-artifacts/ledger/``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from browsers import chromium, screenshot
from mixdown.services import ledger as L
from web_songs import MIXDOWN, make_song, running_server

TIMEOUT_MS = 60_000
ISRC = "USRC17607839"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _shot(page: Page, name: str) -> None:
    screenshot(page, "ledger", name)


def _ledger(tmp_path: Path) -> Path:
    """A songs folder with a short song really delivered for Spotify, and a ledger: a room,
    two people, the song, and a release with metadata, artwork and the delivery, but no
    splits or credits."""
    songs = tmp_path / "songs"
    project = make_song(songs, "tune", title="Tune", bars=3)
    delivery = tmp_path / "delivery"
    proc = subprocess.run([MIXDOWN, "deliver", str(project), "--targets", "spotify",
                           "--formats", "flac", "--no-stems", "-o", str(delivery),
                           "--isrc", ISRC], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    cover = tmp_path / "cover.png"
    Image.new("RGB", (64, 64), (20, 30, 40)).save(cover)
    db = L.open_ledger(folder=songs)
    try:
        L.add_room(db, "Studio A", rate="60", currency="EUR")
        L.add_person(db, "Ana Ruiz", roles=["engineer"])
        L.add_person(db, "Ben Ode", roles=["writer"])
        L.add_song(db, "Tune", project=project)
        L.add_release(db, "Tune EP", artist="Ana Ruiz", upc="012345678905",
                      release_date="2027-01-15", platform="spotify", artwork=str(cover),
                      artwork_min_px="64", tracks=[f"Tune={ISRC}"],
                      deliveries=[f"Tune={delivery}"])
    finally:
        db.close()
    return songs


def test_book_and_release_flow(tmp_path: Path, browser: Browser) -> None:
    songs = _ledger(tmp_path)
    with running_server(songs, env={"MIXDOWN_SECRET": ""}) as base:
        url = base.rstrip("/")
        page = browser.new_context().new_page()
        page.set_default_timeout(TIMEOUT_MS)

        # the songs page links the ledger
        page.goto(url + "/")
        expect(page.locator("a.ledger-song")).to_have_text("Tune")
        page.click("header nav.studio-nav >> text=Ledger")
        expect(page).to_have_url(url + "/ledger/sessions")

        # book a session from the calendar page and see it in the month
        page.goto(url + "/ledger/sessions?month=2026-12")
        form = page.locator("#book")
        form.locator("select[name=room]").select_option("Studio A")
        form.locator("input[name=start]").fill("2026-12-10T10:00")
        form.locator("input[name=end]").fill("2026-12-10T13:00")
        form.locator("input[name=people]").fill("Ana Ruiz")
        form.locator("input[name=songs]").fill("Tune")
        page.click("#book-button")
        day = page.locator('#calendar td[data-day="2026-12-10"] .session')
        expect(day).to_have_text("10:00–13:00 Studio A · Ana Ruiz · Tune")
        expect(page.locator("#sessions tbody tr")).to_have_count(1)
        _shot(page, "calendar")

        # a double booking is refused with the ledger's message, nothing written
        form.locator("input[name=start]").fill("2026-12-10T12:00")
        form.locator("input[name=end]").fill("2026-12-10T14:00")
        form.locator("input[name=people]").fill("")
        page.click("#book-button")
        expect(page.locator("#book-message .ledger-error")).to_contain_text(
            "'Studio A' is already booked")
        _shot(page, "double-booking")
        page.reload()
        expect(page.locator("#sessions tbody tr")).to_have_count(1)

        # a release: not ready, with its failing items
        page.goto(url + "/ledger/releases")
        page.click("text=Tune EP")
        checklist = page.locator("#checklist")
        expect(checklist).to_have_attribute("data-ready", "no")
        expect(checklist.locator("li.fail")).to_have_count(2)
        expect(checklist.locator('li.fail[data-item="splits: Tune"]')).to_contain_text(
            "no split sheet")
        expect(checklist.locator('li.fail[data-item="credits: Tune"]')).to_contain_text(
            "no writer credited")
        expect(checklist.locator('li.ok[data-item="audio: Tune"]')).to_have_count(1)
        _shot(page, "release-not-ready")

        # fix it through the pages: splits that don't add up are refused, then good ones
        page.click('a[href="/ledger/songs#song-Tune"]')
        song = page.locator('section.ledger-song[data-song="Tune"]')
        expect(song.locator("a.studio-song")).to_have_attribute("href", "/songs/tune")
        splits = song.locator("form.set-splits")
        splits.locator("input[name=writers]").fill("Ana Ruiz=50, Ben Ode=40")
        splits.locator("button").click()
        expect(song.locator(".ledger-message .ledger-error").last).to_contain_text(
            "not exactly 100%")
        splits.locator("input[name=writers]").fill("Ana Ruiz=50, Ben Ode=50")
        splits.locator("button").click()
        expect(song.locator("table.splits tbody tr")).to_have_count(2)
        credit = song.locator("form.add-credit")
        credit.locator("input[name=person]").fill("Ana Ruiz")
        credit.locator("input[name=role]").fill("engineer")
        credit.locator("button").click()
        expect(song.locator("ul.credits")).to_contain_text("Ana Ruiz · engineer")
        _shot(page, "credits-and-splits")

        # and the release is ready
        page.goto(url + "/ledger/releases/Tune%20EP")
        page.click("#check-button")
        expect(page.locator("#checklist")).to_have_attribute("data-ready", "yes")
        expect(page.locator("#checklist li.fail")).to_have_count(0)
        expect(page.locator("#checklist .verdict")).to_have_text("Tune EP: ready")
        _shot(page, "release-ready")
