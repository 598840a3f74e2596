"""Dense peaks: a bright, hard-clipped loop reaches -14 LUFS at -1 dBTP inside the 6 dB
allowance, with the ceiling confirmed by independent 16x reconstructions; the auto
release that makes it possible, measured on its own."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np
import pytest
from tp_meters import ffmpeg_ebur128, loudness_libebur128, true_peak_8x, true_peak_16x

from mixdown.analysis.loudness import integrated_loudness
from mixdown.analysis.truepeak import true_peak_dbtp
from mixdown.dsp.true_peak import TruePeakLimiter, limit
from mixdown.mastering.normalize import (
    MasterPlan,
    MasterResult,
    MemoryOutput,
    master_to_target,
    run_master_plan,
)
from signals import dense_clipped_loop

SR = 48_000
TARGET_LUFS = -14.0
CEILING_DBTP = -1.0
LOUDNESS_TOL_LU = 0.2
ALLOWANCE_DB = 6.0
METER_RESOLUTION_DB = 0.005  # ffmpeg prints linear peaks with 3 decimals


@pytest.fixture(scope="module")
def loop() -> np.ndarray:
    return dense_clipped_loop(30.0, SR)


def master(audio: np.ndarray, wrapper: bool = False, **plan: float
           ) -> tuple[np.ndarray, MasterResult]:
    """Master ``audio`` in memory (a callable source and a collecting sink), by
    :func:`run_master_plan` or (``wrapper``) by :func:`master_to_target`."""
    output = MemoryOutput()

    def blocks() -> Iterator[np.ndarray]:
        return (audio[:, i:i + 48_000] for i in range(0, audio.shape[1], 48_000))

    if wrapper:
        result = master_to_target(blocks, output, target_lufs=TARGET_LUFS,
                                  ceiling_dbtp=CEILING_DBTP, allowance_db=ALLOWANCE_DB,
                                  sample_rate=SR, channels=2, **plan)
        return output.audio(), result
    result = run_master_plan(MasterPlan(target_lufs=TARGET_LUFS, ceiling_dbtp=CEILING_DBTP,
                                        allowance_db=ALLOWANCE_DB, **plan),
                             blocks, output, sample_rate=SR, channels=2)
    return output.audio(), result


def test_the_loop_is_dense_clipped_and_needs_about_4_db(loop: np.ndarray) -> None:
    assert loop.shape == (2, 30 * SR)
    clipped = np.abs(loop).max(axis=0) >= 1.0
    assert float(np.abs(loop).max()) == 1.0
    # hard clipping in every second, several separate clipped runs each second
    runs = np.flatnonzero(np.diff(clipped.astype(np.int8)) == 1)
    per_second = np.bincount(runs // SR, minlength=30)
    assert per_second.min() >= 4
    # peaks (above -1 dBFS) come many times a second: in most 50 ms windows
    loud = np.abs(loop).max(axis=0).reshape(-1, SR // 20).max(axis=1) > 10 ** (-1 / 20)
    assert loud.mean() > 0.3
    # and the clipped bright noise overshoots between samples
    tp_in = true_peak_16x(loop)
    assert tp_in > 2.0
    # an ideal (loss-free) peak reducer would need about 4 dB to reach the target
    needed = (TARGET_LUFS - integrated_loudness(loop, SR)) + tp_in - CEILING_DBTP
    assert 3.0 < needed < 5.0


def test_a_fixed_100_ms_release_falls_short(loop: np.ndarray) -> None:
    # the limiter as it was (5 ms lookahead, fixed 100 ms release): broad gain reduction
    _, result = master(loop, lookahead_ms=5.0, transient_release_ms=0.0)
    assert not result.reached
    assert result.shortfall_lu > 1.0
    assert result.max_gain_reduction_db == pytest.approx(ALLOWANCE_DB, abs=1e-3)


def test_dense_peaks_reach_the_target_under_the_ceiling(loop: np.ndarray) -> None:
    out, result = master(loop)  # the mastering defaults: auto release, short lookahead
    assert out.shape == loop.shape
    assert result.reached and result.shortfall_lu == 0.0
    assert result.max_gain_reduction_db <= ALLOWANCE_DB
    # loudness by three meters
    assert integrated_loudness(out, SR) == pytest.approx(TARGET_LUFS, abs=LOUDNESS_TOL_LU)
    assert loudness_libebur128(out, SR) == pytest.approx(TARGET_LUFS, abs=LOUDNESS_TOL_LU)
    lufs, peak = ffmpeg_ebur128(out, SR)
    assert lufs == pytest.approx(TARGET_LUFS, abs=LOUDNESS_TOL_LU)
    # the ceiling: BS.1770 4x meters, an 8x oversampler, and two independent 16x
    # reconstructions (a 1025-tap Kaiser windowed sinc, and resample_poly's own filter)
    assert peak <= CEILING_DBTP + METER_RESOLUTION_DB
    assert true_peak_dbtp(out, SR) <= CEILING_DBTP
    assert true_peak_8x(out) <= CEILING_DBTP
    assert true_peak_16x(out) <= CEILING_DBTP
    assert true_peak_16x(out, taps_per_phase=None) <= CEILING_DBTP
    # and the limiter is not crushing it: the loudest peak is close to the ceiling
    assert true_peak_16x(out) > CEILING_DBTP - 0.3


def test_master_to_target_masters_dense_peaks_like_the_plan(loop: np.ndarray) -> None:
    # render, master and deliver call master_to_target: its defaults are the plan's
    planned, _ = master(loop)
    wrapped, result = master(loop, wrapper=True)
    assert result.reached
    np.testing.assert_array_equal(wrapped, planned)
    # its old fixed release is still there when asked for (and falls short)
    _, fixed = master(loop, wrapper=True, lookahead_ms=5.0, transient_release_ms=0.0,
                      margin_db=0.05)
    assert not fixed.reached and fixed.shortfall_lu > 1.0


def _burst_then_quiet(sr: int, loud_s: float) -> np.ndarray:
    """A 2 kHz tone 6 dB over a -6 dBTP ceiling for ``loud_s``, then 40 dB quieter."""
    n = np.arange(round(sr * (loud_s + 0.5)))
    env = np.where(n < round(sr * loud_s), 1.0, 0.01)
    return (env * np.sin(2 * np.pi * 2000 * n / sr))[None].astype(np.float32)


def _gain_after(audio: np.ndarray, out: np.ndarray, start: int, ms: float) -> float:
    """Gain (output / input peak over 1 ms) ``ms`` after frame ``start``."""
    a = start + round(SR * ms / 1000)
    sl = slice(a, a + SR // 1000)
    return float(np.abs(out[0, sl]).max() / np.abs(audio[0, sl]).max())


def test_auto_release_recovers_fast_after_short_peaks_slowly_after_sustained_ones() -> None:
    kwargs = {"ceiling_dbtp": -6.0, "release_ms": 100.0, "lookahead_ms": 1.0}
    short = _burst_then_quiet(SR, 0.01)  # a 10 ms burst
    auto, _ = limit(short, SR, transient_release_ms=3.0, **kwargs)
    fixed, _ = limit(short, SR, **kwargs)
    end = round(SR * 0.01)
    # 30 ms after a short burst: auto release is back within 0.5 dB, fixed still ~2 dB down
    assert 20 * math.log10(_gain_after(short, auto, end, 30.0)) > -0.5
    assert 20 * math.log10(_gain_after(short, fixed, end, 30.0)) < -1.5
    # after a sustained second the sustained level is down too: released slowly, like fixed
    long = _burst_then_quiet(SR, 1.0)
    auto_long, _ = limit(long, SR, transient_release_ms=3.0, **kwargs)
    fixed_long, _ = limit(long, SR, **kwargs)
    end = SR
    auto_db = 20 * math.log10(_gain_after(long, auto_long, end, 30.0))
    fixed_db = 20 * math.log10(_gain_after(long, fixed_long, end, 30.0))
    assert auto_db < -3.0
    assert auto_db == pytest.approx(fixed_db, abs=0.5)


@pytest.mark.parametrize("max_block", [1, 64, 1000, 65_536])
def test_auto_release_is_bit_identical_for_any_block_split(loop: np.ndarray,
                                                           max_block: int) -> None:
    audio = np.ascontiguousarray(loop[:, :SR // 2] * np.float32(2.0))
    rng = np.random.default_rng(5)
    cuts = np.sort(rng.choice(audio.shape[1], 40, replace=False))
    whole = TruePeakLimiter(-1.0, 100.0, 1.0, transient_release_ms=3.0)
    whole.prepare(SR, 2, audio.shape[1])
    expected = whole.process(audio)
    split = TruePeakLimiter(-1.0, 100.0, 1.0, transient_release_ms=3.0)
    split.prepare(SR, 2, max_block)
    edges = [0, *cuts.tolist(), audio.shape[1]]
    got = np.concatenate([split.process(audio[:, a:b]) for a, b in itertools.pairwise(edges)
                          if b > a], axis=1)
    np.testing.assert_array_equal(got, expected)
