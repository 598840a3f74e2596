"""QC analyzer: DC, clipping, phase, crest, spectrum, JSON shape, streaming."""

from __future__ import annotations

import json
import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixdown.analysis.qc import Analyzer, analyze_array
from mixdown.cli.output import to_jsonable
from mixdown.core.errors import ParameterError

ISSUE_KEYS = {"sample_rate", "channels", "duration_s", "integrated_lufs", "loudness_range_lu",
              "true_peak_dbtp", "sample_peak_dbfs", "max_momentary_lufs", "max_short_term_lufs",
              "plr_db", "dc_offset", "clipped_samples", "correlation", "warnings"}
DC_TOL = 1e-6  # float32 input summed in float64
SPECTRUM_TOL_DB = 0.2  # a sine in the middle of its 1/3-octave band, Hann window


def test_dc_offset_is_the_channel_mean_and_warned(tone) -> None:
    x = tone(-20.0, 2.0)
    x[0] += 0.01
    x[1] -= 0.002
    r = analyze_array(x, 48_000)
    assert r.dc_offset[0] == pytest.approx(0.01, abs=DC_TOL)
    assert r.dc_offset[1] == pytest.approx(-0.002, abs=DC_TOL)
    assert sum("DC offset" in w for w in r.warnings) == 2


def _runs_at_full_scale(x: np.ndarray, level: float, min_run: int) -> tuple[int, int]:
    samples = runs = 0
    for ch in np.abs(x) >= level:
        padded = np.concatenate([[False], ch, [False]]).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        lengths = edges[1::2] - edges[::2]
        long = lengths[lengths >= min_run]
        samples += int(long.sum())
        runs += len(long)
    return samples, runs


def test_clipped_samples_count_the_flattened_tops(tone) -> None:
    x = np.clip(tone(6.0, 1.0, freq=100.0), -1.0, 1.0)  # a sine 6 dB over, hard clipped
    r = analyze_array(x, 48_000)
    samples, runs = _runs_at_full_scale(x, 32767 / 32768, 2)
    assert r.clipped_samples == samples > 0
    assert r.clip_runs == runs == 2 * 2 * 100  # 2 tops per cycle, 100 cycles, 2 channels
    assert any("clipping" in w for w in r.warnings)


def test_a_single_full_scale_sample_is_not_clipping() -> None:
    x = np.zeros((1, 48_000), np.float32)
    x[0, 100] = 1.0
    assert analyze_array(x, 48_000).clipped_samples == 0


@pytest.mark.parametrize(("right_gain", "correlation", "width"),
                         [(1.0, 1.0, 0.0), (-1.0, -1.0, 1.0)])
def test_correlation_and_width_of_mono_and_inverted(tone, right_gain: float, correlation: float,
                                                    width: float) -> None:
    x = tone(-20.0, 1.0)
    x[1] *= right_gain
    r = analyze_array(x, 48_000)
    assert r.correlation == pytest.approx(correlation, abs=1e-6)
    assert r.width == pytest.approx(width, abs=1e-6)
    assert any("negative phase" in w for w in r.warnings) == (correlation < 0)


def test_unrelated_channels_have_zero_correlation_and_half_width(noise) -> None:
    r = analyze_array(noise(4.0), 48_000)
    assert r.correlation == pytest.approx(0.0, abs=0.01)
    assert r.width == pytest.approx(0.5, abs=0.01)


def test_correlation_is_null_for_mono_and_surround(tone) -> None:
    assert analyze_array(tone(-20.0, 1.0, channels=1), 48_000).correlation is None
    assert analyze_array(tone(-20.0, 1.0, channels=6), 48_000).correlation is None


def test_sine_crest_factor_is_3_db(tone) -> None:
    r = analyze_array(tone(0.0, 1.0), 48_000)
    assert r.rms_dbfs == pytest.approx(-3.0103, abs=1e-3)
    assert r.crest_factor_db == pytest.approx(3.0103, abs=1e-3)


@pytest.mark.parametrize("sample_rate", [8_000, 48_000, 192_000])
def test_third_octave_band_holds_the_sine_level(tone, sample_rate: int) -> None:
    r = analyze_array(tone(-20.0, 2.0, sample_rate, freq=1000.0), sample_rate)
    bands = dict(zip(r.spectrum_hz, r.spectrum_db, strict=True))
    assert bands[1000.0] == pytest.approx(-20.0, abs=SPECTRUM_TOL_DB)
    assert bands[500.0] < -80.0 and bands[2000.0] < -80.0  # Hann sidelobes fall fast
    assert max(r.spectrum_hz) <= sample_rate / 2


def test_spectrum_of_audio_shorter_than_one_frame(tone) -> None:
    r = analyze_array(tone(-10.0, 0.1, freq=1000.0), 48_000)
    bands = dict(zip(r.spectrum_hz, r.spectrum_db, strict=True))
    assert bands[1000.0] == pytest.approx(-10.0, abs=0.5)


def test_surround_layouts_and_unknown_counts(tone) -> None:
    r = analyze_array(tone(-20.0, 1.0, channels=3), 48_000)
    assert any("3 channels" in w for w in r.warnings)
    six = analyze_array(tone(-20.0, 1.0, channels=6), 48_000)
    assert not any("channels" in w for w in six.warnings)


def test_silence_is_flagged_and_serialises_as_null() -> None:
    r = analyze_array(np.zeros((2, 48_000 * 4), np.float32), 48_000)
    assert r.integrated_lufs == -math.inf and r.true_peak_dbtp == -math.inf
    assert any("silence" in w for w in r.warnings)
    text = json.dumps(to_jsonable(r.as_dict()), allow_nan=False)
    d = json.loads(text)
    assert d["integrated_lufs"] is None and d["plr_db"] is None and d["true_peak_dbtp"] is None
    assert r.summary() == "-inf LUFS, LRA 0.0 LU, -inf dBTP"


def test_too_short_for_a_gating_block_is_flagged(tone) -> None:
    r = analyze_array(tone(-20.0, 0.2), 48_000)
    assert r.integrated_lufs == -math.inf
    assert any("400 ms" in w for w in r.warnings)
    assert r.true_peak_dbtp == pytest.approx(-20.0, abs=0.05)


def test_as_dict_has_the_issue_keys_and_series_on_request(tone) -> None:
    x = tone(-14.0, 3.5)
    plain = analyze_array(x, 48_000).as_dict()
    assert plain.keys() >= ISSUE_KEYS
    assert "momentary" not in plain and "file" not in plain
    assert isinstance(plain["clipped_samples"], int)
    assert isinstance(plain["dc_offset"], list) and len(plain["dc_offset"]) == 2
    with_series = analyze_array(x, 48_000, series=True).as_dict()
    first = with_series["momentary"][0]
    assert first[0] == pytest.approx(0.4) and first[1] == pytest.approx(-14.0, abs=0.1)
    assert with_series["short_term"][-1][0] == pytest.approx(3.5)
    assert plain["plr_db"] == pytest.approx(plain["true_peak_dbtp"] - plain["integrated_lufs"])


def test_summary_line(tone) -> None:
    r = analyze_array(tone(-14.0, 4.0), 48_000)
    assert r.summary() == "-14.0 LUFS, LRA 0.0 LU, -14.0 dBTP"


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 10**7), max_size=8))
def test_every_qc_figure_is_identical_for_any_block_split(cuts: list[int]) -> None:
    rng = np.random.default_rng(11)
    n = 48_000 * 4 + 123
    x = (rng.standard_normal((2, n)) * 0.2).astype(np.float32)
    x[0, 5000:5010] = 1.0
    whole = analyze_array(x, 48_000, series=True)
    parts = Analyzer(48_000, 2, series=True)
    points = sorted({c % n for c in cuts if c % n > 0})
    for a, b in zip([0, *points], [*points, n], strict=True):
        parts.push(x[:, a:b])
    split = parts.result()
    assert split == whole  # every scalar figure, the warnings and the spectrum
    for name in ("momentary", "short_term", "waveform", "true_peak_envelope"):
        np.testing.assert_array_equal(getattr(split, name), getattr(whole, name))


def test_memory_is_flat_in_length() -> None:
    # 20 vs 5 minutes of 8 kHz audio: what grows is one float per 100 ms (gating blocks)
    block = (np.random.default_rng(1).standard_normal((1, 8_000)) * 0.1).astype(np.float32)

    def peak_bytes(minutes: int) -> int:
        analyzer = Analyzer(8_000, 1)
        tracemalloc.start()
        for _ in range(minutes * 60):
            analyzer.push(block)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak

    short, long = peak_bytes(5), peak_bytes(20)
    per_hour_of_blocks = 2 * 36_000 * 8 * 2  # two block lists, float64, growth slack x2
    assert long - short < per_hour_of_blocks * 0.25 + 100_000


def test_analyzer_refuses_wrong_channel_count() -> None:
    with pytest.raises(ParameterError, match="3 channels but the meter was made for 2"):
        Analyzer(48_000, 2).push(np.zeros((3, 10), np.float32))
