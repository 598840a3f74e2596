"""What a note clip plays, in beats: pattern steps, swing and transposition applied.

One definition for the renderer (through :mod:`mixdown.resolve`) and for MIDI export, so a
song exports exactly the notes it renders.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from mixdown.core.time import MeterMap
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
    return None


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
              drums: dict[str, int], start_b: float, length_b: float | None) -> list[RawNote]:
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
    """
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
    for start, length, pitch, velocity in notes:
        s = start_b + start + swing_offset(start, clip)
        raw.append((s, s + length, int(pitch) + clip.transpose, int(velocity)))
    return raw
