"""MIDI import: what each part of a real MIDI file (written with mido) becomes in a project."""

from __future__ import annotations

import math
from pathlib import Path

import mido
import pytest

from midi_files import many_notes_file, write_mido
from mixdown.core.errors import FormatError
from mixdown.io.midi_import import (
    INLINE_NOTES_MAX,
    db_from_cc7,
    midi_to_project,
    pan_from_cc10,
)
from mixdown.io.smf import MAX_IMPORT_NOTES, read_smf

Meta = mido.MetaMessage
Msg = mido.Message


def _import(path: Path):  # type: ignore[no-untyped-def]
    return midi_to_project(read_smf(path))


def test_tempo_meter_markers_and_names(tmp_path: Path) -> None:
    conductor = [Meta("track_name", name="Night Drive"),
                 Meta("set_tempo", tempo=500_000), Meta("time_signature", numerator=3,
                                                        denominator=4),
                 Meta("marker", text="Intro"),
                 Meta("set_tempo", tempo=400_000, time=960),       # beat 2: 150 bpm
                 Meta("time_signature", numerator=7, denominator=8, time=480),  # bar 2
                 Meta("marker", text="Intro", time=0),               # a duplicate name
                 Meta("set_tempo", tempo=1_000_000, time=350)]       # 60 bpm at tick 1790
    piano = [Meta("track_name", name="Piano"), Msg("program_change", program=0),
             Msg("note_on", note=60, velocity=90, time=0),
             Msg("note_off", note=60, time=7)]
    dup = [Meta("track_name", name="Piano"), Msg("note_on", channel=1, note=62, velocity=5),
           Msg("note_off", channel=1, note=62, time=480)]
    path = write_mido(tmp_path / "a.mid", [conductor, piano, dup], ticks_per_beat=480)
    imp = _import(path)
    song = imp.project.song
    assert song.title == "Night Drive"
    assert song.tempo == 120.0
    assert [(p.at, p.bpm) for p in song.tempo_map] == [(2.0, 150.0), (1790 / 480, 60.0)]
    assert song.time_signature == (3, 4)
    assert [(c.bar, c.signature) for c in song.time_signatures] == [(2, (7, 8))]
    assert [(m.name, m.at) for m in imp.project.markers] == [("Intro", 0.0),
                                                              ("Intro 2", 3.0)]
    assert [t.name for t in imp.project.tracks] == ["Piano", "Piano 2"]
    note = imp.project.tracks[0].clips[0].notes[0]
    assert (note.pitch, note.start, note.length, note.velocity) == (60, 0.0, 7 / 480, 90)


def test_programs_pick_instruments_and_drums_go_to_the_kit(tmp_path: Path) -> None:
    tracks = []
    for ch, program in ((0, 33), (1, 4), (2, 19), (3, 90)):
        tracks.append([Msg("program_change", channel=ch, program=program),
                       Msg("note_on", channel=ch, note=50), Msg("note_off", channel=ch,
                                                                note=50, time=10)])
    tracks.append([Msg("note_on", channel=9, note=36), Msg("note_off", channel=9, note=36,
                                                          time=10),
                   Msg("note_on", channel=9, note=81), Msg("note_off", channel=9, note=81,
                                                          time=10)])
    imp = _import(write_mido(tmp_path / "p.mid", tracks))
    got = [(t.instrument.type, t.instrument.params) for t in imp.project.tracks]
    assert got == [("synth", {"preset": "bass"}), ("fm", {"preset": "epiano"}),
                   ("fm", {"preset": "organ"}), ("synth", {"preset": "pad"}),
                   ("drums", {"kit": "acoustic"})]
    assert imp.project.tracks[0].instrument.name == "GM program 33: Electric Bass (finger)"
    assert [t.name for t in imp.project.tracks][:1] == ["Electric Bass (finger)"]
    drums = imp.project.tracks[4]
    assert [n.pitch for n in drums.clips[0].notes] == [36, 81]  # GM keys as they are
    assert any("1 notes on drum keys the built-in kit does not play" in d for d in imp.dropped)


def test_type0_is_split_per_channel(tmp_path: Path) -> None:
    msgs = [Meta("track_name", name="Song"),
            Msg("program_change", channel=0, program=0),
            Msg("program_change", channel=1, program=32),
            Msg("note_on", channel=0, note=60), Msg("note_on", channel=1, note=40),
            Msg("note_on", channel=9, note=38),
            Msg("note_off", channel=0, note=60, time=240),
            Msg("note_off", channel=1, note=40), Msg("note_off", channel=9, note=38)]
    imp = _import(write_mido(tmp_path / "z.mid", [msgs], fmt=0))
    assert [t.name for t in imp.project.tracks] == ["Song (ch 1)", "Song (ch 2)",
                                                   "Song (ch 10)"]
    assert [t.instrument.type for t in imp.project.tracks] == ["synth", "synth", "drums"]
    assert [t.clips[0].notes[0].pitch for t in imp.project.tracks] == [60, 40, 38]


def test_sustain_pedal_holds_notes_until_release_or_restrike(tmp_path: Path) -> None:
    msgs = [Msg("control_change", control=64, value=127),
            Msg("note_on", note=60), Msg("note_off", note=60, time=100),       # held
            Msg("note_on", note=64), Msg("note_off", note=64, time=100),       # held
            Msg("note_on", note=60, time=100), Msg("note_off", note=60, time=50),
            Msg("control_change", control=64, value=0, time=250),              # tick 600
            Msg("note_on", note=67, time=100), Msg("note_off", note=67, time=100)]
    imp = _import(write_mido(tmp_path / "s.mid", [msgs], ticks_per_beat=100))
    notes = [(n.pitch, n.start, n.start + n.length) for n in imp.project.tracks[0].clips[0].notes]
    # 60 rings until it is struck again (tick 300); 64 and the second 60 until the pedal
    # comes up (tick 600); 67 is played after it: untouched
    assert notes == [(60, 0.0, 3.0), (64, 1.0, 6.0), (60, 3.0, 6.0), (67, 7.0, 8.0)]


def test_cc7_cc10_become_fader_pan_and_steps(tmp_path: Path) -> None:
    a = [Msg("control_change", control=7, value=64), Msg("control_change", control=10,
                                                          value=0),
         Msg("note_on", note=60), Msg("note_off", note=60, time=480)]
    b = [Msg("control_change", channel=1, control=7, value=127),
         Msg("note_on", channel=1, note=60), Msg("note_off", channel=1, note=60, time=480),
         Msg("control_change", channel=1, control=7, value=0, time=0),
         Msg("pitchwheel", channel=1, pitch=2000)]
    imp = _import(write_mido(tmp_path / "c.mid", [a, b]))
    t1, t2 = imp.project.tracks
    assert t1.volume_db == pytest.approx(40 * math.log10(64 / 127))  # the GM curve
    assert t1.pan == -1.0 and not t1.automation
    lane = t2.automation[0]
    assert lane.param == "volume_db"
    # a step: 0 dB held to one tick before 480, then the floor
    assert [(p.at, p.value) for p in lane.points] == [(0.0, 0.0), (479 / 480, 0.0),
                                                      (1.0, -144.0)]
    assert any("1 pitch-bend events dropped" in d for d in imp.dropped)


def test_cc_curves() -> None:
    assert db_from_cc7(127) == 0.0
    assert db_from_cc7(0) == -144.0
    assert db_from_cc7(100) == pytest.approx(-4.15, abs=0.01)
    assert (pan_from_cc10(0), pan_from_cc10(64), pan_from_cc10(127)) == (-1.0, 0.0, 1.0)


def test_big_tracks_go_to_midi_clip_files(tmp_path: Path) -> None:
    path = many_notes_file(tmp_path / "m.mid", 4 * (INLINE_NOTES_MAX + 1), tracks=4)
    imp = _import(path)
    assert all(t.clips[0].midi for t in imp.project.tracks)
    assert sorted(imp.files) == [t.clips[0].midi for t in imp.project.tracks]
    clip = tmp_path / "clip.mid"
    clip.write_bytes(imp.files[imp.project.tracks[0].clips[0].midi])
    back = read_smf(clip)
    assert back.ticks_per_beat == 480
    assert (back.parts[0].notes == read_smf(path).parts[0].notes).all()
    assert mido.MidiFile(clip).tracks[0][0].name == imp.project.tracks[0].name  # mido reads it


@pytest.mark.parametrize(("tracks", "why"), [
    ([[Meta("set_tempo", tempo=0)]], "tempo 0"),
    ([[Meta("set_tempo", tempo=50_000)]], "above 999 bpm"),
])
def test_impossible_tempos_are_refused(tmp_path: Path, tracks: list, why: str) -> None:
    path = write_mido(tmp_path / "t.mid", tracks)
    with pytest.raises(FormatError, match=why):
        read_smf(path)


def test_too_many_notes_is_refused_early(tmp_path: Path) -> None:
    path = many_notes_file(tmp_path / "huge.mid", 1_000_000)
    with pytest.raises(FormatError, match=f"more than {MAX_IMPORT_NOTES} notes"):
        read_smf(path)


def test_controllers_without_notes_are_reported(tmp_path: Path) -> None:
    mixer = [Msg("control_change", channel=0, control=7, value=20),
             Msg("program_change", channel=0, program=40)]
    notes = [Msg("note_on", note=60), Msg("note_off", note=60, time=480)]
    imp = _import(write_mido(tmp_path / "m.mid", [mixer, notes]))
    assert imp.project.tracks[0].volume_db == 0.0  # CC7 of another track does not apply
    assert any(d.startswith("2 program, controller and pitch-bend events on a channel with "
                            "no notes") for d in imp.dropped), imp.dropped
