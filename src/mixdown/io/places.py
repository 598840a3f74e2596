"""Human names for places in ``song.toml`` (``track "Bass", devices[1].ratio``) and the
helpers that word errors around them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mixdown.core.errors import FormatError, ModelError
from mixdown.model.project import (
    Project,
)

SONG_FILE = "song.toml"

DEVICE_KEYS = ("type", "name", "bypass")
"""Keys of a device or instrument table that are not parameters."""

ASSET_KEY = re.compile(r"^(file|\w+_file)$")
"""Device parameters (at any depth) whose string value is a project file to check."""

# -- where: human names for places in the file -------------------------------------------------


class Where:
    """Formats places in a project as people read them: ``track "Bass", devices[1].ratio``."""

    def __init__(self, label: str, names: Mapping[str, Sequence[Any]]) -> None:
        self.label = label
        self.names = names

    @classmethod
    def of_raw(cls, label: str, raw: Mapping[str, Any]) -> Where:
        names = {}
        for key in ("track", "bus", "marker"):
            items = raw.get(key)
            items = items if isinstance(items, list) else []
            names[key] = [i.get("name") if isinstance(i, Mapping) else None for i in items]
        return cls(label, names)

    @classmethod
    def of_project(cls, label: str, project: Project) -> Where:
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


def line_of(text: str | None, path: Sequence[str | int]) -> int | None:
    """The line of ``song.toml`` text where the place ``path`` is written, if it can be told.

    The table (``[song]``, the i-th ``[[track]]``...) is found by its header; inside it, the
    line that assigns the first key of ``path`` after the table (``devices = [...]``). A
    place the text does not show (a default value) gives the table's header line.
    """
    if not text or not path:
        return None
    head = path[0]
    if head in ("track", "bus", "marker") and len(path) > 1 and isinstance(path[1], int):
        header = re.compile(rf"^\s*\[\[\s*{head}\s*\]\]")
        nth, rest = path[1], path[2:]
    elif head in ("song", "master"):
        header = re.compile(rf"^\s*\[\s*{head}\s*\]")
        nth, rest = 0, path[1:]
    elif head == "clips" and len(path) > 1 and isinstance(path[1], str):
        return _line_of_definition(text, path[1], path[2:])
    else:
        return None
    lines = text.splitlines()
    seen = -1
    start = None
    for i, line in enumerate(lines):
        if header.match(line):
            seen += 1
            if seen == nth:
                start = i
                break
    if start is None:
        return None
    if len(rest) >= 2 and rest[0] in ("clips", "takes", "comp") and isinstance(rest[1], int):
        found = _line_in_subtable(lines, start, f"{head}.{rest[0]}", rest[1], rest[2:])
        if found is not None:
            return found
    key = next((p for p in rest if isinstance(p, str)), None)
    if key is not None:
        assign = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
        for j in range(start + 1, len(lines)):
            if lines[j].lstrip().startswith("["):
                break
            if assign.match(lines[j]):
                return j + 1
    return start + 1


def _key_line(lines: list[str], start: int, rest: Sequence[str | int]) -> int:
    """The line (1-based) assigning the first key of ``rest`` in the table whose header is
    line ``start`` (0-based), else the header's line."""
    key = next((p for p in rest if isinstance(p, str)), None)
    if key is not None:
        assign = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
        for j in range(start + 1, len(lines)):
            if lines[j].lstrip().startswith("["):
                break
            if assign.match(lines[j]):
                return j + 1
    return start + 1


def _line_in_subtable(lines: list[str], start: int, dotted: str, nth: int,
                      rest: Sequence[str | int]) -> int | None:
    """The line of ``rest`` in the ``nth`` ``[[track.clips]]`` table after line ``start``."""
    parts = r"\s*\.\s*".join(re.escape(p) for p in dotted.split("."))
    header = re.compile(rf"^\s*\[\[\s*{parts}\s*\]\]")
    seen = -1
    for i in range(start + 1, len(lines)):
        stripped = lines[i].lstrip()
        if header.match(lines[i]):
            seen += 1
            if seen == nth:
                return _key_line(lines, i, rest)
        elif stripped.startswith("[") and not stripped.startswith("[["):
            return None
        elif stripped.startswith("[[") and "." not in stripped.split("]")[0]:
            return None  # the next [[track]]
    return None


def _line_of_definition(text: str, name: str, rest: Sequence[str | int]) -> int | None:
    """The line of ``rest`` in the clip definition ``name`` (``[clips.NAME]`` or a key of
    ``[clips]``)."""
    lines = text.splitlines()
    quoted = rf"(?:{re.escape(name)}|\"{re.escape(name)}\")"
    own = re.compile(rf"^\s*\[\s*clips\s*\.\s*{quoted}\s*\]")
    table = re.compile(r"^\s*\[\s*clips\s*\]")
    for i, line in enumerate(lines):
        if own.match(line):
            return _key_line(lines, i, rest)
    for i, line in enumerate(lines):
        if table.match(line):
            return _key_line(lines, i, [name])
    return None


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
