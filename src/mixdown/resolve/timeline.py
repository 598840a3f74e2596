"""Positions -> beats -> seconds -> frames for one song at one sample rate."""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mixdown.core.time import MeterMap, TempoMap, parse_position


class Timeline:
    """The song's meter and tempo maps (built once per resolve) at a sample rate in Hz."""

    def __init__(self, meter: MeterMap, tempo: TempoMap, sample_rate: int) -> None:
        self.meter, self.tempo, self.sample_rate = meter, tempo, sample_rate

    def beats(self, position: Any) -> float:
        """A model position as beats."""
        return parse_position(position, self.meter, self.tempo)

    def frame_of_beats(self, beats: float) -> int:
        """The frame at ``beats`` (nearest sample)."""
        return self.tempo.beats_to_frames(beats, self.sample_rate)

    def frame(self, position: Any) -> int:
        """The frame at a model position."""
        return self.frame_of_beats(self.beats(position))

    def exact_frame(self, position: Any) -> float:
        """The (fractional) frame at a model position, for smooth automation."""
        return self.tempo.beats_to_seconds(self.beats(position)) * self.sample_rate

    def frames_of_beats(self, beats: NDArray[np.float64]) -> NDArray[np.int64]:
        """:meth:`frame_of_beats` of many positions (>= 0), with the same float operations in
        the same order, so every frame is the one the scalar path gives."""
        tempo = self.tempo
        segs = tempo._segments
        if any(seg.slope != 0.0 for seg in segs):  # ramps: the scalar closed form
            return np.array([self.frame_of_beats(float(b)) for b in beats], np.int64)
        idx = np.array([bisect.bisect_right(tempo._starts, float(b)) - 1
                        for b in beats], np.int64) if len(segs) > 1 else \
            np.zeros(len(beats), np.int64)
        b0 = np.array([s.b0 for s in segs])[idx]
        t0 = np.array([s.t0 for s in segs])[idx]
        bpm0 = np.array([s.bpm0 for s in segs])[idx]
        seconds = t0 + (beats - b0) * 60.0 / bpm0
        return np.floor(seconds * self.sample_rate + 0.5).astype(np.int64)
