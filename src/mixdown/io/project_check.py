"""Checks a model cannot make alone: devices against the registry, drum voices, every
position against the song's maps, automation targets and ranges, and every referenced file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from mixdown.core.errors import FormatError, MixdownError, ModelError
from mixdown.core.targets import TargetTable
from mixdown.core.time import MeterMap, SongMapError, TempoMap, parse_position, song_maps
from mixdown.io.assets import resolve_asset
from mixdown.io.places import (
    ASSET_KEY,
    FALLBACK_DRUM_NOTES,
    SONG_FILE,
    _closest,
    _Where,
)
from mixdown.model.project import (
    AutomationLane,
    Channel,
    Clip,
    Device,
    Master,
    Project,
    Track,
)

# -- checks beyond the model: registry, patterns, positions, automation, files ------------------


def check_project(project: Project, root: str | Path, *, label: str = SONG_FILE) -> None:
    """Check what the model cannot: devices, patterns, positions, automation and files.

    Parameters
    ----------
    project : Project
        A validated model (from a file or built in Python).
    root : Path
        The project folder; asset paths are relative to it.
    label : str
        How to name the project in messages (the song.toml path).

    Raises
    ------
    ModelError, FormatError
        One line naming the place and the fix.
    """
    where = _Where.of_project(label, project)
    root = Path(root)
    meter, tempo = _timeline(project, where)
    check_devices(project, label=label)

    def pos(value: Any, path: tuple[str | int, ...]) -> None:
        try:
            parse_position(value, meter, tempo)
        except MixdownError as exc:
            raise where.model_error(path, str(exc)) from None

    if project.song.length is not None:
        pos(project.song.length, ("song", "length"))
    for i, m in enumerate(project.markers):
        pos(m.at, ("marker", i, "at"))
    drums = _drum_notes()
    channels: list[tuple[tuple[str | int, ...], Channel | Master]] = [
        *((("track", i), t) for i, t in enumerate(project.tracks)),
        *((("bus", i), b) for i, b in enumerate(project.buses)),
        (("master",), project.master),
    ]
    _check_target(project, root, where)
    for path, ch in channels:
        _check_automation(ch, path, where, pos)
        if isinstance(ch, Track):
            for ci, clip in enumerate(ch.clips):
                cpath = (*path, "clips", ci)
                pos(clip.start, (*cpath, "start"))
                _check_clip(clip, ch, cpath, root, where, drums)
            if ch.instrument is not None:
                _check_param_files(ch.instrument.params, (*path, "instrument"), root, where)
        for j, d in enumerate(ch.devices):
            _check_param_files(d.params, (*path, "devices", j), root, where)


def check_devices(project: Project, *, label: str = SONG_FILE) -> None:
    """Check every instrument and device against the registry.

    Unknown types and parameters get the closest known name; values are checked
    against each parameter's kind and range.
    """
    from mixdown.dsp.base import DEVICES, device_info, load_builtin_devices

    load_builtin_devices()
    where = _Where.of_project(label, project)

    def check(d: Device, path: tuple[str | int, ...],
              kind: Literal["effect", "instrument"]) -> None:
        if kind == "effect" and d.type in DEVICES and DEVICES[d.type].kind == "instrument":
            raise where.model_error((*path, "type"), f"{d.type!r} is an instrument; use it as "
                                    f'instrument = {{ type = "{d.type}" }} on a track')
        if kind == "instrument" and d.type in DEVICES and DEVICES[d.type].kind == "effect":
            raise where.model_error((*path, "type"), f"{d.type!r} is an effect; put it in "
                                    "devices = [...], and use an instrument here")
        try:
            info = device_info(d.type, kind=kind)
        except MixdownError as exc:
            raise where.model_error((*path, "type"), str(exc)) from None
        known = [p.name for p in info.params]
        prefix = where.at(path) + "."  # 'song.toml: track "Bass", devices[1].'
        for key, value in d.params.items():
            if key not in known:
                hint = _closest(key, known) if known else f"; {d.type} takes no parameters"
                raise ModelError(f"{prefix}{key}: {d.type} has no parameter {key!r}{hint}")
            try:
                info.param(key).check(value, prefix)
            except MixdownError as exc:
                raise ModelError(str(exc)) from None
        if "sidechain" in d.params and not info.sidechain and d.params["sidechain"]:
            raise where.model_error((*path, "sidechain"), f"{d.type} takes no sidechain")

    for i, t in enumerate(project.tracks):
        if t.instrument is not None:
            check(t.instrument, ("track", i, "instrument"), "instrument")
        for j, d in enumerate(t.devices):
            check(d, ("track", i, "devices", j), "effect")
    for i, b in enumerate(project.buses):
        for j, d in enumerate(b.devices):
            check(d, ("bus", i, "devices", j), "effect")
    for j, d in enumerate(project.master.devices):
        check(d, ("master", "devices", j), "effect")


def _timeline(project: Project, where: _Where) -> tuple[MeterMap, TempoMap]:
    """The song's meter and tempo maps, built by the same function as the engine's."""
    song = project.song
    try:
        return song_maps(song.tempo, song.time_signature,
                         [(p.at, p.bpm, p.ramp) for p in song.tempo_map],
                         [(t.bar, *t.signature) for t in song.time_signatures])
    except SongMapError as exc:
        raise where.model_error(exc.path, str(exc)) from None


def _check_target(project: Project, root: Path, where: _Where) -> None:
    """``[master] target`` must name a loudness preset (or a project targets.toml row)."""
    target = project.master.target
    if target is None:
        return
    try:
        TargetTable.from_project(root).resolve(target)
    except MixdownError as exc:
        raise where.model_error(("master", "target"), str(exc)) from None


def _drum_notes() -> dict[str, int]:
    try:
        from mixdown.dsp.instruments.drums import DRUM_NOTES
    except ModuleNotFoundError as exc:
        if exc.name != "mixdown.dsp.instruments.drums":
            raise
        return dict(FALLBACK_DRUM_NOTES)
    return dict(DRUM_NOTES)


def _check_clip(clip: Clip, track: Track, path: tuple[str | int, ...], root: Path,
                where: _Where, drums: Mapping[str, int]) -> None:
    if clip.pattern is not None:
        for voice, steps in clip.pattern.items():
            if voice not in drums:
                raise where.model_error((*path, "pattern", voice),
                                        f"unknown drum voice{_closest(voice, sorted(drums))}")
            if not steps.replace(" ", "").replace("|", ""):
                raise where.model_error((*path, "pattern", voice),
                                        "has no steps; write e.g. \"x...x...\"")
    if clip.file is not None:
        if track.instrument is not None:
            raise where.model_error((*path, "file"), "an instrument track cannot play audio "
                                    "clips; put them on a track without an instrument")
        file = resolve_asset(root, clip.file, where.at((*path, "file")))
        info = _check_audio(file, clip.file, (*path, "file"), where)
        if info.channels > 2:
            raise where.format_error((*path, "file"), f"{clip.file} has {info.channels} "
                                     "channels; clips must be mono or stereo", file)
        if clip.offset_s >= info.duration_s:
            raise where.model_error((*path, "offset_s"), f"{clip.offset_s:g} s is past the end "
                                    f"of {clip.file} ({info.duration_s:.3f} s)")
    if clip.midi is not None:
        from mixdown.io.midi import read_midi_notes

        file = resolve_asset(root, clip.midi, where.at((*path, "midi")))
        try:
            read_midi_notes(file)
        except FormatError as exc:
            raise where.format_error((*path, "midi"), _strip_path(str(exc), file, clip.midi),
                                     file) from None


def _check_audio(file: Path, shown: str, path: tuple[str | int, ...], where: _Where) -> Any:
    from mixdown.io.audio import audio_info, iter_blocks

    try:
        info = audio_info(file)
        for _ in iter_blocks(file, 1 << 16):  # decodes and checks every sample is finite
            continue
    except FormatError as exc:
        raise where.format_error(path, _strip_path(str(exc), file, shown), file) from None
    if info.frames == 0:
        raise where.format_error(path, f"{shown}: the file holds no audio (0 frames)", file)
    return info


def _strip_path(message: str, file: Path, shown: str) -> str:
    """Name the asset as the user wrote it, not by its absolute path."""
    for p in (str(file), str(file.resolve())):
        if message.startswith(p + ":"):
            return shown + message[len(p):]
    return message


def _check_param_files(params: Any, path: tuple[str | int, ...], root: Path,
                       where: _Where) -> None:
    """Every ``file``/``*_file`` string in device parameters must be a project file."""
    from mixdown.io.audio import FORMATS

    def walk(value: Any, p: tuple[str | int, ...]) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                if isinstance(k, str) and ASSET_KEY.match(k) and isinstance(v, str):
                    file = resolve_asset(root, v, where.at((*p, k)))
                    if file.suffix.lower() in FORMATS:
                        _check_audio(file, v, (*p, k), where)
                else:
                    walk(v, (*p, k))
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                walk(v, (*p, i))

    walk(params, path)


_VOLUME = (-144.0, 24.0)
_PAN = (-1.0, 1.0)


def _check_automation(ch: Channel | Master, path: tuple[str | int, ...], where: _Where,
                      pos: Any) -> None:
    from mixdown.dsp.base import device_info

    for li, lane in enumerate(ch.automation):
        lpath = (*path, "automation", li)
        for pi, point in enumerate(lane.points):
            pos(point.at, (*lpath, "points", pi))
        param = lane.param

        def check_range(lo: float, hi: float, lane: AutomationLane = lane,
                        lpath: tuple[str | int, ...] = lpath) -> None:
            for pi, point in enumerate(lane.points):
                if not lo <= point.value <= hi:
                    raise where.model_error((*lpath, "points", pi),
                                            f"{lane.param} must be in {lo:g}..{hi:g}, "
                                            f"got {point.value:g}")

        if param == "volume_db":
            check_range(*_VOLUME)
            continue
        if param == "pan":
            if isinstance(ch, Master):
                raise where.model_error((*lpath, "param"), "the master has no pan; automate "
                                        "volume_db or a device parameter")
            check_range(*_PAN)
            continue
        if param.startswith("send."):
            bus = param[5:]
            sends = [] if isinstance(ch, Master) else [s.to for s in ch.sends]
            if bus not in sends:
                known = ", ".join(sends) if sends else "none"
                raise where.model_error((*lpath, "param"), f"no send to {bus!r} here (sends: "
                                        f"{known}); add it to sends first")
            check_range(*_VOLUME)
            continue
        if "." not in param:
            hint = _closest(param, ["volume_db", "pan"])
            if "did you mean" not in hint:
                hint = "; use volume_db, pan, send.<bus>, <device>.<param> or instrument.<param>"
            raise where.model_error((*lpath, "param"), f"unknown target {param!r}{hint}")
        ref, pname = param.rsplit(".", 1)
        if ref == "instrument":
            if not isinstance(ch, Track) or ch.instrument is None:
                raise where.model_error((*lpath, "param"), "there is no instrument here")
            device = ch.instrument
        else:
            device = _find_device(ch, ref, (*lpath, "param"), where)
        info = device_info(device.type)
        known = [p.name for p in info.params if p.automatable and p.kind in ("float", "int")]
        if pname not in known:
            raise where.model_error((*lpath, "param"), f"{device.type} has no automatable "
                                    f"parameter {pname!r}{_closest(pname, known)}")
        spec = info.param(pname)
        for pi, point in enumerate(lane.points):
            try:
                spec.check(point.value, "")
            except MixdownError as exc:
                raise where.model_error((*lpath, "points", pi), f"{param}{str(exc)[len(pname):]}"
                                        ) from None


def _find_device(ch: Channel | Master, ref: str, path: tuple[str | int, ...],
                 where: _Where) -> Device:
    """A device by ``name``, by ``type`` (if one unnamed device has it) or ``devices[i]``."""
    m = re.fullmatch(r"devices\[(\d+)\]", ref)
    if m:
        j = int(m.group(1))
        if j < len(ch.devices):
            return ch.devices[j]
        raise where.model_error(path, f"{ref}: there are {len(ch.devices)} devices here")
    named = [d for d in ch.devices if d.name == ref]
    if named:
        return named[0]
    typed = [d for d in ch.devices if d.type == ref and d.name is None]
    if len(typed) > 1:
        raise where.model_error(path, f"{len(typed)} devices are {ref!r}; give one a name or "
                                "write devices[i]")
    if typed:
        return typed[0]
    known = [d.name or d.type for d in ch.devices]
    raise where.model_error(path, f"no device {ref!r} here{_closest(ref, known)}")
