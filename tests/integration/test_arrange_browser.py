"""The arrangement view in a real browser: Debian's chromium driven by Playwright against a
real ``mixdown serve`` over a real song folder (audio files, a commented song.toml).

Drag a clip one bar later and find its start one bar later in song.toml with the comments
intact; trim a clip by its edge; split a clip at the cursor and undo it (song.toml restored
byte for byte); set a fade shape in the inspector; click an automation lane to add a point;
an invalid operation is refused with the message shown and the file unchanged. Screenshots
go to ``test-artifacts/arrange/``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from arrange_songs import SONG, make_arrange_song
from browsers import AUTOPLAY, chromium, screenshot
from mixdown.io.project import load_project
from web_songs import running_server

TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(AUTOPLAY) as b:
        yield b


def _shot(page: Page, name: str) -> None:
    screenshot(page, "arrange", name)


def _until(check, what) -> None:
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not: {what() if callable(what) else what}")
        time.sleep(0.05)


def _drag(page: Page, selector: str, dx: float, *, at: str = "middle") -> None:
    """Press on ``selector`` (its middle, or 3 px inside its left/right edge), move by
    ``dx`` px in steps, release."""
    box = page.locator(selector).bounding_box()
    assert box is not None
    x = {"middle": box["x"] + box["width"] / 2, "left": box["x"] + 3,
         "right": box["x"] + box["width"] - 3}[at]
    y = box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y, steps=5)
    page.mouse.move(x + dx, y, steps=5)
    page.mouse.up()


def _state_revision(page: Page) -> str:
    return page.evaluate("document.getElementById('arrange').dataset.revision")


def _redrawn(page: Page, before: str) -> None:
    """Wait for the edit to land and the page to have fetched the new state."""
    _until(lambda: page.evaluate("(() => { const d = document.getElementById('arrange')"
                                 ".dataset; return d.drawn === d.revision ? d.drawn : ''; })()")
           not in ("", before),
           lambda: "the page's revision changed; the page says "
           + repr(page.locator("[data-edit-message]").inner_text()))


def test_arrange_in_the_browser(tmp_path: Path, browser: Browser) -> None:
    songs = tmp_path / "songs"
    song = make_arrange_song(songs)
    toml = song / "song.toml"
    with running_server(songs, env={"MIXDOWN_SECRET": ""}) as url:
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto(url.rstrip("/") + "/songs/tune")
        page.click("#arrange-link")
        clip = '.arr-clip[data-track="Vox"][data-clip="0"]'
        expect(page.locator(clip)).to_be_visible()
        expect(page.locator(".arr-section")).to_have_text(["Verse", "Chorus"])
        expect(page.locator(".arr-tempo").first).to_contain_text("100 bpm")
        page.wait_for_load_state("networkidle")  # the waveforms
        _shot(page, "1-arrangement")
        ppb = page.evaluate("(() => { const a = document.querySelectorAll('.arr-bar');"
                            " return (a[1].getBoundingClientRect().left"
                            " - a[0].getBoundingClientRect().left) / 4; })()")
        assert ppb > 5

        # drag the take one bar later: song.toml says "3:1", the rest byte for byte
        rev = _state_revision(page)
        _drag(page, clip, 4 * ppb + 3)  # 3 px off: the beat grid snaps it
        _redrawn(page, rev)
        text = toml.read_text()
        assert '{ start = "3:1", file = "audio/noise.wav" },  # the take' in text
        assert text.replace('"3:1", file = "audio/noise', '"2:1", file = "audio/noise') == SONG
        expect(page.locator(clip)).to_contain_text("3:1")
        _shot(page, "2-moved")

        # trim the tone's end by one beat with its right edge
        tone = '.arr-clip[data-track="Vox"][data-clip="1"]'
        rev = _state_revision(page)
        _drag(page, tone, -ppb, at="right")
        _redrawn(page, rev)
        assert load_project(song).track("Vox").clips[1].length == 3.0
        assert '{ start = "6:1", file = "audio/dc.wav", length = 3 },  # a steady tone' \
            in toml.read_text()

        # split at a clicked position, then undo: the file comes back byte for byte
        before = toml.read_bytes()
        page.locator(clip).click()
        box = page.locator(clip).bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 6 * ppb + 2, box["y"] + box["height"] / 2)  # beat 14
        expect(page.locator("#arr-cursor")).to_have_text("cursor 4:3")
        rev = _state_revision(page)
        page.keyboard.press("s")
        _redrawn(page, rev)
        clips = load_project(song).track("Vox").clips
        assert [c.start for c in clips[:2]] == ["3:1", "4:3"]
        expect(page.locator('.arr-clip[data-track="Vox"]')).to_have_count(3)
        _shot(page, "3-split")
        rev = _state_revision(page)
        page.click("[data-undo]")
        _redrawn(page, rev)
        assert toml.read_bytes() == before
        expect(page.locator('.arr-clip[data-track="Vox"]')).to_have_count(2)

        # the inspector: fade out 0.5 s with an S-curve
        page.locator(tone).click()
        expect(page.locator("#arr-inspector")).to_be_visible()
        rev = _state_revision(page)
        page.fill("#arr-fade-out", "0.5")
        page.locator("#arr-fade-out").press("Tab")
        _redrawn(page, rev)
        page.locator(tone).click()
        rev = _state_revision(page)
        page.select_option("#arr-fade-out-shape", "s_curve")
        _redrawn(page, rev)
        c = load_project(song).track("Vox").clips[1]
        assert (c.fade_out_s, c.fade_out_shape) == (0.5, "s_curve")
        expect(page.locator(tone + " .arr-fades path")).to_have_count(1)
        _shot(page, "4-inspector")

        # click the Vox volume lane at bar 5 to add a point there
        lane = page.locator('.arr-lane-row[data-target="Vox"][data-param="volume_db"] svg')
        lbox = lane.bounding_box()
        assert lbox is not None
        head = page.evaluate("document.querySelector('.arr-bar').getBoundingClientRect().left")
        rev = _state_revision(page)
        page.mouse.click(head + 16 * ppb + 2, lbox["y"] + lbox["height"] / 2)
        _redrawn(page, rev)
        lanes = load_project(song).track("Vox").automation
        assert len(lanes) == 1 and lanes[0].param == "volume_db"
        assert lanes[0].points[0].at == "5:1" and -48 <= lanes[0].points[0].value <= 12
        expect(lane.locator("circle")).to_have_count(1)
        _shot(page, "5-automation")

        # an invalid operation: split a note clip where one side would have no notes
        keys = '.arr-clip[data-track="Keys"][data-clip="0"]'
        page.locator(keys).click()
        kbox = page.locator(keys).bounding_box()
        assert kbox is not None
        page.mouse.click(kbox["x"] + 7.5 * ppb, kbox["y"] + kbox["height"] / 2)  # beat 7.5
        before = toml.read_bytes()
        page.click("#arr-split")
        message = page.locator("[data-edit-message]")
        expect(message).to_contain_text("would have no notes")
        expect(message).to_have_attribute("data-kind", "error")
        assert toml.read_bytes() == before
        _shot(page, "6-refused")
        assert errors == []


def test_the_last_render_plays_with_a_playhead(tmp_path: Path, browser: Browser) -> None:
    from mixdown.services import review

    songs = tmp_path / "songs"
    make_arrange_song(songs)
    studio = review.open_studio(songs)
    try:
        version = review.render_version(studio, "tune", "first mix")
    finally:
        studio.close()
    with running_server(songs, env={"MIXDOWN_SECRET": ""}) as url:
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url.rstrip("/") + "/songs/tune/arrange")
        audio = page.locator("#arr-audio")
        expect(audio).to_have_attribute("src", f"/songs/tune/versions/{version.number}/audio")
        expect(page.locator(".arr-clip").first).to_be_visible()
        start = page.evaluate("document.getElementById('arr-playhead').getBoundingClientRect()"
                              ".left")
        page.click("#arr-play")
        _until(lambda: page.evaluate("document.getElementById('arr-audio').currentTime") > 0.6,
               "the render plays")
        expect(page.locator("#arr-play")).to_have_text("Pause")
        # the playhead follows the audio: 0.6 s is one beat at 100 bpm
        _until(lambda: page.evaluate("document.getElementById('arr-playhead')"
                                     ".getBoundingClientRect().left") > start + 20,
               "the playhead moves")
        _shot(page, "7-playing")
        page.keyboard.press(" ")
        expect(page.locator("#arr-play")).to_have_text("Play")
