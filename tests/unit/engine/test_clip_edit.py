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
