"""Compile a :class:`~mixdown.model.Project` into a :class:`RenderGraph`.

This is the one place where musical positions become frames, names become node
indices, device specs become live processors and automation lanes become curves.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from mixdown.core.errors import FormatError, ModelError, ParameterError, RenderError
from mixdown.core.time import parse_position, seconds_to_frames, song_maps
from mixdown.dsp.base import NoteEvent, create_device, device_info
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
from mixdown.engine.sources import AudioSource, ClipPlacement, InstrumentSource
from mixdown.model.project import MASTER, PATTERN_CHARS, Bus, Channel, Clip, Project, Track

CHANNELS = 2


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


class Timeline:
    """Positions -> beats -> seconds -> frames for one song at one sample rate."""

    def __init__(self, project: Project, sample_rate: int) -> None:
        song = project.song
        self.meter, self.tempo = song_maps(
            song.tempo, song.time_signature,
            [(p.at, p.bpm, p.ramp) for p in song.tempo_map],
            [(t.bar, *t.signature) for t in song.time_signatures])
        self.sample_rate = sample_rate

    def beats(self, position: Any) -> float:
        """A model position as beats."""
        return parse_position(position, self.meter, self.tempo)

    def frame_of_beats(self, beats: float) -> int:
        """The frame at ``beats`` (nearest sample)."""
        return self.tempo.beats_to_frames(beats, self.sample_rate)

    def frame(self, position: Any) -> int:
        """The frame at a model position."""
        return self.frame_of_beats(self.beats(position))

    def exact_frame(self, position: Any) -> float:
        """The (fractional) frame at a model position, for smooth automation."""
        return self.tempo.beats_to_seconds(self.beats(position)) * self.sample_rate

    def bpm_at_frame(self, frame: int) -> float:
        """Tempo at a frame."""
        return self.tempo.bpm_at(self.tempo.seconds_to_beats(max(frame, 0) / self.sample_rate))


def compile_project(project: Project, spec: RenderSpec | None = None, *,
                    root: str | Path = ".", dry_run: bool = False) -> RenderGraph:
    """Build the render graph of ``project``; asset paths resolve against ``root``.

    With ``dry_run`` nothing is written (no resampled-clip cache); the graph is for
    checking and describing, not for rendering clips at another sample rate.

    Raises
    ------
    ModelError, ParameterError, FormatError
        For anything in the project that cannot be rendered, with the place named.
    """
    spec = spec or RenderSpec()
    root = Path(root)
    sr = spec.sample_rate or project.song.sample_rate
    if sr not in (44_100, 48_000, 88_200, 96_000):
        raise ParameterError(f"sample rate must be 44100, 48000, 88200 or 96000 Hz, got {sr}")
    tl = Timeline(project, sr)
    song_end = _song_end(project, tl, root)
    start, stop = _range(project, spec, tl, song_end)
    tail_s = project.song.tail_s if spec.tail_s is None else spec.tail_s
    if tail_s < 0 or not math.isfinite(tail_s):
        raise ParameterError(f"tail must be >= 0 seconds, got {tail_s}")
    end = stop + seconds_to_frames(tail_s, sr)

    names = [t.name for t in project.tracks] + [b.name for b in project.buses]
    index = {name: i for i, name in enumerate(names)}
    master_index = len(names)
    index[MASTER] = master_index
    audible = _audible(project)

    nodes: list[ChannelNode] = []
    for i, ch in enumerate([*project.tracks, *project.buses]):
        kind = "track" if isinstance(ch, Track) else "bus"
        label = f'{kind} "{ch.name}"'
        source = None
        inst_auto: list[tuple[str, Curve]] = []
        inst_tempo = False
        if isinstance(ch, Track):
            source, inst_tempo = _build_source(ch, tl, root, stop, label, dry_run)
        devices = [_build_device(d, j, ch, tl, index, label, root)
                   for j, d in enumerate(ch.devices) if not d.bypass]
        node = ChannelNode(
            index=i, name=ch.name, kind=kind, label=label, source=source, devices=devices,
            volume_db=Curve.constant(ch.volume_db), pan=Curve.constant(ch.pan),
            muted=ch.mute or not audible[ch.name], invert=ch.phase_invert,
            sends=[SendEdge(index[s.to], Curve.constant(s.level_db), s.pre_fader)
                   for s in ch.sends],
            output=index[ch.output], instrument_tempo_synced=inst_tempo,
        )
        _apply_automation(node, ch, tl, inst_auto)
        node.instrument_automation = inst_auto
        nodes.append(node)

    m = project.master
    master = ChannelNode(
        index=master_index, name=MASTER, kind="master", label="master", source=None,
        devices=[_build_device(d, j, m, tl, index, "master", root)
                 for j, d in enumerate(m.devices) if not d.bypass],
        volume_db=Curve.constant(m.volume_db), pan=Curve.constant(0.0), muted=False,
        invert=False, sends=[], output=None,
    )
    _apply_automation(master, m, tl, [])
    nodes.append(master)

    _wire(nodes)
    levels = _levels(nodes)
    for n in nodes:
        for d in n.devices:
            d.processor.prepare(sr, CHANNELS, spec.block_frames)
            d.latency = int(getattr(d.processor, "latency_frames", 0) or 0)
        n.latency = sum(d.latency for d in n.devices)
    _compensate(nodes, levels)
    constant_tempo = len(tl.tempo.points) == 1
    tempo_curve = TempoCurve(tl.bpm_at_frame)
    for n in nodes:
        for d in n.devices:
            if d.tempo_synced:
                d.processor.set_tempo(tl.bpm_at_frame(0))
                d.last_values[TEMPO] = tl.bpm_at_frame(0)
                if not constant_tempo:  # tempo changes reach the device on the grid
                    d.automation.append((TEMPO, tempo_curve))
        if n.instrument_tempo_synced and not constant_tempo:
            n.instrument_last_values[TEMPO] = tl.bpm_at_frame(0)
            n.instrument_automation.append((TEMPO, tempo_curve))
    return RenderGraph(sample_rate=sr, channels=CHANNELS, nodes=nodes, levels=levels,
                       start_frame=start, end_frame=end, source_stop=stop,
                       bpm_at_frame=tl.bpm_at_frame, tempo_constant=constant_tempo,
                       title=project.song.title)


# -- time range -------------------------------------------------------------------------------


def _song_end(project: Project, tl: Timeline, root: Path) -> int:
    if project.song.length is not None:
        return tl.frame(project.song.length)
    end = 0
    for t in project.tracks:
        for c in t.clips:
            _, e = _clip_span(c, tl, root)
            end = max(end, e)
    for mk in project.markers:
        end = max(end, tl.frame(mk.at))
    return end


def _range(project: Project, spec: RenderSpec, tl: Timeline, song_end: int) -> tuple[int, int]:
    sr = tl.sample_rate
    if spec.section is not None:
        marker = project.marker(spec.section)
        start = tl.frame(marker.at)
        later = sorted(f for f in (tl.frame(mk.at) for mk in project.markers) if f > start)
        stop = later[0] if later else song_end
    else:
        start = seconds_to_frames(spec.start_s, sr) if spec.start_s is not None else 0
        stop = seconds_to_frames(spec.end_s, sr) if spec.end_s is not None else song_end
        if spec.start is not None:
            start = tl.frame(spec.start)
        if spec.end is not None:
            stop = tl.frame(spec.end)
    if stop <= start:
        raise ModelError(
            "nothing to render: the song is empty (add clips or set song.length)"
            if song_end == 0 else f"the render range is empty ({start / sr:.3f} s to "
            f"{stop / sr:.3f} s)"
        )
    return start, stop


def _clip_span(clip: Clip, tl: Timeline, root: Path) -> tuple[int, int]:
    """Start and end frames of a clip in the song."""
    start_b = tl.beats(clip.start)
    start = tl.frame_of_beats(start_b)
    length_b = _clip_length_beats(clip, tl, start_b)
    if length_b is not None:
        return start, tl.frame_of_beats(start_b + length_b)
    if clip.kind == "audio":
        from mixdown.io.assets import resolve_asset
        from mixdown.io.audio import audio_info

        info = audio_info(resolve_asset(root, clip.file or "", "clip"))
        frames = info.frames - round(clip.offset_s * info.sample_rate)
        return start, start + max(0, round(frames * tl.sample_rate / info.sample_rate))
    if clip.kind == "notes":
        end_b = start_b + max((n.start + n.length for n in _clip_notes(clip, root)), default=0)
        return start, tl.frame_of_beats(end_b)
    return start, start


def _clip_length_beats(clip: Clip, tl: Timeline, start_b: float) -> float | None:
    if clip.length is not None:
        return clip.length
    if clip.bars is not None:
        return tl.meter.bars_to_beats(start_b, clip.bars)
    if clip.pattern:
        steps = max(len(_steps(s)) for s in clip.pattern.values())
        return steps * clip.step
    return None


# -- sources ----------------------------------------------------------------------------------


def _steps(text: str) -> str:
    return text.replace(" ", "").replace("|", "")


def _clip_notes(clip: Clip, root: Path) -> list[Any]:
    if clip.notes:
        return list(clip.notes)
    if clip.midi:
        from mixdown.io.assets import resolve_asset
        from mixdown.io.midi import read_midi_notes

        return list(read_midi_notes(resolve_asset(root, clip.midi, "clip")))
    return []


def _drum_notes() -> dict[str, int]:
    from mixdown.dsp.instruments.drums import DRUM_NOTES

    return dict(DRUM_NOTES)


def _note_events(track: Track, tl: Timeline, root: Path, stop: int,
                 label: str) -> list[NoteEvent]:
    events: list[NoteEvent] = []
    for ci, clip in enumerate(track.clips):
        if clip.kind != "notes":
            continue
        start_b = tl.beats(clip.start)
        length_b = _clip_length_beats(clip, tl, start_b)
        clip_end_b = start_b + length_b if length_b is not None else math.inf
        raw: list[tuple[float, float, int, int]] = []  # (start beats, end beats, pitch, vel)
        if clip.pattern:
            table = _drum_notes()
            for voice, text in clip.pattern.items():
                if voice not in table:
                    raise ModelError(f"{label}, clips[{ci}].pattern: unknown drum {voice!r}; "
                                     f"known: {', '.join(sorted(table))}")
                steps = _steps(text)
                period = len(steps) * clip.step
                reps = 1 if length_b is None else math.ceil(length_b / period - 1e-9)
                for r in range(reps):
                    for k, ch in enumerate(steps):
                        vel = PATTERN_CHARS[ch]
                        if vel == 0:
                            continue
                        b = r * period + k * clip.step
                        if k % 2 == 1:
                            b += clip.swing * clip.step
                        raw.append((start_b + b, start_b + b + clip.step, table[voice], vel))
        else:
            for note in _clip_notes(clip, root):
                s = start_b + note.start
                raw.append((s, s + note.length, note.pitch + clip.transpose, note.velocity))
        for s_b, e_b, pitch, vel in raw:
            if s_b >= clip_end_b - 1e-9:
                continue
            s = tl.frame_of_beats(s_b)
            e = tl.frame_of_beats(min(e_b, clip_end_b))
            if s >= stop:
                continue
            e = min(e, stop)
            if not 0 <= pitch <= 127:
                raise ModelError(f"{label}, clips[{ci}]: transposed pitch {pitch} is outside "
                                 "0..127; change transpose")
            if e > s:
                events.append(NoteEvent(s, e, float(pitch), int(vel)))
    events.sort(key=lambda ev: (ev.start_frame, ev.pitch, ev.end_frame))
    return events


def _build_source(track: Track, tl: Timeline, root: Path, stop: int, label: str,
                  dry_run: bool) -> tuple[AudioSource | InstrumentSource | None, bool]:
    if track.instrument is not None:
        inst_spec = track.instrument
        params = dict(inst_spec.params)
        if inst_spec.type == "sampler":
            params = _load_sampler_zones(params, root, label)
        try:
            inst = create_device(inst_spec.type, params, kind="instrument")
        except ParameterError as exc:
            raise ParameterError(f"{label}, instrument: {exc}") from None
        inst.prepare(tl.sample_rate, CHANNELS, 1 << 16)
        tempo_synced = hasattr(inst, "set_tempo")
        if tempo_synced:
            inst.set_tempo(tl.bpm_at_frame(0))
        inst.set_notes(_note_events(track, tl, root, stop, label))
        audio_clips = [c for c in track.clips if c.kind == "audio"]
        if audio_clips:
            raise ModelError(f"{label}: an instrument track cannot hold audio clips; "
                             "put them on an audio track")
        return InstrumentSource(inst, CHANNELS), tempo_synced
    placements = []
    for ci, clip in enumerate(track.clips):
        if clip.kind != "audio":
            continue
        placements.append(_place_clip(clip, ci, tl, root, stop, label, dry_run))
    return AudioSource([p for p in placements if p.length > 0], CHANNELS), False


def _place_clip(clip: Clip, ci: int, tl: Timeline, root: Path, stop: int,
                label: str, dry_run: bool = False) -> ClipPlacement:
    from mixdown.io.assets import resolve_asset
    from mixdown.io.audio import audio_info

    where = f"{label}, clips[{ci}]"
    path = resolve_asset(root, clip.file or "", where)
    info = audio_info(path)
    if info.channels > 2:
        raise FormatError(f"{where}: {clip.file} has {info.channels} channels; "
                          "clips must be mono or stereo", path)
    sr = tl.sample_rate
    if info.sample_rate != sr and not dry_run:
        path = _resampled(path, info.sample_rate, sr, root)
        info = audio_info(path)
    start, end = _clip_span(clip, tl, root)
    offset = round(clip.offset_s * sr)
    if offset >= info.frames:
        raise ModelError(f"{where}.offset_s: {clip.offset_s} s is past the end of {clip.file} "
                         f"({info.duration_s:.3f} s)")
    length = min(end, stop) - start
    return ClipPlacement(
        path=path, start=start, length=max(0, length), offset=offset,
        file_frames=info.frames, file_channels=info.channels,
        gain=10 ** (clip.gain_db / 20), fade_in=round(clip.fade_in_s * sr),
        fade_out=round(clip.fade_out_s * sr), loop=clip.loop, label=where,
    )


def _resampled(path: Path, src_rate: int, dst_rate: int, root: Path) -> Path:
    """A cached copy of ``path`` at ``dst_rate`` (soxr, streamed), in ``.mixdown/cache``."""
    import hashlib

    import soxr

    stat = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{dst_rate}".encode())
    cache = root / ".mixdown" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"{path.stem}-{key.hexdigest()[:12]}-{dst_rate}.wav"
    if out.exists():
        return out
    from mixdown.io.audio import AudioWriter, iter_blocks

    info = sf.info(str(path))
    rs = soxr.ResampleStream(src_rate, dst_rate, info.channels, dtype="float32", quality="HQ")
    with AudioWriter(out, dst_rate, info.channels, fmt="wav", bit_depth=32) as w:
        for block in iter_blocks(path):
            y = rs.resample_chunk(np.ascontiguousarray(block.T))
            if y.shape[0]:
                w.write(np.ascontiguousarray(y.T))
        y = rs.resample_chunk(np.zeros((0, info.channels), np.float32), last=True)
        if y.shape[0]:
            w.write(np.ascontiguousarray(y.T))
    return out


def _load_sampler_zones(params: dict[str, Any], root: Path, label: str) -> dict[str, Any]:
    from mixdown.io.assets import resolve_asset
    from mixdown.io.audio import read_audio

    zones = params.get("zones")
    if not isinstance(zones, list):
        return params
    loaded = []
    for zi, zone in enumerate(zones):
        if isinstance(zone, dict) and "file" in zone:
            z = dict(zone)
            path = resolve_asset(root, z.pop("file"), f"{label}, instrument.zones[{zi}].file")
            audio, rate = read_audio(path)
            z["audio"] = audio
            z["sample_rate"] = rate
            loaded.append(z)
        else:
            loaded.append(zone)
    return {**params, "zones": loaded}


# -- devices and automation -------------------------------------------------------------------


def _build_device(d: Any, j: int, ch: Channel | Any, tl: Timeline, index: dict[str, int],
                  label: str, root: Path) -> DeviceSlot:
    where = f"{label}, devices[{j}]"
    try:
        proc = create_device(d.type, d.params, kind="effect")
    except ParameterError as exc:
        raise ParameterError(f"{where}: {exc}") from None
    sidechain = None
    sc = d.params.get("sidechain")
    if sc:
        info = device_info(d.type)
        if not info.sidechain:
            raise ModelError(f"{where}: {d.type} takes no sidechain")
        if sc not in index or sc == MASTER:
            raise ModelError(f"{where}.sidechain: no track or bus {sc!r}")
        sidechain = index[sc]
    return DeviceSlot(label=f"{where} ({d.type})", type=d.type, processor=proc,
                      sidechain=sidechain, tempo_synced=hasattr(proc, "set_tempo"))


def _curve(lane: Any, tl: Timeline, check: Any = None) -> Curve:
    pts = sorted(((tl.exact_frame(p.at), p.value, p.curve) for p in lane.points),
                 key=lambda t: t[0])
    for a, b in itertools.pairwise(pts):
        if b[0] == a[0]:
            raise ModelError(f"automation {lane.param!r}: two points at the same position")
    if check is not None:
        for _, v, _ in pts:
            check(v)
    return Curve(tuple(p[0] for p in pts), tuple(float(p[1]) for p in pts),
                 tuple(p[2] for p in pts))


def _apply_automation(node: ChannelNode, ch: Any, tl: Timeline,
                      inst_auto: list[tuple[str, Curve]]) -> None:
    label = node.label
    for li, lane in enumerate(ch.automation):
        where = f"{label}, automation[{li}] ({lane.param})"
        param = lane.param
        if param == "volume_db":
            node.volume_db = _curve(lane, tl, _range_check(where, -144, 24))
        elif param == "pan":
            if node.kind == "master":
                raise ModelError(f"{where}: the master has no pan")
            node.pan = _curve(lane, tl, _range_check(where, -1, 1))
        elif param.startswith("send."):
            bus = param[5:]
            sends = [s for s, spec in zip(node.sends, ch.sends, strict=True) if spec.to == bus]
            if not sends:
                raise ModelError(f"{where}: {node.label} has no send to {bus!r}")
            sends[0].level_db = _curve(lane, tl, _range_check(where, -144, 24))
        elif "." in param:
            dev_ref, pname = param.rsplit(".", 1)
            if dev_ref == "instrument":
                if not isinstance(ch, Track) or ch.instrument is None:
                    raise ModelError(f"{where}: the track has no instrument")
                p = device_info(ch.instrument.type).param(pname)
                if not p.automatable or p.kind not in ("float", "int"):
                    raise ModelError(f"{where}: {pname} cannot be automated")
                inst_auto.append((pname, _curve(lane, tl, _param_check(p, where))))
                continue
            found = _find_device(node, ch, dev_ref, where)
            if found is None:  # aimed at a bypassed device: nothing to automate
                continue
            slot, spec = found
            p = device_info(spec.type).param(pname)
            if not p.automatable or p.kind not in ("float", "int"):
                raise ModelError(f"{where}: {pname} cannot be automated")
            slot.automation.append((pname, _curve(lane, tl, _param_check(p, where))))
        else:
            raise ModelError(
                f"{where}: unknown parameter; use volume_db, pan, send.<bus>, "
                "<device>.<param> or instrument.<param>"
            )


def _param_check(p: Any, where: str) -> Any:
    def check(v: float) -> None:
        p.check(v, f"{where}: ")

    return check


def _range_check(where: str, lo: float, hi: float) -> Any:
    def check(v: float) -> None:
        if not lo <= v <= hi:
            raise ModelError(f"{where}: value must be in {lo:g}..{hi:g}, got {v:g}")

    return check


def _find_device(node: ChannelNode, ch: Any, ref: str,
                 where: str) -> tuple[DeviceSlot, Any] | None:
    """The live slot and spec a lane names; None if it names a bypassed device."""
    bypassed = [(j, d) for j, d in enumerate(ch.devices) if d.bypass]
    if any(ref in (d.name, d.type, f"devices[{j}]") for j, d in bypassed):
        named = [(j, d) for j, d in enumerate(ch.devices)
                 if ref in (d.name, f"devices[{j}]") or (d.type == ref and d.name is None)]
        if named and all(d.bypass for _, d in named):
            return None
    active = [(j, d) for j, d in enumerate(ch.devices) if not d.bypass]
    slots = dict(zip([j for j, _ in active], node.devices, strict=True))
    cands = []
    if ref.startswith("devices[") and ref.endswith("]"):
        try:
            j = int(ref[8:-1])
        except ValueError:
            j = -1
        cands = [(j, d) for jj, d in active if jj == j]
    else:
        cands = [(j, d) for j, d in active if d.name == ref]
        if not cands:
            cands = [(j, d) for j, d in active if d.type == ref and d.name is None]
            if len(cands) > 1:
                raise ModelError(f"{where}: {len(cands)} devices are {ref!r}; give one a name "
                                 "or write devices[i]")
    if not cands:
        known = ", ".join(d.name or f"{d.type} (devices[{j}])" for j, d in active) or "none"
        raise ModelError(f"{where}: no device {ref!r} on {node.label}; devices: {known}")
    j, d = cands[0]
    return slots[j], d


# -- wiring, solo, latency -------------------------------------------------------------------


def _audible(project: Project) -> dict[str, bool]:
    """Solo logic: with any solo, a track plays only if soloed or feeding a soloed bus."""
    chans = [*project.tracks, *project.buses]
    if not any(c.solo for c in chans):
        return {c.name: True for c in chans}
    feeds: dict[str, set[str]] = {}
    for c in chans:
        targets = {s.to for s in c.sends}
        if c.output != MASTER:
            targets.add(c.output)
        feeds[c.name] = targets

    def reaches_solo(name: str, seen: set[str]) -> bool:
        for t in feeds.get(name, ()):
            if t in seen:
                continue
            seen.add(t)
            bus = next((b for b in project.buses if b.name == t), None)
            if bus is not None and (bus.solo or reaches_solo(t, seen)):
                return True
        return False

    audible = {}
    for c in chans:
        if isinstance(c, Bus):
            audible[c.name] = True
        else:
            audible[c.name] = c.solo or reaches_solo(c.name, set())
    return audible


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
        if i in stack:
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
