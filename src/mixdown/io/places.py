"""Human names for places in ``song.toml`` (``track "Bass", devices[1].ratio``) and the
helpers that word errors around them."""

from __future__ import annotations

import difflib
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

FALLBACK_DRUM_NOTES: dict[str, int] = {
    "kick": 36, "snare": 38, "clap": 39, "hat": 42, "closed_hat": 42, "open_hat": 46,
    "tom_low": 45, "tom_mid": 47, "tom_high": 50, "rim": 37, "cowbell": 56, "crash": 49,
    "ride": 51, "perc": 56,
}
"""The drum voice table, used only while ``mixdown.dsp.instruments.drums`` is absent."""


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
