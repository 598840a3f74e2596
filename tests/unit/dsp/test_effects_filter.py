"""Filter: the measured response is the TPT SVF design; self-oscillation; bounded; sweeps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixdown.core.errors import ParameterError
from mixdown.dsp.effects.filter import MODES, SELF_OSC_AMPLITUDE, Filter, damping

SR = 48_000
RESPONSE_DB_TOL = 0.5  # the tolerance; measured errors are below 1e-3 dB
HYP = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
IMPULSE = 1e-3  # quiet: the amplitude-dependent damping is ~1e-7 of k here


def design_db(freqs_hz: np.ndarray, cutoff_hz: float, ks: tuple[float, ...],
              mode: str) -> np.ndarray:
    """The analog prototype through the prewarped bilinear transform, per stage damping k."""
    s = 1j * np.tan(np.pi * freqs_hz / SR) / np.tan(np.pi * cutoff_hz / SR)
    h = np.ones_like(s)
    for k in ks:
        d = s * s + k * s + 1.0
        h = h * {"lowpass": 1.0, "highpass": s * s, "bandpass": s, "notch": s * s + 1.0}[mode] / d
    return 20 * np.log10(np.maximum(np.abs(h), 1e-30))


def measured_db(stream, dev: Filter, freqs_hz: np.ndarray, seconds: float = 2.0) -> np.ndarray:
    """Magnitude in dB at ``freqs_hz`` (multiples of 1 / seconds), from the impulse response."""
    n = round(seconds * SR)
    imp = np.zeros((1, n), np.float32)
    imp[0, 0] = IMPULSE
    h = stream(dev, imp)[0].astype(np.float64) / IMPULSE
    spec = np.abs(np.fft.rfft(h))
    return 20 * np.log10(spec[np.round(np.asarray(freqs_hz) * seconds).astype(int)])


CASES = [(200.0, 0.0), (1000.0, 0.5), (5000.0, 0.9), (2500.0, 0.97)]


@pytest.mark.parametrize("slope_db", [12, 24])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("cutoff_hz", "resonance"), CASES)
def test_response_matches_the_tpt_design(stream, mode, slope_db, cutoff_hz, resonance):
    # at the cutoff, at the resonance peak and across the band (where the design is > -60 dB)
    ks = damping(resonance, slope_db)
    dev = Filter(mode=mode, cutoff_hz=cutoff_hz, resonance=resonance, slope_db=slope_db)
    freqs = np.arange(20.0, 20000.0, 0.5)
    want = design_db(freqs, cutoff_hz, ks, mode)
    got = measured_db(stream, dev, freqs)
    band = want > -60.0
    np.testing.assert_allclose(got[band], want[band], atol=RESPONSE_DB_TOL)
    if mode != "notch":
        at_fc = measured_db(stream, dev, np.array([cutoff_hz]))[0]
        assert at_fc == pytest.approx(design_db(np.array([cutoff_hz]), cutoff_hz, ks, mode)[0],
                                      abs=RESPONSE_DB_TOL)
        peak = int(np.argmax(want))
        assert got[peak] == pytest.approx(want[peak], abs=RESPONSE_DB_TOL)
        if resonance >= 0.5:  # a clear peak: it is in the same place
            assert abs(freqs[int(np.argmax(got))] / freqs[peak] - 1.0) < 0.01


@pytest.mark.parametrize(("slope_db", "expected_db"), [(12, -3.0103), (24, -3.0103)])
@pytest.mark.parametrize("mode", ["lowpass", "highpass"])
def test_resonance_zero_is_butterworth(stream, mode, slope_db, expected_db):
    # independent of the design formula: Butterworth is -3.01 dB at the cutoff, and a
    # decade into the stop band it is down 20 * order dB (bilinear-warped)
    dev = Filter(mode=mode, cutoff_hz=1000.0, resonance=0.0, slope_db=slope_db)
    at_fc, far = measured_db(stream, dev, np.array([1000.0, 100.0 if mode == "highpass"
                                                    else 10000.0]))
    assert at_fc == pytest.approx(expected_db, abs=0.01)
    order = slope_db // 6
    ratio = np.tan(np.pi * (100.0 if mode == "highpass" else 10000.0) / SR) / np.tan(
        np.pi * 1000.0 / SR)
    assert far == pytest.approx(-10 * np.log10(1 + ratio ** (2 * order if mode == "lowpass"
                                                            else -2 * order)), abs=0.01)


def test_resonance_raises_the_peak(stream):
    # 12 dB/oct low-pass: the peak near the cutoff grows to about Q = 1 / k
    peaks = []
    for r in (0.5, 0.8, 0.95):
        dev = Filter(cutoff_hz=1000.0, resonance=r)
        peaks.append(measured_db(stream, dev, np.array([1000.0]))[0])
        assert peaks[-1] == pytest.approx(-20 * np.log10(damping(r)[0]), abs=0.05)
    assert peaks[0] < peaks[1] < peaks[2]


@pytest.mark.parametrize("slope_db", [12, 24])
def test_notch_is_deep_at_the_cutoff(stream, slope_db):
    dev = Filter(mode="notch", cutoff_hz=1000.0, resonance=0.5, slope_db=slope_db)
    at_fc, = measured_db(stream, dev, np.array([1000.0]))
    assert at_fc < -60.0


def cents_of(y: np.ndarray, f_hz: float) -> float:
    """Frequency of the sine ``y`` relative to ``f_hz`` in cents (zero crossings, interpolated)."""
    s = np.signbit(y)
    idx = np.flatnonzero(s[:-1] & ~s[1:])  # upward crossings
    t = idx + y[idx] / (y[idx] - y[idx + 1])  # linear interpolation of the crossing
    f = (len(t) - 1) / ((t[-1] - t[0]) / SR)
    return float(1200 * np.log2(f / f_hz))


@pytest.mark.parametrize("slope_db", [12, 24])
@pytest.mark.parametrize("cutoff_hz", [110.0, 1000.0, 4000.0])
def test_self_oscillates_at_the_cutoff(stream, cutoff_hz, slope_db):
    # resonance 1, one impulse, then silence: a sine at the cutoff that keeps ringing
    n = 6 * SR
    imp = np.zeros((1, n), np.float32)
    imp[0, 0] = 0.1
    y = stream(Filter(cutoff_hz=cutoff_hz, resonance=1.0, slope_db=slope_db), imp)[0]
    y = y.astype(np.float64)
    assert abs(cents_of(y[3 * SR:], cutoff_hz)) < 1.0  # measured: 0.015 cents at most
    fifth, sixth = np.abs(y[4 * SR:5 * SR]).max(), np.abs(y[5 * SR:]).max()
    assert sixth == pytest.approx(fifth, rel=0.01)  # it neither decays nor grows
    assert sixth == pytest.approx(SELF_OSC_AMPLITUDE, rel=0.01)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.sampled_from(MODES), slope_db=st.sampled_from([12, 24]),
       cutoff_hz=st.floats(20.0, 20000.0), amp=st.floats(0.01, 4.0),
       drive_db=st.sampled_from([0.0, 24.0]), seed=st.integers(0, 1000))
def test_output_is_bounded_at_full_resonance(stream, mode, slope_db, cutoff_hz, amp, drive_db,
                                             seed):
    # loud noise plus a sine at the cutoff (the worst case of a resonator)
    rng = np.random.default_rng(seed)
    t = np.arange(SR // 2) / SR
    x = amp * (0.5 * rng.standard_normal(t.size) + np.sin(2 * np.pi * min(cutoff_hz, 23000) * t))
    y = stream(Filter(mode=mode, slope_db=slope_db, cutoff_hz=cutoff_hz, resonance=1.0,
                      drive_db=drive_db), x[None, :].astype(np.float32))
    assert np.all(np.isfinite(y))
    # the damping k + GAMMA v1^2 caps the band state at about (input / GAMMA)^(1/3); the
    # filter's input is the tanh's (below 1) when driven
    u = 1.0 if drive_db > 0 else float(np.abs(x).max())
    assert np.abs(y).max() < 4.0 * (1.0 + u) ** (1 / 3) + u


def spectral_centroid_hz(y: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    f = np.fft.rfftfreq(len(y), 1 / SR)
    return float((spec * f).sum() / spec.sum())


def test_automated_cutoff_sweep_moves_the_centroid(stream, rng):
    # white noise, cutoff automated on the engine's 256-frame grid from 200 Hz to 8 kHz
    n = 2 * SR
    x = (0.3 * rng.standard_normal((1, n))).astype(np.float32)
    grid = range(0, n, 256)
    ev = [(f, "cutoff_hz", float(200.0 * 40.0 ** (f / n))) for f in grid]
    y = stream(Filter(cutoff_hz=200.0, resonance=0.2), x, events=ev)[0].astype(np.float64)
    quarters = [spectral_centroid_hz(y[k * n // 4:(k + 1) * n // 4]) for k in range(4)]
    assert quarters == sorted(quarters)
    assert quarters[-1] > 4 * quarters[0]


def test_sweep_does_not_zipper(stream):
    # a sine through a low-pass whose cutoff jumps 400 <-> 3200 Hz: the glide keeps the
    # output's second difference (clicks) within 3x the steady filter's (measured 1.7x;
    # a one-frame change measures 85x)
    n = SR
    x = np.sin(2 * np.pi * 300.0 * np.arange(n) / SR).astype(np.float32)[None, :]
    ev = [(f, "cutoff_hz", 400.0 * 8.0 ** (k % 2)) for k, f in enumerate(range(4096, n, 4096))]
    y = stream(Filter(cutoff_hz=400.0, resonance=0.5), x, events=ev)[0].astype(np.float64)
    d2 = np.abs(np.diff(y, 2))
    steady = stream(Filter(cutoff_hz=400.0, resonance=0.5), x)[0].astype(np.float64)
    assert d2.max() < 3.0 * np.abs(np.diff(steady, 2)).max()


@pytest.mark.parametrize("drive_db", [6.0, 18.0])
def test_quiet_signals_gain_drive_db(stream, sine, drive_db):
    dev = Filter(cutoff_hz=20000.0, resonance=0.0, drive_db=drive_db)
    x = sine(100.0, 1.0, amp=1e-4)
    y = stream(dev, x)[0].astype(np.float64)
    gain = 20 * np.log10(np.abs(np.fft.rfft(y))[100] / np.abs(np.fft.rfft(x[0]))[100])
    assert gain == pytest.approx(drive_db, abs=0.01)


def test_drive_fades_in_continuously(stream, rng):
    # a loud signal: 0.01 dB of drive changes it by ~0.1 % (no jump to a tanh), while the
    # full shaper (6 dB and up) changes it a lot
    x = (rng.standard_normal((1, 6000)) * 1.6).astype(np.float32)

    def run(drive_db: float) -> np.ndarray:
        dev = Filter(cutoff_hz=3000.0, resonance=0.5, drive_db=drive_db)
        return stream(dev, x)[0].astype(np.float64)

    off = run(0.0)
    assert np.abs(run(0.01) - off).max() < 0.01 * np.abs(off).max()
    assert np.abs(run(6.0) - off).max() > 0.2 * np.abs(off).max()


@pytest.mark.parametrize(("cutoff_hz", "limit_db"), [(5000.0, -80.0), (20000.0, -60.0)])
def test_drive_aliasing_is_low(stream, sine, cutoff_hz, limit_db):
    # 12 dB of drive on a 2.5 kHz tone at half scale, not oversampled: what folds back
    # (non-harmonic bins) relative to the harmonics; measured -101 dB and -70 dB
    x = sine(2500.0, 1.0, amp=0.5)
    y = stream(Filter(cutoff_hz=cutoff_hz, resonance=0.0, drive_db=12.0), x)[0]
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    harm = np.zeros(spec.shape, bool)
    for k in range(1, 10):
        harm[max(0, 2500 * k - 20):2500 * k + 21] = True
    assert 10 * np.log10(spec[~harm][20:].sum() / spec[harm].sum()) < limit_db


def test_mix_zero_passes_the_input(stream, rng):
    x = (rng.standard_normal((2, 3000)) * 0.5).astype(np.float32)
    np.testing.assert_array_equal(stream(Filter(mix=0.0, resonance=0.9), x), x)


def test_bad_parameters_are_refused():
    with pytest.raises(ParameterError, match="slope_db must be 12 or 24"):
        Filter(slope_db=18)
    with pytest.raises(ParameterError, match="mode cannot be automated"):
        Filter().set_param("mode", "highpass")
    with pytest.raises(ParameterError, match="resonance"):
        Filter(resonance=1.5)


@HYP
@given(cuts=st.lists(st.integers(1, 3999), max_size=10))
def test_filter_is_block_invariant(stream, cuts):
    x = (np.random.default_rng(4).standard_normal((2, 4000)) * 0.5).astype(np.float32)
    ev = [(256 * k, "cutoff_hz", 300.0 * 1.3 ** k) for k in range(1, 15)]
    ev += [(1024, "resonance", 0.95), (2048, "drive_db", 12.0), (3072, "mix", 0.5)]
    for mode, slope in (("lowpass", 12), ("bandpass", 24), ("notch", 12)):
        whole = stream(Filter(mode=mode, slope_db=slope), x, events=ev)
        np.testing.assert_array_equal(stream(Filter(mode=mode, slope_db=slope), x, cuts, ev),
                                      whole)
