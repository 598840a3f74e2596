"""Where things are: songs under the songs folder, versions and references in the store.

Every name that comes from outside (a URL, a form) goes through :func:`song_folder`, which
accepts only a plain folder name that is a real project directly under the songs folder
(no separators, no ``..``, no hidden names, no symlink leading elsewhere); anything else is
:class:`NotFound` before a file is opened. Store paths are built from database rows only,
and checked to stay inside the store.
"""

from __future__ import annotations

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
        For a name that is not a project folder directly under ``songs``; nothing is read.
    """
    if not valid_song_name(name):
        raise NotFound(f"no song {_shown(name)} in {songs}")
    root = songs.resolve()
    folder = root / name
    try:
        real = folder.resolve(strict=True)
    except (OSError, RuntimeError):
        raise NotFound(f"no song {_shown(name)} in {songs}") from None
    if real.parent != root or not real.is_dir() or not (real / SONG_FILE).is_file() \
            or (real / SONG_FILE).resolve().parent != real:
        raise NotFound(f"no song {_shown(name)} in {songs}")
    return real


def song_names(songs: Path) -> list[str]:
    """Every project folder directly under ``songs`` (sorted by name)."""
    root = songs.resolve()
    names = []
    try:
        entries = sorted(root.iterdir(), key=lambda p: p.name)
    except OSError:
        return []
    for entry in entries:
        if not valid_song_name(entry.name):
            continue
        try:
            song_folder(root, entry.name)
        except NotFound:
            continue
        names.append(entry.name)
    return names


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
