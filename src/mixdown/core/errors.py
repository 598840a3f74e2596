"""The exception tree every user-facing error belongs to (STYLE.md §3.5)."""

from __future__ import annotations

import warnings
from pathlib import Path


class MixdownError(Exception):
    """Root of every error a user can cause; the CLI prints it as one line."""

    exit_code = 1
    http_status = 500


class ModelError(MixdownError, ValueError):
    """An invalid project or edit: a bad value, an unknown name, a broken reference."""

    http_status = 422


class ParameterError(MixdownError, ValueError):
    """A bad argument to a DSP, analysis or mastering function."""

    http_status = 422


class FormatError(MixdownError):
    """An unreadable or unsupported file (audio, MIDI, project)."""

    http_status = 415

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class RenderError(MixdownError):
    """The render could not run: a missing asset, a cycle, non-finite output."""

    http_status = 500


class MixdownWarning(UserWarning):
    """Recoverable trouble: clipping, resampling, a dropped event."""


def warn(message: str) -> None:
    """Issue a :class:`MixdownWarning` pointing at the caller's caller."""
    warnings.warn(message, MixdownWarning, stacklevel=3)
