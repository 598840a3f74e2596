"""The top-level Python API (``import mixdown``), as a user calls it: typed results,
projects that remember their folder, edits by helper, stems by track, rendered and measured."""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import mixdown
from mixdown.core.jsonable import to_jsonable
from mixdown.core.units import gain_to_db
from signals import sine, write_wav

SONG = """\
[song]
title = "API test"
tempo = 120
tail_s = 0.5

[[track]]
name = "Tone"
volume_db = -6.0
clips = [{ start = "1:1", file = "audio/tone.wav" }]
sends = { Space = -10.0 }

[[bus]]
name = "Space"
volume_db = -3.0
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "song"
    write_wav(root / "audio" / "tone.wav", sine(440.0, 3.0, amp=0.5, channels=2))
    (root / "song.toml").write_text(SONG)
    return root


def rms_db(path: Path) -> float:
    x, _ = sf.read(str(path), always_2d=True)
    return gain_to_db(float(np.sqrt(np.mean(x ** 2))))


def test_load_remembers_the_folder_so_render_needs_no_root(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative asset paths must not resolve against the cwd
    song = mixdown.load(project)
    assert mixdown.project_root(song) == project
    report = mixdown.render(song, "new/folder/mix.wav")  # a folder that does not exist yet
    assert report.output.is_file()
    # the tone at -6 dB (plus a little reverb-less send at -13 dB): clearly not silence
    assert -25.0 < report.qc["integrated_lufs"] < -5.0


def test_edit_helpers_change_the_sound_by_measurement(project: Path, tmp_path: Path) -> None:
    song = mixdown.load(project)
    before = mixdown.render(song, tmp_path / "a.wav", bit_depth=32, qc=False)
    quieter = mixdown.with_track(song, "Tone", volume_db=-12.0)  # 6 dB down
    assert mixdown.project_root(quieter) == project  # the edited copy keeps the folder
    assert song.track("Tone").volume_db == -6.0  # the original is unchanged
    after = mixdown.render(quieter, tmp_path / "b.wav", bit_depth=32, qc=False)
    # the send is post-fader, so the whole mix moves by the fader's 6 dB
    assert rms_db(after.output) - rms_db(before.output) == pytest.approx(-6.0, abs=0.01)
    with pytest.raises(mixdown.ModelError, match="did you mean 'Tone'"):
        mixdown.with_track(song, "Tone ", volume_db=0.0)
    with pytest.raises(mixdown.ModelError, match="volume_db"):
        mixdown.with_track(song, "Tone", volume_db=300.0)
    muted = mixdown.with_master(mixdown.remove_track(song, "Tone"), volume_db=-3.0)
    assert [t.name for t in muted.tracks] == [] and muted.master.volume_db == -3.0


def test_save_creates_the_folder_and_remembers_it(tmp_path: Path) -> None:
    song = mixdown.Project(song=mixdown.Song(title="Sketch", tempo=110), tracks=(
        mixdown.Track(name="Keys", instrument=mixdown.Device(type="synth"), clips=(
            mixdown.Clip(start="1:1", notes=(mixdown.Note(pitch="C4", start=0, length=2),)),)),))
    written = mixdown.save(song, tmp_path / "new" / "sketch")
    assert written == tmp_path / "new" / "sketch" / "song.toml"
    assert mixdown.load(written.parent) == song
    assert mixdown.project_root(song) == written.parent


def test_every_command_has_a_typed_function(project: Path, tmp_path: Path) -> None:
    for fn in (mixdown.load, mixdown.save, mixdown.render, mixdown.analyze, mixdown.master,
               mixdown.master_album, mixdown.convert, mixdown.deliver, mixdown.render_audio):
        params = inspect.signature(fn).parameters.values()
        assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in params), fn
        assert fn.__doc__, fn
    render = mixdown.render(project, tmp_path / "mix.wav")
    analysis = mixdown.analyze(render.output, target="spotify")
    master = mixdown.master(render.output, tmp_path / "m" / "master.wav", target=-16)
    converted = mixdown.convert(master.output, tmp_path / "c" / "cd.wav", bit_depth=16,
                                sample_rate=44_100)
    assert isinstance(render, mixdown.RenderReport)
    assert isinstance(analysis, mixdown.Analysis) and analysis.passed is False  # not -14 LUFS
    assert isinstance(master, mixdown.MasterReport)
    assert isinstance(converted, mixdown.ConvertReport)
    assert master.measured.integrated_lufs == pytest.approx(-16.0, abs=0.2)
    assert converted.result.sample_rate == 44_100 and converted.measured.sample_rate == 44_100
    for result in (render, analysis, master, converted):
        assert dataclasses.is_dataclass(result)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(result, dataclasses.fields(result)[0].name, None)
        json.dumps(to_jsonable(result.as_dict()), allow_nan=False)
    assert analysis.as_dict()["integrated_lufs"] == analysis.qc.integrated_lufs


def test_stems_by_track_are_dry_of_their_bus(tmp_path: Path) -> None:
    root = tmp_path / "drums"
    write_wav(root / "audio" / "kick.wav", sine(60.0, 1.0, amp=0.5, channels=2))
    write_wav(root / "audio" / "snare.wav", sine(900.0, 1.0, amp=0.3, channels=2))
    bus = """
[[track]]
name = "Kick"
volume_db = -2.0
output = "DrumBus"
clips = [{ start = "1:1", file = "audio/kick.wav" }]

[[track]]
name = "Snare"
pan = 0.5
output = "DrumBus"
clips = [{ start = "1:1", file = "audio/snare.wav" }]

[[bus]]
name = "DrumBus"
volume_db = -6.0
devices = [{ type = "compressor", threshold_db = -30, ratio = 4 }]
"""
    (root / "song.toml").write_text('[song]\ntempo = 120\ntail_s = 0.2\n' + bus)
    song = mixdown.load(root)
    buses = mixdown.render(song, tmp_path / "b" / "mix.wav", stems=True, bit_depth=32)
    assert [p.name for p in buses.stems] == ["01 DrumBus.wav"]
    tracks = mixdown.render(song, tmp_path / "t" / "mix.wav", stems=True, stems_mode="tracks",
                            bit_depth=32)
    assert [p.name for p in tracks.stems] == ["01 Kick.wav", "02 Snare.wav"]
    # Each track stem is the track post-fader with the bus taken away: the same song with
    # every other track removed and this one routed straight to the master.
    for stem, name in zip(tracks.stems, ("Kick", "Snare"), strict=True):
        alone = mixdown.remove_track(song, "Snare" if name == "Kick" else "Kick")
        alone = mixdown.with_track(alone, name, output="master")
        expected, _ = mixdown.render_audio(alone)
        got, _ = sf.read(str(stem), always_2d=True, dtype="float32")
        assert got.T.shape == expected.shape
        assert float(np.max(np.abs(got.T - expected))) < 1e-6
        assert float(np.max(np.abs(expected))) > 0.1


def test_part_renders_at_their_level_in_the_whole_master(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo"
    song = mixdown.with_master(mixdown.load(demo), target_lufs=-14.0, ceiling_dbtp=-1.0)
    full = mixdown.render(song, tmp_path / "full.wav", bit_depth=32)
    intro = mixdown.render(song, tmp_path / "intro.wav", section="Intro", bit_depth=32)
    alone = mixdown.render(song, tmp_path / "alone.wav", section="Intro", master_part=True,
                           bit_depth=32)
    whole, _ = sf.read(str(full.output), always_2d=True, dtype="float32")
    part, _ = sf.read(str(intro.output), always_2d=True, dtype="float32")
    # the intro starts at frame 0 and is cut sample-exact from the whole master
    assert float(np.max(np.abs(part - whole[:len(part)]))) == 0.0
    assert intro.qc["integrated_lufs"] < -15.0  # quieter than the song, as in the song
    assert alone.qc["integrated_lufs"] == pytest.approx(-14.0, abs=0.2)
    assert alone.qc["true_peak_dbtp"] <= -1.0 + 1e-3
    assert math.isclose(full.qc["integrated_lufs"], -14.0, abs_tol=0.2)
