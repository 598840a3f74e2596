"""Where things are: songs under the songs folder, versions and references in the store.

Every name that comes from outside (a URL, a form) goes through :func:`song_folder`, which
accepts only a plain folder name that is a real project directly under the songs folder
(no separators, no ``..``, no hidden names, no symlink leading elsewhere); anything else is
:class:`NotFound` before a file is opened. Store paths are built from database rows only,
and checked to stay inside the store.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mixdown.review.errors import NotFound

SONG_FILE = "song.toml"
STORE_DIRNAME = ".mixdown-studio"
"""The versions store, beside the SQLite database (or in the songs folder)."""
MAX_NAME_LEN = 255


def valid_song_name(name: object) -> bool:
    """True for a plain folder name: no separators, no NUL, not hidden, not ``.``/``..``."""
    return (isinstance(name, str) and 0 < len(name) <= MAX_NAME_LEN
            and "/" not in name and "\\" not in name and "\x00" not in name
            and not name.startswith(".") and name.strip() == name and name.isprintable())


def song_folder(songs: Path, name: str) -> Path:
    """The project folder of song ``name`` under ``songs`` (resolved).

    Raises
    ------
    NotFound
        For a name that is not a project folder directly under ``songs`` (a real folder,
        not a symlink, holding a regular ``song.toml``); nothing is read.
    """
    if not valid_song_name(name):
        raise NotFound(f"no song {_shown(name)} in {songs}")
    root = songs.resolve()
    folder = root / name
    if not _is_project(str(folder)):
        raise NotFound(f"no song {_shown(name)} in {songs}")
    return folder


def _is_project(folder: str) -> bool:
    """A real folder (not a symlink) holding a regular song.toml (not a symlink)."""
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return False
        return stat.S_ISREG(os.lstat(os.path.join(folder, SONG_FILE)).st_mode)
    except (OSError, ValueError):
        return False


def song_names(songs: Path) -> list[str]:
    """Every project folder directly under ``songs`` (sorted by name)."""
    names = []
    try:
        with os.scandir(songs.resolve()) as entries:
            for entry in entries:
                if valid_song_name(entry.name) and entry.is_dir(follow_symlinks=False) \
                        and _is_project(entry.path):
                    names.append(entry.name)
    except OSError:
        return []
    return sorted(names)


def inside(store: Path, relative: str) -> Path:
    """``store / relative``, refused (NotFound) if it would lead outside ``store``."""
    root = store.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or path == root:
        raise NotFound(f"{relative}: not in the versions store")
    return path


def _shown(name: object) -> str:
    text = repr(name)
    return text if len(text) <= 80 else text[:77] + "..."


__all__ = ["SONG_FILE", "STORE_DIRNAME", "inside", "song_folder", "song_names",
           "valid_song_name"]
