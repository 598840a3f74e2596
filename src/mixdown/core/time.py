"""Musical time: the tempo map and the time-signature map.

Positions in a project are musical (beats, where a beat is a quarter note, or
``bar:beat`` strings) or, where a user wants them, seconds. This module is the one
place where beats become seconds and frames.

Tempo ramps are linear *in beats*: across a ramp from ``bpm0`` at beat ``b0`` to
``bpm1`` at beat ``b1`` the tempo is ``bpm(b) = bpm0 + k (b - b0)`` with
``k = (bpm1 - bpm0) / (b1 - b0)``, so the elapsed time is the closed form
``t = 60 / k * ln(bpm(b) / bpm0)`` and its inverse is exact too.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from dataclasses import dataclass
from typing import NewType

from mixdown.core.errors import ModelError, ParameterError

Beats = NewType("Beats", float)
Seconds = NewType("Seconds", float)


@dataclass(frozen=True, slots=True)
class TempoPoint:
    """A tempo at a beat; ``ramp`` makes the tempo glide linearly from the previous point."""

    beat: float
    bpm: float
    ramp: bool = False


@dataclass(frozen=True, slots=True)
class _Segment:
    b0: float
    b1: float  # math.inf for the last segment
    bpm0: float
    bpm1: float
    t0: float

    @property
    def slope(self) -> float:
        if self.b1 == math.inf or self.bpm1 == self.bpm0:
            return 0.0
        return (self.bpm1 - self.bpm0) / (self.b1 - self.b0)


class TempoMap:
    """Tempo steps and linear ramps; converts beats <-> seconds in closed form.

    Parameters
    ----------
    points : sequence of TempoPoint
        The first must be at beat 0; beats strictly increasing; bpm > 0 and finite.
    """

    __slots__ = ("_segments", "_starts", "_times", "points")

    def __init__(self, points: tuple[TempoPoint, ...] | list[TempoPoint]) -> None:
        pts = tuple(points)
        if not pts:
            raise ModelError("tempo map is empty; give at least one tempo")
        if pts[0].beat != 0:
            raise ModelError(
                f"the first tempo must be at the song start (beat 0), got {pts[0].beat}")
        for p in pts:
            if not (math.isfinite(p.bpm) and p.bpm > 0):
                raise ModelError(f"tempo must be a finite number > 0 bpm, got {p.bpm}")
            if not math.isfinite(p.beat):
                raise ModelError(f"tempo position must be finite, got {p.beat}")
        for a, b in itertools.pairwise(pts):
            if b.beat <= a.beat:
                raise ModelError(
                    f"tempo changes must be in time order; beat {b.beat} comes after {a.beat}"
                )
        self.points = pts
        segs: list[_Segment] = []
        t = 0.0
        for i, p in enumerate(pts):
            nxt = pts[i + 1] if i + 1 < len(pts) else None
            b1 = nxt.beat if nxt else math.inf
            bpm1 = nxt.bpm if (nxt and nxt.ramp) else p.bpm
            seg = _Segment(p.beat, b1, p.bpm, bpm1, t)
            segs.append(seg)
            if nxt:
                t = seg.t0 + _seg_seconds(seg, b1)
        self._segments = tuple(segs)
        self._starts = [s.b0 for s in segs]
        self._times = [s.t0 for s in segs]

    @classmethod
    def constant(cls, bpm: float) -> TempoMap:
        """A map with one tempo for the whole song."""
        return cls([TempoPoint(0.0, bpm)])

    def bpm_at(self, beats: float) -> float:
        """Tempo in bpm at ``beats``."""
        seg = self._segments[max(0, bisect.bisect_right(self._starts, beats) - 1)]
        return seg.bpm0 + seg.slope * (beats - seg.b0)

    def beats_to_seconds(self, beats: float) -> float:
        """Seconds from the song start at ``beats`` (quarter notes from the start)."""
        if not math.isfinite(beats) or beats < 0:
            raise ParameterError(f"beats must be finite and >= 0, got {beats}")
        seg = self._segments[bisect.bisect_right(self._starts, beats) - 1]
        return seg.t0 + _seg_seconds(seg, beats)

    def seconds_to_beats(self, seconds: float) -> float:
        """Beats (quarter notes from the start) at ``seconds``."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ParameterError(f"seconds must be finite and >= 0, got {seconds}")
        seg = self._segments[bisect.bisect_right(self._times, seconds) - 1]
        dt = seconds - seg.t0
        k = seg.slope
        if k == 0.0:
            return seg.b0 + dt * seg.bpm0 / 60.0
        bpm = seg.bpm0 * math.exp(k * dt / 60.0)
        return seg.b0 + (bpm - seg.bpm0) / k

    def beats_to_frames(self, beats: float, sample_rate: int) -> int:
        """The frame (sample index) at ``beats``, rounded to the nearest sample."""
        return seconds_to_frames(self.beats_to_seconds(beats), sample_rate)


def _seg_seconds(seg: _Segment, beats: float) -> float:
    db = beats - seg.b0
    k = seg.slope
    if k == 0.0:
        return db * 60.0 / seg.bpm0
    return 60.0 / k * math.log((seg.bpm0 + k * db) / seg.bpm0)


def seconds_to_frames(seconds: float, sample_rate: int) -> int:
    """Seconds to the nearest frame index (halves round up)."""
    return math.floor(seconds * sample_rate + 0.5)


@dataclass(frozen=True, slots=True)
class TimeSignature:
    """A time signature that starts at ``bar`` (1-based)."""

    bar: int
    numerator: int
    denominator: int

    @property
    def beats_per_bar(self) -> float:
        """Length of one bar in quarter-note beats."""
        return self.numerator * 4.0 / self.denominator


class MeterMap:
    """Time-signature changes at bar lines; converts ``bar:beat`` to beats.

    A ``bar:beat`` beat counts in the signature's own unit (eighths in 6/8).
    """

    __slots__ = ("_start_beats", "signatures")

    def __init__(self, signatures: tuple[TimeSignature, ...] | list[TimeSignature]) -> None:
        sigs = tuple(signatures)
        if not sigs or sigs[0].bar != 1:
            raise ModelError("the first time signature must start at bar 1")
        for s in sigs:
            if s.numerator < 1 or s.denominator not in (1, 2, 4, 8, 16, 32):
                raise ModelError(
                    f"time signature {s.numerator}/{s.denominator} at bar {s.bar} is invalid; "
                    "numerator >= 1, denominator one of 1, 2, 4, 8, 16, 32"
                )
        for a, b in itertools.pairwise(sigs):
            if b.bar <= a.bar:
                raise ModelError(f"time signature changes must be in bar order (bar {b.bar})")
        starts = [0.0]
        for a, b in itertools.pairwise(sigs):
            starts.append(starts[-1] + (b.bar - a.bar) * a.beats_per_bar)
        self.signatures = sigs
        self._start_beats = starts

    @classmethod
    def constant(cls, numerator: int = 4, denominator: int = 4) -> MeterMap:
        """One signature for the whole song."""
        return cls([TimeSignature(1, numerator, denominator)])

    def signature_at_bar(self, bar: int) -> TimeSignature:
        """The signature in force at ``bar`` (1-based)."""
        i = bisect.bisect_right([s.bar for s in self.signatures], bar) - 1
        return self.signatures[max(i, 0)]

    def bar_beat_to_beats(self, bar: int, beat: float = 1.0) -> float:
        """Beats from the start at ``bar:beat`` (both 1-based; beat may be fractional)."""
        if bar < 1 or beat < 1:
            raise ModelError(f"bar and beat are counted from 1, got {bar}:{beat}")
        i = max(bisect.bisect_right([s.bar for s in self.signatures], bar) - 1, 0)
        sig = self.signatures[i]
        if beat >= sig.numerator + 1:
            raise ModelError(
                f"beat {beat:g} is past the end of bar {bar} in {sig.numerator}/{sig.denominator}"
            )
        return (
            self._start_beats[i]
            + (bar - sig.bar) * sig.beats_per_bar
            + (beat - 1.0) * 4.0 / sig.denominator
        )

    def bars_to_beats(self, start_beats: float, bars: float) -> float:
        """Length in beats of ``bars`` bars starting at ``start_beats``."""
        total = 0.0
        pos = start_beats
        remaining = bars
        while remaining > 1e-12:
            i = max(bisect.bisect_right(self._start_beats, pos + 1e-9) - 1, 0)
            sig = self.signatures[i]
            seg_end = self._start_beats[i + 1] if i + 1 < len(self._start_beats) else math.inf
            bars_here = (seg_end - pos) / sig.beats_per_bar
            take = min(remaining, bars_here)
            total += take * sig.beats_per_bar
            pos += take * sig.beats_per_bar
            remaining -= take
        return total

    def beats_to_bar_beat(self, beats: float) -> tuple[int, float]:
        """Inverse of :meth:`bar_beat_to_beats`."""
        i = max(bisect.bisect_right(self._start_beats, beats + 1e-9) - 1, 0)
        sig = self.signatures[i]
        rel = beats - self._start_beats[i]
        bar_off = math.floor(rel / sig.beats_per_bar + 1e-9)
        beat = (rel - bar_off * sig.beats_per_bar) * sig.denominator / 4.0 + 1.0
        return sig.bar + bar_off, beat


_BAR_BEAT = re.compile(r"^\s*(\d+)\s*:\s*(\d+(?:\.\d+)?)\s*$")
_SECONDS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*s\s*$")


def parse_position(value: object, meter: MeterMap, tempo: TempoMap) -> float:
    """Resolve a position to beats from the song start.

    Accepts a number (beats, 0 = song start), ``"bar:beat"`` (1-based, e.g. ``"5:1"``,
    ``"3:2.5"``) or seconds as ``"12.5s"``.
    """
    if isinstance(value, bool):
        raise ModelError(f"a position must be beats, 'bar:beat' or '<n>s', got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ModelError(f"a position in beats must be finite and >= 0, got {value}")
        return float(value)
    if isinstance(value, str):
        m = _BAR_BEAT.match(value)
        if m:
            return meter.bar_beat_to_beats(int(m.group(1)), float(m.group(2)))
        m = _SECONDS.match(value)
        if m:
            return tempo.seconds_to_beats(float(m.group(1)))
    raise ModelError(
        f"a position must be beats (16), 'bar:beat' ('5:1') or seconds ('12.5s'), got {value!r}"
    )


def is_position(value: object) -> bool:
    """True if ``value`` has the syntax of a position (not checked against a song)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value) and value >= 0
    return isinstance(value, str) and bool(_BAR_BEAT.match(value) or _SECONDS.match(value))


class SongMapError(ModelError):
    """A tempo or meter problem, with ``path`` the place in ``[song]`` it comes from."""

    def __init__(self, message: str, path: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.path = path


def song_maps(tempo: float, time_signature: tuple[int, int],
              tempo_points: list[tuple[object, float, bool]] | tuple[()] = (),
              signatures: list[tuple[int, int, int]] | tuple[()] = ()
              ) -> tuple[MeterMap, TempoMap]:
    """The meter and tempo maps of a song (the one place they are built).

    Parameters
    ----------
    tempo : float
        bpm from the start, unless a tempo point sits at beat 0.
    time_signature : (int, int)
        The signature at bar 1, unless ``signatures`` has one at bar 1.
    tempo_points : list of (position, bpm, ramp)
        Tempo changes; positions are beats or ``"bar:beat"`` (not seconds).
    signatures : list of (bar, numerator, denominator)
        Time-signature changes.

    Raises
    ------
    SongMapError
        With ``path`` naming ``("song", "tempo_map", i, "at")`` and the like.
    """
    try:
        if any(bar == 1 for bar, _, _ in signatures):
            meter = MeterMap([TimeSignature(*s) for s in signatures])
        else:
            meter = MeterMap([TimeSignature(1, *time_signature)]
                             + [TimeSignature(*s) for s in signatures])
    except ModelError as exc:
        raise SongMapError(str(exc), ("song", "time_signatures")) from None
    constant = TempoMap.constant(tempo)
    points = []
    for i, (at, bpm, ramp) in enumerate(tempo_points):
        if isinstance(at, str) and at.strip().endswith("s"):
            raise SongMapError("tempo changes are placed in beats or 'bar:beat', not seconds, "
                               f"got {at!r}", ("song", "tempo_map", i, "at"))
        try:
            points.append(TempoPoint(parse_position(at, meter, constant), bpm, ramp))
        except ModelError as exc:
            raise SongMapError(str(exc), ("song", "tempo_map", i, "at")) from None
    points.sort(key=lambda p: p.beat)
    if not points or points[0].beat > 0:
        points.insert(0, TempoPoint(0.0, tempo))
    try:
        return meter, TempoMap(points)
    except ModelError as exc:
        raise SongMapError(str(exc), ("song", "tempo_map")) from None
