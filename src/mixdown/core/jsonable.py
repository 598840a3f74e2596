"""Strict JSON: non-finite floats become ``null``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

_CHUNK = 4096


def to_jsonable(value: Any) -> Any:
    """Replace non-finite floats by None (JSON ``null``), recursively; tuples become lists."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy scalar or array
        return to_jsonable(value.tolist())
    return value


def write_json(value: Any, stream: TextIO, *, indent: int = 2) -> None:
    """Write ``value`` as strict JSON, the text of ``json.dumps(to_jsonable(value), indent=2)``.

    Streams: long sequences that are not lists or tuples (a loudness series of a
    10-hour file: millions of rows) are read and written a slice at a time, so memory
    stays flat however long they are. Ends with a newline.
    """
    _write(value, stream, indent, 0)
    stream.write("\n")


def _write(value: Any, out: TextIO, indent: int, level: int) -> None:
    pad = " " * (indent * (level + 1))
    if isinstance(value, Mapping):
        if not value:
            out.write("{}")
            return
        out.write("{")
        for i, (k, v) in enumerate(value.items()):
            out.write(("," if i else "") + "\n" + pad + json.dumps(str(k)) + ": ")
            _write(v, out, indent, level + 1)
        out.write("\n" + " " * (indent * level) + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.write("[]")
            return
        out.write("[")
        for i, v in enumerate(value):
            out.write(("," if i else "") + "\n" + pad)
            _write(v, out, indent, level + 1)
        out.write("\n" + " " * (indent * level) + "]")
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        n = len(value)
        if not n:
            out.write("[]")
            return
        out.write("[")
        for start in range(0, n, _CHUNK):
            rows = to_jsonable(list(value[start : start + _CHUNK]))
            text = json.dumps(rows, indent=indent, allow_nan=False)
            body = text[1:-1].rstrip()  # drop the brackets, keep the rows' own layout
            out.write(("," if start else "") + body.replace("\n", "\n" + " " * (indent * level)))
        out.write("\n" + " " * (indent * level) + "]")
    else:
        plain = to_jsonable(value)  # a scalar, or a numpy array turned into lists
        if isinstance(plain, list):
            _write(plain, out, indent, level)
        else:
            out.write(json.dumps(plain, allow_nan=False))
