"""Save a project as ``song.toml``, merged into the file on disk so that everything that
did not change keeps its text, comments and formatting byte for byte."""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_origin

import tomlkit
from pydantic import BaseModel, ValidationError
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, InlineTable

from mixdown.core.errors import FormatError, MixdownError, ModelError
from mixdown.io.places import DEVICE_KEYS, Where
from mixdown.io.project import (
    _channel_data,
    _check_types,
    _clip_data,
    _device_data,
    _lane_data,
    _model_in,
    document_to_project,
    project_file_path,
)
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
        text = project_text(project, on_disk, label=str(file))
        if text == on_disk:
            return file  # nothing changed: leave the file (and its mtime) alone
    else:
        text = _document_text(project, original)
        _check_reads_back(project, text, str(file))
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


def project_text(project: Project, current: str | None, *, label: str = "song.toml") -> str:
    """The song.toml text for ``project``, written over a file whose text is ``current``.

    Comments and layout of ``current`` are kept; unchanged parts keep their text byte for
    byte (an unchanged project gives ``current`` back). Nothing is written: this is the
    text :func:`save_project` would write, for callers that check it first (the studio's
    edits, :mod:`mixdown.services.history`).

    Raises
    ------
    ModelError
        The text would not read back as the same project (an internal error).
    """
    text = (_merge_text(project, current) if current is not None
            else tomlkit.dumps(project_to_document(project)))
    if text != current:
        _check_reads_back(project, text, label)
    return text


def _check_reads_back(project: Project, text: str, label: str) -> None:
    if document_to_project(tomllib.loads(text), label=label) != project:
        raise ModelError(f"{label}: internal error: the saved text does not read back as the "
                         "same project; nothing was written")


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
    for key in ("schema_version", "song", "clips", "master"):
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
        order = ("schema_version", "song", "clips", "markers", "tracks", "buses", "master")
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
    if isinstance(value, BaseModel):  # Spec, and the Voicing and Arp tables
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
    where = Where("", {})
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
    if get_origin(ann) is dict:  # clip definitions by name: plain tables
        return "plain", None
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
