"""The studio's edit path (mixdown.services.history): one undoable step per edit, byte-exact
undo/redo that survive a new process, outside edits kept, stale edits refused, invalid
edits refused with the checker's message and the file unchanged."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mixdown.core.errors import MixdownError
from mixdown.services.edit import with_track
from mixdown.services.history import (
    EditConflict,
    NothingToUndo,
    apply_edit,
    current_revision,
    history,
    redo,
    snapshot_bytes,
    undo,
)
from signals import sine, write_wav

SONG = """\
# A song with comments that an edit must keep.
[song]
title = "History"   # the title
tempo = 100
tail_s = 0.2

[[track]]
name = "Vocal"      # lead vocal
volume_db = -6.0
clips = [{ start = "1:1", file = "audio/tone.wav" }]

# the drums come next
[[track]]
name = "Keys"
volume_db = -3.0
clips = [{ start = "1:1", file = "audio/tone.wav" }]
"""


@pytest.fixture
def song(tmp_path: Path) -> Path:
    folder = tmp_path / "song"
    (folder / "audio").mkdir(parents=True)
    write_wav(folder / "audio" / "tone.wav", sine(440.0, 1.0, 48_000), 48_000)
    (folder / "song.toml").write_text(SONG)
    return folder


def _vocal(db: float):
    return lambda p: with_track(p, "Vocal", volume_db=db)


def test_an_edit_changes_only_its_value_and_keeps_comments(song: Path) -> None:
    before = (song / "song.toml").read_text()
    r = apply_edit(song, _vocal(-4.5), base=current_revision(song), label="Vocal +1.5 dB")
    after = (song / "song.toml").read_text()
    assert r.changed and r.position == 1
    assert r.project is not None and r.project.track("Vocal").volume_db == -4.5
    assert after == before.replace("volume_db = -6.0", "volume_db = -4.5")
    assert "# lead vocal" in after and "# the drums come next" in after
    assert r.revision == current_revision(song)


def test_undo_and_redo_restore_bytes_and_survive_a_new_process(song: Path) -> None:
    original = (song / "song.toml").read_bytes()
    r1 = apply_edit(song, _vocal(-1.0), base=None, label="one")
    edited = (song / "song.toml").read_bytes()
    apply_edit(song, lambda p: with_track(p, "Keys", pan=0.5), base=r1.revision, label="two")
    # a new process (the server restarted) undoes both steps
    code = ("from mixdown.services.history import undo\n"
            f"r = undo(r'{song}', base=None)\nr = undo(r'{song}', base=None)\n"
            "print(r.position)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "0"
    assert (song / "song.toml").read_bytes() == original
    r = redo(song, base=current_revision(song))
    assert (song / "song.toml").read_bytes() == edited and r.position == 1
    h = history(song)
    assert [s.label for s in h.steps] == ["one", "two"] and h.position == 1
    assert snapshot_bytes(song, h.steps[0].before) == original
    with pytest.raises(NothingToUndo):
        undo(song, base=None)
        undo(song, base=None)


def test_a_new_edit_after_undo_drops_the_redo_branch(song: Path) -> None:
    apply_edit(song, _vocal(-1.0), base=None, label="one")
    undo(song, base=None)
    apply_edit(song, _vocal(-2.0), base=None, label="other")
    h = history(song)
    assert [s.label for s in h.steps] == ["other"] and not h.can_redo
    with pytest.raises(NothingToUndo, match="nothing to redo"):
        redo(song, base=None)


def test_a_stale_base_is_a_conflict_and_writes_nothing(song: Path) -> None:
    seen = current_revision(song)
    apply_edit(song, _vocal(-1.0), base=seen, label="tab one")
    text = (song / "song.toml").read_bytes()
    with pytest.raises(EditConflict, match="changed since this page loaded it") as exc:
        apply_edit(song, _vocal(-9.0), base=seen, label="tab two")
    assert exc.value.http_status == 409
    assert (song / "song.toml").read_bytes() == text


def test_an_outside_edit_is_recorded_not_overwritten(song: Path) -> None:
    r = apply_edit(song, _vocal(-1.0), base=None, label="studio")
    file = song / "song.toml"
    by_editor = file.read_text().replace('title = "History"', 'title = "Renamed"')
    file.write_text(by_editor)
    with pytest.raises(EditConflict):  # the tab that made the first edit is now stale
        apply_edit(song, _vocal(-2.0), base=r.revision, label="stale tab")
    assert file.read_text() == by_editor
    h = history(song)
    assert [s.kind for s in h.steps] == ["edit", "external"]
    r2 = apply_edit(song, _vocal(-2.0), base=h.revision, label="fresh tab")
    assert 'title = "Renamed"' in file.read_text()
    assert r2.project is not None and r2.project.song.title == "Renamed"
    undo(song, base=None)
    assert file.read_text() == by_editor


def test_an_invalid_edit_is_refused_with_the_checkers_message(song: Path) -> None:
    before = (song / "song.toml").read_bytes()
    with pytest.raises(MixdownError, match=r"audio/missing\.wav"):
        apply_edit(song, lambda p: with_track(
            p, "Vocal", clips=(p.track("Vocal").clips[0].model_copy(
                update={"file": "audio/missing.wav"}),)), base=None, label="bad")
    with pytest.raises(MixdownError, match="no track 'Vocals'"):
        apply_edit(song, lambda p: with_track(p, "Vocals", volume_db=0.0), base=None,
                   label="typo")
    assert (song / "song.toml").read_bytes() == before
    assert history(song).steps == []


def test_an_edit_that_changes_nothing_is_not_a_step(song: Path) -> None:
    r = apply_edit(song, _vocal(-6.0), base=None, label="same")
    assert not r.changed and history(song).steps == []


def test_concurrent_edits_are_serialised_and_none_is_lost(song: Path) -> None:
    errors: list[Exception] = []

    def worker(k: int) -> None:
        for _ in range(3):
            try:
                apply_edit(song, lambda p, k=k: with_track(
                    p, "Vocal", volume_db=p.track("Vocal").volume_db + 0.5), base=None,
                    label=f"t{k}")
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    h = history(song)
    assert len(h.steps) == 9
    assert "volume_db = -1.5" in (song / "song.toml").read_text()  # -6 + 9 x 0.5


def test_cli_history_undo_redo(song: Path) -> None:
    apply_edit(song, _vocal(-1.0), base=None, label="louder vocal")
    run = [sys.executable, "-m", "mixdown.cli.main"]
    out = subprocess.run([*run, "history", str(song)], capture_output=True, text=True)
    assert out.returncode == 0 and "louder vocal" in out.stdout
    out = subprocess.run([*run, "undo", str(song)], capture_output=True, text=True)
    assert out.returncode == 0 and "undo: louder vocal" in out.stdout
    assert (song / "song.toml").read_text() == SONG
    out = subprocess.run([*run, "undo", str(song)], capture_output=True, text=True)
    assert out.returncode == 1 and "nothing to undo" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, song: Path) -> None:
    run = [sys.executable, "-m", "mixdown.cli.main"]
    empty = tmp_path / "empty"
    empty.mkdir()
    out = subprocess.run([*run, "history", str(empty)], capture_output=True, text=True)
    assert out.returncode == 1 and "no song.toml in this folder" in out.stderr
    assert "Traceback" not in out.stderr and list(empty.iterdir()) == []
    log = song / ".mixdown" / "history" / "log.json"
    log.parent.mkdir(parents=True)
    log.write_text("{bad")
    before = (song / "song.toml").read_bytes()
    out = subprocess.run([*run, "undo", str(song)], capture_output=True, text=True)
    assert out.returncode == 1 and "the edit history is damaged" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert (song / "song.toml").read_bytes() == before and log.read_text() == "{bad"
