"""Saturation: small-signal gain, harmonic content by mode, bounded output, oversampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixdown.dsp.effects.saturation import HALFBAND, OVERSAMPLE_LATENCY, TUBE_BIAS, Saturation

SR = 48_000
HYP = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
MODES = ["tanh", "soft", "hard", "tube"]


def harmonics_db(y: np.ndarray, f0: float, count: int = 5) -> np.ndarray:
    """Levels in dBFS (peak) of harmonics 1..count of a 1 s signal (1 Hz bins, Hann window)."""
    w = np.hanning(len(y))
    spec = np.abs(np.fft.rfft(y * w)) / (w.sum() / 2)
    return 20 * np.log10(np.array([spec[round(k * f0)] for k in range(1, count + 1)]) + 1e-30)


@pytest.mark.parametrize("oversample", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_small_signal_gain_is_drive_plus_output(stream, sine, mode, oversample):
    # every shaper has slope 1 at 0: a -80 dBFS tone gains drive_db + output_db
    sat = Saturation(drive_db=18.0, output_db=-4.0, mode=mode, oversample=oversample)
    x = sine(1000.0, 1.0, amp=1e-4)
    y = stream(sat, x)[0]
    gain = harmonics_db(y, 1000.0, 1)[0] - harmonics_db(x[0], 1000.0, 1)[0]
    assert gain == pytest.approx(14.0, abs=0.01)  # half-band ripple < 0.001 dB


@pytest.mark.parametrize("mode", ["tanh", "soft", "hard"])
def test_symmetric_modes_make_only_odd_harmonics(stream, sine, mode):
    sat = Saturation(drive_db=12.0, mode=mode, oversample=False)
    h = harmonics_db(stream(sat, sine(1000.0, 1.0, amp=0.5))[0], 1000.0)
    assert h[2] - h[0] > -40.0  # a strong 3rd harmonic
    assert h[1] - h[0] < -100.0  # no 2nd
    assert h[3] - h[0] < -100.0  # no 4th


def test_tube_mode_adds_even_harmonics(stream, sine):
    sat = Saturation(drive_db=12.0, mode="tube", oversample=False)
    h = harmonics_db(stream(sat, sine(1000.0, 1.0, amp=0.5))[0], 1000.0)
    assert h[1] - h[0] > -40.0
    assert h[3] - h[0] > -60.0


def test_hard_clip_is_brighter_than_tanh(stream, sine):
    # at the same drive the clipper's corners keep the high harmonics up: the 9th is > 10 dB
    # above tanh's (which fall off geometrically)
    x = sine(1000.0, 1.0, amp=0.5)
    hard = harmonics_db(stream(Saturation(mode="hard", oversample=False), x)[0], 1000.0, 9)
    soft = harmonics_db(stream(Saturation(mode="tanh", oversample=False), x)[0], 1000.0, 9)
    assert hard[8] > soft[8] + 10.0


@pytest.mark.parametrize("oversample", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_output_is_bounded(stream, rng, mode, oversample):
    # shaper bounds: 1, or 1 / (1 - tanh b) for tube (doubled by its DC blocker at most);
    # the decimation filter can overshoot by its L1 norm
    bound = 1.0 if mode != "tube" else 2.0 / (1.0 - math.tanh(TUBE_BIAS))
    if oversample:
        bound *= np.abs(HALFBAND).sum()
    x = (rng.standard_normal((2, 12000)) * 2.0).astype(np.float32)
    y = stream(Saturation(drive_db=48.0, mode=mode, oversample=oversample, output_db=-6.0), x)
    assert np.abs(y).max() <= bound * 10 ** (-6 / 20) * (1 + 1e-6)


def test_oversampling_reduces_aliasing(stream, sine):
    # hard-clip a 7.1 kHz tone: the harmonics above Nyquist fold back to non-harmonic bins
    x = sine(7100.0, 1.0, amp=0.9)

    def alias_db(oversample: bool) -> float:
        y = stream(Saturation(drive_db=12.0, mode="hard", oversample=oversample), x)[0]
        spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
        harm = np.zeros(spec.shape, bool)
        for k in range(1, 4):
            harm[max(0, 7100 * k - 50):7100 * k + 51] = True
        return 10 * np.log10((spec[~harm][20:] ** 2).sum() / (spec[harm] ** 2).sum())

    assert alias_db(True) < alias_db(False) - 10.0


@pytest.mark.parametrize("oversample", [False, True])
def test_mix_zero_nulls_with_the_input(stream, rng, oversample):
    sat = Saturation(mix=0.0, drive_db=30.0, oversample=oversample)
    x = (rng.standard_normal((2, 4000)) * 0.5).astype(np.float32)
    y = stream(sat, x)
    lat = sat.latency_frames
    assert lat == (OVERSAMPLE_LATENCY if oversample else 0)
    np.testing.assert_array_equal(y[:, lat:], x[:, :x.shape[1] - lat])


@HYP
@given(cuts=st.lists(st.integers(1, 2999), max_size=10))
def test_saturation_is_block_invariant(stream, cuts):
    x = (np.random.default_rng(9).standard_normal((2, 3000)) * 0.5).astype(np.float32)
    ev = [(1000, "drive_db", 30.0), (2000, "mix", 0.5)]
    for mode, os in (("tanh", True), ("tube", True), ("soft", False)):
        whole = stream(Saturation(mode=mode, oversample=os), x, events=ev)
        np.testing.assert_array_equal(
            stream(Saturation(mode=mode, oversample=os), x, cuts, ev), whole)
