"""The device and instrument parameter tables of ``docs/song-format.md``, generated from
the registry so that the docs cannot drift."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mixdown.core.errors import FormatError

_DOC_BEGIN = "<!-- BEGIN GENERATED DEVICE REFERENCE: do not edit by hand -->"
_DOC_END = "<!-- END GENERATED DEVICE REFERENCE -->"


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
