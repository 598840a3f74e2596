"""The studio's front-end libraries are the ones package-lock.json pins, as installed from
the npm registry by ``make vendor`` (htmx on its 2.x API, not the registry's newest)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
VENDOR = REPO / "src" / "mixdown" / "server" / "static" / "vendor"
MODULES = REPO / "build" / "web" / "node_modules"
FILES = {
    "htmx.min.js": ("htmx.org", "dist/htmx.min.js"),
    "wavesurfer.min.js": ("wavesurfer.js", "dist/wavesurfer.min.js"),
    "wavesurfer.regions.min.js": ("wavesurfer.js", "dist/plugins/regions.min.js"),
    "wavesurfer.timeline.min.js": ("wavesurfer.js", "dist/plugins/timeline.min.js"),
}


def _locked(package: str) -> str:
    lock = json.loads((REPO / "package-lock.json").read_text())
    return lock["packages"][f"node_modules/{package}"]["version"]


def test_htmx_is_pinned_to_major_2() -> None:
    manifest = json.loads((REPO / "package.json").read_text())
    assert manifest["dependencies"]["htmx.org"] == _locked("htmx.org")
    assert _locked("htmx.org").startswith("2.")
    assert f'version:"{_locked("htmx.org")}"' in (VENDOR / "htmx.min.js").read_text()


@pytest.mark.parametrize("name", sorted(FILES))
def test_vendored_file_is_the_locked_package_file(name: str) -> None:
    package, inner = FILES[name]
    installed = json.loads((MODULES / package / "package.json").read_text())
    assert installed["version"] == _locked(package)
    assert (VENDOR / name).read_bytes() == (MODULES / package / inner).read_bytes()
