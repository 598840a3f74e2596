"""Automation: fader ramps measured against the curve; device parameters on the grid."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mixdown import AutomationLane, AutomationPoint, Clip, Project, Song, Track
from mixdown.engine.automation import Curve, shape
from mixdown.services.render import render_audio
from signals import constant, write_wav

SR = 48_000
RAMP_TOL_DB = 0.05  # the bar


def lane(param: str, *points: tuple[object, float, float]) -> AutomationLane:
    return AutomationLane(param=param, points=tuple(
        AutomationPoint(at=a, value=v, curve=c) for a, v, c in points))


@pytest.mark.parametrize("curve", [0.0, 0.5, -0.7])
def test_volume_ramp_matches_curve_at_five_points(tmp_path: Path, curve: float) -> None:
    write_wav(tmp_path / "a.wav", constant(0.5, 4 * SR))
    # 120 bpm: beat 2 = 1 s, beat 6 = 3 s; the fader goes -24 dB -> 0 dB in dB.
    p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(
        name="T", clips=(Clip(start=0, file="a.wav"),),
        automation=(lane("volume_db", (2.0, -24.0, curve), (6.0, 0.0, 0.0)),)),))
    audio, _ = render_audio(p, root=tmp_path, block_frames=777)
    for x in (0.0, 0.25, 0.5, 0.75, 1.0):
        t = 1.0 + 2.0 * x
        frame = round(t * SR)
        expected_db = -24.0 + 24.0 * float(shape(np.array([x]), curve)[0])
        measured_db = 20 * math.log10(audio[0, frame] / 0.5)
        assert measured_db == pytest.approx(expected_db, abs=RAMP_TOL_DB), (x, t)
    # Before the first point the first value holds; after the last, the last.
    assert 20 * math.log10(audio[0, SR // 2] / 0.5) == pytest.approx(-24.0, abs=1e-4)
    assert 20 * math.log10(audio[0, round(3.5 * SR)] / 0.5) == pytest.approx(0.0, abs=1e-4)


def test_pan_automation_moves_the_signal(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", constant(0.5, 2 * SR))
    p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(
        name="T", clips=(Clip(start=0, file="a.wav"),),
        automation=(lane("pan", (0.0, -1.0, 0.0), (4.0, 1.0, 0.0)),)),))
    audio, _ = render_audio(p, root=tmp_path)
    assert audio[1, 0] == pytest.approx(0.0, abs=1e-6)  # hard left: right silent
    assert audio[0, SR] == pytest.approx(0.5, abs=1e-3)  # centre at 1 s: both at 0 dB
    assert audio[1, SR] == pytest.approx(0.5, abs=1e-3)


def test_curve_shape_endpoints_and_monotony() -> None:
    x = np.linspace(0, 1, 101)
    for c in (-1.0, -0.3, 0.0, 0.4, 1.0):
        y = shape(x, c)
        assert y[0] == 0.0
        assert y[-1] == pytest.approx(1.0)
        assert np.all(np.diff(y) >= 0)
    # c > 0 starts slowly: below the line at the midpoint; c < 0 above it.
    assert shape(np.array([0.5]), 0.5)[0] < 0.5 < shape(np.array([0.5]), -0.5)[0]


def test_curve_holds_outside_points() -> None:
    c = Curve((100.0, 200.0), (1.0, 3.0), (0.0, 0.0))
    np.testing.assert_allclose(c.values_at(np.array([0.0, 100.0, 150.0, 200.0, 1e6])),
                               [1.0, 1.0, 2.0, 3.0, 3.0])


def test_changes_within_sees_held_values_between_steps() -> None:
    # A stepped level (as MIDI import writes CC7): held, a jump at 1000, held again.
    c = Curve((0.0, 999.0, 1000.0, 5000.0), (-6.0, -6.0, -2.0, -2.0), (0.0,) * 4)
    assert not c.changes_within(0, 999)
    assert not c.changes_within(1000, 4000)
    assert not c.changes_within(4000, 9000)
    assert c.changes_within(900, 1100)
    assert c.changes_within(999, 1001)
    ramp = Curve((0.0, 100.0), (0.0, 1.0), (0.0, 0.0))
    assert ramp.changes_within(50, 51)
    # Where it says "held", every frame evaluates to exactly the value at the block start.
    for a, b in ((0, 999), (1000, 4000), (3000, 9000)):
        v = c.values_at(np.arange(a, b, dtype=np.float64))
        assert np.array_equal(v, np.full(b - a, c.values_at(np.array([float(a)]))[0]))


@pytest.mark.parametrize("start", [0, 47_000, 95_000, 400_000])
def test_values_over_a_block_are_the_bits_of_values_at(start: int) -> None:
    # linear segments, a step (two points at one frame) and holds at both ends
    c = Curve((48_000.0, 96_000.5, 96_000.5, 200_000.25, 300_000.0),
              (-30.0, -4.0, -12.0, -12.0, 3.0), (0.0,) * 5)
    frames = 150_000
    want = c.values_at(np.arange(start, start + frames, dtype=np.float64))
    assert c.values_over(start, frames).tobytes() == want.tobytes()
    curved = Curve((0.0, 96_000.0), (-30.0, 0.0), (0.5, 0.0))  # the numpy path
    want = curved.values_at(np.arange(start, start + 1000, dtype=np.float64))
    assert curved.values_over(start, 1000).tobytes() == want.tobytes()
