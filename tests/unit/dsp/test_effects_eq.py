"""EQ, high-pass and low-pass: the physics of RBJ/Butterworth sections."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from mixdown.core.errors import ParameterError
from mixdown.dsp.effects._common import (
    IDENTITY_SOS,
    SosFilter,
    peaking_section,
    smooth_frames,
)
from mixdown.dsp.effects.eq import EQ, HighPass, LowPass, pass_slots

SR = 48_000
FILTER_DB_TOL = 0.1  # the brief's tolerance; the designs are exact to ~1e-9 dB
HYP = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


def response_db(device, stream, freqs_hz, seconds: float = 1.0) -> np.ndarray:
    """Magnitude in dB at ``freqs_hz`` (1 Hz bins), measured from the impulse response."""
    n = round(seconds * SR)
    imp = np.zeros((1, n), np.float32)
    imp[0, 0] = 1.0
    h = stream(device, imp)[0].astype(np.float64)
    spec = np.abs(np.fft.rfft(h))
    return 20 * np.log10(spec[np.round(np.asarray(freqs_hz) * seconds).astype(int)])


@pytest.mark.parametrize("slope_db", [6, 12, 18, 24, 36, 48])
@pytest.mark.parametrize("kind", ["highpass", "lowpass"])
def test_butterworth_is_minus_3db_at_cutoff(stream, kind, slope_db):
    fc = 1000.0
    dev = EQ(**{f"{kind}_hz": fc, f"{kind}_slope_db": slope_db})
    (at_fc,) = response_db(dev, stream, [fc])
    assert at_fc == pytest.approx(-3.0103, abs=FILTER_DB_TOL)


def butterworth_db(kind: str, f_hz: float, fc_hz: float, order: int) -> float:
    """Digital Butterworth (bilinear, prewarped at fc): -10 log10(1 + (w / wc)^(+-2N))."""
    ratio = np.tan(np.pi * f_hz / SR) / np.tan(np.pi * fc_hz / SR)
    x = ratio ** (2 * order) if kind == "lowpass" else ratio ** (-2 * order)
    return float(-10 * np.log10(1 + x))


@pytest.mark.parametrize("slope_db", [6, 12, 18, 24, 36, 48])
@pytest.mark.parametrize("kind", ["highpass", "lowpass"])
def test_butterworth_magnitude_follows_the_formula(stream, kind, slope_db):
    # one and two octaves into the stop band: |H|^2 = 1 / (1 + (w/wc)^(+-2N))
    fc = 2000.0
    freqs = [500.0, 1000.0] if kind == "highpass" else [4000.0, 8000.0]
    dev = HighPass(cutoff_hz=fc, slope_db=slope_db) if kind == "highpass" else LowPass(
        cutoff_hz=fc, slope_db=slope_db)
    got = response_db(dev, stream, freqs)
    want = [butterworth_db(kind, f, fc, slope_db // 6) for f in freqs]
    np.testing.assert_allclose(got, want, atol=FILTER_DB_TOL)


@pytest.mark.parametrize("slope_db", [6, 12, 18, 24])
def test_highpass_slope_per_octave_in_the_stop_band(stream, slope_db):
    # three and four octaves below a 1.6 kHz cutoff the skirt falls N * 6.02 dB per octave
    lo, hi = response_db(HighPass(cutoff_hz=1600.0, slope_db=slope_db), stream, [100.0, 200.0])
    assert hi - lo == pytest.approx(slope_db / 6 * 20 * np.log10(2), abs=FILTER_DB_TOL)


def test_pass_devices_match_eq_bands(stream):
    a = response_db(HighPass(cutoff_hz=200.0, slope_db=24), stream, [100.0, 200.0, 400.0])
    b = response_db(EQ(highpass_hz=200.0, highpass_slope_db=24), stream, [100.0, 200.0, 400.0])
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("gain_db", "q"), [(6.0, 1.0), (-9.0, 4.0), (12.0, 0.5)])
def test_bell_gain_at_centre(stream, gain_db, q):
    dev = EQ(bell2_hz=2000.0, bell2_gain_db=gain_db, bell2_q=q)
    centre, far_low, far_high, nyquist = response_db(dev, stream,
                                                     [2000.0, 20.0, 20000.0, 24000.0])
    assert centre == pytest.approx(gain_db, abs=FILTER_DB_TOL)
    # the ends of the band are left alone (the RBJ bell is exactly 0 dB at DC and Nyquist)
    assert far_low == pytest.approx(0.0, abs=FILTER_DB_TOL)
    assert far_high == pytest.approx(0.0, abs=FILTER_DB_TOL)
    assert nyquist == pytest.approx(0.0, abs=1e-4)


def test_low_shelf_gain_far_below_the_corner(stream):
    dev = EQ(low_shelf_hz=200.0, low_shelf_gain_db=6.0)
    low, corner, high = response_db(dev, stream, [10.0, 200.0, 15000.0])
    assert low == pytest.approx(6.0, abs=FILTER_DB_TOL)
    assert corner == pytest.approx(3.0, abs=FILTER_DB_TOL)  # RBJ shelf: half the gain
    assert high == pytest.approx(0.0, abs=FILTER_DB_TOL)


def test_high_shelf_gain_far_above_the_corner(stream):
    dev = EQ(high_shelf_hz=1000.0, high_shelf_gain_db=-8.0)
    low, corner, high = response_db(dev, stream, [20.0, 1000.0, 22000.0])
    assert low == pytest.approx(0.0, abs=FILTER_DB_TOL)
    assert corner == pytest.approx(-4.0, abs=FILTER_DB_TOL)
    assert high == pytest.approx(-8.0, abs=FILTER_DB_TOL)


def test_output_gain(stream):
    (g,) = response_db(EQ(output_gain_db=-7.5), stream, [1000.0])
    assert g == pytest.approx(-7.5, abs=1e-6)


def test_flat_eq_passes_the_signal_bit_exactly(stream, rng):
    x = rng.standard_normal((2, 4000)).astype(np.float32)
    np.testing.assert_array_equal(stream(EQ(), x), x)


def test_cascade_is_bit_identical_to_scipy_sosfilt(stream, rng):
    dev = EQ(highpass_hz=80.0, highpass_slope_db=18, bell1_gain_db=4.0, high_shelf_gain_db=-3.0)
    x = rng.standard_normal((2, 6000)).astype(np.float32)
    sos = dev.design(SR)
    active = sos[~np.all(sos == IDENTITY_SOS, axis=1)]
    ref = signal.sosfilt(active, x.astype(np.float64), axis=-1).astype(np.float32)
    np.testing.assert_array_equal(stream(dev, x), ref)


def test_automated_gain_glides_linearly(stream):
    # a DC of 0.5 and output_gain_db 0 -> -6.0206 dB at frame 1000: a linear glide of the
    # gain over smooth_frames frames, then exactly half
    n, at = 3000, 1000
    glide = smooth_frames(SR)
    x = np.full((1, n), 0.5, np.float32)
    y = stream(EQ(), x, events=[(at, "output_gain_db", 20 * np.log10(0.5))])[0]
    np.testing.assert_array_equal(y[:at], 0.5)
    ramp = 0.5 + (0.25 - 0.5) * np.arange(1, glide + 1) / glide
    np.testing.assert_allclose(y[at:at + glide], ramp, rtol=1e-6)
    np.testing.assert_allclose(y[at + glide:], 0.25, rtol=1e-6)


def test_bad_slope_names_the_value_and_the_choices():
    with pytest.raises(ParameterError, match=r"highpass_slope_db must be one of 6, 12.*got 30"):
        EQ(highpass_slope_db=30)
    with pytest.raises(ParameterError, match=r"slope_db must be one of .*got 7"):
        LowPass(slope_db=7)


def test_slope_cannot_be_automated():
    dev = EQ()
    with pytest.raises(ParameterError, match="cannot be automated"):
        dev.set_param("highpass_slope_db", 24)


@HYP
@given(cuts=st.lists(st.integers(1, 2999), max_size=12))
def test_eq_is_block_invariant(stream, cuts):
    x = np.random.default_rng(7).standard_normal((2, 3000)).astype(np.float32)
    events = [(700, "bell1_gain_db", 9.0), (1500, "highpass_hz", 300.0),
              (1510, "lowpass_hz", 5000.0), (2600, "bell1_gain_db", 0.0)]

    def make():
        return EQ(highpass_hz=50.0, highpass_slope_db=24, lowpass_slope_db=36)

    whole = stream(make(), x, events=events)
    np.testing.assert_array_equal(stream(make(), x, cuts, events=events), whole)


@HYP
@given(cuts=st.lists(st.integers(1, 1999), max_size=8))
def test_pass_filters_are_block_invariant(stream, cuts):
    x = np.random.default_rng(8).standard_normal((2, 2000)).astype(np.float32)
    for cls in (HighPass, LowPass):
        ev = [(900, "cutoff_hz", 1234.0)]
        whole = stream(cls(cutoff_hz=300.0, slope_db=18), x, events=ev)
        np.testing.assert_array_equal(stream(cls(cutoff_hz=300.0, slope_db=18), x, cuts, ev),
                                      whole)


class _NeverResting(SosFilter):
    def _resting(self, x: np.ndarray) -> bool:
        return False


@pytest.mark.parametrize("block", [777, 4000, 48_000])
def test_silence_after_the_filter_rang_out_is_skipped_with_the_same_bits(block: int) -> None:
    # Audio, 8 s of digital silence (the cascade rings out below REST_STATE, is set to 0 and
    # stops computing), then audio again: the same samples as a cascade that never rests
    # (zeros compared by value: a skipped block keeps its zeros' signs).
    sr = 48_000
    rng = np.random.default_rng(3)
    x = np.zeros((2, 10 * sr), np.float32)
    x[:, :sr] = 0.5 * rng.standard_normal((2, sr))
    x[:, 9 * sr:] = 0.5 * rng.standard_normal((2, sr))
    sos = np.vstack([pass_slots("highpass", 30.0, 24, sr),
                     peaking_section(400.0, -3.0, 1.0, sr)[None],
                     peaking_section(3000.0, 6.0, 8.0, sr)[None]])

    def run(cls: type[SosFilter]) -> tuple[np.ndarray, int]:
        f = cls(sos.shape[0], 2)
        f.set(sos, 0)
        out = x.copy()
        rested = 0
        for a in range(0, out.shape[1], block):
            seg = np.ascontiguousarray(out[:, a:a + block])
            f.process(seg)
            out[:, a:a + block] = seg
            rested += int(not f.z.any())
        return out, rested

    reference, never = run(_NeverResting)
    got, rested = run(SosFilter)
    assert never == 0 and rested >= (2 * sr) // block  # at rest for seconds of the silence
    np.testing.assert_array_equal(got, reference)
    assert got[:, 9 * sr:].tobytes() == reference[:, 9 * sr:].tobytes()  # not even a sign
    assert np.abs(got[:, 9 * sr:]).max() > 0.1
