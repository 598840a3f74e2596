"""The "synth" instrument: pitch, timing, envelopes, filter, glide, aliasing, invariance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import hilbert

from mixdown.core.errors import ParameterError
from mixdown.dsp.base import Instrument, NoteEvent, create_device
from mixdown.dsp.instruments._voice import render_notes
from mixdown.dsp.instruments.synth import PRESETS, Synth, filter_damping

SR = 48_000
PEAK_HZ_TOL = 1.0  # the brief's accuracy for a note's pitch
LEVEL_TOL = 0.005  # 0.04 dB: envelope and gain levels are exact up to the sine table error
FILTER_DB_TOL = 0.1  # measured response vs the bilinear SVF formula


def pitch_of(hz: float) -> float:
    return 69.0 + 12.0 * math.log2(hz / 440.0)


def plain(**over: object) -> Synth:
    """One sine oscillator, instant envelope, unity gain, no velocity scaling."""
    params: dict[str, object] = {"osc1_wave": "sine", "attack_s": 0.0, "decay_s": 0.0,
                                 "sustain": 1.0, "release_s": 0.01, "gain_db": 0.0,
                                 "velocity_sens": 0.0}
    params.update(over)
    return create_device("synth", params, kind="instrument")


def peak_hz(x: np.ndarray) -> float:
    n = 1 << 20
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size), n))
    k = int(np.argmax(spec))
    a, b, c = np.log(spec[k - 1: k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * SR / n


def period_peaks(x: np.ndarray, period: int) -> np.ndarray:
    """Peak |x| in each whole period: the envelope of a steady tone."""
    n = x.size // period
    return np.abs(x[: n * period]).reshape(n, period).max(axis=1)


def test_synth_is_an_instrument() -> None:
    assert isinstance(create_device("synth"), Instrument)


def test_sine_a4_has_its_peak_at_440_hz() -> None:
    out = render_notes(plain(), [NoteEvent(0, SR, 69, 127)], SR)
    assert peak_hz(out[0, 2400:SR - 2400].astype(np.float64)) == pytest.approx(
        440.0, abs=PEAK_HZ_TOL)


@pytest.mark.parametrize("wave", ["saw", "square", "triangle", "sine", "noise"])
@pytest.mark.parametrize("start", [0, 1, 4095, 4096, 5000])
def test_note_starts_at_exactly_its_start_frame(wave: str, start: int) -> None:
    synth = plain(osc1_wave=wave, attack_s=0.01)
    out = render_notes(synth, [NoteEvent(start, start + 2000, 60, 100)], 8192,
                       block_frames=4096)
    assert not out[:, :start].any()
    assert np.all(out[:, start] != 0.0)


def test_sine_at_level_1_and_gain_0_db_swings_plus_minus_1() -> None:
    out = render_notes(plain(), [NoteEvent(0, 24_000, pitch_of(1000.0), 127)], 24_000)
    assert np.abs(out[:, 4800:]).max() == pytest.approx(1.0, abs=LEVEL_TOL)
    out = render_notes(plain(gain_db=-6.0), [NoteEvent(0, 24_000, pitch_of(1000.0), 127)],
                       24_000)
    assert np.abs(out[:, 4800:]).max() == pytest.approx(10 ** (-6 / 20), abs=LEVEL_TOL)


@pytest.mark.parametrize(("velocity", "sens"), [(64, 1.0), (100, 0.5), (30, 0.0)])
def test_velocity_scales_level_by_the_power_law(velocity: int, sens: float) -> None:
    notes = [NoteEvent(0, 24_000, pitch_of(1000.0), velocity)]
    out = render_notes(plain(velocity_sens=sens), notes, 24_000)
    expected = (velocity / 127) ** (2 * sens)
    assert np.abs(out[0, 4800:]).max() == pytest.approx(expected, rel=LEVEL_TOL)


def test_adsr_attack_decay_sustain_release_levels() -> None:
    attack, decay, sustain, release = 0.02, 0.1, 0.5, 0.2
    start, end = 480, 480 + SR // 2
    synth = plain(attack_s=attack, decay_s=decay, sustain=sustain, release_s=release)
    out = render_notes(synth, [NoteEvent(start, end, pitch_of(1000.0), 127)], SR)[0]
    x = out.astype(np.float64)
    env = np.abs(hilbert(x))  # smooth envelope of the 1 kHz tone, for the ramps
    peaks = period_peaks(x, 48)  # exact peaks per period, for the steady parts
    a_end = start + round(attack * SR)
    # linear attack: half-way at half the attack time, peak 1 at its end
    assert env[start + round(attack * SR / 2)] == pytest.approx(0.5, abs=0.01)
    assert env[start:end].max() == pytest.approx(1.0, abs=0.01)
    assert abs(int(np.argmax(env[start:end])) + start - a_end) <= 48
    # decay: exponential (80 dB over decay_s) from 1, landing on the sustain level
    r = 1e-4
    for part in (0.125, 0.25):
        x_part = (1 + r) ** (1 - part) * r**part - r
        assert env[a_end + round(decay * SR * part)] == pytest.approx(
            sustain + (1 - sustain) * x_part, rel=0.01)
    held = peaks[(a_end + round(decay * SR)) // 48 + 2: end // 48 - 1]
    np.testing.assert_allclose(held, sustain, atol=LEVEL_TOL)
    # release: exponential, -40 dB half-way, silent release_s after the note end
    halfway = sustain * (math.sqrt(r * (1 + r)) - r)
    assert env[end + round(release * SR / 2)] == pytest.approx(halfway, rel=0.03)
    silent = end + round(release * SR) + 1
    assert np.abs(out[silent - 100: silent - 48]).max() > 0.0
    assert not out[silent:].any()


def svf_lowpass_db(f: np.ndarray, cutoff: float, filter_type: str, resonance: float
                   ) -> np.ndarray:
    """|H| of the TPT state-variable low-pass: the bilinear (prewarped) analog prototype."""
    k1, k2, stages = filter_damping(filter_type, resonance)
    w = np.tan(np.pi * f / SR) / np.tan(np.pi * cutoff / SR)
    h = 1.0 / np.abs(1 - w**2 + 1j * k1 * w)
    if stages == 2:
        h = h / np.abs(1 - w**2 + 1j * k2 * w)
    return 20 * np.log10(h)


def harmonics_db(synth: Synth, pitch: float, count: int, velocity: int = 127) -> np.ndarray:
    """Levels of harmonics 1..count of a steady 250 Hz-ish note (rectangular, exact bins)."""
    out = render_notes(synth, [NoteEvent(0, SR, pitch, velocity)], SR)[0].astype(np.float64)
    seg = out[12_000:36_000]  # 0.5 s: 125 periods of 250 Hz, bins every 2 Hz
    spec = 2 * np.abs(np.fft.rfft(seg)) / seg.size
    return 20 * np.log10(spec[125 * np.arange(1, count + 1)])


@pytest.mark.parametrize(("filter_type", "resonance"),
                         [("lp24", 0.0), ("lp12", 0.0), ("lp24", 0.5), ("lp12", 0.8)])
def test_filter_attenuates_saw_harmonics_as_the_svf_response(filter_type: str,
                                                             resonance: float) -> None:
    pitch, cutoff = pitch_of(250.0), 1000.0
    common = {"osc1_wave": "saw", "filter_type": filter_type, "key_track": 0.0,
              "filter_env_st": 0.0}
    dry = harmonics_db(plain(**common, cutoff_hz=20_000.0, resonance=0.0), pitch, 24)
    wet = harmonics_db(plain(**common, cutoff_hz=cutoff, resonance=resonance), pitch, 24)
    f = 250.0 * np.arange(1, 25)
    expected = (svf_lowpass_db(f, cutoff, filter_type, resonance)
                - svf_lowpass_db(f, 20_000.0, filter_type, 0.0))
    np.testing.assert_allclose(wet - dry, expected, atol=FILTER_DB_TOL)
    if resonance == 0.0:  # -3 dB at the cutoff (harmonic 4 = 1000 Hz)
        assert wet[3] - dry[3] == pytest.approx(-3.01, abs=FILTER_DB_TOL)


def test_key_tracking_and_filter_envelope_move_the_cutoff() -> None:
    pitch, cutoff = pitch_of(250.0), 800.0
    amount, f_sus, velocity, fvel = 12.0, 0.5, 64, 0.5
    common = {"osc1_wave": "saw", "filter_type": "lp24"}
    dry = harmonics_db(plain(**common, cutoff_hz=20_000.0, key_track=0.0), pitch, 20)
    wet = harmonics_db(plain(**common, cutoff_hz=cutoff, key_track=1.0, filter_env_st=amount,
                             filter_attack_s=0.0, filter_decay_s=0.01, filter_sustain=f_sus,
                             filter_velocity=fvel), pitch, 20, velocity=velocity)
    vel_scale = 1 - fvel + fvel * velocity / 127
    effective = cutoff * 2 ** (((pitch - 60) + amount * f_sus * vel_scale) / 12)
    f = 250.0 * np.arange(1, 21)
    expected = (svf_lowpass_db(f, effective, "lp24", 0.0)
                - svf_lowpass_db(f, 20_000.0, "lp24", 0.0))
    np.testing.assert_allclose(wet - dry, expected, atol=FILTER_DB_TOL)


def instantaneous_hz(x: np.ndarray) -> np.ndarray:
    phase = np.unwrap(np.angle(hilbert(x)))
    return np.diff(phase) * SR / (2 * np.pi)


def test_mono_glide_reaches_the_target_pitch_in_glide_s() -> None:
    glide_s, b_start = 0.1, 12_000
    synth = plain(mono=True, glide_s=glide_s)
    notes = [NoteEvent(0, 24_000, 57, 127), NoteEvent(b_start, 36_000, 69, 127)]  # legato
    f = instantaneous_hz(render_notes(synth, notes, 36_000)[0].astype(np.float64))
    g_end = b_start + round(glide_s * SR)
    assert np.median(f[6_000:11_000]) == pytest.approx(220.0, abs=0.5)
    # half-way through in time is half-way in pitch (63 = 311.1 Hz): glides are linear in pitch
    mid = (b_start + g_end) // 2
    assert np.mean(f[mid - 48: mid + 48]) == pytest.approx(440 * 2 ** (-6 / 12), abs=2.0)
    assert np.median(f[g_end + 480: g_end + 4800]) == pytest.approx(440.0, abs=0.5)
    assert np.mean(f[g_end - 480: g_end - 96]) < 436.0  # still gliding just before glide_s


def test_mono_legato_does_not_retrigger_but_a_detached_note_does() -> None:
    synth_args = {"mono": True, "attack_s": 0.005, "decay_s": 0.01, "sustain": 0.5,
                  "release_s": 0.5}
    tone = pitch_of(1000.0)
    legato = [NoteEvent(0, 24_000, tone, 127), NoteEvent(12_000, 36_000, tone, 127)]
    env = period_peaks(render_notes(plain(**synth_args), legato, 36_000)[0], 48)
    assert env[12_000 // 48: 14_400 // 48].max() == pytest.approx(0.5, abs=LEVEL_TOL)
    detached = [NoteEvent(0, 10_000, tone, 127), NoteEvent(12_000, 36_000, tone, 127)]
    out = render_notes(plain(**synth_args), detached, 36_000)[0].astype(np.float64)
    env = np.abs(hilbert(out))
    assert env[12_000:14_400].max() == pytest.approx(1.0, abs=0.01)  # attacks to 1 again


def test_mono_falls_back_to_the_note_still_held() -> None:
    synth = plain(mono=True, glide_s=0.0)
    notes = [NoteEvent(0, 36_000, 57, 127), NoteEvent(12_000, 24_000, 69, 127)]
    f = instantaneous_hz(render_notes(synth, notes, 36_000)[0].astype(np.float64))
    assert np.median(f[15_000:22_000]) == pytest.approx(440.0, abs=0.5)
    assert np.median(f[26_000:34_000]) == pytest.approx(220.0, abs=0.5)


@pytest.mark.parametrize(("wave", "max_alias_db"),
                         [("saw", -25.0), ("square", -30.0), ("triangle", -45.0)])
def test_band_limited_oscillators_keep_aliasing_down(wave: str, max_alias_db: float) -> None:
    # A7 and a bit: a naive saw here has aliases at -11 dB, a naive triangle at -35 dB
    f0 = 3520.0 * 1.0013
    out = render_notes(plain(osc1_wave=wave), [NoteEvent(0, SR, pitch_of(f0), 127)], SR)
    x = out[0].astype(np.float64)
    spec = np.abs(np.fft.rfft(x * np.blackman(x.size))) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / SR)
    harmonic = np.zeros(freqs.size, bool)
    for h in range(1, 7):
        harmonic |= np.abs(freqs - h * f0) < 10
    alias_db = 10 * np.log10(spec[~harmonic & (freqs < 20_000)].sum() / spec[harmonic].sum())
    assert alias_db < max_alias_db


def test_unison_detune_and_stereo_spread_place_copies_left_and_right() -> None:
    synth = plain(unison=2, unison_detune_cents=100.0, stereo_spread=1.0)
    out = render_notes(synth, [NoteEvent(0, SR, pitch_of(1000.0), 127)], SR).astype(np.float64)
    assert peak_hz(out[0, 4800:]) == pytest.approx(1000 * 2 ** (-50 / 1200), abs=PEAK_HZ_TOL)
    assert peak_hz(out[1, 4800:]) == pytest.approx(1000 * 2 ** (50 / 1200), abs=PEAK_HZ_TOL)
    # hard-panned: the lower copy is entirely absent from the right channel
    spec = np.abs(np.fft.rfft(out[1, 4800:] * np.hanning(out.shape[1] - 4800)))
    freqs = np.fft.rfftfreq(out.shape[1] - 4800, 1 / SR)
    low = np.abs(freqs - 1000 * 2 ** (-50 / 1200)) < 3
    assert 20 * np.log10(spec[low].max() / spec.max()) < -60


def test_noise_is_seeded_by_the_note() -> None:
    notes = [NoteEvent(0, 4800, 60, 100), NoteEvent(9600, 14_400, 60, 100)]
    a = render_notes(plain(osc1_wave="noise"), notes, 19_200)
    b = render_notes(plain(osc1_wave="noise"), notes, 19_200)
    np.testing.assert_array_equal(a, b)
    first, second = a[0, 100:4800], a[0, 9700:14_400]
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.1  # a different note, different noise


def test_presets_fill_what_the_user_leaves_out() -> None:
    synth = create_device("synth", {"preset": "bass", "cutoff_hz": 500.0})
    assert synth.params["cutoff_hz"] == 500.0
    assert synth.params["resonance"] == PRESETS["bass"]["resonance"]
    assert create_device("synth", {"preset": "lead"}).params["mono"] is True


def test_set_param_changes_the_level_from_the_next_block() -> None:
    synth = plain()
    synth.prepare(SR, 2, 4800)
    synth.set_notes([NoteEvent(0, 48_000, pitch_of(1000.0), 127)])
    before = synth.render(0, 4800).copy()
    synth.set_param("gain_db", -20.0)
    after = synth.render(4800, 4800)
    assert np.abs(before[:, 2400:]).max() == pytest.approx(1.0, abs=LEVEL_TOL)
    assert np.abs(after).max() == pytest.approx(0.1, abs=LEVEL_TOL)


def test_set_param_rejects_structural_and_unknown_parameters() -> None:
    synth = plain()
    with pytest.raises(ParameterError, match="unison cannot change during a render"):
        synth.set_param("unison", 3)
    with pytest.raises(ParameterError, match="did you mean 'cutoff_hz'"):
        synth.set_param("cutof_hz", 300.0)
    with pytest.raises(ParameterError, match="resonance: must be <= 1"):
        synth.set_param("resonance", 2.0)


def test_constructor_rejects_bad_values_naming_the_parameter() -> None:
    with pytest.raises(ParameterError, match=r"synth\.cutoff_hz: must be >= 20"):
        Synth(cutoff_hz=5.0)
    with pytest.raises(ParameterError, match="synth has no parameter 'cutoff'"):
        Synth(cutoff=500.0)


CHORD = [NoteEvent(100, 9000, 60, 110), NoteEvent(100, 9000, 64, 90),
         NoteEvent(3000, 12_000, 67, 70), NoteEvent(6001, 6002, 71, 127),
         NoteEvent(8000, 15_000, 48, 100)]
INVARIANCE_FRAMES = 16_000


@pytest.mark.parametrize("params", [
    {},
    {"preset": "pad", "osc3_wave": "noise", "osc3_level": 0.2},
    {"preset": "lead", "glide_s": 0.05},
    {"preset": "pluck", "polyphony": 2, "resonance": 0.9},
])
@settings(max_examples=25, deadline=None)
@given(splits=st.lists(st.integers(1, INVARIANCE_FRAMES - 1), max_size=12))
def test_render_is_bit_identical_for_any_block_split(params: dict[str, object],
                                                     splits: list[int]) -> None:
    whole = render_notes(create_device("synth", params), CHORD, INVARIANCE_FRAMES,
                         block_frames=INVARIANCE_FRAMES)
    split = render_notes(create_device("synth", params), CHORD, INVARIANCE_FRAMES,
                         splits=splits)
    np.testing.assert_array_equal(whole, split)
