"""What the player draws: waveform peaks, loudness curve, sections, timing, bar grid."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mixdown.review.places import inside
from mixdown.review.timing import Section, SongTiming, parse_snapshot, timing_of
from mixdown.review.waveform import LoudnessCurve, Peaks, load_curve, load_peaks, reduce_peaks
from mixdown.services.review.references import Reference
from mixdown.services.review.studio import Studio
from mixdown.services.review.versions import Version


def sections(studio: Studio, version: Version) -> tuple[Section, ...]:
    """The song's sections (markers) in ``version``: name, bar:beat and seconds."""
    return _timing(studio, version).sections


def version_timing(studio: Studio, version: Version) -> SongTiming:
    """``version``'s meter and tempo maps (from its song.toml snapshot; cached):
    ``seconds(bar, beat)``, ``bar_beat(seconds)``, ``bpm_at(bar, beat)``."""
    return _timing(studio, version)


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a version: its number, start (seconds) and beat length (seconds)."""

    bar: int
    seconds: float
    beat_s: float
    beats: float

    def as_dict(self) -> dict[str, Any]:
        """``{"bar", "seconds", "beat_s", "beats"}`` (seconds to 0.1 ms)."""
        return {"bar": self.bar, "seconds": round(self.seconds, 4),
                "beat_s": round(self.beat_s, 5), "beats": self.beats}


def bar_grid(studio: Studio, version: Version) -> tuple[Bar, ...]:
    """Every bar that starts within ``version``'s audio, in its own tempo map (cached)."""
    got = studio._grids.get(version.id)
    if got is not None:
        return got
    timing = _timing(studio, version)
    bars = []
    bar = 1
    start = timing.seconds(1, 1.0)
    while start <= version.duration_s and bar <= 100_000:
        beats = timing.meter.signature_at_bar(bar).beats_per_bar
        end = timing.seconds(bar + 1, 1.0)
        bars.append(Bar(bar, start, (end - start) / beats, beats))
        bar, start = bar + 1, end
    got = tuple(bars)
    with studio._lock:
        studio._grids[version.id] = got
    return got


def peaks(studio: Studio, item: Version | Reference,
          points_per_second: float | None = None) -> Peaks:
    """The waveform peaks of a version or reference (min/max pairs, channels merged), at
    about ``points_per_second`` (default: the stored 200 per second). Read from the store
    once, then cached."""
    key = (item.folder, 0, None)
    base = studio._peaks.get(key)
    if base is None:
        base = load_peaks(inside(studio.store, item.folder))
        with studio._lock:
            studio._peaks[key] = base
    if points_per_second is None:
        return base
    rkey = (item.folder, 0, float(points_per_second))
    got = studio._peaks.get(rkey)
    if got is None:
        got = reduce_peaks(base, points_per_second)
        with studio._lock:
            studio._peaks[rkey] = got
    return got


def peaks_json(studio: Studio, item: Version | Reference,
               points_per_second: float | None = None, *, bits: int = 8) -> bytes:
    """:func:`peaks` as audiowaveform JSON bytes (:meth:`Peaks.as_dict`), cached: what a
    waveform request answers with."""
    key = (item.folder, bits, points_per_second)
    got = studio._peaks_json.get(key)
    if got is None:
        got = json.dumps(peaks(studio, item, points_per_second).as_dict(bits),
                         separators=(",", ":")).encode()
        with studio._lock:
            studio._peaks_json[key] = got
    return got


def loudness_curve(studio: Studio, item: Version | Reference) -> LoudnessCurve:
    """Short-term loudness (LUFS, 3 s window) every 0.1 s of a version or reference."""
    key = (item.folder, 0)
    got = studio._curves.get(key)
    if got is None:
        got = load_curve(inside(studio.store, item.folder))
        with studio._lock:
            studio._curves[key] = got
    return got


def _timing(studio: Studio, version: Version) -> SongTiming:
    got = studio._timings.get(version.id)
    if got is None:
        got = timing_of(parse_snapshot(version.song_toml, f"{version.song} {version.label}"))
        with studio._lock:
            studio._timings[version.id] = got
    return got
