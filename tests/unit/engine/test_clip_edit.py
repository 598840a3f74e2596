"""Audio clip editing by measurement: fade shapes, crossfades, time-stretch, pitch shift,
warp, reverse and normalise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mixdown import Clip, Project, Song, Track
from mixdown.services.render import render_audio
from signals import write_wav

SR = 48_000


def render_track(root: Path, *clips: Clip, tempo: float = 120.0) -> np.ndarray:
    p = Project(song=Song(tempo=tempo, tail_s=0.0), tracks=(Track(name="A", clips=clips),))
    audio, _ = render_audio(p, root=root)
    return audio


FORMULAS = {
    "linear": lambda x: x,
    "equal_power": lambda x: np.sin(x * np.pi / 2),
    "s_curve": lambda x: (1 - np.cos(x * np.pi)) / 2,
}


@pytest.mark.parametrize("shape", sorted(FORMULAS))
def test_fade_shapes_follow_their_formula_on_a_constant_signal(tmp_path: Path,
                                                              shape: str) -> None:
    write_wav(tmp_path / "dc.wav", np.full((1, SR), 0.5, np.float32))
    fade = 12_000
    audio = render_track(tmp_path, Clip(start=0, file="dc.wav", fade_in_s=fade / SR,
                                        fade_out_s=fade / SR, fade_in_shape=shape,
                                        fade_out_shape=shape))
    gain = audio[0, :SR] / 0.5
    x = np.arange(fade) / fade
    np.testing.assert_allclose(gain[:fade], FORMULAS[shape](x), atol=1e-6)
    np.testing.assert_allclose(gain[SR - fade:], FORMULAS[shape]((fade - np.arange(fade))
                                                                / fade), atol=1e-6)
    np.testing.assert_allclose(gain[fade:SR - fade], 1.0, atol=1e-6)
    # Mid-fade the shapes differ as their formulas say (a quarter of the way in).
    assert gain[fade // 4] == pytest.approx(float(FORMULAS[shape](np.array(0.25))), abs=1e-6)


def test_unknown_fade_shape_is_a_problem_naming_the_key(tmp_path: Path) -> None:
    from mixdown import load
    from mixdown.core.errors import MixdownError

    write_wav(tmp_path / "dc.wav", np.full((1, SR), 0.5, np.float32))
    (tmp_path / "song.toml").write_text(
        '[song]\ntempo = 120\n\n[[track]]\nname = "A"\n'
        'clips = [{ start = 0, file = "dc.wav", fade_in_shape = "exp" }]\n')
    with pytest.raises(MixdownError) as err:
        load(tmp_path)
    assert str(err.value).endswith(
        "song.toml: track \"A\", clips[0].fade_in_shape: must be 'linear', 'equal_power' or "
        "'s_curve', got 'exp'")


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64))))


def noise(seed: int, frames: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((1, frames)) * 0.1).astype(np.float32)


XF = 0.5  # seconds of crossfade
MID = SR + round(XF * SR / 2)  # the crossfade's midpoint, in song frames


def crossfade_render(root: Path, shape: str, *, correlated: bool) -> np.ndarray:
    """Clip A (0..1 s) and clip B (from 1 s) crossfading over 1..1.5 s. Correlated: B plays
    the very samples A would have played (the same file, offset by B's start)."""
    write_wav(root / "a.wav", noise(1, 3 * SR))
    write_wav(root / "b.wav", noise(2, 3 * SR))
    a = Clip(start=0, file="a.wav", length=2.0)  # 2 beats at 120 bpm: 1 s
    b = (Clip(start=2.0, file="a.wav", offset_s=1.0, length=2.0, crossfade_s=XF,
              crossfade_shape=shape) if correlated
         else Clip(start=2.0, file="b.wav", length=2.0, crossfade_s=XF, crossfade_shape=shape))
    return render_track(root, a, b)


@pytest.mark.parametrize(("shape", "correlated", "expected_db"), [
    ("equal_power", False, 0.0), ("equal_power", True, 3.01),
    ("linear", False, -3.01), ("linear", True, 0.0),
])
def test_equal_power_crossfades_keep_correlated_and_uncorrelated_levels_within_0_3_db(
        tmp_path: Path, shape: str, correlated: bool, expected_db: float) -> None:
    audio = crossfade_render(tmp_path, shape, correlated=correlated)[0]
    steady = rms_db(audio[SR // 4:3 * SR // 4])  # clip A alone
    w = 1200  # 25 ms around the midpoint, where both gains are within 2% of their mid value
    mid = rms_db(audio[MID - w // 2:MID + w // 2])
    if correlated:  # the same samples: the level is exact up to the gains' change in the window
        assert mid - steady == pytest.approx(expected_db, abs=0.05)
    else:  # two independent noises: their powers add (a 1200-frame estimate: +-0.5 dB)
        assert mid - steady == pytest.approx(expected_db, abs=0.5)


def test_crossfade_gains_follow_the_shape_exactly_on_dc(tmp_path: Path) -> None:
    write_wav(tmp_path / "one.wav", np.full((1, 3 * SR), 0.25, np.float32))
    write_wav(tmp_path / "two.wav", np.full((1, 3 * SR), 0.5, np.float32))
    audio = render_track(tmp_path, Clip(start=0, file="one.wav", length=2.0),
                         Clip(start=2.0, file="two.wav", length=2.0, crossfade_s=XF))[0]
    n = round(XF * SR)
    x = np.arange(n) / n
    expected = 0.25 * np.sin((1 - x) * np.pi / 2) + 0.5 * np.sin(x * np.pi / 2)
    np.testing.assert_allclose(audio[SR:SR + n], expected, atol=1e-6)
    np.testing.assert_allclose(audio[:SR], 0.25, atol=1e-7)
    np.testing.assert_allclose(audio[SR + n:2 * SR], 0.5, atol=1e-7)


def test_crossfade_without_a_clip_before_is_a_problem(tmp_path: Path) -> None:
    from mixdown.core.errors import MixdownError

    write_wav(tmp_path / "a.wav", noise(1, SR))
    with pytest.raises(MixdownError, match="crossfade_s"):
        render_track(tmp_path, Clip(start=0, file="a.wav", crossfade_s=0.1))
    with pytest.raises(MixdownError, match=r"crossfade_s.*ends 0\.500 s before"):
        render_track(tmp_path, Clip(start=0, file="a.wav", length=1.0),
                     Clip(start=2.0, file="a.wav", crossfade_s=0.1))


# -- time-stretch, pitch shift, warp (Rubber Band), reverse, normalise ------------------------

TONE_HZ = 1000.0  # a 1 ms period: the last loud sample is within 0.5 ms of the sound's end


def tone(root: Path, seconds: float = 2.0, *, harmonics: int = 1) -> None:
    t = np.arange(round(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * TONE_HZ * k * t) / k for k in range(1, harmonics + 1))
    write_wav(root / "tone.wav", (0.5 * x / np.abs(x).max())[None, :])


def pitch_hz(y: np.ndarray, below_hz: float = SR / 2) -> float:
    """The strongest frequency under ``below_hz``: Hann-windowed FFT peak (8x zero-padded),
    parabolic in dB."""
    n = len(y)
    spec = np.abs(np.fft.rfft(y * np.hanning(n), 8 * n))
    top = int(below_hz * 8 * n / SR)
    k = int(np.argmax(spec[:top]))
    assert spec[k] > 0.03 * spec.max()  # a real partial, not leakage
    a, b, c = np.log(spec[k - 1:k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * SR / (8 * n)


def cents(f: float, ref: float) -> float:
    return float(1200 * np.log2(f / ref))


def sound_extent_s(y: np.ndarray) -> float:
    loud = np.flatnonzero(np.abs(y) > 1e-3)
    return (loud[-1] + 1 - loud[0]) / SR


def measure(root: Path, clip: Clip, tempo: float = 120.0,
            below_hz: float = SR / 2) -> tuple[float, float]:
    """(length in seconds, pitch in Hz of the middle) of a rendered clip."""
    y = render_track(root, clip, tempo=tempo)[0].astype(np.float64)
    loud = np.flatnonzero(np.abs(y) > 1e-3)
    mid = y[loud[0] + SR // 4:loud[-1] - SR // 4]
    return sound_extent_s(y), pitch_hz(mid, below_hz)


def test_time_stretch_changes_the_length_within_1_ms_and_keeps_the_pitch_within_5_cents(
        tmp_path: Path) -> None:
    tone(tmp_path)
    length, f = measure(tmp_path, Clip(start=0, file="tone.wav", stretch=1.25))
    assert length == pytest.approx(2.5, abs=1e-3)
    assert abs(cents(f, TONE_HZ)) < 5


def test_pitch_shift_moves_the_pitch_within_5_cents_and_keeps_the_length(
        tmp_path: Path) -> None:
    tone(tmp_path)
    length, f = measure(tmp_path, Clip(start=0, file="tone.wav", pitch_semitones=3.0))
    assert length == pytest.approx(2.0, abs=1e-3)
    assert abs(cents(f, TONE_HZ) - 300) < 5


def test_formant_preserving_pitch_shift_of_a_harmonic_tone_lands_on_the_pitch(
        tmp_path: Path) -> None:
    tone(tmp_path, harmonics=6)
    # The fundamental (the only partial under the original's): formant preservation keeps
    # the spectral envelope, so a higher harmonic may be the loudest.
    length, f = measure(tmp_path, Clip(start=0, file="tone.wav", pitch_semitones=-5.0,
                                       preserve_formants=True), below_hz=TONE_HZ)
    assert length == pytest.approx(2.0, abs=1e-3)
    assert abs(cents(f, TONE_HZ) + 500) < 5
    plain = render_track(tmp_path, Clip(start=0, file="tone.wav", pitch_semitones=-5.0))
    kept = render_track(tmp_path, Clip(start=0, file="tone.wav", pitch_semitones=-5.0,
                                       preserve_formants=True))
    assert np.abs(plain - kept).max() > 0.01  # the option reaches Rubber Band


def test_stretch_and_pitch_together(tmp_path: Path) -> None:
    tone(tmp_path)
    length, f = measure(tmp_path, Clip(start=0, file="tone.wav", stretch=0.8,
                                       pitch_semitones=-2.0))
    assert length == pytest.approx(1.6, abs=1e-3)
    assert abs(cents(f, TONE_HZ) + 200) < 5


def test_warp_stretches_from_the_clips_tempo_to_the_songs(tmp_path: Path) -> None:
    tone(tmp_path)
    length, f = measure(tmp_path, Clip(start=0, file="tone.wav", source_bpm=100), tempo=120)
    assert length == pytest.approx(2.0 * 100 / 120, abs=1e-3)
    assert abs(cents(f, TONE_HZ)) < 5


def test_warp_uses_the_tempo_at_the_clips_start(tmp_path: Path) -> None:
    from mixdown import TempoPoint

    tone(tmp_path)
    p = Project(song=Song(tempo=120, tempo_map=(TempoPoint(at=4, bpm=150),),
                          tail_s=0.0),
                tracks=(Track(name="A", clips=(Clip(start=4.0, file="tone.wav",
                                                    source_bpm=100),)),))
    y = render_audio(p, root=tmp_path)[0][0]
    assert sound_extent_s(y) == pytest.approx(2.0 * 100 / 150, abs=1e-3)


def test_reverse_plays_the_file_backwards_sample_exactly(tmp_path: Path) -> None:
    ramp = (np.arange(SR // 2, dtype=np.float32) / SR)[None, :]
    write_wav(tmp_path / "ramp.wav", ramp)
    y = render_track(tmp_path, Clip(start=0, file="ramp.wav", reverse=True))[0]
    np.testing.assert_array_equal(y[:SR // 2], ramp[0, ::-1])


def test_normalize_sets_the_clip_peak_and_gain_adds_to_it(tmp_path: Path) -> None:
    tone(tmp_path)  # peak 0.5 (-6.02 dBFS)
    y = render_track(tmp_path, Clip(start=0, file="tone.wav", normalize_db=-1.0))[0]
    assert 20 * np.log10(np.abs(y).max()) == pytest.approx(-1.0, abs=0.01)
    y = render_track(tmp_path, Clip(start=0, file="tone.wav", normalize_db=-1.0, gain_db=-3))[0]
    assert 20 * np.log10(np.abs(y).max()) == pytest.approx(-4.0, abs=0.01)


def test_a_stretched_file_is_processed_once_and_kept_in_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mixdown.io.catalog as catalog

    tone(tmp_path)
    clip = Clip(start=0, file="tone.wav", stretch=1.5, pitch_semitones=1.0)
    first = render_track(tmp_path, clip)
    kept = sorted((tmp_path / ".mixdown" / "cache").glob("tone-edit-*.wav"))
    assert len(kept) == 1

    def fail(*_: object) -> None:
        raise AssertionError("processed again")

    monkeypatch.setattr(catalog, "apply_edit", fail)
    np.testing.assert_array_equal(render_track(tmp_path, clip), first)
    # Other settings are another file (and need processing).
    with pytest.raises(AssertionError, match="processed again"):
        render_track(tmp_path, clip.model_copy(update={"pitch_semitones": 2.0}))


def test_edit_keys_are_checked_with_the_file_and_key_named(tmp_path: Path) -> None:
    from mixdown import load
    from mixdown.core.errors import MixdownError

    tone(tmp_path)
    cases = {
        'stretch = 1.5, source_bpm = 90': "clips[0]: give either stretch or source_bpm",
        "stretch = 9.0": "clips[0].stretch:",
        "source_bpm = 25": "clips[0].source_bpm: warping 25 bpm to the song's 120 bpm "
                           "stretches by 0.208; the stretch must be 0.25 .. 4",
    }
    for keys, expected in cases.items():
        (tmp_path / "song.toml").write_text(
            '[song]\ntempo = 120\n\n[[track]]\nname = "A"\n'
            f'clips = [{{ start = 0, file = "tone.wav", {keys} }}]\n')
        with pytest.raises(MixdownError) as err:
            from mixdown.services.render import render_project

            render_project(load(tmp_path), tmp_path / "out.wav", root=tmp_path)
        assert "song.toml" in str(err.value) and expected in str(err.value), str(err.value)
        assert not (tmp_path / "out.wav").exists()


def test_check_processes_nothing_and_warns_of_a_crossfade_out_of_audio(tmp_path: Path) -> None:
    from mixdown.services.project import check_project

    tone(tmp_path, seconds=1.0)
    (tmp_path / "song.toml").write_text(
        '[song]\ntempo = 120\n\n[[track]]\nname = "A"\nclips = [\n'
        '  { start = 0, file = "tone.wav", stretch = 1.5 },\n'
        '  { start = 3.0, file = "tone.wav", crossfade_s = 0.25 },\n]\n')
    report = check_project(tmp_path)
    assert not (tmp_path / ".mixdown").exists()  # check writes no processed file
    # The stretched clip lasts 1.5 s, to beat 3: the crossfade runs 0.25 s past its audio.
    assert any('track "A", clips[1].crossfade_s: the clip before it has 0.000 s of audio '
               "past this clip's start" in w for w in report.warnings), report.warnings


def test_stretch_fit_fills_the_clips_length_and_keeps_the_pitch(tmp_path: Path) -> None:
    tone(tmp_path)  # 2 s
    length, f = measure(tmp_path, Clip(start=0, file="tone.wav", stretch="fit", bars=1.5,
                                       offset_s=0.5))  # 1.5 s of file into 3 s (6 beats)
    assert length == pytest.approx(3.0, abs=1e-3)
    assert abs(cents(f, TONE_HZ)) < 5
    from mixdown.core.errors import MixdownError

    with pytest.raises(MixdownError, match=r'clips\[0\]\.stretch: "fit" stretches'):
        render_track(tmp_path, Clip(start=0, file="tone.wav", stretch="fit"))
