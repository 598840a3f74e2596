"""Project -> song.toml: round trips, comments kept, only changed values rewritten, atomic."""

from __future__ import annotations

import difflib
import textwrap
import tomllib
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixdown.core.errors import FormatError
from mixdown.io.project import document_to_project, open_project, parse_document
from mixdown.io.project_save import project_to_document, save_project
from mixdown.model.project import (
    AutomationLane,
    AutomationPoint,
    Bus,
    Clip,
    Device,
    Marker,
    Master,
    Note,
    Project,
    Send,
    Song,
    Track,
)

COMMENTED = """\
# Night Drive -- a song file with comments everywhere
schema_version = 1  # the format version

[song]
title = "Night Drive"   # working title
tempo = 96              # slow and steady
time_signature = [4, 4]
tempo_map = [
    { at = "9:1", bpm = 104, ramp = true },  # lift into the chorus
]

# sections
[[marker]]
name = "Intro"
at = "1:1"

[[track]]
name = "Bass"        # the low end
instrument = { type = "synth", preset = "bass", cutoff_hz = 900 }
volume_db = -3       # sits under the kick
devices = [
    { type = "eq", highpass_hz = 30 },        # rumble
    { type = "compressor", ratio = 4 },       # glue
]
sends = { Space = -18.0 }
clips = [
    # verse riff
    { start = "1:1", notes = [["A1", 0, 0.75, 100], { pitch = "A2", start = 1.5, length = 0.5 }] },
    { start = "2:1", length = 4, notes = [["F1", 0, 1]] },  # second bar
]
automation = [
    { param = "volume_db", points = [["1:1", -12], ["2:1", -3, 0.5]] },  # fade in
]

[[track]]
name = "Pad"
instrument = { type = "synth", preset = "pad" }
pan = 0.25
clips = [{ start = 0, bars = 2, notes = [[57, 0, 8], [60, 0, 8], [64, 0, 8]] }]

[[bus]]
name = "Space"   # the room
devices = [{ type = "reverb", room_size = 0.8, wet = 1.0, dry = 0.0 }]

[master]
volume_db = -1.5   # headroom
target = "spotify"
"""


def write(root: Path, text: str = COMMENTED) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "song.toml").write_text(text, encoding="utf-8")
    return root / "song.toml"


def changed_lines(a: str, b: str) -> list[str]:
    return [line for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="",
                                                  n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_unchanged_project_saves_byte_identical(tmp_path: Path) -> None:
    path = write(tmp_path)
    pf = open_project(tmp_path)
    save_project(pf.project, tmp_path)
    assert path.read_text(encoding="utf-8") == COMMENTED
    assert tomlkit.dumps(project_to_document(pf.project, pf.document)) == COMMENTED


def test_load_save_load_is_equal(tmp_path: Path) -> None:
    write(tmp_path / "a")
    p = open_project(tmp_path / "a").project
    # without the original: a fresh document, the same project
    (tmp_path / "b").mkdir()
    save_project(p, tmp_path / "b" / "song.toml")
    assert open_project(tmp_path / "b").project == p


def test_changing_one_value_changes_one_line_and_keeps_every_comment(tmp_path: Path) -> None:
    write(tmp_path)
    pf = open_project(tmp_path)
    bass = pf.project.tracks[0]
    project = pf.project.model_copy(update={"tracks": (
        bass.model_copy(update={"volume_db": -6.0}), *pf.project.tracks[1:])})
    save_project(project, tmp_path, original=pf.document)
    text = (tmp_path / "song.toml").read_text()
    assert changed_lines(COMMENTED, text) == [
        "-volume_db = -3       # sits under the kick",
        "+volume_db = -6       # sits under the kick",
    ]
    assert open_project(tmp_path).project == project


def test_nested_edits_touch_only_their_lines(tmp_path: Path) -> None:
    write(tmp_path)
    pf = open_project(tmp_path)
    bass = pf.project.tracks[0]
    riff = bass.clips[0]
    new_notes = (riff.notes[0], riff.notes[1].model_copy(update={"pitch": 45 + 7}))
    comp = bass.devices[1].model_copy(update={"params": {"ratio": 2}})
    bass2 = bass.model_copy(update={
        "clips": (riff.model_copy(update={"notes": new_notes}), bass.clips[1]),
        "devices": (bass.devices[0], comp),
        "sends": (Send(to="Space", level_db=-12.0),),
    })
    project = pf.project.model_copy(update={"tracks": (bass2, pf.project.tracks[1])})
    text = tomlkit.dumps(project_to_document(project, pf.document))
    assert changed_lines(COMMENTED, text) == [
        '-    { type = "compressor", ratio = 4 },       # glue',
        '+    { type = "compressor", ratio = 2 },       # glue',
        "-sends = { Space = -18.0 }",
        "+sends = { Space = -12 }",
        '-    { start = "1:1", notes = [["A1", 0, 0.75, 100], { pitch = "A2", start = 1.5, '
        'length = 0.5 }] },',
        '+    { start = "1:1", notes = [["A1", 0, 0.75, 100], { pitch = "E3", start = 1.5, '
        'length = 0.5 }] },',
    ]
    assert document_to_project(tomlkit.parse(text)) == project
    for comment in ("# glue", "# rumble", "# verse riff", "# second bar", "# fade in",
                    "# the low end", "# the room", "# headroom", "# lift into the chorus"):
        assert comment in text


def test_adding_and_removing_items_keeps_the_rest(tmp_path: Path) -> None:
    write(tmp_path)
    pf = open_project(tmp_path)
    p = pf.project
    lead = Track(name="Lead", instrument=Device(type="synth", params={"preset": "lead"}),
                 clips=(Clip(start="2:1", notes=(Note(pitch=76, start=0, length=1),)),),
                 sends=(Send(to="Space", level_db=-9, pre_fader=True),))
    project = p.model_copy(update={
        "tracks": (p.tracks[0], lead),  # Pad removed, Lead added
        "markers": (*p.markers, Marker(name="Chorus", at="9:1")),
    })
    save_project(project, tmp_path, original=pf.document)
    text = (tmp_path / "song.toml").read_text()
    assert open_project(tmp_path).project == project
    pad = COMMENTED[COMMENTED.index('[[track]]\nname = "Pad"'):COMMENTED.index("[[bus]]")]
    removed = [line[1:] for line in changed_lines(COMMENTED, text) if line.startswith("-")]
    # only the Pad track's lines went (difflib may pair its header with another track's)
    assert [r for r in removed if r not in ("", "[[track]]")] == pad.splitlines()[1:-1]
    assert textwrap.dedent("""\
        [[marker]]
        name = "Intro"
        at = "1:1"

        [[marker]]
        name = "Chorus"
        at = "9:1"

        [[track]]
        name = "Bass"        # the low end
        """) in text
    assert textwrap.dedent("""\
        [[track]]
        name = "Lead"
        instrument = { type = "synth", preset = "lead" }
        sends = { Space = { level_db = -9, pre_fader = true } }
        clips = [{ start = "2:1", notes = [["E5", 0, 1]] }]

        [[bus]]
        """) in text


def test_fields_never_set_are_not_written() -> None:
    project = Project(tracks=(Track(name="A", volume_db=-3),))
    text = tomlkit.dumps(project_to_document(project))
    assert text == '[[track]]\nname = "A"\nvolume_db = -3\n'
    assert document_to_project(tomlkit.parse(text)) == project


def test_a_python_project_writes_the_documented_layout() -> None:
    project = Project(
        song=Song(title="T", tempo=100),
        tracks=(Track(
            name="Drums", instrument=Device(type="drums"),
            devices=(Device(type="compressor", params={"threshold_db": -18, "ratio": 4}),),
            sends=(Send(to="Space", level_db=-12.0),),
            clips=(Clip(start="1:1", bars=8, pattern={"kick": "x...x...", "snare": "....x..."}),),
            automation=(AutomationLane(param="volume_db", points=(
                AutomationPoint(at="1:1", value=-6.0),
                AutomationPoint(at="9:1", value=0.0, curve=0.5))),),
        ),),
        buses=(Bus(name="Space", devices=(Device(type="reverb", params={"wet": 1.0}),)),),
        master=Master(target="spotify"),
    )
    assert tomlkit.dumps(project_to_document(project)) == textwrap.dedent("""\
        [song]
        title = "T"
        tempo = 100

        [[track]]
        name = "Drums"
        instrument = { type = "drums" }
        devices = [{ type = "compressor", threshold_db = -18, ratio = 4 }]
        sends = { Space = -12 }
        clips = [
            { start = "1:1", bars = 8, pattern = { kick = "x...x...", snare = "....x..." } },
        ]
        automation = [{ param = "volume_db", points = [["1:1", -6], ["9:1", 0, 0.5]] }]

        [[bus]]
        name = "Space"
        devices = [{ type = "reverb", wet = 1 }]

        [master]
        target = "spotify"
        """)


def test_the_callers_document_is_not_modified(tmp_path: Path) -> None:
    write(tmp_path)
    pf = open_project(tmp_path)
    project = pf.project.model_copy(update={"tracks": pf.project.tracks[:1]})
    project_to_document(project, pf.document)
    assert tomlkit.dumps(pf.document) == COMMENTED


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    write(tmp_path)
    p = open_project(tmp_path).project
    save_project(p.model_copy(update={"song": p.song.model_copy(update={"tempo": 90.0})}),
                 tmp_path)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["song.toml"]


def test_save_into_a_missing_folder_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"does not exist$"):
        save_project(Project(), tmp_path / "nope" / "song.toml")
    assert list(tmp_path.iterdir()) == []


def test_save_over_a_malformed_file_replaces_it(tmp_path: Path) -> None:
    path = write(tmp_path, "this is [ not toml")
    save_project(Project(tracks=(Track(name="A"),)), path)
    assert path.read_text() == '[[track]]\nname = "A"\n'


def test_parse_document_is_the_loaders_parser() -> None:
    with pytest.raises(FormatError, match=r"^x\.toml: line 1: malformed TOML"):
        parse_document("a = ", "x.toml")


# -- property: any project survives the trip through TOML ----------------------------------------

positions = st.one_of(
    st.floats(0, 512, allow_nan=False).map(lambda x: round(x, 3)),
    st.tuples(st.integers(1, 64), st.sampled_from([1, 2, 3, 4, 1.5, 2.25])).map(
        lambda t: f"{t[0]}:{t[1]:g}"),
    st.floats(0, 300, allow_nan=False).map(lambda x: f"{round(x, 3):g}s"),
)
notes = st.builds(Note, pitch=st.integers(0, 127),
                  start=st.floats(0, 64, allow_nan=False).map(lambda x: round(x, 4)),
                  length=st.floats(0.01, 16, allow_nan=False).map(lambda x: round(x, 4)),
                  velocity=st.integers(1, 127))
lanes = st.builds(AutomationLane, param=st.sampled_from(["volume_db", "pan"]),
                  points=st.lists(st.builds(AutomationPoint, at=positions,
                                            value=st.floats(-1, 1, allow_nan=False),
                                            curve=st.floats(-1, 1, allow_nan=False)),
                                  min_size=1, max_size=3).map(tuple))


devices = st.builds(Device, type=st.sampled_from(["eq", "compressor"]),
                    name=st.one_of(st.none(), st.sampled_from(["a", "b c"])),
                    bypass=st.booleans(),
                    params=st.dictionaries(st.sampled_from(["gain_db", "q", "mode"]),
                                           st.one_of(st.floats(-24, 24), st.integers(0, 9),
                                                     st.sampled_from(["x", "y"])), max_size=3))
clip_kinds = st.one_of(
    st.builds(Clip, start=positions, notes=st.lists(notes, min_size=1, max_size=4).map(tuple),
              length=st.one_of(st.none(), st.floats(0.5, 32))),
    st.builds(Clip, start=positions, bars=st.integers(1, 8),
              pattern=st.dictionaries(st.sampled_from(["kick", "snare", "hat"]),
                                      st.text("xXo.-| ", min_size=1, max_size=16), min_size=1),
              swing=st.floats(0, 0.75)),
)


@st.composite
def projects(draw: st.DrawFn) -> Project:
    n = draw(st.integers(0, 3))
    tracks = []
    for i in range(n):
        clips = draw(st.lists(clip_kinds, max_size=3))
        tracks.append(Track(
            name=f"T{i} {draw(st.text('abc ', max_size=3)).strip()}".strip(),
            instrument=Device(type="synth", params=draw(st.dictionaries(
                st.sampled_from(["cutoff_hz", "resonance"]), st.floats(0, 1), max_size=2))),
            volume_db=draw(st.floats(-144, 24)), pan=draw(st.floats(-1, 1)),
            mute=draw(st.booleans()), clips=tuple(clips),
            sends=(Send(to="Space", level_db=draw(st.floats(-60, 6)),
                        pre_fader=draw(st.booleans())),) if draw(st.booleans()) else (),
            automation=tuple(draw(st.lists(lanes, max_size=2))),
            devices=tuple(draw(st.lists(devices, max_size=2))),
        ))
    markers = tuple(Marker(name=f"M{i}", at=draw(positions))
                    for i in range(draw(st.integers(0, 2))))
    master = draw(st.one_of(st.just(Master()), st.builds(
        Master, volume_db=st.floats(-12, 6), devices=st.lists(devices, max_size=2).map(tuple))))
    return Project(song=Song(tempo=draw(st.floats(20, 300)), title=draw(st.text(max_size=8))),
                   tracks=tuple(tracks), buses=(Bus(name="Space"),), markers=markers,
                   master=master)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(project=projects(), edit=projects())
def test_any_project_round_trips_and_merges(project: Project, edit: Project) -> None:
    doc = project_to_document(project)
    assert document_to_project(tomlkit.parse(tomlkit.dumps(doc))) == project
    # merging another project into this document gives exactly the other project
    merged = project_to_document(edit, doc)
    assert document_to_project(tomlkit.parse(tomlkit.dumps(merged))) == edit


# -- files whose [[track]] and [[bus]] tables are interleaved ------------------------------------

INTERLEAVED = """\
# tracks and buses in the order the producer likes
[song]
tempo = 100

# the kick and its bus
[[track]]
name = "Kick"
output = "Drums"   # into the drum bus

[[bus]]
name = "Drums"     # glue
volume_db = -2

[[track]]
name = "Snare"
output = "Drums"

[[track.clips]]
start = "1:1"
file = "audio/snare.wav"

# the master comes before the last bus, why not
[master]
volume_db = -1

[[bus]]
name = "Space"
"""


def interleaved(tmp_path: Path) -> Path:
    import numpy as np
    import soundfile as sf

    (tmp_path / "audio").mkdir(parents=True)
    sf.write(str(tmp_path / "audio" / "snare.wav"), np.zeros(480, np.float32), 48000)
    return write(tmp_path, INTERLEAVED)


def test_interleaved_tables_unchanged_are_left_alone(tmp_path: Path) -> None:
    path = interleaved(tmp_path)
    before = path.stat().st_mtime_ns
    save_project(open_project(tmp_path).project, tmp_path)
    assert path.read_text() == INTERLEAVED and path.stat().st_mtime_ns == before


def test_interleaved_tables_keep_their_order_when_one_value_changes(tmp_path: Path) -> None:
    interleaved(tmp_path)
    p = open_project(tmp_path).project
    snare = p.tracks[1].model_copy(update={"volume_db": -4.5})
    p2 = p.model_copy(update={"tracks": (p.tracks[0], snare)})
    save_project(p2, tmp_path)
    text = (tmp_path / "song.toml").read_text()
    assert changed_lines(INTERLEAVED, text) == ['+volume_db = -4.5']
    assert 'name = "Snare"\noutput = "Drums"\nvolume_db = -4.5\n' in text
    assert open_project(tmp_path).project == p2


def test_interleaved_tables_add_and_remove_in_place(tmp_path: Path) -> None:
    interleaved(tmp_path)
    p = open_project(tmp_path).project
    p2 = p.model_copy(update={
        "tracks": (p.tracks[1], Track(name="Hat", output="Drums")),   # Kick removed, Hat added
        "buses": (*p.buses, Bus(name="Echo")),
    })
    save_project(p2, tmp_path)
    text = (tmp_path / "song.toml").read_text()
    assert open_project(tmp_path).project == p2
    assert text == INTERLEAVED.replace(
        '# the kick and its bus\n[[track]]\nname = "Kick"\noutput = "Drums"   # into the drum '
        'bus\n\n', ""
    ).replace(
        'file = "audio/snare.wav"\n\n',
        'file = "audio/snare.wav"\n\n[[track]]\nname = "Hat"\noutput = "Drums"\n\n',
    ) + '\n[[bus]]\nname = "Echo"\n'


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(project=projects(), edit=projects(), order=st.randoms(use_true_random=False))
def test_interleaved_files_merge_any_edit(project: Project, edit: Project,
                                          order: object) -> None:
    import random
    import re
    import tempfile

    assert isinstance(order, random.Random)
    project = project.model_copy(update={"buses": (*project.buses, Bus(name="Extra"))})
    edit = edit.model_copy(update={"buses": (*edit.buses, Bus(name="Extra", volume_db=-3))})
    chunks = re.split(r"\n(?=\[)", tomlkit.dumps(project_to_document(project)).rstrip("\n"))
    # interleave the kinds of tables at random, each kind keeping its own order
    queues: dict[str, list[str]] = {}
    for c in chunks:
        queues.setdefault(c.split("\n", 1)[0], []).append(c.rstrip("\n"))
    mixed = []
    while queues:
        kind = order.choice(sorted(queues))
        mixed.append(queues[kind].pop(0))
        if not queues[kind]:
            del queues[kind]
    text = "\n\n".join(mixed) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "song.toml"
        path.write_text(text)
        assert document_to_project(tomllib.loads(text)) == project
        save_project(edit, path)
        assert document_to_project(tomllib.loads(path.read_text())) == edit
