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

import bisect
import itertools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from lxml import etree

from mixdown.core.errors import FormatError, MixdownError
from mixdown.core.time import MeterMap, song_maps
from mixdown.core.units import gain_to_db
from mixdown.io.audio import FORMATS
from mixdown.io.dawproject_archive import check_relative
from mixdown.io.dawproject_common import (
    BUILTIN_MAPS,
    DEVICE_ID_PREFIX,
    EQ_BANDS,
    HOLD_BEATS,
    SLOPES_DB,
    finite,
    get_extras,
)
from mixdown.io.places import ASSET_KEY
from mixdown.model.project import (
    MASTER,
    PAN_RANGE,
    VOLUME_DB_RANGE,
    AutomationLane,
    AutomationPoint,
    Bus,
    Clip,
    Device,
    Humanize,
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

DEVICE_TAGS = ("Device", "Vst2Plugin", "Vst3Plugin", "ClapPlugin", "AuPlugin", "BuiltinDevice",
               "Equalizer", "Compressor", "NoiseGate", "Limiter")
PLUGIN_FOLDER = "dawproject"
"""Project folder that holds kept devices: ``devices/*.xml`` and ``plugins/*`` (states)."""

STRETCH_TOLERANCE = 1e-3
"""Relative difference between a warped clip's rate and the tempo's that counts as a stretch."""

Reader = Callable[[str], bytes]


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


@dataclass
class _Chan:
    """A channel being built."""

    el: Any
    name: str
    kind: str  # track | bus | master
    track_el: Any | None
    content: str = ""
    output: str = MASTER
    instrument: Device | None = None
    devices: list[Device] = field(default_factory=list)
    clips: list[Clip] = field(default_factory=list)
    lanes: list[AutomationLane] = field(default_factory=list)
    sends: list[Send] = field(default_factory=list)
    volume_db: float = 0.0
    pan: float = 0.0
    mute: bool = False
    solo: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
    notes: int = 0
    kept: int = 0


@dataclass
class _Target:
    """What a parameter id moves: a channel and an automation param, with a converter."""

    chan: _Chan
    param: str
    convert: Callable[[float, str], float]
    unit: str


class _Reader:
    def __init__(self, root: Any, read: Reader, names: set[str], where: str) -> None:
        self.root = root
        self.read = read
        self.names = names
        self.where = where
        self.dropped: list[str] = []
        self.ids: dict[str, Any] = {el.get("id"): el for el in root.iter()
                                    if isinstance(el.tag, str) and el.get("id")}
        self.members: dict[str, str] = {}
        self.texts: dict[str, bytes] = {}
        self.chans: list[_Chan] = []
        self.by_id: dict[str, _Chan] = {}  # channel and track ids
        self.targets: dict[str, _Target] = {}
        self.used: set[str] = set()
        self.master: _Chan | None = None
        self.clips = 0
        self.n_lanes = 0
        self.end = 0.0

    def drop(self, text: str) -> None:
        if text not in self.dropped:
            self.dropped.append(text)

    # -- song ----------------------------------------------------------------------------------

    def song(self, metadata: Any | None, title: str) -> tuple[Song, int, int]:
        transport = self.root.find("Transport")
        bpm, sig = 120.0, (4, 4)
        if transport is not None:
            t = transport.find("Tempo")
            if t is not None:
                v = finite(t.get("value"))
                if v is not None and 0 < v <= 999:
                    bpm = v
                elif v is not None:
                    raise FormatError(f"{self.where}: Transport/Tempo = {v:g} bpm; mixdown "
                                      "takes 0 < bpm <= 999")
            s = transport.find("TimeSignature")
            if s is not None:
                sig = self._signature(s)
        arrangement = self.root.find("Arrangement")
        tempo_points: list[TempoPoint] = []
        sig_changes: list[TimeSignatureChange] = []
        extras: dict[str, Any] = {}
        if arrangement is not None:
            extras = get_extras(arrangement)
            ta = arrangement.find("TempoAutomation")
            if ta is not None:
                bpm, tempo_points = self._tempo_automation(ta, bpm)
            sa = arrangement.find("TimeSignatureAutomation")
            if sa is not None:
                sig, sig_changes = self._signature_automation(sa, sig)
        meta = {}
        if metadata is not None:
            meta = {c.tag: (c.text or "").strip() for c in metadata if isinstance(c.tag, str)}
        kwargs: dict[str, Any] = {
            "title": meta.get("Title") or title, "artist": meta.get("Artist", ""),
            "tempo": bpm, "time_signature": sig, "tempo_map": tuple(tempo_points),
            "time_signatures": tuple(sig_changes)}
        for key in ("sample_rate", "length", "tail_s"):
            if key in extras:
                kwargs[key] = extras[key]
        try:
            song = Song(**kwargs)
        except ValueError as exc:
            raise FormatError(f"{self.where}: the song's settings do not fit a mixdown project "
                              f"({_first_error(exc)})") from None
        self.meter, self.tempo = song_maps(
            song.tempo, song.time_signature, [(p.at, p.bpm, p.ramp) for p in song.tempo_map],
            [(c.bar, *c.signature) for c in song.time_signatures])
        return song, max(0, len(self.tempo.points) - 1), len(sig_changes)

    def _signature(self, el: Any) -> tuple[int, int]:
        num, den = int(el.get("numerator")), int(el.get("denominator"))
        if num < 1 or den not in (1, 2, 4, 8, 16, 32):
            raise FormatError(f"{self.where}: time signature {num}/{den} is not one mixdown "
                              "can use (numerator >= 1, denominator 1..32, a power of 2)")
        return num, den

    def _time_unit(self, el: Any) -> str:
        while el is not None:
            unit = el.get("timeUnit")
            if unit:
                return str(unit)
            el = el.getparent()
        return "beats"

    def _tempo_automation(self, ta: Any, bpm: float) -> tuple[float, list[TempoPoint]]:
        if self._time_unit(ta) != "beats":
            raise FormatError(f"{self.where}: TempoAutomation is timed in seconds; mixdown reads "
                              "tempo changes placed in beats")
        raw = []
        for p in ta:
            if p.tag != "RealPoint":
                continue
            t, v = finite(p.get("time")), finite(p.get("value"))
            if t is None or v is None or t < 0 or not 0 < v <= 999:
                raise FormatError(f"{self.where}: TempoAutomation point at "
                                  f"{p.get('time')} = {p.get('value')} bpm is out of range "
                                  "(0 < bpm <= 999, time >= 0)")
            raw.append((t, v, p.get("interpolation", "hold")))
        raw.sort(key=lambda r: r[0])
        dedup: list[tuple[float, float, str]] = []
        for r in raw:
            if dedup and dedup[-1][0] == r[0]:
                dedup[-1] = r
            else:
                dedup.append(r)
        if not dedup:
            return bpm, []
        if dedup[0][0] > 0:
            dedup.insert(0, (0.0, bpm, "hold"))
        first = dedup[0][1]
        points = [TempoPoint(at=t, bpm=v, ramp=prev[2] == "linear")
                  for prev, (t, v, _) in itertools.pairwise(dedup)]
        return first, points

    def _signature_automation(self, sa: Any, sig: tuple[int, int]
                              ) -> tuple[tuple[int, int], list[TimeSignatureChange]]:
        from mixdown.core.time import TimeSignature

        pts = sorted(((finite(p.get("time"), 0.0) or 0.0, self._signature(p))
                      for p in sa if p.tag == "TimeSignaturePoint"), key=lambda r: r[0])
        changes: list[TimeSignatureChange] = []
        first = sig
        for t, s in pts:
            if t <= 0:
                first = s
                continue
            meter = MeterMap([TimeSignature(1, *first)]
                             + [TimeSignature(c.bar, *c.signature) for c in changes])
            bar, beat = meter.beats_to_bar_beat(t)
            if abs(beat - 1.0) > 1e-6:
                bar += 1
                self.drop(f"time signature {s[0]}/{s[1]} at beat {t:g} is not on a bar line; "
                          f"moved to bar {bar}")
            if changes and changes[-1].bar == bar:
                changes[-1] = TimeSignatureChange(bar=bar, signature=s)
            elif (changes[-1].signature if changes else first) != s:
                changes.append(TimeSignatureChange(bar=bar, signature=s))
        return first, changes

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

    # -- devices -------------------------------------------------------------------------------

    def _devices(self, chan: _Chan) -> None:
        devs = chan.el.find("Devices")
        if devs is None:
            return
        pending: list[tuple[int | None, dict[str, Any]]] = []  # (effect index, parameter ids)
        for el in devs:
            if not isinstance(el.tag, str) or el.tag not in DEVICE_TAGS:
                continue
            role = el.get("deviceRole", "audioFX")
            device, params = self._device(el, chan)
            if role == "instrument":
                if chan.kind != "track":
                    self.drop(f"{chan.name}: instrument {el.get('deviceName')!r} on a "
                              "bus or master; dropped")
                    continue
                if chan.instrument is not None:
                    self.drop(f"{chan.name}: a second instrument {el.get('deviceName')!r} "
                              "dropped")
                    continue
                if device.type == "foreign":
                    device = device.model_copy(update={"type": "foreign_instrument"})
                elif device.type in ("eq", "compressor", "gate", "limiter"):
                    self.drop(f"{chan.name}: {device.type} used as an instrument; dropped")
                    continue
                chan.instrument = device
                pending.append((None, params))
            else:
                if device.type in ("synth", "fm", "drums", "sampler", "foreign_instrument"):
                    self.drop(f"{chan.name}: {el.get('deviceName')!r} is an instrument in an "
                              "effect slot; dropped")
                    continue
                chan.devices.append(device)
                pending.append((len(chan.devices) - 1, params))
        for j, params in pending:
            if j is None:
                ref = "instrument"
            else:
                d = chan.devices[j]
                ref = d.name or (d.type if sum(1 for x in chan.devices if x.type == d.type) == 1
                                 else f"devices[{j}]")
            for pid, (param, conv, unit) in params.items():
                self.targets[pid] = _Target(chan, f"{ref}.{param}", conv, unit)

    def _device(self, el: Any, chan: _Chan
                ) -> tuple[Device, dict[str, tuple[str, Callable[[float, str], float], str]]]:
        """A device and its automatable parameter ids -> (param, converter, unit)."""
        enabled = el.find("Enabled")
        bypass = enabled is not None and enabled.get("value") == "false"
        dev_id = el.get("deviceID") or ""
        mine = self._mixdown_device(el, dev_id, bypass)
        if mine is not None:
            return mine
        mapped = self._builtin(el, bypass)
        if mapped is not None:
            return mapped
        return self._keep(el, chan, bypass), {}

    def _mixdown_device(self, el: Any, dev_id: str, bypass: bool
                        ) -> tuple[Device, dict[str, Any]] | None:
        state = el.find("State")
        if not dev_id.startswith(DEVICE_ID_PREFIX) or state is None:
            return None
        path = state.get("path") or ""
        if state.get("external") == "true" or path not in self.names:
            return None
        try:
            data = json.loads(self.read(path))
            device = Device(type=data["type"], name=data.get("name"),
                            bypass=bool(data.get("bypass", bypass)),
                            params=dict(data.get("params") or {}))
        except (ValueError, KeyError, TypeError):
            self.drop(f"device {el.get('deviceName')!r}: its mixdown state {path} is "
                      "unreadable; kept as a foreign device")
            return None
        from mixdown.dsp.base import DEVICES, load_builtin_devices

        load_builtin_devices()
        if device.type not in DEVICES:
            return None
        device = device.model_copy(update={"bypass": bypass})
        self._param_files(device.params, f"device {el.get('deviceName')!r}")
        params: dict[str, Any] = {}
        plist = el.find("Parameters")
        for p in (plist if plist is not None else ()):
            if p.tag == "RealParameter" and p.get("id") and p.get("name"):
                params[p.get("id")] = (p.get("name"), _as_is, p.get("unit", "linear"))
        return device, params

    def _param_files(self, value: Any, what: str) -> None:
        """Files a mixdown device names (``file``, ``*_file``: sampler zones...) come out of
        the zip to the same project path they were exported from."""
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(k, str) and ASSET_KEY.match(k) and isinstance(v, str) and v:
                    path = check_relative(v, f"{self.where}: {what}")
                    if path not in self.names:
                        raise FormatError(f"{self.where}: {what} refers to {path!r}, which is "
                                          "not in the zip")
                    if self.members.get(path, path) != path:
                        raise FormatError(f"{self.where}: {what}: {path!r} clashes with "
                                          "another file of the project")
                    self.members[path] = path
                else:
                    self._param_files(v, what)
        elif isinstance(value, list | tuple):
            for v in value:
                self._param_files(v, what)

    def _builtin(self, el: Any, bypass: bool) -> tuple[Device, dict[str, Any]] | None:
        if el.tag == "Equalizer":
            return self._equalizer(el, bypass)
        if el.tag not in BUILTIN_MAPS:
            return None
        kind, maps = BUILTIN_MAPS[el.tag]
        extra = [c.tag for c in el if isinstance(c.tag, str)
                 and c.tag not in ("Parameters", "Enabled", "State")
                 and c.tag not in {m.element for m in maps}]
        for tag in extra:
            c = el.find(tag)
            v = finite(c.get("value"), 0.0) if c is not None else 0.0
            if tag in ("InputGain", "OutputGain") and v == 0:
                continue
            if tag in ("AutoMakeup",) and c is not None and c.get("value") != "true":
                continue
            if tag == "Ratio" and kind == "gate":
                continue
            return None  # a setting mixdown's device has not: keep it whole
        from mixdown.dsp.base import device_info

        info = device_info(kind)
        params: dict[str, Any] = {}
        ids: dict[str, Any] = {}
        for m in maps:
            c = el.find(m.element)
            if c is None:
                continue
            v = finite(c.get("value"))
            if v is None:
                continue
            val = m.read(v, c.get("unit", m.unit))
            try:
                params[m.param] = info.param(m.param).check(val, "")
            except MixdownError:
                return None
            if c.get("id"):
                ids[c.get("id")] = (m.param, m.read, c.get("unit", m.unit))
        name = el.get("name") if el.get("name") not in (None, el.tag, kind) else None
        return Device(type=kind, name=name, bypass=bypass, params=params), ids

    def _equalizer(self, el: Any, bypass: bool) -> tuple[Device, dict[str, Any]] | None:
        from mixdown.dsp.base import device_info

        info = device_info("eq")
        params: dict[str, Any] = {}
        ids: dict[str, Any] = {}
        free = {kind: [b for b in EQ_BANDS if b[0] == kind] for kind, *_ in EQ_BANDS}
        gain_db = 0.0
        for tag in ("InputGain", "OutputGain"):
            c = el.find(tag)
            if c is not None:
                gain_db += finite(c.get("value"), 0.0) or 0.0
        for band in el.findall("Band"):
            kind = band.get("type")
            if not free.get(kind):
                return None
            _, hz, gain, q, slope = free[kind].pop(0)
            on = band.find("Enabled")
            enabled = on is None or on.get("value") != "false"
            f = band.find("Freq")
            freq = finite(f.get("value")) if f is not None else None
            if freq is None:
                return None
            if slope is not None:
                order = int(band.get("order") or 2)
                if order * 6 not in SLOPES_DB:
                    return None
                params[slope] = order * 6
                params[hz] = freq if enabled else 0.0
            else:
                params[hz] = freq
            if f is not None and f.get("id"):
                ids[f.get("id")] = (hz, _as_is, "hertz")
            for key, tag in ((gain, "Gain"), (q, "Q")):
                c = band.find(tag)
                if key is None or c is None:
                    continue
                v = finite(c.get("value"))
                if v is not None:
                    params[key] = v if (enabled or tag == "Q") else 0.0
                if c.get("id"):
                    ids[c.get("id")] = (key, _as_is, c.get("unit", "linear"))
        if gain_db:
            params["output_gain_db"] = gain_db
        try:
            for k, v in params.items():
                params[k] = info.param(k).check(v, "")
        except MixdownError:
            return None
        name = el.get("name") if el.get("name") not in (None, "Equalizer", "eq") else None
        return Device(type="eq", name=name, bypass=bypass, params=params), ids

    def _keep(self, el: Any, chan: _Chan, bypass: bool) -> Device:
        """A device mixdown cannot run, kept as XML (and its state file)."""
        n = sum(1 for p in self.texts if p.startswith(f"{PLUGIN_FOLDER}/devices/")) + 1
        label = el.get("deviceName") or el.get("name") or el.tag
        slug = re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-").lower() or "device"
        xml_path = f"{PLUGIN_FOLDER}/devices/{n:03d}-{slug}.xml"
        copy = etree.fromstring(etree.tostring(el))
        self.texts[xml_path] = etree.tostring(copy, xml_declaration=True, encoding="UTF-8")
        params: dict[str, Any] = {"format": el.tag, "device_name": label,
                                  "device_id": el.get("deviceID") or "", "xml_file": xml_path}
        state = el.find("State")
        if state is not None:
            params["state_file"] = self._member(state, f"{chan.name}: device {label!r} state",
                                                f"{PLUGIN_FOLDER}/plugins", audio=False)
        if el.find("Parameters") is not None and len(el.find("Parameters")):
            for p in el.find("Parameters"):
                if p.get("id"):
                    self.targets[p.get("id")] = _Target(chan, "", _as_is, "")
        chan.kept += 1
        return Device(type="foreign", name=None, bypass=bypass, params=params)

    def _member(self, file_ref: Any, what: str, folder: str, *, audio: bool) -> str:
        """Check a File/State reference; return the project path the entry is copied to."""
        path = file_ref.get("path") or ""
        if file_ref.get("external") == "true":
            raise FormatError(f"{self.where}: {what} refers to the external file {path!r}; "
                              "mixdown imports only files inside the DAWproject zip")
        path = check_relative(path, f"{self.where}: {what}")
        if path not in self.names:
            raise FormatError(f"{self.where}: {what} refers to {path!r}, which is not in "
                              "the zip")
        if audio and PurePosixPath(path).suffix.lower() not in FORMATS:
            raise FormatError(f"{self.where}: {what}: {path!r} is not an audio format mixdown "
                              f"reads ({', '.join(sorted(FORMATS))})")
        for dest, member in self.members.items():
            if member == path:
                return dest
        base = PurePosixPath(path).name
        dest, k = f"{folder}/{base}", 2
        while dest in self.members or dest in self.texts:
            stem, suffix = PurePosixPath(base).stem, PurePosixPath(base).suffix
            dest = f"{folder}/{stem}-{k}{suffix}"
            k += 1
        self.members[dest] = path
        return dest

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

    def _beats(self, t: float, unit: str) -> float:
        return self.tempo.seconds_to_beats(t) if unit == "seconds" else t

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

    def _clip(self, el: Any, chan: _Chan, base: float, window: tuple[float, float],
              unit: str, outer_name: str | None = None) -> None:
        """Place one Clip whose ``time`` is counted from ``base`` song beats (``unit`` says
        whether it is in beats or seconds), kept inside ``window`` (song beats)."""
        name = el.get("name") or outer_name
        label = name or "clip"
        if el.get("enable") == "false":
            self.drop(f"{chan.name}: the disabled clip {label!r} dropped")
            return
        t = finite(el.get("time"), 0.0) or 0.0
        start = base + t if unit == "beats" else self.tempo.seconds_to_beats(
            self.tempo.beats_to_seconds(base) + t)
        dur = finite(el.get("duration"))
        if dur is None:
            self.drop(f"{chan.name}: clip {label!r} has no duration; dropped")
            return
        end = start + dur if unit == "beats" else self.tempo.seconds_to_beats(
            self.tempo.beats_to_seconds(start) + dur)
        lo, hi = max(start, window[0]), min(end, window[1])
        if hi <= lo + 1e-12:
            return
        content = self._content(el)
        if content is None:
            self.drop(f"{chan.name}: clip {label!r} is empty; dropped")
            return
        cunit = el.get("contentTimeUnit") or ("seconds" if content.tag == "Audio" else "beats")
        play = finite(el.get("playStart"), 0.0) or 0.0
        cut = lo - start  # beats lost at the front to the window
        if content.tag == "Notes":
            if cunit != "beats":
                self.drop(f"{chan.name}: clip {label!r} has notes timed in seconds; dropped")
                return
            self._note_clip(el, content, chan, lo, hi, play + cut, name)
        elif content.tag in ("Audio", "Warps"):
            self._audio_clip(el, content, chan, lo, hi, start, play, cunit, name)
        elif content.tag == "Clips":
            inner_base = start - play if cunit == "beats" else start
            if cunit != "beats":
                self.drop(f"{chan.name}: clip {label!r} nests clips timed in seconds; "
                          "placed from the clip start")
            for inner in content:
                if inner.tag == "Clip":
                    self._clip(inner, chan, inner_base, (lo, hi), "beats", name)
        else:
            self.drop(f"{chan.name}: clip {label!r} holds {content.tag}; dropped")

    def _content(self, el: Any) -> Any | None:
        ref = el.get("reference")
        if ref:
            return self.ids.get(ref)
        for c in el:
            if isinstance(c.tag, str):
                return c
        return None

    def _note_clip(self, el: Any, notes_el: Any, chan: _Chan, lo: float, hi: float,
                   play: float, name: str | None) -> None:
        if chan.kind != "track":
            self.drop(f"{chan.name}: note clips on a bus or the master; dropped")
            return
        length = hi - lo
        loop_s, loop_e = finite(el.get("loopStart")), finite(el.get("loopEnd"))
        src: list[tuple[float, float, int, int]] = []
        for n in notes_el:
            if n.tag != "Note":
                continue
            t, d = finite(n.get("time")), finite(n.get("duration"))
            key = int(n.get("key"))
            if t is None or d is None or d <= 0 or not 0 <= key <= 127:
                self.drop(f"{chan.name}: a note with key {key} at {n.get('time')} dropped")
                continue
            vel = finite(n.get("vel"))
            v = 100 if vel is None else min(127, max(1, round(vel * 127)))
            src.append((t, d, key, v))
        out: list[Note] = []
        if loop_s is not None and loop_e is not None and loop_e > loop_s and (
                play + length > loop_e + 1e-9):
            period = loop_e - loop_s
            pos, content_pos = 0.0, play  # clip beats, content beats
            while pos < length - 1e-9:
                seg_end = loop_e if content_pos < loop_e else content_pos + period
                span = min(seg_end - content_pos, length - pos)
                for t, d, k, v in src:
                    if content_pos - 1e-9 <= t < content_pos + span - 1e-9:
                        out.append(Note(pitch=k, start=_round(pos + t - content_pos),
                                        length=d, velocity=v))
                pos += span
                content_pos = loop_s if content_pos + span >= loop_e - 1e-9 else \
                    content_pos + span
        else:
            skipped = 0
            for t, d, k, v in src:
                if t < play - 1e-9:
                    skipped += 1
                    continue
                if t - play < length - 1e-9:
                    out.append(Note(pitch=k, start=_round(t - play), length=d, velocity=v))
            if skipped:
                self.drop(f"{chan.name}: {skipped} notes before the clip's play start dropped")
        extras = get_extras(el)
        humanize = None
        if isinstance(extras.get("humanize"), dict):
            try:
                humanize = Humanize(**extras["humanize"])
            except ValueError:
                humanize = None
        if chan.instrument is None:
            chan.instrument = Device(type="synth")
            self.drop(f"{chan.name}: has notes but no instrument; plays the built-in synth")
        chan.clips.append(Clip(name=name, start=_round(lo), length=_round(length),
                               notes=tuple(out), humanize=humanize))
        chan.notes += len(out)
        self.clips += 1
        self.end = max(self.end, hi)

    def _audio_clip(self, el: Any, content: Any, chan: _Chan, lo: float, hi: float,
                    start: float, play: float, cunit: str, name: str | None) -> None:
        label = name or "clip"
        if content.tag == "Warps":
            audio = next((c for c in content if c.tag == "Audio"), None)
            warps = sorted((finite(w.get("time"), 0.0) or 0.0,
                             finite(w.get("contentTime"), 0.0) or 0.0)
                            for w in content if w.tag == "Warp")
            if audio is None or len(warps) < 2 or content.get("contentTimeUnit") != "seconds":
                self.drop(f"{chan.name}: clip {label!r}: warped content mixdown cannot read; "
                          "dropped")
                return
            # the content time (s) where the clip starts playing, from its beats
            wt = [w[0] for w in warps]
            wc = [w[1] for w in warps]
            play_b = play + (lo - start)
            offset = _interp(play_b, wt, wc)
            # rate of the warp against the song tempo at the clip's start
            beats_span = (warps[-1][0] - warps[0][0])
            secs_song = (self.tempo.beats_to_seconds(lo + beats_span)
                         - self.tempo.beats_to_seconds(lo))
            secs_file = warps[-1][1] - warps[0][1]
            if secs_song > 0 and abs(secs_file / secs_song - 1.0) > STRETCH_TOLERANCE:
                self.drop(f"{chan.name}: clip {label!r} is time-stretched "
                          f"({secs_file / secs_song:.3f}x); mixdown plays it at its own speed")
        else:
            audio = content
            if cunit == "beats":
                offset = self.tempo.beats_to_seconds(start + play) - self.tempo.beats_to_seconds(
                    start)
            else:
                offset = play
            offset += self.tempo.beats_to_seconds(lo) - self.tempo.beats_to_seconds(start)
        if chan.kind != "track":
            self.drop(f"{chan.name}: audio clips on a bus or the master; dropped")
            return
        file_ref = audio.find("File")
        path = self._member(file_ref, f"{chan.name}: clip {label!r}", "audio", audio=True)
        extras = get_extras(el)
        fade_unit = el.get("fadeTimeUnit") or "beats"
        fin = finite(el.get("fadeInTime"), 0.0) or 0.0
        fout = finite(el.get("fadeOutTime"), 0.0) or 0.0
        if fade_unit == "beats":
            fin = self.tempo.beats_to_seconds(lo + fin) - self.tempo.beats_to_seconds(lo)
            fout = self.tempo.beats_to_seconds(hi) - self.tempo.beats_to_seconds(hi - fout)
        loop = False
        ls, le = finite(el.get("loopStart")), finite(el.get("loopEnd"))
        file_s = finite(audio.get("duration"), 0.0) or 0.0
        clip_s = self.tempo.beats_to_seconds(hi) - self.tempo.beats_to_seconds(lo)
        if ls is not None and le is not None and le > ls and content.tag == "Audio" and (
                cunit == "seconds") and offset + clip_s > le + 1e-6:
            loop = True
            if abs(ls - offset) > 1e-6 or abs(le - file_s) > 1e-6:
                self.drop(f"{chan.name}: clip {label!r} loops {ls:g}..{le:g} s; mixdown loops "
                          "from the clip's offset to the end of the file")
        gain = extras.get("gain_db", 0.0)
        kwargs: dict[str, Any] = {
            "name": name, "start": _round(lo), "file": path,
            "offset_s": _round(max(offset, 0.0)), "fade_in_s": _round(max(fin, 0.0)),
            "fade_out_s": _round(max(fout, 0.0)), "loop": loop}
        if not extras.get("to_end"):
            kwargs["length"] = _round(hi - lo)
        if isinstance(gain, int | float) and gain != 0:
            kwargs["gain_db"] = float(gain)
        chan.clips.append(Clip(**kwargs))
        self.clips += 1
        self.end = max(self.end, hi)

    def _points(self, el: Any, chan: _Chan | None) -> None:
        target_el = el.find("Target")
        pid = target_el.get("parameter") if target_el is not None else None
        if pid is None:
            what = target_el.get("expression") if target_el is not None else None
            self.drop(f"{chan.name if chan else 'song'}: automation of "
                      f"{what or 'a MIDI expression'} has no mixdown form; dropped")
            return
        target = self.targets.get(pid)
        if target is None or not target.param:
            el2 = self.ids.get(pid)
            what = el2.get("name") if el2 is not None else pid
            self.drop(f"automation of {what!r} has no mixdown parameter; dropped")
            return
        unit_default = target.unit
        unit = el.get("unit") or unit_default
        tu = self._time_unit(el)
        raw = []
        for p in el:
            if p.tag not in ("RealPoint", "BoolPoint", "IntegerPoint", "EnumPoint"):
                continue
            t = finite(p.get("time"))
            if t is None:
                continue
            v = p.get("value")
            value = (1.0 if v == "true" else 0.0) if p.tag == "BoolPoint" else finite(v)
            if value is None:
                continue
            raw.append((self._beats(t, tu), target.convert(value, unit),
                        "hold" if p.tag != "RealPoint" else p.get("interpolation", "linear")))
        if not raw:
            return
        raw.sort(key=lambda r: r[0])
        curves = get_extras(el).get("curves")
        points: list[AutomationPoint] = []
        for i, (t, v, interp) in enumerate(raw):
            if points and float(points[-1].at) >= t - 1e-12:
                points[-1] = AutomationPoint(at=points[-1].at, value=v)
                continue
            c = 0.0
            if isinstance(curves, list) and len(curves) == len(raw):
                c = float(curves[i]) if isinstance(curves[i], int | float) else 0.0
            points.append(AutomationPoint(at=_round(max(t, 0.0)), value=_clamp(target.param, v),
                                          curve=min(max(c, -1.0), 1.0)))
            if interp == "hold" and i + 1 < len(raw) and raw[i + 1][1] != v:
                nxt = raw[i + 1][0]
                if nxt - HOLD_BEATS > t + 1e-12:
                    points.append(AutomationPoint(at=_round(nxt - HOLD_BEATS),
                                                  value=_clamp(target.param, v)))
        target.chan.lanes.append(AutomationLane(param=target.param, points=tuple(points)))
        self.n_lanes += 1


def _as_is(v: float, unit: str) -> float:
    return v


def _pan_value(v: float, unit: str, lo: float | None, hi: float | None) -> float:
    lo = 0.0 if lo is None else lo
    hi = 1.0 if hi is None else hi
    if unit == "percent" and hi <= 1.0:
        lo, hi = -100.0, 100.0
    p = -1.0 + 2.0 * (v - lo) / (hi - lo) if hi > lo else 0.0
    return _round(min(max(p, PAN_RANGE[0]), PAN_RANGE[1]))


def _clamp(param: str, v: float) -> float:
    if param == "volume_db" or param.startswith("send."):
        return min(max(v, VOLUME_DB_RANGE[0]), VOLUME_DB_RANGE[1])
    if param == "pan":
        return min(max(v, PAN_RANGE[0]), PAN_RANGE[1])
    return v


def _interp(x: float, xs: list[float], ys: list[float]) -> float:
    i = min(max(bisect.bisect_right(xs, x) - 1, 0), len(xs) - 2)
    x0, x1, y0, y1 = xs[i], xs[i + 1], ys[i], ys[i + 1]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def _round(v: float) -> float:
    """Round away float noise from unit conversions (15 significant digits)."""
    if v == 0 or not math.isfinite(v):
        return float(v)
    return float(f"{v:.15g}")


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        e = errors()[0]
        return f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
    return str(exc)


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
