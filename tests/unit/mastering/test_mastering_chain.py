"""The pre-limiter chain: bells exact at their centre, crossovers that sum flat, width by
mid/side, glue compression that compresses, no latency, any block split."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixdown.core.errors import ParameterError
from mixdown.mastering.chain import Bell, ChainSpec, GlueSpec, MasterChain, MultibandSpec

SR = 48_000
FLAT_TOL_DB = 1e-3  # LR4 low + mid + high sum to an all-pass: flat to float precision


def impulse_response(spec: ChainSpec, n: int = SR) -> np.ndarray:
    x = np.zeros((2, n), np.float32)
    x[:, 0] = 1.0
    chain = MasterChain(spec)
    chain.prepare(SR, 2, n)
    return chain.process(x)


def magnitude_db(h: np.ndarray, freq_hz: float) -> float:
    spectrum = np.fft.rfft(h.astype(np.float64))
    return float(20 * np.log10(np.abs(spectrum[round(freq_hz * h.size / SR)])))


def test_identity_chain_passes_the_signal(rng: np.random.Generator) -> None:
    x = rng.normal(0, 0.2, (2, 4800)).astype(np.float32)
    chain = MasterChain(ChainSpec())
    chain.prepare(SR, 2, 4800)
    np.testing.assert_array_equal(chain.process(x), x)
    assert ChainSpec().is_identity


@pytest.mark.parametrize(("freq", "gain"), [(100.0, 4.0), (1000.0, -6.0), (8000.0, 3.0)])
def test_bell_gain_is_exact_at_its_centre(freq: float, gain: float) -> None:
    h = impulse_response(ChainSpec(bells=(Bell(freq, gain, 1.0),)))[0]
    assert magnitude_db(h, freq) == pytest.approx(gain, abs=0.01)
    assert magnitude_db(h, freq * 8 if freq < 3000 else freq / 8) == pytest.approx(0.0, abs=0.5)


def test_highpass_is_minus_3_db_at_its_cutoff() -> None:
    h = impulse_response(ChainSpec(highpass_hz=30.0))[0]
    assert magnitude_db(h, 30.0) == pytest.approx(-3.01, abs=0.05)
    assert magnitude_db(h, 1000.0) == pytest.approx(0.0, abs=0.01)


def test_multiband_crossovers_sum_flat() -> None:
    # thresholds at 0 dBFS: nothing is compressed, so only the band split is heard
    spec = ChainSpec(multiband=MultibandSpec(thresholds_db=(0.0, 0.0, 0.0)))
    h = impulse_response(spec)[0]
    mags = 20 * np.log10(np.abs(np.fft.rfft(h.astype(np.float64))))
    assert np.max(np.abs(mags[20:-1])) < FLAT_TOL_DB


def test_width_zero_is_mono_and_two_doubles_the_side() -> None:
    x = np.stack([np.full(100, 0.6), np.full(100, 0.2)]).astype(np.float32)
    for width, side in ((0.0, 0.0), (1.0, 0.2), (2.0, 0.4)):
        chain = MasterChain(ChainSpec(width=width))
        chain.prepare(SR, 2, 100)
        y = chain.process(x)
        assert (y[0, 0] + y[1, 0]) / 2 == pytest.approx(0.4)  # the mid is kept
        assert (y[0, 0] - y[1, 0]) / 2 == pytest.approx(side)


def test_glue_compresses_loud_passages_by_its_ratio() -> None:
    # a steady tone 12 dB over the threshold, ratio 2: 6 dB of reduction once settled
    t = np.arange(SR) / SR
    x = np.repeat((0.5 * np.sin(2 * np.pi * 200 * t))[None], 2, 0).astype(np.float32)
    rms_db = 20 * np.log10(0.5 / np.sqrt(2))
    spec = ChainSpec(glue=GlueSpec(threshold_db=rms_db - 12.0, ratio=2.0, knee_db=0.0))
    chain = MasterChain(spec)
    chain.prepare(SR, 2, SR)
    y = chain.process(x)
    gain_db = 20 * np.log10(np.abs(y[0, -4800:]).max() / 0.5)
    assert gain_db == pytest.approx(-6.0, abs=0.3)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 4799), max_size=8))
def test_chain_is_block_split_invariant(cuts: list[int]) -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(0, 0.3, (2, 4800)).astype(np.float32)
    spec = ChainSpec(highpass_hz=25.0, low_shelf_db=2.0, bells=(Bell(3000.0, -2.0, 2.0),),
                     glue=GlueSpec(threshold_db=-20.0), multiband=MultibandSpec(), width=1.3)
    whole = MasterChain(spec)
    whole.prepare(SR, 2, 4800)
    expected = whole.process(x)
    split = MasterChain(spec)
    split.prepare(SR, 2, 4800)
    edges = [0, *sorted(set(cuts)), 4800]
    got = np.concatenate([split.process(x[:, a:b]) for a, b in itertools.pairwise(edges)], axis=1)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"width": 3.0}, "width"), ({"highpass_hz": 500.0}, "highpass_hz"),
    ({"bells": (Bell(1000.0, 20.0),)}, "out of range"),
    ({"multiband": MultibandSpec(crossovers_hz=(3000.0, 200.0))}, "crossovers"),
])
def test_bad_specs(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        ChainSpec(**kwargs)  # type: ignore[arg-type]
