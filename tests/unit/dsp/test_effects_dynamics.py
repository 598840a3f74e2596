"""Compressor, gate and limiter: static curves, time constants, ceilings, sidechain."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixdown.core.errors import ParameterError
from mixdown.dsp.effects.dynamics import Compressor, Gate, Limiter, _fast_exp2, _fast_ln

SR = 48_000
HYP = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
# A steady sine's peak detector droops by the release between peaks (1 kHz, 200 ms release:
# 0.25 % of the gain reduction per half period), so the static curve holds to 0.1 dB.
CURVE_DB_TOL = 0.1
# The compressor's inlined ln / exp2 replace libm's; their error must stay far below the
# 1e-6 dB the gain computer and the gain may be off by (a thousandth of it).
APPROX_DB_TOL = 1e-9


def db(x: float) -> float:
    return 20 * math.log10(x)


@pytest.mark.parametrize("level_db", [-30.0, -21.0, -18.0, -6.0])
def test_compressor_static_curve_peak(stream, sine, level_db):
    # below the knee, the knee's lower half, its upper half, far above: thr -20, knee 6
    comp = Compressor(threshold_db=-20.0, ratio=4.0, knee_db=6.0, attack_ms=5.0,
                      release_ms=200.0, makeup_db=2.0)
    x = sine(1000.0, 1.0, amp=10 ** (level_db / 20))
    y = stream(comp, x)[0, -4800:]  # the last 100 ms, long after the attack settled
    assert db(np.abs(y).max()) == pytest.approx(comp.static_curve_db(level_db), abs=CURVE_DB_TOL)


@pytest.mark.parametrize("peak_db", [-12.0, -3.0])
def test_compressor_static_curve_rms(stream, sine, peak_db):
    # the RMS detector sees a sine 3.01 dB below its peak; the gain is the curve's at that level
    comp = Compressor(threshold_db=-24.0, ratio=3.0, knee_db=0.0, attack_ms=5.0,
                      release_ms=300.0, detector="rms")
    x = sine(1000.0, 1.0, amp=10 ** (peak_db / 20))
    y = stream(comp, x)[0, -4800:]
    rms_db = peak_db - 10 * math.log10(2)
    want_gain_db = comp.static_curve_db(rms_db) - rms_db
    assert db(np.abs(y).max()) - peak_db == pytest.approx(want_gain_db, abs=CURVE_DB_TOL)


def test_compressor_attack_time_constant(stream):
    # a DC step to -6.02 dBFS, thr -20, ratio 4, hard knee: 10.49 dB of reduction reached as
    # GR[n] = GR * (1 - a^(n+1)), a = exp(-1 / (attack * fs)): 63.2 % after attack_ms
    attack_ms = 20.0
    comp = Compressor(threshold_db=-20.0, ratio=4.0, knee_db=0.0, attack_ms=attack_ms,
                      release_ms=100.0)
    x = np.full((2, 9600), 0.5, np.float32)
    gr = -20 * np.log10(stream(comp, x)[0] / 0.5)
    full = 0.75 * (db(0.5) + 20.0)
    a = math.exp(-1.0 / (attack_ms * 1e-3 * SR))
    np.testing.assert_allclose(gr, full * (1 - a ** np.arange(1, 9601)), atol=1e-4)
    tau = round(attack_ms * 1e-3 * SR)
    assert gr[tau - 1] / full == pytest.approx(1 - 1 / math.e, abs=1e-3)


def test_compressor_release_time_constant(stream):
    # with attack 0 the release is one exponential: GR after the step down is GR * r^(n+1)
    release_ms = 50.0
    comp = Compressor(threshold_db=-20.0, ratio=4.0, knee_db=0.0, attack_ms=0.0,
                      release_ms=release_ms)
    x = np.concatenate([np.full(4800, 0.5), np.full(9600, 0.01)]).astype(np.float32)[None]
    y = stream(comp, x)[0, 4800:]
    gr = -20 * np.log10(y / 0.01)
    full = 0.75 * (db(0.5) + 20.0)
    r = math.exp(-1.0 / (release_ms * 1e-3 * SR))
    np.testing.assert_allclose(gr, full * r ** np.arange(1, 9601), atol=1e-4)


def test_compressor_release_then_attack_is_two_pole(stream):
    # decoupled detector: the release exponential passes the attack one-pole afterwards
    comp = Compressor(threshold_db=-20.0, ratio=4.0, knee_db=0.0, attack_ms=5.0,
                      release_ms=50.0)
    x = np.concatenate([np.full(24000, 0.5), np.full(9600, 0.01)]).astype(np.float32)[None]
    gr = -20 * np.log10(stream(comp, x)[0, 24000:] / 0.01)
    full = 0.75 * (db(0.5) + 20.0)
    aa = math.exp(-1.0 / (5e-3 * SR))
    ar = math.exp(-1.0 / (50e-3 * SR))
    n = np.arange(1, 9601)
    # closed form of y[n] = aa y[n-1] + (1 - aa) full ar^n, y[0] = full (settled)
    want = full * (aa ** n + (1 - aa) * ar * (ar ** n - aa ** n) / (ar - aa))
    np.testing.assert_allclose(gr, want, atol=1e-3)


def test_sidechain_ducks_a_constant_signal(stream):
    # music at 0.5 constant; the kick (sidechain) at 0.9 for 0.5 s: duck by the static curve
    comp = Compressor(threshold_db=-30.0, ratio=10.0, knee_db=0.0, attack_ms=1.0,
                      release_ms=20.0, sidechain="Kick")
    n = SR
    x = np.full((2, n), 0.5, np.float32)
    sc = np.zeros((2, n), np.float32)
    sc[:, 12000:36000] = 0.9
    y = stream(comp, x, sidechain=sc)
    np.testing.assert_array_equal(y[:, :12000], 0.5)  # no key, no gain change
    ducked = db(0.5) + comp.static_curve_db(db(0.9)) - db(0.9)
    assert db(y[0, 35000]) == pytest.approx(ducked, abs=0.01)
    assert db(y[0, -1]) == pytest.approx(db(0.5), abs=0.01)  # released after 0.25 s


def test_sidechain_highpass_ignores_low_frequencies(stream, sine):
    # a 40 Hz key at -6 dBFS compresses; behind a 500 Hz 12 dB/oct high-pass it hardly does
    x = np.full((1, SR // 2), 0.25, np.float32)
    key = sine(40.0, 0.5, amp=0.5)
    plain = stream(Compressor(threshold_db=-20.0, knee_db=0.0), x, sidechain=key)
    filtered = stream(Compressor(threshold_db=-20.0, knee_db=0.0, sidechain_highpass_hz=500.0),
                      x, sidechain=key)
    assert db(plain[0, -2000:].min() / 0.25) < -8.0
    assert db(filtered[0, -2000:].min() / 0.25) > -0.5


def test_sidechain_must_match_the_block():
    comp = Compressor()
    comp.prepare(SR, 2, 64)
    with pytest.raises(ParameterError, match=r"sidechain must be shaped \(channels, 64\)"):
        comp.process(np.zeros((2, 64), np.float32), np.zeros((2, 32), np.float32))


def test_gate_attenuates_by_range_below_threshold(stream):
    gate = Gate(threshold_db=-40.0, range_db=-60.0, release_ms=10.0, hold_ms=0.0)
    x = np.full((1, SR // 2), 10 ** (-50 / 20), np.float32)
    y = stream(gate, x)
    assert db(y[0, -1] / x[0, -1]) == pytest.approx(-60.0, abs=0.01)


def test_gate_opens_above_threshold_and_holds(stream):
    # a -20 dB burst opens the gate; it stays fully open for hold_ms after, then closes
    hold_ms = 30.0
    gate = Gate(threshold_db=-40.0, range_db=-80.0, attack_ms=0.5, hold_ms=hold_ms,
                release_ms=5.0)
    quiet = 10 ** (-60 / 20)
    x = np.full((1, 24000), quiet, np.float32)
    x[0, 4800:9600] = 0.1
    y = stream(gate, x)[0]
    assert y[9599] == pytest.approx(0.1, rel=1e-4)  # open: unity gain after the attack
    hold = round(hold_ms * 1e-3 * SR)
    np.testing.assert_allclose(y[9600:9600 + hold], quiet, rtol=1e-4)  # held open
    assert y[9600 + hold + 480] < quiet * 0.2  # closing after the hold (100 ms = 20 tau)
    assert db(y[-1] / quiet) == pytest.approx(-80.0, abs=0.01)


def test_limiter_never_exceeds_the_ceiling_on_loud_noise(stream, rng):
    ceiling_db = -1.0
    x = (rng.standard_normal((2, SR)) * 4.0).astype(np.float32)  # peaks near +24 dBFS
    y = stream(Limiter(ceiling_db=ceiling_db, release_ms=50.0), x)
    assert np.abs(y).max() <= np.float32(10 ** (ceiling_db / 20))
    assert np.abs(y).max() > 0.98 * 10 ** (ceiling_db / 20)  # and it does reach it


def test_limiter_is_transparent_below_the_ceiling_with_its_latency(stream, rng):
    lim = Limiter(ceiling_db=-1.0, lookahead_ms=5.0)
    x = (rng.standard_normal((2, 4800)) * 0.1).astype(np.float32)
    x = np.clip(x, -0.8, 0.8)
    y = stream(lim, x)
    lat = lim.latency_frames
    assert lat == 240
    np.testing.assert_array_equal(y[:, lat:], x[:, :-lat])
    np.testing.assert_array_equal(y[:, :lat], 0.0)


def test_limiter_ramps_down_over_the_lookahead(stream):
    # a step from 0.5 to 2.0 with ceiling 0 dBFS: the gain falls linearly to 0.5 over the
    # look-ahead (a moving average of a step), reaching it exactly when the step arrives
    lim = Limiter(ceiling_db=0.0, lookahead_ms=2.0, release_ms=1000.0)
    x = np.concatenate([np.full(1000, 0.5), np.full(1000, 2.0)]).astype(np.float32)[None]
    y = stream(lim, x)[0]
    lat = lim.latency_frames  # 96
    gain = y[lat:lat + 1000] / 0.5
    ramp = gain[1000 - lat - 1:1000]
    np.testing.assert_allclose(np.diff(ramp), -0.5 / (lat + 1), atol=1e-6)
    assert y[lat + 1000] == pytest.approx(1.0, abs=1e-6)


def test_lookahead_is_not_automatable():
    with pytest.raises(ParameterError, match="lookahead_ms cannot be automated"):
        Limiter().set_param("lookahead_ms", 2.0)


def test_fast_ln_matches_libm_over_the_normal_range():
    # normal floats (the detector never passes smaller ones): random, and the reduction's
    # edges: powers of two and sqrt(1/2) times them
    rng = np.random.default_rng(9)
    p = np.ldexp(rng.uniform(1.0, 2.0, 4000), rng.integers(-1022, 1024, 4000))
    edges = np.ldexp(np.array([1.0, math.sqrt(0.5), np.nextafter(math.sqrt(0.5), 0.0),
                               np.nextafter(2.0, 0.0)]), np.arange(-1021, 1024, 7)[:, None])
    p = np.concatenate([p, edges.ravel(), [np.finfo(float).tiny, np.finfo(float).max]])
    err_db = max(abs(_fast_ln(v) - math.log(v)) * 10 / math.log(10) for v in p)
    assert err_db < APPROX_DB_TOL
    assert _fast_ln(1.0) == 0.0


def test_fast_exp2_matches_libm_down_to_its_floor():
    # gains 2 ** t for t in [-1022, 0]: integers and half-integers are the reduction's edges
    rng = np.random.default_rng(10)
    t = np.concatenate([-rng.uniform(0, 1022, 4000), -rng.uniform(0, 1, 1000),
                        -np.arange(0, 1022.5, 0.5)])
    err_db = max(abs(20 * math.log10(_fast_exp2(v) / math.exp2(v))) for v in t)
    assert err_db < APPROX_DB_TOL
    assert _fast_exp2(0.0) == 1.0  # no gain reduction is exactly unity gain
    assert _fast_exp2(-5000.0) == math.exp2(-1022)  # the floor: silence in float32


def test_compressor_rejects_a_ratio_below_one():
    with pytest.raises(ParameterError, match=r"ratio: must be >= 1, got 0\.5"):
        Compressor(ratio=0.5)


@HYP
@given(cuts=st.lists(st.integers(1, 3999), max_size=10))
def test_compressor_is_block_invariant(stream, cuts):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 4000)) * 0.3).astype(np.float32)
    sc = (rng.standard_normal((2, 4000)) * 0.5).astype(np.float32)
    ev = [(1000, "makeup_db", 6.0), (2500, "threshold_db", -30.0),
          (3000, "sidechain_highpass_hz", 200.0)]
    for det in ("peak", "rms"):
        def make(det=det):
            return Compressor(threshold_db=-20.0, detector=det, attack_ms=1.0,
                              sidechain_highpass_hz=80.0)
        whole = stream(make(), x, events=ev, sidechain=sc)
        np.testing.assert_array_equal(stream(make(), x, cuts, ev, sidechain=sc), whole)


@HYP
@given(cuts=st.lists(st.integers(1, 3999), max_size=10))
def test_gate_is_block_invariant(stream, cuts):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((2, 4000)) * np.linspace(0, 0.2, 4000)).astype(np.float32)
    ev = [(2000, "threshold_db", -30.0)]
    whole = stream(Gate(hold_ms=2.0), x, events=ev)
    np.testing.assert_array_equal(stream(Gate(hold_ms=2.0), x, cuts, ev), whole)


@HYP
@given(cuts=st.lists(st.integers(1, 3999), max_size=10),
       ceiling_db=st.floats(-12.0, 0.0), gain=st.floats(0.5, 8.0))
def test_limiter_is_block_invariant_and_holds_the_ceiling(stream, cuts, ceiling_db, gain):
    x = (np.random.default_rng(5).standard_normal((2, 4000)) * gain).astype(np.float32)
    whole = stream(Limiter(ceiling_db=ceiling_db, lookahead_ms=1.0), x)
    split = stream(Limiter(ceiling_db=ceiling_db, lookahead_ms=1.0), x, cuts,
                   [(1500, "release_ms", 20.0)])
    np.testing.assert_array_equal(split[:, :1500], whole[:, :1500])
    whole_ev = stream(Limiter(ceiling_db=ceiling_db, lookahead_ms=1.0), x,
                      events=[(1500, "release_ms", 20.0)])
    np.testing.assert_array_equal(split, whole_ev)
    assert np.abs(split).max() <= np.float32(10 ** (ceiling_db / 20))


class _NeverResting(Compressor):
    def _at_rest(self, block: np.ndarray, key: np.ndarray) -> bool:
        return False


@pytest.mark.parametrize("detector", ["peak", "rms"])
def test_silence_after_the_release_is_skipped_with_the_same_bits(detector: str) -> None:
    # Audio, then long digital silence (the compressor comes to rest and skips blocks), then
    # audio again, against the same compressor that never skips. The make-up glides into
    # the silence, so the skipped blocks must move the glide on.
    rng = np.random.default_rng(5)
    sr = 48_000
    x = np.zeros((2, 6 * sr), np.float32)
    x[:, :sr] = 0.5 * rng.standard_normal((2, sr))
    x[:, 5 * sr:] = 0.5 * rng.standard_normal((2, sr))
    x[1, 3 * sr:3 * sr + 10] = -0.0  # signed zeros pass through unchanged
    block = 4000

    def run(cls: type[Compressor]) -> tuple[np.ndarray, int]:
        comp = cls(threshold_db=-20.0, ratio=4.0, attack_ms=5.0, release_ms=50.0,
                   makeup_db=3.0, detector=detector)
        comp.prepare(sr, 2, block)
        out = x.copy()
        skipped = 0
        for a in range(0, out.shape[1], block):
            if a == sr + 20 * block:
                comp.set_param("makeup_db", 6.0)
            seg = np.ascontiguousarray(out[:, a:a + block])
            if comp._at_rest(seg, seg):
                skipped += 1
            out[:, a:a + block] = comp.process(seg)
        return out, skipped

    reference, none = run(_NeverResting)
    blocks, skipped = run(Compressor)
    assert none == 0
    if detector == "peak":  # at rest in the silence (the RMS mean square never reaches 0)
        assert skipped > 20
    assert blocks.tobytes() == reference.tobytes()
    assert np.signbit(blocks[1, 3 * sr:3 * sr + 10]).all()
    assert np.abs(blocks[:, 5 * sr:]).max() > 0.1
