"""The true-peak limiter: ceiling held on hostile material, transparent below it, exact
for any block split, with the static curve, lookahead, release and link it documents."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from tp_meters import fade, ffmpeg_ebur128, hostile_signals, true_peak_8x, true_peak_libebur128

from mixdown.analysis.truepeak import true_peak_dbtp
from mixdown.core.errors import ParameterError
from mixdown.dsp.base import create_device
from mixdown.dsp.true_peak import (
    DETECTOR_MARGIN_DB,
    TruePeakLimiter,
    limit,
)

CEILING_DBTP = -1.0
METER_RESOLUTION_DB = 0.005  # ffmpeg prints linear peaks with 3 decimals (0.001 of 0.89)
DC_READ_TOL_DB = 0.02  # interpolator branches have DC gains within +0.008 dB of unity
RELEASE_TOL = 0.02  # fit of an exponential sampled at 200 Hz crests, float32 gains


def run_stream(lim: TruePeakLimiter, audio: np.ndarray, splits: list[int]) -> np.ndarray:
    """Process ``audio`` cut at ``splits`` (frame positions) and join the outputs."""
    edges = [0, *sorted(set(splits)), audio.shape[1]]
    return np.concatenate([lim.process(audio[:, a:b]) for a, b in itertools.pairwise(edges)
                           if b > a], axis=1)


@pytest.mark.parametrize("sample_rate", [44_100, 48_000, 96_000])
def test_ceiling_holds_on_hostile_material(sample_rate: int, rng: np.random.Generator) -> None:
    for name, audio in hostile_signals(sample_rate, 0.4, rng).items():
        assert true_peak_8x(audio) > CEILING_DBTP + 2.0, name  # really over the ceiling
        out, gr_db = limit(audio, sample_rate, ceiling_dbtp=CEILING_DBTP)
        assert out.shape == audio.shape
        assert gr_db > 2.0, name
        assert true_peak_8x(out) <= CEILING_DBTP, name
        assert true_peak_libebur128(out, sample_rate) <= CEILING_DBTP, name
        assert true_peak_dbtp(out, sample_rate) <= CEILING_DBTP, name


def test_ceiling_confirmed_by_ffmpeg(rng: np.random.Generator) -> None:
    signals = hostile_signals(48_000, 0.5, rng)
    joined = np.concatenate(list(signals.values()), axis=1)
    out, _ = limit(joined, 48_000, ceiling_dbtp=CEILING_DBTP)
    _, peak = ffmpeg_ebur128(out, 48_000)
    assert peak <= CEILING_DBTP + METER_RESOLUTION_DB


@pytest.mark.parametrize("ceiling", [-0.1, -1.0, -2.0, -6.0])
def test_other_ceilings(ceiling: float, rng: np.random.Generator) -> None:
    audio = hostile_signals(48_000, 0.3, rng)["clipped_noise"]
    out, _ = limit(audio, 48_000, ceiling_dbtp=ceiling)
    assert true_peak_8x(out) <= ceiling
    assert true_peak_libebur128(out, 48_000) <= ceiling
    # and it is not crushed: the loudest peak lands within 0.1 dB of the detector threshold
    assert true_peak_8x(out) >= ceiling - DETECTOR_MARGIN_DB - 0.1


def test_transparent_below_threshold(rng: np.random.Generator) -> None:
    quiet = fade(rng.normal(0.0, 0.05, (2, 12_000)))  # peaks near -14 dBFS
    lim = TruePeakLimiter(ceiling_dbtp=-1.0)
    lim.prepare(48_000, 2, 1024)
    streamed = run_stream(lim, quiet, list(range(1024, 12_000, 1024)))
    lat = lim.latency_frames
    np.testing.assert_array_equal(streamed[:, lat:], quiet[:, :-lat])  # a pure delay
    np.testing.assert_array_equal(streamed[:, :lat], 0.0)
    out, gr_db = limit(quiet, 48_000)
    np.testing.assert_array_equal(out, quiet)  # latency compensated: same samples, same place
    assert gr_db == 0.0


def test_static_curve_on_a_dc_level() -> None:
    # a DC level's true peak is the level: the output settles exactly at the threshold
    level = np.float32(0.5)  # -6.02 dBFS
    audio = fade(np.full((2, 24_000), level, np.float32), frames=2400)
    out, gr_db = limit(audio, 48_000, ceiling_dbtp=-12.0)
    settled_db = 20 * math.log10(float(out[0, 12_000]))
    threshold_db = -12.0 - DETECTOR_MARGIN_DB
    assert threshold_db - DC_READ_TOL_DB <= settled_db <= threshold_db
    assert gr_db == pytest.approx(20 * math.log10(level) - threshold_db, abs=DC_READ_TOL_DB)


def test_lookahead_catches_a_sudden_peak() -> None:
    # silence, then a full-scale-plus tone with no fade: the gain must be down in time
    sr = 48_000
    n = np.arange(sr // 2)
    tone = (1.5 * np.sin(2 * np.pi * 1000 * n / sr + 0.7)).astype(np.float32)
    audio = np.zeros((1, sr), np.float32)
    audio[0, sr // 2:] = tone
    out, _ = limit(audio, sr, ceiling_dbtp=CEILING_DBTP, lookahead_ms=2.0)
    assert 20 * np.log10(np.abs(out).max()) <= CEILING_DBTP
    assert true_peak_8x(out) <= CEILING_DBTP
    # and nothing happens before the lookahead window: the attack starts <= 2 ms early
    onset = sr // 2
    early = onset - round(0.002 * sr) - 20
    np.testing.assert_array_equal(out[0, :early], audio[0, :early])


def test_release_time_constant() -> None:
    # a loud stretch (6 dB of reduction), then a quiet tone: once the signal is quiet the
    # gain recovers as 1 - A exp(-t / release), so ln(1 - gain) falls with slope -1/release
    sr, release_ms = 48_000, 50.0
    n = np.arange(sr)
    env = np.where(n < sr // 4, 1.0, 0.1)
    ramp = slice(sr // 4 - 240, sr // 4 + 240)  # a 10 ms raised-cosine step, no Gibbs ringing
    env[ramp] = 0.55 + 0.45 * np.cos(np.linspace(0, np.pi, 480))
    audio = (env * np.sin(2 * np.pi * 200 * n / sr))[None].astype(np.float32)
    out, gr_db = limit(audio, sr, ceiling_dbtp=-6.0, release_ms=release_ms, lookahead_ms=1.0)
    assert gr_db > 5.0
    # the gain at the tone's crests (every 120 frames), from 5 ms after the step
    crests = np.arange(sr // 4 + 240 + 240 + 60, sr, 120)
    gain = np.abs(out[0, crests]) / np.abs(audio[0, crests])
    reduction = 1.0 - gain.astype(np.float64)
    fit = reduction > 1e-4  # above float32 resolution of the gain
    slope = np.polyfit(crests[fit] / sr, np.log(reduction[fit]), 1)[0]
    assert -1000.0 / slope == pytest.approx(release_ms, rel=RELEASE_TOL)


def test_stereo_link_applies_one_gain_to_all_channels(rng: np.random.Generator) -> None:
    audio = hostile_signals(48_000, 0.5, rng)["left_only_burst"]
    out, gr_db = limit(audio, 48_000, ceiling_dbtp=CEILING_DBTP)
    assert gr_db > 6.0
    mask = (np.abs(audio[0]) > 1e-2) & (np.abs(audio[1]) > 1e-3)
    gain_left = out[0, mask] / audio[0, mask]
    gain_right = out[1, mask] / audio[1, mask]
    np.testing.assert_allclose(gain_right, gain_left, rtol=2e-6)  # float32 rounding only
    assert gain_right.min() < 0.5  # the quiet right channel is ducked by the left's peaks


@settings(max_examples=25, deadline=None)
@given(
    audio=arrays(np.float32, st.tuples(st.integers(1, 2), st.integers(1, 3000)),
                 elements=st.floats(-4.0, 4.0, width=32)),
    cuts=st.lists(st.integers(0, 3000), max_size=12),
    max_block=st.sampled_from([1, 7, 64, 1000, 4096]),
)
def test_any_block_split_is_bit_identical(audio: np.ndarray, cuts: list[int],
                                          max_block: int) -> None:
    whole = TruePeakLimiter(ceiling_dbtp=-3.0, release_ms=20.0, lookahead_ms=1.0)
    whole.prepare(44_100, audio.shape[0], 4096)
    expected = whole.process(audio)
    split = TruePeakLimiter(ceiling_dbtp=-3.0, release_ms=20.0, lookahead_ms=1.0)
    split.prepare(44_100, audio.shape[0], max_block)
    got = run_stream(split, audio, [c for c in cuts if c < audio.shape[1]])
    np.testing.assert_array_equal(got, expected)
    split.reset()  # and a reset stream starts over exactly
    np.testing.assert_array_equal(split.process(audio), expected)


def test_set_param_changes_the_ceiling_between_blocks(rng: np.random.Generator) -> None:
    audio = hostile_signals(48_000, 0.4, rng)["clipped_noise"]
    lim = TruePeakLimiter(ceiling_dbtp=-1.0)
    lim.prepare(48_000, 2, 4096)
    first = lim.process(audio[:, :9600])
    lim.set_param("ceiling_dbtp", -6.0)
    second = lim.process(audio[:, 9600:])
    assert true_peak_8x(first[:, lim.latency_frames:]) <= -1.0
    # after the lookahead has passed, everything respects the new ceiling
    assert true_peak_8x(second[:, 2 * lim.latency_frames:]) <= -6.0


def test_registered_as_a_device() -> None:
    lim = create_device("true_peak_limiter", {"ceiling_dbtp": -2.0, "lookahead_ms": 3.0})
    assert isinstance(lim, TruePeakLimiter)
    lim.prepare(48_000, 2, 512)
    assert lim.latency_frames == 144 + 32 + 1  # lookahead + detector delay + 1 frame slack
    with pytest.raises(ParameterError, match="ceiling_dbtp"):
        create_device("true_peak_limiter", {"ceiling_dbtp": 1.0})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"ceiling_dbtp": 0.5}, "above 0 dBTP"),
    ({"ceiling_dbtp": float("nan")}, "finite"),
    ({"ceiling_dbtp": -40.0}, "below -30"),
    ({"release_ms": 0.0}, "release_ms"),
    ({"lookahead_ms": 100.0}, "lookahead_ms"),
])
def test_bad_parameters_name_the_fix(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        TruePeakLimiter(**kwargs)


def test_stream_misuse_is_reported() -> None:
    lim = TruePeakLimiter()
    with pytest.raises(ParameterError, match="before prepare"):
        lim.process(np.zeros((2, 8), np.float32))
    lim.prepare(48_000, 2, 64)
    with pytest.raises(ParameterError, match="prepared for 2"):
        lim.process(np.zeros((1, 8), np.float32))
    with pytest.raises(ParameterError, match="cannot change during a stream"):
        lim.set_param("lookahead_ms", 2.0)
    with pytest.raises(ParameterError, match="no parameter 'gain_db'"):
        lim.set_param("gain_db", 2.0)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 9599), max_size=10),
       max_block=st.sampled_from([3, 64, 100, 4096]))
def test_bursts_and_silences_split_anywhere_are_bit_identical(cuts: list[int],
                                                              max_block: int) -> None:
    # quiet stretches take the detector's skip paths (idle and releasing): they must give
    # the same samples as the full computation, wherever the blocks start
    rng = np.random.default_rng(3)
    env = np.repeat([0.01, 2.0, 0.001, 0.0, 1.5, 0.02], 1600)
    audio = (rng.normal(0, 1, (2, env.size)) * env).astype(np.float32)
    whole = TruePeakLimiter(ceiling_dbtp=-1.0, release_ms=5.0, lookahead_ms=1.0)
    whole.prepare(48_000, 2, 9600)
    expected = whole.process(audio)
    split = TruePeakLimiter(ceiling_dbtp=-1.0, release_ms=5.0, lookahead_ms=1.0)
    split.prepare(48_000, 2, max_block)
    np.testing.assert_array_equal(run_stream(split, audio, cuts), expected)


def test_skipping_quiet_stretches_changes_no_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    import mixdown.dsp.true_peak as limiter_module

    rng = np.random.default_rng(4)
    env = np.repeat([0.01, 2.0, 0.001, 0.0, 1.5, 0.02, 0.3], 2400)
    audio = (rng.normal(0, 1, (2, env.size)) * env).astype(np.float32)
    gated, gr = limit(audio, 48_000, release_ms=10.0, block_frames=1000)
    monkeypatch.setattr(limiter_module, "_GATE", math.inf)  # never skip: the full path
    full, gr_full = limit(audio, 48_000, release_ms=10.0, block_frames=1000)
    np.testing.assert_array_equal(gated, full)
    assert gr == gr_full > 6.0


def test_detector_reading_does_not_depend_on_block_size() -> None:
    # the detector filters runs of loud chunks in spans: any block size, spans cut or whole,
    # gives the same reading, at or above an independent 8x oversampler's
    from mixdown.dsp.true_peak import SPAN_FRAMES, TruePeakDetector

    rng = np.random.default_rng(6)
    env = np.repeat([0.2, 0.0, 1.1, 0.01, 0.9], 2 * SPAN_FRAMES + 37)
    t = np.arange(env.size) / 48_000
    tone = np.sin(2 * np.pi * 21_000 * t + 0.3)
    audio = np.stack([rng.normal(0, 0.3, env.size) * env, tone * env]).astype(np.float32)
    readings = set()
    for block in (1, 63, 1000, SPAN_FRAMES + 1, 65_536):
        det = TruePeakDetector(48_000, 2, block_frames=block)
        for start in range(0, audio.shape[1], 4099):
            det.push(audio[:, start:start + 4099])
        readings.add(det.true_peak_dbtp())
    assert len(readings) == 1
    assert readings.pop() >= true_peak_8x(audio) - 0.01


def test_annex2_table_matches_the_analyser() -> None:
    # dsp keeps its own copy of the BS.1770-4 Annex 2 filter (it does not import analysis)
    from mixdown.analysis.truepeak import BS1770_TAPS
    from mixdown.dsp.true_peak import BS1770_ANNEX2_TAPS

    np.testing.assert_array_equal(BS1770_ANNEX2_TAPS, BS1770_TAPS)


def test_mastering_reexports_the_dsp_limiter() -> None:
    import mixdown.dsp.true_peak as dsp_limiter
    import mixdown.mastering.limiter as mastering_limiter

    for name in ("TruePeakLimiter", "TruePeakDetector", "limit", "limit_stream",
                 "DETECTOR_MARGIN_DB"):
        assert getattr(mastering_limiter, name) is getattr(dsp_limiter, name)
