"""A version's musical time: bar:beat <-> seconds in the tempo map of its song.toml snapshot.

A whole-song render starts at beat 0 (bar 1 beat 1) at 0 s, so a position's seconds in the
version's audio are the tempo map's seconds of its beats.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass

from mixdown.core.errors import FormatError, ParameterError
from mixdown.core.time import MeterMap, TempoMap, parse_position, song_maps
from mixdown.io.project import document_to_project
from mixdown.model.project import Project


@dataclass(frozen=True, slots=True)
class Section:
    """A marker of the song: its name, bar:beat and start in seconds."""

    name: str
    bar: int
    beat: float
    seconds: float


@dataclass(frozen=True, slots=True)
class SongTiming:
    """Meter and tempo maps of one song.toml, with its sections."""

    meter: MeterMap
    tempo: TempoMap
    sections: tuple[Section, ...]

    def seconds(self, bar: int, beat: float = 1.0) -> float:
        """Seconds from the start of the render to ``bar:beat`` (bar and beat from 1)."""
        return self.tempo.beats_to_seconds(self.meter.bar_beat_to_beats(bar, beat))

    def bar_beat(self, seconds: float) -> tuple[int, float]:
        """The bar and beat at ``seconds``."""
        return self.meter.beats_to_bar_beat(self.tempo.seconds_to_beats(seconds))

    def bpm_at(self, bar: int, beat: float = 1.0) -> float:
        """Tempo in bpm at ``bar:beat``."""
        return self.tempo.bpm_at(self.meter.bar_beat_to_beats(bar, beat))


def parse_snapshot(text: str, label: str = "song.toml") -> Project:
    """A song.toml text as a validated :class:`Project` (model checks only, no files)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"{label}: malformed TOML ({exc})") from None
    return document_to_project(data, label=label)


def timing_of(project: Project) -> SongTiming:
    """The :class:`SongTiming` of a project."""
    s = project.song
    meter, tempo = song_maps(s.tempo, s.time_signature,
                             [(t.at, t.bpm, t.ramp) for t in s.tempo_map],
                             [(t.bar, *t.signature) for t in s.time_signatures])
    sections = []
    for m in project.markers:
        beats = parse_position(m.at, meter, tempo)
        bar, beat = meter.beats_to_bar_beat(beats)
        sections.append(Section(m.name, bar, beat, tempo.beats_to_seconds(beats)))
    sections.sort(key=lambda x: x.seconds)
    return SongTiming(meter, tempo, tuple(sections))


def check_bar_beat(bar: object, beat: object, what: str = "position") -> tuple[int, float]:
    """``(bar, beat)`` checked: bar an integer >= 1, beat a finite number >= 1."""
    if isinstance(bar, bool) or not isinstance(bar, int) or bar < 1:
        raise ParameterError(f"{what}: bar must be a whole number >= 1, got {bar!r}")
    if isinstance(beat, bool) or not isinstance(beat, int | float) \
            or not math.isfinite(beat) or beat < 1:
        raise ParameterError(f"{what}: beat must be a number >= 1, got {beat!r}")
    return int(bar), float(beat)


__all__ = ["Section", "SongTiming", "check_bar_beat", "parse_snapshot", "timing_of"]
