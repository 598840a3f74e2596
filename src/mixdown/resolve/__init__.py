"""Resolve: a project checked once and turned into frames (between ``io`` and ``engine``).

``model.Project`` -> :func:`resolve_project` (with the device registry and an
:class:`~mixdown.io.catalog.AssetCatalog`) -> :class:`ResolvedSong` -> the engine builds its
graph from it. Every check a project gets beyond its model runs here, once, and every
problem found is reported together (:class:`ProjectProblems`).
"""

from mixdown.io.catalog import AssetCatalog
from mixdown.resolve.load import open_project
from mixdown.resolve.problems import Problem, ProjectProblems
from mixdown.resolve.resolve import Span, check_project, resolve_project
from mixdown.resolve.song import (
    DeviceParam,
    InstrumentParam,
    Lane,
    Pan,
    ResolvedChannel,
    ResolvedClip,
    ResolvedDevice,
    ResolvedInstrument,
    ResolvedMarker,
    ResolvedSend,
    ResolvedSong,
    SendLevel,
    Target,
    Volume,
)
from mixdown.resolve.timeline import Timeline

__all__ = [
    "AssetCatalog", "DeviceParam", "InstrumentParam", "Lane", "Pan", "Problem", "ProjectProblems",
    "ResolvedChannel", "ResolvedClip", "ResolvedDevice", "ResolvedInstrument",
    "ResolvedMarker", "ResolvedSend", "ResolvedSong", "SendLevel", "Span", "Target",
    "Timeline", "Volume", "check_project", "open_project", "resolve_project",
]
