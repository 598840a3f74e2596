"""Modulators in the resolve step: targets bound like automation lanes, sources to indices,
and every mistake reported with song.toml's file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixdown import Device, Project, Song, Track
from mixdown.core.errors import ModelError
from mixdown.io.catalog import AssetCatalog
from mixdown.model.modulators import Follower, Lfo
from mixdown.resolve import DeviceParam, ProjectProblems, Volume, open_project, resolve_project
from mixdown.resolve.modulators import ResolvedFollower, ResolvedLfo

HEAD = '[song]\ntempo = 120\n\n[[track]]\nname = "Kick"\n\n[[bus]]\nname = "Bus"\n\n'


def problems_of(tmp_path: Path, track: str) -> str:
    (tmp_path / "song.toml").write_text(HEAD + track)
    with pytest.raises(ProjectProblems) as info:
        open_project(tmp_path)
    return str(info.value)


def pad(modulator: str, extra: str = "") -> str:
    return ('[[track]]\nname = "Pad"\noutput = "Bus"\n'
            'devices = [{ type = "filter", cutoff_hz = 800 }]\n'
            f"{extra}modulators = [\n    {modulator},\n]\n")


@pytest.mark.parametrize(("modulator", "expected"), [
    ('{ type = "lfo", target = "filter.cutof_hz", rate = "1/4", depth = 12 }',
     "modulators[0].target: filter has no automatable parameter 'cutof_hz'; "
     "did you mean 'cutoff_hz'?"),
    ('{ type = "lfo", target = "eq.gain_db", rate = "1/4", depth = 1 }', "no device 'eq' here"),
    ('{ type = "lfo", target = "loudness", rate = "1/4", depth = 1 }', "unknown target"),
    ('{ type = "lfo", target = "filter.cutoff_hz", rate = "1/5x", depth = 12 }',
     "modulators[0].rate: must be a note value like '1/4'"),
    ('{ type = "lfo", target = "filter.cutoff_hz", rate = "1/128", depth = 12 }',
     "1/128 is 64 Hz at the song's fastest tempo; LFOs run at 50 Hz at most"),
    ('{ type = "follower", source = "Kik", target = "volume_db", depth = -6 }',
     "modulators[0].source: no track or bus 'Kik'"),
    ('{ type = "follower", source = "Pad", target = "volume_db", depth = -6 }',
     "a channel cannot follow itself"),
    ('{ type = "follower", source = "Bus", target = "volume_db", depth = -6 }',
     "following 'Bus' makes a routing loop: Pad -> Bus -> Pad"),
])
def test_a_bad_modulator_names_the_file_line_and_key(tmp_path: Path, modulator: str,
                                                     expected: str) -> None:
    text = problems_of(tmp_path, pad(modulator))
    assert "song.toml:14: " in text, text  # the modulators line of the Pad track
    assert 'track "Pad", ' in text
    assert expected in text, text


def test_a_whole_number_parameter_cannot_be_modulated(tmp_path: Path) -> None:
    text = problems_of(tmp_path, '[[track]]\nname = "Pad"\ninstrument = { type = "synth" }\n'
                       'modulators = [{ type = "lfo", target = "instrument.osc2_semitones", '
                       'rate_hz = 1, depth = 1 }]\n')
    assert "song.toml:13: " in text, text
    assert "osc2_semitones is a whole number; modulators move continuous parameters only" in text


@pytest.mark.parametrize(("modulator", "expected"), [
    ('{ type = "lfo", target = "pan", rate_hz = 80, depth = 1 }',
     "modulators[0].rate_hz: must be <= 50, got 80"),
    ('{ type = "lfo", target = "pan", depth = 1 }', "give either rate"),
    ('{ type = "lfo", target = "pan", rate = "1/4", rate_hz = 2, depth = 1 }',
     "give either rate"),
    ('{ type = "lfo", target = "pan", rate = "1/4", depth = 1, shape = "wobble" }',
     "modulators[0].shape: must be"),
    ('{ type = "follower", source = "Kick", target = "pan", depth = 1, attack_ms = 0 }',
     "modulators[0].attack_ms: must be >= 0.1"),
    ('{ type = "wobbler", target = "pan" }', "modulators[0]"),
])
def test_model_checks_name_the_modulator(tmp_path: Path, modulator: str, expected: str) -> None:
    (tmp_path / "song.toml").write_text(HEAD + pad(modulator))
    with pytest.raises(ModelError, match=r"song\.toml") as info:
        open_project(tmp_path)
    assert expected in str(info.value), str(info.value)
    assert 'track "Pad"' in str(info.value)


def test_modulators_resolve_to_typed_targets_and_indices(tmp_path: Path) -> None:
    p = Project(song=Song(tempo=120), tracks=(
        Track(name="Kick"),
        Track(name="Pad", volume_db=-3.0,
              devices=(Device(type="filter", params={"cutoff_hz": 800.0}),),
              modulators=(Lfo(target="filter.cutoff_hz", rate="1/8d", depth=12),
                          Follower(source="Kick", target="volume_db", depth=-9,
                                   attack_ms=2, release_ms=120))),
    ))
    song = resolve_project(p, AssetCatalog(tmp_path, dry_run=True))
    lfo, follower = song.channels[1].modulators
    assert isinstance(lfo, ResolvedLfo) and isinstance(follower, ResolvedFollower)
    assert lfo.target.target == DeviceParam(0, lfo.target.target.param)  # type: ignore[union-attr]
    assert lfo.target.base == 800.0 and lfo.target.semitones
    assert (lfo.target.lo, lfo.target.hi) == (20.0, 20000.0)
    assert lfo.cycle_beats == 0.75 and lfo.rate_hz is None
    assert follower.target.target == Volume() and follower.target.base == -3.0
    assert not follower.target.semitones
    assert follower.source == 0
    assert (follower.attack_s, follower.release_s) == (0.002, 0.12)
