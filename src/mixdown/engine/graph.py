"""The render graph: channel nodes (tracks, buses, master) wired by index, not by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from mixdown.core.audio import AudioArray
from mixdown.engine.automation import Curve
from mixdown.engine.sources import AudioSource, InstrumentSource

DEFAULT_BLOCK_FRAMES = 131_072
"""Frames per processing block (2.7 s at 48 kHz). The output never depends on it. Larger
blocks mean less per-block Python work and fewer hand-offs between the renderer's threads:
on the 16-track benchmark session a warm render in one process took 3.00 s at 131072
frames against 3.21 s at 65536 and 3.55 s at 32768 (medians of 8 interleaved runs), for a
peak of 336 MB against 273 and 259 MB, flat in song length; 262144 was slower again."""

CONTROL_FRAMES = 256
"""Automation grid: parameters of devices update every 256 frames, counted from frame 0."""

TEMPO = "__tempo__"
"""The pseudo-parameter under which a changing tempo reaches ``set_tempo`` on the grid."""


@dataclass(frozen=True, slots=True)
class TempoCurve:
    """The song's tempo in bpm as an automation curve over frames (for tempo-synced devices)."""

    bpm_at_frame: Callable[[int], float]
    is_constant: bool = False

    def values_at(self, frames: np.ndarray) -> np.ndarray:
        """bpm at each frame."""
        return np.array([self.bpm_at_frame(int(f)) for f in frames], dtype=np.float64)


@dataclass(slots=True)
class DeviceSlot:
    """A live processor in a channel, with its automation and sidechain source."""

    label: str
    type: str
    processor: Any
    automation: list[tuple[str, Curve | TempoCurve]] = field(default_factory=list)
    sidechain: int | None = None
    tempo_synced: bool = False
    latency: int = 0
    last_values: dict[str, float] = field(default_factory=dict)  # what set_param last got


@dataclass(slots=True)
class SendEdge:
    """A send into node ``target`` at a level curve in dB, tapped pre or post fader."""

    target: int
    level_db: Curve
    pre_fader: bool
    delay: int = 0


@dataclass(slots=True)
class ChannelNode:
    """A track, bus or the master, ready to process blocks."""

    index: int
    name: str
    kind: Literal["track", "bus", "master"]
    label: str
    source: AudioSource | InstrumentSource | None
    devices: list[DeviceSlot]
    volume_db: Curve
    pan: Curve
    muted: bool
    invert: bool
    sends: list[SendEdge]
    output: int | None  # None for the master
    instrument_automation: list[tuple[str, Curve | TempoCurve]] = field(default_factory=list)
    instrument_tempo_synced: bool = False
    instrument_last_values: dict[str, float] = field(default_factory=dict)
    static_factors: np.ndarray | None = None  # (2, 1) fader x pan gains when neither moves
    deps: set[int] = field(default_factory=set)
    latency: int = 0  # sum of the inserts' latencies
    input_latency: int = 0  # latency of the (aligned) signals arriving at the input
    output_delay: int = 0  # delay added on the way to ``output`` for alignment
    followers: list[Any] = field(default_factory=list)  # envelope followers (engine.modulators)

    @property
    def path_latency(self) -> int:
        """Latency of this node's output relative to song time, in frames."""
        return self.input_latency + self.latency


@dataclass(slots=True)
class RenderGraph:
    """Everything the renderer needs; built by :func:`mixdown.engine.compile.compile_project`.

    Frames are song frames at ``sample_rate``. The output covers ``[start_frame, end_frame)``;
    sources stop at ``source_stop`` (tails ring on after it).
    """

    sample_rate: int
    channels: int
    nodes: list[ChannelNode]
    levels: list[list[int]]
    start_frame: int
    end_frame: int
    source_stop: int
    bpm_at_frame: Callable[[int], float]
    tempo_constant: bool
    title: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def master(self) -> ChannelNode:
        """The master node (always last)."""
        return self.nodes[-1]

    @property
    def frames(self) -> int:
        """Length of the output in frames."""
        return self.end_frame - self.start_frame

    def stem_nodes(self) -> list[ChannelNode]:
        """Nodes that feed the master: their signals sum to the master's input."""
        return [n for n in self.nodes if n.output == self.master.index]

    def close(self) -> None:
        """Release open files."""
        for n in self.nodes:
            if n.source is not None:
                n.source.close()


class DelayLine:
    """An exact integer delay of ``delay`` frames on (channels, frames) blocks."""

    def __init__(self, channels: int, delay: int) -> None:
        self.delay = delay
        self.buffer = np.zeros((channels, delay), np.float32)

    def process(self, block: AudioArray) -> AudioArray:
        """Return the block delayed by ``delay`` frames (state carried across blocks)."""
        if self.delay == 0:
            return block
        joined = np.concatenate([self.buffer, block], axis=1)
        n = block.shape[1]
        self.buffer = joined[:, n:].copy()
        return joined[:, :n]
