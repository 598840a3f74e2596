"""A project as a DAWproject file: ``project.xml``, ``metadata.xml`` and the files.

:func:`project_to_dawproject` builds the documents in memory and lists the project files
that go into the zip; it writes nothing (``services.dawproject.export_dawproject`` writes
the zip atomically). What maps to what (docs/interchange.md):

- tracks -> ``Track`` + ``Channel`` (role ``regular``), buses -> ``Track`` + ``Channel``
  (role ``effect``, or ``submix`` when something routes its output there), the master ->
  the ``master`` channel; fader (linear gain), pan (normalized 0..1), mute, solo, sends
  (pre/post, level) and output routing (``destination``);
- note clips -> ``Clip`` + ``Notes``: every note the render plays (patterns expanded,
  swing and transposition applied, notes cut at the clip end: :mod:`mixdown.model.notes`);
  audio clips -> ``Clip`` + ``Audio`` in seconds (offset, fades, loop);
- tempo and tempo map -> ``Transport/Tempo`` and ``TempoAutomation`` (ramps become linear
  segments), time signatures -> ``TimeSignatureAutomation``, markers -> ``Markers``;
- automation of volume, pan, send levels and device parameters -> ``Points`` lanes aimed
  at the parameter they move; curve shapes ride along in the lane's comment;
- devices: ``eq``, ``compressor``, ``gate``, ``limiter`` as DAWproject's Equalizer,
  Compressor, NoiseGate, Limiter, the others as ``BuiltinDevice`` ``mixdown.<type>``; each
  with its exact parameters in a JSON state file; devices kept from an imported DAWproject
  file (``foreign``) are written back as they came, with their state file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

from mixdown.core.time import MeterMap, TempoMap, parse_position, song_maps
from mixdown.core.units import db_to_gain
from mixdown.io.dawproject_archive import parse_xml
from mixdown.io.dawproject_common import (
    DEVICE_ID_PREFIX,
    EQ_BANDS,
    MIXDOWN_TO_BUILTIN,
    fmt,
    set_extras,
    unit_for,
)
from mixdown.io.places import ASSET_KEY
from mixdown.model.clips import loop_period_beats, placed_clip
from mixdown.model.keys import parse_key
from mixdown.model.notes import EPS, clip_length_beats, raw_notes
from mixdown.model.project import (
    MASTER,
    AutomationLane,
    Channel,
    Clip,
    Device,
    Master,
    Project,
    Track,
)

APPLICATION = "mixdown"
FORMAT_VERSION = "1.0"


@dataclass(frozen=True, slots=True)
class DawprojectExport:
    """The documents of a DAWproject file and the files that go with them.

    ``files`` maps zip entry names to project files to copy; ``texts`` maps entry names
    to bytes made here (device states).
    """

    project_xml: bytes
    metadata_xml: bytes
    files: dict[str, Path]
    texts: dict[str, bytes]
    tracks: int
    buses: int
    clips: int
    notes: int
    automation_lanes: int
    tempo_changes: int
    time_signatures: int
    markers: int
    skipped: tuple[str, ...]


@dataclass
class _Ids:
    n: int = 0

    def __call__(self) -> str:
        self.n += 1
        return f"id{self.n}"


@dataclass
class _Ctx:
    project: Project
    root: Path
    meter: MeterMap
    tempo: TempoMap
    ids: _Ids = field(default_factory=_Ids)
    files: dict[str, Path] = field(default_factory=dict)
    texts: dict[str, bytes] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    clips: int = 0
    notes: int = 0
    lanes: int = 0

    def beats(self, position: Any) -> float:
        return parse_position(position, self.meter, self.tempo)

    def add_file(self, relative: str, where: str) -> str:
        """Put the project file ``relative`` into the zip under the same path."""
        from mixdown.io.assets import resolve_asset

        path = resolve_asset(self.root, relative, where)
        name = str(PurePosixPath(relative.replace("\\", "/")))
        self.files[name] = path
        return name


def _sub(parent: Any, tag: str, **attrs: Any) -> Any:
    el = etree.SubElement(parent, tag)
    for k, v in attrs.items():
        if v is not None:
            el.set(k, v if isinstance(v, str) else fmt(v) if isinstance(v, float) else str(v))
    return el


def _bool(v: bool) -> str:
    return "true" if v else "false"


def project_to_dawproject(project: Project, root: str | Path) -> DawprojectExport:
    """Map ``project`` (whose files live in the folder ``root``) to a DAWproject file.

    Raises
    ------
    FormatError
        When a file the project uses cannot be read.
    ModelError
        When a file path escapes the project folder.
    """
    s = project.song
    meter, tempo = song_maps(s.tempo, s.time_signature,
                             [(p.at, p.bpm, p.ramp) for p in s.tempo_map],
                             [(c.bar, *c.signature) for c in s.time_signatures])
    ctx = _Ctx(project, Path(root), meter, tempo)
    doc = etree.Element("Project", version=FORMAT_VERSION)
    from mixdown import __version__

    _sub(doc, "Application", name=APPLICATION, version=__version__)
    transport = _sub(doc, "Transport")
    tempo_id, sig_id = ctx.ids(), ctx.ids()
    _sub(transport, "Tempo", unit="bpm", value=float(tempo.points[0].bpm), min=1.0, max=999.0,
         id=tempo_id, name="Tempo")
    first = meter.signatures[0]
    _sub(transport, "TimeSignature", numerator=first.numerator,
         denominator=first.denominator, id=sig_id)
    structure = _sub(doc, "Structure")

    master_track_id, master_chan_id = ctx.ids(), ctx.ids()
    chan_ids: dict[str, str] = {MASTER: master_chan_id}
    track_ids: dict[str, str] = {}
    for c in (*project.tracks, *project.buses):
        track_ids[c.name], chan_ids[c.name] = ctx.ids(), ctx.ids()
    fed = {c.output for c in (*project.tracks, *project.buses)}

    params: dict[str, dict[str, str]] = {}  # channel name -> automation param -> id
    for c in (*project.tracks, *project.buses):
        is_track = isinstance(c, Track)
        content = ("notes" if c.instrument is not None else "audio") if isinstance(
            c, Track) else "audio tracks"
        tr = _sub(structure, "Track", contentType=content, loaded="true",
                  id=track_ids[c.name], name=c.name)
        role = "regular" if is_track else ("submix" if c.name in fed else "effect")
        params[c.name] = _channel(ctx, tr, c, role, chan_ids)
    mt = _sub(structure, "Track", contentType="audio notes", loaded="true",
              id=master_track_id, name="Master")
    params[MASTER] = _channel(ctx, mt, project.master, "master", chan_ids)

    arrangement = _sub(doc, "Arrangement", id=ctx.ids())
    set_extras(arrangement, _song_extras(project))
    lanes = _sub(arrangement, "Lanes", timeUnit="beats", id=ctx.ids())
    for c in (*project.tracks, *project.buses):
        tl = _sub(lanes, "Lanes", track=track_ids[c.name], id=ctx.ids())
        if isinstance(c, Track) and c.clips:
            clips = _sub(tl, "Clips", id=ctx.ids())
            for i, clip in enumerate(c.clips):
                _clip(ctx, clips, c, i, clip)
        _automation(ctx, tl, c.name, c.automation, params[c.name])
    ml = _sub(lanes, "Lanes", track=master_track_id, id=ctx.ids())
    _automation(ctx, ml, MASTER, project.master.automation, params[MASTER])
    n_markers = _markers(ctx, arrangement)
    n_tempo = _tempo_automation(ctx, arrangement, tempo_id)
    n_sigs = _signature_automation(ctx, arrangement, sig_id)

    meta = etree.Element("MetaData")
    if s.title:
        etree.SubElement(meta, "Title").text = s.title
    if s.artist:
        etree.SubElement(meta, "Artist").text = s.artist
    return DawprojectExport(
        project_xml=etree.tostring(doc, xml_declaration=True, encoding="UTF-8",
                                   standalone=True, pretty_print=True),
        metadata_xml=etree.tostring(meta, xml_declaration=True, encoding="UTF-8",
                                    standalone=True, pretty_print=True),
        files=ctx.files, texts=ctx.texts, tracks=len(project.tracks),
        buses=len(project.buses), clips=ctx.clips, notes=ctx.notes,
        automation_lanes=ctx.lanes, tempo_changes=n_tempo, time_signatures=n_sigs,
        markers=n_markers, skipped=tuple(ctx.skipped))


def _song_extras(project: Project) -> dict[str, Any]:
    s = project.song
    out: dict[str, Any] = {}
    if s.sample_rate != 48_000:
        out["sample_rate"] = s.sample_rate
    if s.length is not None:
        out["length"] = s.length
    if s.tail_s != 2.0:
        out["tail_s"] = s.tail_s
    return out


# -- structure ---------------------------------------------------------------------------------

def _channel(ctx: _Ctx, track_el: Any, c: Channel | Master, role: str,
             chan_ids: dict[str, str]) -> dict[str, str]:
    """Write the Channel of ``c``; return its automatable parameters' ids."""
    is_master = isinstance(c, Master)
    name = MASTER if is_master else c.name  # type: ignore[union-attr]
    attrs: dict[str, Any] = {"audioChannels": 2, "role": role}
    if not is_master:
        assert isinstance(c, Channel)
        attrs["destination"] = chan_ids[c.output]
        attrs["solo"] = _bool(c.solo)
    ch = _sub(track_el, "Channel", **attrs, id=chan_ids[name])
    extras: dict[str, Any] = {}
    if isinstance(c, Master):
        for key in ("target", "target_lufs", "ceiling_dbtp"):
            if getattr(c, key) is not None:
                extras[key] = getattr(c, key)
    elif c.phase_invert:
        extras["phase_invert"] = True
    set_extras(ch, extras)
    ids: dict[str, str] = {}
    devices = _sub(ch, "Devices")
    if isinstance(c, Track) and c.instrument is not None:
        ids.update(_device(ctx, devices, c.instrument, "instrument", f"{name}: instrument",
                           "instrument"))
    for j, d in enumerate(c.devices):
        ref = _device_ref(c.devices, j)
        ids.update(_device(ctx, devices, d, "audioFX", f"{name}: devices[{j}]", ref))
    if len(devices) == 0:
        ch.remove(devices)
    if not is_master:
        assert isinstance(c, Channel)
        _sub(ch, "Mute", value=_bool(c.mute), id=ctx.ids(), name="Mute")
        ids["pan"] = ctx.ids()
        _sub(ch, "Pan", unit="normalized", min=0.0, max=1.0, value=(c.pan + 1.0) / 2.0,
             id=ids["pan"], name="Pan")
        if c.sends:
            sends = _sub(ch, "Sends")
            for snd in c.sends:
                send = _sub(sends, "Send", destination=chan_ids[snd.to],
                            type="pre" if snd.pre_fader else "post", id=ctx.ids(),
                            name=snd.to)
                ids[f"send.{snd.to}"] = ctx.ids()
                _sub(send, "Volume", unit="linear", min=0.0, max=db_to_gain(24.0),
                     value=db_to_gain(snd.level_db), id=ids[f"send.{snd.to}"], name="Volume")
    ids["volume_db"] = ctx.ids()
    _sub(ch, "Volume", unit="linear", min=0.0, max=db_to_gain(24.0),
         value=db_to_gain(c.volume_db), id=ids["volume_db"], name="Volume")
    return ids


def _device_ref(devices: tuple[Device, ...], j: int) -> str:
    """How automation names device ``j``: its name, its type if unique, else devices[j]."""
    d = devices[j]
    if d.name:
        return d.name
    if sum(1 for x in devices if x.type == d.type) == 1:
        return d.type
    return f"devices[{j}]"


def _device(ctx: _Ctx, parent: Any, d: Device, role: str, where: str,
            ref: str) -> dict[str, str]:
    """Write one device; return {"<ref>.<param>": parameter id}."""
    if d.type in ("foreign", "foreign_instrument"):
        _foreign(ctx, parent, d, where)
        return {}
    tag = MIXDOWN_TO_BUILTIN.get(d.type, "BuiltinDevice")
    el = _sub(parent, tag, deviceID=DEVICE_ID_PREFIX + d.type, deviceName=d.name or d.type,
              deviceRole=role, deviceVendor="mixdown", loaded="true", id=ctx.ids(),
              name=d.name or d.type)
    from mixdown.dsp.base import device_info

    info = device_info(d.type)
    values = {p.name: d.params.get(p.name, p.default) for p in info.params}
    ids: dict[str, str] = {}
    plist = _sub(el, "Parameters")
    for p in info.params:
        v = values[p.name]
        if p.kind not in ("float", "int") or not p.automatable or isinstance(v, bool) or not (
                v is None or isinstance(v, int | float)):
            continue
        pid = ctx.ids()
        ids[f"{ref}.{p.name}"] = pid
        attrs: dict[str, Any] = {"unit": unit_for(p.name)}
        if v is not None:  # None: the instrument's preset decides
            attrs["value"] = float(v)
        if p.min is not None:
            attrs["min"] = float(p.min if v is None else min(p.min, v))
        if p.max is not None:
            attrs["max"] = float(p.max if v is None else max(p.max, v))
        _sub(plist, "RealParameter", **attrs, id=pid, name=p.name)
    if len(plist) == 0:
        el.remove(plist)
    _sub(el, "Enabled", value=_bool(not d.bypass), id=ctx.ids(), name="On/Off")
    state = {"type": d.type, "name": d.name, "bypass": d.bypass, "params": d.params}
    path = f"devices/{len(ctx.texts) + 1:03d}-{d.type}.json"
    ctx.texts[path] = json.dumps(state, indent=1, sort_keys=True).encode()
    _sub(el, "State", path=path)
    _files_in_params(ctx, d.params, where)
    if tag == "Equalizer":
        _eq_bands(ctx, el, values)
    elif tag != "BuiltinDevice":
        from mixdown.io.dawproject_common import BUILTIN_MAPS

        for m in BUILTIN_MAPS[tag][1]:
            _sub(el, m.element, unit=m.unit, value=float(m.write(float(values[m.param]))),
                 id=ctx.ids(), name=m.element)
    return ids


def _eq_bands(ctx: _Ctx, el: Any, values: dict[str, Any]) -> None:
    for kind, hz, gain, q, slope in EQ_BANDS:
        on = (values[hz] > 0) if gain is None else (values[gain] != 0)
        attrs = {"type": kind}
        if slope is not None:
            attrs["order"] = str(int(values[slope]) // 6)
        band = _sub(el, "Band", **attrs)
        _sub(band, "Freq", unit="hertz", value=float(values[hz]) if values[hz] > 0 else 20.0,
             id=ctx.ids())
        if gain is not None:
            _sub(band, "Gain", unit="decibel", value=float(values[gain]), id=ctx.ids())
        if q is not None:
            _sub(band, "Q", unit="linear", value=float(values[q]), id=ctx.ids())
        _sub(band, "Enabled", value=_bool(on), id=ctx.ids())
    _sub(el, "OutputGain", unit="decibel", value=float(values["output_gain_db"]), id=ctx.ids())


def _files_in_params(ctx: _Ctx, value: Any, where: str) -> None:
    """Every ``file`` / ``*_file`` string in device parameters goes into the zip."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and ASSET_KEY.match(k) and isinstance(v, str) and v:
                ctx.add_file(v, f"{where}.{k}")
            else:
                _files_in_params(ctx, v, where)
    elif isinstance(value, list | tuple):
        for v in value:
            _files_in_params(ctx, v, where)


def _foreign(ctx: _Ctx, parent: Any, d: Device, where: str) -> None:
    """Write a kept device back: its XML element, new ids, its state file."""
    from mixdown.io.assets import resolve_asset

    xml_rel = d.params.get("xml_file", "")
    path = resolve_asset(ctx.root, xml_rel, f"{where}.xml_file")
    el = parse_xml(path.read_bytes(), str(path))
    for sub in el.iter():
        if sub.get("id") is not None:
            sub.set("id", ctx.ids())
    state = d.params.get("state_file", "")
    st = el.find("State")
    if state:
        name = ctx.add_file(state, f"{where}.state_file")
        if st is None:
            st = _sub(el, "State", path=name)
        st.set("path", name)
        st.attrib.pop("external", None)
    elif st is not None:
        el.remove(st)
    parent.append(el)


# -- clips -------------------------------------------------------------------------------------

def _clip(ctx: _Ctx, parent: Any, track: Track, i: int, clip: Clip) -> None:
    start = ctx.beats(clip.start)
    where = f"track {track.name!r} clips[{i}]"
    if clip.kind == "notes":
        _note_clip(ctx, parent, track, clip, start, where)  # a placement: what it plays
    elif clip.kind == "audio":
        _audio_clip(ctx, parent, clip, start, where)
    else:
        ctx.skipped.append(f"{where}: plays nothing; not written")


def _clip_notes(ctx: _Ctx, clip: Clip, placement: Clip, start: float, length: float | None
                ) -> list[tuple[float, float, int, int]]:
    """The notes ``clip`` (``placement`` with its definition filled in) plays, in beats from
    its start: chords, the key, the arpeggiator and loop repetition applied, as rendered."""
    from mixdown.dsp.instruments.drums import DRUM_NOTES

    notes = [(n.start, n.length, n.pitch, n.velocity) for n in clip.notes]
    if clip.midi:
        from mixdown.io.assets import resolve_asset
        from mixdown.io.smf import read_smf

        smf = read_smf(resolve_asset(ctx.root, clip.midi, "clip"), as_clip=True)
        tpq = smf.ticks_per_beat
        notes = [(s / tpq, (e - s) / tpq, p, v)
                 for part in smf.parts for s, e, p, v in part.notes.tolist()]
    key = parse_key(ctx.project.song.key) if ctx.project.song.key else None
    period = loop_period_beats(placement, ctx.project.clips, ctx.meter, start)
    if clip.chords is None:
        # relative to the clip start (0.0), so that no float is added and taken away again
        raw = raw_notes(clip, notes, dict(DRUM_NOTES), 0.0, length, key=key, period_b=period)
    else:  # a chord chart's bars follow the song's meter from the clip's own start
        raw = [(s - start, e - start, p, v) for s, e, p, v in raw_notes(
            clip, notes, dict(DRUM_NOTES), start, length, meter=ctx.meter, key=key,
            period_b=period)]
    end = math.inf if length is None else length
    return [(s, min(e, end), p, v) for s, e, p, v in raw if s < end - EPS and 0 <= p <= 127]


def _note_clip(ctx: _Ctx, parent: Any, track: Track, clip: Clip, start: float,
               where: str) -> None:
    placement = clip
    clip = placed_clip(clip, ctx.project.clips)
    length = clip_length_beats(clip, ctx.meter, start)
    notes = _clip_notes(ctx, clip, placement, start, length)
    if length is None:
        length = max((e for _, e, _, _ in notes), default=0.0)
    if length <= 0:
        ctx.skipped.append(f"{where}: has no notes; not written")
        return
    el = _sub(parent, "Clip", time=start, duration=float(length), playStart=0.0,
              name=clip.name)
    extras: dict[str, Any] = {}
    if clip.humanize is not None:
        extras["humanize"] = clip.humanize.model_dump()
    set_extras(el, extras)
    ne = _sub(el, "Notes", id=ctx.ids())
    for s, e, p, v in notes:
        _sub(ne, "Note", time=float(s), duration=float(max(e - s, 1e-9)), channel=0, key=p,
             vel=float(v) / 127.0, rel=float(v) / 127.0)
    ctx.clips += 1
    ctx.notes += len(notes)


def _audio_clip(ctx: _Ctx, parent: Any, clip: Clip, start: float, where: str) -> None:
    from mixdown.io.audio import audio_info

    assert clip.file is not None
    name = ctx.add_file(clip.file, f"{where}.file")
    info = audio_info(ctx.files[name])
    extras: dict[str, Any] = {}
    length = clip_length_beats(clip, ctx.meter, start)
    if length is None:  # the rest of the file
        t0 = ctx.tempo.beats_to_seconds(start)
        length = ctx.tempo.seconds_to_beats(t0 + max(info.duration_s - clip.offset_s, 0.0)
                                            ) - start
        extras["to_end"] = True
    if clip.gain_db != 0:
        extras["gain_db"] = clip.gain_db
    el = _sub(parent, "Clip", time=start, duration=float(length), contentTimeUnit="seconds",
              playStart=float(clip.offset_s), fadeTimeUnit="seconds",
              fadeInTime=float(clip.fade_in_s), fadeOutTime=float(clip.fade_out_s),
              name=clip.name)
    if clip.loop:
        el.set("loopStart", fmt(clip.offset_s))
        el.set("loopEnd", fmt(info.duration_s))
    set_extras(el, extras)
    audio = _sub(el, "Audio", channels=info.channels, sampleRate=info.sample_rate,
                 duration=float(info.duration_s), id=ctx.ids())
    _sub(audio, "File", path=name)
    ctx.clips += 1


# -- automation, markers, tempo ----------------------------------------------------------------

def _automation(ctx: _Ctx, parent: Any, chan: str, lanes: tuple[AutomationLane, ...],
                ids: dict[str, str]) -> None:
    for lane in lanes:
        pid = ids.get(lane.param)
        if pid is None:
            ctx.skipped.append(f"{chan}: automation of {lane.param!r} has no DAWproject "
                               "parameter to aim at; not written")
            continue
        if lane.param == "pan":
            unit, conv = "normalized", (lambda v: (v + 1.0) / 2.0)
        elif lane.param == "volume_db" or lane.param.startswith("send."):
            unit, conv = "decibel", (lambda v: v)
        else:
            unit, conv = unit_for(lane.param.rsplit(".", 1)[-1]), (lambda v: v)
        pts = _sub(parent, "Points", unit=unit, id=ctx.ids())
        _sub(pts, "Target", parameter=pid)
        points = sorted(((ctx.beats(p.at), p.value, p.curve) for p in lane.points),
                        key=lambda t: t[0])
        for b, v, _ in points:
            _sub(pts, "RealPoint", time=float(b), value=float(conv(v)),
                 interpolation="linear")
        if any(c != 0 for _, _, c in points):
            set_extras(pts, {"curves": [c for _, _, c in points]})
        ctx.lanes += 1


def _markers(ctx: _Ctx, arrangement: Any) -> int:
    markers = sorted((ctx.beats(m.at), m.name) for m in ctx.project.markers)
    if not markers:
        return 0
    el = _sub(arrangement, "Markers", id=ctx.ids())
    for b, name in markers:
        _sub(el, "Marker", time=float(b), name=name)
    return len(markers)


def _tempo_automation(ctx: _Ctx, arrangement: Any, tempo_id: str) -> int:
    points = ctx.tempo.points
    if len(points) < 2:
        return 0
    el = _sub(arrangement, "TempoAutomation", unit="bpm", id=ctx.ids())
    _sub(el, "Target", parameter=tempo_id)
    for i, p in enumerate(points):
        nxt = points[i + 1] if i + 1 < len(points) else None
        _sub(el, "RealPoint", time=float(p.beat), value=float(p.bpm),
             interpolation="linear" if nxt is not None and nxt.ramp else "hold")
    return len(points) - 1


def _signature_automation(ctx: _Ctx, arrangement: Any, sig_id: str) -> int:
    sigs = ctx.meter.signatures
    if len(sigs) < 2:
        return 0
    el = _sub(arrangement, "TimeSignatureAutomation", id=ctx.ids())
    _sub(el, "Target", parameter=sig_id)
    for sig in sigs:
        _sub(el, "TimeSignaturePoint", time=float(ctx.meter.bar_beat_to_beats(sig.bar, 1)),
             numerator=sig.numerator, denominator=sig.denominator)
    return len(sigs) - 1


__all__ = ["DawprojectExport", "project_to_dawproject"]
