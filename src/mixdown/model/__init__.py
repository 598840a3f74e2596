"""The project model: pure, frozen data."""

from mixdown.model.project import (
    AutomationLane,
    AutomationPoint,
    Bus,
    Clip,
    Device,
    Humanize,
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

__all__ = [
    "AutomationLane", "AutomationPoint", "Bus", "Clip", "Device", "Humanize", "Marker", "Master",
    "Note", "Project", "Send", "Song", "TempoPoint", "TimeSignatureChange", "Track",
]
