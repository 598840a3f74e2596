"""``song.toml``: load, validate and save projects, keeping the user's comments.

The TOML layout is the one documented in ``docs/song-format.md``: ``[song]``,
``[[marker]]``, ``[[track]]``, ``[[bus]]`` and ``[master]``; devices and instruments are
flat tables (``{ type = "compressor", threshold_db = -18 }``), sends a table keyed by bus
name, notes and automation points short arrays. This module maps that layout to the
:class:`~mixdown.model.project.Project` model and back.

Loading here checks the TOML syntax and the model's rules; a failure is one line naming
the file, the place and the fix::

    song.toml: track "Bass": volume_db: must be <= 24, got 30

Everything beyond the model (devices against the registry, drum voices, automation
targets, positions against the song's maps, the referenced files) is checked once, by
:func:`mixdown.resolve.resolve_project`; :func:`mixdown.resolve.open_project` loads and
checks in one call. Saving (which keeps comments and formatting) lives in
:mod:`mixdown.io.project_save`, the generated parameter tables of the docs in
:mod:`mixdown.io.project_docs`, and the wording of places in the file in
:mod:`mixdown.io.places`.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import tomlkit
from pydantic import BaseModel, ValidationError
from tomlkit.exceptions import ParseError, TOMLKitError

from mixdown.core.errors import FormatError, ModelError
from mixdown.core.names import closest
from mixdown.io.places import (
    DEVICE_KEYS,
    SONG_FILE,
    Where,
    _show,
)
from mixdown.model.modulators import MODULATOR_TYPES
from mixdown.model.project import (
    Note,
    Project,
)

MAX_PROJECT_BYTES = 16 * 1024 * 1024
"""A song.toml larger than this is refused (a real one is kilobytes)."""

TOP_KEYS = ("schema_version", "song", "clips", "marker", "track", "bus", "master")
"""The top-level keys of song.toml."""


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


# -- loading ------------------------------------------------------------------------------------


def project_file_path(path: str | Path) -> Path:
    """The song.toml for PROJECT (a folder or its song.toml), as given (not resolved)."""
    p = Path(path)
    if p.is_dir():
        return p / SONG_FILE
    return p


def open_project(path: str | Path) -> ProjectFile:
    """Load and validate a project (syntax and model; :func:`mixdown.resolve.open_project`
    also checks it against the registry and its files).

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
        The file is missing, unreadable or malformed TOML.
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
    if _is_audio(file):
        raise FormatError(f"{label}: is an audio file, not a project; give a project folder or "
                          f"its {SONG_FILE}", file)
    size = file.stat().st_size
    if size > MAX_PROJECT_BYTES:
        raise FormatError(f"{label}: {size} bytes is too large for a project file", file)
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        if file.suffix.lower() != ".toml":
            raise FormatError(f"{label}: is not a project (binary data at byte {exc.start}); "
                              f"give a project folder or its {SONG_FILE}", file) from None
        raise FormatError(f"{label}: byte {exc.start}: not UTF-8 text; save the file as UTF-8",
                          file) from None
    except OSError as exc:
        raise FormatError(f"{label}: cannot read ({exc.strerror or exc})", file) from None
    data = _load_toml(text, label)
    root = file.absolute().parent
    project = document_to_project(data, label=label)
    return ProjectFile(path=file.absolute(), root=root, project=project, text=text)


_AUDIO_SUFFIXES = (".wav", ".wave", ".flac", ".mp3", ".aif", ".aiff", ".ogg", ".m4a")
_AUDIO_MAGIC = (b"RIFF", b"RF64", b"fLaC", b"ID3", b"OggS", b"FORM", b"\xff\xfb", b"\xff\xf3")


def _is_audio(file: Path) -> bool:
    """True for a file that is plainly audio (by its name or its first bytes)."""
    if file.suffix.lower() in _AUDIO_SUFFIXES:
        return True
    try:
        with file.open("rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head.startswith(_AUDIO_MAGIC)


def load_project(path: str | Path) -> Project:
    """Load and validate a project; the same as ``open_project(path).project``."""
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
        if "control characters" in what.lower() and "\\u000a" in what:
            what = ("unterminated string: a string in quotes must end on the line where it "
                    'starts; close it, or use """ for text over several lines')
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

    This checks the syntax and the model only: no device registry, no files
    (:func:`mixdown.resolve.resolve_project` checks those).
    """
    raw = document.unwrap() if hasattr(document, "unwrap") else dict(document)
    where = Where.of_raw(label, raw)
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


def _reject_non_finite(value: Any, path: tuple[str | int, ...], where: Where) -> None:
    """TOML allows nan and inf; a song never needs them."""
    if isinstance(value, float) and not math.isfinite(value):
        raise where.model_error(path, f"must be a finite number, got {value}")
    if isinstance(value, Mapping):
        for k, v in value.items():
            _reject_non_finite(v, (*path, k), where)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _reject_non_finite(v, (*path, i), where)


def _project_data(raw: Mapping[str, Any], where: Where) -> dict[str, Any]:
    """The TOML layout -> the model's input dict (names as in the model)."""
    for key in raw:
        if key not in TOP_KEYS:
            raise where.model_error((key,), f"unknown key{closest(key, TOP_KEYS)}")
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
    if "clips" in raw:
        defs = raw["clips"]
        if not isinstance(defs, Mapping) or not all(isinstance(d, Mapping)
                                                    for d in defs.values()):
            raise where.model_error(("clips",), "must be tables of clip definitions written "
                                    "as [clips.bassline] notes = [...]")
        data["clips"] = {name: _clip_data(d, ("clips", name), where)
                         for name, d in defs.items()}
    if "master" in raw:
        master = raw["master"]
        if not isinstance(master, Mapping):
            raise where.model_error(("master",), "must be a table: [master]")
        data["master"] = _channel_data(master, ("master",), where)
    return data


def _channel_data(ch: Mapping[str, Any], path: tuple[str | int, ...],
                  where: Where) -> dict[str, Any]:
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


def _clip_data(clip: Any, path: tuple[str | int, ...], where: Where) -> Any:
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


def _lane_data(lane: Any, path: tuple[str | int, ...], where: Where) -> Any:
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
    elif (origin is dict and len(args) == 2 and isinstance(args[1], type)
          and issubclass(args[1], BaseModel) and isinstance(value, Mapping)):
        for k, v in value.items():
            bad = _check_types(args[1], v, (*loc, k))
            if bad is not None:
                return bad
    elif origin is dict and len(args) == 2 and args[1] is str and isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(v, str):
                return (*loc, k), f"must be a string, got {_show(v)}"
    return None


# -- pydantic errors -> one line -----------------------------------------------------------------

_UNION_TAGS = {"float", "str", "int", "bool", "none", *MODULATOR_TYPES}
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
    named = False  # the part after a field holding a table of models by name (clips)
    for part in loc[:-1]:
        if isinstance(part, int) or named:
            named = False
            continue
        field = cls.model_fields.get(part)
        if field is None:
            return None
        inner = _model_in(field.annotation)
        if inner is None:
            return None
        named = get_origin(field.annotation) is dict
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


def _translate(exc: ValidationError, raw: Mapping[str, Any], where: Where) -> ModelError:
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
        return where.model_error(path, f"unknown key{closest(str(field), known)}")
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


__all__ = [
    "ProjectFile", "document_to_project", "load_project", "open_project", "parse_document",
    "project_file_path",
]
