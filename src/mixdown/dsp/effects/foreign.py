"""Devices mixdown cannot run, kept so that they can be written back: ``foreign`` and
``foreign_instrument``.

A DAWproject file names plug-ins (VST2, VST3, CLAP, AU) and other programs' built-in
devices that have no mixdown equivalent. The importer keeps each one in the project as
one of these devices: its XML element in ``xml_file`` and its state in ``state_file``
(both project files), so that ``mixdown export --format dawproject`` writes the device
back unchanged. The engine runs them as nothing: ``foreign`` passes its input through,
``foreign_instrument`` is silent, and ``mixdown check`` and ``render`` say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mixdown.core.audio import AudioArray
from mixdown.dsp.base import NoteEvent, Param, register_device
from mixdown.dsp.effects._common import EffectBase

FOREIGN_TYPES = ("foreign", "foreign_instrument")
"""Device types that stand for a device mixdown cannot run."""

_PARAMS = (
    Param("format", "Device", "the DAWproject element: Vst3Plugin, ClapPlugin, Device...",
          kind="str", automatable=False),
    Param("device_name", "", "the device's name in the program that wrote it", kind="str",
          automatable=False),
    Param("device_id", "", "the plug-in's id (VST3 class id, CLAP id...)", kind="str",
          automatable=False),
    Param("xml_file", "", "project file holding the device's DAWproject XML element",
          kind="str", automatable=False),
    Param("state_file", "", "project file holding the device's saved state ('' = none)",
          kind="str", automatable=False),
)


def foreign_warning(device_type: str, params: dict[str, Any]) -> str:
    """The line ``check`` and ``render`` print for a kept device."""
    name = params.get("device_name") or params.get("format") or "device"
    what = f"{name} ({params.get('format', 'Device')})"
    if device_type == "foreign_instrument":
        return (f"{what} was kept from a DAWproject file; mixdown cannot run it, so the track "
                "is silent (set instrument to a built-in one to hear the notes)")
    return (f"{what} was kept from a DAWproject file; mixdown cannot run it and passes the "
            "signal through")


@register_device(
    "foreign", kind="effect", params=_PARAMS,
    doc="A device from a DAWproject file that mixdown cannot run: passed through, kept for export.",
)
class Foreign(EffectBase):
    """Passes audio through unchanged."""

    TYPE = "foreign"
    PARAMS = _PARAMS

    def __init__(self, *, format: str = "Device", device_name: str = "", device_id: str = "",
                 xml_file: str = "", state_file: str = "") -> None:
        super().__init__(locals())

    def _prepare(self) -> None:
        pass

    def _reset(self) -> None:
        pass

    def _update(self, name: str) -> None:
        pass

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        return block


@register_device(
    "foreign_instrument", kind="instrument", params=_PARAMS,
    doc="An instrument from a DAWproject file that mixdown cannot run: silent, kept for export.",
)
class ForeignInstrument:
    """Renders silence."""

    def __init__(self, **values: Any) -> None:
        self.latency_frames = 0
        self.params = dict(values)
        self.channels = 2

    def prepare(self, sample_rate: int, channels: int, max_block_frames: int) -> None:
        """Remember the channel count."""
        self.channels = channels

    def set_notes(self, notes: Sequence[NoteEvent]) -> None:
        """Ignore the notes."""

    def render(self, start_frame: int, frames: int) -> AudioArray:
        """Silence, shaped (channels, frames)."""
        return np.zeros((self.channels, frames), dtype=np.float32)

    def set_param(self, name: str, value: Any) -> None:
        """Nothing to change."""

    def reset(self) -> None:
        """No state."""


__all__ = ["FOREIGN_TYPES", "Foreign", "ForeignInstrument", "foreign_warning"]
