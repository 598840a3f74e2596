"""``song.toml``: load, validate and save projects, keeping the user's comments.

The TOML layout is the one documented in ``docs/song-format.md``: ``[song]``,
``[[marker]]``, ``[[track]]``, ``[[bus]]`` and ``[master]``; devices and instruments are
flat tables (``{ type = "compressor", threshold_db = -18 }``), sends a table keyed by bus
name, notes and automation points short arrays. This module maps that layout to the
:class:`~mixdown.model.project.Project` model and back.

Loading checks everything a render would trip over, before anything is rendered:
the TOML syntax, the model's rules, every device and parameter against the device
registry, drum pattern voices, automation targets, every position against the
song's meter and tempo map, and every referenced file (containment in the project
folder, readable audio without NaN samples, parseable MIDI). Every failure is one
line naming the file, the place and the fix::

    song.toml: track "Bass", devices[1].ratio: must be >= 1, got 0.5

Saving merges the project into the original TOML document: everything that did not
change keeps its text, comments and formatting byte for byte.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import re
import tempfile
import tomllib
import types
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import tomlkit
from pydantic import BaseModel, ValidationError
from tomlkit.exceptions import ParseError, TOMLKitError
from tomlkit.items import AoT, InlineTable

from mixdown.core.errors import FormatError, MixdownError, ModelError
from mixdown.core.targets import TargetTable
from mixdown.core.time import MeterMap, SongMapError, TempoMap, parse_position, song_maps
from mixdown.io.assets import resolve_asset
from mixdown.model.project import (
    AutomationLane,
    AutomationPoint,
    Bus,
    Channel,
    Clip,
    Device,
    Master,
    Note,
    Project,
    Send,
    Spec,
    Track,
)

SONG_FILE = "song.toml"
"""The project file inside a project folder."""

MAX_PROJECT_BYTES = 16 * 1024 * 1024
"""A song.toml larger than this is refused (a real one is kilobytes)."""

TOP_KEYS = ("schema_version", "song", "marker", "track", "bus", "master")
"""The top-level keys of song.toml."""

DEVICE_KEYS = ("type", "name", "bypass")
"""Keys of a device or instrument table that are not parameters."""

ASSET_KEY = re.compile(r"^(file|\w+_file)$")
"""Device parameters (at any depth) whose string value is a project file to check."""

FALLBACK_DRUM_NOTES: dict[str, int] = {
    "kick": 36, "snare": 38, "clap": 39, "hat": 42, "closed_hat": 42, "open_hat": 46,
    "tom_low": 45, "tom_mid": 47, "tom_high": 50, "rim": 37, "cowbell": 56, "crash": 49,
    "ride": 51, "perc": 56,
}
"""The drum voice table, used only while ``mixdown.dsp.instruments.drums`` is absent."""

_DOC_BEGIN = "<!-- BEGIN GENERATED DEVICE REFERENCE: do not edit by hand -->"
_DOC_END = "<!-- END GENERATED DEVICE REFERENCE -->"


@dataclass(frozen=True)
class ProjectFile:
    """A loaded project: where it lives, the validated model and its original text.

    Attributes
    ----------
    path : Path
        The ``song.toml`` (absolute).
    root : Path
        Its folder; asset paths are relative to it.
    project : Project
        The validated model.
    text : str
        The file's text as loaded.
    document : tomlkit.TOMLDocument
        The parsed original, for :func:`save_project` to keep comments and formatting
        (parsed on first use: tomlkit is ten times slower than the loader's parser).
    """

    path: Path
    root: Path
    project: Project
    text: str = dataclasses.field(repr=False)

    @cached_property
    def document(self) -> tomlkit.TOMLDocument:
        """The original as a tomlkit document (comments and formatting included)."""
        return parse_document(self.text, str(self.path))


# -- where: human names for places in the file -------------------------------------------------


class _Where:
    """Formats places in a project as people read them: ``track "Bass", devices[1].ratio``."""

    def __init__(self, label: str, names: Mapping[str, Sequence[Any]]) -> None:
        self.label = label
        self.names = names

    @classmethod
    def of_raw(cls, label: str, raw: Mapping[str, Any]) -> _Where:
        names = {}
        for key in ("track", "bus", "marker"):
            items = raw.get(key)
            items = items if isinstance(items, list) else []
            names[key] = [i.get("name") if isinstance(i, Mapping) else None for i in items]
        return cls(label, names)

    @classmethod
    def of_project(cls, label: str, project: Project) -> _Where:
        return cls(label, {"track": [t.name for t in project.tracks],
                           "bus": [b.name for b in project.buses],
                           "marker": [m.name for m in project.markers]})

    def place(self, path: Sequence[str | int]) -> str:
        """``("track", 0, "devices", 1, "ratio")`` -> ``track "Bass", devices[1].ratio``."""
        if not path:
            return ""
        head = path[0]
        if head in ("track", "bus", "marker") and len(path) > 1 and isinstance(path[1], int):
            i = path[1]
            names = self.names.get(str(head), [])
            name = names[i] if i < len(names) else None
            label = f'{head} "{name}"' if isinstance(name, str) and name else f"{head} #{i + 1}"
            tail = _dotted(path[2:])
            return f"{label}, {tail}" if tail else label
        return _dotted(path)

    def at(self, path: Sequence[str | int]) -> str:
        """``song.toml: track "Bass", devices[1]``: the file and the place."""
        place = self.place(path)
        return f"{self.label}: {place}" if place else self.label

    def message(self, path: Sequence[str | int], text: str) -> str:
        return f"{self.at(path)}: {text}"

    def model_error(self, path: Sequence[str | int], text: str) -> ModelError:
        return ModelError(self.message(path, text))

    def format_error(self, path: Sequence[str | int], text: str,
                     file: Path | None = None) -> FormatError:
        return FormatError(self.message(path, text), file)


def _dotted(parts: Sequence[str | int]) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            key = p if re.fullmatch(r"[A-Za-z0-9_\-]+", p) else json.dumps(p)
            out += f".{key}" if out else key
    return out


_SYNONYMS = {"bpm": "tempo", "volume": "volume_db", "gain": "gain_db", "vol": "volume_db",
             "tracks": "track", "buses": "bus", "busses": "bus", "markers": "marker",
             "effects": "devices", "inserts": "devices", "offset": "offset_s",
             "fade_in": "fade_in_s", "fade_out": "fade_out_s", "samplerate": "sample_rate"}


def _closest(name: str, options: Sequence[str]) -> str:
    if _SYNONYMS.get(name) in options:
        return f"; did you mean {_SYNONYMS[name]!r}?"
    match = difflib.get_close_matches(name, list(options), n=2, cutoff=0.6)
    if match:
        return "; did you mean " + " or ".join(repr(m) for m in match) + "?"
    return f"; known: {', '.join(options)}" if options else ""


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return repr(value)


# -- loading ------------------------------------------------------------------------------------


def project_file_path(path: str | Path) -> Path:
    """The song.toml for PROJECT (a folder or its song.toml), as given (not resolved)."""
    p = Path(path)
    if p.is_dir():
        return p / SONG_FILE
    return p


def open_project(path: str | Path) -> ProjectFile:
    """Load, validate and check a project.

    Parameters
    ----------
    path : str or Path
        A project folder or its ``song.toml``.

    Returns
    -------
    ProjectFile

    Raises
    ------
    FormatError
        The file is missing, unreadable or malformed TOML; an asset is missing or broken.
    ModelError
        A value is out of range, a key or name is unknown, a reference dangles. The
        message is one line: ``<file>: <place>: <problem and fix>``.
    """
    given = Path(path)
    file = project_file_path(given)
    label = str(file)
    if not file.exists():
        if given.is_dir():
            raise FormatError(f"{given}: no {SONG_FILE} in this folder; create a project with "
                              f"`mixdown new {given}`", file)
        raise FormatError(f"{label}: no such file or folder", file)
    if file.is_dir():
        raise FormatError(f"{label}: is a folder; give the project folder or its {SONG_FILE}",
                          file)
    size = file.stat().st_size
    if size > MAX_PROJECT_BYTES:
        raise FormatError(f"{label}: {size} bytes is too large for a project file", file)
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{label}: byte {exc.start}: not UTF-8 text; save the file as UTF-8",
                          file) from None
    except OSError as exc:
        raise FormatError(f"{label}: cannot read ({exc.strerror or exc})", file) from None
    data = _load_toml(text, label)
    root = file.absolute().parent
    project = document_to_project(data, label=label)
    check_project(project, root, label=label)
    return ProjectFile(path=file.absolute(), root=root, project=project, text=text)


def load_project(path: str | Path) -> Project:
    """Load and check a project; the same as ``open_project(path).project``."""
    return open_project(path).project


def _load_toml(text: str, label: str) -> dict[str, Any]:
    """Parse TOML to plain data (the fast standard parser), errors as one line with the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        parse_document(text, label)  # tomlkit's messages say more; use them when it agrees
        m = re.match(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)$", str(exc))
        what, line, col = (m.group(1), m.group(2), m.group(3)) if m else (str(exc), None, None)
        what = what[:1].lower() + what[1:]
        if line is None:
            line = str(text.count("\n") + (0 if text.endswith("\n") else 1))
            what += " at the end of the file"
        else:
            what += f" at column {col}"
        raise FormatError(f"{label}: line {line}: malformed TOML ({what})", Path(label)) from None


def parse_document(text: str, label: str = SONG_FILE) -> tomlkit.TOMLDocument:
    """Parse TOML text, turning syntax errors into one-line FormatErrors with the line."""
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        line = getattr(exc, "line", None)
        what = re.sub(r" at line \d+ col \d+$", "", str(exc))
        m = re.match(r'Key "(.+)" already exists', what)
        if m:
            line = line if isinstance(exc, ParseError) else _second_definition(text, m.group(1))
            what = f"{m.group(1)!r} is defined twice; keep one"
        what = what.replace("Unexpected character: '\\x00'", "unexpected end of file")
        what = what[:1].lower() + what[1:]
        at = f" line {line}:" if line else ""
        raise FormatError(f"{label}:{at} malformed TOML ({what})", Path(label)) from None


def _second_definition(text: str, key: str) -> int | None:
    """The line where ``key`` is assigned a second time in the same table, if found."""
    pattern = re.compile(rf"^\s*(\"?){re.escape(key)}\1\s*=")
    seen = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("["):
            seen = False
        elif pattern.match(line):
            if seen:
                return number
            seen = True
    return None


def document_to_project(document: Mapping[str, Any], *, label: str = SONG_FILE) -> Project:
    """Map a parsed song.toml (tomlkit document or plain dict) to a validated Project.

    This checks the syntax and the model only: no device registry, no files. Use
    :func:`check_project` for those (``open_project`` does both).
    """
    raw = document.unwrap() if hasattr(document, "unwrap") else dict(document)
    where = _Where.of_raw(label, raw)
    _reject_non_finite(raw, (), where)
    data = _project_data(raw, where)
    bad = _check_types(Project, data, ())
    if bad is not None:
        loc, text = bad
        raise where.model_error(_toml_path(loc, raw), text)
    try:
        return Project.model_validate(data)
    except ValidationError as exc:
        raise _translate(exc, raw, where) from None


def _reject_non_finite(value: Any, path: tuple[str | int, ...], where: _Where) -> None:
    """TOML allows nan and inf; a song never needs them."""
    if isinstance(value, float) and not math.isfinite(value):
        raise where.model_error(path, f"must be a finite number, got {value}")
    if isinstance(value, Mapping):
        for k, v in value.items():
            _reject_non_finite(v, (*path, k), where)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _reject_non_finite(v, (*path, i), where)


def _project_data(raw: Mapping[str, Any], where: _Where) -> dict[str, Any]:
    """The TOML layout -> the model's input dict (names as in the model)."""
    for key in raw:
        if key not in TOP_KEYS:
            raise where.model_error((key,), f"unknown key{_closest(key, TOP_KEYS)}")
    data: dict[str, Any] = {}
    if "schema_version" in raw:
        data["schema_version"] = raw["schema_version"]
    if "song" in raw:
        data["song"] = raw["song"]
    for key, field, example in (("marker", "markers", '[[marker]] name = "Verse" at = "9:1"'),
                                ("track", "tracks", '[[track]] name = "Bass"'),
                                ("bus", "buses", '[[bus]] name = "Space"')):
        if key not in raw:
            continue
        items = raw[key]
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise where.model_error((key,), f"must be tables written as {example}")
        if key == "marker":
            data[field] = items
        else:
            data[field] = [_channel_data(c, (key, i), where) for i, c in enumerate(items)]
    if "master" in raw:
        master = raw["master"]
        if not isinstance(master, Mapping):
            raise where.model_error(("master",), "must be a table: [master]")
        data["master"] = _channel_data(master, ("master",), where)
    return data


def _channel_data(ch: Mapping[str, Any], path: tuple[str | int, ...],
                  where: _Where) -> dict[str, Any]:
    out = dict(ch)
    if isinstance(out.get("instrument"), Mapping):
        out["instrument"] = _device_data(out["instrument"])
    if "devices" in out:
        devices = out["devices"]
        if not isinstance(devices, list):
            raise where.model_error((*path, "devices"),
                                    'must be an array: devices = [{ type = "eq", ... }]')
        out["devices"] = [_device_data(d) if isinstance(d, Mapping) else d for d in devices]
    if "sends" in out:
        sends = out["sends"]
        if not isinstance(sends, Mapping):
            raise where.model_error((*path, "sends"), "must be a table of bus = level_db: "
                                    "sends = { Space = -12.0 }")
        converted = []
        for bus, send in sends.items():
            if isinstance(send, Mapping):
                if "to" in send:
                    raise where.model_error((*path, "sends", bus, "to"),
                                            "the bus is the key; remove 'to'")
                converted.append({"to": bus, **send})
            else:
                converted.append({"to": bus, "level_db": send})
        out["sends"] = converted
    if isinstance(out.get("clips"), list):
        out["clips"] = [_clip_data(c, (*path, "clips", i), where)
                        for i, c in enumerate(out["clips"])]
    if isinstance(out.get("automation"), list):
        out["automation"] = [_lane_data(a, (*path, "automation", i), where)
                             for i, a in enumerate(out["automation"])]
    return out


def _device_data(d: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: d[k] for k in DEVICE_KEYS if k in d}
    out["params"] = {k: v for k, v in d.items() if k not in DEVICE_KEYS}
    return out


def _clip_data(clip: Any, path: tuple[str | int, ...], where: _Where) -> Any:
    if not isinstance(clip, Mapping) or not isinstance(clip.get("notes"), list):
        return clip
    notes = []
    for i, note in enumerate(clip["notes"]):
        if isinstance(note, list):
            if not 3 <= len(note) <= 4:
                raise where.model_error(
                    (*path, "notes", i),
                    f"a note is [pitch, start, length] or [pitch, start, length, velocity], "
                    f"got {len(note)} values",
                )
            note = dict(zip(("pitch", "start", "length", "velocity"), note, strict=False))
        notes.append(note)
    return {**clip, "notes": notes}


def _lane_data(lane: Any, path: tuple[str | int, ...], where: _Where) -> Any:
    if not isinstance(lane, Mapping) or not isinstance(lane.get("points"), list):
        return lane
    points = []
    for i, point in enumerate(lane["points"]):
        if isinstance(point, list):
            if not 2 <= len(point) <= 3:
                raise where.model_error(
                    (*path, "points", i),
                    f"a point is [position, value] or [position, value, curve], "
                    f"got {len(point)} values",
                )
            point = dict(zip(("at", "value", "curve"), point, strict=False))
        points.append(point)
    return {**lane, "points": points}


# -- types: TOML is typed, so a string is not a number ------------------------------------------

_POSITION_HELP = "must be beats (16), 'bar:beat' ('5:1') or seconds ('12.5s')"


def _check_types(cls: type[BaseModel], data: Any,
                 loc: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], str] | None:
    """The first scalar of the wrong TOML type (pydantic would coerce '3' or true)."""
    if not isinstance(data, Mapping):
        return None
    for key, value in data.items():
        field = cls.model_fields.get(key) if isinstance(key, str) else None
        if field is None or (cls is Note and key == "pitch" and isinstance(value, str)):
            continue  # note names are parsed by the model
        bad = _check_value(field.annotation, value, (*loc, key))
        if bad is not None:
            return bad
    return None


def _check_value(ann: Any, value: Any,
                 loc: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], str] | None:
    origin, args = get_origin(ann), get_args(ann)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        members = [a for a in args if a is not type(None)]
        if set(members) == {float, str}:  # a position
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                return loc, f"{_POSITION_HELP}, got {_show(value)}"
            return None
        if len(members) == 1:
            return _check_value(members[0], value, loc)
        return None
    if ann is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return loc, f"must be a number, got {_show(value)}"
    elif ann is int:
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                isinstance(value, float) and not value.is_integer()):
            return loc, f"must be a whole number, got {_show(value)}"
    elif ann is bool:
        if not isinstance(value, bool):
            return loc, f"must be true or false, got {_show(value)}"
    elif ann is str:
        if not isinstance(value, str):
            return loc, f"must be a string, got {_show(value)}"
    elif isinstance(ann, type) and issubclass(ann, BaseModel):
        return _check_types(ann, value, loc)
    elif origin is tuple and isinstance(value, list | tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            for i, v in enumerate(value):
                bad = _check_value(args[0], v, (*loc, i))
                if bad is not None:
                    return bad
        elif len(args) == len(value):
            for i, (a, v) in enumerate(zip(args, value, strict=True)):
                bad = _check_value(a, v, (*loc, i))
                if bad is not None:
                    return bad
        else:
            return loc, f"must be an array of {len(args)} values, got {len(value)}"
    elif origin is dict and len(args) == 2 and args[1] is str and isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(v, str):
                return (*loc, k), f"must be a string, got {_show(v)}"
    return None


# -- pydantic errors -> one line -----------------------------------------------------------------

_UNION_TAGS = {"float", "str", "int", "bool", "none"}
_TOP_FIELDS = {"tracks": "track", "buses": "bus", "markers": "marker"}


def _toml_path(loc: Sequence[str | int], raw: Mapping[str, Any]) -> tuple[str | int, ...]:
    """A model location -> the same place in the TOML layout."""
    parts = [p for p in loc if not (isinstance(p, str) and (p in _UNION_TAGS or "[" in p))]
    if not parts:
        return ()
    head = parts[0]
    if head in _TOP_FIELDS and len(parts) > 1 and isinstance(parts[1], int):
        key = _TOP_FIELDS[str(head)]
        items = raw.get(key)
        item = items[parts[1]] if isinstance(items, list) and parts[1] < len(items) else {}
        rest = parts[2:] if key == "marker" else _channel_path(parts[2:], item)
        return (key, parts[1], *rest)
    if head == "master":
        master = raw.get("master")
        return ("master", *_channel_path(parts[1:], master if isinstance(master, Mapping) else {}))
    return tuple(parts)


def _channel_path(rest: Sequence[str | int], ch: Any) -> tuple[str | int, ...]:
    out = list(rest)
    if len(out) >= 3 and out[0] == "devices" and out[2] == "params":
        del out[2]
    elif len(out) >= 2 and out[0] == "instrument" and out[1] == "params":
        del out[1]
    elif len(out) >= 2 and out[0] == "sends" and isinstance(out[1], int):
        sends = ch.get("sends") if isinstance(ch, Mapping) else None
        names = list(sends) if isinstance(sends, Mapping) else []
        if out[1] < len(names):
            bus = names[out[1]]
            short = not isinstance(sends[bus], Mapping)  # type: ignore[index]
            out = ["sends", bus, *([] if short else out[2:])]
    return tuple(out)


def _class_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class holding the field at ``loc`` (for 'did you mean' on unknown keys)."""
    cls: type[BaseModel] = Project
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = cls.model_fields.get(part)
        if field is None:
            return None
        inner = _model_in(field.annotation)
        if inner is None:
            return None
        cls = inner
    return cls


def _model_in(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for a in get_args(ann):
        found = _model_in(a)
        if found is not None:
            return found
    return None


def _translate(exc: ValidationError, raw: Mapping[str, Any], where: _Where) -> ModelError:
    errors = exc.errors()
    first = errors[0]
    loc = first["loc"]
    same = [e for e in errors if _toml_path(e["loc"], raw) == _toml_path(loc, raw)]
    finite = [e for e in same if e["type"] == "finite_number"]
    err = finite[0] if finite else first
    path = _toml_path(err["loc"], raw)
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    field = path[-1] if path else ""
    if kind == "extra_forbidden":
        cls = _class_at(err["loc"])
        known = [f for f in cls.model_fields if f not in ("params", "to")] if cls else []
        if cls is Project:
            known = list(TOP_KEYS)
        return where.model_error(path, f"unknown key{_closest(str(field), known)}")
    if kind == "missing":
        example = {"name": 'name = "..."', "type": 'type = "..." (a device type)',
                   "param": 'param = "volume_db"', "points": 'points = [["1:1", 0.0]]'}
        return where.model_error(path, f"is required; add {example.get(str(field), field)}")
    if kind == "value_error":
        text = str(ctx.get("error", err["msg"]))
        if not path:  # project-wide checks already name their place
            return ModelError(f"{where.label}: {text}")
        return where.model_error(path, text)
    if len(same) > 1 and not finite and field in ("start", "at", "length"):
        return where.model_error(path, f"{_POSITION_HELP}, got {_show(value)}")
    messages = {
        "greater_than_equal": lambda: f"must be >= {_show(ctx.get('ge'))}, got {_show(value)}",
        "greater_than": lambda: f"must be > {_show(ctx.get('gt'))}, got {_show(value)}",
        "less_than_equal": lambda: f"must be <= {_show(ctx.get('le'))}, got {_show(value)}",
        "less_than": lambda: f"must be < {_show(ctx.get('lt'))}, got {_show(value)}",
        "finite_number": lambda: f"must be a finite number, got {value}",
        "literal_error": lambda: (
            f"must be {ctx.get('expected')}, got {_show(value)}"
            + ("; this version of mixdown reads schema_version 1"
               if field == "schema_version" else "")),
        "string_too_short": lambda: "must not be empty",
        "too_short": lambda: f"needs at least {ctx.get('min_length', 1)} item(s)",
        "model_type": lambda: f"must be a table, got {_show(value)}",
        "model_attributes_type": lambda: f"must be a table, got {_show(value)}",
        "dict_type": lambda: f"must be a table, got {_show(value)}",
        "tuple_type": lambda: f"must be an array, got {_show(value)}",
        "list_type": lambda: f"must be an array, got {_show(value)}",
        "int_from_float": lambda: f"must be a whole number, got {_show(value)}",
        "int_type": lambda: f"must be a whole number, got {_show(value)}",
        "float_type": lambda: f"must be a number, got {_show(value)}",
        "bool_type": lambda: f"must be true or false, got {_show(value)}",
        "string_type": lambda: f"must be a string, got {_show(value)}",
        "too_long": lambda: f"must have {ctx.get('max_length')} values",
    }
    text = messages[kind]() if kind in messages else err["msg"]
    return where.model_error(path, text)


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


# -- saving -------------------------------------------------------------------------------------


def save_project(project: Project, path: str | Path, *,
                 original: tomlkit.TOMLDocument | None = None) -> Path:
    """Write ``project`` to song.toml atomically, keeping the original's comments.

    Parameters
    ----------
    project : Project
    path : str or Path
        A project folder (writes ``song.toml`` in it) or the file to write.
    original : TOMLDocument, optional
        The document the project was loaded from. If None and the file exists, it is
        read and used, so unchanged parts keep their text byte for byte.

    Returns
    -------
    Path
        The file written.
    """
    file = project_file_path(path)
    if not file.parent.is_dir():
        raise FormatError(f"{file}: the folder {file.parent} does not exist", file)
    on_disk = None
    if original is None and file.is_file():
        try:
            on_disk = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            on_disk = None  # unreadable: the new project replaces it
    if on_disk is not None:
        text = _merge_text(project, on_disk)
        if text == on_disk:
            return file  # nothing changed: leave the file (and its mtime) alone
    else:
        text = _document_text(project, original)
    check = document_to_project(tomllib.loads(text), label=str(file))
    if check != project:
        raise ModelError(f"{file}: internal error: the saved text does not read back as the "
                         "same project; nothing was written")
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".part", dir=file.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        if file.exists():
            os.chmod(tmp, file.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, file)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return file


def _document_text(project: Project, original: tomlkit.TOMLDocument | None) -> str:
    """The text to save from a document: the original as is if the project did not change."""
    if original is None:
        return tomlkit.dumps(project_to_document(project))
    old = _parse_as(Project, original)
    if old is not None and old == project:
        return tomlkit.dumps(original)
    return tomlkit.dumps(project_to_document(project, original))


def _merge_text(project: Project, text: str) -> str:
    """The new text of a song.toml whose current text is ``text``.

    tomlkit cannot render a document whose ``[[track]]`` and ``[[bus]]`` tables are
    interleaved in their original order (it groups them), so such a file is split into
    its top-level sections, each parsed and updated on its own, and joined again in
    the file's order.
    """
    try:
        data = tomllib.loads(text)
        doc = tomlkit.parse(text)
    except (tomllib.TOMLDecodeError, TOMLKitError):
        return tomlkit.dumps(project_to_document(project))  # not TOML: replaced whole
    old = _parse_as(Project, data)
    if old is not None and old == project:
        return text
    if tomlkit.dumps(doc) != text:
        sections = _split_sections(text, data)
        if sections is not None:
            return _merge_sections(sections, project)
    _merge_spec(doc, project)
    return tomlkit.dumps(doc)


_HEADER = re.compile(
    r"^[ \t]*(\[\[?)[ \t]*([A-Za-z0-9_\-]+|\"[^\"\n]*\")"
    r"((?:[ \t]*\.[ \t]*(?:[A-Za-z0-9_\-]+|\"[^\"\n]*\"))*)[ \t]*\]\]?[ \t]*(?:#.*)?$"
)
_LISTS = (("marker", "markers"), ("track", "tracks"), ("bus", "buses"))


@dataclass
class _Section:
    """A top-level part of a song.toml: the preamble (top None) or a table with its
    sub-tables and the comment lines just above its header."""

    top: str | None
    aot: bool
    doc: tomlkit.TOMLDocument
    new: bool = False


def _split_sections(text: str, data: Mapping[str, Any]) -> list[_Section] | None:
    """The file's top-level sections, or None if they do not add up to the same data."""
    lines = text.splitlines(keepends=True)
    starts: list[tuple[int, str, bool]] = []
    current, previous = None, -1
    for i, line in enumerate(lines):
        m = _HEADER.match(line.rstrip("\r\n"))
        if not m:
            continue
        top, aot = m.group(2).strip('"'), m.group(1) == "[["
        if m.group(3) and top == current:
            previous = i
            continue  # a sub-table of the current element ([[track.clips]])
        begin = i  # the comment lines right above a header belong to it
        while begin - 1 > previous and lines[begin - 1].lstrip().startswith("#"):
            begin -= 1
        starts.append((begin, top, aot))
        current, previous = top, i
    if not starts:
        return None
    bounds = [0, *(b for b, _, _ in starts), len(lines)]
    kinds = [(None, False), *((t, a) for _, t, a in starts)]
    sections = []
    merged: dict[str, Any] = {}
    for (top, aot), a, b in zip(kinds, bounds[:-1], bounds[1:], strict=True):
        chunk = "".join(lines[a:b])
        try:
            doc = tomlkit.parse(chunk)
        except TOMLKitError:
            return None
        if tomlkit.dumps(doc) != chunk:
            return None
        plain = doc.unwrap()
        for k, v in plain.items():
            if aot and k == top and isinstance(v, list):
                merged.setdefault(k, []).extend(v)
            elif k in merged:
                return None  # a table split over sections: not handled here
            else:
                merged[k] = v
        sections.append(_Section(top, aot, doc))
    tops = [s.top for s in sections if s.top is not None and not s.aot]
    if merged != data or len(tops) != len(set(tops)):
        return None
    return sections


def _merge_sections(sections: list[_Section], project: Project) -> str:
    """Update each section in place, add and drop sections; the text in the file's order."""
    keys = dict(_layout_keys(project))
    layout = _layout(project)
    pre = sections[0]
    for key in ("schema_version", "song", "master"):
        holder = next((s for s in sections if key in s.doc), None)
        if holder is None:
            if key in keys:
                if key == "schema_version":
                    pre.doc[key] = _fresh(layout[key], 1)
                else:
                    sec = _Section(key, False, tomlkit.document(), new=True)
                    sec.doc[key] = _fresh(layout[key], 0)
                    sections.insert(1 if key == "song" else len(sections), sec)
            continue
        if key not in keys:
            del holder.doc[key]
            continue
        node = holder.doc[key]
        value = getattr(project, keys[key])
        result = (_merge_spec(node, value) if isinstance(value, Spec) and _is_table(node)
                  else _merged_value(node, layout[key], 1 if holder is pre else 0))
        if result is not node:
            holder.doc[key] = result
    for key, field in _LISTS:
        new = getattr(project, field) if key in keys else ()
        if key in pre.doc:  # written as an inline array in the preamble
            if new:
                _merge_seq(pre.doc[key], new, type(new[0]), 1)
            else:
                del pre.doc[key]
            continue
        _merge_list_sections(sections, key, new)
    out = ""
    live = [s for s in sections if s.top is None or s.new or s.top in s.doc]
    for i, sec in enumerate(live):
        chunk = tomlkit.dumps(sec.doc)
        if sec.new:
            if out and not out.endswith("\n\n"):
                out += "\n" if out.endswith("\n") else "\n\n"
            if i + 1 < len(live) and not chunk.endswith("\n\n"):
                chunk += "\n"
        out += chunk
    return out


def _merge_list_sections(sections: list[_Section], key: str, new: Sequence[Spec]) -> None:
    """Tracks, buses or markers spread over sections: matched by name, else by position."""
    owners = [(s, i) for s in sections if s.top == key and s.aot and key in s.doc
              for i in range(len(s.doc[key]))]
    old_names = [_plain(s.doc[key][i]).get("name") for s, i in owners]
    new_names = [getattr(x, "name", None) for x in new]
    by_name = (None not in old_names and None not in new_names
               and len(set(old_names)) == len(old_names) and len(set(new_names)) == len(new_names)
               and [n for n in old_names if n in new_names]
               == [n for n in new_names if n in old_names])
    if by_name:
        pairs = {old_names.index(n): j for j, n in enumerate(new_names) if n in old_names}
    else:
        pairs = {i: i for i in range(min(len(owners), len(new)))}
    for i in sorted(set(range(len(owners))) - set(pairs), reverse=True):
        sec, idx = owners[i]
        del sec.doc[key][idx]
        if not len(sec.doc[key]):
            del sec.doc[key]
    for i, j in pairs.items():
        sec, idx = owners[i]
        _merge_item(sec.doc[key], idx, new[j], type(new[j]), 0)
    # new items go after the item before them; the first ones before the first old one,
    # or, with none of this kind left, after the sections that come before this kind
    same = [k for k, s in enumerate(sections) if s.top == key]
    before = {"marker": (None, "song"), "track": (None, "song", "marker"),
              "bus": (None, "song", "marker", "track")}[key]
    anchor = same[0] - 1 if same else max(
        (k for k, s in enumerate(sections) if s.top in before), default=0)
    inverse = {j: i for i, j in pairs.items()}
    for j, item in enumerate(new):
        if j in inverse:
            anchor = sections.index(owners[inverse[j]][0])
            continue
        sec = _Section(key, True, tomlkit.document(), new=True)
        aot = tomlkit.aot()
        aot.append(_fresh(_layout(item), 0))
        sec.doc[key] = aot
        anchor += 1
        sections.insert(anchor, sec)


def project_to_document(project: Project,
                        original: tomlkit.TOMLDocument | None = None) -> tomlkit.TOMLDocument:
    """The song.toml document for ``project``.

    With ``original``, a copy of it is updated in place: values that did not change
    keep their text, comments and formatting; changed values are rewritten where they
    are; new items are appended; removed items are deleted. Only fields that were set
    (written by the user or given in Python) appear (``exclude_unset``).
    """
    # a deep copy of the original: the caller's document stays as it is
    doc = tomlkit.document() if original is None else tomlkit.parse(tomlkit.dumps(original))
    _merge_spec(doc, project)
    return doc


def _num(x: Any) -> Any:
    """Floats that are whole numbers are written as integers (``-6`` not ``-6.0``)."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
        return int(x)
    return x


_PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def _pitch_name(pitch: int) -> str:
    return f"{_PITCH_NAMES[pitch % 12]}{pitch // 12 - 1}"


_CHANNEL_ORDER = ("name", "instrument", "volume_db", "pan", "mute", "solo", "phase_invert",
                  "output", "devices", "sends", "clips", "automation")


def _layout_keys(obj: Spec) -> list[tuple[str, str]]:
    """(toml key, model field) pairs for the set fields of ``obj``, in writing order."""
    fields = [f for f in type(obj).model_fields
              if f in obj.model_fields_set and getattr(obj, f) is not None]  # TOML has no null
    if isinstance(obj, Project):  # no tracks is no [[track]] table (not `track = []`)
        order = ("schema_version", "song", "markers", "tracks", "buses", "master")
        names = {"markers": "marker", "tracks": "track", "buses": "bus"}
        return [(names.get(f, f), f) for f in order if f in fields and getattr(obj, f) != ()]
    if isinstance(obj, Channel | Master):
        rank = {k: i for i, k in enumerate(_CHANNEL_ORDER)}
        fields.sort(key=lambda f: rank.get(f, len(rank)))
    return [(f, f) for f in fields]


def _layout(value: Any) -> Any:
    """A model value -> plain TOML-layout data (only set fields)."""
    if isinstance(value, Device):
        out = {k: _layout(getattr(value, k)) for k in DEVICE_KEYS
               if k == "type" or (k in value.model_fields_set and getattr(value, k) is not None)}
        out.update({k: _layout(v) for k, v in value.params.items()})
        return out
    if isinstance(value, Note):
        note = [_pitch_name(value.pitch), _num(value.start), _num(value.length)]
        return [*note, value.velocity] if "velocity" in value.model_fields_set else note
    if isinstance(value, AutomationPoint):
        point = [_layout(value.at), _num(value.value)]
        return [*point, _num(value.curve)] if "curve" in value.model_fields_set else point
    if isinstance(value, Send):
        if value.model_fields_set <= {"to", "level_db"}:
            return _num(value.level_db)
        return {k: _layout(getattr(value, k)) for k in ("level_db", "pre_fader")
                if k in value.model_fields_set}
    if isinstance(value, Spec):
        out = {}
        for key, field in _layout_keys(value):
            v = getattr(value, field)
            if field == "sends":
                out[key] = {s.to: _layout(s) for s in v}
            else:
                out[key] = _layout(v)
        return out
    if isinstance(value, Mapping):
        return {k: _layout(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_layout(v) for v in value]
    return _num(value)


def _short_as_table(value: Note | AutomationPoint) -> dict[str, Any]:
    """A note or automation point in its table form (``{ pitch = "C4", ... }``)."""
    keys = ("pitch", "start", "length", "velocity") if isinstance(value, Note) else (
        "at", "value", "curve")
    return dict(zip(keys, _layout(value), strict=False))


def _fresh(value: Any, depth: int) -> Any:
    """A new tomlkit item for plain layout data: tables at the top, inline below.

    Inline values are written as text in the usual TOML style (``{ type = "eq" }``)
    and parsed, so that they look as a person would write them.
    """
    if depth == 0 and isinstance(value, Mapping):
        table = tomlkit.table()
        for k, v in value.items():
            table[k] = _fresh(v, 1)
        return table
    if depth == 0 and isinstance(value, list) and value and all(
            isinstance(v, Mapping) for v in value):
        aot = tomlkit.aot()
        for v in value:
            aot.append(_fresh(v, 0))
        return aot
    text = _inline_text(value)
    if depth == 1 and isinstance(value, list) and any(isinstance(v, Mapping | list)
                                                      for v in value) and (
            len(text) > 80 or len(value) > 3):
        text = "[\n" + "".join(f"    {_inline_text(v)},\n" for v in value) + "]"
    return tomlkit.parse(f"x = {text}\n")["x"]


def _inline_text(value: Any) -> str:
    """TOML text for a value on one line."""
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = ", ".join(f"{_key_text(k)} = {_inline_text(v)}" for k, v in value.items())
        return "{ " + items + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_inline_text(v) for v in value) + "]"
    return tomlkit.item(value).as_string()


def _key_text(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_\-]+", key) else json.dumps(key, ensure_ascii=False)


def _plain(node: Any) -> Any:
    return node.unwrap() if hasattr(node, "unwrap") else node


def _parse_as(kind: type[Spec], node: Any, key: str | None = None) -> Spec | None:
    """The model object a TOML node describes, or None if it does not validate."""
    plain = _plain(node)
    where = _Where("", {})
    try:
        if kind is Project:
            return document_to_project(plain)
        if kind in (Track, Bus, Master):
            data: Any = _channel_data(plain, (), where) if isinstance(plain, Mapping) else plain
        elif kind is Device:
            data = _device_data(plain) if isinstance(plain, Mapping) else plain
        elif kind is Send:
            data = {"to": key, **plain} if isinstance(plain, Mapping) else {
                "to": key, "level_db": plain}
        elif kind is Clip:
            data = _clip_data(plain, (), where)
        elif kind is AutomationLane:
            data = _lane_data(plain, (), where)
        elif kind is Note and isinstance(plain, list):
            data = dict(zip(("pitch", "start", "length", "velocity"), plain, strict=False))
        elif kind is AutomationPoint and isinstance(plain, list):
            data = dict(zip(("at", "value", "curve"), plain, strict=False))
        else:
            data = plain
        if _check_types(kind, data, ()) is not None:
            return None
        return kind.model_validate(data)
    except (ValidationError, MixdownError, TypeError, ValueError):
        return None


def _field_model(cls: type[Spec], field: str) -> tuple[str, type[Spec] | None]:
    """How a field is laid out: ('spec'|'seq'|'sends'|'plain', model class)."""
    if field == "sends":
        return "sends", Send
    ann = cls.model_fields[field].annotation
    inner = _model_in(ann)
    if inner is None:
        return "plain", None
    if get_origin(ann) is tuple:
        return "seq", inner  # type: ignore[return-value]
    return "spec", inner  # type: ignore[return-value]


def _is_table(node: Any) -> bool:
    return isinstance(node, MutableMapping)


def _is_array(node: Any) -> bool:
    return isinstance(node, MutableSequence)


def _merge_spec(table: MutableMapping[str, Any], new: Spec) -> Any:
    """Make ``table`` describe ``new``, touching only what differs; returns the node to keep
    (``table`` itself, or a tidy replacement for an inline table that lost keys)."""
    old = _parse_as(type(new), table)
    if old is not None and old == new:
        return table
    if isinstance(new, Device):
        return _merge_plain(table, _layout(new))
    keys = _layout_keys(new)
    wanted = {k for k, _ in keys}
    deleted = [k for k in table if k not in wanted]
    for k in deleted:
        del table[k]
    depth = 0 if isinstance(new, Project) else 2 if isinstance(table, InlineTable) else 1
    for key, field in keys:
        value = getattr(new, field)
        if key not in table:
            table[key] = _fresh(_layout_field(new, field), depth)
            continue
        how, cls = _field_model(type(new), field)
        node = table[key]
        if how == "spec" and _is_table(node):
            result = _merge_spec(node, value)
        elif how == "seq" and _is_array(node) and cls is not None:
            result = _merge_seq(node, value, cls, depth)
        elif how == "sends" and _is_table(node):
            result = _merge_sends(node, value)
        elif how == "plain":
            result = _merged_value(node, _layout(value), depth)
        else:
            result = _fresh(_layout_field(new, field), depth)
        if result is not node:
            table[key] = result
    return _tidy(table, deleted)


def _tidy(table: Any, deleted: Sequence[str]) -> Any:
    """An inline table that lost keys, rewritten from its remaining items' own text."""
    if not deleted or not isinstance(table, InlineTable):
        return table
    items = [f"{_key_text(k.key)} = {v.as_string()}" for k, v in table.value.body
             if k is not None]
    text = "{ " + ", ".join(items) + " }" if items else "{}"
    return tomlkit.parse(f"x = {text}\n")["x"]


def _layout_field(obj: Spec, field: str) -> Any:
    value = getattr(obj, field)
    if field == "sends":
        return {s.to: _layout(s) for s in value}
    return _layout(value)


def _merged_value(node: Any, new: Any, depth: int) -> Any:
    if _plain(node) == new:
        return node
    if _is_table(node) and isinstance(new, Mapping):
        return _merge_plain(node, new)
    return _fresh(new, depth)


def _merge_plain(table: MutableMapping[str, Any], new: Mapping[str, Any]) -> Any:
    deleted = [k for k in table if k not in new]
    for k in deleted:
        del table[k]
    for k, v in new.items():
        if k not in table:
            table[k] = _fresh(v, 2)
            continue
        node = table[k]
        result = _merged_value(node, v, 2)
        if result is not node:
            table[k] = result
    return _tidy(table, deleted)


def _merge_seq(arr: MutableSequence[Any], new: Sequence[Spec], cls: type[Spec],
               depth: int) -> Any:
    """Merge a sequence element by element; named items (tracks, buses, markers) are matched
    by name, so that adding or removing one leaves the others and their comments alone."""
    is_aot = isinstance(arr, AoT)
    if not _merge_by_name(arr, new, depth):
        for i in range(len(arr) - 1, len(new) - 1, -1):
            del arr[i]
        for i in range(len(arr)):
            _merge_item(arr, i, new[i], cls, depth)
    for item in new[len(arr):]:
        if is_aot:
            _append_table(arr, _fresh(_layout(item), 0))
        else:
            arr.append(_fresh(_layout(item), depth + 1))
    return arr


def _merge_item(arr: MutableSequence[Any], i: int, new: Spec, cls: type[Spec],
                depth: int) -> None:
    node = arr[i]
    old = _parse_as(cls, node)
    if old is not None and old == new:
        return
    if _is_table(node) and cls not in (Note, AutomationPoint):
        result = _merge_spec(node, new)
    elif _is_table(node):  # a note or point the user wrote as a table stays a table
        result = _fresh(_short_as_table(new), depth + 1)  # type: ignore[arg-type]
    else:
        result = _fresh(_layout(new), 0 if isinstance(arr, AoT) else depth + 1)
    if result is not node:
        arr[i] = result


def _merge_by_name(arr: MutableSequence[Any], new: Sequence[Spec], depth: int) -> bool:
    """Match items by unique ``name`` when both sides have one and the order is kept."""
    if not new or not hasattr(new[0], "name"):
        return False
    old_names = [_plain(n).get("name") if isinstance(_plain(n), Mapping) else None for n in arr]
    new_names = [getattr(x, "name", None) for x in new]
    if (None in old_names or None in new_names or len(set(old_names)) != len(old_names)
            or len(set(new_names)) != len(new_names)):
        return False
    if [n for n in old_names if n in new_names] != [n for n in new_names if n in old_names]:
        return False  # reordered: merge by position
    for i in range(len(arr) - 1, -1, -1):
        if old_names[i] not in new_names:
            del arr[i]
    cls = type(new[0])
    for j, item in enumerate(new):
        if item.name in old_names:  # type: ignore[attr-defined]
            _merge_item(arr, j, item, cls, depth)
        elif j < len(arr):
            if isinstance(arr, AoT):
                table = _fresh(_layout(item), 0)
                table.add(tomlkit.nl())
                arr.insert(j, table)
            else:
                arr.insert(j, _fresh(_layout(item), depth + 1))
        else:
            return True  # the rest are appended by the caller
    return True


def _append_table(aot: Any, table: Any) -> None:
    """Append to an array of tables, keeping one blank line between tables."""
    if len(aot):
        last = aot[-1]
        if last.as_string().endswith("\n\n"):
            table.add(tomlkit.nl())  # more follows in the file: keep the gap after us too
        else:
            last.add(tomlkit.nl())
    aot.append(table)


def _merge_sends(table: MutableMapping[str, Any], new: Sequence[Send]) -> Any:
    wanted = [s.to for s in new]
    deleted = [k for k in table if k not in wanted]
    for k in deleted:
        del table[k]
    for send in new:
        if send.to in table:
            old = _parse_as(Send, table[send.to], send.to)
            if old is not None and old == send:
                continue
        table[send.to] = _fresh(_layout(send), 2)
    return _tidy(table, deleted)


# -- documentation ------------------------------------------------------------------------------


def device_reference_markdown() -> str:
    """The device and instrument parameter tables of docs/song-format.md, from the registry."""
    from mixdown.dsp.base import DEVICES, load_builtin_devices

    load_builtin_devices()
    lines = [_DOC_BEGIN, ""]
    for kind, title in (("instrument", "Instruments"), ("effect", "Effects")):
        infos = sorted((i for i in DEVICES.values() if i.kind == kind), key=lambda i: i.type)
        lines += [f"### {title}", ""]
        if not infos:
            lines += ["(none registered)", ""]
        for info in infos:
            extra = " Takes a `sidechain` (a track or bus name)." if info.sidechain else ""
            lines += [f"#### `{info.type}`", "", f"{_one_line(info.doc)}{extra}", ""]
            if not info.params:
                lines += ["No parameters.", ""]
                continue
            lines += ["| parameter | default | range | automatable | description |",
                      "|---|---|---|---|---|"]
            names = {p.name for p in info.params}
            source = next((n for n in ("preset", "kit") if n in names), None)
            for p in info.params:
                default = (f"from `{source}`" if p.default is None and source
                           else _md_value(p.default))
                lines.append(f"| `{p.name}` | {default} | {_md_range(p)} | "
                             f"{'yes' if p.automatable and p.kind in ('float', 'int') else 'no'}"
                             f" | {_one_line(p.doc)} |")
            lines.append("")
    lines.append(_DOC_END)
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _md_value(value: Any) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, list | tuple | dict):
        return f"`{json.dumps(value if isinstance(value, dict) else list(value))}`"
    return f"`{value}`"


def _md_range(p: Any) -> str:
    if p.kind == "choice":
        return ", ".join(f"`{c}`" for c in p.choices)
    if p.kind == "bool":
        return "true/false"
    if p.kind == "str":
        return "text"
    if p.kind == "any":
        return "see description"
    lo = "−∞" if p.min is None else f"{p.min:g}"
    hi = "∞" if p.max is None else f"{p.max:g}"
    return f"{lo} … {hi}" + (" (whole)" if p.kind == "int" else "")


def update_device_reference(doc_path: str | Path) -> bool:
    """Rewrite the generated block of ``doc_path`` (docs/song-format.md); True if it changed."""
    path = Path(doc_path)
    text = path.read_text(encoding="utf-8")
    start, end = text.find(_DOC_BEGIN), text.find(_DOC_END)
    if start < 0 or end < start:
        raise FormatError(f"{path}: the generated device reference markers are missing", path)
    new = text[:start] + device_reference_markdown() + text[end + len(_DOC_END) + 1:]
    if new == text:
        return False
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, path)
    return True
