"""song.toml -> Project: the TOML layout maps onto the model as documented."""

from __future__ import annotations

import textwrap
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf
import tomlkit

from mixdown.io.project import ProjectFile, document_to_project, load_project, open_project
from mixdown.model.project import Note, Send

SONG = """\
# Night Drive: the example of DESIGN.md, in full
schema_version = 1

[song]
title = "Night Drive"
artist = "Someone"
tempo = 96
time_signature = [4, 4]
sample_rate = 48000
tempo_map = [{ at = "9:1", bpm = 140, ramp = true }, { at = 64, bpm = 120 }]
time_signatures = [{ bar = 9, signature = [7, 8] }]
length = "20:1"
tail_s = 3.5

[[marker]]
name = "Intro"
at = "1:1"

[[marker]]
name = "Verse"
at = "5:1"

[[track]]
name = "Drums"
instrument = { type = "synth", name = "kit" }
clips = [{ start = "1:1", bars = 8, notes = [[36, 0, 1]] }]
devices = [{ type = "compressor", threshold_db = -18, ratio = 4 }]
sends = { Space = -12.0 }

[[track]]
name = "Vocal"
volume_db = -3
pan = -0.25
clips = [{ start = "5:1", file = "audio/vocal_take3.wav", fade_in_s = 0.01, gain_db = -2 }]
sends = { Space = { level_db = -6, pre_fader = true } }
automation = [{ param = "volume_db", points = [["5:1", -6.0], ["9:1", 0.0, 0.5]] }]

[[track]]
name = "Keys"
instrument = { type = "synth", cutoff_hz = 1200, bypass = false }
clips = [
    { start = 0, notes = [["C4", 0, 1, 100], ["E4", 1, 1], {pitch = "G4", start = 2, length = 2}] },
    { start = "9:1", midi = "midi/bass.mid", transpose = -12 },
]
output = "Space"

[[bus]]
name = "Space"
devices = [{ type = "reverb", room_size = 0.7, wet = 1.0 }]

[master]
volume_db = -1
target = "spotify"
target_lufs = -14
ceiling_dbtp = -1
devices = [{ type = "limiter", ceiling_db = -1 }]
automation = [{ param = "volume_db", points = [[0, 0], ["1.5s", -3]] }]
"""


def make_project(root: Path, text: str = SONG) -> Path:
    """A project folder with the song and the assets it refers to."""
    (root / "audio").mkdir(parents=True, exist_ok=True)
    (root / "midi").mkdir(exist_ok=True)
    t = np.arange(4800) / 48000
    sf.write(str(root / "audio" / "vocal_take3.wav"),
             (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 48000)
    f = mido.MidiFile(ticks_per_beat=480)
    f.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=48, velocity=90, time=0),
        mido.Message("note_off", note=48, velocity=0, time=960)]))
    f.save(str(root / "midi" / "bass.mid"))
    (root / "song.toml").write_text(text, encoding="utf-8")
    return root


def test_full_layout_maps_to_the_model(tmp_path: Path) -> None:
    p = load_project(make_project(tmp_path))
    assert p.schema_version == 1
    s = p.song
    assert (s.title, s.artist, s.tempo, s.time_signature, s.sample_rate) == (
        "Night Drive", "Someone", 96.0, (4, 4), 48000)
    assert [(t.at, t.bpm, t.ramp) for t in s.tempo_map] == [("9:1", 140, True), (64.0, 120,
                                                                                  False)]
    assert [(t.bar, t.signature) for t in s.time_signatures] == [(9, (7, 8))]
    assert (s.length, s.tail_s) == ("20:1", 3.5)
    assert [(m.name, m.at) for m in p.markers] == [("Intro", "1:1"), ("Verse", "5:1")]
    drums, vocal, keys = p.tracks
    # devices and instruments are flat tables: type/name/bypass, the rest are parameters
    assert drums.instrument is not None and drums.instrument.name == "kit"
    assert drums.instrument.params == {}
    assert drums.devices[0].type == "compressor"
    assert drums.devices[0].params == {"threshold_db": -18, "ratio": 4}
    assert keys.instrument is not None and keys.instrument.params == {"cutoff_hz": 1200}
    assert keys.instrument.bypass is False
    # sends: a number is the level; a table gives level and tap point
    assert drums.sends == (Send(to="Space", level_db=-12.0),)
    assert vocal.sends == (Send(to="Space", level_db=-6, pre_fader=True),)
    # clips: positions stay as written; notes in array or table form
    assert drums.clips[0].start == "1:1" and drums.clips[0].bars == 8
    assert vocal.clips[0].file == "audio/vocal_take3.wav"
    assert (vocal.clips[0].fade_in_s, vocal.clips[0].gain_db) == (0.01, -2)
    assert keys.clips[0].notes == (Note(pitch=60, start=0, length=1, velocity=100),
                                   Note(pitch=64, start=1, length=1),
                                   Note(pitch=67, start=2, length=2))
    assert keys.clips[1].midi == "midi/bass.mid" and keys.clips[1].transpose == -12
    assert keys.output == "Space"
    # automation points: [position, value] or [position, value, curve]
    pts = vocal.automation[0].points
    assert [(q.at, q.value, q.curve) for q in pts] == [("5:1", -6.0, 0.0), ("9:1", 0.0, 0.5)]
    assert (vocal.volume_db, vocal.pan) == (-3, -0.25)
    assert p.buses[0].devices[0].params == {"room_size": 0.7, "wet": 1.0}
    m = p.master
    assert (m.volume_db, m.target, m.target_lufs, m.ceiling_dbtp) == (-1, "spotify", -14, -1)
    assert m.automation[0].points[1].at == "1.5s"


def test_folder_or_file_gives_the_same_project(tmp_path: Path) -> None:
    root = make_project(tmp_path / "song")
    a = open_project(root)
    b = open_project(root / "song.toml")
    assert isinstance(a, ProjectFile)
    assert a.project == b.project
    assert a.path == (root / "song.toml").absolute() and a.root == root.absolute()
    assert tomlkit.dumps(a.document) == SONG
    assert load_project(root) == a.project


def test_clips_as_array_of_tables(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        [[track]]
        name = "Keys"
        instrument = { type = "synth" }

        [[track.clips]]
        start = "2:1"
        notes = [
            ["A3", 0, 4],
            ["C4", 0, 4, 90],
        ]
        """)
    p = load_project(make_project(tmp_path, text))
    assert p.tracks[0].clips[0].start == "2:1"
    assert [n.pitch for n in p.tracks[0].clips[0].notes] == [57, 60]


def test_empty_file_is_an_empty_project(tmp_path: Path) -> None:
    p = load_project(make_project(tmp_path, ""))
    assert p.tracks == () and p.song.tempo == 120.0


def test_document_to_project_accepts_plain_data() -> None:
    p = document_to_project({"song": {"tempo": 100}, "track": [{"name": "A"}]})
    assert p.song.tempo == 100 and p.tracks[0].name == "A"


def test_seconds_positions_and_bar_beat_fractions(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        [[track]]
        name = "A"
        instrument = { type = "synth" }
        clips = [
            { start = "2.5s", notes = [[60, 0, 1]] },
            { start = "3:2.5", notes = [[60, 0, 1]] },
        ]
        """)
    p = load_project(make_project(tmp_path, text))
    assert [c.start for c in p.tracks[0].clips] == ["2.5s", "3:2.5"]


@pytest.mark.parametrize("voice", ["kick", "snare", "hat", "closed_hat", "open_hat", "tom_low",
                                   "tom_mid", "tom_high", "rim", "cowbell", "crash", "ride",
                                   "perc", "clap"])
def test_every_drum_voice_is_accepted_in_patterns(tmp_path: Path, voice: str) -> None:
    from mixdown.dsp.base import DEVICES

    inst = "drums" if "drums" in DEVICES else "synth"
    text = textwrap.dedent(f"""\
        [[track]]
        name = "D"
        instrument = {{ type = "{inst}" }}
        clips = [{{ start = 0, bars = 1, pattern = {{ {voice} = "x... | x.x. | X..o | -.x." }} }}]
        """)
    p = load_project(make_project(tmp_path, text))
    assert p.tracks[0].clips[0].pattern == {voice: "x... | x.x. | X..o | -.x."}


def test_sampler_zone_files_are_checked(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        [[track]]
        name = "S"
        instrument = { type = "sampler", zones = [{ file = "audio/vocal_take3.wav", root = 60 }] }
        """)
    p = load_project(make_project(tmp_path, text))
    assert p.tracks[0].instrument is not None
    assert p.tracks[0].instrument.params["zones"][0]["file"] == "audio/vocal_take3.wav"
