"""The project model: pure, frozen data."""

from mixdown.model.arp import Arp
from mixdown.model.chords import Voicing
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
    "Arp", "AutomationLane", "AutomationPoint", "Bus", "Clip", "Device", "Humanize", "Marker",
    "Master", "Note", "Project", "Send", "Song", "TempoPoint", "TimeSignatureChange", "Track",
    "Voicing",
]
