"""Dither: TPDF noise floor measured, shaping moves it out of the ear's sensitive band,
none means plain rounding, seeded and block-split invariant."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import welch

from mixdown.core.errors import ParameterError
from mixdown.mastering.dither import Ditherer, requantize

SR = 44_100
LSB16 = 2.0**-15
TPDF_FLOOR_DBFS = 10 * np.log10(LSB16**2 / 4)  # rounding LSB^2/12 + TPDF dither LSB^2/6
ROUND_FLOOR_DBFS = 10 * np.log10(LSB16**2 / 12)
FLOOR_TOL_DB = 0.1  # 2 s of noise: the power estimate is good to a few hundredths of a dB


def tone(seconds: float = 2.0, amp: float = 0.25) -> np.ndarray:
    n = np.arange(round(SR * seconds))
    return (amp * np.sin(2 * np.pi * 997 * n / SR))[None].astype(np.float32)


def error_db(mode: str, x: np.ndarray) -> float:
    e = requantize(x, 16, mode=mode, sample_rate=SR, seed=7).astype(np.float64) - x
    return float(10 * np.log10(np.mean(e**2)))


def test_tpdf_noise_floor() -> None:
    assert error_db("tpdf", tone()) == pytest.approx(TPDF_FLOOR_DBFS, abs=FLOOR_TOL_DB)
    assert error_db("none", tone()) == pytest.approx(ROUND_FLOOR_DBFS, abs=FLOOR_TOL_DB)


def test_tpdf_error_does_not_follow_the_signal() -> None:
    # a -100 dBFS tone is below one LSB: rounding alone erases or squares it (distortion),
    # TPDF keeps it: the tone's bin stands out of a flat, signal-independent floor
    x = tone(amp=10 ** (-100 / 20))
    assert not np.any(requantize(x, 16, mode="none", sample_rate=SR))
    y = requantize(x, 16, mode="tpdf", sample_rate=SR, seed=1)[0].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    k = round(997 * y.size / SR)
    assert spectrum[k - 2:k + 3].max() > 5 * np.median(spectrum)
    harmonics = [spectrum[m * k - 2:m * k + 3].max() for m in (3, 5)]
    assert max(harmonics) < 3 * np.median(spectrum)


def test_output_sits_on_the_16_bit_grid() -> None:
    for mode in ("none", "tpdf", "shaped"):
        y = requantize(tone(), 16, mode=mode, sample_rate=SR, seed=3)
        np.testing.assert_array_equal(y * 32768, np.round(y * 32768))


def test_shaping_moves_noise_out_of_1_to_5_khz() -> None:
    x = tone()
    f, flat = welch(requantize(x, 16, mode="tpdf", sample_rate=SR, seed=2)[0] - x[0], SR,
                    nperseg=4096)
    _, shaped = welch(requantize(x, 16, mode="shaped", sample_rate=SR, seed=2)[0] - x[0], SR,
                      nperseg=4096)
    band = (f > 2000) & (f < 5000)
    top = f > 17_000
    assert 10 * np.log10(shaped[band].mean() / flat[band].mean()) < -15.0
    assert 10 * np.log10(shaped[top].mean() / flat[top].mean()) > 10.0


@settings(max_examples=25, deadline=None)
@given(cut=st.integers(1, 4409), mode=st.sampled_from(["tpdf", "shaped"]))
def test_same_seed_same_output_for_any_split(cut: int, mode: str) -> None:
    x = np.repeat(tone(0.1), 2, axis=0)
    whole = Ditherer(16, mode=mode, sample_rate=SR, channels=2, seed=11).process(x)
    d = Ditherer(16, mode=mode, sample_rate=SR, channels=2, seed=11)
    parts = np.concatenate([d.process(x[:, :cut]), d.process(x[:, cut:])], axis=1)
    np.testing.assert_array_equal(parts, whole)
    other = Ditherer(16, mode=mode, sample_rate=SR, channels=2, seed=12).process(x)
    assert not np.array_equal(other, whole)


def test_full_scale_is_clipped_and_counted() -> None:
    d = Ditherer(16, mode="tpdf", sample_rate=SR, channels=1)
    y = d.process(np.full((1, 100), 1.5, np.float32))
    assert y.max() == np.float32(32767 / 32768)
    assert d.clipped_samples == 100


def test_bad_settings() -> None:
    with pytest.raises(ParameterError, match="16- or 24-bit"):
        Ditherer(8)
    with pytest.raises(ParameterError, match="tpdf, shaped, none"):
        Ditherer(16, mode="rectangular")
