"""Note clips -> note events in frames (what a clip plays in beats is
:mod:`mixdown.model.notes`), with seeded humanize."""

from __future__ import annotations

import math

import numpy as np

from mixdown.dsp.base import NoteEvent
from mixdown.model.notes import EPS, clip_length_beats, raw_notes, steps
from mixdown.model.project import Clip
from mixdown.resolve.timeline import Timeline

__all__ = ["clip_length_beats", "note_events", "raw_notes", "steps"]

_EPS = EPS


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
