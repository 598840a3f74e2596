"""Asset paths: every file a project uses lives inside the project folder."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from mixdown.core.errors import FormatError, ModelError


def resolve_asset(root: Path, relative: str, where: str) -> Path:
    """Resolve ``relative`` against the project folder ``root``; refuse escapes.

    Absolute paths, ``..`` that leaves the folder and symlinks that point outside it
    are refused with a :class:`ModelError` naming ``where``; a missing file is a
    :class:`FormatError`.
    """
    if not isinstance(relative, str) or not relative.strip():
        raise ModelError(f"{where}: a file path is required")
    if (PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).is_absolute()
            or relative.startswith("~")):
        raise ModelError(f"{where}: {relative} is an absolute path; give a path relative to "
                         "the project folder and keep assets inside it")
    base = root.resolve()
    candidate = base / relative
    try:
        real = candidate.resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # symlink loops
        raise ModelError(f"{where}: {relative} cannot be resolved ({exc})") from None
    if real != base and base not in real.parents:
        raise ModelError(f"{where}: {relative} escapes the project folder; keep assets inside it")
    if not real.exists():
        raise FormatError(f"{where}: {relative} not found in {root}", real)
    if not real.is_file():
        raise FormatError(f"{where}: {relative} is not a file", real)
    return real
