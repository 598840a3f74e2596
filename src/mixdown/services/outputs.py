"""What a command owns on disk, and how it replaces it.

The one overwrite rule of every command: what a command owns (its output file, that file's
QC sidecar, its stems folder) is replaced atomically, the old one intact until the new one is
complete; a folder that may hold files the command did not write (a delivery or an album
folder) is replaced only when asked (``force``). A missing output folder is created, and
removed again if the command fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mixdown.core.errors import FormatError, MixdownError


def qc_path_for(output: str | Path) -> Path:
    """The QC sidecar of an output, named after the whole file: ``mix.wav`` ->
    ``mix.wav.qc.json`` (so ``mix.wav`` and ``mix.mp3`` keep one each)."""
    out = Path(output)
    return out.with_name(out.name + ".qc.json")


def stems_folder(output: str | Path) -> Path:
    """``mix.wav`` -> ``mix.stems/``."""
    out = Path(output)
    return out.with_name(out.stem + ".stems")


def check_output_file(output: Path) -> None:
    """Refuse an output that is a folder."""
    if output.is_dir():
        raise FormatError(f"{output}: is a folder; give a file name such as "
                          f"{output / 'mix.wav'}", output)


@contextlib.contextmanager
def output_folder(folder: str | Path) -> Iterator[Path]:
    """Make sure ``folder`` exists for the body; folders created here are removed again if
    the body fails (and they are still empty)."""
    path = Path(folder) if str(folder) else Path(".")
    created: list[Path] = []
    p = path
    while not p.exists():
        created.append(p)
        if p.parent == p:
            break
        p = p.parent
    if p.exists() and not p.is_dir():
        raise FormatError(f"{path}: {p} is a file, not a folder", path)
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    except BaseException:
        for c in created:  # deepest first
            with contextlib.suppress(OSError):
                c.rmdir()
        raise


@contextlib.contextmanager
def replaced_folder(dest: Path) -> Iterator[Path]:
    """Yield a new empty folder beside ``dest``; when the body succeeds it replaces ``dest``
    (and whatever ``dest`` held); when it fails, ``dest`` is left as it was."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    try:
        yield tmp
        old = None
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
            os.replace(dest, old / dest.name)
        os.replace(tmp, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def claim_folder(folder: Path, *, force: bool, what: str) -> None:
    """A folder a command fills with many files (a delivery, an album): it must be new or
    empty, or ``force`` replaces what it holds."""
    if folder.exists() and not folder.is_dir():
        raise FormatError(f"{folder}: exists and is not a folder", folder)
    if folder.exists() and any(folder.iterdir()) and not force:
        raise MixdownError(f"{folder}: exists and is not empty; choose another folder or "
                           f"pass --force to replace the {what} there")


__all__ = ["check_output_file", "claim_folder", "output_folder", "qc_path_for",
           "replaced_folder", "stems_folder"]
