"""Build a :class:`RenderGraph` from a :class:`~mixdown.resolve.ResolvedSong`.

Everything about the project was checked and turned into frames and indices by
:func:`mixdown.resolve.resolve_project`; here the resolved song becomes live
processors, curves, wiring and latency compensation. No file is opened here: audio
clips are read through the readers the asset catalog gave the resolved song.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mixdown.core.errors import MixdownError, ModelError, ParameterError, RenderError
from mixdown.dsp.base import create_device
from mixdown.engine.automation import Curve
from mixdown.engine.graph import (
    DEFAULT_BLOCK_FRAMES,
    TEMPO,
    ChannelNode,
    DeviceSlot,
    RenderGraph,
    SendEdge,
    TempoCurve,
)
from mixdown.engine.modulators import attach_modulators
from mixdown.engine.sources import AudioSource, ClipPlacement, InstrumentSource
from mixdown.model.project import Project
from mixdown.resolve import (
    AssetCatalog,
    Lane,
    ResolvedChannel,
    ResolvedDevice,
    ResolvedSong,
    Span,
    resolve_project,
)
from mixdown.resolve.song import CHANNELS


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """How to render: rate, range, tail and block size.

    Parameters
    ----------
    sample_rate : int, optional
        Hz; defaults to the song's ``sample_rate``.
    section : str, optional
        Render only this marker's section (from the marker to the next one).
    start_s, end_s : float, optional
        Render a time range in seconds (song time).
    start, end : position, optional
        Or as song positions: beats, ``"bar:beat"`` or ``"<seconds>s"`` (as in song.toml).
    tail_s : float, optional
        Seconds after the end for reverbs and delays to ring out; defaults to the song's.
    block_frames : int
        Frames per processing block (the result does not depend on it).
    """

    sample_rate: int | None = None
    section: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    tail_s: float | None = None
    block_frames: int = DEFAULT_BLOCK_FRAMES
    start: float | str | None = None
    end: float | str | None = None

    @property
    def span(self) -> Span:
        """The part of the song to resolve."""
        return Span(section=self.section, start_s=self.start_s, end_s=self.end_s,
                    start=self.start, end=self.end, tail_s=self.tail_s)


def compile_project(project: Project, spec: RenderSpec | None = None, *,
                    root: str | Path = ".", dry_run: bool = False,
                    catalog: AssetCatalog | None = None) -> RenderGraph:
    """Resolve ``project`` (assets relative to ``root``) and build its render graph.

    With ``dry_run`` nothing is written (no resampled-clip cache); the graph is for
    checking and describing, not for rendering clips at another sample rate.

    Raises
    ------
    ProjectProblems
        Every problem in the project, one line each.
    """
    spec = spec or RenderSpec()
    catalog = catalog or AssetCatalog(root, dry_run=dry_run)
    song = resolve_project(project, catalog, sample_rate=spec.sample_rate, span=spec.span)
    return build_graph(song, block_frames=spec.block_frames)


def build_graph(song: ResolvedSong, *, block_frames: int = DEFAULT_BLOCK_FRAMES) -> RenderGraph:
    """The render graph of a resolved song: processors prepared, wired, latency-aligned."""
    sr = song.sample_rate
    bpm_at_frame = song.bpm_at_frame
    nodes = [_node(ch, song, bpm_at_frame) for ch in song.channels]
    _wire(nodes)
    levels = _levels(nodes)
    for n in nodes:
        for d in n.devices:
            d.processor.prepare(sr, CHANNELS, block_frames)
            d.latency = int(getattr(d.processor, "latency_frames", 0) or 0)
        n.latency = sum(d.latency for d in n.devices)
    _compensate(nodes, levels)
    constant_tempo = song.tempo_constant
    tempo_curve = TempoCurve(bpm_at_frame)
    for n in nodes:
        for d in n.devices:
            if d.tempo_synced:
                d.processor.set_tempo(bpm_at_frame(0))
                d.last_values[TEMPO] = bpm_at_frame(0)
                if not constant_tempo:  # tempo changes reach the device on the grid
                    d.automation.append((TEMPO, tempo_curve))
        if n.instrument_tempo_synced and not constant_tempo:
            n.instrument_last_values[TEMPO] = bpm_at_frame(0)
            n.instrument_automation.append((TEMPO, tempo_curve))
    return RenderGraph(sample_rate=sr, channels=CHANNELS, nodes=nodes, levels=levels,
                       start_frame=song.start_frames, end_frame=song.end_frames,
                       source_stop=song.stop_frames, bpm_at_frame=bpm_at_frame,
                       tempo_constant=constant_tempo, title=song.title,
                       warnings=list(song.warnings))


def _curve(lane: Lane) -> Curve:
    return Curve(lane.frames, lane.values, lane.shapes)


def _node(ch: ResolvedChannel, song: ResolvedSong, bpm_at_frame: object) -> ChannelNode:
    source: AudioSource | InstrumentSource | None = None
    tempo_synced = False
    if ch.instrument is not None:
        inst = _create(ch.instrument.type, dict(ch.instrument.params), "instrument",
                       ch.instrument.label)
        inst.prepare(song.sample_rate, CHANNELS, 1 << 16)
        tempo_synced = hasattr(inst, "set_tempo")
        if tempo_synced:
            inst.set_tempo(bpm_at_frame(0))  # type: ignore[operator]
        inst.set_notes(list(ch.instrument.notes))
        source = InstrumentSource(inst, CHANNELS)
    elif ch.kind == "track":
        source = AudioSource([ClipPlacement(
            reader=c.reader, start_frames=c.start_frames, length_frames=c.length_frames,
            offset_frames=c.offset_frames, file_frames=c.file_frames,
            file_channels=c.file_channels, gain=c.gain, fade_in_frames=c.fade_in_frames,
            fade_out_frames=c.fade_out_frames, loop=c.loop, label=c.label,
            fade_in_shape=c.fade_in_shape, fade_out_shape=c.fade_out_shape)
            for c in ch.clips], CHANNELS)
    slots = {d.index: _slot(d) for d in ch.devices if not d.bypass}
    sends = [SendEdge(s.target, Curve.constant(s.level_db), s.pre_fader) for s in ch.sends]
    node = ChannelNode(
        index=ch.index, name=ch.name, kind=ch.kind, label=ch.label, source=source,
        devices=list(slots.values()), volume_db=Curve.constant(ch.volume_db),
        pan=Curve.constant(ch.pan), muted=ch.muted, invert=ch.invert, sends=sends,
        output=ch.output, instrument_tempo_synced=tempo_synced,
    )
    for lane in ch.lanes:
        t = lane.target
        if t.kind == "volume":
            node.volume_db = _curve(lane)
        elif t.kind == "pan":
            node.pan = _curve(lane)
        elif t.kind == "send":
            sends[t.send].level_db = _curve(lane)
        elif t.kind == "instrument":
            node.instrument_automation.append((t.param.name, _curve(lane)))
        elif t.device in slots:  # a lane aimed at a bypassed device moves nothing
            slots[t.device].automation.append((t.param.name, _curve(lane)))
    attach_modulators(node, ch, song, slots, sends)
    return node


def _create(type_name: str, params: dict[str, object], kind: str, label: str) -> object:
    try:
        return create_device(type_name, params, kind=kind)  # type: ignore[arg-type]
    except MixdownError as exc:
        raise ParameterError(f"{label}: {exc}") from None


def _slot(d: ResolvedDevice) -> DeviceSlot:
    proc = _create(d.type, dict(d.params), "effect", d.label)
    return DeviceSlot(label=f"{d.label} ({d.type})", type=d.type, processor=proc,
                      sidechain=d.sidechain, tempo_synced=hasattr(proc, "set_tempo"))


# -- wiring and latency ---------------------------------------------------------------------


def _wire(nodes: list[ChannelNode]) -> None:
    for n in nodes:
        if n.output is not None:
            nodes[n.output].deps.add(n.index)
        for s in n.sends:
            nodes[s.target].deps.add(n.index)
        for d in n.devices:
            if d.sidechain is not None:
                n.deps.add(d.sidechain)


def _levels(nodes: list[ChannelNode]) -> list[list[int]]:
    level: dict[int, int] = {}

    def visit(i: int, stack: tuple[int, ...]) -> int:
        if i in level:
            return level[i]
        if i in stack:  # resolve reports loops; this guards graphs built by hand
            names = " -> ".join(nodes[k].name for k in (*stack[stack.index(i):], i))
            raise ModelError(f"routing loop (sidechain or bus): {names}")
        deps = nodes[i].deps
        lv = 0 if not deps else 1 + max(visit(d, (*stack, i)) for d in deps)
        level[i] = lv
        return lv

    for n in nodes:
        visit(n.index, ())
    out: list[list[int]] = [[] for _ in range(max(level.values()) + 1)]
    for i in sorted(level):
        out[level[i]].append(i)
    if out[-1] != [nodes[-1].index]:
        raise RenderError("internal: the master must be processed last")
    return out


def _compensate(nodes: list[ChannelNode], levels: list[list[int]]) -> None:
    """Delay every signal arriving at a bus or the master so all arrive aligned."""
    for lv in levels:
        for i in lv:
            n = nodes[i]
            inputs = [nodes[k] for k in n.deps
                      if nodes[k].output == i or any(s.target == i for s in nodes[k].sends)]
            n.input_latency = max((k.path_latency for k in inputs), default=0)
    for n in nodes:
        if n.output is not None:
            n.output_delay = nodes[n.output].input_latency - n.path_latency
        for s in n.sends:
            s.delay = nodes[s.target].input_latency - n.path_latency
