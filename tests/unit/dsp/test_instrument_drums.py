"""The "drums" instrument: hit timing, kick pitch, bright hats, snare, choke, invariance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixdown.dsp.base import Instrument, NoteEvent, create_device
from mixdown.dsp.instruments._voice import render_notes
from mixdown.dsp.instruments.drums import (
    CHOKE_S,
    DRUM_NOTES,
    GM_DRUMS,
    HIT_PEAK,
    KITS,
    Drums,
)

SR = 48_000
KITS_ALL = sorted(KITS)


def drums(**params: object) -> Drums:
    return create_device("drums", params, kind="instrument")


def one_hit(note: int, velocity: int = 127, **params: object) -> np.ndarray:
    """A single hit at frame 0 (mono, float64)."""
    d = drums(**params)
    d.prepare(SR, 1, 1024)
    return d.hit(note, velocity).astype(np.float64)


def power_spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = max(1 << 16, 1 << int(np.ceil(np.log2(x.size))))
    return np.fft.rfftfreq(n, 1 / SR), np.abs(np.fft.rfft(x, n)) ** 2


def centroid_hz(x: np.ndarray) -> float:
    f, p = power_spectrum(x)
    return float((f * p).sum() / p.sum())


def test_drums_is_an_instrument() -> None:
    assert isinstance(create_device("drums"), Instrument)


def test_drum_notes_table_is_the_general_midi_one() -> None:
    assert DRUM_NOTES == {
        "kick": 36, "snare": 38, "clap": 39, "hat": 42, "closed_hat": 42, "open_hat": 46,
        "tom_low": 45, "tom_mid": 47, "tom_high": 50, "rim": 37, "cowbell": 56, "crash": 49,
        "ride": 51, "perc": 56,
    }
    assert set(DRUM_NOTES.values()) <= set(GM_DRUMS)


@pytest.mark.parametrize("note", sorted(GM_DRUMS))
def test_each_hit_starts_at_exactly_its_frame(note: int) -> None:
    start = 4095  # one frame before a block boundary
    d = drums(velocity_sens=0.0, gain_db=0.0)
    out = render_notes(d, [NoteEvent(start, start + 10, note, 127)], 3 * 4096,
                       block_frames=4096)
    assert not out[:, :start].any()
    assert np.all(out[:, start] != 0.0)
    level_db = d.params[{"closed_hat": "hat_level_db", "pedal_hat": "hat_level_db",
                         "ride_bell": "ride_level_db"}.get(GM_DRUMS[note].sound,
                                                           GM_DRUMS[note].sound + "_level_db")]
    gain = np.float32(10 ** ((level_db + GM_DRUMS[note].level_db) / 20))
    hit = d.hit(note, 127)
    n = min(hit.size, out.shape[1] - start)
    np.testing.assert_allclose(out[0, start:start + n], hit[:n] * gain, rtol=1e-6)


@pytest.mark.parametrize("kit", KITS_ALL)
@pytest.mark.parametrize("tune_hz", [45.0, 60.0, 90.0])
def test_kick_fundamental_is_the_tuning(kit: str, tune_hz: float) -> None:
    hit = one_hit(36, kit=kit, kick_tune_hz=tune_hz)
    f, p = power_spectrum(hit)
    # the spectral peak: at the tuning, pulled up a little by the downward sweep
    assert tune_hz * 0.99 <= f[np.argmax(p)] <= tune_hz * 1.08
    # after the sweep (150 ms on) the body rings at exactly the tuning
    tail = hit[round(0.15 * SR): round(0.3 * SR)]
    crossings = np.flatnonzero(np.diff(np.signbit(tail)))
    hz = (crossings.size - 1) / 2 / ((crossings[-1] - crossings[0]) / SR)
    assert hz == pytest.approx(tune_hz, rel=0.01)


def test_kick_sweep_starts_higher() -> None:
    hit = one_hit(36, kick_tune_hz=50.0, kick_sweep_st=24.0, kick_click=0.0)
    head = hit[: round(0.005 * SR)]
    crossings = np.flatnonzero(np.diff(np.signbit(head)))
    assert crossings.size >= 1  # 200 Hz at the start: a half period within 5 ms
    assert crossings[0] / SR < 1 / (2 * 50.0) / 2


@pytest.mark.parametrize("kit", KITS_ALL)
@pytest.mark.parametrize("note", [42, 44, 46])
def test_hats_are_bright(kit: str, note: int) -> None:
    assert centroid_hz(one_hit(note, kit=kit)) > 5_000.0


@pytest.mark.parametrize("kit", KITS_ALL)
def test_snare_has_a_tone_and_noise(kit: str) -> None:
    tone_hz = KITS[kit]["snare_tone_hz"]
    hit = one_hit(38, kit=kit)
    f, p = power_spectrum(hit)
    low = (f > 80) & (f < 500)
    assert f[low][np.argmax(p[low])] == pytest.approx(tone_hz, rel=0.05)
    noise_share = p[f > 2_000].sum() / p.sum()
    assert noise_share > 0.3  # the wires: broadband energy above 2 kHz
    dry = one_hit(38, kit=kit, snare_snappy=0.0)
    fd, pd = power_spectrum(dry)
    assert pd[fd > 2_000].sum() / pd.sum() < 0.01  # no wires, no noise


def test_clap_is_three_bursts_then_a_tail() -> None:
    hit = one_hit(39)
    ms = SR // 1000
    rms = lambda a, b: float(np.sqrt(np.mean(hit[a * ms // 10:b * ms // 10] ** 2)))  # noqa: E731
    for burst in (0, 110, 220, 330):  # onsets every 11 ms (tenths of a ms here)
        onset = rms(burst, burst + 10)
        if burst:
            before = rms(burst - 10, burst)
            assert 20 * np.log10(onset / before) > 6.0  # each burst re-attacks


def test_toms_are_tuned_low_to_high() -> None:
    pitches = []
    for note in (41, 43, 45, 47, 48, 50):
        hit = one_hit(note, tom_tune_hz=150.0)
        tail = hit[round(0.2 * SR): round(0.4 * SR)]
        crossings = np.flatnonzero(np.diff(np.signbit(tail)))
        pitches.append((crossings.size - 1) / 2 / ((crossings[-1] - crossings[0]) / SR))
    expected = [150.0 * GM_DRUMS[n].tune for n in (41, 43, 45, 47, 48, 50)]
    np.testing.assert_allclose(pitches, expected, rtol=0.01)


def test_cowbell_has_two_tones_a_fifth_ish_apart() -> None:
    hit = one_hit(56, cowbell_tune_hz=540.0)
    f, p = power_spectrum(hit)
    for hz in (540.0, 540.0 * 1.48):
        band = (f > hz * 0.97) & (f < hz * 1.03)
        assert 10 * np.log10(p[band].max() / np.median(p[(f > 300) & (f < 2000)])) > 20


def test_every_hit_peaks_at_the_nominal_level() -> None:
    for note in sorted(GM_DRUMS):
        assert np.abs(one_hit(note)).max() == pytest.approx(HIT_PEAK, rel=1e-6)


def test_open_hat_is_choked_by_a_closed_hat() -> None:
    open_at, closed_at, frames = 100, 6000, 20_000
    fade = round(CHOKE_S * SR)
    both = render_notes(drums(), [NoteEvent(open_at, open_at + 1, 46, 100),
                                  NoteEvent(closed_at, closed_at + 1, 42, 100)], frames)
    open_only = render_notes(drums(), [NoteEvent(open_at, open_at + 1, 46, 100)], frames)
    closed_only = render_notes(drums(), [NoteEvent(closed_at, closed_at + 1, 42, 100)], frames)
    np.testing.assert_array_equal(both[:, :closed_at], open_only[:, :closed_at])
    # after the choke fade only the closed hat is left, exactly
    np.testing.assert_array_equal(both[:, closed_at + fade:], closed_only[:, closed_at + fade:])
    assert np.abs(open_only[:, closed_at + fade:]).max() > 0.01  # it would have rung on


def test_velocity_and_levels_scale_a_hit() -> None:
    notes = [NoteEvent(0, 1, 42, 127)]
    ref = render_notes(drums(velocity_sens=1.0), notes, 6000)
    soft = render_notes(drums(velocity_sens=1.0), [NoteEvent(0, 1, 42, 64)], 6000)
    np.testing.assert_allclose(soft, ref * (64 / 127) ** 2, rtol=1e-5, atol=1e-9)
    quiet = render_notes(drums(velocity_sens=1.0, hat_level_db=-14.0, gain_db=-6.0), notes,
                         6000)
    base_db = KITS["808"]["hat_level_db"]
    np.testing.assert_allclose(quiet, ref * 10 ** ((-14.0 - base_db - 6.0) / 20), rtol=1e-5,
                               atol=1e-9)


def test_the_kit_sets_what_the_user_leaves_out() -> None:
    d = drums(kit="909", kick_decay_s=0.2)
    assert d.params["kick_tune_hz"] == KITS["909"]["kick_tune_hz"]
    assert d.params["kick_decay_s"] == 0.2
    assert one_hit(36, kit="909").size != one_hit(36, kit="808").size


def test_unmapped_notes_are_silent() -> None:
    out = render_notes(drums(), [NoteEvent(0, 1, 60, 127), NoteEvent(10, 11, 20, 127)], 4000)
    assert not out.any()


def test_set_param_retunes_later_hits() -> None:
    d = drums()
    d.prepare(SR, 2, 4096)
    before = d.hit(36, 127).copy()
    d.set_param("kick_tune_hz", 80.0)
    after = d.hit(36, 127)
    f, p = power_spectrum(after.astype(np.float64))
    assert f[np.argmax(p)] == pytest.approx(80.0, rel=0.05)
    assert before.size != after.size or not np.array_equal(before, after)


PATTERN = [NoteEvent(s * 1500 + (s % 3), s * 1500 + 1, note, 60 + 5 * (s % 8))
           for s, note in enumerate([36, 42, 46, 42, 38, 44, 46, 42, 49, 39, 42, 47, 37, 56,
                                     51, 42])]
INVARIANCE_FRAMES = 30_000


@settings(max_examples=25, deadline=None)
@given(splits=st.lists(st.integers(1, INVARIANCE_FRAMES - 1), max_size=12),
       kit=st.sampled_from(KITS_ALL))
def test_render_is_bit_identical_for_any_block_split(splits: list[int], kit: str) -> None:
    whole = render_notes(drums(kit=kit), PATTERN, INVARIANCE_FRAMES,
                         block_frames=INVARIANCE_FRAMES)
    split = render_notes(drums(kit=kit), PATTERN, INVARIANCE_FRAMES, splits=splits)
    np.testing.assert_array_equal(whole, split)
