"""What a note clip plays, in beats: pattern steps, chords, swing, transposition (in
semitones and in scale degrees), scale quantising, the arpeggiator and loops applied.

One definition for the renderer (through :mod:`mixdown.resolve`) and for MIDI export, so a
song exports exactly the notes it renders. A clip that places a definition (``use``) is first
turned into the clip it plays by :func:`mixdown.model.clips.placed_clip`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from mixdown.core.time import MeterMap
from mixdown.model.arp import arpeggiate
from mixdown.model.chords import Voicing, chart_bars, chord_timeline, parse_chord, voice_chords
from mixdown.model.keys import Key
from mixdown.model.project import PATTERN_CHARS, Clip

EPS = 1e-9
"""Beats: a note starting this close to a clip's end is past it."""

RawNote = tuple[float, float, int, int]
"""(start beats, end beats, MIDI pitch, velocity 1..127)."""


def steps(text: str) -> str:
    """A pattern's steps without the spaces and bar lines that group them."""
    return text.replace(" ", "").replace("|", "")


def clip_length_beats(clip: Clip, meter: MeterMap, start_b: float) -> float | None:
    """A clip's length in beats, when the clip says it (length, bars or a pattern)."""
    if clip.length is not None:
        return clip.length
    if clip.bars is not None:
        return meter.bars_to_beats(start_b, clip.bars)
    if clip.pattern:
        return max(len(steps(s)) for s in clip.pattern.values()) * clip.step
    if isinstance(clip.chords, str):
        return meter.bars_to_beats(start_b, len(chart_bars(clip.chords)))
    return None


def chord_notes(clip: Clip, meter: MeterMap, start_b: float, length_b: float | None
                ) -> list[tuple[float, float, int, int]]:
    """The notes of a chord clip, (start, length, pitch, velocity) in beats from its start.

    Raises
    ------
    ModelError
        An unknown chord symbol or a malformed chart (resolve reports these first).
    """
    assert clip.chords is not None
    bar_beats = None
    if isinstance(clip.chords, str):
        bar_beats, t = [], start_b
        for _ in chart_bars(clip.chords):
            bar_beats.append(meter.bars_to_beats(t, 1))
            t += bar_beats[-1]
    bar0 = meter.beats_to_bar_beat(start_b)[0]

    def bar_of(bar: int, beat: float) -> float:
        return meter.bar_beat_to_beats(bar0 + bar - 1, beat) - start_b

    timeline = chord_timeline(clip.chords, bar_beats, bar_of, length_b)
    voicing = clip.voicing or Voicing()
    voiced = voice_chords([parse_chord(sym) for _, _, sym in timeline], voicing)
    return [(a, b - a, p, voicing.velocity)
            for (a, b, _), pitches in zip(timeline, voiced, strict=True) for p in pitches]


def map_pitch(pitch: int, clip: Clip, key: Key | None) -> int:
    """A note's pitch after the clip's ``transpose_degrees`` (in ``key``), ``transpose``
    (semitones) and ``scale_quantize`` (to ``key``), in that order."""
    if clip.transpose_degrees and key is not None:
        pitch = key.transpose_degrees(pitch, clip.transpose_degrees)
    pitch += clip.transpose
    if clip.scale_quantize and key is not None:
        pitch = key.quantize(pitch)
    return pitch


def swing_offset(start: float, clip: Clip) -> float:
    """Beats by which a note starting ``start`` beats into the clip is delayed: swing moves
    notes on odd steps of the clip's grid by ``swing * step``."""
    if clip.swing == 0.0:
        return 0.0
    k = start / clip.step
    n = round(k)
    if abs(k - n) < 1e-6 and n % 2 == 1:
        return clip.swing * clip.step
    return 0.0


def raw_notes(clip: Clip, notes: Iterable[tuple[float, float, int, int]],
              drums: dict[str, int], start_b: float, length_b: float | None, *,
              meter: MeterMap | None = None, key: Key | None = None,
              period_b: float | None = None) -> list[RawNote]:
    """Every note of a clip in song beats (not yet cut at the clip's end).

    Parameters
    ----------
    clip : Clip
        A note clip (pattern, inline notes or a MIDI file).
    notes : iterable of (start, length, pitch, velocity)
        The clip's notes in beats from its start (ignored for a pattern).
    drums : dict
        Drum voice name -> MIDI note, for patterns.
    start_b, length_b : float
        Where the clip starts and how long it is, in song beats.
    meter : MeterMap, optional
        The song's meter (needed by chord clips).
    key : Key, optional
        The song's key (needed by ``transpose_degrees`` and ``scale_quantize``).
    period_b : float, optional
        For a looped placement: the definition's length in beats. Its notes (cut there)
        repeat every ``period_b`` beats until ``length_b``.
    """
    if period_b is not None and length_b is not None:
        once = raw_notes(clip, notes, drums, start_b, period_b, meter=meter, key=key)
        end = start_b + period_b
        once = [(s, min(e, end), p, v) for s, e, p, v in once if s < end - EPS]
        reps = math.ceil(length_b / period_b - EPS)
        return [(s + r * period_b, e + r * period_b, p, v)
                for r in range(reps) for s, e, p, v in once]
    raw: list[RawNote] = []
    if clip.pattern:
        for voice, text in clip.pattern.items():
            st = steps(text)
            period = len(st) * clip.step
            reps = 1 if length_b is None else math.ceil(length_b / period - EPS)
            for r in range(reps):
                for k, ch in enumerate(st):
                    vel = PATTERN_CHARS[ch]
                    if vel == 0:
                        continue
                    b = r * period + k * clip.step
                    if k % 2 == 1:
                        b += clip.swing * clip.step
                    raw.append((start_b + b, start_b + b + clip.step, drums[voice], vel))
        return raw
    if clip.chords:
        assert meter is not None, "chord clips need the song's meter"
        notes = chord_notes(clip, meter, start_b, length_b)
    if clip.transpose_degrees or clip.scale_quantize or clip.arp is not None:
        notes = [(st, ln, map_pitch(int(p), clip, key), int(v)) for st, ln, p, v in notes]
        if clip.arp is not None:
            notes = arpeggiate(notes, clip.arp)
        for start, length, pitch, velocity in notes:
            s = start_b + start + swing_offset(start, clip)
            raw.append((s, s + length, int(pitch), int(velocity)))
        return raw
    for start, length, pitch, velocity in notes:
        s = start_b + start + swing_offset(start, clip)
        raw.append((s, s + length, int(pitch) + clip.transpose, int(velocity)))
    return raw
