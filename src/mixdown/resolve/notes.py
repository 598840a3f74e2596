"""Note clips -> note events in frames: patterns, inline notes and MIDI files, with swing
and seeded humanize."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mixdown.dsp.base import NoteEvent
from mixdown.model.project import PATTERN_CHARS, Clip, Note
from mixdown.resolve.timeline import Timeline

_EPS = 1e-9


def steps(text: str) -> str:
    """A pattern's steps without the spaces and bar lines that group them."""
    return text.replace(" ", "").replace("|", "")


def clip_length_beats(clip: Clip, tl: Timeline, start_b: float) -> float | None:
    """A clip's length in beats, when the clip says it (length, bars or a pattern)."""
    if clip.length is not None:
        return clip.length
    if clip.bars is not None:
        return tl.meter.bars_to_beats(start_b, clip.bars)
    if clip.pattern:
        return max(len(steps(s)) for s in clip.pattern.values()) * clip.step
    return None


def _swung(start: float, clip: Clip) -> float:
    """Delay a note that starts on an odd step of the clip's grid by ``swing * step``."""
    if clip.swing == 0.0:
        return 0.0
    k = start / clip.step
    n = round(k)
    if abs(k - n) < 1e-6 and n % 2 == 1:
        return clip.swing * clip.step
    return 0.0


def raw_notes(clip: Clip, notes: Sequence[Note], drums: dict[str, int],
              start_b: float, length_b: float | None) -> list[tuple[float, float, int, int]]:
    """(start beats, end beats, pitch, velocity) of a clip's notes in song beats."""
    raw: list[tuple[float, float, int, int]] = []
    if clip.pattern:
        for voice, text in clip.pattern.items():
            st = steps(text)
            period = len(st) * clip.step
            reps = 1 if length_b is None else math.ceil(length_b / period - _EPS)
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
    for note in notes:
        s = start_b + note.start + _swung(note.start, clip)
        raw.append((s, s + note.length, note.pitch + clip.transpose, note.velocity))
    return raw


def note_events(clip: Clip, raw: list[tuple[float, float, int, int]], tl: Timeline,
                start_b: float, length_b: float | None, stop: int) -> list[NoteEvent]:
    """Events in frames, cut at the clip's end and at ``stop`` (pitches outside 0..127,
    which resolve reports, are left out)."""
    if not raw:
        return []
    clip_end_b = start_b + length_b if length_b is not None else math.inf
    table = np.array(raw, dtype=np.float64).reshape(-1, 4)
    s_b, e_b = table[:, 0], np.minimum(table[:, 1], clip_end_b)
    starts = tl.frames_of_beats(s_b)
    ends = tl.frames_of_beats(e_b)
    pitches = table[:, 2].astype(np.int64)
    vels = table[:, 3].astype(np.int64)
    hz = clip.humanize
    if hz is not None:
        rng = np.random.default_rng(hz.seed)
        shift = np.round(rng.uniform(-hz.timing_ms, hz.timing_ms, len(raw)) / 1000.0
                         * tl.sample_rate).astype(np.int64)
        dvel = rng.integers(-hz.velocity, hz.velocity + 1, len(raw))
        starts = np.maximum(starts + shift, 0)
        ends = np.maximum(ends + shift, 0)
        vels = np.clip(vels + dvel, 1, 127)
    keep = ((s_b < clip_end_b - _EPS) & (starts < stop) & (pitches >= 0) & (pitches <= 127))
    ends = np.minimum(ends, stop)
    keep &= ends > starts
    return [NoteEvent(int(s), int(e), float(p), int(v))
            for s, e, p, v in zip(starts[keep], ends[keep], pitches[keep], vels[keep],
                                  strict=True)]
