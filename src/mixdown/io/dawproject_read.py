"""A DAWproject file as a project: tracks, buses, clips, tempo map, markers, automation.

:func:`dawproject_to_project` maps a validated ``project.xml`` (and ``metadata.xml``) to a
:class:`~mixdown.model.project.Project` plus the list of zip entries the project folder
needs (audio, device states) and the device XML it keeps; it writes nothing. What maps
to what (docs/interchange.md):

- ``Track``/``Channel`` (role ``regular``) -> ``[[track]]``; role ``effect``/``submix``,
  or a track with child tracks (a group) -> ``[[bus]]``; the ``master`` channel ->
  ``[master]``; fader (linear or dB), pan, mute, solo, sends, ``destination`` -> output;
- ``Clip`` + ``Notes`` -> a note clip (notes before ``playStart`` dropped, loops unrolled);
  ``Clip`` + ``Audio`` or ``Warps`` -> an audio clip (offset, fades, loop); nested
  ``Clips`` are flattened; alias clips (``reference``) are resolved;
- ``Transport`` tempo and signature, ``TempoAutomation`` (linear segments become ramps),
  ``TimeSignatureAutomation`` (at bar lines), ``Markers`` -> ``[[marker]]``;
- ``Points`` aimed at a volume, pan, send level or mapped device parameter -> automation;
- devices written by mixdown come back exactly (their JSON state); DAWproject's
  Equalizer/Compressor/NoiseGate/Limiter -> eq/compressor/gate/limiter when every setting
  fits, otherwise (and for plug-ins) a ``foreign`` device that keeps the XML and state.

Everything that does not come across is listed in :attr:`DawprojectImport.dropped`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mixdown.core.errors import FormatError
from mixdown.core.units import gain_to_db
from mixdown.io.dawproject_clips import _ClipReader
from mixdown.io.dawproject_common import (
    Reader,
    _Chan,
    _first_error,
    _round,
    _Target,
    finite,
    get_extras,
)
from mixdown.io.dawproject_devices import _DeviceReader
from mixdown.io.dawproject_timeline import _TimelineReader
from mixdown.model.project import (
    MASTER,
    PAN_RANGE,
    VOLUME_DB_RANGE,
    Bus,
    Marker,
    Master,
    Project,
    Send,
    Track,
)


@dataclass(frozen=True, slots=True)
class ImportedChannel:
    """One track or bus made from a DAWproject track/channel."""

    name: str
    kind: str
    clips: int
    notes: int
    devices: int
    kept_devices: int


@dataclass(frozen=True, slots=True)
class DawprojectImport:
    """The project made from a DAWproject file, and what did not come across.

    ``members`` maps project files (``audio/loop.wav``) to the zip entries to copy there;
    ``texts`` maps project files to bytes made here (kept devices' XML).
    """

    project: Project
    members: dict[str, str]
    texts: dict[str, bytes]
    application: str
    channels: tuple[ImportedChannel, ...]
    clips: int
    notes: int
    tempo_changes: int
    time_signatures: int
    markers: int
    automation_lanes: int
    kept_devices: int
    end_beats: float
    dropped: tuple[str, ...]


class _Reader(_TimelineReader, _ClipReader, _DeviceReader):
    """Builds the channels (structure, mix, routing, sends) and walks the arrangement; its
    parts read the timeline, clips and devices."""

    # -- structure -----------------------------------------------------------------------------

    def structure(self) -> None:
        structure = self.root.find("Structure")
        if structure is None:
            return
        for el in structure:
            if el.tag == "Track":
                self._track(el, None)
            elif el.tag == "Channel":
                self._channel(el, None, el.get("name") or "Channel", None, "")
        for chan in self.chans:  # routing, once every channel is known
            self._routing(chan)
        for chan in self.chans:
            self._sends(chan)

    def _unique(self, name: str) -> str:
        base = " ".join(name.split()) or "Track"
        if base.lower() == MASTER:
            base = f"{base} track"
        out, k = base, 2
        while out.lower() in self.used:
            out = f"{base} {k}"
            k += 1
        self.used.add(out.lower())
        return out

    def _track(self, el: Any, parent: _Chan | None) -> None:
        name = el.get("name") or f"Track {len(self.chans) + 1}"
        children = [c for c in el if c.tag == "Track"]
        ch = el.find("Channel")
        content = el.get("contentType") or ""
        chan = None
        if ch is not None:
            chan = self._channel(ch, el, name, parent, content, group=bool(children))
        elif not children:
            self.drop(f"track {name!r}: has no channel; skipped")
        for c in children:
            self._track(c, chan if chan is not None else parent)

    def _channel(self, ch: Any, track_el: Any | None, name: str, parent: _Chan | None,
                 content: str, *, group: bool = False) -> _Chan | None:
        role = ch.get("role") or "regular"
        if role == "master":
            if self.master is not None:
                self.drop(f"track {name!r}: a second master channel; skipped")
                return None
            kind = "master"
        elif role == "vca":
            self.drop(f"track {name!r}: VCA channels have no mixdown form; skipped")
            return None
        elif role in ("effect", "submix") or group:
            kind = "bus"
        else:
            kind = "track"
        chan = _Chan(ch, MASTER if kind == "master" else self._unique(name), kind, track_el,
                     content)
        chan.extras = get_extras(ch)
        if parent is not None:
            chan.extras.setdefault("_parent", parent.name)
        if kind == "master":
            self.master = chan
        self.chans.append(chan)
        for key in (ch.get("id"), track_el.get("id") if track_el is not None else None):
            if key:
                self.by_id[key] = chan
        self._mix(chan)
        self._devices(chan)
        return chan

    def _mix(self, chan: _Chan) -> None:
        ch = chan.el
        vol = ch.find("Volume")
        if vol is not None:
            chan.volume_db = self._db(vol)
            if vol.get("id"):
                self.targets[vol.get("id")] = _Target(chan, "volume_db", self._db_point,
                                                      vol.get("unit", "linear"))
        pan = ch.find("Pan")
        if pan is not None:
            p = self._pan(pan, finite(pan.get("value"), None))
            if chan.kind == "master":
                if abs(p) > 1e-9:
                    self.drop("master: pan has no mixdown form; dropped")
            else:
                chan.pan = p
                if pan.get("id"):
                    lo, hi = finite(pan.get("min"), 0.0), finite(pan.get("max"), 1.0)
                    self.targets[pan.get("id")] = _Target(
                        chan, "pan", lambda v, u, lo=lo, hi=hi: _pan_value(v, u, lo, hi),
                        pan.get("unit", "normalized"))
        mute = ch.find("Mute")
        if mute is not None and mute.get("value") == "true":
            if chan.kind == "master":
                self.drop("master: mute has no mixdown form; dropped")
            else:
                chan.mute = True
        if ch.get("solo") == "true" and chan.kind != "master":
            chan.solo = True

    def _db(self, el: Any) -> float:
        v = finite(el.get("value"))
        if v is None:
            return 0.0
        return self._db_point(v, el.get("unit", "linear"))

    @staticmethod
    def _db_point(v: float, unit: str) -> float:
        db = v if unit == "decibel" else (gain_to_db(v) if v > 0 else -math.inf)
        return _round(min(max(db, VOLUME_DB_RANGE[0]), VOLUME_DB_RANGE[1]))

    @staticmethod
    def _pan(el: Any, v: float | None) -> float:
        if v is None:
            return 0.0
        lo, hi = finite(el.get("min"), 0.0), finite(el.get("max"), 1.0)
        return _pan_value(v, el.get("unit", "normalized"), lo, hi)

    def _routing(self, chan: _Chan) -> None:
        if chan.kind == "master":
            return
        dest = chan.el.get("destination")
        target = self.by_id.get(dest) if dest else None
        if target is None and dest is None and "_parent" in chan.extras:
            parent = chan.extras["_parent"]
            target = next((c for c in self.chans if c.name == parent), None)
        if target is None or target.kind == "master":
            chan.output = MASTER
        elif target.kind == "bus" and target is not chan:
            chan.output = target.name
        else:
            self.drop(f"{chan.name}: routed to {target.name!r}, which is not a bus; "
                      "routed to master")

    def _sends(self, chan: _Chan) -> None:
        sends = chan.el.find("Sends")
        if sends is None:
            return
        if chan.kind == "master":
            self.drop("master: sends have no mixdown form; dropped")
            return
        seen = set()
        for s in sends:
            if s.tag != "Send":
                continue
            target = self.by_id.get(s.get("destination") or "")
            if target is None or target.kind != "bus" or target is chan:
                self.drop(f"{chan.name}: a send to {target.name if target else 'nowhere'!r} "
                          "(not a bus); dropped")
                continue
            enable = s.find("Enable")
            if enable is not None and enable.get("value") == "false":
                self.drop(f"{chan.name}: the disabled send to {target.name!r} dropped")
                continue
            if target.name in seen:
                self.drop(f"{chan.name}: a second send to {target.name!r} dropped")
                continue
            seen.add(target.name)
            vol = s.find("Volume")
            level = self._db(vol) if vol is not None else 0.0
            pan = s.find("Pan")
            if pan is not None and abs(self._pan(pan, finite(pan.get("value")))) > 1e-9:
                self.drop(f"{chan.name}: the pan of the send to {target.name!r} dropped")
            chan.sends.append(Send(to=target.name, level_db=level,
                                   pre_fader=s.get("type") == "pre"))
            if vol is not None and vol.get("id"):
                self.targets[vol.get("id")] = _Target(chan, f"send.{target.name}",
                                                      self._db_point, vol.get("unit", "linear"))

    # -- arrangement ---------------------------------------------------------------------------

    def arrangement(self) -> list[Marker]:
        arr = self.root.find("Arrangement")
        if arr is None:
            return []
        lanes = arr.find("Lanes")
        if lanes is not None:
            self._lanes(lanes, None)
        markers: list[Marker] = []
        mk = arr.find("Markers")
        if mk is not None:
            names: set[str] = set()
            for m in mk:
                if m.tag != "Marker":
                    continue
                t = self._beats(finite(m.get("time"), 0.0) or 0.0, self._time_unit(mk))
                name = (m.get("name") or "").strip() or f"Marker {len(markers) + 1}"
                base, k = name, 2
                while name in names:
                    name = f"{base} {k}"
                    k += 1
                names.add(name)
                markers.append(Marker(name=name, at=_round(max(t, 0.0))))
        if arr.find("Scenes") is not None or (self.root.find("Scenes") is not None and len(
                self.root.find("Scenes"))):
            self.drop("scenes (the clip launcher) have no mixdown form; dropped")
        return markers

    def _lanes(self, el: Any, chan: _Chan | None) -> None:
        track = el.get("track")
        if track:
            chan = self.by_id.get(track)
            if chan is None:
                self.drop(f"lanes for {track!r}, which is no track; skipped")
                return
        for child in el:
            if not isinstance(child.tag, str):
                continue
            if child.tag == "Lanes":
                self._lanes(child, chan)
            elif child.tag == "Clips":
                if child.get("track"):
                    self._lanes_track(child)
                    continue
                if chan is None:
                    self.drop("clips on no track; skipped")
                    continue
                for clip in child:
                    if clip.tag == "Clip":
                        self._clip(clip, chan, 0.0, (0.0, math.inf), self._time_unit(child))
            elif child.tag == "Points":
                self._points(child, chan)
            elif child.tag in ("Notes", "Audio", "Warps", "Video", "ClipSlot", "markers"):
                self.drop(f"a {child.tag} lane outside a clip has no mixdown form; dropped")

    def _lanes_track(self, el: Any) -> None:
        chan = self.by_id.get(el.get("track"))
        if chan is None:
            self.drop(f"clips for {el.get('track')!r}, which is no track; skipped")
            return
        for clip in el:
            if clip.tag == "Clip":
                self._clip(clip, chan, 0.0, (0.0, math.inf), self._time_unit(el))


def _pan_value(v: float, unit: str, lo: float | None, hi: float | None) -> float:
    lo = 0.0 if lo is None else lo
    hi = 1.0 if hi is None else hi
    if unit == "percent" and hi <= 1.0:
        lo, hi = -100.0, 100.0
    p = -1.0 + 2.0 * (v - lo) / (hi - lo) if hi > lo else 0.0
    return _round(min(max(p, PAN_RANGE[0]), PAN_RANGE[1]))


def dawproject_to_project(root: Any, metadata: Any | None, read: Reader, names: set[str], *,
                          where: str, title: str) -> DawprojectImport:
    """Map a parsed, validated project.xml (and metadata.xml) to a project.

    Parameters
    ----------
    root, metadata : lxml elements
        ``project.xml``'s root and ``metadata.xml``'s (or None).
    read : callable
        Reads a zip entry by name (for mixdown's device states).
    names : set of str
        The zip's file entries (file references are checked against them).
    where : str
        How errors name the file.
    title : str
        The song title when metadata.xml has none.

    Raises
    ------
    FormatError
        For a reference to a file not in the zip or outside it, a tempo or signature mixdown
        cannot use, or a project that does not fit mixdown's model.
    """
    r = _Reader(root, read, names, where)
    song, n_tempo, n_sig = r.song(metadata, title)
    r.structure()
    markers = r.arrangement()
    tracks, buses = [], []
    master = Master()
    infos = []
    for c in r.chans:
        if c.kind == "master":
            kwargs: dict[str, Any] = {"volume_db": c.volume_db, "devices": tuple(c.devices),
                                      "automation": tuple(c.lanes)}
            for key in ("target", "target_lufs", "ceiling_dbtp"):
                if key in c.extras:
                    kwargs[key] = c.extras[key]
            master = Master(**kwargs)
            continue
        common: dict[str, Any] = {
            "name": c.name, "volume_db": c.volume_db, "pan": c.pan, "mute": c.mute,
            "solo": c.solo, "devices": tuple(c.devices), "sends": tuple(c.sends),
            "output": c.output, "automation": tuple(c.lanes),
            "phase_invert": bool(c.extras.get("phase_invert", False))}
        if c.kind == "track":
            tracks.append(Track(**common, instrument=c.instrument, clips=tuple(c.clips)))
        else:
            buses.append(Bus(**common))
        infos.append(ImportedChannel(c.name, c.kind, len(c.clips), c.notes,
                                     len(c.devices) + (c.instrument is not None), c.kept))
    app = root.find("Application")
    try:
        project = Project(song=song, tracks=tuple(tracks), buses=tuple(buses),
                          markers=tuple(markers), master=master)
    except ValueError as exc:
        raise FormatError(f"{where}: does not fit a mixdown project ({_first_error(exc)})"
                          ) from None
    return DawprojectImport(
        project=project, members=r.members, texts=r.texts,
        application=f"{app.get('name')} {app.get('version')}" if app is not None else "",
        channels=tuple(infos), clips=r.clips, notes=sum(c.notes for c in r.chans),
        tempo_changes=n_tempo, time_signatures=n_sig, markers=len(markers),
        automation_lanes=r.n_lanes, kept_devices=sum(c.kept for c in r.chans),
        end_beats=r.end, dropped=tuple(r.dropped))


def read_dawproject(archive: Any) -> DawprojectImport:
    """Read and map an open :class:`~mixdown.io.dawproject_archive.DawprojectArchive`."""
    root = archive.project_root()
    metadata = archive.metadata_root()
    return dawproject_to_project(root, metadata, archive.read, set(archive.names()),
                                 where=str(archive.path), title=archive.path.stem)


__all__ = ["DawprojectImport", "ImportedChannel", "dawproject_to_project", "read_dawproject"]
