"""Strict JSON: non-finite floats become ``null``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


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
