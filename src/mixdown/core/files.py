"""Atomic file writes: a temp file beside the target, renamed over it only when complete."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mixdown.core.errors import FormatError


def _umask_mode() -> int:
    """The mode a plain ``open()`` would give a new file (0666 minus the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _temp_beside(dest: Path) -> Path:
    """A new empty temporary file in ``dest``'s folder, with the usual permissions."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    os.chmod(tmp, _umask_mode())
    return Path(tmp)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; rename it over ``path`` if the block succeeds."""
    dest = Path(path)
    if not dest.parent.is_dir():
        raise FormatError(f"{dest}: the folder {dest.parent} does not exist", dest)
    tmp_path = _temp_beside(dest)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        tmp_path.unlink(missing_ok=True)


__all__ = ["atomic_path"]
