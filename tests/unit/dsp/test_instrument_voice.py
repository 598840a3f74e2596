"""Voice machinery shared by synth, fm and sampler: stealing, tails, seeking, channels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixdown.core.errors import ParameterError
from mixdown.dsp.base import NoteEvent, create_device
from mixdown.dsp.instruments._voice import KILL_S, render_notes
from mixdown.dsp.instruments.synth import Synth

SR = 48_000


def pitch_of(hz: float) -> float:
    return 69.0 + 12.0 * math.log2(hz / 440.0)


def sine_synth(**over: object) -> Synth:
    params: dict[str, object] = {"osc1_wave": "sine", "attack_s": 0.0, "decay_s": 0.0,
                                 "sustain": 1.0, "release_s": 0.05, "gain_db": 0.0,
                                 "velocity_sens": 0.0}
    params.update(over)
    return create_device("synth", params)


def line_db(x: np.ndarray, hz: float) -> float:
    """Level of the spectral line at ``hz`` (Hann window, 1 Hz bins), dB re full scale."""
    spec = 2 * np.abs(np.fft.rfft(x * np.hanning(x.size), SR)) / (x.size / 2)
    k = round(hz)
    return float(20 * np.log10(spec[k - 2: k + 3].max() + 1e-300))


def test_the_oldest_voice_is_stolen_past_the_polyphony_cap() -> None:
    synth = sine_synth(polyphony=2)
    hz = (300.0, 500.0, 700.0)
    notes = [NoteEvent(i * 4800, 36_000, pitch_of(f), 127) for i, f in enumerate(hz)]
    synth.prepare(SR, 2, 12_000)
    synth.set_notes(notes)
    synth.render(0, 12_000)
    assert synth.active_voices == 2
    late = synth.render(12_000, 12_000)[0].astype(np.float64)
    assert line_db(late, 300.0) < -100.0  # the oldest note is gone
    for f in hz[1:]:
        assert line_db(late, f) == pytest.approx(0.0, abs=0.1)


def test_a_stolen_voice_fades_out_over_kill_s() -> None:
    synth = sine_synth(polyphony=1)
    notes = [NoteEvent(0, 24_000, pitch_of(300.0), 127), NoteEvent(4800, 24_000, 96, 127)]
    first_only = render_notes(sine_synth(polyphony=1), notes[:1], 9600)
    both = render_notes(synth, notes, 9600)
    second_only = render_notes(sine_synth(polyphony=1), [NoteEvent(4800, 24_000, 96, 127)],
                               9600)
    residue = both - second_only  # what is left of the stolen note
    fade = round(KILL_S * SR)
    np.testing.assert_allclose(residue[:, :4800], first_only[:, :4800], atol=1e-6)
    assert np.abs(residue[:, 4800 + fade:]).max() < 1e-6
    ramp = residue[0, 4800:4800 + fade] / first_only[0, 4800:4800 + fade]
    expected = (fade - np.arange(fade)) / (fade + 1)
    ok = np.abs(first_only[0, 4800:4800 + fade]) > 0.1
    np.testing.assert_allclose(ramp[ok], expected[ok], atol=1e-4)  # linear, no click


def test_the_release_tail_continues_past_the_note_end_and_frees_the_voice() -> None:
    release = 0.1
    synth = sine_synth(release_s=release)
    synth.prepare(SR, 2, 1000)
    synth.set_notes([NoteEvent(0, 2000, 69, 127)])
    for start in range(0, 2000, 1000):
        synth.render(start, 1000)
    assert synth.active_voices == 1
    tail = np.concatenate([synth.render(s, 1000).copy() for s in range(2000, 10_000, 1000)],
                          axis=1)  # render returns a view of a reused buffer: copy
    assert np.abs(tail[:, :2400]).max() > 0.01  # still sounding after end_frame
    assert synth.active_voices == 0
    assert not tail[:, round(release * SR) + 1:].any()


@pytest.mark.parametrize("type_name", ["synth", "fm", "sampler", "drums"])
def test_seeking_renders_the_same_samples_as_streaming(type_name: str) -> None:
    params: dict[str, object] = {}
    notes = [NoteEvent(100, 9000, 60, 100), NoteEvent(5000, 15_000, 64, 90)]
    if type_name == "sampler":
        audio = np.sin(np.arange(20_000) * 0.05).astype(np.float32)[None, :] * 0.5
        params = {"zones": [{"audio": audio, "sample_rate": SR}]}
    if type_name == "drums":
        notes = [NoteEvent(100, 101, 36, 100), NoteEvent(5000, 5001, 46, 90),
                 NoteEvent(9000, 9001, 42, 90)]
    full = render_notes(create_device(type_name, params), notes, 20_000, block_frames=1000)
    inst = create_device(type_name, params)
    inst.prepare(SR, 2, 2000)
    inst.set_notes(notes)
    np.testing.assert_array_equal(inst.render(7000, 2000), full[:, 7000:9000])  # jump ahead
    np.testing.assert_array_equal(inst.render(12_000, 500), full[:, 12_000:12_500])
    np.testing.assert_array_equal(inst.render(3000, 1000), full[:, 3000:4000])  # jump back


@pytest.mark.parametrize("type_name", ["synth", "fm", "drums"])
def test_channel_layouts(type_name: str) -> None:
    notes = [NoteEvent(0, 4000, 60, 100)] if type_name != "drums" else [NoteEvent(0, 1, 38, 100)]
    params = {"unison": 3, "stereo_spread": 1.0} if type_name == "synth" else {}
    stereo = render_notes(create_device(type_name, params), notes, 6000, channels=2)
    mono = render_notes(create_device(type_name, params), notes, 6000, channels=1)
    quad = render_notes(create_device(type_name, params), notes, 6000, channels=4)
    np.testing.assert_allclose(mono[0], 0.5 * (stereo[0] + stereo[1]), atol=1e-7)
    np.testing.assert_array_equal(quad[:2], stereo)
    if type_name == "drums":
        np.testing.assert_array_equal(quad[2:], np.repeat(stereo[:1], 2, axis=0))
    else:
        assert not quad[2:].any()


def test_render_before_prepare_and_bad_formats_raise() -> None:
    with pytest.raises(ParameterError, match=r"call prepare\(\) before render\(\)"):
        create_device("synth").render(0, 10)
    with pytest.raises(ParameterError, match="sample_rate must be an int"):
        create_device("fm").prepare(10, 2, 100)
    with pytest.raises(ParameterError, match="channels must be an int >= 1"):
        create_device("sampler").prepare(SR, 0, 100)


def test_set_notes_restarts_the_render() -> None:
    synth = sine_synth()
    notes = [NoteEvent(0, 3000, 60, 100)]
    first = render_notes(synth, notes, 4000).copy()
    synth.set_notes(notes)
    again = np.concatenate([synth.render(s, 1000).copy() for s in range(0, 4000, 1000)],
                           axis=1)
    np.testing.assert_array_equal(first, again)


def test_a_block_larger_than_prepared_still_renders() -> None:
    notes = [NoteEvent(0, 3000, 60, 100)]
    ref = render_notes(sine_synth(), notes, 4000, block_frames=4000)
    synth = sine_synth()
    synth.prepare(SR, 2, 100)
    synth.set_notes(notes)
    np.testing.assert_array_equal(synth.render(0, 4000), ref)
