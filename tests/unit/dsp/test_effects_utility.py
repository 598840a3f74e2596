"""Utility: gain by dB, width, mono, polarity, swap, balance, glides."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixdown.dsp.effects._common import smooth_frames
from mixdown.dsp.effects.utility import Utility

SR = 48_000
HYP = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
# float64 matrix then a float32 store: one rounding (half an ulp, 2**-24) of the exact
# result, which the float64 references below compute
ROUND_RTOL = 2.0 ** -24


@pytest.fixture
def stereo(rng) -> np.ndarray:
    return (rng.standard_normal((2, 3000)) * 0.5).astype(np.float32)


def f64(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64)


@pytest.mark.parametrize("gain_db", [-20.0, -6.0, 0.0, 3.5, 12.0])
def test_gain_by_db(stream, stereo, gain_db):
    y = stream(Utility(gain_db=gain_db), stereo)
    np.testing.assert_allclose(y, f64(stereo) * 10 ** (gain_db / 20), rtol=ROUND_RTOL)


def test_defaults_pass_the_signal_bit_exactly(stream, stereo):
    np.testing.assert_array_equal(stream(Utility(), stereo), stereo)


@pytest.mark.parametrize("kw", [{"width": 0.0}, {"mono": True}])
def test_width_zero_and_mono_give_identical_channels(stream, stereo, kw):
    y = stream(Utility(**kw), stereo)
    np.testing.assert_array_equal(y[0], y[1])
    np.testing.assert_allclose(y[0], (f64(stereo[0]) + stereo[1]) / 2, rtol=ROUND_RTOL)


def test_width_two_doubles_the_side_and_keeps_the_mid(stream, stereo):
    y = stream(Utility(width=2.0), stereo).astype(np.float64)
    x = stereo.astype(np.float64)
    np.testing.assert_allclose(y[0] + y[1], x[0] + x[1], atol=1e-6)
    np.testing.assert_allclose(y[0] - y[1], 2 * (x[0] - x[1]), atol=1e-6)


def test_inverting_both_channels_nulls_with_the_original(stream, stereo):
    y = stream(Utility(invert_left=True, invert_right=True), stereo)
    np.testing.assert_array_equal(y + stereo, 0.0)


def test_invert_one_side_only(stream, stereo):
    y = stream(Utility(invert_right=True), stereo)
    np.testing.assert_array_equal(y[0], stereo[0])
    np.testing.assert_array_equal(y[1], -stereo[1])


def test_swap(stream, stereo):
    np.testing.assert_array_equal(stream(Utility(swap=True), stereo), stereo[::-1])


@pytest.mark.parametrize(("pan", "left", "right"), [(1.0, 0.0, 1.0), (-0.5, 1.0, 0.5),
                                                    (0.25, 0.75, 1.0)])
def test_balance_attenuates_the_far_side_linearly(stream, stereo, pan, left, right):
    y = stream(Utility(pan=pan), stereo)
    np.testing.assert_allclose(y[0], f64(stereo[0]) * left, rtol=ROUND_RTOL)
    np.testing.assert_allclose(y[1], f64(stereo[1]) * right, rtol=ROUND_RTOL)


def test_mono_stream_takes_gain_and_polarity(stream, rng):
    x = rng.standard_normal((1, 1000)).astype(np.float32)
    y = stream(Utility(gain_db=-6.0, invert_left=True, width=0.0, pan=1.0), x)
    np.testing.assert_allclose(y, -f64(x) * 10 ** (-6 / 20), rtol=ROUND_RTOL)


def test_automated_width_glides(stream):
    # a hard-left DC (L = 1, R = 0); width 1 -> 0 at frame 500: R rises linearly to 0.5
    n, at, glide = 2000, 500, smooth_frames(SR)
    x = np.zeros((2, n), np.float32)
    x[0] = 1.0
    y = stream(Utility(), x, events=[(at, "width", 0.0)])
    np.testing.assert_array_equal(y[1, :at], 0.0)
    np.testing.assert_allclose(y[1, at:at + glide], 0.5 * np.arange(1, glide + 1) / glide,
                               rtol=1e-6)
    np.testing.assert_allclose(y[:, at + glide:], 0.5, rtol=1e-7)


def test_bool_automation_accepts_curve_numbers(stream):
    dev = Utility()
    dev.prepare(SR, 2, 64)
    dev.set_param("mono", 1.0)
    assert dev.params["mono"] is True


@HYP
@given(cuts=st.lists(st.integers(1, 2999), max_size=10))
def test_utility_is_block_invariant(stream, cuts):
    x = (np.random.default_rng(14).standard_normal((2, 3000))).astype(np.float32)
    ev = [(100, "gain_db", -12.0), (1000, "width", 1.7), (1010, "pan", -0.3),
          (2000, "swap", True)]
    whole = stream(Utility(), x, events=ev)
    np.testing.assert_array_equal(stream(Utility(), x, cuts, ev), whole)
