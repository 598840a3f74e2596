"""A project's instrument tracks as a format-1 Standard MIDI File.

Track 1 holds the tempo map, time signatures and markers (as marker events); each
instrument track with notes becomes one MIDI track with its name, one program change
(:func:`mixdown.io.gm.program_for`), its fader and pan as CC7/CC10 when not 0, and every
note the render would play: patterns expanded (with swing) to the clip length, clip
``start`` and ``transpose`` applied, notes cut at the clip end as the engine cuts them.
Drums go to channel 10, the other tracks to channels 1-9, 11-16 in order (shared again
after the fifteenth). Tempo ramps become tempo steps every sixteenth note whose times
match the ramp's at every step. The bytes come from :mod:`mixdown.io.smf_write`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mixdown.core.time import MeterMap, TempoMap, parse_position, song_maps
from mixdown.core.units import db_to_gain
from mixdown.io.gm import DRUM_CHANNEL, is_drums, program_for
from mixdown.io.smf import read_smf
from mixdown.io.smf_write import (
    channel_message,
    meta_tempo,
    meta_text,
    meta_time_signature,
    note_events,
    smf_bytes,
    track_chunk,
)
from mixdown.model.clips import loop_period_beats, placed_clip
from mixdown.model.keys import parse_key
from mixdown.model.notes import EPS, clip_length_beats, raw_notes
from mixdown.model.project import Clip, Project, Track

DEFAULT_TICKS_PER_BEAT = 480
"""Used when the project's own MIDI clip files do not agree on one resolution."""

_FINER = (DEFAULT_TICKS_PER_BEAT, 960, 1920, 3840)
_RAMP_STEP_BEATS = 0.25


@dataclass(frozen=True, slots=True)
class ExportedTrack:
    """One MIDI track written from one project track."""

    name: str
    channel: int
    program: int | None
    notes: int


@dataclass(frozen=True, slots=True)
class MidiExport:
    """The bytes of the file and what went into it."""

    data: bytes
    ticks_per_beat: int
    tracks: tuple[ExportedTrack, ...]
    notes: int
    tempo_changes: int
    time_signatures: int
    markers: int
    skipped: tuple[str, ...]


def project_to_midi(project: Project, root: Path, *,
                    ticks_per_beat: int | None = None) -> MidiExport:
    """Write ``project``'s instrument tracks as a format-1 MIDI file (in memory).

    Parameters
    ----------
    project : Project
    root : Path
        The project folder (MIDI clip files are read from it).
    ticks_per_beat : int, optional
        Resolution of the file. Default: that of the project's MIDI clip files when they
        all agree (so import -> export keeps the file's own), else the first of 480, 960,
        1920, 3840 ticks per beat that places every note exactly.
    """
    song = project.song
    meter, tempo = song_maps(
        song.tempo, song.time_signature,
        [(p.at, p.bpm, p.ramp) for p in song.tempo_map],
        [(s.bar, s.signature[0], s.signature[1]) for s in song.time_signatures])
    skipped: list[str] = []
    parts: list[tuple[Track, list[tuple[float, float, int, int]]]] = []
    resolutions: set[int] = set()
    for track in project.tracks:
        if track.instrument is None:
            if track.clips:
                skipped.append(f"track {track.name!r}: audio clips have no MIDI form")
            continue
        notes = []
        for clip in track.clips:
            notes += _clip_notes(clip, meter, tempo, root, resolutions, project)
        if notes:
            parts.append((track, notes))
    tpb = ticks_per_beat or _resolution(resolutions, parts)
    conductor, n_tempo, n_sig, n_mark = _conductor(project, meter, tempo, tpb)
    chunks = [conductor]
    exported = []
    melodic = [c for c in range(16) if c != DRUM_CHANNEL]
    k = 0
    for track, notes in parts:
        assert track.instrument is not None
        if is_drums(track.instrument):
            channel = DRUM_CHANNEL
        else:
            channel = melodic[k % len(melodic)]
            if k == len(melodic):
                skipped.append("more than 15 melodic tracks: later ones share MIDI channels")
            k += 1
        program = program_for(track.instrument)
        chunks.append(_track(track, notes, channel, program, tpb))
        exported.append(ExportedTrack(track.name, channel + 1, program, len(notes)))
    return MidiExport(smf_bytes(1, tpb, chunks), tpb, tuple(exported),
                      sum(t.notes for t in exported), n_tempo, n_sig, n_mark, tuple(skipped))


def _clip_notes(clip: Clip, meter: MeterMap, tempo: TempoMap, root: Path,
                resolutions: set[int], project: Project
                ) -> list[tuple[float, float, int, int]]:
    """(start, end beats in the song, pitch, velocity) of every note ``clip`` plays: the
    renderer's own definition (:mod:`mixdown.model.notes`), cut at the clip's end."""
    if clip.kind != "notes":
        return []
    from mixdown.dsp.instruments.drums import DRUM_NOTES

    placement = clip
    clip = placed_clip(clip, project.clips)
    start = parse_position(clip.start, meter, tempo)
    length = clip_length_beats(clip, meter, start)
    notes: list[tuple[float, float, int, int]] = [
        (n.start, n.length, n.pitch, n.velocity) for n in clip.notes]
    if clip.midi:
        from mixdown.io.assets import resolve_asset

        smf = read_smf(resolve_asset(root, clip.midi, "clip"), as_clip=True)
        resolutions.add(smf.ticks_per_beat)
        tpq = smf.ticks_per_beat
        notes = [(s / tpq, (e - s) / tpq, p, v)
                 for part in smf.parts for s, e, p, v in part.notes.tolist()]
    key = parse_key(project.song.key) if project.song.key else None
    raw = raw_notes(clip, notes, dict(DRUM_NOTES), start, length, meter=meter, key=key,
                    period_b=loop_period_beats(placement, project.clips, meter, start))
    end = math.inf if length is None else start + length
    return [(s, min(e, end), p, v) for s, e, p, v in raw if s < end - EPS and 0 <= p <= 127]


def _resolution(resolutions: set[int],
                parts: list[tuple[Track, list[tuple[float, float, int, int]]]]) -> int:
    if len(resolutions) == 1:
        return resolutions.pop()
    for tpb in _FINER:
        if all(abs(x * tpb - round(x * tpb)) < 1e-6
               for _, notes in parts for s, e, _, _ in notes for x in (s, e)):
            return tpb
    return _FINER[-1]


def _conductor(project: Project, meter: MeterMap, tempo: TempoMap, tpb: int
               ) -> tuple[bytes, int, int, int]:
    events: list[tuple[int, bytes]] = [(0, meta_text(0x03, project.song.title))]
    points = tempo.points
    for i, p in enumerate(points):
        nxt = points[i + 1] if i + 1 < len(points) else None
        if nxt is not None and nxt.ramp:
            b = p.beat
            while b < nxt.beat - 1e-9:
                b1 = min(b + _RAMP_STEP_BEATS, nxt.beat)
                dt = tempo.beats_to_seconds(b1) - tempo.beats_to_seconds(b)
                events.append((round(b * tpb), meta_tempo(round(dt * 1e6 / (b1 - b)))))
                b = b1
        else:  # a step (or the end of a ramp): this tempo from here on
            events.append((round(p.beat * tpb), meta_tempo(round(60_000_000 / p.bpm))))
    n_tempo = len(events) - 1
    for sig in meter.signatures:
        events.append((round(meter.bar_beat_to_beats(sig.bar, 1) * tpb),
                       meta_time_signature(sig.numerator, sig.denominator)))
    markers = sorted((parse_position(m.at, meter, tempo), m.name) for m in project.markers)
    for beats, name in markers:
        events.append((round(beats * tpb), meta_text(0x06, name)))
    return track_chunk(events), n_tempo, len(meter.signatures), len(markers)


def _track(track: Track, notes: list[tuple[float, float, int, int]], channel: int,
           program: int | None, tpb: int) -> bytes:
    meta = [(0, meta_text(0x03, track.name))]
    if program is not None:
        meta.append((0, channel_message(0xC0, channel, program)))
    if track.volume_db != 0:  # the GM curve: dB = 40 log10(v / 127)
        value = round(127 * db_to_gain(track.volume_db / 2))
        meta.append((0, channel_message(0xB0, channel, 7, max(0, min(127, value)))))
    if track.pan != 0:
        value = round(64 + track.pan * (64 if track.pan < 0 else 63))
        meta.append((0, channel_message(0xB0, channel, 10, max(0, min(127, value)))))
    arr = np.array([(round(s * tpb), round(e * tpb), p, v) for s, e, p, v in notes],
                   dtype=np.int64).reshape(-1, 4)
    arr[:, 1] = np.maximum(arr[:, 1], arr[:, 0] + 1)
    ticks, msgs = note_events(arr, channel)
    return track_chunk(meta, ticks, msgs)


__all__ = ["DEFAULT_TICKS_PER_BEAT", "ExportedTrack", "MidiExport", "project_to_midi"]
