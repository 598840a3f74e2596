"""Chord symbols, voicings, voice leading and bar charts."""

from __future__ import annotations

import itertools

import pytest

from mixdown.core.errors import ModelError
from mixdown.model.chords import (
    Voicing,
    chart_bars,
    chord_pitches,
    chord_timeline,
    parse_chord,
    voice_chords,
)

NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def pcs(symbol: str) -> set[str]:
    c = parse_chord(symbol)
    tones = {NAMES[(c.root + i) % 12] for i in c.intervals}
    return tones | ({NAMES[c.bass]} if c.bass is not None else set())


@pytest.mark.parametrize(("symbol", "tones"), [
    ("Dm9", {"D", "F", "A", "C", "E"}),
    ("G13", {"G", "B", "D", "F", "A", "E"}),  # the 11th left out
    ("Cmaj9", {"C", "E", "G", "B", "D"}),
    ("A7b9", {"A", "C#", "E", "G", "A#"}),
    ("F#m7b5", {"F#", "A", "C", "E"}),
    ("Bbsus4", {"A#", "D#", "F"}),
    ("C/E", {"C", "E", "G"}),
    ("Cdim7", {"C", "D#", "F#", "A"}),
    ("Caug", {"C", "E", "G#"}),
    ("C6/9", {"C", "E", "G", "A", "D"}),
    ("Cm11", {"C", "D#", "G", "A#", "D", "F"}),
    ("C7#9", {"C", "E", "G", "A#", "D#"}),
    ("CmMaj7", {"C", "D#", "G", "B"}),
    ("Cø", {"C", "D#", "F#", "A#"}),
    ("C5", {"C", "G"}),
    ("Cadd9", {"C", "E", "G", "D"}),
    ("G7/B", {"G", "B", "D", "F"}),
])
def test_chord_tones(symbol: str, tones: set[str]) -> None:
    assert pcs(symbol) == tones


@pytest.mark.parametrize("symbol", ["H7", "Cxyz", "C/H", "Dm9z", "", "C5b9", "7"])
def test_unknown_symbols_are_named(symbol: str) -> None:
    with pytest.raises(ModelError, match=rf"unknown chord symbol {symbol!r}"):
        parse_chord(symbol)


def test_close_voicing_stacks_from_the_root_in_the_octave() -> None:
    assert chord_pitches(parse_chord("Dm9"), Voicing(octave=4)) == [62, 65, 69, 72, 76]
    assert chord_pitches(parse_chord("Cmaj7"), Voicing(octave=3)) == [48, 52, 55, 59]


def test_inversions_drop2_drop3_and_open() -> None:
    cmaj7 = parse_chord("Cmaj7")
    assert chord_pitches(cmaj7, Voicing(inversion=1)) == [64, 67, 71, 72]
    assert chord_pitches(cmaj7, Voicing(inversion=2)) == [67, 71, 72, 76]
    # drop 2: the second voice from the top goes down an octave
    assert chord_pitches(cmaj7, Voicing(style="drop2")) == [55, 60, 64, 71]
    assert chord_pitches(cmaj7, Voicing(style="drop3")) == [52, 60, 67, 71]
    assert chord_pitches(parse_chord("C"), Voicing(style="open")) == [60, 67, 76]
    assert chord_pitches(cmaj7, Voicing(style="open")) == [48, 55, 64, 71]  # drop 2 and 4


def test_slash_chord_puts_the_bass_below() -> None:
    assert chord_pitches(parse_chord("C/E"), Voicing()) == [52, 60, 64, 67]
    assert chord_pitches(parse_chord("Am/G"), Voicing(octave=3)) == [55, 57, 60, 64]


def test_voice_leading_moves_least() -> None:
    plain = voice_chords([parse_chord(s) for s in ("C", "F", "G", "C")], Voicing())
    led = voice_chords([parse_chord(s) for s in ("C", "F", "G", "C")],
                       Voicing(voice_leading=True))
    assert plain == [[60, 64, 67], [65, 69, 72], [67, 71, 74], [60, 64, 67]]
    assert led == [[60, 64, 67], [60, 65, 69], [59, 62, 67], [60, 64, 67]]

    def motion(chords: list[list[int]]) -> int:
        return sum(sum(abs(a - b) for a, b in zip(x, y, strict=True))
                   for x, y in itertools.pairwise(chords))

    assert motion(led) < motion(plain)
    # same tones, other inversions
    for a, b in zip(plain, led, strict=True):
        assert {p % 12 for p in a} == {p % 12 for p in b}


def test_chart_bars_and_timeline() -> None:
    assert chart_bars("Dm9 . G13 . | Cmaj9 |\n% | A7b9") == [
        ["Dm9", ".", "G13", "."], ["Cmaj9"], ["Cmaj9"], ["A7b9"]]
    timeline = chord_timeline("Dm9 . G13 . | Cmaj9 | - A7b9", [4.0, 4.0, 4.0])
    assert timeline == [(0.0, 2.0, "Dm9"), (2.0, 4.0, "G13"), (4.0, 8.0, "Cmaj9"),
                        (10.0, 12.0, "A7b9")]
    listed = chord_timeline(((0.0, "C"), ("2:3", "F")), None,
                            lambda bar, beat: (bar - 1) * 4 + beat - 1, 8.0)
    assert listed == [(0.0, 6.0, "C"), (6.0, 8.0, "F")]
    with pytest.raises(ModelError, match="first bar"):
        chart_bars("% | C")
