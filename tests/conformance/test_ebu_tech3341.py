"""EBU Tech 3341 ('EBU Mode' metering) test cases, generated from their definitions.

Cases 1-6 and 9 are stereo (case 6: 5.0/5.1) 1 kHz sines at the levels and durations the
test-signal table prescribes; 15-19 are the true-peak sines. Cases 13 and 14 (maximum
momentary loudness of tone bursts) and the short-term burst cases 10-12 check that the
maxima are found wherever a burst starts; the EBU files are not redistributable, so the
bursts are generated here: 400 ms (momentary) and 3 s (short-term) bursts of a 1 kHz sine
starting at 20 different offsets against a 100 ms grid, the hardest form of that check.
Tolerances are the published ones: +-0.1 LU, true peak +0.2/-0.4 dB.
"""

from __future__ import annotations

import numpy as np
import pytest

from mixdown.analysis import Analyzer, LoudnessMeter, TruePeakMeter

LU_TOL = 0.1  # Tech 3341 Table 1: +-0.1 LU
TP_HIGH, TP_LOW = 0.2, 0.4  # Tech 3341 Table 1: true peak +0.2 / -0.4 dB
SR = 48_000


def sine(level_dbfs: float, seconds: float, sr: int = SR, freq: float = 1000.0,
         start_s: float = 0.0) -> np.ndarray:
    t = start_s + np.arange(round(seconds * sr)) / sr
    return (10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def sequence(parts: list[tuple[float, float]], sr: int = SR) -> np.ndarray:
    """Stereo: consecutive (level dBFS, seconds) segments of one continuous 1 kHz sine."""
    out, start = [], 0.0
    for level, seconds in parts:
        out.append(sine(level, seconds, sr, start_s=start))
        start += round(seconds * sr) / sr
    x = np.concatenate(out)
    return np.stack([x, x])


def measure(x: np.ndarray, sr: int = SR) -> LoudnessMeter:
    meter = LoudnessMeter(sr, x.shape[0])
    meter.push(x)
    return meter


@pytest.mark.parametrize("sr", [44_100, 48_000, 96_000])
def test_case_1_sine_minus_23_dbfs_reads_minus_23_everywhere(sr: int) -> None:
    m = measure(sequence([(-23.0, 20.0)], sr), sr)
    assert m.integrated_lufs() == pytest.approx(-23.0, abs=LU_TOL)
    assert m.max_momentary_lufs() == pytest.approx(-23.0, abs=LU_TOL)
    assert m.max_short_term_lufs() == pytest.approx(-23.0, abs=LU_TOL)


def test_case_2_sine_minus_33_dbfs() -> None:
    m = measure(sequence([(-33.0, 20.0)]))
    assert m.integrated_lufs() == pytest.approx(-33.0, abs=LU_TOL)
    assert m.max_momentary_lufs() == pytest.approx(-33.0, abs=LU_TOL)
    assert m.max_short_term_lufs() == pytest.approx(-33.0, abs=LU_TOL)


def test_case_3_relative_gate_removes_the_minus_36_parts() -> None:
    m = measure(sequence([(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)]))
    assert m.integrated_lufs() == pytest.approx(-23.0, abs=LU_TOL)


def test_case_4_both_gates() -> None:
    m = measure(sequence([(-72.0, 10.0), (-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0),
                          (-72.0, 10.0)]))
    assert m.integrated_lufs() == pytest.approx(-23.0, abs=LU_TOL)


def test_case_5_levels_above_and_below() -> None:
    m = measure(sequence([(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)]))
    assert m.integrated_lufs() == pytest.approx(-23.0, abs=LU_TOL)


def _five_channel(sr: int = SR) -> np.ndarray:
    # L, R -28 dBFS; C -24 dBFS; Ls, Rs -30 dBFS (weighted 1.41)
    return np.stack([sine(-28.0, 20.0, sr), sine(-28.0, 20.0, sr), sine(-24.0, 20.0, sr),
                     sine(-30.0, 20.0, sr), sine(-30.0, 20.0, sr)])


def test_case_6_five_channels() -> None:
    assert measure(_five_channel()).integrated_lufs() == pytest.approx(-23.0, abs=LU_TOL)


def test_case_6_six_channels_ignores_the_lfe() -> None:
    five = _five_channel()
    lfe = sine(-6.0, 20.0, freq=60.0)  # loud, and excluded from the sum
    six = np.stack([five[0], five[1], five[2], lfe, five[3], five[4]])
    assert measure(six).integrated_lufs() == pytest.approx(-23.0, abs=LU_TOL)


def test_case_9_short_term_constant_over_alternating_levels() -> None:
    # 1.34 s at -20 dBFS, 1.66 s at -30 dBFS, repeated: every 3 s window reads -23.0
    parts = [(-20.0, 1.34), (-30.0, 1.66)] * 7
    meter = LoudnessMeter(SR, 2, series=True)
    meter.push(sequence(parts))
    s = meter.short_term_series()
    steady = s[s[:, 0] >= 3.0, 1]
    assert len(steady) > 1000
    np.testing.assert_allclose(steady, -23.0, atol=LU_TOL)


def _bursts(seconds: float, level: float, offsets_s: list[float], gap_s: float) -> np.ndarray:
    """Stereo: one 1 kHz burst per offset, each in its own slot of silence."""
    slot = round((seconds + gap_s) * SR)
    x = np.zeros(slot * len(offsets_s) + SR, np.float32)
    for k, off in enumerate(offsets_s):
        start = k * slot + round(off * SR)
        x[start : start + round(seconds * SR)] = sine(level, seconds)
    return np.stack([x, x])


OFFSETS = [k * 0.005 + 0.0007 for k in range(20)]  # 20 starts across a 100 ms grid step


@pytest.mark.parametrize("offset", OFFSETS)
def test_case_13_momentary_max_of_a_400_ms_burst(offset: float) -> None:
    m = measure(_bursts(0.4, -23.0, [0.5 + offset], 1.0))
    assert m.max_momentary_lufs() == pytest.approx(-23.0, abs=LU_TOL)


def test_case_14_momentary_max_over_rising_bursts() -> None:
    # 20 bursts rising from -38 to -19 dBFS, each starting somewhere else on the grid
    slot = 1.5
    x = np.zeros(round(slot * 20 * SR) + SR, np.float32)
    for k in range(20):
        start = round((k * slot + 0.3 + OFFSETS[k]) * SR)
        x[start : start + round(0.4 * SR)] = sine(-38.0 + k, 0.4)
    m = measure(np.stack([x, x]))
    assert m.max_momentary_lufs() == pytest.approx(-19.0, abs=LU_TOL)


@pytest.mark.parametrize("offset", OFFSETS[::4])
def test_cases_10_to_12_short_term_max_of_a_3_s_burst(offset: float) -> None:
    m = measure(_bursts(3.0, -23.0, [0.5 + offset], 1.0))
    assert m.max_short_term_lufs() == pytest.approx(-23.0, abs=LU_TOL)


def _tp_sine(fraction_of_fs: float, phase_deg: float, peak_dbtp: float) -> np.ndarray:
    # 20 ms raised-cosine fades: a sine that jumps out of silence really does overshoot
    # between samples (the meter takes the audio as zero outside the file), and the case
    # is about the steady tone
    n = np.arange(SR)
    x = 10 ** (peak_dbtp / 20) * np.sin(2 * np.pi * fraction_of_fs * n + np.radians(phase_deg))
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(960) / 960)
    x[:960] *= ramp
    x[-960:] *= ramp[::-1]
    return np.stack([x, x]).astype(np.float32)


@pytest.mark.parametrize(("case", "fraction", "phase", "peak"), [
    (15, 1 / 4, 0.0, -6.0),   # fs/4, samples on the peaks
    (16, 1 / 4, 45.0, -6.0),  # fs/4, samples 3 dB below the peaks
    (17, 1 / 6, 60.0, -6.0),
    (18, 1 / 8, 67.5, -6.0),
    (19, 1 / 4, 45.0, 3.0),   # samples at 0 dBFS, the wave at +3 dBTP
])
def test_cases_15_to_19_true_peak(case: int, fraction: float, phase: float,
                                  peak: float) -> None:
    meter = TruePeakMeter(SR, 2)
    meter.push(_tp_sine(fraction, phase, peak))
    assert peak - TP_LOW <= meter.true_peak_dbtp() <= peak + TP_HIGH, f"case {case}"


def test_case_19_is_reported_as_an_inter_sample_over() -> None:
    qc = Analyzer(SR, 2)
    qc.push(_tp_sine(1 / 4, 45.0, 3.0))
    assert any("true peak +" in w for w in qc.result().warnings)
