"""Reverb: decay time, nulls, stereo decorrelation, pre-delay."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixdown.core.errors import ParameterError
from mixdown.dsp.effects.reverb import Reverb

SR = 48_000
HYP = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
COMBS_44K = (1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617)


def impulse(frames: int, channels: int = 2) -> np.ndarray:
    x = np.zeros((channels, frames), np.float32)
    x[:, 0] = 1.0
    return x


def rt60_s(h: np.ndarray) -> float:
    """T30 from the Schroeder energy decay curve (-5 to -35 dB), extrapolated to 60 dB."""
    e = np.cumsum((h.astype(np.float64) ** 2)[::-1])[::-1]
    edc = 10 * np.log10(e / e[0])
    return 2.0 * (np.argmax(edc <= -35) - np.argmax(edc <= -5)) / SR


@pytest.mark.parametrize("room_size", [0.2, 0.5, 0.8])
def test_decay_time_follows_the_comb_feedback(stream, room_size):
    # undamped Freeverb: each comb of length L and gain g decays 60 dB in 3 L / -log10(g);
    # the all-pass diffusion stretches the measured T30 by a few per cent (10 % allowed)
    h = stream(Reverb(room_size=room_size, damping=0.0, wet=1.0, dry=0.0), impulse(3 * SR))[0]
    g = 0.7 + 0.28 * room_size
    theory = -3.0 * float(np.mean(COMBS_44K)) / 44100 / math.log10(g)
    assert rt60_s(h) == pytest.approx(theory, rel=0.10)


def test_decay_time_grows_with_room_size_and_falls_with_damping(stream):
    def rt(room: float, damping: float) -> float:
        dev = Reverb(room_size=room, damping=damping, wet=1.0, dry=0.0)
        return rt60_s(stream(dev, impulse(2 * SR))[0])

    small, medium, large = rt(0.1, 0.5), rt(0.4, 0.5), rt(0.7, 0.5)
    assert small < medium < large
    assert rt(0.7, 0.9) < large


def test_tail_decays_to_silence(stream):
    h = stream(Reverb(room_size=0.5, wet=1.0, dry=0.0), impulse(3 * SR))
    first, last = np.abs(h[:, : SR // 2]).max(), np.abs(h[:, -SR // 2:]).max()
    assert 20 * np.log10(last / first) < -60.0


def test_dry_only_nulls_with_the_input(stream, rng):
    x = (rng.standard_normal((2, 6000)) * 0.5).astype(np.float32)
    np.testing.assert_array_equal(stream(Reverb(wet=0.0, dry=1.0), x), x)


def test_width_decorrelates_the_channels(stream):
    # width 1: the two channels' tails are nearly uncorrelated; width 0: identical
    wide = stream(Reverb(wet=1.0, dry=0.0, width=1.0), impulse(SR))
    assert abs(np.corrcoef(wide[0], wide[1])[0, 1]) < 0.1
    narrow = stream(Reverb(wet=1.0, dry=0.0, width=0.0), impulse(SR))
    np.testing.assert_array_equal(narrow[0], narrow[1])


def test_predelay_delays_the_tail(stream):
    # the first reflection leaves the shortest comb after its length; pre-delay adds to that
    shortest = round(COMBS_44K[0] * SR / 44100)
    for pre_ms in (0.0, 25.0):
        y = stream(Reverb(wet=1.0, dry=0.0, predelay_ms=pre_ms), impulse(SR // 2))
        first = int(np.flatnonzero(np.abs(y[0]) > 0)[0])
        assert first == shortest + round(pre_ms * 1e-3 * SR)


def test_mono_stream(stream):
    y = stream(Reverb(wet=1.0, dry=0.0), impulse(SR // 4, channels=1))
    assert y.shape == (1, SR // 4)
    assert np.abs(y).max() > 0.01


def test_more_than_two_channels_is_an_error():
    with pytest.raises(ParameterError, match="works on 1 or 2 channels, got 4"):
        Reverb().prepare(SR, 4, 512)


@HYP
@given(cuts=st.lists(st.integers(1, 5999), max_size=10))
def test_reverb_is_block_invariant(stream, cuts):
    x = (np.random.default_rng(11).standard_normal((2, 6000)) * 0.3).astype(np.float32)
    ev = [(1000, "wet", 0.8), (1100, "room_size", 0.9), (3000, "width", 0.2),
          (4000, "predelay_ms", 10.0)]
    whole = stream(Reverb(), x, events=ev)
    np.testing.assert_array_equal(stream(Reverb(), x, cuts, ev), whole)
