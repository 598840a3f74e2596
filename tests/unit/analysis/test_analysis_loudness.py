"""BS.1770-4 loudness meter: filter, weighting, gating, series, streaming invariance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import sosfreqz

from mixdown.analysis.loudness import (
    LoudnessMeter,
    channel_weights,
    integrated_loudness,
    k_weighting_coefficients,
    series_hop,
)
from mixdown.core.errors import ParameterError

LUFS_TOL = 0.1  # EBU Tech 3341: +-0.1 LU for stationary signals
COEF_TOL = 1e-8  # the analog-prototype design reproduces the printed 48 kHz table to ~1e-9

# ITU-R BS.1770-4 Annex 1, Tables 1 and 2 (48 kHz): b0 b1 b2 a1 a2
SHELF_48K = (1.53512485958697, -2.69169618940638, 1.19839281085285,
             -1.69065929318241, 0.73248077421585)
HIGHPASS_48K = (1.0, -2.0, 1.0, -1.99004745483398, 0.99007225036621)


def test_k_weighting_matches_bs1770_table_at_48k() -> None:
    sos = k_weighting_coefficients(48_000)
    np.testing.assert_allclose(sos[0, [0, 1, 2, 4, 5]], SHELF_48K, atol=COEF_TOL)
    np.testing.assert_allclose(sos[1, [0, 1, 2, 4, 5]], HIGHPASS_48K, atol=COEF_TOL)


@pytest.mark.parametrize("sample_rate", [8_000, 44_100, 48_000, 96_000, 192_000])
def test_k_weighting_shape_high_shelf_and_rlb_highpass(sample_rate: int) -> None:
    # The shelf lifts the top by ~+4 dB; the RLB high-pass (Q = 0.5) is -6 dB at 38.1 Hz.
    freqs = np.array([38.13547087602444, 1000.0, 0.45 * sample_rate if sample_rate < 30_000
                      else 12_000.0])
    _, h = sosfreqz(k_weighting_coefficients(sample_rate), worN=freqs, fs=sample_rate)
    db = 20 * np.log10(np.abs(h))
    assert db[0] - db[1] == pytest.approx(-6.0 - 0.7, abs=0.35)  # -6 dB HP, shelf ~+0.7 at 1 k
    assert db[2] - db[1] == pytest.approx(3.3, abs=0.5)  # the shelf's +4 dB minus its 1 kHz lift


def test_channel_weights_follow_bs1770_table_3() -> None:
    assert channel_weights(2)[0].tolist() == [1.0, 1.0]
    assert channel_weights(5)[0].tolist() == [1.0, 1.0, 1.0, 1.41, 1.41]
    assert channel_weights(6)[0].tolist() == [1.0, 1.0, 1.0, 0.0, 1.41, 1.41]
    weights, warning = channel_weights(3)
    assert weights.tolist() == [1.0, 1.0, 1.0]
    assert warning is not None and "3 channels" in warning


def test_stereo_sine_at_minus_23_dbfs_reads_minus_23_lufs(tone) -> None:
    assert integrated_loudness(tone(-23.0, 10.0), 48_000) == pytest.approx(-23.0, abs=LUFS_TOL)


def test_identical_second_channel_adds_3_db(tone) -> None:
    mono = integrated_loudness(tone(-20.0, 5.0, channels=1), 48_000)
    stereo = integrated_loudness(tone(-20.0, 5.0, channels=2), 48_000)
    assert stereo - mono == pytest.approx(10 * math.log10(2), abs=1e-6)


def test_surround_channel_is_weighted_1_41(tone) -> None:
    x = np.zeros((5, 48_000 * 4), np.float32)
    x[0] = tone(-20.0, 4.0, channels=1)[0]
    left_only = integrated_loudness(x, 48_000)
    x = np.roll(x, 3, axis=0)  # the same signal in Ls
    assert integrated_loudness(x, 48_000) - left_only == pytest.approx(
        10 * math.log10(1.41), abs=1e-6)


def test_lfe_is_excluded_in_six_channels(tone) -> None:
    x = np.zeros((6, 48_000 * 2), np.float32)
    x[3] = tone(-10.0, 2.0, freq=60.0, channels=1)[0]
    assert integrated_loudness(x, 48_000) == -math.inf


def test_silence_and_signal_below_absolute_gate_read_minus_inf(tone) -> None:
    assert integrated_loudness(np.zeros((2, 48_000), np.float32), 48_000) == -math.inf
    assert integrated_loudness(tone(-75.0, 3.0), 48_000) == -math.inf  # -75 LUFS < -70 gate


def test_relative_gate_drops_the_quiet_half(tone) -> None:
    # -20 then -40 LUFS, 10 s each: the -40 blocks are > 10 LU below the ungated mean and
    # drop out. What stays: 97 blocks at -20 and the 3 blocks over the step, which hold
    # 3/4, 1/2 and 1/4 of a -20 block (plus a little of the -40 part).
    x = np.concatenate([tone(-20.0, 10.0), tone(-40.0, 10.0)], axis=1)
    meter = LoudnessMeter(48_000, 2)
    meter.push(x)
    kept = (97 + 0.75 + 0.25 * 0.01 + 0.5 + 0.5 * 0.01 + 0.25 + 0.75 * 0.01) / 100
    assert meter.integrated_lufs() == pytest.approx(-20.0 + 10 * math.log10(kept), abs=0.02)
    assert meter.relative_gate_lufs() == pytest.approx(-20.0 - 10 * math.log10(2) - 10, abs=0.1)


def test_shorter_than_one_gating_block_has_no_loudness(tone) -> None:
    meter = LoudnessMeter(48_000, 2)
    meter.push(tone(-20.0, 0.39))
    assert meter.integrated_lufs() == -math.inf
    assert meter.max_momentary_lufs() == -math.inf
    assert meter.max_short_term_lufs() == -math.inf
    assert meter.loudness_range_lu() == 0.0


@pytest.mark.parametrize("sample_rate", [8_000, 11_025, 22_050, 44_100, 48_000, 88_200,
                                         96_000, 176_400, 192_000, 37_800])
def test_series_hop_is_at_most_10_ms_and_windows_are_400_ms_and_3_s(sample_rate: int) -> None:
    hop, m_hops, s_hops = series_hop(sample_rate)
    assert hop <= sample_rate / 100
    assert hop * m_hops == pytest.approx(0.4 * sample_rate, abs=hop / 2)
    assert hop * s_hops == pytest.approx(3.0 * sample_rate, abs=hop / 2)


def test_series_points_are_on_the_hop_grid_from_the_file_start(tone) -> None:
    meter = LoudnessMeter(44_100, 2, series=True)
    meter.push(tone(-23.0, 5.0, 44_100))
    m = meter.momentary_series()
    s = meter.short_term_series()
    hop = meter.series_hop_s
    assert hop == pytest.approx(0.01)
    assert m[0, 0] == pytest.approx(0.4) and s[0, 0] == pytest.approx(3.0)
    np.testing.assert_allclose(np.diff(m[:, 0]), hop, atol=1e-9)
    assert m[-1, 0] == pytest.approx(5.0)
    # a steady tone reads its level at every point once the window is full
    np.testing.assert_allclose(m[:, 1], -23.0, atol=LUFS_TOL)
    np.testing.assert_allclose(s[:, 1], -23.0, atol=LUFS_TOL)


def test_series_needs_series_true(tone) -> None:
    meter = LoudnessMeter(48_000, 2)
    meter.push(tone(-23.0, 1.0))
    with pytest.raises(ParameterError, match="series=True"):
        meter.momentary_series()


def test_momentary_max_is_found_within_5_ms_of_a_burst(tone) -> None:
    # a 400 ms burst starting 3 ms after a hop boundary: best window misses <= 5 ms of it
    x = np.zeros((2, 48_000 * 2), np.float32)
    start = 48_000 // 2 + 144
    x[:, start:start + 19_200] = tone(-23.0, 0.4)
    meter = LoudnessMeter(48_000, 2)
    meter.push(x)
    assert meter.max_momentary_lufs() == pytest.approx(-23.0, abs=LUFS_TOL)


@pytest.mark.parametrize("rate", [7_999, 192_001, 0])
def test_unsupported_sample_rate_is_refused(rate: int) -> None:
    with pytest.raises(ParameterError, match=r"8000\.\.192000 Hz"):
        LoudnessMeter(rate, 2)


def test_wrong_shape_and_frames_first_are_refused() -> None:
    meter = LoudnessMeter(48_000, 2)
    with pytest.raises(ParameterError, match="frames-first"):
        meter.push(np.zeros((1024, 2), np.float32))
    with pytest.raises(ParameterError, match="2-D"):
        meter.push(np.zeros(1024, np.float32))


def test_nan_is_refused_with_its_time() -> None:
    x = np.zeros((2, 48_000), np.float32)
    x[1, 24_000] = np.nan
    meter = LoudnessMeter(48_000, 2)
    with pytest.raises(ParameterError, match=r"NaN or infinite.*0\.500 s"):
        meter.push(x)
    with pytest.raises(ParameterError, match="reset"):
        meter.push(x[:, :10])
    meter.reset()
    meter.push(np.zeros((2, 10), np.float32))
    assert meter.frames == 10


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 10**7), max_size=12), rate=st.sampled_from([8_000, 44_100]))
def test_every_figure_is_bit_identical_for_any_block_split(cuts: list[int], rate: int) -> None:
    rng = np.random.default_rng(7)
    n = int(rate * 3.7)
    x = (rng.standard_normal((2, n)) * np.linspace(0.02, 0.3, n)).astype(np.float32)
    whole = LoudnessMeter(rate, 2, series=True)
    whole.push(x)
    parts = LoudnessMeter(rate, 2, series=True)
    points = sorted({c % n for c in cuts if c % n > 0})
    for a, b in zip([0, *points], [*points, n], strict=True):
        parts.push(x[:, a:b])
    assert parts.integrated_lufs() == whole.integrated_lufs()
    assert parts.loudness_range_lu() == whole.loudness_range_lu()
    assert parts.max_momentary_lufs() == whole.max_momentary_lufs()
    assert parts.max_short_term_lufs() == whole.max_short_term_lufs()
    np.testing.assert_array_equal(parts.momentary_series(), whole.momentary_series())
    np.testing.assert_array_equal(parts.short_term_series(), whole.short_term_series())


def test_block_step_must_be_a_multiple_of_100_ms(tone) -> None:
    meter = LoudnessMeter(48_000, 2)
    meter.push(tone(-23.0, 4.0))
    assert meter.loudness_range_lu(block_step_s=1.0) == pytest.approx(0.0, abs=1e-3)
    with pytest.raises(ParameterError, match=r"multiple of 0\.1"):
        meter.loudness_range_lu(block_step_s=0.25)
