"""Resolve checks and expands the composing tools: clip definitions placed with ``use`` and
``loop``, chord clips, the song's key, the arpeggiator. Problems name the song.toml line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixdown.io.catalog import AssetCatalog
from mixdown.io.midi_export import project_to_midi
from mixdown.io.smf import read_smf
from mixdown.resolve import ProjectProblems, open_project, resolve_project

SR = 48_000
BEAT = SR // 2  # 120 bpm

HEAD = '[song]\ntempo = 120\ntail_s = 0.0\n'


def notes_of(tmp_path: Path, text: str, track: str = "S") -> list[tuple[float, float, int, int]]:
    """(start beats, length beats, pitch, velocity) of a track's resolved notes."""
    (tmp_path / "song.toml").write_text(text)
    pf = open_project(tmp_path)
    song = resolve_project(pf.project, AssetCatalog(tmp_path, dry_run=True))
    ch = next(c for c in song.channels if c.name == track)
    assert ch.instrument is not None
    return [(n.start_frame / BEAT, (n.end_frame - n.start_frame) / BEAT, int(n.pitch),
             n.velocity) for n in ch.instrument.notes]


def problems(tmp_path: Path, text: str) -> str:
    (tmp_path / "song.toml").write_text(text)
    with pytest.raises(ProjectProblems) as info:
        open_project(tmp_path)
    return str(info.value)


def test_a_definition_placed_twice_with_transpose(tmp_path: Path) -> None:
    notes = notes_of(tmp_path, HEAD + '''
[clips.riff]
length = 4
notes = [["C4", 0, 1], ["E4", 2, 1, 80]]

[[track]]
name = "S"
instrument = { type = "synth" }
clips = [{ use = "riff", start = 0 }, { use = "riff", start = "3:1", transpose = 12 }]
''')
    assert notes == [(0.0, 1.0, 60, 100), (2.0, 1.0, 64, 80), (8.0, 1.0, 72, 100),
                     (10.0, 1.0, 76, 80)]


def test_loop_repeats_the_definition_cut_at_its_length(tmp_path: Path) -> None:
    notes = notes_of(tmp_path, HEAD + '''
[clips.riff]
length = 2
notes = [["C4", 0, 1], ["D4", 1.5, 1]]

[[track]]
name = "S"
instrument = { type = "synth" }
clips = [{ use = "riff", start = 4, length = 5, loop = true }]
''')
    # D4 is cut at the definition's end (beat 2); the loop is cut at the placement's end
    assert notes == [(4.0, 1.0, 60, 100), (5.5, 0.5, 62, 100), (6.0, 1.0, 60, 100),
                     (7.5, 0.5, 62, 100), (8.0, 1.0, 60, 100)]


def test_without_loop_a_longer_placement_plays_the_definition_once(tmp_path: Path) -> None:
    notes = notes_of(tmp_path, HEAD + '''
[clips.riff]
length = 2
notes = [["C4", 0, 1]]

[[track]]
name = "S"
instrument = { type = "synth" }
clips = [{ use = "riff", start = 0, length = 8 }]
''')
    assert notes == [(0.0, 1.0, 60, 100)]


def test_a_drum_pattern_definition(tmp_path: Path) -> None:
    notes = notes_of(tmp_path, HEAD + '''
[clips.beat]
pattern = { kick = "x...", snare = "..x." }

[[track]]
name = "S"
instrument = { type = "drums" }
clips = [{ use = "beat", start = 0, bars = 1 }, { use = "beat", start = 8, bars = 1 }]
''')
    assert [(s, p) for s, _, p, _ in notes] == [(0.0, 36), (0.5, 38), (1.0, 36), (1.5, 38),
                                                (2.0, 36), (2.5, 38), (3.0, 36), (3.5, 38),
                                                (8.0, 36), (8.5, 38), (9.0, 36), (9.5, 38),
                                                (10.0, 36), (10.5, 38), (11.0, 36),
                                                (11.5, 38)]


def test_midi_export_contains_the_placed_notes(tmp_path: Path) -> None:
    (tmp_path / "song.toml").write_text(HEAD + '''
[clips.riff]
length = 2
notes = [["C4", 0, 1]]

[[track]]
name = "S"
instrument = { type = "synth" }
clips = [{ use = "riff", start = 0, length = 6, loop = true },
         { use = "riff", start = 8, transpose = 7 }]
''')
    pf = open_project(tmp_path)
    out = project_to_midi(pf.project, tmp_path)
    (tmp_path / "x.mid").write_bytes(out.data)
    smf = read_smf(tmp_path / "x.mid")
    tpb = smf.ticks_per_beat
    got = sorted((s / tpb, p) for part in smf.parts for s, _, p, _ in part.notes.tolist())
    assert got == [(0.0, 60), (2.0, 60), (4.0, 60), (8.0, 67)]


def test_chord_chart_with_voicing_and_key_features(tmp_path: Path) -> None:
    notes = notes_of(tmp_path, HEAD + '''
[[track]]
name = "S"
instrument = { type = "synth" }
clips = [{ start = 0, chords = "C . F . | G/B", voicing = { octave = 4, velocity = 70 } }]
''')
    assert notes == [(0.0, 2.0, p, 70) for p in (60, 64, 67)] + \
        [(2.0, 2.0, p, 70) for p in (65, 69, 72)] + \
        [(4.0, 4.0, p, 70) for p in (59, 67, 71, 74)]


def test_chord_list_needs_a_length_and_scale_degrees_need_a_key(tmp_path: Path) -> None:
    text = problems(tmp_path, HEAD + '''
[[track]]
name = "S"
instrument = { type = "synth" }

[[track.clips]]
start = 0
chords = [[0, "C"], [2, "F"]]

[[track.clips]]
start = 8
transpose_degrees = 2
notes = [["C4", 0, 1]]
''')
    assert 'song.toml:11: track "S", clips[0].chords: a list of chords needs' in text
    assert 'song.toml:15: track "S", clips[1].transpose_degrees: needs the song\'s key' in text


def test_unknown_chord_symbol_names_the_symbol_and_the_line(tmp_path: Path) -> None:
    text = problems(tmp_path, HEAD + '''
[clips.keys]
chords = """
Dm9 | G13 |
Cmaj9 | Xm7 |
"""

[[track]]
name = "S"
instrument = { type = "synth" }
clips = [{ use = "keys", start = 0 }]
''')
    assert text.count("\n") == 0, text  # one problem, at the definition
    assert "song.toml:6: clips.keys.chords: unknown chord symbol 'Xm7'" in text, text


def test_definition_and_placement_problems(tmp_path: Path) -> None:
    text = problems(tmp_path, HEAD + '''
[clips.riff]
start = 4
notes = [["C4", 0, 1]]

[clips.silence]
length = 4

[clips.open]
notes = [["C4", 0, 1]]

[[track]]
name = "S"
instrument = { type = "synth" }
clips = [{ use = "rif", start = 0 }, { use = "open", start = 0, loop = true, length = 8 }]
''')
    lines = text.splitlines()
    assert any("song.toml:6: clips.riff.start: a clip definition has no start" in ln
               for ln in lines), text
    assert any("song.toml:9: clips.silence: plays nothing" in ln for ln in lines), text
    assert any("clips[0].use: no clip definition 'rif'" in ln and "riff" in ln
               for ln in lines), text
    assert any("clips[1].loop: a loop repeats the definition's length" in ln
               for ln in lines), text


def test_degrees_quantize_and_arp_in_the_songs_key(tmp_path: Path) -> None:
    notes = notes_of(tmp_path, '[song]\ntempo = 120\ntail_s = 0.0\nkey = "D minor"\n' + '''
[[track]]
name = "S"
instrument = { type = "synth" }
clips = [
    { start = 0, transpose_degrees = 2, notes = [["D4", 0, 1], ["A4", 1, 1]] },
    { start = 4, scale_quantize = true, notes = [["C#4", 0, 1], ["F#4", 1, 1]] },
    { start = 8, length = 1, notes = [["D4", 0, 1], ["F4", 0, 1]], arp = { rate = "1/8" } },
]
''')
    assert [(s, p) for s, _, p, _ in notes] == [
        (0.0, 65), (1.0, 72),      # D4 -> F4, A4 -> C5: two degrees up in D minor
        (4.0, 60), (5.0, 65),      # C#4 -> C4 (ties go down), F#4 -> F4
        (8.0, 62), (8.5, 65)]      # the arpeggiator on D4 + F4 at 1/8
    assert notes[-1][1] == 0.25


def test_out_of_range_pitches_are_reported(tmp_path: Path) -> None:
    text = problems(tmp_path, HEAD + '''
[[track]]
name = "S"
instrument = { type = "synth" }
clips = [{ start = 0, chords = "C13", voicing = { octave = 8 } }]
''')
    assert "outside MIDI 0..127" in text


def test_keys_that_do_nothing_are_refused(tmp_path: Path) -> None:
    text = problems(tmp_path, HEAD + '''
[clips.beat]
pattern = { kick = "x..." }

[clips.riff]
length = 4
notes = [["C4", 0, 1]]

[[track]]
name = "S"
instrument = { type = "drums" }
clips = [{ use = "beat", start = 0, arp = { rate = "1/8" } },
         { use = "riff", start = 4, voicing = { octave = 3 } }]
''')
    lines = text.splitlines()
    assert any('clips[0]: transpose_degrees, scale_quantize, arp and voicing do nothing on a '
               "drum pattern" in ln for ln in lines), text
    assert any("clips[1].voicing: does nothing without chords" in ln for ln in lines), text
