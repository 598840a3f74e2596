"""The soundfont instrument: structure checks, sample-exact notes, presets, drums, bend."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixdown.core.errors import FormatError, ParameterError
from mixdown.dsp.base import NoteEvent, create_device
from mixdown.dsp.instruments.sf2_check import check_soundfont
from soundfonts import gm_bytes, with_bad_sample_index

SR = 48_000
GM = gm_bytes()


def synth(**params: object) -> object:
    return create_device("soundfont", {"soundfont": GM, "file": "gm.sf2", **params})


def play(inst: object, notes: list[NoteEvent], frames: int, blocks: list[int] | None = None,
         events: dict[int, float] | None = None) -> np.ndarray:
    """Render ``frames`` in blocks (a cycle of sizes), applying bend events (frame: semitones)
    before the block that starts there, as the engine does."""
    inst.prepare(SR, 2, 1 << 16)  # type: ignore[attr-defined]
    inst.set_notes(notes)  # type: ignore[attr-defined]
    out, pos, k = [], 0, 0
    sizes = blocks or [4096]
    cuts = sorted(events or {})
    while pos < frames:
        n = min(sizes[k % len(sizes)], frames - pos)
        nxt = [c for c in cuts if c > pos]
        if nxt:
            n = min(n, nxt[0] - pos)
        if events and pos in events:
            inst.set_param("bend_semitones", events[pos])  # type: ignore[attr-defined]
        out.append(inst.render(pos, n).copy())  # type: ignore[attr-defined]
        pos += n
        k += 1
    return np.concatenate(out, axis=1)


def peak_hz(x: np.ndarray) -> float:
    mono = x.mean(axis=0).astype(np.float64)
    spec = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    return float(np.argmax(spec) * SR / len(mono))


def centroid_hz(x: np.ndarray) -> float:
    mono = x.mean(axis=0).astype(np.float64)
    spec = np.abs(np.fft.rfft(mono)) ** 2  # power: where the energy is
    freqs = np.fft.rfftfreq(len(mono), 1 / SR)
    return float((spec * freqs).sum() / spec.sum())


# -- the structure check ------------------------------------------------------------------

def test_the_gm_soundfont_passes_the_check() -> None:
    info = check_soundfont(GM)
    assert info.version[0] == 2
    assert info.has_preset(0, 0) and info.has_preset(128, 0)
    assert len([p for p in info.presets if p[0] == 0]) == 128


@pytest.mark.parametrize(("spoil", "why"), [
    (lambda d: b"just some text\n" * 10, "no RIFF 'sfbk' header"),
    (lambda d: d[: len(d) // 3], "truncated"),
    (lambda d: d[:11], "12-byte RIFF header"),
    (lambda d: d[:12] + d[12:].replace(b"pdta", b"pdtx", 1), "pdta list is missing"),
    (with_bad_sample_index, "sample that does not exist"),
    (lambda d: d.replace(b"RIFF", b"RIFX", 1), "no RIFF"),
])
def test_a_spoiled_soundfont_is_refused_before_the_synth_sees_it(spoil: object, why: str
                                                                  ) -> None:
    with pytest.raises(FormatError, match=why) as err:
        check_soundfont(spoil(GM), "x.sf2")  # type: ignore[operator]
    assert str(err.value).startswith("x.sf2: is not a usable SoundFont (")
    with pytest.raises(FormatError):
        create_device("soundfont", {"soundfont": spoil(GM), "file": "x.sf2"})  # type: ignore[operator]


def test_a_missing_preset_names_what_the_bank_has() -> None:
    with pytest.raises(ParameterError, match=r"no preset 99 in bank 128; bank 128 has presets 0"):
        synth(bank=128, preset=99)


# -- playing ------------------------------------------------------------------------------

def test_notes_start_on_their_frame() -> None:
    starts = [1_000, 7_777, 20_001]
    notes = [NoteEvent(s, s + 2_000, 76, 110) for s in starts]  # hi wood block: a click
    out = play(synth(bank=128), notes, 40_000, blocks=[333])
    assert np.all(out[:, :starts[0]] == 0)
    for s in starts:
        hit = np.flatnonzero(np.abs(out[:, s - 200:s + 200]).max(axis=0) > 1e-6)[0] + s - 200
        assert s <= hit <= s + 2  # sample-exact (the sample's own first frames may be ~0)


@settings(max_examples=12, deadline=None)
@given(blocks=st.lists(st.integers(min_value=1, max_value=9_000), min_size=1, max_size=4))
def test_the_block_sizes_do_not_change_a_bit(blocks: list[int]) -> None:
    notes = [NoteEvent(300 + 4_321 * i, 300 + 4_321 * i + 9_000, 48 + 7 * (i % 5), 90)
             for i in range(10)]
    bends = {2_560: 1.5, 25_600: -2.0}  # on the engine's 256-frame grid
    ref = play(synth(preset=48), notes, 60_000, events=bends)
    out = play(synth(preset=48), notes, 60_000, blocks=blocks, events=bends)
    np.testing.assert_array_equal(out, ref)
    assert np.abs(ref).max() > 0.01


def test_a_render_that_starts_late_matches_the_whole() -> None:
    notes = [NoteEvent(500 * i, 500 * i + 3_000, 60 + i % 12, 100) for i in range(40)]
    inst = synth(preset=0)
    whole = play(inst, notes, 30_000)
    inst.prepare(SR, 2, 1 << 16)  # type: ignore[attr-defined]
    inst.set_notes(notes)  # type: ignore[attr-defined]
    part = inst.render(12_345, 10_000)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(part, whole[:, 12_345:22_345])


def harmonics_db(x: np.ndarray, f0: float, count: int = 8) -> np.ndarray:
    """Levels of the first ``count`` harmonics of ``f0``, dB relative to the strongest."""
    mono = x.mean(axis=0).astype(np.float64)
    spec = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    bins = [round(k * f0 * len(mono) / SR) for k in range(1, count + 1)]
    levels = np.array([spec[b - 3:b + 4].max() for b in bins])
    return 20 * np.log10(levels / levels.max() + 1e-12)


def test_a_preset_change_changes_the_spectrum() -> None:
    notes = [NoteEvent(0, 40_000, 60, 100)]
    flute = play(synth(preset=73), notes, 48_000)[:, 2_000:40_000]
    brass = play(synth(preset=61), notes, 48_000)[:, 2_000:40_000]
    for x in (flute, brass):  # both play middle C (the strongest peak is one of its harmonics)
        k = peak_hz(x) / 261.63
        assert abs(k - round(k)) < 0.02
    diff = np.abs(harmonics_db(flute, 261.63) - harmonics_db(brass, 261.63))
    assert diff.max() > 10  # ...with other overtones


def test_bank_128_plays_the_drum_kit() -> None:
    kick = play(synth(bank=128), [NoteEvent(0, 4_000, 36, 120)], 24_000)
    hat = play(synth(bank=128), [NoteEvent(0, 4_000, 42, 120)], 24_000)
    assert np.abs(kick).max() > 0.05 and np.abs(hat).max() > 0.02
    assert centroid_hz(kick) < 500 < 3_000 < centroid_hz(hat)


def test_bend_moves_the_pitch_by_its_semitones() -> None:
    notes = [NoteEvent(0, 96_000, 69, 100)]
    out = play(synth(preset=73), notes, 96_000, events={48_128: 12.0})
    before, after = peak_hz(out[:, 8_000:40_000]), peak_hz(out[:, 56_000:90_000])
    assert abs(before / 440.0 - round(before / 440.0)) < 0.01  # A4's harmonics...
    assert abs(after / before - 2.0) < 0.02  # ...an octave up (a semitone is 6 %)


def test_polyphony_is_capped() -> None:
    chord = [NoteEvent(0, 20_000, 48 + 3 * k, 100) for k in range(12)]
    full = play(synth(preset=48), chord, 20_000)
    capped = play(synth(preset=48, polyphony=2), chord, 20_000)
    rms = [float(np.sqrt(np.mean(x[:, 5_000:] ** 2))) for x in (full, capped)]
    assert rms[1] < 0.6 * rms[0]
    assert rms[1] > 0  # the first notes still sound


def test_renders_repeat_exactly_and_reset_starts_over() -> None:
    notes = [NoteEvent(100 * i, 100 * i + 5_000, 40 + i, 100) for i in range(30)]
    inst = synth(preset=5)
    a = play(inst, notes, 20_000, blocks=[1_000])
    b = play(inst, notes, 20_000, blocks=[7_001])
    np.testing.assert_array_equal(a, b)


def test_an_sf3_with_ogg_samples_plays_like_its_sf2() -> None:
    from soundfonts import sf3_of

    sf3 = sf3_of(GM, 128, 0)
    assert check_soundfont(sf3).version[0] == 3
    notes = [NoteEvent(100, 3_000, 76, 100), NoteEvent(6_000, 9_000, 36, 120)]
    a = play(synth(bank=128), notes, 16_000)
    b = play(create_device("soundfont", {"soundfont": sf3, "bank": 128}), notes, 16_000)
    assert np.abs(b).max() > 0.1
    assert np.corrcoef(a[0], b[0])[0, 1] > 0.98  # Vorbis is lossy, the sound is the same


def test_an_sf3_sample_that_is_not_ogg_is_refused() -> None:
    from soundfonts import sf3_of

    sf3 = bytearray(sf3_of(GM, 128, 0))
    at = sf3.index(b"OggS")
    sf3[at:at + 4] = b"JUNK"
    with pytest.raises(FormatError, match="not Ogg Vorbis"):
        check_soundfont(bytes(sf3))
