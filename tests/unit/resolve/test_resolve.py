"""The resolve step: every problem reported once, names to indices, positions to frames,
automation bound to typed targets, swing and humanize on note clips, warnings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mixdown import (
    AutomationLane,
    AutomationPoint,
    Bus,
    Clip,
    Device,
    Note,
    Project,
    Song,
    Track,
)
from mixdown.io import catalog as catalog_mod
from mixdown.io.catalog import AssetCatalog
from mixdown.model import Humanize
from mixdown.resolve import (
    DeviceParam,
    InstrumentParam,
    ProjectProblems,
    SendLevel,
    Span,
    Volume,
    check_project,
    open_project,
    resolve_project,
)
from signals import write_wav

SR = 48_000
BEAT = SR // 2  # 120 bpm


def resolve(p: Project, root: Path, **kw: object) -> object:
    return resolve_project(p, AssetCatalog(root, dry_run=True), label="song.toml", **kw)


def problems(p: Project, root: Path, **kw: object) -> list[str]:
    with pytest.raises(ProjectProblems) as info:
        resolve(p, root, **kw)
    return [str(x) for x in info.value.problems]


def synth_track(*clips: Clip, **kw: object) -> Track:
    return Track(name="Keys", instrument=Device(type="synth"), clips=clips, **kw)


# -- every problem, each once ------------------------------------------------------------------


def test_independent_problems_are_all_reported(tmp_path: Path) -> None:
    p = Project(tracks=(
        Track(name="A", devices=(Device(type="compresor", params={"ratoi": 2}),
                                 Device(type="eq", params={"highpass_hz": -5})),
              clips=(Clip(file="audio/none.wav"),)),
        synth_track(Clip(length=4, notes=(Note(pitch=60, start=0, length=1),)),
                    automation=(AutomationLane(param="volume_db", points=(
                        AutomationPoint(at=0, value=0), AutomationPoint(at=0, value=-6))),)),
    ))
    found = problems(p, tmp_path)
    assert found == [
        "song.toml: track \"A\", devices[0].type: unknown device type 'compresor'; did you "
        "mean 'compressor'?",  # the unknown type stops that device: no word on 'ratoi'
        "song.toml: track \"A\", devices[1].highpass_hz: must be >= 0, got -5",
        f"song.toml: track \"A\", clips[0].file: audio/none.wav not found in {tmp_path}",
        "song.toml: track \"Keys\", automation[0].points[1]: volume_db: two points at the same "
        "position (points[0] and points[1]); move one",
    ]


def test_problems_give_the_line_of_song_toml(tmp_path: Path) -> None:
    text = '[song]\ntempo = 120\n\n[[track]]\nname = "A"\n\n[[track]]\nname = "B"\n' \
           'volume_db = -3\ndevices = [{ type = "eq", bogus = 1 }]\n'
    p = Project(tracks=(Track(name="A"), Track(name="B", volume_db=-3, devices=(
        Device(type="eq", params={"bogus": 1}),))))
    with pytest.raises(ProjectProblems) as info:
        resolve_project(p, AssetCatalog(tmp_path, dry_run=True), text=text)
    assert [x.line for x in info.value.problems] == [10]


def test_nothing_to_render_and_an_unknown_section_name_the_file(tmp_path: Path) -> None:
    assert problems(Project(), tmp_path, span=Span()) == [
        "song.toml: nothing to render: the song is empty (add clips or set song.length)"]
    p = Project.model_validate({"song": {"length": 16},
                                "markers": [{"name": "Intro", "at": 0},
                                            {"name": "Chorus 2", "at": 8}]})
    assert problems(p, tmp_path, span=Span(section="Chorus")) == [
        "song.toml: no section 'Chorus'; did you mean 'Chorus 2'? (sections: Intro, Chorus 2)"]


def test_a_loop_through_a_sidechain_is_a_problem(tmp_path: Path) -> None:
    p = Project(
        tracks=(Track(name="Kick", output="Bus"),),
        buses=(Bus(name="Bus"), Bus(name="Other"),
               Bus(name="Other2", output="Other", devices=(
                   Device(type="compressor", params={"sidechain": "Other"}),))),
    )  # Other2 feeds Other and listens to it: neither can be computed first
    (found,) = problems(p, tmp_path, span=Span(end=4))
    assert found in ("song.toml: routing loop (sidechain or bus): Other -> Other2 -> Other",
                     "song.toml: routing loop (sidechain or bus): Other2 -> Other -> Other2")


def test_sampler_zone_problems_name_the_file_and_the_key(tmp_path: Path) -> None:
    write_wav(tmp_path / "samples" / "c4.wav", np.zeros((1, 100), np.float32), SR)
    p = Project(tracks=(Track(name="Keys", instrument=Device(type="sampler", params={
        "zones": [{"file": "samples/c4.wav", "lo_key": 70, "hi_key": 20}]})),))
    (found,) = problems(p, tmp_path)
    assert found.startswith('song.toml: track "Keys", instrument.zones[0].')
    assert "hi_key" in found or "lo_key" in found
    p = Project(tracks=(Track(name="Keys", instrument=Device(type="sampler", params={
        "zones": [{"audio": "samples/c4.wav"}]})),))
    assert problems(p, tmp_path) == [
        'song.toml: track "Keys", instrument.zones[0].audio: in song.toml a zone names its '
        'sample with file = "samples/c4.wav"; audio is for arrays given from Python']


# -- names, frames, typed lanes ----------------------------------------------------------------


def test_automation_lanes_are_bound_to_typed_targets(tmp_path: Path) -> None:
    lane = lambda param, v: AutomationLane(param=param, points=(  # noqa: E731
        AutomationPoint(at=0, value=v), AutomationPoint(at="2:1", value=v)))
    p = Project(
        tracks=(synth_track(
            Clip(length=4, notes=(Note(pitch=60, start=0, length=1),)),
            devices=(Device(type="eq", bypass=True), Device(type="compressor", name="glue")),
            sends=({"to": "Space", "level_db": -6},),  # type: ignore[arg-type]
            automation=(lane("volume_db", -3), lane("send.Space", -12), lane("glue.ratio", 4),
                        lane("instrument.cutoff_hz", 900))),),
        buses=(Bus(name="Space"),),
    )
    song = resolve(p, tmp_path)
    keys = song.channels[0]
    assert [type(x.target) for x in keys.lanes] == [Volume, SendLevel, DeviceParam,
                                                   InstrumentParam]
    assert keys.lanes[2].target.device == 1 and keys.lanes[2].target.param.name == "ratio"
    assert keys.lanes[0].frames == (0.0, 4.0 * BEAT)  # bar 2 of 4/4 at 120 bpm
    assert keys.sends[0].target == 1 and song.master.index == 2
    assert [d.bypass for d in keys.devices] == [True, False]


def _note_starts(p: Project, root: Path) -> list[int]:
    song = resolve(p, root)
    return [e.start_frame for e in song.channels[0].instrument.notes]


def test_swing_delays_notes_on_odd_steps_of_a_note_clip(tmp_path: Path) -> None:
    notes = tuple(Note(pitch=60, start=s, length=0.25) for s in (0, 0.25, 0.5, 0.75, 1.1))
    straight = Project(tracks=(synth_track(Clip(length=4, notes=notes)),))
    swung = Project(tracks=(synth_track(Clip(length=4, notes=notes, swing=0.5)),))
    eighths = Project(tracks=(synth_track(Clip(length=4, notes=notes, swing=0.5, step=0.5)),))
    q = BEAT // 4  # a 16th
    assert _note_starts(straight, tmp_path) == [0, q, 2 * q, 3 * q, round(1.1 * BEAT)]
    # 16ths 1 and 3 are odd steps: late by swing * step = half a 16th; 1.1 is off the grid.
    assert _note_starts(swung, tmp_path) == [0, q + q // 2, 2 * q, 3 * q + q // 2,
                                             round(1.1 * BEAT)]
    # On an 8th grid only 0.5 is an odd step.
    assert _note_starts(eighths, tmp_path) == [0, q, 2 * q + q, 3 * q, round(1.1 * BEAT)]


def test_humanize_is_seeded_and_bounded(tmp_path: Path) -> None:
    notes = tuple(Note(pitch=60, start=i, length=0.5, velocity=100) for i in range(32))

    def events(h: Humanize | None) -> list[tuple[int, int]]:
        p = Project(tracks=(synth_track(Clip(length=64, notes=notes, humanize=h)),))
        return [(e.start_frame, e.velocity) for e in resolve(p, tmp_path).channels[0]
                .instrument.notes]

    plain = events(None)
    a = events(Humanize(timing_ms=10, velocity=12, seed=1))
    assert a == events(Humanize(timing_ms=10, velocity=12, seed=1))  # repeatable
    assert a != events(Humanize(timing_ms=10, velocity=12, seed=2))
    shifts = [s - s0 for (s, _), (s0, _) in zip(sorted(a), plain, strict=True)]
    assert max(abs(x) for x in shifts) <= 0.010 * SR and len(set(shifts)) > 10
    vels = [v for _, v in a]
    assert min(vels) >= 88 and max(vels) <= 112 and len(set(vels)) > 5


def test_keys_that_would_do_nothing_are_refused() -> None:
    with pytest.raises(ValueError, match="swing: does nothing on an audio clip"):
        Clip(file="a.wav", swing=0.2)
    with pytest.raises(ValueError, match="fade_in_s, loop: do nothing on a note clip"):
        Clip(notes=(Note(pitch=60, start=0, length=1),), fade_in_s=0.1, loop=True)
    with pytest.raises(ValueError, match="transpose: does nothing on a drum pattern"):
        Clip(pattern={"kick": "x..."}, transpose=2)


# -- warnings and files ------------------------------------------------------------------------


def test_late_clips_and_long_fades_are_warnings(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", np.full((1, SR), 0.1, np.float32), SR)
    p = Project(song=Song(length=8), tracks=(Track(name="A", clips=(
        Clip(start=0, file="a.wav", fade_in_s=0.6, fade_out_s=0.6),
        Clip(start=8, file="a.wav"), Clip(start=2, length=4))),))
    assert list(resolve(p, tmp_path).warnings) == [
        'song.toml: track "A", clips[0]: fades (0.6 s in + 0.6 s out) are longer than the '
        "clip (1.000 s); they overlap",
        "song.toml: track \"A\", clips[1]: starts after the song's end (song.length = 8); it "
        "does not play",
        'song.toml: track "A", clips[2]: has no file, notes, pattern or midi; it plays nothing',
    ]


def test_each_file_is_decoded_once_for_a_check_and_a_render(tmp_path: Path) -> None:
    from mixdown.services.render import render_audio

    x = np.sin(np.arange(SR) / 5.0).astype(np.float32)[None] * 0.2
    write_wav(tmp_path / "audio" / "a.wav", x, SR)
    write_wav(tmp_path / "audio" / "z.wav", x, SR)
    (tmp_path / "song.toml").write_text(
        '[song]\ntempo = 120\ntail_s = 0\n[[track]]\nname = "A"\n'
        'clips = [{ start = 0, file = "audio/a.wav" }, { start = 2, file = "audio/a.wav" }]\n'
        '[[track]]\nname = "K"\ninstrument = { type = "sampler", zones = '
        '[{ file = "audio/z.wav" }] }\nclips = [{ start = 0, length = 4, notes = [[60, 0, 1]] }]\n')
    before = catalog_mod.decode_count()
    check_project(Project.model_validate({}), tmp_path)  # nothing to decode
    assert catalog_mod.decode_count() == before
    audio, _ = render_audio(tmp_path)  # loads + checks (dry run), then resolves and renders
    assert catalog_mod.decode_count() - before == 2  # a.wav and z.wav, once each
    assert np.abs(audio).max() > 0.1
    render_audio(tmp_path)
    assert catalog_mod.decode_count() - before == 2  # kept for the process


def test_a_rule_between_an_effects_parameters_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "song.toml").write_text(
        '[song]\ntempo = 120\n\n[[track]]\nname = "Pad"\n'
        'instrument = { type = "synth" }\n'
        'devices = [{ type = "filter", slope_db = 18 }]\n'
        'clips = [{ start = 0, notes = [["C4", 0, 1]] }]\n')
    with pytest.raises(ProjectProblems) as info:
        open_project(tmp_path)
    text = str(info.value)
    assert "song.toml:7: " in text, text
    assert "slope_db must be 12 or 24" in text
