"""Bad input in song.toml: one exact line naming the file, the place, the value and the fix.

Every case of the issue's "Bad input" list that belongs to loading is here: malformed
TOML, unknown fields, unknown device or parameter, out-of-range values, NaN/inf,
negative or zero tempo, a missing or unreadable audio file, paths that escape the
project folder (``../``, absolute, symlinks out), audio with NaN samples, broken MIDI.
A failed load writes nothing.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mixdown.core.errors import FormatError, MixdownError, ModelError
from mixdown.resolve import ProjectProblems, open_project

BASE = """\
[song]
tempo = 120

[[track]]
name = "Bass"
instrument = { type = "synth" }
devices = [{ type = "eq", highpass_hz = 40 }, { type = "compressor", ratio = 2 }]
clips = [{ start = "1:1", length = 4, notes = [["C2", 0, 1]] }]
sends = { Space = -12.0 }

[[track]]
name = "Vox"
clips = [{ start = 0, file = "audio/ok.wav" }]

[[bus]]
name = "Space"
devices = [{ type = "reverb", wet = 1.0 }]
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A valid project in the current folder (so that messages say ``song.toml``)."""
    (tmp_path / "audio").mkdir()
    sf.write(str(tmp_path / "audio" / "ok.wav"), np.zeros(480, np.float32), 48000)
    (tmp_path / "song.toml").write_text(BASE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def fail(root: Path, text: str, error: type[MixdownError] = ModelError) -> str:
    """Load ``text`` as song.toml; return the one-line message (without the line number the
    resolve step adds: ``song.toml:12:``); check nothing was written."""
    (root / "song.toml").write_text(text, encoding="utf-8")
    before = snapshot(root)
    with pytest.raises(MixdownError) as info:
        open_project("song.toml")
    assert snapshot(root) == before, "a failed load must write nothing"
    exc = info.value
    if isinstance(exc, ProjectProblems):
        assert len(exc.problems) == 1, str(exc)
        assert issubclass(exc.problems[0].error, error)
        problem = exc.problems[0]
        assert problem.line is None or 1 <= problem.line <= text.count("\n") + 1
        message = str(exc).replace(f"{problem.file}:{problem.line}:", f"{problem.file}:", 1)
    else:
        assert isinstance(exc, error)
        message = str(exc)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_the_base_project_is_valid(project: Path) -> None:
    assert [t.name for t in open_project("song.toml").project.tracks] == ["Bass", "Vox"]


# -- the file itself ---------------------------------------------------------------------------


def test_malformed_toml_names_the_line(project: Path) -> None:
    text = BASE.replace('name = "Vox"', 'name = "Vox"\nvolume_db = = 3')
    assert fail(project, text, FormatError) == (
        "song.toml: line 13: malformed TOML (unexpected character: '=')")


def test_unterminated_array_is_end_of_file(project: Path) -> None:
    assert fail(project, BASE + "clips = [\n", FormatError) == (
        "song.toml: line 18: malformed TOML (unexpected end of file)")


def test_key_set_twice_names_the_second_line(project: Path) -> None:
    text = BASE.replace("tempo = 120", "tempo = 120\ntempo = 96")
    assert fail(project, text, FormatError) == (
        "song.toml: line 3: malformed TOML ('tempo' is defined twice; keep one)")


def test_not_utf8(project: Path) -> None:
    (project / "song.toml").write_bytes(b'[song]\ntitle = "caf\xe9"\n')
    with pytest.raises(FormatError) as info:
        open_project("song.toml")
    assert str(info.value) == "song.toml: byte 19: not UTF-8 text; save the file as UTF-8"


def test_unterminated_string_is_called_so(project: Path) -> None:
    text = BASE.replace('name = "Vox"', 'name = "Vox')
    assert fail(project, text, FormatError) == (
        "song.toml: line 12: malformed TOML (unterminated string: a string in quotes must end "
        'on the line where it starts; close it, or use """ for text over several lines)')


def test_an_audio_file_given_as_the_project(project: Path) -> None:
    with pytest.raises(FormatError) as info:
        open_project("audio/ok.wav")
    assert str(info.value) == ("audio/ok.wav: is an audio file, not a project; give a project "
                               "folder or its song.toml")
    (project / "take").write_bytes((project / "audio" / "ok.wav").read_bytes())  # no suffix
    with pytest.raises(FormatError, match=r"^take: is an audio file, not a project"):
        open_project("take")


def test_other_binary_data_given_as_the_project(project: Path) -> None:
    (project / "notes.bin").write_bytes(b"\x00\xff\xfe binary")
    with pytest.raises(FormatError) as info:
        open_project("notes.bin")
    assert str(info.value) == ("notes.bin: is not a project (binary data at byte 1); give a "
                               "project folder or its song.toml")


def test_missing_project(tmp_path: Path) -> None:
    with pytest.raises(FormatError) as info:
        open_project(tmp_path)
    assert str(info.value) == (f"{tmp_path}: no song.toml in this folder; create a project "
                               f"with `mixdown new {tmp_path}`")
    with pytest.raises(FormatError, match=r"nope\.toml: no such file or folder$"):
        open_project(tmp_path / "nope.toml")


# -- structure and values ------------------------------------------------------------------------

CASES = [
    # unknown fields, with the closest known one
    ("unknown top-level key",
     BASE.replace("[[bus]]", "[[busses]]"),
     "song.toml: busses: unknown key; did you mean 'bus'?"),
    ("unknown clip field",
     BASE.replace('file = "audio/ok.wav"', 'file = "audio/ok.wav", fade_in = 0.1'),
     "song.toml: track \"Vox\", clips[0].fade_in: unknown key; did you mean 'fade_in_s'?"),
    ("unknown song field (a synonym)",
     BASE.replace("tempo = 120", "bpm = 120"),
     "song.toml: song.bpm: unknown key; did you mean 'tempo'?"),
    ("unknown send field",
     BASE.replace("Space = -12.0", "Space = { level = -12.0 }"),
     "song.toml: track \"Bass\", sends.Space.level: unknown key; did you mean 'level_db'?"),
    # unknown devices and parameters
    ("unknown device type",
     BASE.replace('"compressor"', '"compresor"'),
     "song.toml: track \"Bass\", devices[1].type: unknown device type 'compresor'; "
     "did you mean 'compressor'?"),
    ("unknown parameter",
     BASE.replace("ratio = 2", "ratoi = 2"),
     "song.toml: track \"Bass\", devices[1].ratoi: compressor has no parameter 'ratoi'; "
     "did you mean 'ratio'?"),
    ("unknown instrument",
     BASE.replace('{ type = "synth" }', '{ type = "synht" }'),
     "song.toml: track \"Bass\", instrument.type: unknown instrument type 'synht'; "
     "did you mean 'synth'?"),
    ("an instrument used as an effect",
     BASE.replace('{ type = "eq", highpass_hz = 40 }', '{ type = "synth" }'),
     "song.toml: track \"Bass\", devices[0].type: 'synth' is an instrument; use it as "
     "instrument = { type = \"synth\" } on a track"),
    ("a device without a type",
     BASE.replace('{ type = "eq", highpass_hz = 40 }', "{ highpass_hz = 40 }"),
     "song.toml: track \"Bass\", devices[0].type: is required; add type = \"...\" "
     "(a device type)"),
    # out of range
    ("the issue's example",
     BASE.replace("ratio = 2", "ratio = 0.5"),
     "song.toml: track \"Bass\", devices[1].ratio: must be >= 1, got 0.5"),
    ("device choice",
     BASE.replace("ratio = 2", 'detector = "rsm"'),
     "song.toml: track \"Bass\", devices[1].detector: must be one of peak, rms, got 'rsm'; "
     "did you mean 'rms'?"),
    ("volume too high",
     BASE.replace('name = "Vox"', 'name = "Vox"\nvolume_db = 30'),
     "song.toml: track \"Vox\", volume_db: must be <= 24, got 30"),
    ("pan out of range",
     BASE.replace('name = "Vox"', 'name = "Vox"\npan = -1.5'),
     "song.toml: track \"Vox\", pan: must be >= -1, got -1.5"),
    ("velocity out of range",
     BASE.replace('["C2", 0, 1]', '["C2", 0, 1, 128]'),
     "song.toml: track \"Bass\", clips[0].notes[0].velocity: must be <= 127, got 128"),
    ("send level out of range (short form)",
     BASE.replace("Space = -12.0", "Space = 30"),
     "song.toml: track \"Bass\", sends.Space: must be <= 24, got 30"),
    ("sample rate",
     BASE.replace("tempo = 120", "tempo = 120\nsample_rate = 22050"),
     "song.toml: song.sample_rate: must be one of 44100, 48000, 88200, 96000 Hz, got 22050"),
    ("schema version",
     "schema_version = 2\n" + BASE,
     "song.toml: schema_version: must be 1, got 2; this version of mixdown reads "
     "schema_version 1"),
    # NaN and inf (TOML allows them)
    ("nan volume",
     BASE.replace('name = "Vox"', 'name = "Vox"\nvolume_db = nan'),
     "song.toml: track \"Vox\", volume_db: must be a finite number, got nan"),
    ("inf device parameter",
     BASE.replace("highpass_hz = 40", "highpass_hz = inf"),
     "song.toml: track \"Bass\", devices[0].highpass_hz: must be a finite number, got inf"),
    ("-inf position",
     BASE.replace('start = "1:1"', "start = -inf"),
     "song.toml: track \"Bass\", clips[0].start: must be a finite number, got -inf"),
    ("nan inside a note",
     BASE.replace('["C2", 0, 1]', '["C2", nan, 1]'),
     "song.toml: track \"Bass\", clips[0].notes[0][1]: must be a finite number, got nan"),
    # tempo
    ("zero tempo",
     BASE.replace("tempo = 120", "tempo = 0"),
     "song.toml: song.tempo: must be > 0, got 0"),
    ("negative tempo",
     BASE.replace("tempo = 120", "tempo = -96"),
     "song.toml: song.tempo: must be > 0, got -96"),
    ("zero tempo in the map",
     BASE.replace("tempo = 120", 'tempo = 120\ntempo_map = [{ at = "5:1", bpm = 0 }]'),
     "song.toml: song.tempo_map[0].bpm: must be > 0, got 0"),
    ("tempo change in seconds",
     BASE.replace("tempo = 120", 'tempo = 120\ntempo_map = [{ at = "10s", bpm = 90 }]'),
     "song.toml: song.tempo_map[0].at: tempo changes are placed in beats or 'bar:beat', "
     "not seconds, got '10s'"),
    ("tempo changes at the same place",
     BASE.replace("tempo = 120",
                  'tempo = 120\ntempo_map = [{ at = "5:1", bpm = 90 }, { at = 16, bpm = 80 }]'),
     "song.toml: song.tempo_map: tempo changes must be in time order; beat 16.0 comes after "
     "16.0"),
    # types: TOML is typed
    ("a string for a number",
     BASE.replace("tempo = 120", 'tempo = "fast"'),
     "song.toml: song.tempo: must be a number, got 'fast'"),
    ("a bool for a number",
     BASE.replace('name = "Vox"', 'name = "Vox"\nvolume_db = true'),
     "song.toml: track \"Vox\", volume_db: must be a number, got true"),
    ("a number for a bool",
     BASE.replace('name = "Vox"', 'name = "Vox"\nmute = 1'),
     "song.toml: track \"Vox\", mute: must be true or false, got 1"),
    ("a bool position",
     BASE.replace('start = "1:1"', "start = true"),
     "song.toml: track \"Bass\", clips[0].start: must be beats (16), 'bar:beat' ('5:1') or "
     "seconds ('12.5s'), got true"),
    ("sends as an array",
     BASE.replace("sends = { Space = -12.0 }", 'sends = ["Space"]'),
     "song.toml: track \"Bass\", sends: must be a table of bus = level_db: "
     "sends = { Space = -12.0 }"),
    ("a track written as a value",
     "track = \"Bass\"\n",
     "song.toml: track: must be tables written as [[track]] name = \"Bass\""),
    # positions
    ("a beat past the bar",
     BASE.replace('start = "1:1"', 'start = "2:5"'),
     "song.toml: track \"Bass\", clips[0].start: beat 5 is past the end of bar 2 in 4/4"),
    ("a position that is not one",
     BASE.replace('start = "1:1"', 'start = "soon"'),
     "song.toml: track \"Bass\", clips[0].start: must be beats (16), 'bar:beat' ('5:1') or "
     "seconds ('12.5s'), got 'soon'"),
    ("a negative position",
     BASE.replace('start = "1:1"', "start = -4"),
     "song.toml: track \"Bass\", clips[0].start: must be beats (16), 'bar:beat' ('5:1') or "
     "seconds ('12.5s'), got -4.0"),
    # notes and patterns
    ("a note name",
     BASE.replace('["C2", 0, 1]', '["H2", 0, 1]'),
     "song.toml: track \"Bass\", clips[0].notes[0].pitch: not a note name: 'H2' "
     "(write e.g. 'C4', 'F#2', 'Bb3' or 60)"),
    ("a short note",
     BASE.replace('["C2", 0, 1]', '["C2", 0]'),
     "song.toml: track \"Bass\", clips[0].notes[0]: a note is [pitch, start, length] or "
     "[pitch, start, length, velocity], got 2 values"),
    ("an unknown drum voice",
     BASE.replace('notes = [["C2", 0, 1]]', 'pattern = { kik = "x..." }'),
     "song.toml: track \"Bass\", clips[0].pattern.kik: unknown drum voice; "
     "did you mean 'kick'?"),
    ("an unknown step character",
     BASE.replace('notes = [["C2", 0, 1]]', 'pattern = { kick = "x..y" }'),
     "song.toml: track \"Bass\", clips[0]: pattern 'kick': unknown step characters 'y'; use "
     "'x' hit (velocity 100), 'X' accent (127), 'o' ghost (64), '.' or '-' rest"),
    ("a clip with two sources",
     BASE.replace('notes = [["C2", 0, 1]]', 'notes = [["C2", 0, 1]], midi = "x.mid"'),
     "song.toml: track \"Bass\", clips[0]: a clip has one source; this one has notes and midi"),
    ("notes without an instrument",
     BASE.replace('file = "audio/ok.wav"', 'notes = [["C4", 0, 1]]'),
     "song.toml: track \"Vox\": clips[0] has notes but the track has no instrument; add "
     "instrument = { type = \"synth\" } (or drums, fm, sampler)"),
    ("audio on an instrument track",
     BASE.replace('notes = [["C2", 0, 1]]', 'file = "audio/ok.wav"'),
     "song.toml: track \"Bass\", clips[0].file: an instrument track cannot play audio clips; "
     "put them on a track without an instrument"),
    # names and references
    ("a send to a missing bus",
     BASE.replace("Space = -12.0", "Spcae = -12.0"),
     "song.toml: track \"Bass\", sends.Spcae: no bus 'Spcae'; did you mean 'Space'?"),
    ("an output to a missing bus",
     BASE.replace('name = "Vox"', 'name = "Vox"\noutput = "Drums"'),
     "song.toml: track \"Vox\", output: no bus 'Drums'; buses: Space"),
    ("two tracks with one name",
     BASE.replace('name = "Vox"', 'name = "Bass"'),
     "song.toml: track \"Bass\", name: already used by a track; track and bus names must "
     "be unique"),
    ("a track without a name",
     BASE.replace('name = "Vox"\n', ""),
     "song.toml: track #2, name: is required; add name = \"...\""),
    ("a sidechain from nowhere",
     BASE.replace("ratio = 2", 'ratio = 2, sidechain = "Voz"'),
     "song.toml: track \"Bass\", devices[1].sidechain: no track or bus 'Voz'; "
     "did you mean 'Vox'?"),
    ("a bus loop",
     BASE.replace('devices = [{ type = "reverb", wet = 1.0 }]',
                  'output = "Space"'),
     "song.toml: bus \"Space\": a bus cannot feed itself"),
    ("an unknown loudness target",
     BASE + '\n[master]\ntarget = "spotfy"\n',
     "song.toml: master.target: unknown target 'spotfy'; did you mean 'spotify'? (presets: "
     "spotify, apple-music, youtube, amazon-music, tidal, deezer, ebu-r128, atsc-a85, cd; or "
     "give a number in LUFS such as -14)"),
    ("a master device parameter out of range",
     BASE + '\n[master]\ndevices = [{ type = "compressor", ratio = 0 }]\n',
     "song.toml: master.devices[0].ratio: must be >= 1, got 0"),
    # automation
    ("an unknown automation target",
     BASE.replace('name = "Vox"',
                  'name = "Vox"\nautomation = [{ param = "volume", points = [[0, -3]] }]'),
     "song.toml: track \"Vox\", automation[0].param: unknown target 'volume'; "
     "did you mean 'volume_db'?"),
    ("an unknown device parameter in automation",
     BASE.replace('name = "Bass"',
                  'name = "Bass"\nautomation = [{ param = "eq.highpas_hz", points = [[0, 50]] }]'),
     "song.toml: track \"Bass\", automation[0].param: eq has no automatable parameter "
     "'highpas_hz'; did you mean 'highpass_hz' or 'high_shelf_hz'?"),
    ("an automation value out of range",
     BASE.replace('name = "Bass"', 'name = "Bass"\nautomation = [{ param = "compressor.ratio", '
                  'points = [[0, 4], ["2:1", 0.5]] }]'),
     "song.toml: track \"Bass\", automation[0].points[1]: compressor.ratio: must be >= 1, "
     "got 0.5"),
    ("automating a send that does not exist",
     BASE.replace('name = "Vox"',
                  'name = "Vox"\nautomation = [{ param = "send.Space", points = [[0, -3]] }]'),
     "song.toml: track \"Vox\", automation[0].param: no send to 'Space' here (sends: none); "
     "add it to sends first"),
    ("a pan beyond the edge",
     BASE.replace('name = "Vox"',
                  'name = "Vox"\nautomation = [{ param = "pan", points = [[0, 0], [4, 2]] }]'),
     "song.toml: track \"Vox\", automation[0].points[1]: pan must be in -1..1, got 2"),
    ("a point as a bare number",
     BASE.replace('name = "Vox"',
                  'name = "Vox"\nautomation = [{ param = "pan", points = [[0]] }]'),
     "song.toml: track \"Vox\", automation[0].points[0]: a point is [position, value] or "
     "[position, value, curve], got 1 values"),
    ("a lane without points",
     BASE.replace('name = "Vox"', 'name = "Vox"\nautomation = [{ param = "pan", points = [] }]'),
     "song.toml: track \"Vox\", automation[0].points: needs at least 1 item(s)"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_values_give_one_exact_line(project: Path, text: str, message: str) -> None:
    assert fail(project, text) == message


# -- files the project refers to -----------------------------------------------------------------


def test_missing_audio_file(project: Path) -> None:
    text = BASE.replace("audio/ok.wav", "audio/missing.wav")
    assert fail(project, text, FormatError) == (
        f"song.toml: track \"Vox\", clips[0].file: audio/missing.wav not found in "
        f"{project.resolve()}")


def test_unreadable_audio_file(project: Path) -> None:
    (project / "audio" / "bad.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    message = fail(project, BASE.replace("audio/ok.wav", "audio/bad.wav"), FormatError)
    assert message.startswith(
        "song.toml: track \"Vox\", clips[0].file: audio/bad.wav: not a readable audio file (")


def test_audio_file_with_nan_samples(project: Path) -> None:
    x = np.zeros((2, 100_000), np.float32)
    x[1, 77_777] = np.nan  # in the second read block
    sf.write(str(project / "audio" / "nan.wav"), x.T, 48000, subtype="FLOAT")
    assert fail(project, BASE.replace("audio/ok.wav", "audio/nan.wav"), FormatError) == (
        "song.toml: track \"Vox\", clips[0].file: audio/nan.wav: holds NaN or infinite samples")


def test_audio_with_more_than_two_channels(project: Path) -> None:
    sf.write(str(project / "audio" / "surround.wav"), np.zeros((480, 6), np.float32), 48000)
    assert fail(project, BASE.replace("audio/ok.wav", "audio/surround.wav"), FormatError) == (
        "song.toml: track \"Vox\", clips[0].file: audio/surround.wav has 6 channels; clips "
        "must be mono or stereo")


def test_offset_past_the_end_of_the_file(project: Path) -> None:
    text = BASE.replace('file = "audio/ok.wav"', 'file = "audio/ok.wav", offset_s = 1')
    assert fail(project, text) == (
        "song.toml: track \"Vox\", clips[0].offset_s: 1 s is past the end of audio/ok.wav "
        "(0.010 s)")


@pytest.mark.parametrize("path", ["../outside.wav", "audio/../../outside.wav"])
def test_dot_dot_escapes_the_project(project: Path, path: str) -> None:
    sf.write(str(project.parent / "outside.wav"), np.zeros(480, np.float32), 48000)
    assert fail(project, BASE.replace("audio/ok.wav", path)) == (
        f"song.toml: track \"Vox\", clips[0].file: {path} escapes the project folder; keep "
        "assets inside it")


def test_absolute_path_is_refused(project: Path) -> None:
    absolute = str(project / "audio" / "ok.wav")  # even one inside the project
    assert fail(project, BASE.replace("audio/ok.wav", absolute)) == (
        f"song.toml: track \"Vox\", clips[0].file: {absolute} is an absolute path; give a "
        "path relative to the project folder and keep assets inside it")


def test_symlink_out_of_the_project_is_refused(project: Path) -> None:
    outside = project.parent / "secret.wav"
    sf.write(str(outside), np.zeros(480, np.float32), 48000)
    os.symlink(outside, project / "audio" / "link.wav")
    assert fail(project, BASE.replace("audio/ok.wav", "audio/link.wav")) == (
        "song.toml: track \"Vox\", clips[0].file: audio/link.wav escapes the project folder; "
        "keep assets inside it")


def test_symlink_inside_the_project_is_fine(project: Path) -> None:
    os.symlink(project / "audio" / "ok.wav", project / "audio" / "alias.wav")
    (project / "song.toml").write_text(BASE.replace("audio/ok.wav", "audio/alias.wav"))
    assert open_project("song.toml").project.tracks[1].clips[0].file == "audio/alias.wav"


def test_broken_midi_file(project: Path) -> None:
    (project / "midi").mkdir()
    (project / "midi" / "bad.mid").write_bytes(
        b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", 100))
    text = BASE.replace('notes = [["C2", 0, 1]]', 'midi = "midi/bad.mid"')
    assert fail(project, text, FormatError) == (
        "song.toml: track \"Bass\", clips[0].midi: midi/bad.mid: not a valid MIDI file (chunk 1 "
        "says 100 bytes but only 0 remain (truncated), at byte 14)")


def test_missing_sampler_zone_file(project: Path) -> None:
    text = BASE.replace('{ type = "synth" }',
                        '{ type = "sampler", zones = [{ file = "audio/ok.wav" }, '
                        '{ file = "samples/c5.wav" }] }')
    assert fail(project, text, FormatError) == (
        f"song.toml: track \"Bass\", instrument.zones[1].file: samples/c5.wav not found in "
        f"{project.resolve()}")


def test_sampler_zone_file_escaping(project: Path) -> None:
    text = BASE.replace('{ type = "synth" }',
                        '{ type = "sampler", zones = [{ file = "../x.wav" }] }')
    assert fail(project, text) == (
        "song.toml: track \"Bass\", instrument.zones[0].file: ../x.wav escapes the project "
        "folder; keep assets inside it")
