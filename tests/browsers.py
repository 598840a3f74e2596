"""What every browser test shares: Debian's chromium driven by Playwright (Playwright
never downloads a browser here), its flags, and screenshots under ``test-artifacts/``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update")
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@contextlib.contextmanager
def chromium(*extra_flags: str) -> Iterator[Browser]:
    """A headless chromium with :data:`FLAGS` plus ``extra_flags``."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*FLAGS, *extra_flags],
                                    headless=True)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Page, folder: str, name: str, *, selector: str | None = None) -> Path:
    """Save the whole page (or the element at ``selector``) as test-artifacts/FOLDER/NAME.png."""
    path = ARTIFACTS / folder / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    if selector is None:
        page.screenshot(path=str(path), full_page=True)
    else:
        page.locator(selector).screenshot(path=str(path))
    return path


def wait_true(page: Page, expression: str, timeout_ms: float) -> None:
    """Poll ``expression`` in the page until it is true (the studio's CSP forbids
    ``wait_for_function``'s string evaluation; ``evaluate`` goes through DevTools)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false: {expression}")
        page.wait_for_timeout(100)


__all__: Sequence[str] = ["AUTOPLAY", "CHROMIUM", "FLAGS", "chromium", "screenshot",
                          "wait_true"]
