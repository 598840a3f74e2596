"""True peak (BS.1770-4 Annex 2): filter, oversampler, meter physics, streaming invariance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import butter, sosfiltfilt

from mixdown.analysis.truepeak import (
    BS1770_TAPS,
    OVERSAMPLE_4X_DELAY_FRAMES,
    TruePeakMeter,
    oversample_4x,
    true_peak_dbtp,
)
from mixdown.core.errors import ParameterError

TP_TOL_HIGH = 0.2  # EBU Tech 3341: true peak within +0.2 / -0.4 dB
TP_TOL_LOW = 0.4
IDEAL_TOL_DB = 0.1  # 4x Annex 2 vs an ideal (FFT) peak on content below 0.4 fs


def test_annex2_phases_are_mirror_images_with_unit_dc_gain() -> None:
    np.testing.assert_array_equal(BS1770_TAPS[3], BS1770_TAPS[0][::-1])
    np.testing.assert_array_equal(BS1770_TAPS[2], BS1770_TAPS[1][::-1])
    np.testing.assert_allclose(BS1770_TAPS.sum(axis=1), 1.0, atol=0.03)


def test_oversampled_sine_lands_on_the_analytic_curve() -> None:
    # The Annex 2 phases are 12-tap fractional delays: their delays scatter +-0.07 frames
    # around the grid (2 pi f 0.07 / fs ~ 0.01 at 1 kHz) and their gains run from 0.973
    # (phases 1, 2) to 1.002 (phases 0, 3), so the 4x stream of a full-scale 1 kHz sine
    # stays within 0.03 of the analytic curve drawn with the nominal 5.875-frame delay.
    sr, f = 48_000, 1000.0
    n = 4800
    x = np.sin(2 * np.pi * f * np.arange(n) / sr).astype(np.float32)[None, :]
    out, _ = oversample_4x(x)
    t = (np.arange(4 * n) / 4 - OVERSAMPLE_4X_DELAY_FRAMES) / sr
    expected = np.sin(2 * np.pi * f * t)
    np.testing.assert_allclose(out[0, 200:], expected[200:], atol=0.03)
    assert np.abs(out[0, 200:]).max() == pytest.approx(1.0, abs=2e-3)


def test_oversample_4x_streams_seamlessly(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 5000)).astype(np.float32)
    whole, _ = oversample_4x(x)
    a, hist = oversample_4x(x[:, :1234])
    b, _ = oversample_4x(x[:, 1234:], hist)
    np.testing.assert_array_equal(np.concatenate([a, b], axis=1), whole)


def test_oversample_4x_checks_history_shape() -> None:
    with pytest.raises(ParameterError, match=r"history must be shaped \(2, 11\)"):
        oversample_4x(np.zeros((2, 8), np.float32), np.zeros((1, 11), np.float32))


@pytest.mark.parametrize("sample_rate", [8_000, 48_000, 96_000, 192_000])
def test_inter_sample_peak_of_quarter_rate_sine_is_found(sample_rate: int) -> None:
    # fs/4 at 45 degrees: every sample sits at -9 dBFS, the wave peaks at -6 dBFS
    n = np.arange(sample_rate // 10)
    x = (0.5 * np.sin(np.pi / 2 * n + np.pi / 4)).astype(np.float32)[None, :]
    meter = TruePeakMeter(sample_rate, 1)
    meter.push(x)
    assert meter.sample_peak_dbfs() == pytest.approx(-9.03, abs=0.01)
    assert -6.02 - TP_TOL_LOW <= meter.true_peak_dbtp() <= -6.02 + TP_TOL_HIGH
    assert meter.oversampling == 4


@pytest.mark.parametrize("cutoff", [0.2, 0.3, 0.4])
def test_true_peak_agrees_with_ideal_band_limited_peak(rng: np.random.Generator,
                                                       cutoff: float) -> None:
    sr = 48_000
    sos = butter(10, cutoff * sr, fs=sr, output="sos")
    x = sosfiltfilt(sos, rng.standard_normal((1, sr)))[:, 4096:-4096] * 0.2
    ideal = np.fft.irfft(np.fft.rfft(x, axis=1), 32 * x.shape[1], axis=1) * 32
    ideal_db = 20 * math.log10(np.abs(ideal[:, 32 * 64 : -32 * 64]).max())
    assert true_peak_dbtp(x.astype(np.float32), sr) == pytest.approx(ideal_db, abs=IDEAL_TOL_DB)


def test_true_peak_is_never_below_sample_peak(rng: np.random.Generator) -> None:
    x = rng.uniform(-1, 1, (3, 4000)).astype(np.float32)
    meter = TruePeakMeter(48_000, 3)
    meter.push(x)
    peaks = meter.channel_peaks()
    assert np.all(peaks >= np.abs(x).max(axis=1))


def test_peak_in_the_last_sample_is_found() -> None:
    # the oversampler lags 6 frames; reading the figure flushes the zero-padded tail
    x = np.zeros((1, 1000), np.float32)
    x[0, -1] = 0.5
    x[0, -2] = -0.5
    meter = TruePeakMeter(48_000, 1)
    meter.push(x)
    assert meter.true_peak_dbtp() > 20 * math.log10(0.5) + 0.5  # the alternation overshoots


def test_silence_reads_minus_inf() -> None:
    assert true_peak_dbtp(np.zeros((2, 100), np.float32), 44_100) == -math.inf


def test_nan_is_refused() -> None:
    x = np.zeros((1, 100), np.float32)
    x[0, 5] = np.inf
    with pytest.raises(ParameterError, match="NaN or infinite"):
        TruePeakMeter(48_000, 1).push(x)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 10**6), max_size=10))
def test_true_peak_is_bit_identical_for_any_block_split(cuts: list[int]) -> None:
    x = np.random.default_rng(3).standard_normal((2, 9000)).astype(np.float32)
    whole = TruePeakMeter(44_100, 2)
    whole.push(x)
    parts = TruePeakMeter(44_100, 2)
    points = sorted({c % 9000 for c in cuts if c % 9000 > 0})
    for a, b in zip([0, *points], [*points, 9000], strict=True):
        parts.push(x[:, a:b])
    np.testing.assert_array_equal(parts.channel_peaks(), whole.channel_peaks())
