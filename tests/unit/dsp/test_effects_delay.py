"""Delay: echoes on the exact sample, geometric feedback, ping-pong, tempo sync."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixdown.core.errors import ParameterError
from mixdown.dsp.effects.delay import Delay, note_value_beats

SR = 48_000
HYP = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


def click(frames: int, at: int = 100, channels: int = 2) -> np.ndarray:
    x = np.zeros((channels, frames), np.float32)
    x[:, at] = 1.0
    return x


def prepared(dev: Delay, bpm: float) -> Delay:
    dev.prepare(SR, 2, 1024)
    dev.set_tempo(bpm)
    return dev


@pytest.mark.parametrize(("note", "beats"), [("1/4", 1.0), ("1/8", 0.5), ("1/8d", 0.75),
                                             ("1/8t", 1 / 3), ("1/2", 2.0), ("3/16", 0.75),
                                             ("1/1", 4.0)])
def test_note_values_in_beats(note, beats):
    assert note_value_beats(note) == pytest.approx(beats)


def test_eighth_at_120_bpm_lands_on_frame_12000(stream):
    # 1/8 at 120 bpm = 0.25 s = 12000 frames at 48 kHz: one echo, exactly there, exactly 1.0
    x = click(30000)
    dev = Delay(time="1/8", feedback=0.0, mix=1.0)
    dev.prepare(SR, 2, 30000)
    dev.set_tempo(120.0)
    y = dev.process(x.copy())
    for ch in y:
        np.testing.assert_array_equal(np.flatnonzero(ch), [100 + 12000])
        assert ch[12100] == 1.0


@pytest.mark.parametrize(("note", "bpm", "frames"), [("1/8d", 120.0, 18000),
                                                     ("1/8t", 120.0, 8000),
                                                     ("1/4", 90.0, 32000)])
def test_synced_times(stream, note, bpm, frames):
    dev = prepared(Delay(time=note, feedback=0.0, mix=1.0), bpm)
    assert dev.delay_frames() == frames
    y = dev.process(click(frames + 500))
    np.testing.assert_array_equal(np.flatnonzero(y[0]), [100 + frames])


def test_free_time_in_ms(stream):
    y = stream(Delay(sync=False, time_ms=10.0, feedback=0.0, mix=1.0), click(2000))
    np.testing.assert_array_equal(np.flatnonzero(y[1]), [100 + 480])


def test_feedback_decays_geometrically(stream):
    d = 1000
    y = stream(Delay(sync=False, time_ms=d / SR * 1000, feedback=0.6, mix=1.0), click(8 * d))
    echoes = y[0, 100 + d * np.arange(1, 7)]
    np.testing.assert_allclose(echoes, 0.6 ** np.arange(6), rtol=1e-6)
    assert np.count_nonzero(y[0]) == 7  # nothing between the echoes


def test_ping_pong_alternates_channels(stream):
    d = 1000
    dev = Delay(sync=False, time_ms=d / SR * 1000, feedback=0.5, mix=1.0, ping_pong=True)
    y = stream(dev, click(6 * d))
    for k in range(1, 6):
        loud, quiet = (0, 1) if k % 2 else (1, 0)
        assert y[loud, 100 + k * d] == pytest.approx(0.5 ** (k - 1), rel=1e-6)
        assert y[quiet, 100 + k * d] == 0.0


def test_highcut_darkens_each_repeat(stream):
    # a one-pole low-pass in the loop: the 2nd echo keeps its DC sum (gain 1 at 0 Hz) but is
    # smeared, its peak lower than the first echo's
    d = 2000
    dev = Delay(sync=False, time_ms=d / SR * 1000, feedback=0.5, mix=1.0, highcut_hz=2000.0)
    y = stream(dev, click(3 * d, channels=1))[0]
    assert y[100 + d] == 1.0  # the first echo is the input, untouched
    second = y[100 + 2 * d - 10: 100 + 3 * d - 10]
    assert second.sum() == pytest.approx(0.5, rel=1e-3)
    assert second.max() < 0.5 * 0.3


def test_lowcut_removes_dc_from_the_repeats(stream):
    d = 4800
    dev = Delay(sync=False, time_ms=100.0, feedback=0.5, mix=1.0, lowcut_hz=100.0)
    y = stream(dev, np.full((1, 4 * d), 0.5, np.float32))[0]
    # the first echo is the DC itself; later repeats add only a decaying transient
    assert y[-1] == pytest.approx(0.5, abs=0.01)


def test_mix_zero_nulls_with_the_input(stream, rng):
    x = rng.standard_normal((2, 5000)).astype(np.float32)
    np.testing.assert_array_equal(stream(Delay(mix=0.0, feedback=0.9), x), x)


def test_tempo_change_glides_to_the_new_time():
    dev = prepared(Delay(time="1/4", feedback=0.0, mix=1.0), 120.0)
    assert dev.delay_frames() == 24000
    dev.process(np.zeros((2, 100), np.float32))
    dev.set_tempo(150.0)
    assert dev.delay_frames() == 19200


def test_bad_note_value_names_it():
    with pytest.raises(ParameterError, match=r"note value like '1/4'.*got '1/4x'"):
        Delay(time="1/4x")


def test_too_long_for_the_tempo_is_an_error():
    dev = Delay(time="2/1")
    dev.prepare(SR, 2, 512)
    with pytest.raises(ParameterError, match=r"'2/1' at 40 bpm is 12\.00 s"):
        dev.set_tempo(40.0)


@HYP
@given(cuts=st.lists(st.integers(1, 7999), max_size=10))
def test_delay_is_block_invariant(stream, cuts):
    x = (np.random.default_rng(12).standard_normal((2, 8000)) * 0.5).astype(np.float32)
    ev = [(0, "__tempo__", 600.0), (2000, "feedback", 0.8), (3000, "__tempo__", 700.0),
          (5000, "mix", 0.7), (6000, "highcut_hz", 3000.0)]
    for pp in (False, True):
        def make(pp=pp):
            return Delay(time="1/16", ping_pong=pp, lowcut_hz=50.0)
        whole = stream(make(), x, events=ev)
        np.testing.assert_array_equal(stream(make(), x, cuts, ev), whole)
