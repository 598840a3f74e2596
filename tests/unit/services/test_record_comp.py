"""Choosing a comp (mixdown.services.record.comp): set_comp then render switches take at the
boundary (take 1 before it, take 2 after the crossfade, no click), the panel's state shows
the takes' spans and the comp, and a bad comp is refused by the checker, the file
unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from comp_songs import BAR, SR, check_switch, make_comp_song
from mixdown.core.errors import MixdownError
from mixdown.io.project import load_project
from mixdown.services.history import current_revision, undo
from mixdown.services.record.comp import comp_state, save_comp, set_comp
from mixdown.services.record.takes import RecordRefused
from mixdown.services.render import render_audio

COMP = [("1:1", "3:1", "take 1"), ("3:1", "5:1", "take 2")]


def test_set_comp_then_render_switches_take_at_the_boundary(tmp_path: Path) -> None:
    song = make_comp_song(tmp_path)
    project = set_comp(load_project(song), "Vox", COMP, crossfade_s=0.03)
    vox = project.track("Vox")
    assert [(r.start, r.end, r.take) for r in vox.comp] == COMP
    assert vox.comp_crossfade_s == 0.03
    audio, sr = render_audio(project, root=song)
    assert sr == SR and audio.shape[1] == 4 * BAR  # the comp ends at bar 5
    check_switch(audio[0], 2 * BAR, 0.03)
    # the same check catches a hard switch (no crossfade) as a click
    hard, _ = render_audio(set_comp(project, "Vox", COMP, crossfade_s=0.0), root=song)
    with pytest.raises(AssertionError):
        check_switch(hard[0], 2 * BAR, 0.0)


def test_save_comp_is_one_undo_step_and_state_shows_it(tmp_path: Path) -> None:
    song = make_comp_song(tmp_path)
    original = (song / "song.toml").read_bytes()
    state = comp_state(song, "Vox")
    assert [(t["name"], t["start"], t["end"]) for t in state["takes"]] == [
        ("take 1", "1:1", "6:1"), ("take 2", "1:1", "6:1")]
    assert state["takes"][0]["end_s"] == pytest.approx(10.0)
    assert state["comp"] == [] and state["bars"] == 6
    assert state["bar_s"][:3] == pytest.approx([0.0, 2.0, 4.0])
    r = save_comp(song, "Vox", COMP, base=current_revision(song))
    assert r.changed and r.position == 1
    text = (song / "song.toml").read_text()
    assert "# lead vocal" in text and "# the better chorus" in text
    after = comp_state(song, "Vox")
    assert [(c["start"], c["end"], c["take"]) for c in after["comp"]] == COMP
    assert after["comp"][1]["start_s"] == pytest.approx(4.0)
    undo(song, base=None)
    assert (song / "song.toml").read_bytes() == original


@pytest.mark.parametrize(("ranges", "message"), [
    ([("1:1", "3:1", "take 3")], "no take 'take 3' on this track"),
    ([("1:1", "3:1", "take 1"), ("2:1", "4:1", "take 2")], "comp ranges must not overlap"),
    ([("4:1", "8:1", "take 1")], "is outside take 'take 1'"),
])
def test_a_bad_comp_is_refused_by_the_checker(tmp_path: Path, ranges: list,
                                              message: str) -> None:
    song = make_comp_song(tmp_path)
    before = (song / "song.toml").read_bytes()
    with pytest.raises(MixdownError) as err:
        save_comp(song, "Vox", ranges, base=current_revision(song))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert (song / "song.toml").read_bytes() == before


def test_unknown_track_and_malformed_position(tmp_path: Path) -> None:
    song = make_comp_song(tmp_path)
    p = load_project(song)
    with pytest.raises(RecordRefused, match="no track 'Vx'"):
        set_comp(p, "Vx", COMP)
    with pytest.raises(RecordRefused, match="comp of 'Vox'"):
        set_comp(p, "Vox", [("soon", "3:1", "take 1")])
    assert np.isfinite(comp_state(song, "Vox")["length_s"])
