"""The mixer: what each channel strip shows, and the changes a strip can make.

A strip is a track, a bus or the master. :func:`mixer_view` describes every strip of a
project (fader in dB, pan, mute, solo, phase, sends, the device chain with each
parameter's declared kind, range, unit and default from the device registry) for the web
studio's mixer page. :func:`mixer_change` turns one change, as the page sends it (a JSON
object), into a ``Project -> Project`` function and a label for the history; the studio
applies it with :func:`mixdown.services.history.apply_edit`, so the checker (not this
module) judges the values: an out-of-range parameter is refused with the checker's message::

    change, label = mixer_change({"op": "set", "strip": {"kind": "track", "name": "Pad"},
                                  "field": "volume_db", "value": -4.5})
    apply_edit("my-song", change, base=None, label=label)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mixdown.core.errors import MixdownError, ParameterError
from mixdown.dsp.base import DEVICES, Param, device_info, load_builtin_devices
from mixdown.model.project import (
    MASTER,
    PAN_RANGE,
    VOLUME_DB_RANGE,
    Bus,
    Device,
    Master,
    Project,
    Send,
    Track,
)
from mixdown.services.edit import with_bus, with_master, with_track

__all__ = ["DeviceView", "MixerView", "ParamView", "SendView", "StripView", "device_types",
           "mixer_change", "mixer_state", "mixer_view", "param_unit"]

Change = Callable[[Project], Project]

CHANNEL_FIELDS = {"volume_db": "number", "pan": "number", "mute": "bool", "solo": "bool",
                  "phase_invert": "bool"}
"""The strip fields a ``set`` change may write, and the JSON kind each needs."""
MASTER_FIELDS = {"volume_db": "number", "target": "target", "target_lufs": "optional",
                 "ceiling_dbtp": "optional"}

_UNITS = (("_db", "dB"), ("_dbtp", "dBTP"), ("_lufs", "LUFS"), ("_hz", "Hz"),
          ("_khz", "kHz"), ("_ms", "ms"), ("_s", "s"), ("_pct", "%"), ("_percent", "%"),
          ("_semitones", "st"), ("_cents", "cents"), ("_bpm", "BPM"), ("_deg", "°"))


def param_unit(name: str) -> str:
    """The unit a parameter's name declares by its suffix (``cutoff_hz`` -> ``Hz``), or ''."""
    for suffix, unit in _UNITS:
        if name.endswith(suffix):
            return unit
    return ""


@dataclass(frozen=True, slots=True)
class ParamView:
    """One device parameter as a control: ``kind`` is float, int, bool, choice, str or any
    (structured, not editable here); ``min``/``max`` in the parameter's ``unit``."""

    name: str
    kind: str
    value: Any
    default: Any
    min: float | None
    max: float | None
    unit: str
    choices: tuple[str, ...]
    doc: str
    set: bool
    """Whether song.toml spells the value out (else it is the default)."""


@dataclass(frozen=True, slots=True)
class DeviceView:
    """A device of a strip's chain; ``index`` is its place in ``devices`` (``-1`` for a
    track's instrument)."""

    index: int
    type: str
    name: str | None
    bypass: bool
    kind: str
    doc: str
    params: tuple[ParamView, ...]
    known: bool = True


@dataclass(frozen=True, slots=True)
class SendView:
    """A send to the bus ``to``, at ``level_db`` (dB), pre- or post-fader."""

    to: str
    level_db: float
    pre_fader: bool


@dataclass(frozen=True, slots=True)
class StripView:
    """One channel strip. ``kind`` is track, bus or master; a master has no pan, mute,
    solo, phase or sends, and carries its loudness target instead."""

    kind: str
    name: str
    volume_db: float
    pan: float = 0.0
    mute: bool = False
    solo: bool = False
    phase_invert: bool = False
    output: str = MASTER
    sends: tuple[SendView, ...] = ()
    devices: tuple[DeviceView, ...] = ()
    target: str | None = None
    target_lufs: float | None = None
    ceiling_dbtp: float | None = None

    @property
    def key(self) -> str:
        """``kind:name``, the strip's address in a change and in the meters."""
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class MixerView:
    """Every strip of a song: tracks, then buses, then the master."""

    strips: tuple[StripView, ...]
    buses: tuple[str, ...]
    volume_range_db: tuple[float, float] = VOLUME_DB_RANGE
    pan_range: tuple[float, float] = PAN_RANGE
    device_types: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for s, strip in zip(out["strips"], self.strips, strict=True):
            s["key"] = strip.key
        return out


# -- the view -------------------------------------------------------------------------------


def device_types() -> tuple[str, ...]:
    """The insert effects a strip can add, sorted by name (instruments excluded)."""
    load_builtin_devices()
    return tuple(sorted(t for t, i in DEVICES.items() if i.kind == "effect"
                        and t not in ("vst3", "foreign")))


def _param_view(p: Param, values: Mapping[str, Any]) -> ParamView:
    return ParamView(name=p.name, kind=p.kind, value=values.get(p.name, p.default),
                     default=p.default, min=p.min, max=p.max, unit=param_unit(p.name),
                     choices=p.choices, doc=p.doc, set=p.name in values)


def _device_view(device: Device, index: int, kind: str) -> DeviceView:
    try:
        info = device_info(device.type)
    except ParameterError:  # the checker reports it; the strip shows it as unknown
        return DeviceView(index, device.type, device.name, device.bypass, kind, "", (),
                          known=False)
    params = tuple(_param_view(p, device.params) for p in info.params)
    return DeviceView(index, device.type, device.name, device.bypass, info.kind,
                      info.doc.strip().splitlines()[0] if info.doc.strip() else "", params)


def _strip(kind: str, ch: Track | Bus) -> StripView:
    devices = [_device_view(d, i, "effect") for i, d in enumerate(ch.devices)]
    if isinstance(ch, Track) and ch.instrument is not None:
        devices.insert(0, _device_view(ch.instrument, -1, "instrument"))
    return StripView(kind=kind, name=ch.name, volume_db=ch.volume_db, pan=ch.pan,
                     mute=ch.mute, solo=ch.solo, phase_invert=ch.phase_invert,
                     output=ch.output,
                     sends=tuple(SendView(s.to, s.level_db, s.pre_fader) for s in ch.sends),
                     devices=tuple(devices))


def mixer_view(project: Project) -> MixerView:
    """The strips of ``project`` as the mixer shows them."""
    m: Master = project.master
    master = StripView(kind="master", name=MASTER, volume_db=m.volume_db,
                       devices=tuple(_device_view(d, i, "effect")
                                     for i, d in enumerate(m.devices)),
                       target=m.target, target_lufs=m.target_lufs,
                       ceiling_dbtp=m.ceiling_dbtp)
    strips = ([_strip("track", t) for t in project.tracks]
              + [_strip("bus", b) for b in project.buses] + [master])
    return MixerView(strips=tuple(strips), buses=tuple(b.name for b in project.buses),
                     device_types=device_types())


# -- changes --------------------------------------------------------------------------------


def _text(body: Mapping[str, Any], key: str) -> str:
    v = body.get(key)
    if not isinstance(v, str) or not v:
        raise ParameterError(f"the change needs {key!r} (a name)")
    return v


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value):
        raise ParameterError(f"{what} must be a number, got {value!r}")
    return float(value)


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"{what} must be true or false, got {value!r}")
    return value


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class _Strip:
    """The strip a change addresses, and how to read and replace its channel."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        raw = body.get("strip")
        if not isinstance(raw, Mapping):
            raise ParameterError("the change needs 'strip': {kind, name}")
        self.kind = raw.get("kind")
        if self.kind not in ("track", "bus", "master"):
            raise ParameterError(f"strip kind must be track, bus or master, got "
                                 f"{self.kind!r}")
        self.name = MASTER if self.kind == "master" else _text(raw, "name")

    def channel(self, p: Project) -> Any:
        if self.kind == "master":
            return p.master
        return p.track(self.name) if self.kind == "track" else p.bus(self.name)

    def update(self, p: Project, **changes: Any) -> Project:
        if self.kind == "master":
            return with_master(p, **changes)
        if self.kind == "track":
            return with_track(p, self.name, **changes)
        return with_bus(p, self.name, **changes)

    @property
    def label(self) -> str:
        return "Master" if self.kind == "master" else self.name


def _device_address(body: Mapping[str, Any]) -> int:
    d = body.get("device")
    if d == "instrument" or d == -1:
        return -1
    if isinstance(d, bool) or not isinstance(d, int) or d < 0:
        raise ParameterError(f"'device' must be a device's index or 'instrument', got {d!r}")
    return d


def _devices(strip: _Strip, p: Project) -> list[Device]:
    return list(strip.channel(p).devices)


def _device(strip: _Strip, p: Project, index: int) -> Device:
    if index == -1:
        if strip.kind != "track" or strip.channel(p).instrument is None:
            raise ParameterError(f"{strip.label} has no instrument")
        inst: Device = strip.channel(p).instrument
        return inst
    devices = _devices(strip, p)
    if index >= len(devices):
        raise ParameterError(f"{strip.label} has no device #{index + 1} "
                             f"(it has {len(devices)})")
    return devices[index]


def _put_device(strip: _Strip, p: Project, index: int, device: Device) -> Project:
    if index == -1:
        return strip.update(p, instrument=device)
    devices = _devices(strip, p)
    devices[index] = device
    return strip.update(p, devices=tuple(devices))


def _with_params(device: Device, name: str, value: Any) -> Device:
    kept = {k: getattr(device, k) for k in device.model_fields_set}
    return Device.model_validate({**kept, "params": {**device.params, name: value}})


def _set(strip: _Strip, body: Mapping[str, Any]) -> tuple[Change, str]:
    name = _text(body, "field")
    fields = MASTER_FIELDS if strip.kind == "master" else CHANNEL_FIELDS
    if name not in fields:
        raise ParameterError(f"a {strip.kind} strip has no field {name!r}; "
                             f"fields: {', '.join(fields)}")
    kind = fields[name]
    raw = body.get("value")
    value: Any
    if kind == "number":
        value = _number(raw, name)
    elif kind == "bool":
        value = _bool(raw, name)
    elif kind == "optional":
        value = None if raw is None or raw == "" else _number(raw, name)
    else:  # the master's platform target: a preset name, or none
        value = raw or None
        if value is not None and not isinstance(value, str):
            raise ParameterError(f"target must be a platform name, got {raw!r}")
    unit = " dB" if name == "volume_db" else ""
    shown = "volume" if name == "volume_db" else name.replace("_", " ")
    label = f"{strip.label} {shown} {_fmt(value) if value is not None else 'none'}{unit}"
    return (lambda p: strip.update(p, **{name: value})), label


def _send(strip: _Strip, body: Mapping[str, Any], remove: bool) -> tuple[Change, str]:
    if strip.kind == "master":
        raise ParameterError("the master has no sends")
    to = _text(body, "to")
    level = None if remove else _number(body.get("level_db", 0.0), "level_db")
    pre = body.get("pre_fader")

    def change(p: Project) -> Project:
        sends = list(strip.channel(p).sends)
        at = next((i for i, s in enumerate(sends) if s.to == to), None)
        if remove:
            if at is None:
                raise ParameterError(f"{strip.label} has no send to {to!r}")
            del sends[at]
        elif at is None:
            sends.append(Send(to=to, level_db=level, pre_fader=_bool(pre or False,
                                                                     "pre_fader")))
        else:
            kept = {k: getattr(sends[at], k) for k in sends[at].model_fields_set}
            kept["level_db"] = level
            if pre is not None:
                kept["pre_fader"] = _bool(pre, "pre_fader")
            sends[at] = Send.model_validate(kept)
        return strip.update(p, sends=tuple(sends))

    if remove:
        return change, f"{strip.label}: remove the send to {to}"
    return change, f"{strip.label} send to {to} {_fmt(level)} dB"


def _param(strip: _Strip, body: Mapping[str, Any]) -> tuple[Change, str]:
    index = _device_address(body)
    name = _text(body, "param")
    value = body.get("value")
    if value is None or isinstance(value, list | dict):
        raise ParameterError(f"{name} needs a number, a choice or true/false")

    def change(p: Project) -> Project:
        device = _device(strip, p, index)
        return _put_device(strip, p, index, _with_params(device, name, value))

    return change, f"{strip.label} {name} {_fmt(value)}"


def _bypass(strip: _Strip, body: Mapping[str, Any]) -> tuple[Change, str]:
    index = _device_address(body)
    if index == -1:
        raise ParameterError("an instrument cannot be bypassed")
    value = _bool(body.get("value"), "bypass")

    def change(p: Project) -> Project:
        d = _device(strip, p, index)
        kept = {k: getattr(d, k) for k in d.model_fields_set}
        return _put_device(strip, p, index, Device.model_validate({**kept, "bypass": value}))

    return change, f"{strip.label} device #{index + 1} bypass {_fmt(value)}"


def _add_device(strip: _Strip, body: Mapping[str, Any]) -> tuple[Change, str]:
    kind = _text(body, "type")
    device_info(kind, kind="effect")  # an unknown type is refused with a did-you-mean

    def change(p: Project) -> Project:
        return strip.update(p, devices=(*_devices(strip, p), Device(type=kind)))

    return change, f"{strip.label}: add {kind}"


def _remove_device(strip: _Strip, body: Mapping[str, Any]) -> tuple[Change, str]:
    index = _device_address(body)
    if index == -1:
        raise ParameterError("the instrument is not an insert device")

    def change(p: Project) -> Project:
        _device(strip, p, index)
        devices = _devices(strip, p)
        del devices[index]
        return strip.update(p, devices=tuple(devices))

    return change, f"{strip.label}: remove device #{index + 1}"


def _move_device(strip: _Strip, body: Mapping[str, Any]) -> tuple[Change, str]:
    index = _device_address(body)
    to = body.get("to")
    if index == -1 or isinstance(to, bool) or not isinstance(to, int) or to < 0:
        raise ParameterError("a move needs 'device' and 'to' (insert indices from 0)")

    def change(p: Project) -> Project:
        devices = _devices(strip, p)
        _device(strip, p, index)
        if to >= len(devices):
            raise ParameterError(f"{strip.label} has no place #{to + 1} in its chain")
        devices.insert(to, devices.pop(index))
        return strip.update(p, devices=tuple(devices))

    return change, f"{strip.label}: move device #{index + 1} to #{to + 1}"


_OPS = {"set": _set, "param": _param, "bypass": _bypass, "add_device": _add_device,
        "remove_device": _remove_device, "move_device": _move_device}


def mixer_change(body: Mapping[str, Any]) -> tuple[Change, str]:
    """One mixer change, as the page sends it, as a ``Project -> Project`` function and
    the label of its history step.

    Parameters
    ----------
    body : mapping
        ``op`` and ``strip`` (``{"kind": "track" | "bus" | "master", "name": ...}``), and:

        - ``set``: ``field`` (``volume_db`` dB, ``pan`` -1..1, ``mute``, ``solo``,
          ``phase_invert``; the master: ``volume_db``, ``target``, ``target_lufs``,
          ``ceiling_dbtp``) and ``value``;
        - ``send`` / ``remove_send``: ``to`` (a bus), ``level_db`` (dB), ``pre_fader``;
        - ``param``: ``device`` (index in the chain, or ``"instrument"``), ``param``,
          ``value`` (written as given: the checker judges its range);
        - ``bypass``: ``device``, ``value``;
        - ``add_device``: ``type``; ``remove_device``: ``device``; ``move_device``:
          ``device``, ``to``.

    Raises
    ------
    ParameterError
        A change this function cannot read (a missing key, a value of the wrong JSON type).
    """
    op = body.get("op")
    strip = _Strip(body)
    if op in ("send", "remove_send"):
        return _send(strip, body, remove=op == "remove_send")
    if op not in _OPS:
        raise ParameterError(f"unknown mixer change {op!r}; changes: "
                             f"{', '.join([*_OPS, 'send', 'remove_send'])}")
    return _OPS[op](strip, body)


def mixer_state(folder: Any) -> dict[str, Any]:
    """What the mixer page shows for the project in ``folder``, as JSON-ready data:
    ``revision`` (of song.toml), ``view`` (:func:`mixer_view`), ``targets`` (platform
    preset names), ``error`` (song.toml does not load: the loader's message; the rest
    empty), ``meters`` (:func:`mixdown.services.mixer_meters.last_meters`, or None),
    ``sections`` (the song's marker names, for a quick preview of one)."""
    from mixdown.core.targets import TargetTable
    from mixdown.io.project import open_project
    from mixdown.services.history import current_revision
    from mixdown.services.mixer_meters import last_meters

    revision = current_revision(folder)
    try:
        pf = open_project(folder)
    except MixdownError as exc:  # an outside edit broke it: the page offers undo
        return {"revision": revision, "error": str(exc).splitlines()[0], "view": None,
                "targets": [], "meters": None, "sections": []}
    meters = last_meters(folder)
    return {"revision": revision, "view": mixer_view(pf.project).as_dict(),
            "targets": TargetTable.from_project(pf.root).names(),
            "meters": meters.as_dict() if meters is not None else None,
            "sections": [m.name for m in pf.project.markers], "error": None}
