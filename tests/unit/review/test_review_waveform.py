"""Waveform peaks and the short-term loudness curve, checked against known signals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mixdown.core.errors import ParameterError
from mixdown.review.waveform import (
    load_curve,
    load_peaks,
    measure_waveform,
    reduce_peaks,
    save_waveform,
)

SR = 48000


def _write(path: Path, audio: np.ndarray) -> Path:
    sf.write(path, audio.T, SR, subtype="FLOAT")
    return path


def test_peaks_follow_the_signal_bin_by_bin(tmp_path: Path, rng: np.random.Generator) -> None:
    frames = SR * 3 + 123  # not a whole number of bins
    audio = (rng.uniform(-1, 1, (2, frames)) * np.linspace(0.01, 0.9, frames)).astype(np.float32)
    peaks, _ = measure_waveform(_write(tmp_path / "n.wav", audio), block_frames=10_000)
    spp = peaks.samples_per_point
    assert spp == SR // 200
    assert peaks.points == -(-frames // spp)
    mono_lo, mono_hi = audio.min(axis=0), audio.max(axis=0)
    for i in (0, 1, 57, peaks.points // 2, peaks.points - 1):
        assert peaks.min[i] == pytest.approx(mono_lo[i * spp:(i + 1) * spp].min(), abs=1e-6)
        assert peaks.max[i] == pytest.approx(mono_hi[i * spp:(i + 1) * spp].max(), abs=1e-6)


def test_stored_peaks_round_trip_at_16_bits(tmp_path: Path, rng: np.random.Generator) -> None:
    audio = rng.uniform(-0.5, 0.5, (2, SR * 2)).astype(np.float32)
    peaks, curve = measure_waveform(_write(tmp_path / "n.wav", audio))
    save_waveform(tmp_path, peaks, curve)
    back = load_peaks(tmp_path)
    assert back.samples_per_point == peaks.samples_per_point
    np.testing.assert_allclose(back.max, peaks.max, atol=1 / 32767)
    np.testing.assert_allclose(back.min, peaks.min, atol=1 / 32767)
    again = load_curve(tmp_path)
    assert again.hop_s == pytest.approx(curve.hop_s)
    np.testing.assert_array_equal(again.lufs, curve.lufs)


def test_reduced_peaks_are_min_of_mins_and_max_of_maxes(tmp_path: Path,
                                                        rng: np.random.Generator) -> None:
    audio = rng.uniform(-1, 1, (1, SR * 2 + 77)).astype(np.float32)
    peaks, _ = measure_waveform(_write(tmp_path / "n.wav", audio))
    coarse = reduce_peaks(peaks, 20)
    assert coarse.points_per_second == pytest.approx(20)
    assert coarse.max[3] == peaks.max[30:40].max()
    assert coarse.min[-1] == peaks.min[(coarse.points - 1) * 10:].min()
    with pytest.raises(ParameterError):
        reduce_peaks(peaks, 0)
    as_json = coarse.as_dict(bits=8)
    assert as_json["length"] == coarse.points and len(as_json["data"]) == 2 * coarse.points
    assert max(as_json["data"]) <= 127


def test_loudness_curve_of_a_steady_sine(tmp_path: Path) -> None:
    t = np.arange(SR * 6) / SR
    tone = (10 ** (-20 / 20) * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    # A 997 Hz sine at -20 dBFS in both channels reads -20 LUFS (BS.1770: 0 dBFS in one
    # channel reads -3.01 LUFS; K-weighting is ~0 dB near 1 kHz).
    _, curve = measure_waveform(_write(tmp_path / "s.wav", np.stack([tone, tone])))
    assert curve.t0_s == pytest.approx(3.0, abs=0.011)
    assert curve.hop_s == pytest.approx(0.1)
    assert len(curve.lufs) == pytest.approx(31, abs=1)
    np.testing.assert_allclose(curve.lufs, -20.0, atol=0.15)
    assert curve.times()[-1] == pytest.approx(6.0, abs=0.11)
