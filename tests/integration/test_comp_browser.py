"""Choosing the comp in the browser (issue 11): a song with two known takes; in the comp
panel the user clicks take 1's lane in bars 1 and 2 and take 2's lane in bars 3 and 4 (the
clicks merge into the ranges 1:1 .. 3:1 and 3:1 .. 5:1), sets the crossfade and saves: one
undo step. The rendered project then plays take 1 up to bar 3 and take 2 after the
crossfade, with no click; undo restores song.toml byte for byte. A screenshot goes to
``test-artifacts/comp/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from browsers import chromium, screenshot, wait_true
from comp_songs import BAR, SR, check_switch, make_comp_song
from mixdown import load
from mixdown.services.history import history
from mixdown.services.render import render_audio
from web_songs import running_server

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _wait(page: Page, expression: str) -> None:
    wait_true(page, expression, TIMEOUT_MS)


def test_comp_two_takes_in_the_page_then_render_and_undo(tmp_path: Path,
                                                         browser: Browser) -> None:
    songs = tmp_path / "songs"
    song = make_comp_song(songs)
    original = (song / "song.toml").read_bytes()
    with running_server(songs, env={"MIXDOWN_SECRET": ""}) as url:
        page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url.rstrip("/") + "/songs/tune/record")
        page.click("a.comp-link")
        expect(page.locator("h1")).to_have_text("Comp Vox")
        for take, bar in (("take 1", 1), ("take 1", 2), ("take 2", 3), ("take 2", 4)):
            page.click(f'.comp-lane[data-lane="{take}"] .comp-bar[data-bar="{bar}"]')
        rows = page.locator("#comp-ranges tbody tr")
        expect(rows).to_have_count(2)
        assert [rows.nth(i).locator("input").nth(0).input_value() for i in range(2)] == [
            "1:1", "3:1"]
        assert [rows.nth(i).locator("input").nth(1).input_value() for i in range(2)] == [
            "3:1", "5:1"]
        assert [rows.nth(i).locator("select").input_value() for i in range(2)] == [
            "take 1", "take 2"]
        expect(page.locator(".comp-range")).to_have_count(2)
        page.fill("#comp-crossfade", "0.03")
        page.click("#comp-save")
        _wait(page, "document.getElementById('comp').dataset.saved === '1'")
        expect(page.locator("[data-edit-message]")).to_have_text("comp Vox")
        screenshot(page, "comp", "comp-panel")

        assert len(history(song).steps) == 1
        text = (song / "song.toml").read_text()
        assert "# lead vocal" in text and "# the better chorus" in text
        project = load(song)
        assert project.track("Vox").comp_crossfade_s == 0.03
        audio, sr = render_audio(project, root=song)
        assert sr == SR and audio.shape[1] == 4 * BAR
        check_switch(audio[0], 2 * BAR, 0.03)  # take 1 to bar 3, take 2 after, no click

        # an overlapping range typed in the table is refused with the checker's message
        page.locator("#comp-ranges tbody tr").nth(1).locator("input").nth(0).fill("2:1")
        page.locator("#comp-ranges tbody tr").nth(1).locator("input").nth(0).dispatch_event(
            "change")
        saved = (song / "song.toml").read_bytes()
        page.click("#comp-save")
        expect(page.locator("[data-edit-message]")).to_contain_text("must not overlap")
        assert (song / "song.toml").read_bytes() == saved

        page.click("[data-undo]")
        _wait(page, "document.querySelector('[data-undo]').disabled === true")
        assert not errors, errors
    assert (song / "song.toml").read_bytes() == original
