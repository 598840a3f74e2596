"""The web studio in a real browser: Debian's chromium driven by Playwright, against a real
``mixdown serve`` (uvicorn in a subprocess) over a real songs folder.

One acceptance flow (issue 10): open the songs page, render a version and watch its progress,
play, seek, post a comment at bar 17 beat 1, change the tempo, render again and find the
comment at bar 17 beat 1 of the new version, A/B the two versions with the gain read from
the page's Web Audio gain nodes, approve, and open a review link as a reviewer who is refused
a render. A screenshot of each page goes to ``test-artifacts/studio/``.
"""

from __future__ import annotations

import json
import math
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from browsers import AUTOPLAY, chromium, screenshot
from web_songs import make_song, running_server

TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(AUTOPLAY) as b:
        yield b


def _shot(page: Page, name: str) -> None:
    screenshot(page, "studio", name)


def _render(page: Page, note: str) -> int:
    """Click Render on the song page, watch the progress, return the new version number."""
    page.fill("#render form input[name=note], form[hx-post$='/render'] input[name=note]",
              note)
    page.click("#render-button")
    job = page.locator(".job").first
    expect(job).to_have_attribute("data-state", "done", timeout=TIMEOUT_MS)
    seen = float(job.get_attribute("data-percent") or 0)
    assert seen > 0, "no progress event reached the page"
    link = job.locator(".job-text a")
    return int(link.inner_text().split()[-1])


def _wait(page: Page, expression: str) -> None:
    """Poll ``expression`` until it is true. (Playwright's wait_for_function evaluates a
    string inside the page, which the studio's Content-Security-Policy forbids; evaluate
    goes through the DevTools protocol.)"""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false: {expression}")
        page.wait_for_timeout(50)


def _db(gain: float) -> float:
    return 20 * math.log10(gain)


def test_acceptance_flow(tmp_path: Path, browser: Browser) -> None:
    songs = tmp_path / "songs"
    make_song(songs, "tune", title="Night <Drive>", tempo=240, bars=18, volume_db=-8.0)
    make_song(songs, "other", title="Other", bars=3)
    with running_server(songs, env={"MIXDOWN_SECRET": ""}) as url:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        # the songs page
        page.goto(url)
        expect(page.locator("tr[data-song=tune]")).to_contain_text("Night <Drive>")
        expect(page.locator("tr[data-song=tune]")).to_contain_text("240 bpm")
        _shot(page, "1-songs")

        # render a version from the song page, watching its progress
        page.click("tr[data-song=tune] a")
        expect(page.locator("h1")).to_have_text("Night <Drive>")
        first = _render(page, "first mix")
        assert first == 1
        _shot(page, "2-song")

        # the version page: play, seek
        page.click(".job-text a")
        _wait(page, "window.mixdownPlayer && window.mixdownPlayer.getDuration() > 0")
        duration = page.evaluate("window.mixdownPlayer.getDuration()")
        assert 17 <= duration <= 18  # 17 bars of 4/4 at 240 bpm, and a 0.5 s tail
        page.click("#play")
        _wait(page, "window.mixdownPlayer.getCurrentTime() > 0.2")
        page.click("#play")
        assert not page.evaluate("window.mixdownPlayer.isPlaying()")
        # with the Play button focused (just clicked), the arrows still move by a bar
        assert page.evaluate("document.activeElement.id") == "play"
        paused = page.evaluate("window.mixdownPlayer.getCurrentTime()")
        page.keyboard.press("ArrowRight")
        _wait(page, f"Math.abs(window.mixdownPlayer.getCurrentTime() - {paused + 1}) < 0.05")
        box = page.locator("#waveform").bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
        _wait(page, f"Math.abs(window.mixdownPlayer.getCurrentTime() - "
                    f"{duration / 2}) < 0.3")
        # the click filled the comment position with the bar under it (1 s per bar)
        clicked = page.evaluate("window.mixdownPlayer.getCurrentTime()")
        assert page.input_value("#comment-form [name=bar]") == str(int(clicked) + 1)
        page.keyboard.press("ArrowRight")  # one bar on
        _wait(page, f"Math.abs(window.mixdownPlayer.getCurrentTime() - "
                    f"{duration / 2 + 1}) < 0.3")
        page.keyboard.press("l")  # loop the section under the playhead: the chorus, bar 9 on
        assert page.evaluate("window.mixdownLoop.get().name") == "Chorus"
        assert page.input_value("#loop-section") == "Chorus"
        page.keyboard.press("l")
        assert page.evaluate("window.mixdownLoop.get() === null")
        page.evaluate("window.mixdownPlayer.pause()")
        page.keyboard.press("Space")
        _wait(page, "window.mixdownPlayer.isPlaying()")
        page.keyboard.press("Space")
        _wait(page, "!window.mixdownPlayer.isPlaying()")

        # a comment at bar 17 beat 1
        page.fill("#comment-form [name=bar]", "17")
        page.fill("#comment-form [name=beat]", "1")
        page.fill("#comment-form [name=text]", "vocal too loud <here>")
        page.click("#comment-button")
        comment = page.locator("li[data-position='17:1']")
        expect(comment).to_contain_text("vocal too loud <here>")
        assert float(comment.get_attribute("data-seconds") or 0) == pytest.approx(16.0)
        _wait(page, "window.mixdownPlayer && window.mixdownPlayer.getDuration() > 0")
        _shot(page, "3-version-1")

        # change the tempo (and the level) in song.toml, render again
        toml = songs / "tune" / "song.toml"
        toml.write_text(toml.read_text().replace("tempo = 240", "tempo = 200")
                        .replace("volume_db = -8.0", "volume_db = -3.0"))
        page.goto(url + "songs/tune")
        second = _render(page, "slower, louder")
        assert second == 2
        page.click(".job-text a")
        comment = page.locator("li[data-position='17:1']")
        expect(comment).to_contain_text("vocal too loud <here>")
        # bar 17 beat 1 at 200 bpm: 64 beats * 0.3 s
        assert float(comment.get_attribute("data-seconds") or 0) == pytest.approx(19.2)
        data = json.loads(page.inner_text("#version-data"))
        pinned = [c for c in data["comments"] if c["bar"] == 17]
        assert pinned and pinned[0]["seconds"] == pytest.approx(19.2)
        _wait(page, "window.mixdownPlayer && window.mixdownPlayer.getDuration() > 0")
        _shot(page, "4-version-2")

        # loudness-matched A/B of the two versions
        with urllib.request.urlopen(url + "api/songs/tune/versions", timeout=30) as r:
            versions = {v["number"]: v for v in json.load(r)}
        louder_by = versions[2]["integrated_lufs"] - versions[1]["integrated_lufs"]
        assert louder_by > 3
        page.goto(url + "songs/tune/compare?a=1&b=2")
        _wait(page, "document.body.dataset.abReady === '1'")
        gains = page.evaluate("window.mixdownAB.sides.map(s => s.match.gain.value)")
        applied = _db(gains[0]) - _db(gains[1])  # B turned down by as much as it is louder
        assert applied == pytest.approx(louder_by, abs=0.1)
        assert max(gains) == pytest.approx(1.0)  # nothing is turned up
        page.click("#ab-play")
        _wait(page, "window.mixdownAB.position() > 0.3")
        before = page.evaluate("window.mixdownAB.position()")
        page.keyboard.press("b")
        _wait(page, "window.mixdownAB.sides[1].sw.gain.value > 0.99 && "
                               "window.mixdownAB.sides[0].sw.gain.value < 0.01")
        after = page.evaluate("window.mixdownAB.position()")
        assert after >= before  # the same playhead: switched without a restart
        assert page.evaluate("window.mixdownAB.sides.every(s => s.source !== null)")
        expect(page.locator("#ab-status")).to_contain_text("hearing v2")
        expect(page.locator("#changes")).to_contain_text("200")
        _shot(page, "5-compare")
        page.click("#ab-play")

        # approve version 2
        page.goto(url + "songs/tune/versions/2")
        page.select_option("#status-form select", "approved")
        page.click("#status-button")
        expect(page.locator("#version-status")).to_have_text("approved")
        page.goto(url)
        expect(page.locator("tr[data-song=tune]")).to_contain_text("✔ v2")

        # a review link, opened by a reviewer in another browser
        page.goto(url + "songs/tune")
        page.fill("form[hx-post$='/shares'] input[name=label]", "the artist")
        page.click("#share-button")
        link = page.locator("#share-url").input_value()
        assert "/r/" in link
        reviewer = browser.new_context().new_page()
        reviewer.set_default_timeout(TIMEOUT_MS)
        reviewer.goto(link)
        expect(reviewer.locator("h1")).to_have_text("Night <Drive>")
        assert reviewer.locator("#render-button").count() == 0
        refused = reviewer.evaluate("""async () => {
            const r = await fetch('/songs/tune/render', {method: 'POST',
              headers: {'X-CSRF-Token': document.body.dataset.csrf,
                        'Content-Type': 'application/x-www-form-urlencoded'},
              body: 'note=mine'});
            return [r.status, (await r.json()).error.message];
        }""")
        assert refused[0] == 403 and "render" in refused[1]
        reviewer.goto(url + "songs/tune/versions/2")
        expect(reviewer.locator("li[data-position='17:1']")).to_be_visible()
        _shot(reviewer, "6-reviewer")
        assert reviewer.goto(url + "songs/other").status == 403
        assert not errors, errors
        context.close()
