"""Note sources: MIDI-file clips, drum patterns and inline notes land on the exact frame;
audio clips honour offset, length, gain, fades and loops."""

from __future__ import annotations

import math
from pathlib import Path

import mido
import numpy as np
import pytest

from mixdown import (
    AutomationLane,
    AutomationPoint,
    Bus,
    Clip,
    Device,
    Note,
    Project,
    Send,
    Song,
    Track,
)
from mixdown.services.render import render_audio, render_stems_audio
from signals import write_wav

SR = 48_000
BEAT = SR // 2  # 120 bpm


def first_onsets(x: np.ndarray, threshold: float = 1e-6) -> list[int]:
    """Frames where the signal starts after at least 1000 frames of silence."""
    loud = np.flatnonzero(np.abs(x).max(axis=0) > threshold)
    if loud.size == 0:
        return []
    starts = [int(loud[0])]
    gaps = np.flatnonzero(np.diff(loud) > 1000)
    starts += [int(loud[g + 1]) for g in gaps]
    return starts


def test_midi_clip_notes_start_on_the_exact_frame(tmp_path: Path) -> None:
    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    # Notes at beats 0, 2 and 5.5 of the file, each a 16th long.
    for delta_on, pitch in ((0, 60), (960 - 120, 64), (1680 - 120, 67)):
        tr.append(mido.Message("note_on", note=pitch, velocity=100, time=delta_on))
        tr.append(mido.Message("note_off", note=pitch, velocity=0, time=120))
    (tmp_path / "midi").mkdir()
    mid.save(tmp_path / "midi" / "riff.mid")
    p = Project(song=Song(tempo=120, tail_s=0.0, length=16.0), tracks=(Track(
        name="Keys", instrument=Device(type="synth", params={"release_s": 0.001,
                                                             "attack_s": 0.0}),
        clips=(Clip(start="2:1", midi="midi/riff.mid"),)),))
    audio, _ = render_audio(p, root=tmp_path)
    # The clip starts at bar 2 (beat 4): onsets at beats 4, 6 and 9.5.
    assert first_onsets(audio) == [4 * BEAT, 6 * BEAT, round(9.5 * BEAT)]


def test_drum_pattern_steps_and_swing(tmp_path: Path) -> None:
    p = Project(song=Song(tempo=120, tail_s=0.0, length=8.0), tracks=(Track(
        name="Drums", instrument=Device(type="drums"),
        clips=(Clip(start=0, bars=1, swing=0.5, pattern={"rim": "x.x. .... .x.. ...."}),)),))
    audio, _ = render_audio(p, root=tmp_path)
    step = BEAT // 4  # a 16th
    # Steps 0, 2 (even: on the grid) and 9 (odd: late by half a step of swing).
    onsets = first_onsets(audio, threshold=1e-4)
    assert onsets[0] == 0
    assert onsets[1] == 2 * step
    assert onsets[2] == 9 * step + step // 2


def test_audio_clip_offset_length_gain_and_loop(tmp_path: Path) -> None:
    ramp = np.arange(1000, dtype=np.float32)[None, :] / 1000.0
    write_wav(tmp_path / "ramp.wav", ramp)
    p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(name="A", clips=(
        Clip(start=0, file="ramp.wav", offset_s=100 / SR, gain_db=-6.0, loop=True,
             length=2500 / BEAT),),),))
    audio, _ = render_audio(p, root=tmp_path)
    g = 10 ** (-6 / 20)
    period = 900  # frames 100..999 of the file, looped
    assert audio.shape[1] == 2500
    expected = ((100 + np.arange(2500) % period) / 1000.0 * g).astype(np.float32)
    np.testing.assert_allclose(audio[0], expected, atol=1e-6)


def test_fades_are_linear(tmp_path: Path) -> None:
    write_wav(tmp_path / "one.wav", np.ones((1, SR), np.float32))
    p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(name="A", clips=(
        Clip(start=0, file="one.wav", fade_in_s=0.1, fade_out_s=0.2),)),))
    audio, _ = render_audio(p, root=tmp_path)
    assert audio[0, 0] == 0.0
    assert audio[0, 2400] == pytest.approx(0.5, abs=1e-6)  # half-way through the fade-in
    assert audio[0, SR // 2] == 1.0
    assert audio[0, SR - 4800] == pytest.approx(0.5, abs=1e-4)  # half-way through the fade-out


def test_send_level_automation(tmp_path: Path) -> None:
    write_wav(tmp_path / "one.wav", np.full((1, 2 * SR), 0.5, np.float32))
    p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(
        name="A", volume_db=-144, clips=(Clip(start=0, file="one.wav"),),
        sends=(Send(to="FX", level_db=-20.0),),
        automation=(AutomationLane(param="send.FX", points=(
            AutomationPoint(at=0, value=-20.0), AutomationPoint(at=2, value=0.0))),)),),
        buses=(Bus(name="FX"),))
    _, stems, _ = render_stems_audio(p, root=tmp_path, tail_s=0.0)
    fx = stems["FX"][0]
    # Post-fader send from a -144 dB fader: silent; the level ramps but the source is gone.
    assert np.abs(fx).max() < 1e-6
    p2 = p.model_copy(update={"tracks": (p.tracks[0].model_copy(update={
        "sends": (Send(to="FX", level_db=-20.0, pre_fader=True),)}),)})
    _, stems, _ = render_stems_audio(p2, root=tmp_path, tail_s=0.0)
    fx = stems["FX"][0]
    # Beats 0..2 are 0..1 s at 120 bpm: -20 dB to 0 dB, linear in dB.
    for t, level_db in ((0.0, -20.0), (0.25, -15.0), (0.5, -10.0), (0.75, -5.0), (1.5, 0.0)):
        assert 20 * math.log10(fx[int(t * SR)] / 0.5) == pytest.approx(level_db, abs=0.01)


def test_notes_inline_with_transpose(tmp_path: Path) -> None:
    p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(
        name="S", instrument=Device(type="synth", params={
            "osc1_wave": "sine", "osc2_level": 0.0, "osc3_level": 0.0, "unison": 1,
            "cutoff_hz": 20000.0}),
        clips=(Clip(start=0, transpose=12, notes=(Note(pitch="A3", start=0, length=2),)),)),))
    audio, _ = render_audio(p, root=tmp_path)
    seg = audio[0, SR // 4: SR // 4 + SR // 2]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(seg.size)))
    peak_hz = np.argmax(spectrum) * SR / seg.size
    assert peak_hz == pytest.approx(440.0, abs=2.0)  # A3 (220 Hz) up an octave


def test_streamed_and_cached_clips_render_the_same(tmp_path: Path, monkeypatch: object) -> None:
    """Files too big to keep are read block by block; the result must not change."""
    import mixdown.engine.sources as sources

    rng = np.random.default_rng(7)
    write_wav(tmp_path / "long.wav", (rng.standard_normal((2, 3 * SR)) * 0.1).astype(np.float32))
    p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(name="A", clips=(
        Clip(start="1:2", file="long.wav", offset_s=0.25, loop=True, length=10.0,
             fade_in_s=0.01, fade_out_s=0.5),)),))
    cached, _ = render_audio(p, root=tmp_path, block_frames=5000)
    monkeypatch.setattr(sources, "CACHE_SAMPLES", 0)  # type: ignore[attr-defined]
    streamed, _ = render_audio(p, root=tmp_path, block_frames=5000)
    np.testing.assert_array_equal(streamed, cached)
    assert np.abs(cached).max() > 0.1


def test_clip_at_another_rate_is_resampled_once(tmp_path: Path) -> None:
    from mixdown.services.project import check_project

    t = np.arange(44_100) / 44_100
    write_wav(tmp_path / "audio" / "tone44.wav",
              (0.5 * np.sin(2 * np.pi * 441.0 * t))[None].astype(np.float32), 44_100)
    (tmp_path / "song.toml").write_text(
        '[song]\ntempo = 120\ntail_s = 0.0\n\n[[track]]\nname = "A"\n'
        'clips = [{ start = 0, file = "audio/tone44.wav" }]\n')
    check_project(tmp_path)
    assert not (tmp_path / ".mixdown").exists()  # check writes nothing
    audio, sr = render_audio(tmp_path)
    assert sr == SR and audio.shape[1] == SR  # 1 s at 44.1 kHz is 48000 frames at 48 kHz
    seg = audio[0, 4800:43200]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(seg.size)))
    assert np.argmax(spectrum) * SR / seg.size == pytest.approx(441.0, abs=1.5)
    assert np.abs(seg).max() == pytest.approx(0.5, abs=0.01)
    cached = list((tmp_path / ".mixdown" / "cache").glob("*.wav"))
    assert len(cached) == 1
    render_audio(tmp_path)
    assert list((tmp_path / ".mixdown" / "cache").glob("*.wav")) == cached
