"""Modulators measured in rendered audio: an LFO on a filter's cut-off moves the spectral
centroid at the LFO's rate, a follower ducks by the dB its depth says, and both combine with
automation and stay independent of the block size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mixdown import AutomationLane, AutomationPoint, Clip, Device, Project, Song, Track
from mixdown.core.time import TempoMap, TempoPoint
from mixdown.engine.automation import Curve
from mixdown.engine.modulators import LfoSignal, ModulatedCurve, wave
from mixdown.model.modulators import Follower, Lfo
from mixdown.resolve.modulators import ModTarget, ResolvedLfo
from mixdown.resolve.song import Volume
from mixdown.services.render import render_audio
from signals import sine, write_wav

SR = 48_000
HOP = 240  # centroid frames every 5 ms: 100 per second, far above any LFO rate tested
RATE_TOL_HZ = 0.05  # the centroid's dominant rate, read from a zero-padded spectrum
DUCK_TOL_DB = 0.1


def noise_track(root: Path, seconds: float) -> Clip:
    rng = np.random.default_rng(7)
    write_wav(root / "noise.wav", (0.2 * rng.standard_normal((1, round(seconds * SR))))
              .astype(np.float32))
    return Clip(start=0, file="noise.wav")


def centroid_track(x: np.ndarray) -> np.ndarray:
    """Spectral centroid in Hz of 2048-frame Hann windows every HOP frames."""
    win = 2048
    freqs = np.fft.rfftfreq(win, 1 / SR)
    starts = range(0, x.size - win, HOP)
    frames = np.stack([x[s:s + win] for s in starts]) * np.hanning(win)
    mag = np.abs(np.fft.rfft(frames, axis=1))
    return (mag * freqs).sum(axis=1) / mag.sum(axis=1)


def dominant_rate_hz(series: np.ndarray, step_s: float) -> float:
    """The strongest periodicity of ``series`` (mean removed), in Hz."""
    s = (series - series.mean()) * np.hanning(series.size)
    n = 16 * series.size
    spec = np.abs(np.fft.rfft(s, n))
    freqs = np.fft.rfftfreq(n, step_s)
    spec[freqs < 0.2] = 0  # ignore the drift of the noise itself
    return float(freqs[np.argmax(spec)])


def filtered_noise(root: Path, lfo: Lfo, song: Song | None = None,
                   seconds: float = 6.0) -> np.ndarray:
    p = Project(song=song or Song(tempo=120, tail_s=0.0), tracks=(Track(
        name="N", clips=(noise_track(root, seconds),),
        devices=(Device(type="filter", params={"cutoff_hz": 1000.0, "resonance": 0.4}),),
        modulators=(lfo,)),))
    out, _ = render_audio(p, root=root)
    return out[0]


@pytest.mark.parametrize(("lfo", "expected_hz"), [
    (Lfo(target="filter.cutoff_hz", rate_hz=3.0, depth=24.0), 3.0),
    # tempo-synced: a quarter note at 150 bpm is 0.4 s, so 2.5 cycles per second
    (Lfo(target="filter.cutoff_hz", rate="1/4", depth=24.0, shape="triangle"), 2.5),
    (Lfo(target="filter.cutoff_hz", rate="1/2", depth=12.0, shape="square"), 1.25),
])
def test_lfo_on_cutoff_moves_the_centroid_at_its_rate(tmp_path: Path, lfo: Lfo,
                                                      expected_hz: float) -> None:
    x = filtered_noise(tmp_path, lfo, Song(tempo=150, tail_s=0.0))
    c = centroid_track(x)
    assert dominant_rate_hz(c, HOP / SR) == pytest.approx(expected_hz, abs=RATE_TOL_HZ)
    # 24 semitones of depth is two octaves each way: the centroid swings by far more than
    # the noise makes it wander on its own.
    unmodulated = centroid_track(filtered_noise(tmp_path, lfo.model_copy(update={"depth": 0.0}),
                                                Song(tempo=150, tail_s=0.0)))
    assert np.std(c) > 3 * np.std(unmodulated)


def test_lfo_phase_starts_the_sweep_where_asked(tmp_path: Path) -> None:
    # phase 0: the cut-off rises first (sine); phase 0.5: it falls first.
    up = centroid_track(filtered_noise(tmp_path, Lfo(target="filter.cutoff_hz", rate_hz=1.0,
                                                     depth=24.0), seconds=1.0))
    down = centroid_track(filtered_noise(tmp_path, Lfo(target="filter.cutoff_hz", rate_hz=1.0,
                                                       depth=24.0, phase=0.5), seconds=1.0))
    quarter = round(0.25 * SR / HOP)  # the centroid frame centred near 0.25 s
    assert up[quarter] > 2 * down[quarter]


def test_tempo_synced_rate_follows_the_tempo_map() -> None:
    # 120 bpm for 4 beats (2 s), then 60 bpm: a 1/4 LFO makes 2 cycles per second, then 1.
    tempo = TempoMap([TempoPoint(0.0, 120.0), TempoPoint(4.0, 60.0)])
    lfo = ResolvedLfo("t", ModTarget(Volume(), 0.0, None, None, False), "saw", 1.0, 0.0, 0,
                      cycle_beats=1.0, rate_hz=None)
    sig = LfoSignal(lfo, SR, tempo.seconds_to_beats, None)
    frames = np.array([0.0, SR * 1.0, SR * 2.0, SR * 3.0, SR * 4.0])
    np.testing.assert_allclose(sig.cycles(frames), [0, 2, 4, 5, 6], atol=1e-9)
    # between grid points the cycle count is linear: no jump at a block edge
    inner = sig.cycles(np.arange(SR * 2 - 300, SR * 2 + 300, dtype=np.float64))
    assert np.all(np.diff(inner) > 0)


def test_wave_shapes_span_minus_one_to_one() -> None:
    u = np.arange(0, 4, 1 / 64)
    for shape in ("sine", "triangle", "saw", "square", "sample_hold"):
        w = wave(shape, u, seed=3)
        assert w.min() >= -1.0 and w.max() <= 1.0
        assert w.max() - w.min() > 1.0, shape
    np.testing.assert_allclose(wave("triangle", np.array([0, 0.25, 0.5, 0.75])),
                               [0, 1, 0, -1], atol=1e-12)
    np.testing.assert_array_equal(wave("square", np.array([0.1, 0.6])), [1, -1])
    held = wave("sample_hold", u, seed=3)
    assert np.all(held[:64] == held[0]) and held[64] != held[0]  # one value per cycle
    assert not np.array_equal(held, wave("sample_hold", u, seed=4))  # the seed matters
    np.testing.assert_array_equal(held, wave("sample_hold", u, seed=3))  # and fixes it


def test_modulated_value_adds_to_automation_and_is_clamped() -> None:
    lfo = ResolvedLfo("t", ModTarget(Volume(), 0.0, -144.0, 24.0, False), "square", 10.0,
                      0.0, 0, cycle_beats=None, rate_hz=1.0)
    base = Curve((0.0, float(SR)), (-20.0, 20.0), (0.0, 0.0))  # automation: -20 -> +20 dB
    curve = ModulatedCurve(base, [LfoSignal(lfo, SR, lambda s: s * 2, 120.0)], lfo.target)
    got = curve.values_at(np.array([0.0, SR * 0.25, SR * 0.75, SR * 1.1]))
    # square: +10 in the first half-cycle, -10 in the second; 20 + 10 is clamped to 24
    np.testing.assert_allclose(got, [-10.0, 0.0, 0.0, 24.0], atol=1e-9)


def test_semitone_depth_scales_a_frequency() -> None:
    target = ModTarget(Volume(), 1000.0, 20.0, 20000.0, True)
    lfo = ResolvedLfo("t", target, "square", 12.0, 0.0, 0, cycle_beats=None, rate_hz=1.0)
    curve = ModulatedCurve(Curve.constant(1000.0), [LfoSignal(lfo, SR, lambda s: s, 60.0)],
                           target)
    np.testing.assert_allclose(curve.values_at(np.array([0.0, SR * 0.6])), [2000.0, 500.0])


def ducking_project(root: Path, depth: float, level: float) -> Project:
    # The source is a square wave (constant magnitude), so its peak envelope is exactly
    # ``level`` after the attack; the ducked track is a steady sine.
    sq = np.sign(sine(50.0, 2.0, amp=1.0)) * level
    write_wav(root / "key.wav", sq.astype(np.float32))
    write_wav(root / "pad.wav", sine(440.0, 2.0, amp=0.5))
    return Project(song=Song(tempo=120, tail_s=0.0), tracks=(
        Track(name="Key", clips=(Clip(start=1.0, file="key.wav"),), mute=True),
        Track(name="Pad", clips=(Clip(start=0, file="pad.wav"),),
              modulators=(Follower(source="Key", target="volume_db", attack_ms=1.0,
                                   release_ms=50.0, depth=depth),)),
    ))


def rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2))))


@pytest.mark.parametrize(("depth", "level", "expected_db"), [
    (-12.0, 1.0, -12.0), (-12.0, 0.5, -6.0), (-20.0, 0.25, -5.0),
])
def test_follower_ducks_by_depth_times_envelope(tmp_path: Path, depth: float, level: float,
                                                expected_db: float) -> None:
    # The Key track is muted: a ghost key, heard only by the follower.
    out, _ = render_audio(ducking_project(tmp_path, depth, level), root=tmp_path)
    left = out[0]
    before = rms_db(left[SR // 10: SR // 2 - SR // 10])  # before the key starts (0.5 s)
    during = rms_db(left[SR // 2 + SR // 10: SR - SR // 10])
    assert during - before == pytest.approx(expected_db, abs=DUCK_TOL_DB)


def test_follower_releases_after_the_source_stops(tmp_path: Path) -> None:
    p = ducking_project(tmp_path, -12.0, 1.0)
    # The key plays 2 s from 0.5 s; the pad's clip is only 2 s: extend it with a longer file.
    write_wav(tmp_path / "pad.wav", sine(440.0, 4.0, amp=0.5))
    out, _ = render_audio(p, root=tmp_path)
    left = out[0]
    before = rms_db(left[SR // 10: SR // 2 - SR // 10])
    after = rms_db(left[int(2.5 * SR) + SR // 2: int(3.5 * SR)])  # 10 release times later
    assert after - before == pytest.approx(0.0, abs=DUCK_TOL_DB)


def test_follower_on_a_device_parameter_and_lfo_on_pan_are_block_invariant(
        tmp_path: Path) -> None:
    write_wav(tmp_path / "key.wav", sine(60.0, 1.5, amp=0.8) * (
        np.arange(round(1.5 * SR)) % 12_000 < 3000))
    p = Project(song=Song(tempo=97, tail_s=0.1), tracks=(
        Track(name="Key", clips=(Clip(start=0, file="key.wav"),)),
        Track(name="N", clips=(noise_track(tmp_path, 1.5),),
              devices=(Device(type="filter", params={"cutoff_hz": 3000.0}),),
              automation=(AutomationLane(param="filter.cutoff_hz", points=(
                  AutomationPoint(at=0, value=500.0), AutomationPoint(at=2, value=5000.0))),),
              modulators=(Follower(source="Key", target="filter.cutoff_hz", depth=-24.0),
                          Lfo(target="pan", rate="1/8t", depth=0.7, shape="sample_hold",
                              seed=5),
                          Lfo(target="volume_db", rate_hz=5.0, depth=3.0, shape="triangle"))),
    ))
    ref, _ = render_audio(p, root=tmp_path, block_frames=4096)
    for block in (37, 256, 1000, 30_000):
        out, _ = render_audio(p, root=tmp_path, block_frames=block)
        np.testing.assert_array_equal(out, ref)
    plain = p.model_copy(update={"tracks": (p.tracks[0], p.tracks[1].model_copy(
        update={"modulators": ()}))})
    assert not np.array_equal(render_audio(plain, root=tmp_path)[0], ref)


def test_lfo_on_an_instrument_parameter_is_heard(tmp_path: Path) -> None:
    p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(
        name="S", instrument=Device(type="synth", params={"cutoff_hz": 1500.0}),
        clips=(Clip(start=0, notes=({"pitch": "A3", "start": 0, "length": 4},)),),
        modulators=(Lfo(target="instrument.cutoff_hz", rate_hz=2.0, depth=24.0),)),))
    out, _ = render_audio(p, root=tmp_path)
    c = centroid_track(out[0][SR // 4: 2 * SR - SR // 10])
    assert dominant_rate_hz(c, HOP / SR) == pytest.approx(2.0, abs=0.1)
