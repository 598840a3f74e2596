"""Positions -> beats -> seconds -> frames for one song at one sample rate."""

from __future__ import annotations

from typing import Any

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
