"""Takes and comping by measurement: the render switches take at the comp boundary,
sample-exactly, with an equal-power crossfade and no click."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mixdown import Project, Song, Track
from mixdown.core.errors import MixdownError
from mixdown.model.takes import CompRange, Take
from mixdown.services.render import render_audio
from signals import sine, write_wav

SR = 48_000
BAR = 2 * SR  # 120 bpm, 4/4: a bar is 2 s


def comp_render(root: Path, comp: tuple[CompRange, ...], takes: tuple[Take, ...],
                xf: float = 0.02) -> np.ndarray:
    p = Project(song=Song(tempo=120.0, tail_s=0.0),
                tracks=(Track(name="Vox", takes=takes, comp=comp, comp_crossfade_s=xf),))
    audio, _ = render_audio(p, root=root)
    return audio[0]


def noise(seed: int, frames: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((1, frames)) * 0.1).astype(np.float32)


def test_comp_switches_take_at_the_boundary_sample_exactly_with_equal_power(
        tmp_path: Path) -> None:
    a, b = noise(1, 5 * BAR)[0], noise(2, 5 * BAR)[0]
    write_wav(tmp_path / "audio/a.wav", a[None])
    write_wav(tmp_path / "audio/b.wav", b[None])
    # take 2 was recorded from bar 2, and its file starts 0.25 s before that (offset_s)
    takes = (Take(name="take 1", file="audio/a.wav", start="1:1"),
             Take(name="take 2", file="audio/b.wav", start="2:1", offset_s=0.25))
    xf = 0.02
    n = round(xf * SR)
    out = comp_render(tmp_path, (CompRange(start="1:1", end="3:1", take="take 1"),
                                 CompRange(start="3:1", end="5:1", take="take 2")), takes, xf)
    boundary = 2 * BAR  # bar 3
    b_at = round(0.25 * SR) - BAR  # song frame f plays b[f + b_at]
    # take 1 alone (after its start fade) up to the boundary: its very samples
    np.testing.assert_array_equal(out[n:boundary], a[n:boundary])
    # the crossfade, starting at the boundary: a * cos + b * sin, equal power
    x = np.arange(n) / n
    f = np.arange(boundary, boundary + n)
    expected = a[f] * np.sin((1 - x) * np.pi / 2) + b[f + b_at] * np.sin(x * np.pi / 2)
    np.testing.assert_allclose(out[boundary:boundary + n], expected, atol=1e-6)
    # then take 2 alone, sample-exact at its place, until its end fade
    g = np.arange(boundary + n, 4 * BAR - n)
    np.testing.assert_array_equal(out[g], b[g + b_at])
    # the comp ends at bar 5: so does the song
    assert len(out) == 4 * BAR


def high_band_db(x: np.ndarray, above_hz: float) -> float:
    """Energy above ``above_hz`` relative to the whole, dB (Blackman-Harris window)."""
    w = np.blackman(len(x))
    spec = np.abs(np.fft.rfft(x * w)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    return float(10 * np.log10(spec[freqs > above_hz].sum() / spec.sum()))


@pytest.fixture()
def sines(tmp_path: Path) -> tuple[Take, Take]:
    write_wav(tmp_path / "low.wav", sine(440.0, 10.0, amp=0.5))
    # phase-shifted so that a hard cut at the boundary jumps
    t = np.arange(10 * SR) / SR
    write_wav(tmp_path / "high.wav", (0.5 * np.sin(2 * np.pi * 660.0 * t + 2.0))[None])
    return (Take(name="low", file="low.wav", start=0), Take(name="high", file="high.wav",
                                                            start=0))


def test_comp_switch_has_no_click(tmp_path: Path, sines: tuple[Take, Take]) -> None:
    comp = (CompRange(start="1:1", end="3:1", take="low"),
            CompRange(start="3:1", end="5:1", take="high"))
    boundary = 2 * BAR
    # the largest sample step the signals themselves make: in the crossfade, a step is at
    # most ja cos + jb sin <= hypot(ja, jb), ja and jb the sines' own largest steps
    own_jump = float(np.hypot(*(0.5 * 2 * np.pi * f / SR for f in (440.0, 660.0))))
    win = slice(boundary - 2048, boundary + 2048)

    smooth = comp_render(tmp_path, comp, sines, xf=0.02)
    steps = np.abs(np.diff(smooth[boundary - 4800:boundary + 4800]))
    assert steps.max() <= own_jump * 1.01
    # no broadband splash: above 3 kHz the window holds what two sines' leakage holds
    assert high_band_db(smooth[win], 3000.0) < -70.0

    # the same measures catch a hard switch (a crossfade of 0 s) as a click
    hard = comp_render(tmp_path, comp, sines, xf=0.0)
    assert np.abs(np.diff(hard[boundary - 4800:boundary + 4800])).max() > own_jump * 5
    assert high_band_db(hard[win], 3000.0) > -50.0


def test_without_a_comp_the_last_take_plays_whole(tmp_path: Path,
                                                  sines: tuple[Take, Take]) -> None:
    out = comp_render(tmp_path, (), sines)
    high = np.sin(2 * np.pi * 660.0 * np.arange(10 * SR) / SR + 2.0) * 0.5
    np.testing.assert_allclose(out, high, atol=1e-6)


@pytest.mark.parametrize(("comp", "message"), [
    ((CompRange(start="1:1", end="2:1", take="hihg"),),
     "track \"Vox\", comp[0].take: no take 'hihg' on this track; did you mean 'high'?"),
    ((CompRange(start="1:1", end="3:1", take="low"),
      CompRange(start="2:1", end="4:1", take="high")),
     "track \"Vox\", comp[1]: overlaps comp[0] (1:1 .. 3:1); comp ranges must not overlap"),
    ((CompRange(start="5:1", end="7:1", take="low"),),
     "track \"Vox\", comp[0]: 5:1 .. 7:1 is outside take 'low', which covers 0.000 s .. "
     "10.000 s of the song; keep the range inside it"),
    ((CompRange(start="3:1", end="2:1", take="low"),),
     "track \"Vox\", comp[0].end: 2:1 is not after start = 3:1; a range ends after it starts"),
])
def test_bad_comps_are_one_line_problems(tmp_path: Path, sines: tuple[Take, Take],
                                         comp: tuple[CompRange, ...], message: str) -> None:
    with pytest.raises(MixdownError) as err:
        comp_render(tmp_path, comp, sines)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_take_replaced_on_disk_is_rendered_again_from_the_track_cache(
        tmp_path: Path) -> None:
    import os

    from mixdown.engine.cache import node_keys
    from mixdown.engine.compile import RenderSpec, compile_project
    from mixdown.engine.render import render
    from mixdown.io.node_cache import NodeCache, asset_identity

    write_wav(tmp_path / "t1.wav", sine(220.0, 4.0, amp=0.5))
    write_wav(tmp_path / "t2.wav", sine(330.0, 4.0, amp=0.5))
    project = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(
        name="Vox", takes=(Take(name="a", file="t1.wav"), Take(name="b", file="t2.wav")),
        comp=(CompRange(start=0, end=2, take="a"), CompRange(start=2, end=4, take="b"))),))

    def run(cache: NodeCache | None) -> tuple[np.ndarray, list[str]]:
        graph = compile_project(project, RenderSpec(), root=tmp_path)
        keys = node_keys(project, graph, asset_identity(tmp_path))
        blocks: list[np.ndarray] = []
        use = render(graph, lambda b: blocks.append(b.copy()), block_frames=8192,
                     cache=cache, keys=keys)
        return np.concatenate(blocks, axis=1), use.read

    cache = NodeCache.for_project(tmp_path)
    before, _ = run(cache)
    assert run(cache)[1] == ["Vox"]  # cached
    write_wav(tmp_path / "t2.wav", sine(550.0, 4.0, amp=0.25))
    st = (tmp_path / "t2.wav").stat()
    os.utime(tmp_path / "t2.wav", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    again, read = run(cache)
    assert read == []  # the take's file changed: the track renders again
    np.testing.assert_array_equal(again, run(None)[0])
    assert not np.array_equal(again, before)
