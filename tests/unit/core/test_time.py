"""Tempo map and meter map: hand-worked tables, both directions, to 1e-9 s."""

from __future__ import annotations

import math

import pytest

from mixdown.core.errors import ModelError
from mixdown.core.time import (
    MeterMap,
    TempoMap,
    TempoPoint,
    TimeSignature,
    parse_position,
    seconds_to_frames,
)

TIME_TOL = 1e-9  # seconds: the bar for beats <-> seconds

# 120 bpm for 8 beats (0.5 s a beat), then a linear ramp (in beats) to 60 bpm at beat 16,
# then 60 bpm. Over the ramp k = (60 - 120) / 8 = -7.5 bpm per beat and
# t(b) = 4 + 60/k * ln(bpm(b) / 120).
RAMP_MAP = TempoMap([TempoPoint(0, 120), TempoPoint(8, 120), TempoPoint(16, 60, ramp=True)])
RAMP_TABLE = [
    (0.0, 0.0),
    (1.0, 0.5),
    (8.0, 4.0),
    (12.0, 4.0 - 8.0 * math.log(90 / 120)),  # bpm 90 at beat 12: 6.301456579614...
    (16.0, 4.0 + 8.0 * math.log(2.0)),  # 9.545177444479...
    (20.0, 4.0 + 8.0 * math.log(2.0) + 4.0),  # then 1 s a beat
]

# Steps: 100 bpm (0.6 s a beat) to beat 10, then 150 bpm (0.4 s a beat).
STEP_MAP = TempoMap([TempoPoint(0, 100), TempoPoint(10, 150)])
STEP_TABLE = [(0.0, 0.0), (5.0, 3.0), (10.0, 6.0), (13.0, 7.2), (20.5, 10.2)]


@pytest.mark.parametrize(("beats", "seconds"), RAMP_TABLE + [(b, s) for b, s in STEP_TABLE])
def test_tables_both_directions(beats: float, seconds: float) -> None:
    tempo = RAMP_MAP if (beats, seconds) in RAMP_TABLE else STEP_MAP
    assert tempo.beats_to_seconds(beats) == pytest.approx(seconds, abs=TIME_TOL)
    assert tempo.seconds_to_beats(seconds) == pytest.approx(beats, abs=TIME_TOL)


def test_ramp_values_by_hand() -> None:
    # Literal numbers worked by hand, so a wrong formula in the table cannot hide a bug.
    assert RAMP_MAP.beats_to_seconds(12.0) == pytest.approx(6.301456579614247, abs=TIME_TOL)
    assert RAMP_MAP.beats_to_seconds(16.0) == pytest.approx(9.545177444479562, abs=TIME_TOL)
    assert RAMP_MAP.bpm_at(12.0) == pytest.approx(90.0)


def test_round_trip_dense() -> None:
    for i in range(400):
        b = i * 0.0625
        assert RAMP_MAP.seconds_to_beats(RAMP_MAP.beats_to_seconds(b)) == pytest.approx(
            b, abs=1e-9)


def test_frames_round_to_nearest_sample() -> None:
    # 96 bpm: a beat is 0.625 s = 30000 frames at 48 kHz, exactly.
    tm = TempoMap.constant(96)
    assert tm.beats_to_frames(1.0, 48_000) == 30_000
    assert tm.beats_to_frames(4.0, 44_100) == 110_250
    assert seconds_to_frames(6.301456579614247, 48_000) == 302_470  # 302469.92 rounds up


@pytest.mark.parametrize("bpm", [0.0, -120.0, math.inf, math.nan])
def test_bad_tempo(bpm: float) -> None:
    with pytest.raises(ModelError, match="tempo must be a finite number > 0"):
        TempoMap([TempoPoint(0, bpm)])


def test_tempo_points_in_order() -> None:
    with pytest.raises(ModelError, match="time order"):
        TempoMap([TempoPoint(0, 120), TempoPoint(8, 100), TempoPoint(4, 90)])


def test_meter_with_changes() -> None:
    # 2 bars of 4/4 (8 beats), then 6/8: a bar is 3 quarter notes, a beat an eighth.
    meter = MeterMap([TimeSignature(1, 4, 4), TimeSignature(3, 6, 8)])
    assert meter.bar_beat_to_beats(2, 1) == 4.0
    assert meter.bar_beat_to_beats(3, 1) == 8.0
    assert meter.bar_beat_to_beats(3, 2) == 8.5
    assert meter.bar_beat_to_beats(5, 4) == 8.0 + 2 * 3.0 + 1.5
    assert meter.beats_to_bar_beat(15.5) == (5, 4.0)
    assert meter.bars_to_beats(4.0, 2) == 4.0 + 3.0  # one 4/4 bar, then one 6/8 bar
    with pytest.raises(ModelError, match="past the end of bar"):
        meter.bar_beat_to_beats(3, 7)


def test_parse_position_forms() -> None:
    meter = MeterMap.constant(4, 4)
    tempo = TempoMap.constant(120)
    assert parse_position("5:1", meter, tempo) == 16.0
    assert parse_position("1:2.5", meter, tempo) == 1.5
    assert parse_position(3, meter, tempo) == 3.0
    assert parse_position("1.5s", meter, tempo) == 3.0
    with pytest.raises(ModelError, match="a position must be"):
        parse_position("five", meter, tempo)
