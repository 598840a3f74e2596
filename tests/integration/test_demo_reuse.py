"""The demo writes its repeated parts once (clip definitions placed with ``use`` and
``loop``); it plays exactly the notes of the old demo that wrote them out four times."""

from __future__ import annotations

import shutil
from pathlib import Path

from mixdown.io.catalog import AssetCatalog
from mixdown.io.midi_export import project_to_midi
from mixdown.io.project import open_project
from mixdown.resolve import resolve_project

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
WRITTEN_OUT = Path(__file__).resolve().parent / "data" / "demo_written_out.toml"


def _events(root: Path) -> dict[str, tuple[tuple[int, int, float, int], ...]]:
    pf = open_project(root)
    song = resolve_project(pf.project, AssetCatalog(root, dry_run=True))
    return {ch.name: tuple((n.start_frame, n.end_frame, n.pitch, n.velocity)
                           for n in ch.instrument.notes)
            for ch in song.channels if ch.instrument is not None}


def test_the_demo_defines_its_repeated_parts_once() -> None:
    text = (DEMO / "song.toml").read_text(encoding="utf-8")
    p = open_project(DEMO).project
    assert set(p.clips) >= {"bassline", "changes", "arpeggio", "hook"}
    assert text.count('["A1", 0, 0.75, 110]') == 1  # the bass line is written once
    bass = p.track("Bass")
    assert [c.use for c in bass.clips] == ["bassline"] * 4
    assert all(c.loop for c in bass.clips)


def test_the_demo_plays_the_notes_it_wrote_out_before(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(WRITTEN_OUT, old / "song.toml")
    before, after = _events(old), _events(DEMO)
    assert before.keys() == after.keys()
    for name in before:
        assert after[name] == before[name], name
    assert len(after["Bass"]) == 4 * 40 and len(after["Pad"]) == 11 * 12
    assert len(after["Keys"]) == 2 * 64 and len(after["Lead"]) == 2 * 28


def test_the_demo_exports_the_same_midi_as_before(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(WRITTEN_OUT, old / "song.toml")
    before = project_to_midi(open_project(old).project, old)
    after = project_to_midi(open_project(DEMO).project, DEMO)
    assert after.notes == before.notes > 600
    assert after.data == before.data
