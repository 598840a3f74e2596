"""The "fm" instrument: Bessel sidebands, pure sine at index 0, algorithms, invariance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import jv

from mixdown.dsp.base import Instrument, NoteEvent, create_device
from mixdown.dsp.instruments._voice import render_notes
from mixdown.dsp.instruments.fm import FM

SR = 48_000
FC = 1000.0  # carrier; with the window below every component falls on an exact bin
BESSEL_TOL = 2e-4  # amplitude error allowed against J_k(I): sine-table error is ~3e-7
PURE_DB = -100.0  # a sine table with linear interpolation is ~-130 dB clean


def pitch_of(hz: float) -> float:
    return 69.0 + 12.0 * math.log2(hz / 440.0)


def steady(**over: object) -> FM:
    """Operators with instant attack and full sustain, unity gain, no velocity effects."""
    params: dict[str, object] = {"gain_db": 0.0, "velocity_sens": 0.0,
                                 "velocity_to_index": 0.0, "feedback": 0.0}
    for j in range(1, 5):
        params.update({f"op{j}_attack_s": 0.0, f"op{j}_decay_s": 0.0, f"op{j}_sustain": 1.0})
    params.update(over)
    return create_device("fm", params, kind="instrument")


def spectrum(fm: FM, velocity: int = 127) -> np.ndarray:
    """Amplitudes per 1 Hz bin of one steady second (rectangular window, exact bins)."""
    out = render_notes(fm, [NoteEvent(0, 2 * SR, pitch_of(FC), velocity)], 2 * SR)
    seg = out[0, SR:].astype(np.float64)
    return 2 * np.abs(np.fft.rfft(seg)) / seg.size


def test_fm_is_an_instrument() -> None:
    assert isinstance(create_device("fm"), Instrument)


def test_index_zero_gives_a_pure_sine() -> None:
    spec = spectrum(steady(op2_level=0.0))
    assert spec[int(FC)] == pytest.approx(1.0, abs=1e-5)
    others = np.delete(spec, int(FC))
    assert 20 * np.log10(others.max()) < PURE_DB


def bessel_line(f: float, fm_hz: float, index: float) -> float:
    """Amplitude at ``f`` > 0 of sin(wc t + I sin(wm t)) = sum_k J_k(I) sin((wc + k wm) t).

    Components below 0 Hz fold onto +|f| with their sign flipped (sin(-x) = -sin(x)).
    """
    k = np.arange(-80, 81)
    lines = FC + k * fm_hz
    amps = jv(k, index)
    return float(abs(amps[np.isclose(lines, f)].sum() - amps[np.isclose(lines, -f)].sum()))


@pytest.mark.parametrize("index", [0.5, 1.0, 2.4])
@pytest.mark.parametrize("ratio", [0.1, 0.25])
def test_sidebands_at_fc_plus_k_fm_have_bessel_amplitudes(index: float, ratio: float) -> None:
    fm_hz = ratio * FC
    spec = spectrum(steady(op2_ratio=ratio, op2_level=index))
    for k in range(-3, 4):
        f = FC + k * fm_hz
        assert spec[round(f)] == pytest.approx(bessel_line(f, fm_hz, index), abs=BESSEL_TOL), k
    # and nothing between the sidebands
    lines = {round(abs(FC + k * fm_hz)) for k in range(-40, 41)}
    between = np.delete(spec[: 3 * int(FC)], [f for f in lines if f < 3 * FC])
    assert between.max() < 1e-4


def test_velocity_scales_the_modulation_index() -> None:
    index, velocity = 2.0, 64
    spec = spectrum(steady(op2_ratio=0.25, op2_level=index, velocity_to_index=1.0), velocity)
    effective = index * velocity / 127
    assert spec[int(FC + 250)] == pytest.approx(bessel_line(FC + 250, 250, effective),
                                                abs=BESSEL_TOL)


def test_pairs_algorithm_sums_two_carriers() -> None:
    fm = steady(algorithm="pairs", op1_level=0.6, op2_level=0.0, op3_ratio=3.0,
                op3_level=0.3, op4_level=0.0)
    spec = spectrum(fm)
    assert spec[int(FC)] == pytest.approx(0.6, abs=1e-5)
    assert spec[int(3 * FC)] == pytest.approx(0.3, abs=1e-5)


def test_stack_algorithm_chains_modulators() -> None:
    # op3 -> op2 -> op1: with op3 at index 0 the stack is plain 2-operator FM
    fm = steady(algorithm="stack", op2_ratio=0.25, op2_level=1.0, op3_level=0.0,
                op4_level=0.0)
    spec = spectrum(fm)
    assert spec[int(FC + 250)] == pytest.approx(bessel_line(FC + 250, 250, 1.0),
                                                abs=BESSEL_TOL)
    # a non-zero op3 modulates op2, which changes the sidebands
    spec3 = spectrum(steady(algorithm="stack", op2_ratio=0.25, op2_level=1.0, op3_level=1.0,
                            op4_level=0.0))
    assert abs(spec3[int(FC + 250)] - jv(1, 1.0)) > 0.01


def test_feedback_adds_harmonics_of_the_fed_back_operator_only() -> None:
    def harmonics(feedback: float) -> np.ndarray:
        fm = steady(algorithm="additive", op1_level=0.0, op2_level=0.0, op3_level=0.0,
                    op4_level=1.0, feedback=feedback)
        return spectrum(fm)

    pure, light, heavy = harmonics(0.0), harmonics(0.3), harmonics(1.0)
    assert pure[int(2 * FC)] < 1e-5
    assert 1e-3 < light[int(2 * FC)] < heavy[int(2 * FC)]  # more feedback, brighter
    off_harmonic = np.delete(heavy[: 10 * int(FC)], np.arange(0, 10 * int(FC), int(FC)))
    assert off_harmonic.max() < 1e-4  # self-modulation keeps the tone periodic


def test_note_starts_at_its_frame_and_ends_after_its_release() -> None:
    release = 0.05
    start, end = 1001, 5000
    fm = steady(op1_release_s=release, op2_level=1.5)
    out = render_notes(fm, [NoteEvent(start, end, 60, 100)], 12_000, block_frames=1000)
    assert not out[:, :start].any()
    assert np.all(out[:, start] != 0.0)
    silent = end + round(release * SR) + 1
    assert np.abs(out[:, silent - 200: silent]).max() > 0.0
    assert not out[:, silent:].any()


def test_a_decaying_modulator_leaves_a_pure_carrier() -> None:
    fm = steady(op2_ratio=0.25, op2_level=2.0, op2_decay_s=0.2, op2_sustain=0.0)
    spec = spectrum(fm)  # the measured second starts 1 s in: the modulator is silent
    assert spec[int(FC)] == pytest.approx(1.0, abs=1e-5)
    assert spec[int(FC + 250)] < 1e-5


NOTES = [NoteEvent(10, 7000, 60, 110), NoteEvent(10, 7000, 67, 80),
         NoteEvent(4000, 4001, 72, 127), NoteEvent(6500, 15_000, 36, 100)]
INVARIANCE_FRAMES = 16_000


@pytest.mark.parametrize("params", [
    {"preset": "epiano"},
    {"preset": "bass"},
    {"preset": "bell", "polyphony": 2, "feedback": 0.7},
    {"preset": "organ"},
])
@settings(max_examples=25, deadline=None)
@given(splits=st.lists(st.integers(1, INVARIANCE_FRAMES - 1), max_size=12))
def test_render_is_bit_identical_for_any_block_split(params: dict[str, object],
                                                     splits: list[int]) -> None:
    whole = render_notes(create_device("fm", params), NOTES, INVARIANCE_FRAMES,
                         block_frames=INVARIANCE_FRAMES)
    split = render_notes(create_device("fm", params), NOTES, INVARIANCE_FRAMES, splits=splits)
    np.testing.assert_array_equal(whole, split)
