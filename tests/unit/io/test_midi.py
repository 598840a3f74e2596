"""MIDI clips: notes in beats from real files written by mido; broken files fail cleanly."""

from __future__ import annotations

import struct
from pathlib import Path

import mido
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixdown.core.errors import FormatError
from mixdown.io.midi import read_midi_notes
from mixdown.model.project import Note

EXACT = 0.0  # tick / ticks_per_beat is exact in binary for these tick counts


def write_midi(path: Path, tracks: list[list[mido.Message | mido.MetaMessage]],
               tpq: int = 480, midi_type: int = 1) -> Path:
    """Write a real SMF with mido; message times are delta ticks."""
    f = mido.MidiFile(type=midi_type, ticks_per_beat=tpq)
    for msgs in tracks:
        f.tracks.append(mido.MidiTrack(msgs))
    f.save(str(path))
    return path


def on(note: int, vel: int = 100, t: int = 0, ch: int = 0) -> mido.Message:
    return mido.Message("note_on", note=note, velocity=vel, time=t, channel=ch)


def off(note: int, t: int = 0, ch: int = 0, vel0: bool = False) -> mido.Message:
    if vel0:
        return mido.Message("note_on", note=note, velocity=0, time=t, channel=ch)
    return mido.Message("note_off", note=note, velocity=64, time=t, channel=ch)


def tuples(notes: tuple[Note, ...]) -> list[tuple[int, float, float, int]]:
    return [(n.pitch, n.start, n.length, n.velocity) for n in notes]


def test_notes_are_beats_from_ticks_per_beat(tmp_path: Path) -> None:
    # 480 ticks = 1 beat: C4 at beat 0 for 1 beat, E4 at 1.5 for 0.5, G4 at 2 for 2 beats.
    path = write_midi(tmp_path / "a.mid", [[
        on(60, 90), off(60, 480), on(64, 80, 240), off(64, 240),
        on(67, 70, 0), off(67, 960),
    ]])
    assert tuples(read_midi_notes(path)) == [
        (60, 0.0, 1.0, 90), (64, 1.5, 0.5, 80), (67, 2.0, 2.0, 70)]


@pytest.mark.parametrize("tpq", [96, 480, 960])
def test_ticks_per_beat_scales_positions(tmp_path: Path, tpq: int) -> None:
    # The same musical content at any resolution gives the same beats.
    path = write_midi(tmp_path / "a.mid", [[on(60, t=tpq), off(60, tpq // 4)]], tpq=tpq)
    notes = read_midi_notes(path)
    assert tuples(notes) == [(60, 1.0, 0.25, 100)]


def test_velocity_zero_note_on_is_a_note_off(tmp_path: Path) -> None:
    path = write_midi(tmp_path / "a.mid", [[on(48, 100), off(48, 240, vel0=True)]])
    assert tuples(read_midi_notes(path)) == [(48, 0.0, 0.5, 100)]


def test_overlapping_same_pitch_pairs_first_in_first_out(tmp_path: Path) -> None:
    # on@0, on@1 beat, off@2, off@3: FIFO gives (0..2) and (1..3), both 2 beats long.
    path = write_midi(tmp_path / "a.mid", [[
        on(60, 100), on(60, 50, 480), off(60, 480), off(60, 480)]])
    assert tuples(read_midi_notes(path)) == [(60, 0.0, 2.0, 100), (60, 1.0, 2.0, 50)]


def test_same_pitch_on_different_channels_pair_separately(tmp_path: Path) -> None:
    path = write_midi(tmp_path / "a.mid", [[
        on(60, 100, ch=0), on(60, 60, 0, ch=9), off(60, 480, ch=9), off(60, 480, ch=0)]])
    assert tuples(read_midi_notes(path)) == [(60, 0.0, 1.0, 60), (60, 0.0, 2.0, 100)]


def test_tracks_are_merged_and_sorted(tmp_path: Path) -> None:
    path = write_midi(tmp_path / "a.mid", [
        [mido.MetaMessage("track_name", name="bass"), on(36, t=960), off(36, 480)],
        [on(72, t=480), off(72, 480)],
    ])
    assert tuples(read_midi_notes(path)) == [(72, 1.0, 1.0, 100), (36, 2.0, 1.0, 100)]


def test_tempo_inside_the_file_is_ignored(tmp_path: Path) -> None:
    # The song's tempo map rules: a set_tempo event must not move notes in beats.
    plain = write_midi(tmp_path / "plain.mid", [[on(60), off(60, 480), on(62, t=480),
                                                 off(62, 480)]])
    tempo = write_midi(tmp_path / "tempo.mid", [[
        mido.MetaMessage("set_tempo", tempo=250_000), on(60), off(60, 480),
        mido.MetaMessage("set_tempo", tempo=1_000_000, time=240), on(62, t=240),
        off(62, 480)]])
    assert read_midi_notes(plain) == read_midi_notes(tempo)


def test_format_0_and_running_status(tmp_path: Path) -> None:
    # Hand-built bytes: running status (the status byte given once), a sysex between.
    events = bytes([
        0x00, 0x90, 60, 100,        # note on C4
        0x00, 64, 90,               # running status: note on E4
        0x00, 0xF0, 0x02, 0x7E, 0xF7,  # sysex
        0x83, 0x60, 60, 0,          # delta 480; running status 0x90 survives the sysex: C4 off
        0x00, 0x80, 64, 0,          # E4 off
        0x00, 0xFF, 0x2F, 0x00,     # end of track
    ])
    data = (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
            + b"MTrk" + struct.pack(">I", len(events)) + events)
    path = tmp_path / "rs.mid"
    path.write_bytes(data)
    assert tuples(read_midi_notes(path)) == [(60, 0.0, 1.0, 100), (64, 0.0, 1.0, 90)]


def test_hanging_note_ends_at_the_tracks_last_event(tmp_path: Path) -> None:
    path = write_midi(tmp_path / "a.mid", [[on(60), on(64, t=480), off(64, 480),
                                            mido.MetaMessage("end_of_track", time=480)]])
    assert tuples(read_midi_notes(path)) == [(60, 0.0, 3.0, 100), (64, 1.0, 1.0, 100)]


def test_zero_length_note_lasts_one_tick(tmp_path: Path) -> None:
    path = write_midi(tmp_path / "a.mid", [[on(38), off(38, 0)]], tpq=96)
    assert tuples(read_midi_notes(path)) == [(38, 0.0, 1 / 96, 100)]


def test_empty_file_has_no_notes(tmp_path: Path) -> None:
    path = write_midi(tmp_path / "a.mid", [[mido.MetaMessage("track_name", name="x")]])
    assert read_midi_notes(path) == ()


def _valid_bytes(tmp_path: Path) -> bytes:
    path = write_midi(tmp_path / "v.mid", [[on(60), off(60, 480), on(64, 90, 0),
                                            off(64, 240, vel0=True)],
                                           [on(36, t=960), off(36, 120)]])
    return path.read_bytes()


def test_every_truncation_is_a_format_error_naming_the_file(tmp_path: Path) -> None:
    data = _valid_bytes(tmp_path)
    path = tmp_path / "cut.mid"
    for n in range(len(data)):
        path.write_bytes(data[:n])
        with pytest.raises(FormatError) as info:
            read_midi_notes(path)
        assert str(info.value).startswith(f"{path}: ")
        assert "\n" not in str(info.value)
        assert info.value.path == path


@pytest.mark.parametrize(("data", "why"), [
    (b"RIFF" + bytes(20), "no MThd header"),
    (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 0xE728), "SMPTE"),
    (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 0), "ticks per quarter note is 0"),
    (b"MThd" + struct.pack(">IHHH", 6, 7, 1, 96), "unknown SMF format 7"),
    (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96) + b"MTrk" + struct.pack(">I", 10**9),
     "truncated"),
    (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96) + b"MTrk" + struct.pack(">I", 8)
     + bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x90, 60, 100]), "longer than 4 bytes"),
    (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96) + b"MTrk" + struct.pack(">I", 4)
     + bytes([0x00, 60, 100, 0]), "no running status"),
    (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96) + b"MTrk" + struct.pack(">I", 4)
     + bytes([0x00, 0x90, 0xC0, 100]), ">= 128"),
    (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96) + b"MTrk" + struct.pack(">I", 5)
     + bytes([0x00, 0xFF, 0x01, 0x7F, 0x41]), "meta event runs past"),
    (b"MThd" + struct.pack(">IHHH", 6, 0, 2, 96) + b"MTrk" + struct.pack(">I", 0),
     "promises 2 tracks"),
])
def test_broken_files_say_what_is_wrong(tmp_path: Path, data: bytes, why: str) -> None:
    path = tmp_path / "bad.mid"
    path.write_bytes(data)
    with pytest.raises(FormatError, match=why) as info:
        read_midi_notes(path)
    assert str(info.value).startswith(f"{path}: not a valid MIDI file (")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"MIDI file not found"):
        read_midi_notes(tmp_path / "nope.mid")


def test_garbage_is_a_format_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    path = tmp_path / "g.mid"
    for size in (0, 3, 14, 100, 5000):
        path.write_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        with pytest.raises(FormatError):
            read_midi_notes(path)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1,
                      max_size=6))
def test_corrupted_bytes_never_crash(tmp_path: Path, flips: list[tuple[int, int]]) -> None:
    # Any mutation of a valid file either still parses into valid notes or is a FormatError.
    data = bytearray(_valid_bytes(tmp_path))
    for pos, value in flips:
        data[pos % len(data)] = value
    path = tmp_path / "m.mid"
    path.write_bytes(bytes(data))
    try:
        notes = read_midi_notes(path)
    except FormatError as exc:
        assert str(exc).startswith(f"{path}: ")
        return
    for n in notes:
        assert 0 <= n.pitch <= 127 and 1 <= n.velocity <= 127
        assert n.start >= 0 and n.length > EXACT
