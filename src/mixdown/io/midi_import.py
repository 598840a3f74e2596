"""A Standard MIDI File as a project: tracks, instruments, tempo map, meter, sections, mix.

:func:`midi_to_project` maps a parsed file (:func:`mixdown.io.smf.read_smf`) to a
:class:`~mixdown.model.project.Project` plus the MIDI clip files the project refers to;
it writes nothing. What maps to what (docs/interchange.md):

- each channel of each track chunk with notes -> a ``[[track]]`` with one clip at beat 0
  (notes inline up to :data:`INLINE_NOTES_MAX`, else a ``midi/NN-name.mid`` clip file at
  the same ticks per beat); beats are ticks / ticks per beat, exactly;
- tempo events -> ``[song] tempo`` and ``tempo_map``; time signatures -> ``time_signature``
  and ``time_signatures`` (at bar lines); marker events -> ``[[marker]]`` sections;
- the first program change -> the closest built-in instrument (:mod:`mixdown.io.gm`);
  channel 10 -> ``drums``, which plays General MIDI drum keys as they are; with a
  SoundFont, the ``soundfont`` instrument playing that program's preset (bank 0), channel
  10 the drum kit (bank 128), and pitch bends -> an ``instrument.bend_semitones`` lane;
- CC7 -> ``volume_db`` (40 log10(v / 127), the GM curve), CC10 -> ``pan``: a fixed value,
  or an automation lane of steps; CC64 was applied to the note ends by the parser;
- CC91 / CC93 -> sends (20 log10(v / 127) dB, a fixed level or a ``send.<bus>`` lane) to a
  ``Reverb`` / ``Chorus`` bus holding mixdown's reverb / chorus, made when a file uses them;
- with a SoundFont, the master fader at :data:`SOUNDFONT_MASTER_DB` (headroom for the sum).

Everything else (pitch bend without a SoundFont, later program changes, other
controllers, aftertouch, sysex) is listed in :attr:`MidiImport.dropped`, never dropped
silently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from mixdown.core.units import gain_to_db
from mixdown.dsp.instruments.sf2_check import SoundFontInfo
from mixdown.io.gm import DRUM_CHANNEL, GM_PROGRAMS, instrument_for, soundfont_instrument
from mixdown.io.smf import Smf, SmfPart
from mixdown.io.smf_write import (
    channel_message,
    meta_text,
    note_events,
    smf_bytes,
    track_chunk,
)
from mixdown.model.project import (
    MASTER,
    AutomationLane,
    AutomationPoint,
    Bus,
    Clip,
    Device,
    Marker,
    Master,
    Note,
    Project,
    Send,
    Song,
    TempoPoint,
    TimeSignatureChange,
    Track,
)

INLINE_NOTES_MAX = 256
"""Tracks with more notes than this keep them in a ``midi/`` clip file, not in song.toml."""

VOLUME_FLOOR_DB = -144.0
"""CC7 = 0 (silence) becomes the fader's lowest value."""

SEND_BUSES = (
    (91, "Reverb", Device(type="reverb", params={"room_size": 0.6, "damping": 0.4,
                                                   "wet": 1.0, "dry": 0.0})),
    (93, "Chorus", Device(type="chorus", params={"mix": 1.0})),
)
"""The effect sends of General MIDI: controller, bus name, the bus's device."""

SOUNDFONT_MASTER_DB = -12.0
"""The master fader of a project imported with a SoundFont: General MIDI synths scale the sum
of their 16 channels down (fluidsynth by 0.2, -14 dB), so that a full arrangement does not
clip."""


@dataclass(frozen=True, slots=True)
class SoundFontRef:
    """A SoundFont inside the project (``file``, relative to it) and what it holds."""

    file: str
    info: SoundFontInfo


@dataclass(frozen=True, slots=True)
class ImportedTrack:
    """One project track made from one channel of one MIDI track."""

    name: str
    source_track: int
    channel: int
    program: int | None
    instrument: str
    notes: int
    midi_file: str | None


@dataclass(frozen=True, slots=True)
class MidiImport:
    """The project made from a MIDI file, and what did not come across.

    ``files`` maps paths inside the project folder (``midi/01-piano.mid``) to their bytes.
    """

    project: Project
    files: dict[str, bytes]
    tracks: tuple[ImportedTrack, ...]
    ticks_per_beat: int
    notes: int
    tempo_changes: int
    time_signatures: int
    markers: int
    end_beats: float
    dropped: tuple[str, ...]


def db_from_cc7(value: int) -> float:
    """Fader dB for a CC7 value: 40 log10(v / 127) (General MIDI), 0 -> -144 dB."""
    if value <= 0:
        return VOLUME_FLOOR_DB
    return max(VOLUME_FLOOR_DB, 2.0 * gain_to_db(value / 127.0))  # 40 log10 = 2 x 20 log10


def pan_from_cc10(value: int) -> float:
    """Pan -1..1 for a CC10 value: 0 -> -1, 64 -> 0, 127 -> 1."""
    return (value - 64) / 64.0 if value < 64 else (value - 64) / 63.0


def send_db_from_cc(value: int) -> float:
    """Send level in dB for a CC91/CC93 value: 20 log10(v / 127), 0 -> -144 dB."""
    if value <= 0:
        return VOLUME_FLOOR_DB
    return max(VOLUME_FLOOR_DB, gain_to_db(value / 127.0))


def midi_to_project(smf: Smf, *, title: str | None = None,
                    soundfont: SoundFontRef | None = None) -> MidiImport:
    """Map a parsed MIDI file to a project and its clip files (nothing is written).

    With ``soundfont``, every track plays a preset of it (see the module docstring).
    """
    tpb = smf.ticks_per_beat
    dropped: list[str] = []
    song, n_tempo, n_sig = _song(smf, title, dropped)
    markers = _markers(smf)
    names = _track_names(smf)
    tracks: list[Track] = []
    info: list[ImportedTrack] = []
    files: dict[str, bytes] = {}
    buses = _send_buses(smf, names)
    for i, (part, name) in enumerate(zip(smf.parts, names, strict=True)):
        if soundfont is None:
            instrument = instrument_for(part.program, part.channel)
        else:
            instrument, note = soundfont_instrument(part.program, part.channel,
                                                    soundfont.file, soundfont.info)
            if note:
                dropped.append(f"track {name!r}: {note}")
        midi_file = None
        if len(part.notes) > INLINE_NOTES_MAX:
            midi_file = f"midi/{i + 1:02d}-{_slug(name)}.mid"
            files[midi_file] = clip_file_bytes(part.notes, tpb, name, part.program,
                                               part.channel)
            clip = Clip(midi=midi_file)
        else:
            clip = Clip(notes=tuple(
                Note(pitch=int(p), start=int(s) / tpb, length=int(e - s) / tpb, velocity=int(v))
                for s, e, p, v in part.notes.tolist()))
        volume_db, pan, lanes = _mix(part, tpb)
        sends, send_lanes = _sends(part, tpb, buses)
        bend = _bend_lane(part, tpb) if soundfont is not None else None
        lanes = (*lanes, *send_lanes, *((bend,) if bend else ()))
        tracks.append(Track(name=name, instrument=instrument, clips=(clip,), volume_db=volume_db,
                            pan=pan, sends=sends, automation=lanes))
        info.append(ImportedTrack(name, part.track + 1, part.channel + 1, part.program,
                                  f"{instrument.type} {_preset(instrument.params)}".strip(),
                                  len(part.notes), midi_file))
        _part_losses(part, name, dropped, soundfont is not None)
    for kind, count in sorted(smf.ignored.items()):
        dropped.append(f"{count} {kind} event{'s' if count != 1 else ''} "
                       "(no place in a project)")
    used = {s.to for t in tracks for s in t.sends}
    project = Project(song=song, tracks=tuple(tracks), markers=markers, buses=tuple(
        Bus(name=bus, devices=(device,)) for cc, bus, device in _bus_specs(buses)
        if bus in used), master=Master(volume_db=SOUNDFONT_MASTER_DB if soundfont else 0.0))
    end = max((int(p.notes[:, 1].max()) for p in smf.parts), default=0)
    return MidiImport(project, files, tuple(info), tpb, smf.notes, n_tempo, n_sig,
                      len(markers), end / tpb, tuple(dropped))


def _preset(params: dict[str, object]) -> str:
    if "bank" in params:
        return f"bank {params['bank']} preset {params['preset']}"
    return str(params.get("preset", params.get("kit", "")))


def _send_buses(smf: Smf, names: list[str]) -> dict[int, str]:
    """The bus name for each effect controller some part sets above 0."""
    seen = {n.lower() for n in names} | {MASTER.lower()}
    out = {}
    for cc, bus, _ in SEND_BUSES:
        if any(v > 0 for p in smf.parts for _, v in (p.reverb if cc == 91 else p.chorus)):
            out[cc] = _unique(bus, seen)
    return out


def _bus_specs(buses: dict[int, str]) -> list[tuple[int, str, Device]]:
    return [(cc, buses[cc], device) for cc, _, device in SEND_BUSES if cc in buses]


def _sends(part: SmfPart, tpb: int, buses: dict[int, str]
           ) -> tuple[tuple[Send, ...], tuple[AutomationLane, ...]]:
    """CC91/CC93 as sends to the effect buses: a fixed level or a lane of steps."""
    sends, lanes = [], []
    for cc, bus in buses.items():
        events = part.reverb if cc == 91 else part.chorus
        if not any(v > 0 for _, v in events):
            continue
        level, lane = _steps(f"send.{bus}", events, send_db_from_cc, tpb)
        sends.append(Send(to=bus, level_db=level))
        if lane is not None:
            lanes.append(lane)
    return tuple(sends), tuple(lanes)


def _bend_lane(part: SmfPart, tpb: int) -> AutomationLane | None:
    """Pitch-wheel positions as an ``instrument.bend_semitones`` lane of steps."""
    if not part.bends:
        return None
    rng = part.bend_range

    def semitones(v: int) -> float:
        return round((v - 8192) / 8192.0 * rng, 6)

    events = part.bends if part.bends[0][0] == 0 else [(0, 8192), *part.bends]
    _, lane = _steps("instrument.bend_semitones", events, semitones, tpb, always=True)
    return lane


def _song(smf: Smf, title: str | None, dropped: list[str]) -> tuple[Song, int, int]:
    tpb = smf.ticks_per_beat
    tempos: dict[int, int] = {}
    for tick, uspq in smf.tempos:
        tempos[tick] = uspq  # the last of several at one tick wins
    start_uspq = tempos.pop(0, 500_000)  # MIDI's default: 120 bpm
    tempo_map = tuple(TempoPoint(at=t / tpb, bpm=60_000_000 / u) for t, u in sorted(tempos.items()))
    signature, changes = _signatures(smf, dropped)
    if title is None:  # the name of a format-0 track or of a conductor track, else the file's
        first = smf.track_names[0] if smf.track_names else ""
        conductor = not any(p.track == 0 for p in smf.parts)
        title = first if first and (smf.format == 0 or conductor) else smf.path.stem
    song = Song(title=title or "Untitled", tempo=60_000_000 / start_uspq,
                time_signature=signature, tempo_map=tempo_map, time_signatures=changes)
    return song, len(tempo_map) + 1, len(changes) + 1


def _signatures(smf: Smf, dropped: list[str]
                ) -> tuple[tuple[int, int], tuple[TimeSignatureChange, ...]]:
    """Time signatures at bar lines; one that falls inside a bar moves to the next bar line."""
    tpb = smf.ticks_per_beat
    first = (4, 4)
    seg_tick, seg_bar = Fraction(0), 1
    per_bar = Fraction(4 * tpb)
    changes: dict[int, tuple[int, int]] = {}
    for tick, num, den in smf.time_signatures:
        if tick == 0:
            first = (num, den)
            per_bar = Fraction(num * 4 * tpb, den)
            continue
        bars = (tick - seg_tick) / per_bar
        bar = seg_bar + math.ceil(bars)
        if bars != int(bars):
            dropped.append(f"time signature {num}/{den} at beat {tick / tpb:g} is inside a bar; "
                           f"it starts at bar {bar} instead")
        seg_tick += math.ceil(bars) * per_bar
        seg_bar = bar
        per_bar = Fraction(num * 4 * tpb, den)
        changes[bar] = (num, den)
    return first, tuple(TimeSignatureChange(bar=b, signature=s) for b, s in changes.items())


def _markers(smf: Smf) -> tuple[Marker, ...]:
    seen: set[str] = set()
    out = []
    for i, (tick, text) in enumerate(smf.markers):
        name = _unique(text or f"Marker {i + 1}", seen)
        out.append(Marker(name=name, at=tick / smf.ticks_per_beat))
    return tuple(out)


def _unique(name: str, seen: set[str]) -> str:
    base = name
    k = 2
    while name.lower() in seen:
        name = f"{base} {k}"
        k += 1
    seen.add(name.lower())
    return name


def _track_names(smf: Smf) -> list[str]:
    """A unique, valid track name per part: the track name, else the GM program name."""
    channels: dict[int, int] = {}
    for part in smf.parts:
        channels[part.track] = channels.get(part.track, 0) + 1
    seen: set[str] = {MASTER}
    names = []
    for part in smf.parts:
        if part.name:
            name = part.name
        elif part.channel == DRUM_CHANNEL:
            name = "Drums"
        else:
            name = GM_PROGRAMS[part.program or 0]
        if channels[part.track] > 1:
            name = f"{name} (ch {part.channel + 1})"
        names.append(_unique(name, seen))
    return names


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "track"


def _mix(part: SmfPart, tpb: int
         ) -> tuple[float, float, tuple[AutomationLane, ...]]:
    """Fader, pan and their automation lanes from CC7 and CC10."""
    lanes = []
    volume_db, pan = 0.0, 0.0
    for param, events, conv in (("volume_db", part.volume, db_from_cc7),
                                ("pan", part.pan, pan_from_cc10)):
        if not events:
            continue
        value, lane = _steps(param, events, conv, tpb)
        if param == "volume_db":
            volume_db = value
        else:
            pan = value
        if lane is not None:
            lanes.append(lane)
    return volume_db, pan, tuple(lanes)


def _steps(param: str, events: list[tuple[int, int]], conv: Callable[[int], float], tpb: int,
           *, always: bool = False) -> tuple[float, AutomationLane | None]:
    """Controller events as a fixed value (the first) and, when they change (or ``always``),
    a lane of steps: each value holds until one tick before the next."""
    values = [conv(v) for _, v in events]
    if len(set(values)) == 1 and not always:
        return values[0], None
    points = [AutomationPoint(at=events[0][0] / tpb, value=values[0])]
    last = events[0][0]
    for (tick, _), prev, value in zip(events[1:], values, values[1:], strict=False):
        if value == prev:
            continue
        if tick - 1 > last:  # hold until one tick before: a step, as MIDI's are
            points.append(AutomationPoint(at=(tick - 1) / tpb, value=prev))
        if tick == last:  # several values at one tick: the last one wins
            points[-1] = AutomationPoint(at=tick / tpb, value=value)
        else:
            points.append(AutomationPoint(at=tick / tpb, value=value))
        last = tick
    return values[0], AutomationLane(param=param, points=tuple(points))


def _part_losses(part: SmfPart, name: str, dropped: list[str], soundfont: bool) -> None:
    if part.pitch_bends and not soundfont:
        dropped.append(f"track {name!r}: {part.pitch_bends} pitch-bend events dropped "
                       "(the built-in instruments have no pitch-bend input)")
    if part.program_changes:
        dropped.append(f"track {name!r}: {part.program_changes} later program changes "
                       f"ignored (it plays program {part.program} throughout)")
    if part.channel == DRUM_CHANNEL and not soundfont:
        # Here only: the built-in kit's module loads numba, which a SoundFont import skips.
        from mixdown.dsp.instruments.drums import GM_DRUMS

        silent = int(np.count_nonzero(~np.isin(part.notes[:, 2], list(GM_DRUMS))))
        if silent:
            dropped.append(f"track {name!r}: {silent} notes on drum keys the built-in kit "
                           "does not play (kept, but silent)")


def clip_file_bytes(notes: NDArray[np.int64], ticks_per_beat: int, name: str,
                    program: int | None, channel: int) -> bytes:
    """A format-0 MIDI clip file holding ``notes`` ((n, 4): start, end, pitch, velocity ticks)."""
    meta = [(0, meta_text(0x03, name))]
    if program is not None:
        meta.append((0, channel_message(0xC0, channel, program)))
    ticks, msgs = note_events(notes, channel)
    return smf_bytes(0, ticks_per_beat, [track_chunk(meta, ticks, msgs)])


__all__ = ["INLINE_NOTES_MAX", "SEND_BUSES", "ImportedTrack", "MidiImport", "SoundFontRef",
           "clip_file_bytes", "db_from_cc7", "midi_to_project", "pan_from_cc10",
           "send_db_from_cc"]
