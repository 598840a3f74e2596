"""Lo-fi devices: quantisation noise, hold images, tape pitch swing, vinyl noises; seeded."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from mixdown.core.units import db_to_gain
from mixdown.dsp.effects.lofi import Bitcrush, Tape, Vinyl, wear_cutoff_hz

SR = 48_000
HYP = settings(max_examples=15, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


def db(x: float) -> float:
    return float(10 * np.log10(x))


# -- bitcrush -------------------------------------------------------------------------------

@pytest.mark.parametrize("dither", [False, True])
@pytest.mark.parametrize("bits", [4.0, 6.5, 8.0, 12.0, 16.0])
def test_quantisation_noise_follows_6_02_dB_per_bit(stream, sine, bits, dither):
    # full-scale sine: SNR = 6.02 bits + 1.76 dB; TPDF dither (+-1 step) triples the noise
    x = sine(997.0, 2.0)
    y = stream(Bitcrush(bits=bits, dither=dither), x)
    e = y[0].astype(np.float64) - x[0]
    snr = db(np.mean(x[0].astype(np.float64) ** 2) / np.mean(e ** 2))
    assert snr == pytest.approx(6.02 * bits + 1.76 - (db(3.0) if dither else 0.0), abs=1.0)


def test_output_is_on_the_step_grid(stream, rng):
    x = (rng.uniform(-1, 1, (2, 4000))).astype(np.float32)
    y = stream(Bitcrush(bits=5.0), x).astype(np.float64)
    np.testing.assert_array_equal(y * 16, np.round(y * 16))
    assert np.abs(y - x).max() <= 1 / 32 + 1e-7


def hold_db(f_hz: float, hold: int) -> float:
    """dB gain of a ``hold``-frame zero-order hold at ``f_hz``."""
    return 20 * np.log10(abs(np.sin(np.pi * f_hz * hold / SR) / (hold * np.sin(np.pi * f_hz / SR))))


def test_held_rate_puts_the_images_where_a_hold_does(stream, sine):
    # 1 kHz held at 8 kHz (6 frames): images at 8k +- 1k and 16k - 1k, each shaped by the
    # hold's sinc relative to the fundamental
    x = sine(1000.0, 1.0, amp=0.5)
    y = stream(Bitcrush(bits=24.0, rate_hz=8000.0), x)[0]
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    level = 20 * np.log10(spec / spec[1000])
    for f in (7000, 9000, 15000, 17000):
        assert level[f] == pytest.approx(hold_db(f, 6) - hold_db(1000, 6), abs=0.1)
    # nothing else: the spectrum between the images is > 100 dB down
    quiet = np.ones(spec.size, bool)
    for f in (1000, 7000, 9000, 15000, 17000, 23000):
        quiet[f - 30:f + 31] = False
    assert level[quiet].max() < -100.0


def test_fractional_hold_rate_images(stream, sine):
    # 7 kHz is not a divisor of 48 kHz: the image of 1 kHz still lands at 7k - 1k
    x = sine(1000.0, 1.0, amp=0.5)
    y = stream(Bitcrush(bits=24.0, rate_hz=7000.0), x)[0]
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    spec[900:1101] = 0.0
    assert abs(int(np.argmax(spec)) - 6000) <= 2


def test_mix_zero_passes_and_dither_is_seeded(stream, rng):
    x = (rng.standard_normal((2, 3000)) * 0.3).astype(np.float32)
    np.testing.assert_array_equal(stream(Bitcrush(bits=3.0, mix=0.0), x), x)
    a = stream(Bitcrush(bits=6.0, dither=True, seed=1), x)
    np.testing.assert_array_equal(stream(Bitcrush(bits=6.0, dither=True, seed=1), x), a)
    assert not np.array_equal(stream(Bitcrush(bits=6.0, dither=True, seed=2), x), a)


@HYP
@given(cuts=st.lists(st.integers(1, 3999), max_size=10))
def test_bitcrush_is_block_invariant(stream, cuts):
    x = (np.random.default_rng(3).standard_normal((2, 4000)) * 0.5).astype(np.float32)
    ev = [(512, "rate_hz", 6100.0), (1280, "bits", 3.5), (2048, "rate_hz", 11025.0),
          (3000, "mix", 0.6)]
    for dither in (False, True):
        whole = stream(Bitcrush(rate_hz=9000.0, dither=dither, seed=5), x, events=ev)
        np.testing.assert_array_equal(
            stream(Bitcrush(rate_hz=9000.0, dither=dither, seed=5), x, cuts, ev), whole)


# -- tape -----------------------------------------------------------------------------------

def pitch_swing_hz(y: np.ndarray) -> float:
    """Peak swing of a tone's instantaneous frequency in Hz, from its RMS (sqrt 2 x RMS)."""
    inst = np.diff(np.unwrap(np.angle(signal.hilbert(y)))) * SR / (2 * np.pi)
    inst = inst[SR // 2:-SR // 2]  # away from the Hilbert transform's edges
    return float(np.sqrt(2.0) * np.std(inst))


@pytest.mark.parametrize(("wow_ms", "wow_hz", "flutter_ms", "flutter_hz"),
                         [(2.0, 1.0, 0.0, 9.0), (4.0, 0.5, 0.0, 9.0), (0.0, 1.0, 0.3, 8.0),
                          (0.0, 1.0, 0.05, 20.0)])
def test_pitch_swing_matches_the_delay_depth(stream, sine, wow_ms, wow_hz, flutter_ms,
                                             flutter_hz):
    # y(t) = x(t - d(t)), d = depth sin(2 pi rate t): the frequency swings f0 2 pi rate depth
    f0 = 1000.0
    dev = Tape(wow_ms=wow_ms, wow_hz=wow_hz, flutter_ms=flutter_ms, flutter_hz=flutter_hz,
               saturation=0.0, head_bump_db=0.0, rolloff_hz=20000.0, seed=3)
    y = stream(dev, sine(f0, 5.0, amp=0.5))[0].astype(np.float64)
    want = f0 * 2 * np.pi * (wow_ms * wow_hz + flutter_ms * flutter_hz) * 1e-3
    assert pitch_swing_hz(y) == pytest.approx(want, rel=0.01)  # measured: < 0.01 %


def test_no_modulation_is_a_pure_delay_of_the_latency(stream, rng):
    dev = Tape(wow_ms=0.0, flutter_ms=0.0, saturation=0.0, head_bump_db=3.0)
    x = (rng.standard_normal((2, 6000)) * 0.3).astype(np.float32)
    y = stream(dev, x)
    lat = dev.latency_frames
    assert lat == int(np.ceil(6.0 * SR / 1000)) + 2
    delayed = np.concatenate([np.zeros((2, lat)), x[:, :-lat]], axis=1)
    want = signal.sosfilt(dev.design(SR), delayed, axis=1)
    np.testing.assert_allclose(y, want, atol=1e-6)


def test_saturation_bounds_and_keeps_quiet_signals(stream, sine):
    dev = Tape(wow_ms=0.0, flutter_ms=0.0, saturation=1.0, head_bump_db=0.0,
               rolloff_hz=20000.0)
    loud = stream(dev, sine(200.0, 0.5, amp=4.0))
    assert np.abs(loud).max() < 1 / 3 * 1.01  # tanh(3 x) / 3
    quiet = stream(Tape(wow_ms=0.0, flutter_ms=0.0, saturation=1.0, head_bump_db=0.0,
                        rolloff_hz=20000.0), sine(200.0, 0.5, amp=1e-4))
    assert np.abs(quiet).max() == pytest.approx(1e-4, rel=0.01)


def test_tape_is_seeded(stream, sine):
    x = sine(500.0, 1.0, amp=0.5)
    a = stream(Tape(wow_ms=3.0, seed=1), x)
    np.testing.assert_array_equal(stream(Tape(wow_ms=3.0, seed=1), x), a)
    assert not np.array_equal(stream(Tape(wow_ms=3.0, seed=2), x), a)


@HYP
@given(cuts=st.lists(st.integers(1, 3999), max_size=10))
def test_tape_is_block_invariant(stream, cuts):
    x = (np.random.default_rng(8).standard_normal((2, 4000)) * 0.5).astype(np.float32)
    ev = [(700, "wow_hz", 3.0), (1500, "wow_ms", 4.0), (2200, "flutter_hz", 17.0),
          (2900, "saturation", 0.9), (3300, "rolloff_hz", 5000.0)]
    whole = stream(Tape(seed=4), x, events=ev)
    np.testing.assert_array_equal(stream(Tape(seed=4), x, cuts, ev), whole)


# -- vinyl ----------------------------------------------------------------------------------

QUIET = {"crackle_db": -96.0, "crackle_per_s": 0.0, "hiss_db": -120.0, "rumble_db": -120.0,
         "wear": 0.0}


def silence(seconds: float, channels: int = 2) -> np.ndarray:
    return np.zeros((channels, round(seconds * SR)), np.float32)


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("hiss_db", [-60.0, -40.0, -25.0])
def test_hiss_level(stream, hiss_db, seed):
    y = stream(Vinyl(**{**QUIET, "hiss_db": hiss_db, "seed": seed}), silence(2.0))
    assert db(np.mean(y.astype(np.float64) ** 2)) == pytest.approx(hiss_db, abs=1.0)
    assert np.corrcoef(y)[0, 1] < 0.05  # independent channels


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("per_s", [3.0, 20.0, 60.0])
def test_click_density_over_ten_seconds(stream, per_s, seed):
    y = stream(Vinyl(**{**QUIET, "crackle_db": -6.0, "crackle_per_s": per_s, "seed": seed}),
               silence(10.0, 1))[0]
    # the softest click peaks at a quarter of the level; count threshold crossings
    above = np.abs(y) > 0.1 * db_to_gain(-6.0)
    onsets = np.count_nonzero(above[1:] & ~above[:-1])
    assert onsets / 10.0 == pytest.approx(per_s, rel=0.2)
    assert np.abs(y).max() <= db_to_gain(-6.0) * (1 + 1e-6)


@pytest.mark.parametrize("seed", [0, 7])
def test_rumble_level_and_band(stream, seed):
    y = stream(Vinyl(**{**QUIET, "rumble_db": -30.0, "seed": seed}), silence(20.0, 1))[0]
    y = y.astype(np.float64)
    assert db(np.mean(y ** 2)) == pytest.approx(-30.0, abs=1.0)
    spec = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(y.size, 1 / SR)
    assert spec[f < 200].sum() / spec.sum() > 0.98
    assert abs(y.mean()) < 0.02 * np.sqrt(np.mean(y ** 2))  # no DC


@pytest.mark.parametrize("wear", [0.3, 1.0])
def test_wear_low_pass_is_minus_3_db_at_its_corner(stream, wear):
    fc = wear_cutoff_hz(wear)
    imp = np.zeros((1, SR), np.float32)
    imp[0, 0] = 1.0
    h = stream(Vinyl(**{**QUIET, "wear": wear}), imp)[0].astype(np.float64)
    assert 20 * np.log10(np.abs(np.fft.rfft(h))[round(fc)]) == pytest.approx(-3.01, abs=0.05)


def test_no_noise_no_wear_passes_the_input(stream, rng):
    x = (rng.standard_normal((2, 3000)) * 0.3).astype(np.float32)
    np.testing.assert_allclose(stream(Vinyl(**QUIET), x), x, atol=1e-5)


def test_vinyl_is_seeded(stream):
    a = stream(Vinyl(seed=1), silence(0.5))
    np.testing.assert_array_equal(stream(Vinyl(seed=1), silence(0.5)), a)
    assert not np.array_equal(stream(Vinyl(seed=2), silence(0.5)), a)


@HYP
@given(cuts=st.lists(st.integers(1, 5999), max_size=10))
def test_vinyl_is_block_invariant(stream, cuts):
    x = (np.random.default_rng(2).standard_normal((2, 6000)) * 0.5).astype(np.float32)
    ev = [(900, "hiss_db", -30.0), (1800, "crackle_per_s", 400.0), (2600, "wear", 0.8),
          (4000, "rumble_db", -20.0), (5000, "crackle_db", -3.0)]
    kw = {"crackle_per_s": 100.0, "seed": 9}
    whole = stream(Vinyl(**kw), x, events=ev)
    np.testing.assert_array_equal(stream(Vinyl(**kw), x, cuts, ev), whole)
