"""DAWproject devices -> mixdown devices.

Devices written by mixdown come back exactly (their JSON state); DAWproject's
Equalizer/Compressor/NoiseGate/Limiter -> eq/compressor/gate/limiter when every setting
fits, otherwise (and for plug-ins) a ``foreign`` device that keeps the XML and state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from mixdown.core.errors import FormatError, MixdownError
from mixdown.io.dawproject_archive import check_relative
from mixdown.io.dawproject_common import (
    BUILTIN_MAPS,
    DEVICE_ID_PREFIX,
    EQ_BANDS,
    SLOPES_DB,
    _Chan,
    _ReaderBase,
    _Target,
    finite,
)
from mixdown.io.places import ASSET_KEY
from mixdown.model.project import Device

DEVICE_TAGS = ("Device", "Vst2Plugin", "Vst3Plugin", "ClapPlugin", "AuPlugin", "BuiltinDevice",
               "Equalizer", "Compressor", "NoiseGate", "Limiter")
PLUGIN_FOLDER = "dawproject"
"""Project folder that holds kept devices: ``devices/*.xml`` and ``plugins/*`` (states)."""


class _DeviceReader(_ReaderBase):
    """Maps a channel's devices and records their automatable parameters."""

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


def _as_is(v: float, unit: str) -> float:
    return v
