"""Resolve a :class:`~mixdown.model.Project` into a :class:`ResolvedSong`.

This is the one place where a project is checked against the world beyond the model
(the device registry, the song's maps, the project's files) and the one place where
names become indices and positions become frames. Every problem is collected; a
problem that makes the rest of a branch meaningless (a missing file, an unknown device)
stops that branch only.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mixdown.core.errors import FormatError, MixdownError
from mixdown.core.names import closest
from mixdown.core.targets import TargetTable
from mixdown.core.time import SongMapError, seconds_to_frames, song_maps
from mixdown.core.units import db_to_gain
from mixdown.dsp.base import (
    DEVICES,
    DeviceInfo,
    Param,
    create_device,
    device_info,
    load_builtin_devices,
)
from mixdown.dsp.effects.foreign import FOREIGN_TYPES, foreign_warning
from mixdown.dsp.instruments.drums import DRUM_NOTES
from mixdown.io.audio import FORMATS
from mixdown.io.catalog import AssetCatalog
from mixdown.io.clip_edit import ClipEdit
from mixdown.io.places import ASSET_KEY, SONG_FILE, Where
from mixdown.model.project import (
    MASTER,
    PAN_RANGE,
    SAMPLE_RATES,
    VOLUME_DB_RANGE,
    Bus,
    Channel,
    Clip,
    Device,
    Master,
    Note,
    Project,
    Track,
)
from mixdown.resolve.clips import ClipChecks
from mixdown.resolve.modulators import resolve_modulators
from mixdown.resolve.notes import clip_length_beats, note_events, raw_notes, steps
from mixdown.resolve.problems import Problems, StopBranch
from mixdown.resolve.song import (
    DeviceParam,
    InstrumentParam,
    Lane,
    Pan,
    ResolvedChannel,
    ResolvedClip,
    ResolvedDevice,
    ResolvedInstrument,
    ResolvedMarker,
    ResolvedSend,
    ResolvedSong,
    SendLevel,
    Target,
    Volume,
)
from mixdown.resolve.takes import comp_clips
from mixdown.resolve.timeline import Timeline

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Span:
    """What part of the song to resolve (all of it by default) and how long it rings.

    ``section`` is a marker's name; ``start``/``end`` are song positions (beats,
    ``"bar:beat"``, ``"<seconds>s"``); ``start_s``/``end_s`` seconds; ``tail_s`` seconds
    after the end for tails (default: the song's ``tail_s``).
    """

    section: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    start: float | str | None = None
    end: float | str | None = None
    tail_s: float | None = None


def resolve_project(project: Project, catalog: AssetCatalog, *,
                    sample_rate: int | None = None, span: Span | None = None,
                    label: str = SONG_FILE, text: str | None = None,
                    events: bool = True) -> ResolvedSong:
    """Check ``project`` completely and resolve it to frames at ``sample_rate``.

    Parameters
    ----------
    project : Project
        A validated model.
    catalog : AssetCatalog
        The project's files (a dry-run catalog writes nothing).
    sample_rate : int, optional
        Hz; defaults to the song's.
    span : Span, optional
        The part to render. Without one the whole song is resolved and an empty song is
        not a problem (loading a project); with one, an empty range is.
    label : str
        How messages name the project (its song.toml path).
    text : str, optional
        The song.toml text, so that problems can give their line.
    events : bool
        Compute the instruments' note events (a check that builds no graph can skip them:
        every note is still checked).

    Returns
    -------
    ResolvedSong

    Raises
    ------
    ProjectProblems
        Every problem found, one line each: file, line, key path, what to do.
    """
    return _Resolver(project, catalog, label, text, events).run(sample_rate, span)


class _Resolver:
    def __init__(self, project: Project, catalog: AssetCatalog, label: str,
                 text: str | None, events: bool) -> None:
        load_builtin_devices()
        self.events = events
        self.p = project
        self.catalog = catalog
        self.where = Where.of_project(label, project)
        self.problems = Problems(self.where, text)
        self.chans: list[tuple[Path_, Channel | Master]] = [
            *((("track", i), t) for i, t in enumerate(project.tracks)),
            *((("bus", i), b) for i, b in enumerate(project.buses)),
            (("master",), project.master),
        ]
        names = [t.name for t in project.tracks] + [b.name for b in project.buses]
        self.index = {n: i for i, n in enumerate(names)}
        self.index[MASTER] = len(names)
        self.edits: dict[Path_, ClipEdit] = {}  # audio clips' file edits, by clip place

    # -- the whole ---------------------------------------------------------------------------

    def run(self, sample_rate: int | None, span: Span | None) -> ResolvedSong:
        probs = self.problems
        p = self.p
        sr = sample_rate or p.song.sample_rate
        if sr not in SAMPLE_RATES:
            probs.add((), f"sample rate must be {', '.join(map(str, SAMPLE_RATES))} Hz, "
                      f"got {sr}")
            probs.raise_if_any()
        try:
            meter, tempo = song_maps(
                p.song.tempo, p.song.time_signature,
                [(t.at, t.bpm, t.ramp) for t in p.song.tempo_map],
                [(t.bar, *t.signature) for t in p.song.time_signatures])
        except SongMapError as exc:
            probs.add(exc.path, str(exc))
            probs.raise_if_any()
        tl = self.tl = Timeline(meter, tempo, sr)
        self._check_target()
        devices = {path: self._devices(path, ch) for path, ch in self.chans}
        instruments = {path: self._instrument(path, ch) for path, ch in self.chans
                       if isinstance(ch, Track) and ch.instrument is not None}
        length_f = self.song_len = self._pos(p.song.length, ("song", "length")) \
            if p.song.length is not None else None
        markers = []
        for i, m in enumerate(p.markers):
            b = self._beats(m.at, ("marker", i, "at"))
            if b is not None:
                markers.append(ResolvedMarker(m.name, b, tl.frame_of_beats(b)))
        self.compose = ClipChecks(p, probs)
        clips = {path: self._clips(path, ch) for path, ch in self.chans
                 if isinstance(ch, Track)}
        lanes = {path: self._lanes(path, ch, devices[path]) for path, ch in self.chans}
        mods = {path: resolve_modulators(self, path, ch, devices[path], lanes[path])
                for path, ch in self.chans}
        self._check_loops()
        song_end = length_f if length_f is not None else max(
            [e for cs in clips.values() for _, _, e, _, _ in cs]
            + [m.frames for m in markers] + [0])
        start, stop = (0, song_end) if span is None else self._range(span, song_end, markers)
        tail_s = p.song.tail_s if span is None or span.tail_s is None else span.tail_s
        if tail_s < 0 or not math.isfinite(tail_s):
            probs.add((), f"tail must be >= 0 seconds, got {tail_s}")
        probs.raise_if_any()
        audible = _audible(p)
        nodes: list[ResolvedChannel] = []
        for path, ch in self.chans:
            label = self.where.place(path)
            kind: Literal["track", "bus", "master"] = (
                "master" if isinstance(ch, Master) else "track" if isinstance(ch, Track)
                else "bus")
            instrument = None
            placed: tuple[ResolvedClip, ...] = ()
            if isinstance(ch, Track):
                if path in instruments:
                    instrument = self._notes(path, ch, instruments[path], clips[path], stop)
                else:
                    placed = tuple(self._place(c, stop) for c in clips[path]
                                   if c[0].kind == "audio")
                    placed = tuple(c for c in placed if c.length_frames > 0)
            is_master = isinstance(ch, Master)
            nodes.append(ResolvedChannel(
                index=len(nodes), name=MASTER if is_master else ch.name,  # type: ignore[union-attr]
                kind=kind, label=label, volume_db=ch.volume_db,
                pan=0.0 if is_master else ch.pan,  # type: ignore[union-attr]
                muted=False if is_master else (ch.mute or not audible[ch.name]),  # type: ignore[union-attr]
                invert=False if is_master else ch.phase_invert,  # type: ignore[union-attr]
                sends=() if is_master else tuple(
                    ResolvedSend(self.index[s.to], s.to, s.level_db, s.pre_fader)
                    for s in ch.sends),  # type: ignore[union-attr]
                output=None if is_master else self.index[ch.output],  # type: ignore[union-attr]
                devices=devices[path], lanes=lanes[path], instrument=instrument,
                clips=placed, modulators=mods[path]))
        probs.raise_if_any()
        return ResolvedSong(
            title=p.song.title, sample_rate=sr, channels=tuple(nodes), start_frames=start,
            stop_frames=stop, end_frames=stop + seconds_to_frames(tail_s, sr),
            song_end_frames=song_end, tempo=tl.tempo, meter=tl.meter,
            markers=tuple(sorted(markers, key=lambda m: m.beats)),
            warnings=tuple(probs.warnings))

    # -- positions ---------------------------------------------------------------------------

    def _beats(self, value: Any, path: Path_) -> float | None:
        try:
            return self.tl.beats(value)
        except MixdownError as exc:
            self.problems.add(path, str(exc))
            return None

    def _pos(self, value: Any, path: Path_) -> int | None:
        b = self._beats(value, path)
        return None if b is None else self.tl.frame_of_beats(b)

    def _range(self, span: Span, song_end: int, markers: list[ResolvedMarker]
               ) -> tuple[int, int]:
        tl, sr, probs = self.tl, self.tl.sample_rate, self.problems
        if span.section is not None:
            names = [m.name for m in self.p.markers]
            if span.section not in names:
                hint = closest(span.section, names, list_known=False)
                probs.add((), f"no section {span.section!r}{hint} "
                          f"(sections: {', '.join(names) or 'none defined'})")
                return 0, 0
            start = next(m.frames for m in markers if m.name == span.section)
            later = sorted(m.frames for m in markers if m.frames > start)
            stop = later[0] if later else song_end
        else:
            start = seconds_to_frames(span.start_s, sr) if span.start_s is not None else 0
            stop = seconds_to_frames(span.end_s, sr) if span.end_s is not None else song_end
            try:
                if span.start is not None:
                    start = tl.frame(span.start)
                if span.end is not None:
                    stop = tl.frame(span.end)
            except MixdownError as exc:
                probs.add((), str(exc))
                return 0, 0
        if stop <= start and not probs.found:
            probs.add((), "nothing to render: the song is empty (add clips or set song.length)"
                      if song_end == 0 else f"the render range is empty ({start / sr:.3f} s "
                      f"to {stop / sr:.3f} s)")
        return start, stop

    def _check_target(self) -> None:
        target = self.p.master.target
        if target is None:
            return
        try:
            TargetTable.from_project(self.catalog.root).resolve(target)
        except MixdownError as exc:
            self.problems.add(("master", "target"), str(exc))

    # -- devices -----------------------------------------------------------------------------

    def _info(self, d: Device, path: Path_, kind: Literal["effect", "instrument"]
              ) -> DeviceInfo | None:
        probs = self.problems
        if kind == "effect" and d.type in DEVICES and DEVICES[d.type].kind == "instrument":
            probs.add((*path, "type"), f"{d.type!r} is an instrument; use it as "
                      f'instrument = {{ type = "{d.type}" }} on a track')
            return None
        if kind == "instrument" and d.type in DEVICES and DEVICES[d.type].kind == "effect":
            probs.add((*path, "type"), f"{d.type!r} is an effect; put it in devices = [...], "
                      "and use an instrument here")
            return None
        try:
            return device_info(d.type, kind=kind)
        except MixdownError as exc:
            probs.add((*path, "type"), str(exc))
            return None

    def _params(self, d: Device, info: DeviceInfo, path: Path_) -> dict[str, Any] | None:
        known = [p.name for p in info.params]
        ok = True
        out: dict[str, Any] = {}
        for key, value in d.params.items():
            if key not in known:
                hint = closest(key, known) if known else f"; {d.type} takes no parameters"
                self.problems.add((*path, key), f"{d.type} has no parameter {key!r}{hint}")
                ok = False
                continue
            try:
                out[key] = info.param(key).check(value, "")
            except MixdownError as exc:
                self.problems.add((*path, key), str(exc)[len(key) + 2:])
                ok = False
        if d.params.get("sidechain") and not info.sidechain:
            self.problems.add((*path, "sidechain"), f"{d.type} takes no sidechain")
            ok = False
        if not self._files(d.params, path):
            ok = False
        return dict(d.params) if ok else None

    def _constructs(self, d: Device, params: dict[str, Any], path: Path_) -> bool:
        """Rules between an effect's parameters that their specs cannot say (a filter slope of
        12 or 24 dB/oct...): the effect is built once here, so they name the file and line."""
        try:
            create_device(d.type, dict(params), kind="effect")
        except MixdownError as exc:
            self.problems.add(path, str(exc))
            return False
        return True

    def _devices(self, path: Path_, ch: Channel | Master) -> tuple[ResolvedDevice, ...]:
        out = []
        for j, d in enumerate(ch.devices):
            dpath = (*path, "devices", j)
            info = self._info(d, dpath, "effect")
            if info is None:
                continue
            params = self._params(d, info, dpath)
            if params is None or not self._constructs(d, params, dpath):
                continue
            if d.type in FOREIGN_TYPES:
                self.problems.warn(dpath, foreign_warning(d.type, params))
            sc = d.params.get("sidechain")
            out.append(ResolvedDevice(j, d.type, self.where.place(dpath), params, d.bypass,
                                      self.index[sc] if sc else None))
        return tuple(out)

    def _instrument(self, path: Path_, track: Track) -> ResolvedInstrument | None:
        assert track.instrument is not None
        ipath = (*path, "instrument")
        d = track.instrument
        info = self._info(d, ipath, "instrument")
        if info is None:
            return None
        params = self._params(d, info, ipath)
        if params is None:
            return None
        if d.type in FOREIGN_TYPES:
            self.problems.warn(ipath, foreign_warning(d.type, params))
        if d.type == "sampler" and isinstance(params.get("zones"), list):
            zones = self._zones(params["zones"], ipath)
            if zones is None:
                return None
            params["zones"] = zones
        if d.type == "soundfont" and not self._soundfont(params, ipath):
            return None
        return ResolvedInstrument(d.type, self.where.place(ipath), params, ())

    def _soundfont(self, params: dict[str, Any], ipath: Path_) -> bool:
        """Read and check the SoundFont that ``file`` names; its bytes join the parameters."""
        rel = params.get("file")
        if not rel:
            self.problems.add((*ipath, "file"), 'missing; name the SoundFont, e.g. file = '
                              '"sounds/gm.sf2" (a file inside the project folder)')
            return False
        try:
            file = self.catalog.path(rel, self.where.at((*ipath, "file")))
            params["soundfont"], info = self.catalog.soundfont(file)
        except MixdownError as exc:
            self.problems.from_error((*ipath, "file"), exc, rel)
            return False
        bank, preset = params.get("bank", 0), params.get("preset", 0)
        if not info.has_preset(bank, preset):
            from mixdown.dsp.instruments.soundfont import describe_presets

            self.problems.add((*ipath, "preset"), f"{rel} has no preset {preset} in bank "
                              f"{bank}{describe_presets(info, bank)}")
            return False
        return True

    def _zones(self, zones: list[Any], ipath: Path_) -> list[Any] | None:
        from mixdown.dsp.instruments.sampler import check_zones

        loaded = []
        for zi, zone in enumerate(zones):
            zpath = (*ipath, "zones", zi)
            if isinstance(zone, Mapping) and isinstance(zone.get("audio"), str):
                self.problems.add((*zpath, "audio"), "in song.toml a zone names its sample "
                                  f'with file = "{zone["audio"]}"; audio is for arrays given '
                                  "from Python")
                return None
            if isinstance(zone, Mapping) and isinstance(zone.get("file"), str):
                z = dict(zone)
                try:
                    file = self.catalog.path(z.pop("file"), self.where.at((*zpath, "file")))
                    z["audio"], z["sample_rate"] = self.catalog.decoded(file)
                except MixdownError:
                    return None  # reported by _files
                loaded.append(z)
            else:
                loaded.append(zone)
        try:
            check_zones(loaded)
        except MixdownError as exc:
            m = re.match(r"^sampler zones\[(\d+)\](?:\.(\w+))?: (.*)$", str(exc))
            if m:
                zp: Path_ = (*ipath, "zones", int(m.group(1)),
                             *((m.group(2),) if m.group(2) else ()))
                self.problems.add(zp, m.group(3))
            else:
                self.problems.add((*ipath, "zones"), str(exc))
            return None
        return loaded

    def _files(self, params: Any, path: Path_) -> bool:
        """Every ``file``/``*_file`` string in device parameters must be a project file."""
        ok = True

        def walk(value: Any, p: Path_) -> None:
            nonlocal ok
            if isinstance(value, Mapping):
                for k, v in value.items():
                    if isinstance(k, str) and ASSET_KEY.match(k) and isinstance(v, str):
                        if self._asset(v, (*p, k), audio=Path(v).suffix.lower() in FORMATS
                                       ) is None:
                            ok = False
                    else:
                        walk(v, (*p, k))
            elif isinstance(value, list | tuple):
                for i, v in enumerate(value):
                    walk(v, (*p, i))

        walk(params, path)
        return ok

    def _asset(self, relative: str, path: Path_, *, audio: bool) -> Path | None:
        """The checked file ``relative`` names, or None (with the problem recorded)."""
        try:
            file = self.catalog.path(relative, self.where.at(path))
            if audio:
                self.catalog.audio(file)
            return file
        except MixdownError as exc:
            self.problems.from_error(path, exc, relative)
            return None

    # -- clips -------------------------------------------------------------------------------

    def _clips(self, path: Path_, track: Track
               ) -> list[tuple[Clip, int, int, tuple[Note, ...] | Any, Path_]]:
        """(clip, start frame, end frame, notes or (file, info), place) of the clips that
        resolve."""
        out = []
        probs, tl = self.problems, self.tl
        song_len = self.song_len
        own = [(clip, (*path, "clips", ci)) for ci, clip in enumerate(track.clips)]
        for clip, cpath in own + comp_clips(self, path, track):
            start_b = self._beats(clip.start, (*cpath, "start"))
            if start_b is None:
                continue
            placed = self.compose.place(clip, cpath, tl.meter, start_b)
            if placed is None:
                continue
            clip = placed
            start = tl.frame_of_beats(start_b)
            length_b = clip_length_beats(clip, tl.meter, start_b)
            data: Any = None
            if clip.pattern is not None:
                bad = False
                for voice, text in clip.pattern.items():
                    if voice not in DRUM_NOTES:
                        probs.add((*cpath, "pattern", voice), "unknown drum voice"
                                  + closest(voice, sorted(DRUM_NOTES)))
                        bad = True
                    elif not steps(text):
                        probs.add((*cpath, "pattern", voice),
                                  "has no steps; write e.g. \"x...x...\"")
                        bad = True
                if bad:
                    continue
            if clip.file is not None:
                if track.instrument is not None:
                    probs.add((*cpath, "file"), "an instrument track cannot play audio clips; "
                              "put them on a track without an instrument")
                    continue
                file = self._asset(clip.file, (*cpath, "file"), audio=True)
                if file is None:
                    continue
                info = self.catalog.audio(file)
                if info.channels > 2:
                    probs.add((*cpath, "file"), f"{clip.file} has {info.channels} channels; "
                              "clips must be mono or stereo", error=FormatError, asset=file)
                    continue
                if clip.offset_s >= info.duration_s:
                    probs.add((*cpath, "offset_s"), f"{clip.offset_s:g} s is past the end of "
                              f"{clip.file} ({info.duration_s:.3f} s)")
                    continue
                edit = self._edit(clip, start_b, length_b, info, cpath)
                if edit is None:
                    continue
                self.edits[cpath] = edit
                data = (file, info)
            if clip.midi is not None:
                file = self._asset(clip.midi, (*cpath, "midi"), audio=False)
                if file is None:
                    continue
                try:
                    data = self.catalog.midi_notes(file)
                except FormatError as exc:
                    probs.from_error((*cpath, "midi"), exc, clip.midi)
                    continue
            elif clip.notes:
                data = clip.notes
            if clip.kind == "empty":
                probs.warn(cpath, "has no file, notes, pattern or midi; it plays nothing")
            end = self._clip_end(clip, start, start_b, length_b, data, cpath)
            if song_len is not None and start >= song_len and clip.kind != "empty":
                length = self.p.song.length
                shown = f"{length:g}" if isinstance(length, float) else repr(length)
                probs.warn(cpath, f"starts after the song's end (song.length = {shown}); "
                           "it does not play")
            if clip.kind == "audio" and clip.fade_in_s + clip.fade_out_s > 0:
                secs = (end - start) / tl.sample_rate
                if clip.fade_in_s + clip.fade_out_s > secs + 1e-9:
                    probs.warn(cpath, f"fades ({clip.fade_in_s:g} s in + {clip.fade_out_s:g} s "
                               f"out) are longer than the clip ({secs:.3f} s); they overlap")
            out.append((clip, start, end, data, cpath))
        # a comp's clips crossfade among themselves, not with the track's own clips
        return (self._crossfades([c for c in out if c[4][2] == "clips"])
                + self._crossfades([c for c in out if c[4][2] != "clips"]))

    def _crossfades(self, clips: list[tuple[Clip, int, int, Any, Path_]]
                    ) -> list[tuple[Clip, int, int, Any, Path_]]:
        """Audio clips with ``crossfade_s`` fade in over that time while the audio clip before
        them on the track (extended to the crossfade's end) fades out over it."""
        sr = self.tl.sample_rate
        out = list(clips)
        audio = sorted((i for i, c in enumerate(out) if c[0].kind == "audio"),
                       key=lambda i: (out[i][1], i))
        for k, i in enumerate(audio):
            clip, start, end, data, cpath = out[i]
            if clip.crossfade_s <= 0:
                continue
            frames = round(clip.crossfade_s * sr)
            before = [j for j in audio[:k] if out[j][1] < start]
            if not before:
                self.problems.add((*cpath, "crossfade_s"), "there is no audio clip before this "
                                  "one on the track to crossfade from; remove crossfade_s")
                continue
            j = before[-1]
            pclip, pstart, pend, pdata, ppath = out[j]
            if pend < start:
                self.problems.add((*cpath, "crossfade_s"), f"the clip before it ends "
                                  f"{(start - pend) / sr:.3f} s before this one starts; move "
                                  "them together to crossfade")
                continue
            if frames > end - start or start + frames <= pstart:
                self.problems.add((*cpath, "crossfade_s"), f"{clip.crossfade_s:g} s is longer "
                                  "than this clip; shorten the crossfade")
                continue
            new_end = start + frames
            if not pclip.loop:
                natural = pstart + self._audio_frames(pclip, pdata, ppath)
                if natural < new_end:
                    self.problems.warn((*cpath, "crossfade_s"), f"the clip before it has "
                                       f"{max(0, natural - start) / sr:.3f} s of audio past "
                                       "this clip's start; the crossfade fades out silence")
            secs = frames / sr
            out[j] = (pclip.model_copy(update={"fade_out_s": secs,
                                              "fade_out_shape": clip.crossfade_shape}),
                      pstart, new_end, pdata, ppath)
            out[i] = (clip.model_copy(update={"fade_in_s": secs,
                                             "fade_in_shape": clip.crossfade_shape}),
                      start, end, data, cpath)
        return out

    def _edit(self, clip: Clip, start_b: float, length_b: float | None, info: Any,
              cpath: Path_) -> ClipEdit | None:
        """The file edit of an audio clip (its stretch from ``source_bpm`` and the song's
        tempo at the clip's start, or ``"fit"`` to its length), or None with the problem
        recorded."""
        if clip.stretch == "fit":
            if length_b is None or clip.loop:
                self.problems.add((*cpath, "stretch"), '"fit" stretches the file to the '
                                  "clip's length; give length or bars (and no loop)")
                return None
            sr = self.tl.sample_rate
            frames = self.tl.frame_of_beats(start_b + length_b) - self.tl.frame_of_beats(start_b)
            have = (info.frames - round(clip.offset_s * info.sample_rate)) * sr / info.sample_rate
            stretch = frames / have
            if not 0.25 <= stretch <= 4.0:
                self.problems.add((*cpath, "stretch"), f'"fit" needs a stretch of {stretch:.3g};'
                                  " the stretch must be 0.25 .. 4")
                return None
            return ClipEdit(stretch=stretch, pitch_semitones=clip.pitch_semitones,
                            preserve_formants=clip.preserve_formants, reverse=clip.reverse,
                            normalize_db=clip.normalize_db)
        stretch = clip.stretch or 1.0
        if clip.source_bpm is not None:
            bpm = self.tl.tempo.bpm_at(start_b)
            stretch = clip.source_bpm / bpm
            if not 0.25 <= stretch <= 4.0:
                self.problems.add((*cpath, "source_bpm"), f"warping {clip.source_bpm:g} bpm to "
                                  f"the song's {bpm:g} bpm stretches by {stretch:.3g}; the "
                                  "stretch must be 0.25 .. 4")
                return None
        return ClipEdit(stretch=stretch, pitch_semitones=clip.pitch_semitones,
                        preserve_formants=clip.preserve_formants, reverse=clip.reverse,
                        normalize_db=clip.normalize_db)

    def _audio_frames(self, clip: Clip, data: Any, cpath: Path_) -> int:
        """Frames at the render rate an audio clip's (stretched) file has from its offset
        on."""
        _, info = data
        stretch = self.edits[cpath].stretch
        at_rate = info.frames * self.tl.sample_rate / info.sample_rate
        frames = round(at_rate * stretch) - round(clip.offset_s * self.tl.sample_rate * stretch)
        return max(0, frames)

    def _clip_end(self, clip: Clip, start: int, start_b: float, length_b: float | None,
                  data: Any, cpath: Path_) -> int:
        tl = self.tl
        if length_b is not None:
            return tl.frame_of_beats(start_b + length_b)
        if clip.kind == "audio":
            return start + self._audio_frames(clip, data, cpath)
        if clip.kind == "notes":
            end_b = start_b + max((n.start + n.length for n in data or ()), default=0)
            return tl.frame_of_beats(end_b)
        return start

    def _place(self, c: tuple[Clip, int, int, Any, Path_], stop: int) -> ResolvedClip:
        clip, start, end, (file, _), cpath = c
        sr = self.tl.sample_rate
        edit = self.edits[cpath]
        path = self.catalog.edited(self.catalog.at_rate(file, sr), edit)
        reader = self.catalog.reader(path)
        frames = reader.info.frames
        offset = round(clip.offset_s * sr * edit.stretch)
        return ResolvedClip(
            label=self.where.place(cpath), reader=reader, start_frames=start,
            length_frames=max(0, min(end, stop) - start), offset_frames=offset,
            file_frames=frames, file_channels=reader.info.channels,
            gain=db_to_gain(clip.gain_db), fade_in_frames=round(clip.fade_in_s * sr),
            fade_out_frames=round(clip.fade_out_s * sr), loop=clip.loop,
            fade_in_shape=clip.fade_in_shape, fade_out_shape=clip.fade_out_shape)

    def _notes(self, path: Path_, track: Track, inst: ResolvedInstrument | None,
               clips: list[tuple[Clip, int, int, Any, Path_]], stop: int
               ) -> ResolvedInstrument | None:
        for clip, _, _, data, cpath in clips:
            if clip.kind == "notes" and clip.transpose and not clip.pattern:
                bad = [n.pitch + clip.transpose for n in data or ()
                       if not 0 <= n.pitch + clip.transpose <= 127]
                if bad:
                    self.problems.add((*cpath, "transpose"),
                                      f"transposed pitch {bad[0]} is outside 0..127; change "
                                      "transpose")
        for clip, _, _, data, cpath in clips:
            if clip.kind == "notes":
                self.compose.check_pitches(
                    clip, [(n.start, n.length, n.pitch, n.velocity) for n in data or ()],
                    cpath, self.tl.meter, DRUM_NOTES)
        if inst is None or not self.events:
            return inst
        events = []
        for clip, _, _, data, cpath in clips:
            if clip.kind != "notes":
                continue
            start_b = self.tl.beats(clip.start)
            length_b = clip_length_beats(clip, self.tl.meter, start_b)
            raw = raw_notes(clip, ((n.start, n.length, n.pitch, n.velocity) for n in data or ()),
                            DRUM_NOTES, start_b, length_b, meter=self.tl.meter,
                            key=self.compose.key, period_b=self.compose.period(cpath))
            events.extend(note_events(clip, raw, self.tl, start_b, length_b, stop))
        events.sort(key=lambda ev: (ev.start_frame, ev.pitch, ev.end_frame))
        return ResolvedInstrument(inst.type, inst.label, inst.params, tuple(events))

    # -- automation --------------------------------------------------------------------------

    def _lanes(self, path: Path_, ch: Channel | Master,
               devices: tuple[ResolvedDevice, ...]) -> tuple[Lane, ...]:
        out = []
        for li, lane in enumerate(ch.automation):
            lpath = (*path, "automation", li)
            try:
                target, limits = self._target(lane.param, ch, lpath)
            except StopBranch:
                continue
            pts = []
            for pi, point in enumerate(lane.points):
                f = self._beats(point.at, (*lpath, "points", pi))
                if f is None:
                    continue
                pts.append((self.tl.tempo.beats_to_seconds(f) * self.tl.sample_rate,
                            point.value, point.curve, pi))
                if not self._value_ok(lane.param, limits, point.value):
                    self.problems.add((*lpath, "points", pi),
                                      self._range_text(lane.param, limits, point.value))
            if len(pts) != len(lane.points):
                continue
            pts.sort(key=lambda t: t[0])
            for a, b in itertools.pairwise(pts):
                if a[0] == b[0]:
                    self.problems.add((*lpath, "points", b[3]), f"{lane.param}: two points at "
                                      f"the same position (points[{a[3]}] and points[{b[3]}]); "
                                      "move one")
            out.append(Lane(target, f"{self.where.place(lpath)} ({lane.param})",
                            tuple(p[0] for p in pts), tuple(float(p[1]) for p in pts),
                            tuple(p[2] for p in pts)))
        return tuple(out)

    @staticmethod
    def _value_ok(param: str, limits: tuple[float, float] | Param, value: float) -> bool:
        if isinstance(limits, Param):
            try:
                limits.check(value, "")
            except MixdownError:
                return False
            return True
        return limits[0] <= value <= limits[1]

    @staticmethod
    def _range_text(param: str, limits: tuple[float, float] | Param, value: float) -> str:
        if isinstance(limits, Param):
            try:
                limits.check(value, "")
            except MixdownError as exc:
                return f"{param}{str(exc)[len(limits.name):]}"
        lo, hi = limits  # type: ignore[misc]
        return f"{param} must be in {lo:g}..{hi:g}, got {value:g}"

    def _target(self, param: str, ch: Channel | Master, lpath: Path_, key: str = "param"
                ) -> tuple[Target, tuple[float, float] | Param]:
        probs = self.problems
        ppath = (*lpath, key)
        if param == "volume_db":
            return Volume(), VOLUME_DB_RANGE
        if param == "pan":
            if isinstance(ch, Master):
                raise probs.stop(ppath, "the master has no pan; automate volume_db or a "
                                 "device parameter")
            return Pan(), PAN_RANGE
        if param.startswith("send."):
            bus = param[5:]
            sends = [] if isinstance(ch, Master) else [s.to for s in ch.sends]
            if bus not in sends:
                known = ", ".join(sends) if sends else "none"
                raise probs.stop(ppath, f"no send to {bus!r} here (sends: {known}); add it to "
                                 "sends first")
            return SendLevel(sends.index(bus)), VOLUME_DB_RANGE
        if "." not in param:
            hint = closest(param, ["volume_db", "pan"], list_known=False) or (
                "; use volume_db, pan, send.<bus>, <device>.<param> or instrument.<param>")
            raise probs.stop(ppath, f"unknown target {param!r}{hint}")
        ref, pname = param.rsplit(".", 1)
        if ref == "instrument":
            if not isinstance(ch, Track) or ch.instrument is None:
                raise probs.stop(ppath, "there is no instrument here")
            device, j = ch.instrument, -1
        else:
            device, j = self._find_device(ch, ref, ppath)
        if device.type not in DEVICES:
            raise StopBranch  # reported with the device
        info = DEVICES[device.type]
        known = [p.name for p in info.params if p.automatable and p.kind in ("float", "int")]
        if pname not in known:
            raise probs.stop(ppath, f"{device.type} has no automatable parameter {pname!r}"
                             f"{closest(pname, known)}")
        spec = info.param(pname)
        return (InstrumentParam(spec) if j < 0 else DeviceParam(j, spec)), spec

    def _find_device(self, ch: Channel | Master, ref: str, path: Path_) -> tuple[Device, int]:
        """A device by ``name``, by ``type`` (if one unnamed device has it) or ``devices[i]``."""
        probs = self.problems
        m = re.fullmatch(r"devices\[(\d+)\]", ref)
        if m:
            j = int(m.group(1))
            if j < len(ch.devices):
                return ch.devices[j], j
            raise probs.stop(path, f"{ref}: there are {len(ch.devices)} devices here")
        named = [(j, d) for j, d in enumerate(ch.devices) if d.name == ref]
        if named:
            return named[0][1], named[0][0]
        typed = [(j, d) for j, d in enumerate(ch.devices) if d.type == ref and d.name is None]
        if len(typed) > 1:
            raise probs.stop(path, f"{len(typed)} devices are {ref!r}; give one a name or "
                             "write devices[i]")
        if typed:
            return typed[0][1], typed[0][0]
        known = [d.name or d.type for d in ch.devices]
        raise probs.stop(path, f"no device {ref!r} here{closest(ref, known)}")

    # -- routing -----------------------------------------------------------------------------

    def _check_loops(self) -> None:
        """Sends, outputs and sidechains must not form a loop."""
        deps: dict[str, set[str]] = {}
        for _, ch in self.chans:
            name = MASTER if isinstance(ch, Master) else ch.name
            deps.setdefault(name, set())
            if not isinstance(ch, Master):
                deps.setdefault(ch.output, set()).add(name)
                for s in ch.sends:
                    deps.setdefault(s.to, set()).add(name)
            for d in ch.devices:
                sc = d.params.get("sidechain")
                if isinstance(sc, str) and sc:
                    deps[name].add(sc)
        state: dict[str, int] = {}

        def visit(n: str, stack: list[str]) -> list[str] | None:
            state[n] = 1
            stack.append(n)
            for m in sorted(deps.get(n, ())):
                if state.get(m) == 1:
                    return [*stack[stack.index(m):], m]
                if state.get(m) is None:
                    found = visit(m, stack)
                    if found:
                        return found
            stack.pop()
            state[n] = 2
            return None

        for n in list(deps):
            if state.get(n) is None:
                cycle = visit(n, [])
                if cycle:
                    self.problems.add((), "routing loop (sidechain or bus): "
                                      + " -> ".join(reversed(cycle)))
                    return


def _audible(project: Project) -> dict[str, bool]:
    """Solo logic: with any solo, a track plays only if soloed or feeding a soloed bus."""
    chans = [*project.tracks, *project.buses]
    if not any(c.solo for c in chans):
        return {c.name: True for c in chans}
    feeds: dict[str, set[str]] = {}
    for c in chans:
        targets = {s.to for s in c.sends}
        if c.output != MASTER:
            targets.add(c.output)
        feeds[c.name] = targets
    buses = {b.name: b for b in project.buses}

    def reaches_solo(name: str, seen: set[str]) -> bool:
        for t in feeds.get(name, ()):
            if t in seen:
                continue
            seen.add(t)
            bus = buses.get(t)
            if bus is not None and (bus.solo or reaches_solo(t, seen)):
                return True
        return False

    return {c.name: True if isinstance(c, Bus) else (c.solo or reaches_solo(c.name, set()))
            for c in chans}


def check_project(project: Project, root: str | Path, *, label: str = SONG_FILE,
                  text: str | None = None) -> ResolvedSong:
    """Every check of :func:`resolve_project`, with a dry-run catalog (writes nothing) and
    without computing note events: what loading a project runs."""
    return resolve_project(project, AssetCatalog(root, dry_run=True), label=label, text=text,
                           span=None, events=False)


__all__ = ["Span", "check_project", "resolve_project"]
