"""The "sampler" instrument: null at the root key, resampling, layers, loops, zone errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixdown.core.errors import ParameterError
from mixdown.dsp.base import Instrument, NoteEvent, create_device
from mixdown.dsp.instruments._voice import render_notes
from mixdown.dsp.instruments.sampler import Sampler

SR = 48_000
PEAK_HZ_TOL = 0.5  # spectral peak accuracy with 2**20-point zero padding


def tone(hz: float, frames: int, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    t = np.arange(frames) / sr
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.float32)[None, :]


def noise(rng: np.random.Generator, frames: int, channels: int = 2) -> np.ndarray:
    return (0.3 * rng.standard_normal((channels, frames))).astype(np.float32)


def sampler(zones: list[dict[str, object]], **over: object) -> Sampler:
    return create_device("sampler", {"zones": zones, **over}, kind="instrument")


def peak_hz(x: np.ndarray) -> float:
    n = 1 << 20
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size), n))
    k = int(np.argmax(spec))
    a, b, c = np.log(spec[k - 1: k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * SR / n


def sounding(x: np.ndarray) -> tuple[int, int]:
    nz = np.flatnonzero(np.any(x != 0, axis=0))
    return int(nz[0]), int(nz[-1]) + 1


def test_sampler_is_an_instrument() -> None:
    assert isinstance(create_device("sampler"), Instrument)


def test_root_key_note_nulls_with_the_sample(rng: np.random.Generator) -> None:
    audio = noise(rng, 4800)
    inst = sampler([{"audio": audio, "sample_rate": SR, "root": 62}])
    start = 777
    out = render_notes(inst, [NoteEvent(start, start + 6000, 62, 127)], 8000, block_frames=1000)
    np.testing.assert_array_equal(out[:, start:start + 4800], audio)
    assert not out[:, :start].any()
    assert not out[:, start + 4800:].any()


def test_mono_zone_plays_in_both_channels(rng: np.random.Generator) -> None:
    audio = noise(rng, 2000, channels=1)
    out = render_notes(sampler([{"audio": audio, "sample_rate": SR}]),
                       [NoteEvent(0, 3000, 60, 127)], 3000)
    np.testing.assert_array_equal(out[0, :2000], audio[0])
    np.testing.assert_array_equal(out[1, :2000], audio[0])


def test_a_zone_at_another_rate_is_resampled_keeping_pitch_and_duration() -> None:
    zone_sr, hz, seconds = 44_100, 441.0, 0.5
    audio = tone(hz, round(seconds * zone_sr), sr=zone_sr)
    out = render_notes(sampler([{"audio": audio, "sample_rate": zone_sr}]),
                       [NoteEvent(0, SR, 60, 127)], SR)
    first, last = sounding(out)
    assert last - first == pytest.approx(seconds * SR, abs=2)
    assert peak_hz(out[0, 1000:last - 1000].astype(np.float64)) == pytest.approx(
        hz, abs=PEAK_HZ_TOL)


def test_an_octave_up_plays_twice_as_fast() -> None:
    frames, hz = 9600, 300.0
    audio = tone(hz, frames)
    out = render_notes(sampler([{"audio": audio, "sample_rate": SR, "root": 60}]),
                       [NoteEvent(0, SR, 72, 127)], SR)
    _, last = sounding(out)
    assert last == frames // 2  # the note starts at frame 0: the length halves
    assert peak_hz(out[0, 200:last - 200].astype(np.float64)) == pytest.approx(
        2 * hz, abs=PEAK_HZ_TOL)  # pitch doubles


def test_a_fifth_down_plays_at_the_equal_tempered_ratio() -> None:
    hz = 600.0
    out = render_notes(sampler([{"audio": tone(hz, SR), "sample_rate": SR}]),
                       [NoteEvent(0, SR, 53, 127)], SR)
    assert peak_hz(out[0, 1000:40_000].astype(np.float64)) == pytest.approx(
        hz * 2 ** (-7 / 12), abs=PEAK_HZ_TOL)


def test_without_pitch_tracking_every_key_plays_at_the_root_rate() -> None:
    hz = 500.0
    inst = sampler([{"audio": tone(hz, SR // 2), "sample_rate": SR}], pitch_tracking=False)
    out = render_notes(inst, [NoteEvent(0, SR, 79, 127)], SR)
    assert peak_hz(out[0, 1000:23_000].astype(np.float64)) == pytest.approx(hz, abs=PEAK_HZ_TOL)


def test_velocity_layers_select_the_zone(rng: np.random.Generator) -> None:
    soft, loud = noise(rng, 1000), noise(rng, 1000)
    zones = [{"audio": soft, "sample_rate": SR, "lo_vel": 1, "hi_vel": 63},
             {"audio": loud, "sample_rate": SR, "lo_vel": 64, "hi_vel": 127}]
    for velocity, expected in ((40, soft), (127, loud)):
        out = render_notes(sampler(zones, velocity_sens=0.0),
                           [NoteEvent(0, 2000, 60, velocity)], 2000)
        np.testing.assert_array_equal(out[:, :1000], expected)


def test_key_ranges_select_the_zone_and_other_keys_are_silent(rng: np.random.Generator) -> None:
    low, high = noise(rng, 500), noise(rng, 500)
    zones = [{"audio": low, "sample_rate": SR, "root": 40, "lo_key": 30, "hi_key": 50},
             {"audio": high, "sample_rate": SR, "root": 70, "lo_key": 51, "hi_key": 90}]
    out = render_notes(sampler(zones), [NoteEvent(0, 600, 70, 127)], 600)
    np.testing.assert_array_equal(out[:, :500], high)
    out = render_notes(sampler(zones), [NoteEvent(0, 600, 100, 127)], 600)
    assert not out.any()


def test_loop_points_sustain_a_held_note() -> None:
    frames, ls, le = 4800, 2400, 4800
    audio = tone(500.0, frames)  # 500 Hz: the loop is 25 whole periods
    inst = sampler([{"audio": audio, "sample_rate": SR, "loop_start": ls, "loop_end": le}],
                   release_s=0.01)
    held = 30_000
    out = render_notes(inst, [NoteEvent(0, held, 60, 127)], 40_000)
    k = np.arange(held)
    expected = audio[0, np.where(k < le, k, ls + (k - ls) % (le - ls))]
    np.testing.assert_array_equal(out[0, :held], expected)  # rate 1: the loop repeats exactly
    # after release the voice plays on past loop_end and fades within release_s
    assert not out[:, held + round(0.01 * SR) + 1:].any()


def test_one_shot_zone_ignores_the_note_end(rng: np.random.Generator) -> None:
    audio = noise(rng, 3000)
    inst = sampler([{"audio": audio, "sample_rate": SR, "one_shot": True}])
    out = render_notes(inst, [NoteEvent(0, 10, 60, 127)], 4000)
    np.testing.assert_array_equal(out[:, :3000], audio)


def test_zone_and_output_gains_and_velocity_scale_level(rng: np.random.Generator) -> None:
    audio = noise(rng, 1000)
    inst = sampler([{"audio": audio, "sample_rate": SR, "gain_db": -6.0}], gain_db=-6.0,
                   velocity_sens=1.0)
    out = render_notes(inst, [NoteEvent(0, 2000, 60, 64)], 2000)
    expected = audio * 10 ** (-12 / 20) * (64 / 127) ** 2
    np.testing.assert_allclose(out[:, :1000], expected, rtol=1e-6, atol=1e-9)


def test_release_fades_a_note_shorter_than_its_sample(rng: np.random.Generator) -> None:
    release = 0.02
    inst = sampler([{"audio": noise(rng, SR), "sample_rate": SR}], release_s=release)
    out = render_notes(inst, [NoteEvent(100, 5000, 60, 127)], 10_000)
    first, last = sounding(out)
    assert first == 100
    assert last == pytest.approx(5000 + release * SR, abs=1)


@pytest.mark.parametrize(("zone", "match"), [
    ({"sample_rate": SR}, r"zones\[0\]\.audio: missing"),
    ({"audio": np.zeros((1000, 2), np.float32), "sample_rate": SR},
     r"zones\[0\]\.audio: must have 1 or 2 channels .* transpose"),
    ({"audio": np.zeros((1, 10), np.int16), "sample_rate": SR},
     r"zones\[0\]\.audio: must be a float array"),
    ({"audio": np.zeros((1, 10), np.float32), "sample_rate": 0},
     r"zones\[0\]\.sample_rate: must be a whole number of Hz"),
    ({"audio": np.zeros((1, 10), np.float32), "sample_rate": SR, "lo_key": 70, "hi_key": 60},
     r"zones\[0\]\.lo_key: 70 is above hi_key 60"),
    ({"audio": np.zeros((1, 10), np.float32), "sample_rate": SR, "loop_start": 5},
     r"zones\[0\]\.loop_start: give both"),
    ({"audio": np.zeros((1, 10), np.float32), "sample_rate": SR, "loop_start": 5,
      "loop_end": 5}, r"zones\[0\]\.loop_end: 5 must be after loop_start 5"),
    ({"audio": np.zeros((1, 10), np.float32), "sample_rate": SR, "loop_start": 0,
      "loop_end": 11}, r"zones\[0\]\.loop_end: must be a whole number in 1\.\.10"),
    ({"audio": np.zeros((1, 10), np.float32), "sample_rate": SR, "rot": 60},
     r"zones\[0\]: unknown field 'rot'; did you mean 'root'\?"),
    ({"audio": np.zeros((1, 10), np.float32), "sample_rate": SR, "one_shot": "yes"},
     r"zones\[0\]\.one_shot: must be true or false"),
])
def test_bad_zones_raise_naming_the_zone_and_field(zone: dict[str, object], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        sampler([zone])


def test_zones_must_be_a_list() -> None:
    with pytest.raises(ParameterError, match="zones: must be a list of zone tables"):
        sampler({"audio": np.zeros((1, 10), np.float32)})  # type: ignore[arg-type]


NOTES = [NoteEvent(5, 9000, 60, 100), NoteEvent(2000, 2600, 67.5, 40),
         NoteEvent(3000, 14_000, 48, 127), NoteEvent(8000, 8001, 80, 90)]
INVARIANCE_FRAMES = 16_000


@settings(max_examples=25, deadline=None)
@given(splits=st.lists(st.integers(1, INVARIANCE_FRAMES - 1), max_size=12))
def test_render_is_bit_identical_for_any_block_split(splits: list[int]) -> None:
    gen = np.random.default_rng(7)
    zones = [
        {"audio": noise(gen, 5000), "sample_rate": 44_100, "root": 60, "hi_key": 64,
         "loop_start": 1000, "loop_end": 3000},
        {"audio": noise(gen, 3000, channels=1), "sample_rate": SR, "root": 72, "lo_key": 65,
         "lo_vel": 64},
        {"audio": noise(gen, 2000), "sample_rate": 96_000, "root": 66.5, "lo_key": 60,
         "one_shot": True},
    ]
    make = lambda: sampler(zones, attack_s=0.001, release_s=0.05, polyphony=2)  # noqa: E731
    whole = render_notes(make(), NOTES, INVARIANCE_FRAMES, block_frames=INVARIANCE_FRAMES)
    split = render_notes(make(), NOTES, INVARIANCE_FRAMES, splits=splits)
    np.testing.assert_array_equal(whole, split)
    assert math.isfinite(float(np.abs(whole).max()))
