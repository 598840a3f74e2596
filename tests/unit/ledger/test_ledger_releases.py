"""A release is ready only when its checklist holds: real delivered audio that passed its
platform's spec, artwork of the required size, complete credits and splits."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from mixdown.db import Database
from mixdown.ledger.errors import LedgerError
from mixdown.services import ledger as L

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))
ISRC = "USRC17607839"


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real `mixdown deliver` of a new project for Spotify (FLAC), with the track's ISRC."""
    root = tmp_path_factory.mktemp("delivery")
    project = root / "night-drive"
    subprocess.run([MIXDOWN, "new", str(project), "--title", "Night Drive"], check=True,
                   capture_output=True)
    out = root / "delivery"
    proc = subprocess.run([MIXDOWN, "deliver", str(project), "--targets", "spotify",
                           "--formats", "flac", "--no-stems", "-o", str(out), "--isrc", ISRC],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture
def artwork(tmp_path: Path) -> tuple[Path, Path]:
    big, small = tmp_path / "cover.png", tmp_path / "small.png"
    Image.new("RGB", (3000, 3000), (20, 30, 40)).save(big)
    Image.new("RGB", (1400, 1400), (20, 30, 40)).save(small)
    return big, small


def _items(db: Database) -> dict[str, bool]:
    return {i.name: i.ok for i in L.check_release(db, "Night Drive EP").items}


def test_ready_only_when_every_item_holds(db: Database, delivered: Path, tmp_path: Path,
                                          artwork: tuple[Path, Path]) -> None:
    L.add_person(db, "Ana Ruiz", roles=["engineer"])
    L.add_person(db, "Ben Ode", roles=["writer"])
    L.add_room(db, "Studio A", rate="60", currency="EUR")
    L.add_song(db, "Night Drive", project=delivered.parent / "night-drive")
    L.book_session(db, room="Studio A", start="2026-12-01T10:00", end="2026-12-01T14:00",
                   people=["Ana Ruiz"], songs=["Night Drive"])
    r = L.add_release(db, "Night Drive EP", artist="Ana Ruiz", upc="012345678905",
                      release_date="2027-01-15", tracks=[f"Night Drive={ISRC}"],
                      platform="spotify")
    assert r.tracks[0].isrc == ISRC
    check = L.check_release(db, "Night Drive EP")
    assert not check.ready and check.as_dict()["ready"] is False
    assert _items(db) == {"metadata": True, "audio: Night Drive": False, "artwork": False,
                          "credits: Night Drive": False, "splits: Night Drive": False}

    L.edit_release(db, "Night Drive EP", deliveries=[f"Night Drive={delivered}"])
    L.edit_release(db, "Night Drive EP", artwork=str(artwork[1]))
    items = {i.name: i for i in L.check_release(db, "Night Drive EP").items}
    assert items["audio: Night Drive"].ok, items["audio: Night Drive"].detail
    assert not items["artwork"].ok and "1400x1400" in items["artwork"].detail
    L.edit_release(db, "Night Drive EP", artwork=str(artwork[0]))
    L.set_splits(db, "Night Drive", writers=["Ana Ruiz=60", "Ben Ode=40"])
    assert _items(db)["splits: Night Drive"] and not _items(db)["credits: Night Drive"]
    L.derive_credits(db, "Night Drive")
    assert L.check_release(db, "Night Drive EP").ready, L.check_release(db, "Night Drive EP")

    # the audio must be delivered for the release's platform...
    L.edit_release(db, "Night Drive EP", platform="apple-music")
    item = {i.name: i for i in L.check_release(db, "Night Drive EP").items}["audio: Night Drive"]
    assert not item.ok and "not delivered for apple-music" in item.detail
    L.edit_release(db, "Night Drive EP", platform="spotify")
    # ...under the track's ISRC...
    L.edit_release(db, "Night Drive EP", tracks=["Night Drive=GB-ABC-26-00001"],
                   deliveries=[f"Night Drive={delivered}"])
    item = {i.name: i for i in L.check_release(db, "Night Drive EP").items}["audio: Night Drive"]
    assert not item.ok and "ISRC" in item.detail
    L.edit_release(db, "Night Drive EP", tracks=[f"Night Drive={ISRC}"],
                   deliveries=[f"Night Drive={delivered}"])
    assert L.check_release(db, "Night Drive EP").ready
    # ...and the delivered files must be there and have passed.
    copy = tmp_path / "copy"
    shutil.copytree(delivered, copy)
    report = json.loads((copy / "delivery.json").read_text())
    flac = Path(report["targets"][0]["deliverables"][0]["path"])
    report["targets"][0]["deliverables"][0]["path"] = str(copy / flac.relative_to(delivered))
    (copy / "delivery.json").write_text(json.dumps(report))
    L.edit_release(db, "Night Drive EP", deliveries=[f"Night Drive={copy}"])
    assert L.check_release(db, "Night Drive EP").ready
    (copy / flac.relative_to(delivered)).unlink()
    item = {i.name: i for i in L.check_release(db, "Night Drive EP").items}["audio: Night Drive"]
    assert not item.ok and "missing" in item.detail
    report["targets"][0]["deliverables"][0]["passed"] = False
    (copy / "delivery.json").write_text(json.dumps(report))
    item = {i.name: i for i in L.check_release(db, "Night Drive EP").items}["audio: Night Drive"]
    assert not item.ok and "fails its spec" in item.detail


def test_release_codes_are_checked(db: Database) -> None:
    L.add_song(db, "Night Drive")
    for kwargs, match in (({"upc": "012345678906"}, "check digit"),
                          ({"upc": "01234567890"}, "12 digits"),
                          ({"tracks": ["Night Drive=USRC1760783"]}, "ISRC"),
                          ({"tracks": ["Night Drive=US-RC1-76-0783O"]}, "ISRC"),
                          ({"release_date": "2027-02-30"}, "real date"),
                          ({"tracks": ["Nite Drive=USRC17607839"]}, "unknown song")):
        with pytest.raises(LedgerError, match=match):
            L.add_release(db, "EP", artist="A", **kwargs)
    assert L.list_releases(db) == ()
