"""The mixer in a real browser (issue 11): Debian's chromium driven by Playwright against a
real ``mixdown serve`` over a real songs folder.

- a fader moved by keyboard and by typing changes song.toml by exactly that many dB, only
  that number, comments kept; undo (button and Ctrl+Z) restores the bytes, redo re-applies;
- undo survives a server restart;
- two tabs: the stale one gets a clear conflict, reloads, shows the other's change, and its
  own change made again lands beside it;
- an edit of song.toml from outside makes the page's next change a conflict; the file keeps
  it and the history lists "edited outside the studio";
- an out-of-range parameter typed into the page, and a send to a missing bus sent through
  the page's API, are refused with the checker's message and the file's bytes unchanged;
- mute and a low-pass cut-off changed in the mixer change the rendered audio as measured.

Screenshots go to ``test-artifacts/mixer/``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PageError

from browsers import chromium, screenshot
from mixer_song import make_mixer_song
from web_songs import running_server

TIMEOUT_MS = 120_000
PAD = "[data-strip='track:Pad']"
KEYS = "[data-strip='track:Keys']"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _shot(page: Page, name: str) -> None:
    screenshot(page, "mixer", name)


def _wait(page: Page, expression: str) -> None:
    """Poll ``expression`` in the page until it is true (the studio's CSP forbids
    wait_for_function's string evaluation; evaluate goes through DevTools). A page that
    reloads meanwhile is asked again."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        try:
            if page.evaluate(expression):
                return
        except PageError as exc:
            if "context was destroyed" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"still false: {expression}")
        page.wait_for_timeout(50)


def _open(page: Page, url: str) -> None:
    page.goto(url)
    _wait(page, "document.getElementById('mixer-root').dataset.ready === '1'")


def _edits(page: Page) -> int:
    return int(page.evaluate("Number(document.getElementById('mixer-root').dataset.edits"
                             " || 0)"))


def _after_edit(page: Page, before: int) -> None:
    _wait(page, f"Number(document.getElementById('mixer-root').dataset.edits || 0) > {before}")


def _type(page: Page, selector: str, value: str) -> None:
    """Type ``value`` into a number box and commit it (Tab), as a user does."""
    before = _edits(page)
    page.fill(selector, value)
    page.press(selector, "Tab")
    _after_edit(page, before)


def _fader(strip: str, kind: str = "number") -> str:
    return f"{strip} input[type={kind}][data-field=volume_db]"


def _changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b), "an edit added or removed lines"
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def _volume(line: str) -> float:
    return float(line.split("=", 1)[1].split("#", 1)[0])


def _render(page: Page) -> None:
    renders = int(page.evaluate("Number(document.getElementById('mixer-root').dataset"
                                ".renders || 0)"))
    page.click("#mixer-render-button")
    _wait(page, f"Number(document.getElementById('mixer-root').dataset.renders || 0) > "
                f"{renders}")


def _rendered_after_change(page: Page, renders: int) -> None:
    _wait(page, f"Number(document.getElementById('mixer-root').dataset.renders || 0) > "
                f"{renders} && document.getElementById('mixer-root').dataset.renderState"
                " === 'done' && window.mixdownMixer.state().meters.revision === "
                "document.getElementById('mixer-root').dataset.revision")


def _centroid_hz(path: Path) -> float:
    audio, sr = sf.read(path, always_2d=True)
    spectrum = np.abs(np.fft.rfft(audio.mean(axis=1)))
    freqs = np.fft.rfftfreq(audio.shape[0], 1 / sr)
    return float(np.sum(freqs * spectrum) / np.sum(spectrum))


def _rms_db(path: Path) -> float:
    audio, _ = sf.read(path, always_2d=True)
    return 10 * math.log10(float(np.mean(audio ** 2)))


def _preview(song: Path, page: Page) -> Path:
    rev = page.evaluate("window.mixdownMixer.state().meters.revision")
    assert rev == page.evaluate("document.getElementById('mixer-root').dataset.revision")
    return song / ".mixdown" / "mixer" / f"{rev}.wav"


def test_fader_undo_redo_restart_refusals_and_render(tmp_path: Path, browser: Browser) -> None:
    songs = tmp_path / "songs"
    song = make_mixer_song(songs, "mix")
    toml = song / "song.toml"
    original = toml.read_text()
    errors: list[str] = []
    with running_server(songs, env={"MIXDOWN_SECRET": ""}) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "songs/mix")
        page.click("#mixer-link")
        _wait(page, "document.getElementById('mixer-root') && "
                    "document.getElementById('mixer-root').dataset.ready === '1'")
        _shot(page, "1-mixer")

        # a fader moved with the keyboard: one step of 0.5 dB, only that number changes
        before = _edits(page)
        page.focus(_fader(PAD, "range"))
        page.keyboard.press("ArrowRight")
        _after_edit(page, before)
        step1 = toml.read_text()
        [(old, new)] = _changed_lines(original, step1)
        assert old == "volume_db = -6.0      # the fader"
        assert _volume(new) - _volume(old) == 0.5 and new.endswith("      # the fader")
        assert page.input_value(_fader(PAD)) == "-5.5"

        # typed: exactly -4.5 dB, only that number changes, the comment stays
        _type(page, _fader(PAD), "-4.5")
        step2 = toml.read_text()
        assert _changed_lines(step1, step2) == [("volume_db = -5.5      # the fader",
                                                 "volume_db = -4.5      # the fader")]
        expect(page.locator("[data-edit-message]")).to_contain_text("Pad volume -4.5 dB")

        # undo with the button, then with Ctrl+Z: the file byte for byte; redo both ways
        before = _edits(page)
        page.click("[data-undo]")
        _after_edit(page, before)
        assert toml.read_text() == step1
        before = _edits(page)
        page.click("h1")
        page.keyboard.press("Control+z")
        _after_edit(page, before)
        assert toml.read_text() == original
        assert page.input_value(_fader(PAD)) == "-6"
        before = _edits(page)
        page.keyboard.press("Control+Shift+z")
        _after_edit(page, before)
        assert toml.read_text() == step1
        before = _edits(page)
        page.click("[data-redo]")
        _after_edit(page, before)
        assert toml.read_text() == step2
        assert page.input_value(_fader(PAD)) == "-4.5"
        context.close()

    # the history survives a restart: undo in a new page of a new server
    with running_server(songs, env={"MIXDOWN_SECRET": ""}) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda e: errors.append(str(e)))
        _open(page, url + "songs/mix/mixer")
        assert page.input_value(_fader(PAD)) == "-4.5"
        before = _edits(page)
        page.click("[data-undo]")
        _after_edit(page, before)
        assert toml.read_text() == step1
        assert page.input_value(_fader(PAD)) == "-5.5"

        # refused: a parameter out of range typed into the page, the checker's message shown
        held = toml.read_bytes()
        cutoff = f"{PAD} [data-device='0'] [data-param=cutoff_hz] input[type=number]"
        page.fill(cutoff, "99999")
        page.press(cutoff, "Tab")
        expect(page.locator("[data-edit-message]")).to_contain_text(
            "cutoff_hz: must be <= 20000, got 99999")
        assert toml.read_bytes() == held
        expect(page.locator(cutoff)).to_have_value("12000")  # the control shows the file
        _shot(page, "2-refused")
        # ... and a send to a missing bus, sent through the page's API
        page.evaluate("window.mixdownMixer.change({op: 'send', strip: {kind: 'track', "
                      "name: 'Keys'}, to: 'Nowhere', level_db: -3})")
        expect(page.locator("[data-edit-message]")).to_contain_text("no bus 'Nowhere'")
        assert toml.read_bytes() == held

        # mute takes the keys out of the render, measured
        _render(page)
        full = _preview(song, page)
        meters = page.evaluate("window.mixdownMixer.state().meters.strips")
        keys_rms = meters["track:Keys"]["rms_dbfs"]
        before = _edits(page)
        page.check(f"{KEYS} input[data-field=mute]")
        _after_edit(page, before)
        assert "mute = true" in toml.read_text()
        _render(page)
        muted = _preview(song, page)
        assert page.get_attribute("[data-meter='track:Keys']", "data-peak") == "-150"
        expected = 10 * math.log10(10 ** (_rms_db(full) / 10) - 10 ** (keys_rms / 10))
        assert _rms_db(muted) == pytest.approx(expected, abs=0.3)
        assert _rms_db(muted) < _rms_db(full)

        # with "render after each change", a lower low-pass cut-off darkens the render
        page.check("#mixer-auto-render")
        renders = int(page.evaluate("Number(document.getElementById('mixer-root').dataset"
                                    ".renders || 0)"))
        _type(page, cutoff, "300")
        assert "cutoff_hz = 300" in toml.read_text()
        _rendered_after_change(page, renders)
        dark = _preview(song, page)
        bright_hz, dark_hz = _centroid_hz(muted), _centroid_hz(dark)
        assert dark_hz < 0.7 * bright_hz, (bright_hz, dark_hz)
        pad_meter = page.evaluate("window.mixdownMixer.state().meters.strips['track:Pad']")
        assert pad_meter["rms_dbfs"] < meters["track:Pad"]["rms_dbfs"]
        _shot(page, "3-rendered")

        # a reviewer is shown no mixer and is refused it
        page.goto(url + "songs/mix")
        page.fill("form[hx-post$='/shares'] input[name=label]", "the artist")
        page.click("#share-button")
        link = page.locator("#share-url").input_value()
        reviewer = browser.new_context().new_page()
        reviewer.goto(link)
        assert reviewer.locator("#mixer-link").count() == 0
        assert reviewer.goto(url + "songs/mix/mixer").status == 403
        context.close()
    assert not errors, errors


def test_two_tabs_and_an_outside_edit_lose_nothing(tmp_path: Path, browser: Browser) -> None:
    songs = tmp_path / "songs"
    song = make_mixer_song(songs, "mix")
    toml = song / "song.toml"
    with running_server(songs, env={"MIXDOWN_SECRET": ""}) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        one, two = context.new_page(), context.new_page()
        for p in (one, two):
            p.set_default_timeout(TIMEOUT_MS)
            _open(p, url + "songs/mix/mixer")

        # tab one moves the pad; tab two, stale, moves the keys: a conflict, then a reload
        _type(one, _fader(PAD), "-3")
        two.evaluate("window.beforeReload = true")
        two.fill(_fader(KEYS), "-12")
        two.press(_fader(KEYS), "Tab")
        expect(two.locator("[data-edit-message]")).to_contain_text(
            "changed since this page loaded it")
        _shot(two, "4-conflict")
        _wait(two, "window.beforeReload === undefined && document.getElementById("
                   "'mixer-root') && document.getElementById('mixer-root').dataset.ready"
                   " === '1'")
        assert two.input_value(_fader(PAD)) == "-3"  # tab one's change is shown
        assert two.input_value(_fader(KEYS)) == "-9"
        assert "volume_db = -12" not in toml.read_text()
        _type(two, _fader(KEYS), "-12")  # made again: both changes are in the file
        text = toml.read_text()
        volumes = [_volume(line) for line in text.splitlines() if line.startswith("volume_db")]
        assert volumes[:2] == [-3.0, -12.0] and "# the fader" in text

        # an outside edit: the page's next change is a conflict; the edit is kept and listed
        outside = text.replace("pan = -0.25", "pan = 0.4")
        toml.write_text(outside)
        one.evaluate("window.beforeReload = true")
        one.check(f"{KEYS} input[data-field=mute]")
        expect(one.locator("[data-edit-message]")).to_contain_text("changed since")
        _wait(one, "window.beforeReload === undefined && document.getElementById("
                   "'mixer-root') && document.getElementById('mixer-root').dataset.ready"
                   " === '1'")
        assert toml.read_text() == outside
        one.click(".mixer-history summary")
        expect(one.locator("#mixer-history")).to_contain_text("edited outside the studio")
        assert one.input_value(f"{PAD} input[type=number][data-field=pan]") == "0.4"
        before = _edits(one)
        one.check(f"{KEYS} input[data-field=mute]")
        _after_edit(one, before)
        assert "pan = 0.4" in toml.read_text() and "mute = true" in toml.read_text()
        _shot(one, "5-history")
        context.close()
