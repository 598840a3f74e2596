"""Recording into a project: the plan of a recording (its click, checked before anything is
recorded) and the recorded take, decoded, resampled to the song's rate, stored as FLAC in the
project's ``audio/`` folder and added to the track as a take placed where it was recorded,
less the input latency.

A take recorded at bar ``B`` is stored as ``start = "B:1"`` with ``offset_s`` = the pre-roll
(seconds recorded before the bar, the count-in) + the calibrated latency: the file's frame
``(pre_roll + latency) * rate`` plays at the bar, so frame 0 sits ``pre_roll + latency``
before it, and a performance played in time with the song lands on the beat.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mixdown.core.errors import MixdownError
from mixdown.model.project import Project, Track
from mixdown.model.takes import Take
from mixdown.review.errors import NotFound, UnsupportedUpload, UploadTooLarge

MAX_TAKE_BYTES = 512 * 1024 * 1024
"""Largest recording accepted (bytes)."""
MAX_COUNT_IN_BARS = 4
MAX_RECORD_BARS = 512
AUDIO_DIR = "audio"


class RecordRefused(MixdownError):
    """A recording that cannot go where it was asked (unknown track, an instrument track, a
    bar outside the song, a recording shorter than its pre-roll)."""

    http_status = 422


@dataclass(frozen=True, slots=True)
class Click:
    """One click: ``at_s`` seconds from the recording's bar (negative in the count-in)."""

    at_s: float
    accent: bool


@dataclass(frozen=True, slots=True)
class RecordPlan:
    """What a recording at ``bar`` plays: its clicks and where the song is.

    Attributes
    ----------
    track, bar : str, int
        Where the take goes.
    count_in_bars, bars : int
        Bars of count-in before ``bar``; bars recorded from it.
    sample_rate : int
        The song's rate (Hz): takes are stored at it.
    bar_s : float
        The bar's time in the song (s).
    count_in_s : float
        The count-in's length (s): recording starts this long before the bar.
    length_s : float
        The recorded bars' length (s).
    clicks : tuple of Click
        The count-in's and the recording's clicks (an accent on every downbeat).
    """

    track: str
    bar: int
    count_in_bars: int
    bars: int
    sample_rate: int
    bar_s: float
    count_in_s: float
    length_s: float
    clicks: tuple[Click, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"track": self.track, "bar": self.bar, "count_in_bars": self.count_in_bars,
                "bars": self.bars, "sample_rate": self.sample_rate, "bar_s": self.bar_s,
                "count_in_s": self.count_in_s, "length_s": self.length_s,
                "clicks": [[c.at_s, c.accent] for c in self.clicks]}


def record_plan(folder: str | Path, track: str, bar: int, *, count_in_bars: int = 1,
                bars: int = 4) -> RecordPlan:
    """Check that ``track`` can take a recording at ``bar`` and return its clicks.

    A recording starts in the song: before ``song.length`` when the song has one, else at
    most at the bar where the song's content ends (a take there extends the song; an empty
    song records from bar 1).

    Raises
    ------
    RecordRefused
        Unknown or instrument track, a bar outside the song, counts out of range.
    MixdownError
        The project does not load or check.
    """
    project, song = _resolved(folder)
    return _plan(project, song, track, bar, count_in_bars, bars)


def _plan(project: Project, song: Any, track: str, bar: int, count_in_bars: int,
          bars: int) -> RecordPlan:
    _audio_track(project, track)
    if not 0 <= count_in_bars <= MAX_COUNT_IN_BARS:
        raise RecordRefused(f"count-in must be 0 .. {MAX_COUNT_IN_BARS} bars, got "
                            f"{count_in_bars}")
    if not 1 <= bars <= MAX_RECORD_BARS:
        raise RecordRefused(f"record 1 .. {MAX_RECORD_BARS} bars, got {bars}")
    if isinstance(bar, bool) or not isinstance(bar, int):
        raise RecordRefused(f"bar must be a whole number, got {bar!r}")
    meter, tempo = song.meter, song.tempo
    end_b = tempo.seconds_to_beats(song.song_end_frames / song.sample_rate)
    end_bar, beat = meter.beats_to_bar_beat(end_b)
    first_after = end_bar if abs(beat - 1.0) < 1e-6 else end_bar + 1  # bar at/after the end
    last = first_after - 1 if project.song.length is not None else first_after
    if not 1 <= bar <= last:
        why = "" if last >= 1 else ": the song is empty"
        raise RecordRefused(f"bar {bar} is outside the song (bars 1 .. {max(last, 1)}{why}); "
                            "choose a bar in it")
    bar_b = meter.bar_beat_to_beats(bar)
    bar_s = tempo.beats_to_seconds(bar_b)
    sig = meter.signature_at_bar(bar)
    step = 4.0 / sig.denominator  # a click per beat of the signature (quarter notes)
    spb = 60.0 / tempo.bpm_at(bar_b)
    clicks = [Click(-(count_in_bars * sig.numerator - i) * step * spb,
                    i % sig.numerator == 0) for i in range(count_in_bars * sig.numerator)]
    stop_b = bar_b + meter.bars_to_beats(bar_b, bars)
    b = bar_b
    while b < stop_b - 1e-9:
        at_bar, beat = meter.beats_to_bar_beat(b)
        clicks.append(Click(tempo.beats_to_seconds(b) - bar_s, abs(beat - 1.0) < 1e-9))
        b += 4.0 / meter.signature_at_bar(at_bar).denominator
    return RecordPlan(track=track, bar=bar, count_in_bars=count_in_bars, bars=bars,
                      sample_rate=song.sample_rate, bar_s=bar_s,
                      count_in_s=count_in_bars * sig.numerator * step * spb,
                      length_s=tempo.beats_to_seconds(stop_b) - bar_s, clicks=tuple(clicks))


@dataclass(frozen=True, slots=True)
class RecordedTake:
    """A take added to a project.

    Attributes
    ----------
    track, take, file : str
        The track, the take's name, its file (relative to the project).
    bar : int
        Where it was recorded.
    offset_s, latency_s, pre_roll_s : float
        The take's ``offset_s`` = ``pre_roll_s`` (count-in recorded before the bar) +
        ``latency_s`` (the calibrated input latency compensated), seconds.
    frames, sample_rate : int
        The stored file's length and rate (the song's).
    revision : str
        song.toml's revision after the edit (:mod:`mixdown.services.history`).
    """

    track: str
    take: str
    file: str
    bar: int
    offset_s: float
    latency_s: float
    pre_roll_s: float
    frames: int
    sample_rate: int
    revision: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"track": self.track, "take": self.take, "file": self.file, "bar": self.bar,
                "offset_s": self.offset_s, "latency_s": self.latency_s,
                "pre_roll_s": self.pre_roll_s, "frames": self.frames,
                "sample_rate": self.sample_rate, "revision": self.revision}


def add_recorded_take(folder: str | Path, track: str, bar: int, data: bytes, *,
                      pre_roll_s: float, latency_s: float = 0.0,
                      max_bytes: int = MAX_TAKE_BYTES, base: str | None = None,
                      author: str = "") -> RecordedTake:
    """Store a recording (WAV, FLAC, OGG... as bytes) as a new take of ``track`` at ``bar``.

    Parameters
    ----------
    folder : path
        The project folder.
    track : str
        An audio track.
    bar : int
        The bar recorded at (1-based).
    data : bytes
        The recording, started ``pre_roll_s`` seconds before the bar.
    pre_roll_s : float
        Seconds recorded before the bar (the count-in), >= 0.
    latency_s : float
        The device's calibrated latency (s), compensated.
    max_bytes : int
        Largest recording accepted.
    base : str, optional
        The song.toml revision the caller saw (refused on a mismatch: the edit seam's
        conflict).

    Raises
    ------
    RecordRefused, UploadTooLarge, UnsupportedUpload, NotFound
        Nothing is written.
    """
    root = Path(folder)
    plan_project, song = _resolved(root)
    _plan(plan_project, song, track, bar, 0, 1)  # an audio track, a bar in the song
    if len(data) > max_bytes:
        raise UploadTooLarge(f"the recording is {len(data)} bytes, over the {max_bytes}-byte "
                             "limit")
    for name, value, hi in (("pre_roll_s", pre_roll_s, 60.0), ("latency_s", latency_s, 2.0)):
        if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= hi):
            raise RecordRefused(f"{name} must be 0 .. {hi:g} s, got {value!r}")
    audio, rate = _decode(data)
    offset_s = round(float(pre_roll_s) + float(latency_s), 9)  # a nanosecond: no float noise
    if audio.shape[1] / rate <= offset_s:
        raise RecordRefused(f"the recording lasts {audio.shape[1] / rate:.3f} s, no longer "
                            f"than its pre-roll and latency ({offset_s:.3f} s); nothing was "
                            "recorded after the bar")
    sr = song.sample_rate
    if rate != sr:
        import soxr

        audio = np.ascontiguousarray(soxr.resample(audio.T, rate, sr, quality="VHQ").T,
                                     dtype=np.float32)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 1.0:  # a float recording over full scale: FLAC is fixed point
        audio = audio / np.float32(peak)
    from mixdown.io.audio import write_audio

    (root / AUDIO_DIR).mkdir(exist_ok=True)
    existing = {t.name for t in plan_project.track(track).takes}
    n = len(existing) + 1
    while f"take {n}" in existing or _take_file(root, track, n).exists():
        n += 1
    name, file = f"take {n}", _take_file(root, track, n)
    rel = f"{AUDIO_DIR}/{file.name}"
    write_audio(file, audio, sr, fmt="flac", bit_depth=24)
    take = Take(name=name, file=rel, start=f"{bar}:1", offset_s=offset_s)

    def change(project: Project) -> Project:
        # model_copy keeps which fields were written, so the saver adds only the take
        tracks = tuple(t.model_copy(update={"takes": (*t.takes, take)}) if t.name == track
                       else t for t in project.tracks)
        return project.model_copy(update={"tracks": tracks})

    try:
        revision = _apply(root, change, base=base, label=f"record {name} on {track} at bar "
                          f"{bar}", author=author)
    except BaseException:
        file.unlink(missing_ok=True)
        raise
    return RecordedTake(track=track, take=name, file=rel, bar=bar, offset_s=offset_s,
                        latency_s=float(latency_s), pre_roll_s=float(pre_roll_s),
                        frames=int(audio.shape[1]), sample_rate=sr, revision=revision)


def _apply(root: Path, change: Callable[[Project], Project], *, base: str | None, label: str,
           author: str) -> str:
    """Apply ``change`` through the studio's edit seam (one undoable step); the revision."""
    from mixdown.services.history import apply_edit

    return apply_edit(root, change, base=base, label=label, author=author).revision


def _take_file(root: Path, track: str, n: int) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", track).strip("-").lower() or "track"
    return root / AUDIO_DIR / f"{safe}-take-{n}.flac"


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    """The recording as float32 (channels, frames) and its rate."""
    import soundfile as sf

    if not data:
        raise UnsupportedUpload("the recording is empty")
    try:
        x, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises several kinds for garbage
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnsupportedUpload(f"the recording cannot be decoded as audio ({reason})"
                                ) from None
    audio = np.ascontiguousarray(x.T)
    if audio.shape[1] == 0:
        raise UnsupportedUpload("the recording holds no audio (0 frames)")
    if audio.shape[0] > 2:
        raise UnsupportedUpload(f"the recording has {audio.shape[0]} channels; record mono "
                                "or stereo")
    if not np.isfinite(audio).all():
        raise UnsupportedUpload("the recording holds NaN or infinite samples")
    return audio, int(rate)


def _resolved(folder: str | Path) -> tuple[Project, Any]:
    from mixdown.io.catalog import AssetCatalog
    from mixdown.io.project import open_project
    from mixdown.resolve import resolve_project

    root = Path(folder)
    if not (root / "song.toml").is_file():
        raise NotFound(f"{root}: no song.toml here")
    pf = open_project(root)
    song = resolve_project(pf.project, AssetCatalog(pf.root, dry_run=True),
                           label=str(pf.path), text=pf.text, events=False)
    return pf.project, song


def _audio_track(project: Project, name: str) -> Track:
    names = [t.name for t in project.tracks]
    if name not in names:
        from mixdown.core.names import closest

        raise RecordRefused(f"no track {name!r}{closest(name, names)}")
    track = project.track(name)
    if track.instrument is not None:
        raise RecordRefused(f"track {name!r} plays an instrument; record into an audio track "
                            "(one without an instrument)")
    return track


__all__ = ["MAX_TAKE_BYTES", "Click", "RecordPlan", "RecordRefused", "RecordedTake",
           "add_recorded_take", "record_plan"]
