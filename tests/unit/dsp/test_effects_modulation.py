"""Chorus, flanger and phaser: the sweep runs at rate_hz; mix 0 nulls."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from mixdown.core.errors import ParameterError
from mixdown.dsp.effects.modulation import Chorus, Flanger, Phaser

SR = 48_000
HYP = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


def measured_delay_ms(x: np.ndarray, y: np.ndarray, f0: float) -> np.ndarray:
    """Delay of ``y`` behind ``x`` (a sine of f0 Hz) per sample, in ms, from the phase lag.

    The lag is known modulo one period, so the delay must stay below 1000 / f0 ms.
    """
    lag = np.angle(signal.hilbert(x)) - np.angle(signal.hilbert(y))
    return np.mod(lag / (2 * np.pi * f0) * 1000.0, 1000.0 / f0)


@pytest.mark.parametrize("cls", [Chorus, Flanger])
def test_delay_sweeps_at_rate_hz(stream, sine, cls):
    # wet only, one voice: y(t) = x(t - d(t)), d = delay + depth * sin(2 pi rate t + phase_c)
    rate, delay_ms, depth_ms = 2.0, 5.0, 2.0
    kw = {"voices": 1} if cls is Chorus else {}
    dev = cls(rate_hz=rate, delay_ms=delay_ms, depth_ms=depth_ms, mix=1.0, feedback=0.0,
              stereo_phase_deg=90.0, **kw)
    x = sine(50.0, 2.0, channels=2)
    y = stream(dev, x)
    t = np.arange(x.shape[1]) / SR
    keep = slice(SR // 4, -SR // 4)  # away from the Hilbert transform's edges
    for ch, phase in ((0, 0.0), (1, 0.25)):
        want = delay_ms + depth_ms * np.sin(2 * np.pi * (rate * t + phase))
        got = measured_delay_ms(x[ch], y[ch], 50.0)
        # 0.02 ms: linear interpolation of the read and the 8-frame LFO grid
        np.testing.assert_allclose(got[keep], want[keep], atol=0.02)


def test_chorus_voices_are_spread_in_phase(stream, sine):
    # two voices half a cycle apart: their delay swings (+-1 ms) cancel in the sum's phase,
    # so the output's phase lag stays at delay_ms (0.05 ms: Hilbert ripple of the AM sum)
    dev = Chorus(rate_hz=1.0, delay_ms=10.0, depth_ms=1.0, voices=2, mix=1.0)
    x = sine(50.0, 2.0)
    got = measured_delay_ms(x[0], stream(dev, x)[0], 50.0)
    np.testing.assert_allclose(got[SR // 4:-SR // 4], 10.0, atol=0.05)


def test_phaser_notch_sweeps_at_rate_hz(stream, sine):
    # a tone at the centre frequency is notched whenever a notch crosses it: the output's
    # envelope repeats every 1 / rate_hz
    rate = 4.0
    dev = Phaser(rate_hz=rate, centre_hz=1000.0, depth_octaves=1.5, stages=4, feedback=0.0,
                 mix=0.5)
    x = sine(1000.0, 2.0)
    raw = np.abs(signal.hilbert(stream(dev, x)[0]))[SR // 10:-SR // 10]
    assert raw.min() < 0.05  # a notch passes over the tone
    assert raw.max() > 0.95  # and the in-phase points pass it whole
    env = raw - raw.mean()
    ac = np.correlate(env, env, "full")[len(env) - 1:]
    lo, hi = int(0.15 * SR), int(0.35 * SR)
    period = (lo + int(np.argmax(ac[lo:hi]))) / SR
    assert period == pytest.approx(1.0 / rate, rel=0.01)


def test_phaser_with_zero_depth_has_fixed_notches(stream, sine):
    # 4 first-order all-passes at break frequency fc, mixed 50/50: notches where the chain
    # turns -180 degrees, each stage -45: tan(pi f / fs) = tan(pi / 8) tan(pi fc / fs)
    fc = 1000.0
    dev = Phaser(rate_hz=1.0, centre_hz=fc, depth_octaves=0.0, stages=4, feedback=0.0,
                 mix=0.5)
    f_notch = SR / math.pi * math.atan(math.tan(math.pi / 8) * math.tan(math.pi * fc / SR))
    y = stream(dev, sine(f_notch, 0.5))[0]
    assert 20 * math.log10(np.abs(y[SR // 4:]).max()) < -40.0
    y = stream(Phaser(rate_hz=1.0, centre_hz=fc, depth_octaves=0.0, stages=4, feedback=0.0,
                      mix=0.5), sine(fc, 0.5))[0]
    assert np.abs(y[SR // 4:]).max() == pytest.approx(1.0, abs=1e-3)  # -360 degrees at fc


@pytest.mark.parametrize("cls", [Chorus, Flanger, Phaser])
def test_mix_zero_nulls_with_the_input(stream, rng, cls):
    x = rng.standard_normal((2, 4000)).astype(np.float32)
    np.testing.assert_array_equal(stream(cls(mix=0.0), x), x)


def test_depth_larger_than_delay_is_an_error():
    with pytest.raises(ParameterError, match=r"depth_ms \(5\) must not exceed delay_ms \(2"):
        Flanger(delay_ms=2.0, depth_ms=5.0)


def test_odd_phaser_stages_is_an_error():
    with pytest.raises(ParameterError, match="stages must be even"):
        Phaser(stages=5)


@HYP
@given(cuts=st.lists(st.integers(1, 3999), max_size=10))
def test_modulation_is_block_invariant(stream, cuts):
    x = (np.random.default_rng(13).standard_normal((2, 4000)) * 0.5).astype(np.float32)
    ev = [(1003, "rate_hz", 3.0), (2000, "mix", 0.9), (2500, "feedback", 0.5)]
    for cls, extra in ((Chorus, (3000, "depth_ms", 5.0)), (Flanger, (3000, "delay_ms", 4.0)),
                       (Phaser, (3000, "centre_hz", 2000.0))):
        whole = stream(cls(), x, events=[*ev, extra])
        np.testing.assert_array_equal(stream(cls(), x, cuts, [*ev, extra]), whole)
