"""The composing tools, measured in rendered audio: every chord symbol sounds its tones
(spectrum of a sine synth), and the arpeggiator's notes start on its tempo-synced grid."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from mixdown import Clip, Device, Project, Song, Track
from mixdown.model.arp import Arp
from mixdown.model.chords import Voicing
from mixdown.services.render import render_audio

SR = 48_000
SINE = {"osc1_wave": "sine", "osc2_level": 0.0, "osc3_level": 0.0, "unison": 1,
        "cutoff_hz": 20000.0, "attack_s": 0.002, "decay_s": 0.0, "sustain": 1.0,
        "release_s": 0.01, "velocity_sens": 0.0}
NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]

# The chord tones of each symbol, from music theory (the 11th of a 13th chord left out).
CHORDS = {
    "Dm9": {"D", "F", "A", "C", "E"},
    "G13": {"G", "B", "D", "F", "A", "E"},
    "Cmaj9": {"C", "E", "G", "B", "D"},
    "A7b9": {"A", "C#", "E", "G", "A#"},
    "F#m7b5": {"F#", "A", "C", "E"},
    "Bbsus4": {"A#", "D#", "F"},
    "C/E": {"E", "C", "G"},
}


def sounding_pitches(seg: np.ndarray, floor_db: float = -25.0) -> set[int]:
    """MIDI pitches of the spectral peaks within ``floor_db`` of the strongest."""
    spec = np.abs(np.fft.rfft(seg * np.hanning(seg.size)))
    hz = np.fft.rfftfreq(seg.size, 1 / SR)
    level = 20 * np.log10(spec / spec.max() + 1e-12)
    peaks = np.flatnonzero((level[1:-1] > floor_db) & (spec[1:-1] >= spec[:-2])
                           & (spec[1:-1] >= spec[2:])) + 1
    return {round(69 + 12 * np.log2(hz[i] / 440.0)) for i in peaks}


def test_every_chord_symbol_sounds_its_tones(tmp_path: Path) -> None:
    chart = " | ".join(CHORDS)
    p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(
        name="Keys", instrument=Device(type="synth", params=SINE),
        clips=(Clip(start=0, chords=chart, voicing=Voicing(octave=3)),)),))
    audio, sr = render_audio(p, root=tmp_path)
    assert sr == SR
    bar = 2 * SR  # 4/4 at 120 bpm
    for i, (symbol, tones) in enumerate(CHORDS.items()):
        seg = audio[0, i * bar + SR // 4: (i + 1) * bar - SR // 8]
        pitches = sounding_pitches(seg)
        assert {NAMES[p % 12] for p in pitches} == tones, symbol
        # one pitch per tone (C/E: the bass E below the chord's own E)
        assert len(pitches) == len(tones) + (symbol == "C/E"), (symbol, sorted(pitches))
    slash = sounding_pitches(audio[0, 6 * bar + SR // 4: 7 * bar - SR // 8])
    assert min(slash) % 12 == 4  # C/E: E is the lowest tone


def test_drop2_and_voice_leading_sound_as_voiced(tmp_path: Path) -> None:
    p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(
        name="Keys", instrument=Device(type="synth", params=SINE),
        clips=(Clip(start=0, chords="Cmaj7 | C | F | G",
                    voicing=Voicing(style="drop2", octave=4, voice_leading=True)),)),))
    audio, _ = render_audio(p, root=tmp_path)
    bar = 2 * SR
    got = [sorted(sounding_pitches(audio[0, i * bar + SR // 4: (i + 1) * bar - SR // 8]))
           for i in range(4)]
    assert got[0] == [55, 60, 64, 71]  # Cmaj7 drop 2: G3 C4 E4 B4
    assert [{p % 12 for p in g} for g in got[1:]] == [{0, 4, 7}, {5, 9, 0}, {7, 11, 2}]
    # voice leading: three voices move 6 semitones or less in all from chord to chord
    # (root positions, C -> F -> G, would move 15 and 6)
    for a, b in itertools.pairwise(got[1:]):
        assert sum(abs(x - y) for x, y in zip(a, b, strict=True)) <= 6


def onsets(x: np.ndarray, threshold: float = 1e-3, gap: int = 600) -> list[int]:
    loud = np.flatnonzero(np.abs(x) > threshold)
    starts = [int(loud[0])]
    starts += [int(loud[g + 1]) for g in np.flatnonzero(np.diff(loud) > gap)]
    return starts


def pitch_at(x: np.ndarray, start: int, frames: int) -> int:
    seg = np.zeros(1 << 16)
    seg[:frames] = x[start + 200: start + 200 + frames]
    spec = np.abs(np.fft.rfft(seg))
    hz = np.argmax(spec) * SR / seg.size
    return round(69 + 12 * np.log2(hz / 440.0))


@pytest.mark.parametrize(("mode", "order"), [
    ("up", [60, 64, 67, 72, 76, 79]),
    ("down", [79, 76, 72, 67, 64, 60]),
    ("up-down", [60, 64, 67, 72, 76, 79, 76, 72, 67, 64]),
])
def test_arpeggiator_notes_start_on_the_grid(tmp_path: Path, mode: str,
                                             order: list[int]) -> None:
    # C major held for 4 beats at 120 bpm; 1/16 steps (0.125 s), two octaves, gate 0.5
    p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(
        name="Arp", instrument=Device(type="synth", params=SINE),
        clips=(Clip(start=1, length=4, chords="C", voicing=Voicing(octave=4),
                    arp=Arp(mode=mode, rate="1/16", octaves=2, gate=0.5)),)),))
    audio, _ = render_audio(p, root=tmp_path)
    x = audio[0]
    step = SR // 8
    found = onsets(x)
    expected = [SR // 2 + k * step for k in range(16)]
    assert len(found) == 16
    assert max(abs(a - b) for a, b in zip(found, expected, strict=True)) <= SR // 1000  # 1 ms
    # each note sounds for half a step: silent again within the step
    assert np.abs(x[expected[0] + step // 2 + 800: expected[1] - 10]).max() < 1e-3
    pitches = [pitch_at(x, s, step // 2 - 400) for s in found]
    assert pitches == [order[k % len(order)] for k in range(16)]


def test_random_arpeggio_is_seeded(tmp_path: Path) -> None:
    def render(seed: int) -> np.ndarray:
        p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(
            name="Arp", instrument=Device(type="synth", params=SINE),
            clips=(Clip(start=0, length=4, chords="Am7", voicing=Voicing(octave=4),
                        arp=Arp(mode="random", rate="1/8", seed=seed)),)),))
        return render_audio(p, root=tmp_path)[0]

    a, b, c = render(1), render(1), render(2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    x = a[0]
    found = onsets(x)
    assert len(found) == 8
    pitches = {pitch_at(x, s, SR // 8 - 400) for s in found}
    assert pitches <= {69, 72, 76, 79} and len(pitches) >= 2
