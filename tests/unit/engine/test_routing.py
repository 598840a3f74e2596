"""Routing proven with labelled signals: a different constant per source (Tracktion's trick)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mixdown import Bus, Clip, Project, Send, Song, Track
from mixdown.core.errors import ModelError
from mixdown.services.render import render_audio, render_stems_audio
from signals import constant, sine, write_wav

SR = 48_000
N = 4_800  # 0.1 s of each constant
EXACT = 1e-6  # float32 summing of a few constants: far below -100 dBFS
LEVEL_TOL_DB = 0.01  # the bar for the two-buses sine


def db(x: float) -> float:
    return 10 ** (x / 20)


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    for name, value in (("a", 0.1), ("b", 0.2), ("c", 0.3), ("d", 0.05)):
        write_wav(tmp_path / "audio" / f"{name}.wav", constant(value, N))
    return tmp_path


def song(**kw: object) -> Song:
    return Song(tempo=120, tail_s=0.0, **kw)  # type: ignore[arg-type]


def track(name: str, file: str, **kw: object) -> Track:
    return Track(name=name, clips=(Clip(start=0, file=f"audio/{file}.wav"),), **kw)  # type: ignore[arg-type]


def mix_value(project: Project, root: Path) -> np.ndarray:
    audio, sr = render_audio(project, root=root)
    assert sr == SR
    assert audio.shape == (2, N)
    # A constant in gives a constant out: check it is constant, then return (L, R).
    assert np.ptp(audio, axis=1).max() < EXACT
    return audio[:, N // 2]


def test_tracks_sum_at_master(labelled: Path) -> None:
    p = Project(song=song(), tracks=(track("A", "a"), track("B", "b")))
    np.testing.assert_allclose(mix_value(p, labelled), [0.3, 0.3], atol=EXACT)


def test_bus_chain_and_post_fader_send(labelled: Path) -> None:
    p = Project(
        song=song(),
        tracks=(
            track("A", "a"),
            track("B", "b", output="X"),
            track("C", "c", volume_db=-6.0, sends=(Send(to="Y", level_db=-6.0),)),
        ),
        buses=(Bus(name="X", volume_db=6.0, output="Z"), Bus(name="Y"),
               Bus(name="Z", volume_db=-3.0)),
    )
    # A direct; B through X (+6) then Z (-3); C at -6 direct plus its post-fader send at -6.
    expected = 0.1 + 0.2 * db(6) * db(-3) + 0.3 * db(-6) + 0.3 * db(-6) * db(-6)
    np.testing.assert_allclose(mix_value(p, labelled), [expected] * 2, atol=EXACT)


def test_pre_fader_send_ignores_the_fader(labelled: Path) -> None:
    p = Project(
        song=song(),
        tracks=(track("C", "c", volume_db=-144.0,
                      sends=(Send(to="Y", level_db=0.0, pre_fader=True),)),),
        buses=(Bus(name="Y"),),
    )
    # Pre-fader: the bus gets 0.3 whatever the fader; the direct path adds 0.3 * 10^-7.2.
    np.testing.assert_allclose(mix_value(p, labelled), [0.3 + 0.3 * db(-144)] * 2, atol=EXACT)


def test_mute_silences_track_and_its_sends(labelled: Path) -> None:
    p = Project(
        song=song(),
        tracks=(track("A", "a"), track("C", "c", mute=True, sends=(Send(to="Y"),))),
        buses=(Bus(name="Y"),),
    )
    np.testing.assert_allclose(mix_value(p, labelled), [0.1, 0.1], atol=EXACT)


def test_solo_track(labelled: Path) -> None:
    p = Project(song=song(), tracks=(track("A", "a"), track("B", "b", solo=True),
                                     track("C", "c")))
    np.testing.assert_allclose(mix_value(p, labelled), [0.2, 0.2], atol=EXACT)


def test_solo_bus_keeps_its_sources(labelled: Path) -> None:
    p = Project(
        song=song(),
        tracks=(track("A", "a"), track("B", "b", output="X"),
                track("D", "d", sends=(Send(to="X", level_db=0.0),))),
        buses=(Bus(name="X", solo=True),),
    )
    # A is silenced; B reaches X; D feeds X by a send, so D plays (direct and send).
    np.testing.assert_allclose(mix_value(p, labelled), [0.2 + 0.05 + 0.05] * 2, atol=EXACT)


def test_phase_invert(labelled: Path) -> None:
    p = Project(song=song(), tracks=(track("A", "a", phase_invert=True), track("B", "b")))
    np.testing.assert_allclose(mix_value(p, labelled), [0.1, 0.1], atol=EXACT)


def test_pan_law(labelled: Path) -> None:
    p = Project(song=song(), tracks=(track("A", "a", pan=1.0), track("B", "b", pan=-0.5)))
    left, right = mix_value(p, labelled)
    # Pan +1: A only right at 0 dB. Pan -0.5: B left at 0 dB, right at cos(pi/4) = -3.01 dB.
    assert left == pytest.approx(0.2, abs=EXACT)
    assert right == pytest.approx(0.1 + 0.2 * math.cos(math.pi / 4), abs=EXACT)


def test_sine_through_two_plus_6db_buses(tmp_path: Path) -> None:
    write_wav(tmp_path / "audio" / "sine.wav", sine(997.0, 0.5))
    p = Project(
        song=song(),
        tracks=(Track(name="S", volume_db=-12.0, output="B1",
                      clips=(Clip(start=0, file="audio/sine.wav"),)),),
        buses=(Bus(name="B1", volume_db=6.0, output="B2"), Bus(name="B2", volume_db=6.0)),
    )
    audio, _ = render_audio(p, root=tmp_path)
    peak_db = 20 * math.log10(float(np.abs(audio).max()))
    assert peak_db == pytest.approx(0.0, abs=LEVEL_TOL_DB)  # -12 + 6 + 6


def test_stems_sum_to_the_master_input(labelled: Path) -> None:
    p = Project(
        song=song(),
        tracks=(track("A", "a"), track("B", "b", output="X", sends=(Send(to="Y"),)),
                track("C", "c", pan=0.3)),
        buses=(Bus(name="X", volume_db=-2.0), Bus(name="Y", volume_db=-8.0)),
    )
    mix, stems, _ = render_stems_audio(p, root=labelled, tail_s=0.0)
    assert sorted(stems) == ["A", "C", "X", "Y"]
    np.testing.assert_allclose(sum(stems.values()), mix, atol=EXACT)


def test_unknown_bus_is_a_clear_error(labelled: Path) -> None:
    with pytest.raises(ValueError, match="no bus 'Nowhere'"):
        Project(song=song(), tracks=(track("A", "a", output="Nowhere"),))


def test_bus_loop_is_refused() -> None:
    with pytest.raises(ValueError, match="buses form a loop: X -> Y -> X"):
        Project(buses=(Bus(name="X", output="Y"), Bus(name="Y", output="X")))


def test_empty_song_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="nothing to render"):
        render_audio(Project(song=song()), root=tmp_path)
