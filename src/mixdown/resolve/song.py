"""The resolved song: a project with every name an index and every position a frame.

Built by :func:`mixdown.resolve.resolve_project`, read by the engine. Plain frozen data:
no processors, no open files (audio is reached through each clip's ``reader``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from mixdown.core.audio import AudioArray
from mixdown.core.time import MeterMap, TempoMap
from mixdown.dsp.base import NoteEvent, Param

if TYPE_CHECKING:
    from mixdown.resolve.modulators import ResolvedModulator

CHANNELS = 2
"""Every channel of the mix is stereo."""


class AudioReader(Protocol):
    """How the engine reads an audio clip's file (given by the asset catalog)."""

    def read_all(self) -> AudioArray:
        """The whole file, float32 (channels, frames)."""

    def open(self) -> Any:
        """A stream with ``seek``, ``read(frames, dtype=, always_2d=)`` and ``close``."""


@dataclass(frozen=True, slots=True)
class Volume:
    """Automation of a channel's fader, in dB."""

    kind: Literal["volume"] = "volume"


@dataclass(frozen=True, slots=True)
class Pan:
    """Automation of a channel's pan, -1..1."""

    kind: Literal["pan"] = "pan"


@dataclass(frozen=True, slots=True)
class SendLevel:
    """Automation of the level in dB of the channel's send number ``send``."""

    send: int
    kind: Literal["send"] = "send"


@dataclass(frozen=True, slots=True)
class DeviceParam:
    """Automation of ``param`` of the channel's device number ``device`` (in ``devices``)."""

    device: int
    param: Param
    kind: Literal["device"] = "device"


@dataclass(frozen=True, slots=True)
class InstrumentParam:
    """Automation of ``param`` of the track's instrument."""

    param: Param
    kind: Literal["instrument"] = "instrument"


Target = Volume | Pan | SendLevel | DeviceParam | InstrumentParam
"""What an automation lane moves (a small tagged union: match on ``kind``)."""


@dataclass(frozen=True, slots=True)
class Lane:
    """An automation lane bound to its target: points at exact (fractional) frames."""

    target: Target
    label: str
    frames: tuple[float, ...]
    values: tuple[float, ...]
    shapes: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class ResolvedDevice:
    """An insert: its registered type, checked parameters and sidechain source index."""

    index: int  # position in the channel's ``devices`` (bypassed ones included)
    type: str
    label: str  # 'track "Bass", devices[1]'
    params: Mapping[str, Any]
    bypass: bool
    sidechain: int | None


@dataclass(frozen=True, slots=True)
class ResolvedInstrument:
    """A track's instrument with its checked parameters and its notes in frames."""

    type: str
    label: str
    params: Mapping[str, Any]  # sampler zones carry their decoded audio
    notes: tuple[NoteEvent, ...]


@dataclass(frozen=True, slots=True)
class ResolvedClip:
    """An audio clip placed in song frames at the render rate."""

    label: str
    reader: AudioReader
    start_frames: int
    length_frames: int
    offset_frames: int
    file_frames: int
    file_channels: int
    gain: float
    fade_in_frames: int
    fade_out_frames: int
    loop: bool
    fade_in_shape: str = "linear"
    fade_out_shape: str = "linear"


@dataclass(frozen=True, slots=True)
class ResolvedSend:
    """A send to node ``target`` at ``level_db``."""

    target: int
    bus: str
    level_db: float
    pre_fader: bool


@dataclass(frozen=True, slots=True)
class ResolvedChannel:
    """A track, bus or the master; ``output`` is a node index (None for the master)."""

    index: int
    name: str
    kind: Literal["track", "bus", "master"]
    label: str
    volume_db: float
    pan: float
    muted: bool  # muted, or silenced by another channel's solo
    invert: bool
    sends: tuple[ResolvedSend, ...]
    output: int | None
    devices: tuple[ResolvedDevice, ...]
    lanes: tuple[Lane, ...]
    instrument: ResolvedInstrument | None = None
    clips: tuple[ResolvedClip, ...] = ()
    modulators: tuple[ResolvedModulator, ...] = ()  # LFOs and followers


@dataclass(frozen=True, slots=True)
class ResolvedMarker:
    """A section start."""

    name: str
    beats: float
    frames: int


@dataclass(frozen=True, slots=True)
class ResolvedSong:
    """Everything the engine needs to build a render graph, in frames at ``sample_rate``.

    The output covers ``[start_frames, end_frames)``; sources stop at ``stop_frames``
    (tails ring on after it). ``channels`` ends with the master.
    """

    title: str
    sample_rate: int
    channels: tuple[ResolvedChannel, ...]
    start_frames: int
    stop_frames: int
    end_frames: int
    song_end_frames: int
    tempo: TempoMap
    meter: MeterMap
    markers: tuple[ResolvedMarker, ...]
    warnings: tuple[str, ...] = ()

    @property
    def master(self) -> ResolvedChannel:
        """The master (always last)."""
        return self.channels[-1]

    @property
    def tempo_constant(self) -> bool:
        """True when the song has one tempo throughout."""
        return len(self.tempo.points) == 1

    @property
    def bpm_at_frame(self) -> Callable[[int], float]:
        """Tempo in bpm at a frame."""
        tempo, sr = self.tempo, self.sample_rate

        def bpm(frame: int) -> float:
            return tempo.bpm_at(tempo.seconds_to_beats(max(frame, 0) / sr))

        return bpm
