"""The project model: frozen, validated pure data with checked cross-references."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mixdown.core.errors import ModelError
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
    TempoPoint,
    Track,
)

SYNTH = Device(type="synth")


def test_models_are_frozen_and_closed() -> None:
    t = Track(name="A")
    with pytest.raises(ValidationError, match="frozen"):
        t.volume_db = 3.0  # type: ignore[misc]
    with pytest.raises(ValidationError, match="volume_dB"):
        Track(name="A", volume_dB=3)  # type: ignore[call-arg]


@pytest.mark.parametrize(("value", "stored"), [
    (4, 4.0), (0, 0.0), (2.5, 2.5), ("5:1", "5:1"), ("3:2.5", "3:2.5"), ("12.5s", "12.5s"),
    (" 9 : 1 ", " 9 : 1 "),
])
def test_positions_keep_what_the_user_wrote(value: float | str, stored: float | str) -> None:
    assert Clip(start=value).start == stored


@pytest.mark.parametrize("value", [-1, "soon", "5", "1:", "-2:1", "s", True, float("nan")])
def test_bad_positions_are_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        Clip(start=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "pitch"), [("C4", 60), ("A4", 69), ("F#2", 42), ("Bb3", 58),
                                             ("C-1", 0), ("G9", 127), (61, 61)])
def test_note_pitch_by_name_or_number(name: str | int, pitch: int) -> None:
    assert Note(pitch=name, start=0, length=1).pitch == pitch  # type: ignore[arg-type]


@pytest.mark.parametrize("pitch", ["H2", "C", "G#9", 128, -1])
def test_bad_pitches_are_refused(pitch: str | int) -> None:
    with pytest.raises(ValidationError):
        Note(pitch=pitch, start=0, length=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"start": -1, "length": 1}, "greater than or equal to 0"),
    ({"start": 0, "length": 0}, "greater than 0"),
    ({"start": 0, "length": 1, "velocity": 0}, "greater than or equal to 1"),
    ({"start": 0, "length": 1, "velocity": 128}, "less than or equal to 127"),
])
def test_note_ranges(kwargs: dict[str, float], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        Note(pitch=60, **kwargs)


def test_clip_kind_follows_its_source() -> None:
    assert Clip(file="a.wav").kind == "audio"
    assert Clip(notes=(Note(pitch=60, start=0, length=1),)).kind == "notes"
    assert Clip(pattern={"kick": "x..."}).kind == "notes"
    assert Clip(midi="a.mid").kind == "notes"
    assert Clip().kind == "empty"


def test_a_clip_has_one_source() -> None:
    with pytest.raises(ValidationError, match="a clip has one source; this one has file and midi"):
        Clip(file="a.wav", midi="a.mid")
    with pytest.raises(ValidationError, match=r"give either length \(beats\) or bars, not both"):
        Clip(length=4, bars=1)


def test_pattern_step_characters() -> None:
    assert Clip(pattern={"kick": "x.X.|o-x. x..."}).pattern == {"kick": "x.X.|o-x. x..."}
    with pytest.raises(ValidationError, match=r"pattern 'hat': unknown step characters '1y'"):
        Clip(pattern={"hat": "x.1.y"})


def test_notes_need_an_instrument_and_the_fix_is_valid_toml() -> None:
    with pytest.raises(ValidationError) as info:
        Track(name="A", clips=(Clip(notes=(Note(pitch=60, start=0, length=1),)),))
    assert ("clips[0] has notes but the track has no instrument; add "
            "instrument = { type = \"synth\" } (or drums, fm, sampler)") in str(info.value)
    assert Track(name="A", instrument=SYNTH,
                 clips=(Clip(notes=(Note(pitch=60, start=0, length=1),)),)).instrument == SYNTH


@pytest.mark.parametrize("name", ["master", "Master", " Bass", "Bass ", ""])
def test_channel_names(name: str) -> None:
    with pytest.raises(ValidationError):
        Track(name=name)


@pytest.mark.parametrize(("field", "value"), [("volume_db", 24.5), ("volume_db", -145),
                                              ("pan", 1.01), ("pan", -1.01)])
def test_fader_and_pan_ranges(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        Track(name="A", **{field: value})  # type: ignore[arg-type]


def test_song_rules() -> None:
    assert Song().tempo == 120 and Song().sample_rate == 48_000
    with pytest.raises(ValidationError, match="must be one of 44100, 48000, 88200, 96000 Hz"):
        Song(sample_rate=22050)
    with pytest.raises(ValidationError, match="denominator 1/2/4/8/16/32"):
        Song(time_signature=(4, 3))
    with pytest.raises(ValidationError, match="greater than 0"):
        Song(tempo=0)
    with pytest.raises(ValidationError, match="greater than 0"):
        TempoPoint(at="5:1", bpm=-10)
    with pytest.raises(ValidationError, match="finite"):
        Song(tempo=float("inf"))


def test_automation_points_and_curves() -> None:
    lane = AutomationLane(param="volume_db", points=(AutomationPoint(at="1:1", value=-6),
                                                     AutomationPoint(at=8, value=0, curve=-1)))
    assert [p.curve for p in lane.points] == [0.0, -1.0]
    with pytest.raises(ValidationError):
        AutomationPoint(at=0, value=0, curve=1.5)
    with pytest.raises(ValidationError):
        AutomationLane(param="pan", points=())


# -- cross-references ----------------------------------------------------------------------------


def project(**kwargs: object) -> Project:
    return Project(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"tracks": (Track(name="A"), Track(name="A"))},
     'track "A", name: already used by a track; track and bus names must be unique'),
    ({"tracks": (Track(name="A"),), "buses": (Bus(name="A"),)},
     'bus "A", name: already used by a track'),
    ({"tracks": (Track(name="A", sends=(Send(to="Verb"),)),), "buses": (Bus(name="Verv"),)},
     "track \"A\", sends.Verb: no bus 'Verb'; did you mean 'Verv'?"),
    ({"tracks": (Track(name="A", sends=(Send(to="X"),)),)},
     "track \"A\", sends.X: no bus 'X'; there are no buses; add a [[bus]]"),
    ({"tracks": (Track(name="A", sends=(Send(to="B"), Send(to="B"))),), "buses": (Bus(name="B"),)},
     'track "A", sends.B: sent to twice'),
    ({"tracks": (Track(name="A", output="Z"),), "buses": (Bus(name="B"), Bus(name="C"))},
     "track \"A\", output: no bus 'Z'; buses: B, C"),
    ({"buses": (Bus(name="B", output="B"),)}, 'bus "B": a bus cannot feed itself'),
    ({"buses": (Bus(name="B", output="C"), Bus(name="C", sends=(Send(to="B"),)))},
     "buses form a loop: B -> C -> B; break it by routing one of them to master"),
    ({"tracks": (Track(name="Kick"), Track(name="Bass", devices=(
        Device(type="compressor", params={"sidechain": "Kik"}),)))},
     "track \"Bass\", devices[0].sidechain: no track or bus 'Kik'; did you mean 'Kick'?"),
    ({"tracks": (Track(name="Kick"),),
      "master": Master(devices=(Device(type="eq"), Device(type="compressor",
                                                           params={"sidechain": "Snare"})))},
     "master.devices[1].sidechain: no track or bus 'Snare'; tracks and buses: Kick"),
    ({"markers": (Marker(name="A", at=0), Marker(name="A", at=4))},
     "markers: each marker needs a unique name"),
])
def test_references_are_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        project(**kwargs)
    assert message in str(info.value)


def test_valid_routing_and_lookups() -> None:
    p = project(
        tracks=(Track(name="Kick"), Track(name="Bass", sends=(Send(to="Room", pre_fader=True),),
                                          devices=(Device(type="compressor",
                                                          params={"sidechain": "Kick"}),))),
        buses=(Bus(name="Room", output="Glue"), Bus(name="Glue")),
        markers=(Marker(name="Verse", at="5:1"),),
    )
    assert p.track("Bass").sends[0].pre_fader is True
    assert p.bus("Room").output == "Glue"
    assert p.channel("Glue").name == "Glue"
    assert p.marker("Verse").at == "5:1"
    with pytest.raises(ModelError, match="no track 'Snare'; tracks: Kick, Bass"):
        p.track("Snare")
    with pytest.raises(ModelError, match="no section 'Chorus'; sections: Verse"):
        p.marker("Chorus")


def test_a_dumped_project_validates_again_and_a_real_mistake_still_fails() -> None:
    p = Project(tracks=(
        Track(name="Keys", instrument=Device(type="synth"),
              clips=(Clip(start=0, notes=(Note(pitch=60, start=0, length=1),), swing=0.2),)),
        Track(name="Vox", clips=(Clip(start=0, file="a.wav", gain_db=-3),)),
        Track(name="Kit", instrument=Device(type="drums"),
              clips=(Clip(start=0, pattern={"kick": "x..."}),)),
    ))
    assert Project.model_validate(p.model_dump()) == p
    with pytest.raises(ValidationError, match="gain_db: does nothing on a note clip"):
        Clip(start=0, notes=(Note(pitch=60, start=0, length=1),), gain_db=-3)
    with pytest.raises(ValidationError, match="transpose: does nothing on a drum pattern"):
        Clip(start=0, pattern={"kick": "x..."}, transpose=2)
