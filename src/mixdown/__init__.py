"""mixdown: a music producer's studio in Python.

Build a song in Python or load a ``song.toml``, then render it::

    import mixdown
    from mixdown import Project, Track, Clip, Device

    song = mixdown.load("examples/demo")
    report = mixdown.render(song, "mix.wav", root="examples/demo")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mixdown.core.errors import (
    FormatError,
    MixdownError,
    MixdownWarning,
    ModelError,
    ParameterError,
    RenderError,
)
from mixdown.model import (
    AutomationLane,
    AutomationPoint,
    Bus,
    Clip,
    Device,
    Marker,
    Master,
    Note,
    Project,
    Send,
    Song,
    TempoPoint,
    TimeSignatureChange,
    Track,
)

__version__ = "0.1.0"


def load(path: str | Path) -> Project:
    """Load and validate a project folder or its ``song.toml``."""
    from mixdown.io.project import load_project

    return load_project(path)


def save(project: Project, path: str | Path) -> Path:
    """Write ``project`` as ``song.toml`` (a folder or a file path), keeping existing comments."""
    from mixdown.io.project_save import save_project

    p = Path(path)
    return save_project(project, p / "song.toml" if p.is_dir() else p)


def render(project: Project | str | Path, output: str | Path, **options: Any) -> Any:
    """Render to a file; see :func:`mixdown.services.render.render_project` for options."""
    from mixdown.services.render import render_project

    return render_project(project, output, **options)


def render_audio(project: Project | str | Path, **options: Any) -> Any:
    """Render into memory: ``(float32 (channels, frames), sample_rate)``."""
    from mixdown.services.render import render_audio as _render_audio

    return _render_audio(project, **options)


__all__ = [
    "AutomationLane", "AutomationPoint", "Bus", "Clip", "Device", "FormatError", "Marker",
    "Master", "MixdownError", "MixdownWarning", "ModelError", "Note", "ParameterError",
    "Project", "RenderError", "Send", "Song", "TempoPoint", "TimeSignatureChange", "Track",
    "load", "render", "render_audio", "save",
]


# -- MIDI interchange (services.interchange) -----------------------------------------------


def import_midi(source: str | Path, output: str | Path, *, force: bool = False) -> Any:
    """Make a project folder from a MIDI file; see
    :func:`mixdown.services.interchange.import_midi`."""
    from mixdown.services.interchange import import_midi as _import_midi

    return _import_midi(source, output, force=force)


def export_midi(project: Project | str | Path, output: str | Path, **options: Any) -> Any:
    """Write a project's instrument tracks as a MIDI file; see
    :func:`mixdown.services.interchange.export_midi` (``root``, ``ticks_per_beat``)."""
    from mixdown.services.interchange import export_midi as _export_midi

    return _export_midi(project, output, **options)


__all__ += ["export_midi", "import_midi"]
