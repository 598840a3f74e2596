"""Arrange a song: clip and automation operations on a :class:`~mixdown.model.Project`.

Each operation is pure: it takes a project and returns a new, validated one (through the
helpers of :mod:`mixdown.services.edit`, so the folder it was loaded from is kept and a save
writes only the keys that changed). The studio's arrangement view applies them through
:func:`mixdown.services.history.apply_edit` (one undoable step each)::

    song = mixdown.load("my-song")
    song = move_clip(song, "Vocal", 0, to="6:1")          # bar 6, beat 1
    song = split_clip(song, "Vocal", 0, at="7:3")         # two clips, the same sound
    song = set_fades(song, "Vocal", 1, fade_out_s=0.5, fade_out_shape="s_curve")

A clip is named by its track and its index in the track's ``clips`` (0-based). Positions
are ``"bar:beat"`` (1-based), beats from the song start (a number) or ``"<seconds>s"``,
read with the song's meter and tempo maps (:mod:`mixdown.core.time`, as resolve reads them).
A position written back keeps the form of the value it replaces (``"bar:beat"`` stays
``"bar:beat"``).
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mixdown.core.errors import MixdownError, ModelError
from mixdown.core.time import MeterMap, TempoMap, parse_position, song_maps
from mixdown.model.notes import clip_length_beats, steps
from mixdown.model.project import (
    MASTER,
    AutomationLane,
    AutomationPoint,
    Bus,
    Clip,
    Master,
    Note,
    Project,
    Track,
)
from mixdown.services.edit import with_bus, with_master, with_track
from mixdown.services.loaded import root_of

__all__ = [
    "ClipPeaks",
    "NoSuchClipFile",
    "SongMaps",
    "add_point",
    "arrangement",
    "arrangement_state",
    "clip_peaks",
    "clip_span",
    "delete_clip",
    "delete_point",
    "duplicate_clip",
    "format_position",
    "move_clip",
    "move_point",
    "position_beats",
    "project_clip_peaks",
    "set_clip_gain",
    "set_fades",
    "song_maps_of",
    "split_clip",
    "trim_clip",
]

EPS = 1e-9
"""Beats: positions closer than this are the same."""


class NoSuchClipFile(MixdownError):
    """Peaks asked for a file that no clip of the song plays (HTTP 404)."""

    http_status = 404
FADE_SHAPES = ("linear", "equal_power", "s_curve")


# -- time ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SongMaps:
    """The meter and tempo maps of a song, as resolve builds them."""

    meter: MeterMap
    tempo: TempoMap
    sample_rate: int

    def seconds(self, beats: float) -> float:
        """Seconds from the song start at ``beats``."""
        return self.tempo.beats_to_seconds(beats)

    def beats(self, seconds: float) -> float:
        """Beats from the song start at ``seconds``."""
        return self.tempo.seconds_to_beats(seconds)


def song_maps_of(project: Project) -> SongMaps:
    """The song's meter and tempo maps (:func:`mixdown.core.time.song_maps`)."""
    s = project.song
    meter, tempo = song_maps(s.tempo, s.time_signature,
                             [(t.at, t.bpm, t.ramp) for t in s.tempo_map],
                             [(t.bar, *t.signature) for t in s.time_signatures])
    return SongMaps(meter, tempo, s.sample_rate)


_BAR_BEAT = re.compile(r"^\s*(-?\d+)\s*:\s*(-?\d+(?:\.\d+)?)\s*$")


def position_beats(project: Project, position: Any, *, what: str = "position") -> float:
    """``position`` (``"bar:beat"``, beats or ``"<seconds>s"``) as beats from the song start.

    Raises
    ------
    ModelError
        Not a position, or one before the song start (bar 1, beat 1).
    """
    maps = song_maps_of(project)
    if isinstance(position, bool):
        raise ModelError(f"{what}: {position!r} is not a position; use 'bar:beat' ('5:1')")
    if isinstance(position, int | float):
        if not math.isfinite(position):
            raise ModelError(f"{what}: {position!r} is not a position")
        if position < -EPS:
            raise ModelError(f"{what}: {position:g} beats is before the song start (bar 1)")
        return max(0.0, float(position))
    if isinstance(position, str):
        m = _BAR_BEAT.match(position)
        if m and (int(m.group(1)) < 1 or float(m.group(2)) < 1):
            raise ModelError(f"{what}: {position!r} is before the song start (bar 1, beat 1); "
                             "bars and beats count from 1")
    try:
        return parse_position(position, maps.meter, maps.tempo)
    except ModelError as exc:
        raise ModelError(f"{what}: {exc}") from None


def _num(x: float) -> str:
    text = f"{x:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def format_position(project: Project, beats: float, like: Any = "1:1") -> str | float:
    """``beats`` written in the form of ``like``: ``"bar:beat"`` (the default), a number of
    beats, or ``"<seconds>s"``."""
    maps = song_maps_of(project)
    beats = max(0.0, beats)
    if isinstance(like, int | float) and not isinstance(like, bool):
        return round(beats, 9)
    if isinstance(like, str) and like.strip().endswith("s"):
        return f"{_num(maps.seconds(beats))}s"
    bar, beat = maps.meter.beats_to_bar_beat(beats + 1e-12)
    beat = round(beat, 6)
    return f"{bar}:{_num(beat)}"


# -- finding things -----------------------------------------------------------------------------


def _track(project: Project, name: str) -> Track:
    for t in project.tracks:
        if t.name == name:
            return t
    known = ", ".join(t.name for t in project.tracks) or "none"
    raise ModelError(f"no track {name!r}; tracks: {known}")


def _clip(track: Track, index: int) -> Clip:
    if isinstance(index, bool) or not isinstance(index, int) or \
            not 0 <= index < len(track.clips):
        n = len(track.clips)
        raise ModelError(f"track {track.name!r} has no clip {index!r} "
                         f"({n} clip{'s' if n != 1 else ''}: 0..{n - 1})" if n else
                         f"track {track.name!r} has no clips")
    return track.clips[index]


def _label(track: Track, index: int) -> str:
    clip = track.clips[index]
    return f"{track.name!r} clip {index}" + (f" ({clip.name})" if clip.name else "")


def _rebuild(base: Clip, drop: tuple[str, ...] = (), **changes: Any) -> Clip:
    """``base`` with ``changes``; only the keys set before and the changed ones stay set, so
    a save writes just those (``drop`` unsets keys)."""
    kept = {k: getattr(base, k) for k in base.model_fields_set if k not in drop}
    try:
        return Clip.model_validate({**kept, **changes})
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc)}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ModelError(f"clip: {where + ': ' if where else ''}{first.get('msg')}") from None


def _with_clips(project: Project, track: Track, clips: tuple[Clip, ...]) -> Project:
    return with_track(project, track.name, clips=clips)


def _root(project: Project) -> Path:
    root = root_of(project)
    return root if root is not None else Path.cwd()


def _stretch(project: Project, clip: Clip, start_b: float, maps: SongMaps) -> float:
    if clip.source_bpm is not None:
        return clip.source_bpm / maps.tempo.bpm_at(start_b)
    return clip.stretch if isinstance(clip.stretch, float | int) else 1.0


def clip_span(project: Project, track: str, index: int) -> tuple[float, float]:
    """Where a clip starts and ends, beats from the song start.

    An audio clip without ``length`` or ``bars`` runs to its file's end (from ``offset_s``,
    stretched); a note clip without them to its last note's end.
    """
    t = _track(project, track)
    return _span(project, _clip(t, index), song_maps_of(project))


def _span(project: Project, clip: Clip, maps: SongMaps) -> tuple[float, float]:
    start_b = parse_position(clip.start, maps.meter, maps.tempo)
    length_b = clip_length_beats(clip, maps.meter, start_b)
    if length_b is None and clip.use is not None and clip.use in project.clips:
        d = project.clips[clip.use]
        length_b = clip_length_beats(d, maps.meter, start_b)
        if length_b is None and d.notes:
            length_b = max(n.start + n.length for n in d.notes)
    if length_b is not None:
        return start_b, start_b + length_b
    if clip.kind == "audio":
        from mixdown.io.audio import audio_info

        assert clip.file is not None
        info = audio_info(_root(project) / clip.file)
        secs = max(0.0, info.duration_s - clip.offset_s) * _stretch(project, clip, start_b,
                                                                    maps)
        return start_b, maps.beats(maps.seconds(start_b) + secs)
    if clip.notes:
        return start_b, start_b + max(n.start + n.length for n in clip.notes)
    return start_b, start_b + 4.0  # a MIDI file or an empty clip: one 4/4 bar to show


def _length_key(clip: Clip, maps: SongMaps, start_b: float, length_b: float
                ) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The keys that give a clip ``length_b`` beats: ``bars`` when it used bars and the
    length is whole bars, else ``length``."""
    if clip.bars is not None:
        bars = length_b / maps.meter.bars_to_beats(start_b, 1)
        if abs(bars - round(bars)) < 1e-9 and \
                abs(maps.meter.bars_to_beats(start_b, round(bars)) - length_b) < 1e-9:
            return (), {"bars": float(round(bars))}
        return ("bars",), {"length": round(length_b, 9)}
    return (), {"length": round(length_b, 9)}


# -- clip operations ----------------------------------------------------------------------------


def move_clip(project: Project, track: str, index: int, *, to: Any = None,
              by_beats: float | None = None, to_track: str | None = None) -> Project:
    """The clip moved to the position ``to``, or by ``by_beats`` (beats, + later), and
    optionally onto the track ``to_track`` (of the same kind: audio clips onto tracks
    without an instrument, note clips onto instrument tracks; appended there)."""
    t = _track(project, track)
    clip = _clip(t, index)
    maps = song_maps_of(project)
    start_b = parse_position(clip.start, maps.meter, maps.tempo)
    if to is not None and by_beats is not None:
        raise ModelError("move: give either to (a position) or by_beats, not both")
    if to is not None:
        new_b = position_beats(project, to, what="move to")
    elif by_beats is not None:
        if not math.isfinite(by_beats):
            raise ModelError(f"move: by_beats must be a number, got {by_beats!r}")
        new_b = start_b + by_beats
        if new_b < -EPS:
            raise ModelError(f"move: {_label(t, index)} by {by_beats:g} beats would start "
                             "before the song start (bar 1)")
    else:
        new_b = start_b
    moved = _rebuild(clip, start=format_position(project, new_b, clip.start))
    if to_track is None or to_track == track:
        return _with_clips(project, t, (*t.clips[:index], moved, *t.clips[index + 1:]))
    dest = _track(project, to_track)
    if (clip.kind == "audio") != (dest.instrument is None) and clip.kind != "empty":
        kind = "an audio clip" if clip.kind == "audio" else "a note clip"
        want = "a track without an instrument" if clip.kind == "audio" else \
            "an instrument track"
        raise ModelError(f"move: {to_track!r} cannot hold {kind}; move it to {want}")
    project = _with_clips(project, t, t.clips[:index] + t.clips[index + 1:])
    dest = _track(project, to_track)
    return _with_clips(project, dest, (*dest.clips, moved))


def _shift_notes(notes: tuple[Note, ...], shift: float, length: float | None) -> tuple[Note, ...]:
    """Notes moved by ``-shift`` beats, cut to 0..``length`` (None: no end)."""
    out = []
    for n in notes:
        s, e = n.start - shift, n.start + n.length - shift
        s = max(s, 0.0)
        if length is not None:
            e = min(e, length)
        if e - s > EPS:
            out.append(n.model_copy(update={"start": round(s, 9), "length": round(e - s, 9)}))
    return tuple(out)


def _can_cut(t: Track, index: int, what: str) -> Clip:
    """The clip, if its start can be cut (``what`` names the operation for the message)."""
    clip = _clip(t, index)
    name = _label(t, index)
    if (clip.kind == "notes" and not (clip.notes or clip.pattern)) or clip.use is not None:
        raise ModelError(f"{what}: {name} plays chords, a MIDI file or a clip definition; only "
                         "audio clips, inline notes and drum patterns can be cut")
    if clip.loop:
        raise ModelError(f"{what}: {name} loops; turn loop off first")
    if clip.stretch == "fit":
        raise ModelError(f"{what}: {name} is stretched to fit its length; give it a numeric "
                         "stretch first")
    if clip.humanize is not None:
        raise ModelError(f"{what}: {name} is humanized (its variations follow the notes' "
                         "order, which a cut changes); remove humanize first")
    return clip


def _regroup(text: str, st: str) -> str:
    """``st`` (pattern steps) spaced like ``text`` (its groups and bar lines kept)."""
    out, k = [], 0
    for ch in text:
        if ch in " |":
            out.append(ch)
        elif k < len(st):
            out.append(st[k])
            k += 1
    return "".join(out) + st[k:]


def _cut_content(clip: Clip, shift: float, length: float | None, what: str,
                 name: str) -> dict[str, Any]:
    """The notes or pattern of a note clip whose start moves ``shift`` beats later (earlier
    if negative), ``length`` beats long (None: as long as its notes)."""
    if clip.notes:
        return {"notes": _shift_notes(clip.notes, shift, length)}
    if not clip.pattern:
        return {}
    k = shift / clip.step
    if abs(k - round(k)) > 1e-6:
        raise ModelError(f"{what}: {name} is a pattern of {clip.step:g}-beat steps; cut it on "
                         "a step (snap to the grid)")
    k = round(k)
    if clip.swing and (k % 2 or any(len(steps(v)) % 2 for v in clip.pattern.values())):
        raise ModelError(f"{what}: {name} swings every other step; cut it on an even step")
    pattern = {}
    for voice, text in clip.pattern.items():
        st = steps(text)
        r = k % len(st)
        pattern[voice] = _regroup(text, st[r:] + st[:r])
    return {"pattern": pattern}


def trim_clip(project: Project, track: str, index: int, *, start: Any = None,
              end: Any = None) -> Project:
    """The clip with its start and/or end moved to these positions, its content staying in
    place in the song: an audio clip's ``offset_s`` follows its start (the audio cannot start
    before the file does); a note clip's notes are shifted back and cut to the new range."""
    t = _track(project, track)
    clip = _clip(t, index)
    maps = song_maps_of(project)
    s0, e0 = _span(project, clip, maps)
    s1 = s0 if start is None else position_beats(project, start, what="trim start")
    e1 = e0 if end is None else position_beats(project, end, what="trim end")
    if e1 - s1 <= EPS:
        raise ModelError(f"trim: the clip's end ({format_position(project, e1)}) must come "
                         f"after its start ({format_position(project, s1)})")
    changes: dict[str, Any] = {}
    drop: tuple[str, ...] = ()
    if abs(s1 - s0) > EPS:
        clip = _can_cut(t, index, "trim")
        changes["start"] = format_position(project, s1, clip.start)
        if clip.kind == "audio":
            stretch = _stretch(project, clip, s0, maps)
            offset = clip.offset_s + (maps.seconds(s1) - maps.seconds(s0)) / stretch
            if offset < -1e-9:
                first = maps.beats(max(0.0, maps.seconds(s0) - clip.offset_s * stretch))
                raise ModelError(f"trim: {_label(t, index)} cannot start before its audio "
                                 f"does ({format_position(project, first)})")
            changes["offset_s"] = round(max(0.0, offset), 9)
        else:
            changes.update(_cut_content(clip, s1 - s0, e1 - s1, "trim", _label(t, index)))
    has_length = clip_length_beats(clip, maps.meter, s0) is not None
    if has_length or abs(e1 - e0) > EPS or clip.kind == "notes":
        more_drop, more = _length_key(clip, maps, s1, e1 - s1)
        drop += more_drop
        changes.update(more)
        if clip.kind == "notes" and clip.notes and "notes" not in changes:
            changes["notes"] = _shift_notes(clip.notes, 0.0, e1 - s1)
    new = _rebuild(clip, drop, **changes)
    return _with_clips(project, t, (*t.clips[:index], new, *t.clips[index + 1:]))


def split_clip(project: Project, track: str, index: int, at: Any) -> Project:
    """Two clips in place of one, meeting at ``at``, that together play what it played
    (fades stay at the outer ends; a split inside a fade is refused)."""
    t = _track(project, track)
    clip = _can_cut(t, index, "split")
    maps = song_maps_of(project)
    s0, e0 = _span(project, clip, maps)
    at_b = position_beats(project, at, what="split at")
    if not s0 + EPS < at_b < e0 - EPS:
        raise ModelError(f"split: {format_position(project, at_b)} is outside "
                         f"{_label(t, index)} ({format_position(project, s0)} .. "
                         f"{format_position(project, e0)})")
    left_s = maps.seconds(at_b) - maps.seconds(s0)
    right_s = maps.seconds(e0) - maps.seconds(at_b)
    if clip.fade_in_s > left_s + 1e-9 or clip.fade_out_s > right_s + 1e-9:
        raise ModelError(f"split: {format_position(project, at_b)} is inside the clip's fade; "
                         "split outside it or shorten the fade")
    had_length = clip_length_beats(clip, maps.meter, s0) is not None
    d1, k1 = _length_key(clip, maps, s0, at_b - s0)
    first: dict[str, Any] = {**k1}
    second: dict[str, Any] = {"start": format_position(project, at_b, clip.start)}
    drop1: tuple[str, ...] = (*d1, "fade_out_s", "fade_out_shape")
    drop2: tuple[str, ...] = ("fade_in_s", "fade_in_shape", "crossfade_s", "crossfade_shape",
                              "name")
    if had_length or clip.kind == "notes":
        d2, k2 = _length_key(clip, maps, at_b, e0 - at_b)
        drop2 += d2
        second.update(k2)
    if clip.kind == "audio":
        stretch = _stretch(project, clip, s0, maps)
        sr = maps.sample_rate
        # the offset in whole frames of the song's rate, as the engine places it
        frames = maps.tempo.beats_to_frames(at_b, sr) - maps.tempo.beats_to_frames(s0, sr)
        second["offset_s"] = round(clip.offset_s + frames / (sr * stretch), 12)
    elif clip.notes:
        first["notes"] = _shift_notes(clip.notes, 0.0, at_b - s0)
        second["notes"] = _shift_notes(clip.notes, at_b - s0, e0 - at_b)
        if not first["notes"] or not second["notes"]:
            raise ModelError(f"split: at {format_position(project, at_b)} one side of "
                             f"{_label(t, index)} would have no notes")
    else:
        second.update(_cut_content(clip, at_b - s0, e0 - at_b, "split", _label(t, index)))
    a = _rebuild(clip, drop1, **first)
    b = _rebuild(clip, drop2, **second)
    return _with_clips(project, t, (*t.clips[:index], a, b, *t.clips[index + 1:]))


def duplicate_clip(project: Project, track: str, index: int) -> Project:
    """A copy of the clip placed right after it (at its end), after it in ``clips``."""
    t = _track(project, track)
    clip = _clip(t, index)
    maps = song_maps_of(project)
    _, end = _span(project, clip, maps)
    copy = _rebuild(clip, ("crossfade_s", "crossfade_shape"),
                    start=format_position(project, end, clip.start))
    return _with_clips(project, t, (*t.clips[:index + 1], copy, *t.clips[index + 1:]))


def delete_clip(project: Project, track: str, index: int) -> Project:
    """The project without the clip."""
    t = _track(project, track)
    _clip(t, index)
    return _with_clips(project, t, t.clips[:index] + t.clips[index + 1:])


def set_clip_gain(project: Project, track: str, index: int, gain_db: float) -> Project:
    """The audio clip's gain set to ``gain_db`` (dB, -96..48)."""
    t = _track(project, track)
    clip = _clip(t, index)
    if clip.kind != "audio":
        raise ModelError(f"gain: {_label(t, index)} is a note clip; clip gain is for audio "
                         "clips (use the velocity or the track's volume)")
    new = _rebuild(clip, gain_db=float(gain_db))
    return _with_clips(project, t, (*t.clips[:index], new, *t.clips[index + 1:]))


def set_fades(project: Project, track: str, index: int, *, fade_in_s: float | None = None,
              fade_out_s: float | None = None, fade_in_shape: str | None = None,
              fade_out_shape: str | None = None) -> Project:
    """The audio clip's fades: lengths in seconds and shapes (``linear``, ``equal_power``,
    ``s_curve``); None leaves a value as it is."""
    t = _track(project, track)
    clip = _clip(t, index)
    if clip.kind != "audio":
        raise ModelError(f"fades: {_label(t, index)} is a note clip; fades are for audio "
                         "clips")
    changes: dict[str, Any] = {}
    for key, value in (("fade_in_shape", fade_in_shape), ("fade_out_shape", fade_out_shape)):
        if value is not None:
            if value not in FADE_SHAPES:
                raise ModelError(f"fades: {key} must be {', '.join(FADE_SHAPES)}, got {value!r}")
            changes[key] = value
    for key, secs in (("fade_in_s", fade_in_s), ("fade_out_s", fade_out_s)):
        if secs is not None:
            changes[key] = float(secs)
    new = _rebuild(clip, **changes)
    maps = song_maps_of(project)
    s0, e0 = _span(project, new, maps)
    total = maps.seconds(e0) - maps.seconds(s0)
    if new.fade_in_s + new.fade_out_s > total + 1e-9:
        raise ModelError(f"fades: {new.fade_in_s:g} s in + {new.fade_out_s:g} s out are longer "
                         f"than {_label(t, index)} ({total:.3f} s)")
    return _with_clips(project, t, (*t.clips[:index], new, *t.clips[index + 1:]))


# -- automation ---------------------------------------------------------------------------------


def _channel(project: Project, target: str) -> Track | Bus | Master:
    if target == MASTER:
        return project.master
    for c in (*project.tracks, *project.buses):
        if c.name == target:
            return c
    known = ", ".join([*(c.name for c in (*project.tracks, *project.buses)), MASTER])
    raise ModelError(f"no track or bus {target!r}; targets: {known}")


def _with_lanes(project: Project, target: str, lanes: tuple[AutomationLane, ...]) -> Project:
    ch = _channel(project, target)
    if isinstance(ch, Master):
        return with_master(project, automation=lanes)
    if isinstance(ch, Bus):
        return with_bus(project, target, automation=lanes)
    return with_track(project, target, automation=lanes)


def _sorted_points(project: Project, points: list[AutomationPoint]) -> tuple[AutomationPoint, ...]:
    maps = song_maps_of(project)
    keyed = sorted(((parse_position(p.at, maps.meter, maps.tempo), p) for p in points),
                   key=lambda bp: bp[0])
    for (a, _), (b, _) in itertools.pairwise(keyed):
        if abs(a - b) < EPS:
            raise ModelError(f"automation: two points at {format_position(project, a)}; "
                             "move one")
    return tuple(p for _, p in keyed)


def _point(at: Any, value: float, curve: float) -> AutomationPoint:
    try:
        return AutomationPoint(at=at, value=float(value), curve=float(curve))
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc)}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ModelError(f"automation point: {where + ': ' if where else ''}"
                         f"{first.get('msg')}") from None


def add_point(project: Project, target: str, param: str, at: Any, value: float,
              curve: float = 0.0) -> Project:
    """A breakpoint added to ``target``'s lane of ``param`` (a track, a bus or
    ``"master"``; the lane is made if there is none), at a position with a value in the
    parameter's unit (dB for ``volume_db``) and ``curve`` (-1..1) to the next point."""
    ch = _channel(project, target)
    at_b = position_beats(project, at, what="automation point")
    pos = format_position(project, at_b, at if isinstance(at, str) else "1:1")
    pt = _point(pos, value, curve)
    lanes = list(ch.automation)
    for i, lane in enumerate(lanes):
        if lane.param == param:
            lanes[i] = lane.model_copy(update={
                "points": _sorted_points(project, [*lane.points, pt])})
            break
    else:
        lanes.append(AutomationLane(param=param, points=(pt,)))
    return _with_lanes(project, target, tuple(lanes))


def _lane(project: Project, target: str, param: str) -> tuple[int, AutomationLane]:
    ch = _channel(project, target)
    for i, lane in enumerate(ch.automation):
        if lane.param == param:
            return i, lane
    known = ", ".join(lane.param for lane in ch.automation) or "none"
    raise ModelError(f"{target!r} has no automation of {param!r}; lanes: {known}")


def move_point(project: Project, target: str, param: str, index: int, *, at: Any = None,
               value: float | None = None, curve: float | None = None) -> Project:
    """Breakpoint ``index`` of a lane moved to ``at`` and/or set to ``value``/``curve``."""
    li, lane = _lane(project, target, param)
    if not 0 <= index < len(lane.points):
        raise ModelError(f"{target!r} {param}: no point {index} "
                         f"({len(lane.points)} points: 0..{len(lane.points) - 1})")
    old = lane.points[index]
    pos = old.at
    if at is not None:
        pos = format_position(project, position_beats(project, at, what="automation point"),
                              old.at)
    pt = _point(pos, old.value if value is None else value,
                old.curve if curve is None else curve)
    points = [*lane.points[:index], pt, *lane.points[index + 1:]]
    lanes = list(_channel(project, target).automation)
    lanes[li] = lane.model_copy(update={"points": _sorted_points(project, points)})
    return _with_lanes(project, target, tuple(lanes))


def delete_point(project: Project, target: str, param: str, index: int) -> Project:
    """The lane without breakpoint ``index`` (the lane goes with its last point)."""
    li, lane = _lane(project, target, param)
    if not 0 <= index < len(lane.points):
        raise ModelError(f"{target!r} {param}: no point {index} "
                         f"({len(lane.points)} points: 0..{len(lane.points) - 1})")
    lanes = list(_channel(project, target).automation)
    points = lane.points[:index] + lane.points[index + 1:]
    if points:
        lanes[li] = lane.model_copy(update={"points": points})
    else:
        del lanes[li]
    return _with_lanes(project, target, tuple(lanes))


# -- what the arrangement view shows ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClipPeaks:
    """Min/max pairs of an audio file (channels merged), ``points_per_second`` of them per
    second of the file, in -1..1."""

    points_per_second: float
    duration_s: float
    min: np.ndarray
    max: np.ndarray


_PEAKS: dict[tuple[str, int, int, float], ClipPeaks] = {}
_PEAKS_LOCK = threading.Lock()
PEAKS_PER_S = 100.0


def clip_peaks(path: str | Path, points_per_second: float = PEAKS_PER_S) -> ClipPeaks:
    """The waveform peaks of an audio file, measured once per file stamp (path,
    modification time, size) in one streaming pass, then cached."""
    from mixdown.io.audio import audio_info, iter_blocks

    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_mtime_ns, st.st_size, float(points_per_second))
    with _PEAKS_LOCK:
        got = _PEAKS.get(key)
    if got is not None:
        return got
    info = audio_info(p)
    spp = max(1, round(info.sample_rate / points_per_second))
    block = max(spp, ((1 << 16) // spp) * spp)
    mins, maxs = [], []
    for chunk in iter_blocks(p, block, check_finite=False):
        n = chunk.shape[1]
        whole = -(-n // spp) * spp
        if whole != n:
            chunk = np.concatenate([chunk, np.repeat(chunk[:, -1:], whole - n, axis=1)], axis=1)
        bins = chunk.reshape(chunk.shape[0], -1, spp)
        mins.append(bins.min(axis=(0, 2)))
        maxs.append(bins.max(axis=(0, 2)))
    lo = np.clip(np.concatenate(mins), -1, 1) if mins else np.zeros(0, np.float32)
    hi = np.clip(np.concatenate(maxs), -1, 1) if maxs else np.zeros(0, np.float32)
    got = ClipPeaks(info.sample_rate / spp, info.duration_s, lo.astype(np.float32),
                    hi.astype(np.float32))
    with _PEAKS_LOCK:
        for k in [k for k in _PEAKS if k[0] == key[0]]:
            del _PEAKS[k]  # an older stamp of the same file
        _PEAKS[key] = got
    return got


def _note_list(project: Project, clip: Clip, maps: SongMaps, start_b: float,
               length_b: float) -> list[list[float]]:
    """[start, length, pitch] in beats from the clip start, for drawing."""
    if clip.notes:
        return [[n.start, n.length, n.pitch] for n in clip.notes]
    src = project.clips.get(clip.use) if clip.use else clip
    if src is not None and src.pattern:
        from mixdown.dsp.instruments.drums import DRUM_NOTES

        out = []
        for voice, text in src.pattern.items():
            for i, ch in enumerate(steps(text)):
                if ch in "xXo":
                    out.append([i * src.step, src.step, DRUM_NOTES.get(voice, 36)])
        return out
    if src is not None and src.notes:
        return [[n.start, n.length, n.pitch] for n in src.notes]
    return []


def arrangement(project: Project) -> dict[str, Any]:
    """What the arrangement view draws, as JSON-able data: the song's grid (meter, tempo
    map, sections, the seconds of each beat), the tracks with their clips (beats from the
    song start) and the automation lanes of tracks, buses and the master."""
    maps = song_maps_of(project)
    tracks = []
    end_b = 0.0
    for t in project.tracks:
        clips = []
        for i, c in enumerate(t.clips):
            try:
                s, e = _span(project, c, maps)
            except MixdownError as exc:  # an unreadable file: one bar, with the problem
                s = parse_position(c.start, maps.meter, maps.tempo)
                e, problem = s + 4.0, str(exc).splitlines()[0]
            else:
                problem = None
            end_b = max(end_b, e)
            item: dict[str, Any] = {
                "index": i, "name": c.name or (Path(c.file).stem if c.file else c.use or ""),
                "kind": c.kind, "start": s, "end": e,
                "start_label": format_position(project, s), "problem": problem}
            if c.kind == "audio":
                stretch = _stretch(project, c, s, maps)
                item.update(file=c.file, offset_s=c.offset_s, stretch=stretch,
                            reverse=c.reverse, gain_db=c.gain_db, fade_in_s=c.fade_in_s,
                            fade_out_s=c.fade_out_s, fade_in_shape=c.fade_in_shape,
                            fade_out_shape=c.fade_out_shape, crossfade_s=c.crossfade_s,
                            seconds=maps.seconds(e) - maps.seconds(s))
            else:
                item["notes"] = _note_list(project, c, maps, s, e - s)
            clips.append(item)
        tracks.append({"name": t.name, "kind": "audio" if t.instrument is None else "notes",
                       "clips": clips, "automation": _lanes_json(project, t, maps)})
    buses = [{"name": b.name, "automation": _lanes_json(project, b, maps)}
             for b in project.buses]
    sections = sorted(({"name": m.name, "at": parse_position(m.at, maps.meter, maps.tempo)}
                       for m in project.markers), key=lambda m: m["at"])
    for sec in sections:
        end_b = max(end_b, sec["at"])
    if project.song.length is not None:
        end_b = max(end_b, parse_position(project.song.length, maps.meter, maps.tempo))
    # whole bars, and at least 8 of them
    bar_b = maps.meter.bars_to_beats(0.0, 1)
    end_b = max(end_b, 8 * bar_b)
    bars = []
    b, n = 0.0, 1
    while b < end_b + bar_b - EPS:
        sig = maps.meter.signature_at_bar(n)
        bars.append({"bar": n, "at": b, "beats": sig.beats_per_bar,
                     "signature": [sig.numerator, sig.denominator]})
        b += sig.beats_per_bar
        n += 1
    total = b
    beat_seconds = [maps.seconds(float(k)) for k in range(math.ceil(total) + 1)]
    return {
        "title": project.song.title, "sample_rate": maps.sample_rate,
        "length_beats": total, "bars": bars, "beat_seconds": beat_seconds,
        "tempo": [{"at": p.beat, "bpm": p.bpm, "ramp": p.ramp} for p in maps.tempo.points],
        "sections": sections, "tracks": tracks, "buses": buses,
        "master": {"automation": _lanes_json(project, project.master, maps)},
    }


def _lanes_json(project: Project, ch: Track | Bus | Master, maps: SongMaps
                ) -> list[dict[str, Any]]:
    return [{"param": lane.param,
             "points": [{"at": parse_position(p.at, maps.meter, maps.tempo),
                         "value": p.value, "curve": p.curve,
                         "label": format_position(project, parse_position(p.at, maps.meter,
                                                                          maps.tempo))}
                        for p in lane.points]}
            for lane in ch.automation]


# -- for the studio -----------------------------------------------------------------------------


def arrangement_state(folder: str | Path) -> dict[str, Any]:
    """:func:`arrangement` of the project in ``folder``, with ``revision`` (the SHA-256 of
    its song.toml, read first, so an edit based on it is refused if the file changed since)."""
    from mixdown.io.project import load_project
    from mixdown.services.history import current_revision
    from mixdown.services.loaded import remember_root

    revision = current_revision(folder)
    project = remember_root(load_project(folder), folder)
    return {"revision": revision, **arrangement(project)}


def project_clip_peaks(folder: str | Path, file: str,
                       points_per_second: float = PEAKS_PER_S) -> ClipPeaks:
    """:func:`clip_peaks` of an audio file that a clip of the project in ``folder`` plays
    (``file`` as the clip names it); any other name is a NotFoundError (nothing read)."""
    from mixdown.io.project import load_project

    project = load_project(folder)
    files = {c.file for t in project.tracks for c in t.clips if c.file}
    root = Path(folder).resolve()
    path = (root / file).resolve() if file in files else None
    if path is None or not path.is_relative_to(root) or not path.is_file():
        raise NoSuchClipFile(f"no audio clip plays {file!r} in this song")
    return clip_peaks(path, points_per_second)
