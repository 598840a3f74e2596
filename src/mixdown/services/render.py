"""Use case: render a project to an audio file (and stems), with a QC sidecar.

:func:`plan_render` turns the options into a :class:`RenderPlan` (validated once, nothing
written); :func:`run_render` carries a plan out; :func:`render_project` does both.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mixdown.core.audio import AudioArray
from mixdown.core.errors import ModelError, ParameterError
from mixdown.core.pipeline import Consumer
from mixdown.engine.compile import RenderSpec, compile_project
from mixdown.engine.graph import DEFAULT_BLOCK_FRAMES, RenderGraph
from mixdown.engine.render import CacheUse, render
from mixdown.io.audio import AudioWriter, format_for_path
from mixdown.model.project import Project
from mixdown.services.loaded import open_any, root_of
from mixdown.services.outputs import (
    check_output_file,
    output_folder,
    qc_path_for,
    replaced_folder,
    stems_folder,
)
from mixdown.services.premaster import LoudnessTarget, master_premaster, split_notes

BIT_DEPTHS = (16, 24, 32)
StemsMode = Literal["buses", "tracks"]
STEMS_MODES: tuple[str, ...] = ("buses", "tracks")
Progress = Callable[[int, int], None]

__all__ = ["BIT_DEPTHS", "STEMS_MODES", "RenderPlan", "RenderReport", "StemsMode", "load",
           "plan_render", "qc_path_for", "render_audio", "render_project",
           "render_stems_audio", "run_render", "stems_folder"]


@dataclass(frozen=True, slots=True)
class RenderReport:
    """What a render wrote and measured.

    Attributes
    ----------
    output : Path
        The file written.
    sample_rate : int
        Hz.
    channels : int
        Channel count.
    frames : int
        Length in frames (``duration_s`` in seconds).
    format : str
        ``wav``, ``flac``, ``mp3``, ``aiff``...
    bit_depth : int
        16, 24 or 32 (float); lossy formats have none to speak of.
    stems : tuple of Path
        The stem files (empty without stems).
    qc : dict
        The QC sidecar's content (``mixdown analyze --json`` keys), empty with ``qc=False``.
    qc_path : Path or None
        The sidecar, ``<output>.qc.json``.
    summary : str
        One line: loudness, LRA, true peak.
    warnings : tuple of str
        The render's own warnings (clipping, a target not reached...).
    qc_warnings : tuple of str
        The QC analyzer's warnings (DC offset, clipping, silence...), also in the sidecar.
    master : dict or None
        With a loudness target: what mastering did (:meth:`MasterResult.as_dict`).
    cache : dict or None
        What the track cache gave (``read``, ``written``, ``skipped``: channel names) and
        what the render cache did with the whole output (``output``: ``"read"`` when it was
        copied from an earlier render with nothing changed upstream, ``"written"`` when it
        was kept for the next one, None when the render cache does not apply: stems, a
        part of the song, a plug-in); None when the render did not use the caches.
    version : Version or None
        With ``version=NOTE``: the review version kept from this render
        (:class:`mixdown.services.review.Version`).
    """

    output: Path
    sample_rate: int
    channels: int
    frames: int
    format: str
    bit_depth: int
    stems: tuple[Path, ...] = ()
    qc: dict[str, Any] = field(default_factory=dict)
    qc_path: Path | None = None
    summary: str = ""
    warnings: tuple[str, ...] = ()
    qc_warnings: tuple[str, ...] = ()
    master: dict[str, Any] | None = None
    cache: dict[str, Any] | None = None
    version: Any = None

    @property
    def duration_s(self) -> float:
        """Length of the output in seconds."""
        return self.frames / self.sample_rate

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready description (what ``mixdown render --json`` prints)."""
        d = {
            "output": str(self.output), "format": self.format, "bit_depth": self.bit_depth,
            "sample_rate": self.sample_rate, "channels": self.channels,
            "duration_s": self.duration_s, "stems": [str(s) for s in self.stems],
            "qc_file": str(self.qc_path) if self.qc_path else None, "qc": self.qc,
            "summary": self.summary, "warnings": list(self.warnings),
            "qc_warnings": list(self.qc_warnings), "master": self.master,
            "cache": self.cache,
        }
        if self.version is not None:
            d["version"] = self.version.as_dict()
        return d


@dataclass(frozen=True, slots=True)
class RenderPlan:
    """A render, decided and validated: what to render, where, and how.

    Attributes
    ----------
    project : Project
        The song.
    root : Path
        The folder its asset paths resolve against.
    output : Path
        The file to write.
    fmt : str
        Output format.
    bit_depth : int
        16, 24 or 32 (float).
    spec : RenderSpec
        Rate, range and block size for the engine.
    stems : StemsMode or None
        ``buses`` (what feeds the master), ``tracks`` (every track) or no stems.
    target : LoudnessTarget or None
        The ``[master]`` loudness target (None: the mix as it comes).
    master_part : bool
        For a section or range: master the part on its own (else the part is cut from the
        whole song's master, at the level it has there).
    workers : int or None
        Render threads.
    qc : bool
        Meter the output and write the QC sidecar.
    cache : bool
        Use the project's track cache (``.mixdown/nodes/``).
    """

    project: Project
    root: Path
    output: Path
    fmt: str
    bit_depth: int
    spec: RenderSpec
    stems: StemsMode | None
    target: LoudnessTarget | None
    master_part: bool
    workers: int | None
    qc: bool
    cache: bool = False

    @property
    def is_part(self) -> bool:
        """A section or a range rather than the whole song."""
        s = self.spec
        return any(v is not None for v in (s.section, s.start_s, s.end_s, s.start, s.end))

    @property
    def cut_from_whole(self) -> bool:
        """A part rendered at its level in the whole song's master."""
        return self.target is not None and self.is_part and not self.master_part


def load(project: str | Path | Project, root: str | Path | None = None
         ) -> tuple[Project, Path]:
    """A project and the folder its assets resolve against (see
    :func:`mixdown.services.loaded.open_any`)."""
    return open_any(project, root)


def plan_render(
    project: str | Path | Project,
    output: str | Path,
    *,
    fmt: str | None = None,
    bit_depth: int | None = None,
    sample_rate: int | None = None,
    stems: bool = False,
    stems_mode: StemsMode = "buses",
    section: str | None = None,
    start: float | str | None = None,
    end: float | str | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
    master: bool = True,
    master_part: bool = False,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    workers: int | None = None,
    root: str | Path | None = None,
    qc: bool = True,
    cache: bool = True,
) -> RenderPlan:
    """Check the options of a render and load its project; nothing is written.

    The parameters are :func:`render_project`'s.
    """
    out = Path(output)
    fmt_name = format_for_path(out, fmt)
    depth = 24 if bit_depth is None else bit_depth
    if depth not in BIT_DEPTHS:
        raise ParameterError(f"bit depth must be 16, 24 or 32, got {depth}")
    if fmt_name == "flac" and depth == 32:
        raise ParameterError("FLAC holds 16 or 24 bits; use --bit-depth 24 or a WAV output")
    if stems_mode not in STEMS_MODES:
        raise ParameterError(f"stems mode must be 'buses' or 'tracks', got {stems_mode!r}")
    check_output_file(out)
    if section is not None and any(v is not None for v in (start, end, start_s, end_s)):
        raise ParameterError("give either a section or a start/end range, not both")
    # A project built in Python with no folder has no cache (nothing written into the cwd).
    has_folder = (root is not None or not isinstance(project, Project)
                  or root_of(project) is not None)
    proj, proj_root = load(project, root)
    _refuse_own_files(proj, proj_root, out, stems)
    spec = RenderSpec(sample_rate=sample_rate, section=section, start_s=start_s, end_s=end_s,
                      start=start, end=end, block_frames=block_frames)
    return RenderPlan(project=proj, root=proj_root, output=out, fmt=fmt_name, bit_depth=depth,
                      spec=spec, stems=stems_mode if stems else None,
                      target=master_target(proj, proj_root) if master else None,
                      master_part=master_part, workers=workers, qc=qc,
                      cache=cache and has_folder)


def render_project(
    project: str | Path | Project,
    output: str | Path,
    *,
    fmt: str | None = None,
    bit_depth: int | None = None,
    sample_rate: int | None = None,
    stems: bool = False,
    stems_mode: StemsMode = "buses",
    section: str | None = None,
    start: float | str | None = None,
    end: float | str | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
    master: bool = True,
    master_part: bool = False,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    workers: int | None = None,
    root: str | Path | None = None,
    progress: Progress | None = None,
    qc: bool = True,
    cache: bool = True,
    version: str | None = None,
) -> RenderReport:
    """Render ``project`` (a folder, a song.toml or a :class:`Project`) to ``output``.

    Parameters
    ----------
    fmt : {"wav", "flac", "mp3", "aiff"}, optional
        Defaults to the output's extension.
    bit_depth : {16, 24, 32}, optional
        16 and 24 are PCM (16-bit is TPDF-dithered with a fixed seed, so renders repeat
        byte for byte); 32 is float (WAV/AIFF only). Default 24.
    sample_rate : int, optional
        44100, 48000, 88200 or 96000 Hz; default the song's.
    stems : bool
        Also write stems into ``<output stem>.stems/`` (replacing that folder).
    stems_mode : {"buses", "tracks"}
        ``buses``: each signal feeding the master (they sum to the mix). ``tracks``: every
        track post-fader, dry of the buses it feeds (they do not sum to the mix when buses
        process them).
    section : str, optional
        Render one marker's section.
    start, end : position, optional
        Render a range: beats, ``"bar:beat"`` or ``"<seconds>s"``.
    start_s, end_s : float, optional
        A range in seconds.
    master : bool
        Apply the ``[master]`` loudness target if the song sets one.
    master_part : bool
        A section or range is cut from the whole song's master (its level in the song); with
        ``master_part`` it is mastered on its own to the target.
    block_frames : int
        Frames per processing block (the output does not depend on it).
    workers : int, optional
        Render threads (default: the CPU count, at most 8).
    root : Path, optional
        The folder asset paths resolve against, for a :class:`Project` not loaded from one.
    progress : callable, optional
        Called as ``progress(done_frames, total_frames)``.
    qc : bool
        Meter the output and write ``<output>.qc.json``.
    cache : bool
        Use the project's track cache (``.mixdown/nodes/``): a track or bus whose inputs
        did not change since an earlier render is read back instead of rendered (the output
        is bit-identical). False neither reads nor writes it. A :class:`Project` built in
        Python with no folder (no ``root``, never loaded or saved) has no cache.
    version : str, optional
        Also keep the render as a review version with this note
        (:func:`mixdown.services.review.keep_version`: the studio of the project's parent
        folder). Whole songs only; the project must be a folder on disk.

    Returns
    -------
    RenderReport
        With ``version`` set when one was kept.
    """
    if version is not None and any(v is not None for v in (section, start, end, start_s,
                                                           end_s)):
        raise ParameterError("a version is the whole song; leave out --section/--start/--end "
                             "to keep one")
    plan = plan_render(project, output, fmt=fmt, bit_depth=bit_depth, sample_rate=sample_rate,
                       stems=stems, stems_mode=stems_mode, section=section, start=start,
                       end=end, start_s=start_s, end_s=end_s, master=master,
                       master_part=master_part, block_frames=block_frames, workers=workers,
                       root=root, qc=qc, cache=cache)
    if version is None:
        return run_render(plan, progress=progress)
    from mixdown.services.review import keep_version, snapshot_text

    snapshot = snapshot_text(project, plan.project, plan.root)
    report = run_render(plan, progress=progress)
    return replace(report, version=keep_version(plan.root, report.output, version,
                                                song_toml=snapshot))


def run_render(plan: RenderPlan, *, progress: Progress | None = None) -> RenderReport:
    """Carry out a :class:`RenderPlan`. Everything is written into a work folder beside the
    output first; the output, its QC sidecar and its stems folder then replace the old ones
    (each atomically), so a failed render leaves them as they were."""
    out = plan.output
    graph = compile_project(plan.project, plan.spec, root=plan.root)
    span = (graph.start_frame, graph.end_frame)
    if plan.cut_from_whole:  # the whole song renders; the part is cut from its master
        graph.close()
        whole = replace(plan.spec, section=None, start=None, end=None, start_s=None,
                        end_s=None)
        graph = compile_project(plan.project, whole, root=plan.root)
    sr, ch = graph.sample_rate, graph.channels
    frames = span[1] - span[0]
    warnings = list(graph.warnings)
    track_cache = _track_cache(plan.project, plan.root, graph) if plan.cache else {}
    mix = _mix_key(plan, graph, track_cache)
    if mix is not None:
        hit = _cached_render(plan, graph, track_cache, mix, progress)
        if hit is not None:
            return hit
    used: list[CacheUse] = []
    with output_folder(out.parent), tempfile.TemporaryDirectory(
            prefix=".mixdown-", dir=out.parent) as tmp:
        work = Path(tmp)
        staged = work / f"output{out.suffix}"  # moved over the output once all is done
        stem_dir = work / "stems"
        stem_writers, stem_paths, stem_sinks = _stem_sinks(plan, graph, stem_dir, span)
        try:
            if plan.target is None:
                analyzer, clipped = _render_plain(plan, staged, graph, stem_sinks, progress,
                                                  track_cache, used)
                if clipped:
                    warnings.append(f"{clipped} samples clipped at full scale in {out.name}; "
                                    "lower the master or set a loudness target")
                mastered = None
            else:
                analyzer, mastered = _render_mastered(plan, staged, graph, span, stem_sinks,
                                                      work, progress, track_cache, used)
                warnings += split_notes(mastered.warnings)[0]
            for w in stem_writers:
                w.close()
        except BaseException:
            for w in stem_writers:
                w.abort()
            raise
        finally:
            if track_cache:
                track_cache["cache"].prune()
        qc_data: dict[str, Any] = {}
        summary = ""
        qc_warnings: tuple[str, ...] = ()
        if analyzer is not None:
            result = analyzer.result()
            qc_warnings = tuple(result.warnings)
            qc_data = {"file": str(out), **result.as_dict()}
            qc_data["warnings"] = list(qc_data.get("warnings", [])) + warnings
            summary = result.summary()
        staged.replace(out)
        if qc_data:
            _write_json(qc_path_for(out), qc_data)
        if plan.stems is not None:
            dest = stems_folder(out)
            with replaced_folder(dest) as new:
                for p in stem_paths:
                    p.replace(new / p.name)
            stem_paths = [stems_folder(out) / p.name for p in stem_paths]
    report = RenderReport(output=out, sample_rate=sr, channels=ch, frames=frames,
                          format=plan.fmt, bit_depth=plan.bit_depth, stems=tuple(stem_paths),
                          qc=qc_data, qc_path=qc_path_for(out) if analyzer is not None else None,
                          summary=summary, warnings=tuple(warnings), qc_warnings=qc_warnings,
                          master=mastered.as_dict() if mastered is not None else None,
                          cache=(_cache_report(used[0], "written" if mix else None)
                                 if used and track_cache else None))
    if mix is not None:
        _keep_render(plan.root, mix, report)
    return report


def _mix_key(plan: RenderPlan, graph: RenderGraph, track_cache: dict[str, Any]) -> str | None:
    """The render cache's key for this render (None: not a render the cache keeps: no
    track cache, stems, a part of the song, a plug-in in the mix)."""
    if not track_cache or plan.stems is not None or plan.is_part:
        return None
    from mixdown.engine.cache import mix_key
    from mixdown.io.node_cache import asset_identity

    target = plan.target
    options = {"fmt": plan.fmt, "bit_depth": plan.bit_depth, "qc": plan.qc,
               "block_frames": plan.spec.block_frames,
               "target": None if target is None else [target.lufs, target.ceiling_dbtp]}
    return mix_key(plan.project, graph, track_cache["keys"], asset_identity(plan.root),
                   options)


def _cached_render(plan: RenderPlan, graph: RenderGraph, track_cache: dict[str, Any],
                   mix: str, progress: Progress | None) -> RenderReport | None:
    """The output of an earlier render with the same mix key, copied from the render cache
    (:mod:`mixdown.io.render_cache`), or None when there is none."""
    from mixdown.io.render_cache import RenderCache

    out = plan.output
    with output_folder(out.parent), tempfile.TemporaryDirectory(
            prefix=".mixdown-", dir=out.parent) as tmp:
        staged = Path(tmp) / f"output{out.suffix}"
        kept = RenderCache.for_project(plan.root).fetch(mix, staged)
        if kept is None:
            return None
        graph.close()
        qc_data = kept["qc"]
        if qc_data:
            qc_data = {"file": str(out), **qc_data}
        staged.replace(out)
        if qc_data:
            _write_json(qc_path_for(out), qc_data)
    frames = int(kept["frames"])
    if progress:
        progress(frames, frames)
    names = [n.name for n, k in zip(graph.nodes, track_cache["keys"], strict=True)
             if k is not None]
    return RenderReport(output=out, sample_rate=graph.sample_rate, channels=graph.channels,
                        frames=frames, format=plan.fmt, bit_depth=plan.bit_depth,
                        qc=qc_data, qc_path=qc_path_for(out) if qc_data else None,
                        summary=kept["summary"], warnings=tuple(kept["warnings"]),
                        qc_warnings=tuple(kept["qc_warnings"]), master=kept["master"],
                        cache={"read": names, "written": [], "skipped": [], "output": "read"})


def _keep_render(root: Path, mix: str, report: RenderReport) -> None:
    """Keep a finished render's output in the render cache, under its mix key."""
    from mixdown.core.jsonable import to_jsonable
    from mixdown.io.render_cache import RenderCache

    qc = {k: v for k, v in report.qc.items() if k != "file"}
    RenderCache.for_project(root).store(mix, report.output, to_jsonable({
        "frames": report.frames, "qc": qc, "summary": report.summary,
        "warnings": list(report.warnings), "qc_warnings": list(report.qc_warnings),
        "master": report.master}))


def _track_cache(project: Project, root: Path, graph: RenderGraph) -> dict[str, Any]:
    """The project's track cache and the graph's node keys, as ``render`` keywords."""
    from mixdown.engine.cache import node_keys
    from mixdown.io.node_cache import NodeCache, asset_identity

    return {"cache": NodeCache.for_project(root),
            "keys": node_keys(project, graph, asset_identity(root))}


def _cache_report(use: CacheUse, output: str | None) -> dict[str, Any]:
    return {"read": list(use.read), "written": list(use.written),
            "skipped": list(use.skipped), "output": output}


def _stem_sinks(plan: RenderPlan, graph: RenderGraph, folder: Path, span: tuple[int, int]
                ) -> tuple[list[AudioWriter], list[Path], dict[int, Callable[[Any], None]]]:
    """Writers for the stems (in a work folder), and the engine's sinks feeding them."""
    if plan.stems is None:
        return [], [], {}
    folder.mkdir()
    nodes = (graph.stem_nodes() if plan.stems == "buses"
             else [n for n in graph.nodes if n.kind == "track"])
    writers: list[AudioWriter] = []
    paths: list[Path] = []
    sinks: dict[int, Callable[[Any], None]] = {}
    used: set[str] = set()
    ext = "wav" if plan.fmt == "mp3" else plan.fmt
    for k, node in enumerate(nodes):
        name = _safe_name(node.name)
        while name.lower() in used:
            name += "_"
        used.add(name.lower())
        p = folder / f"{k + 1:02d} {name}.{ext}"
        w = AudioWriter(p, graph.sample_rate, graph.channels,
                        bit_depth=plan.bit_depth if plan.fmt != "mp3" else 24,
                        dither="tpdf" if plan.bit_depth == 16 else "none", dither_seed=k + 1)
        writers.append(w)
        paths.append(p)
        sink = w.write
        if plan.cut_from_whole:
            sink = _cut(w.write, span[0] - graph.start_frame, span[1] - graph.start_frame)
        sinks[node.index] = sink
    return writers, paths, sinks


def _cut(sink: Callable[[Any], None], first: int, last: int) -> Callable[[Any], None]:
    """A sink that passes on only frames ``[first, last)`` of the stream it receives."""
    pos = 0

    def push(block: AudioArray) -> None:
        nonlocal pos
        a, b = max(first, pos), min(last, pos + block.shape[1])
        if a < b:
            sink(block[:, a - pos:b - pos])
        pos += block.shape[1]

    return push


def _render_plain(plan: RenderPlan, dest: Path, graph: RenderGraph,
                  stem_sinks: dict[int, Callable[[Any], None]], progress: Progress | None,
                  track_cache: dict[str, Any], used: list[CacheUse]) -> tuple[Any, int]:
    """The mix as it comes (no loudness target): returns the QC analyzer and the number of
    samples clipped."""
    total = graph.frames
    analyzer = _analyzer(graph.sample_rate, graph.channels) if plan.qc else None
    main = AudioWriter(dest, graph.sample_rate, graph.channels, fmt=plan.fmt,
                       bit_depth=plan.bit_depth, dither="tpdf" if plan.bit_depth == 16 else "none")
    done = 0

    def consume(block: AudioArray) -> None:
        nonlocal done
        main.write(block)
        if analyzer is not None:
            analyzer.push(block)
        done += block.shape[1]
        if progress:
            progress(done, total)

    try:
        # Encoding and metering run on a second thread, beside the render's workers.
        with Consumer(consume) as consumer:
            used.append(render(graph, lambda b: consumer.put(b.copy()),
                               block_frames=plan.spec.block_frames, stem_sinks=stem_sinks,
                               workers=plan.workers, **track_cache))
    except BaseException:
        main.abort()
        raise
    main.close()
    return analyzer, main.clipped_samples


def _render_mastered(plan: RenderPlan, dest: Path, graph: RenderGraph,
                     span: tuple[int, int],
                     stem_sinks: dict[int, Callable[[Any], None]], work: Path,
                     progress: Progress | None, track_cache: dict[str, Any],
                     used: list[CacheUse]) -> tuple[Any, Any]:
    """Render the pre-target mix and master it to the target by measurement
    (:func:`~mixdown.services.premaster.master_premaster`). A part cut from the whole song
    is mastered whole into the work folder, then frames ``span`` are copied out.

    Returns the QC analyzer that watched what was written, and the ``MasterResult``.
    """
    assert plan.target is not None
    sr, ch, total = graph.sample_rate, graph.channels, graph.frames

    def produce(push: Callable[[AudioArray], None]) -> None:
        with Consumer(push) as consumer:
            used.append(render(graph, lambda b: consumer.put(b.copy()),
                               block_frames=plan.spec.block_frames, stem_sinks=stem_sinks,
                               workers=plan.workers, **track_cache))

    def step(fraction: float) -> None:
        if progress:
            progress(int(fraction * total), total)

    if not plan.cut_from_whole:
        result = master_premaster(produce, dest, target=plan.target, workdir=work,
                                  sample_rate=sr, channels=ch, fmt=plan.fmt,
                                  bit_depth=plan.bit_depth, qc=plan.qc, progress=step)
        return result.analyzer, result
    whole = work / "whole-master.wav"
    result = master_premaster(produce, whole, target=plan.target, workdir=work,
                              sample_rate=sr, channels=ch, bit_depth=32, progress=step)
    analyzer = _analyzer(sr, ch) if plan.qc else None
    first = span[0] - graph.start_frame
    _copy_span(whole, dest, plan, first, first + span[1] - span[0], analyzer)
    return analyzer, result


def _copy_span(source: Path, dest: Path, plan: RenderPlan, first: int, last: int,
               analyzer: Any) -> None:
    """Copy frames ``[first, last)`` of ``source`` (zeros past its end) into the output."""
    from mixdown.io.audio import iter_blocks

    info_ch = None
    pos = 0
    writer: AudioWriter | None = None
    try:
        for block in iter_blocks(source, plan.spec.block_frames):
            if writer is None:
                info_ch = block.shape[0]
                writer = _part_writer(plan, dest, source, info_ch)
            a, b = max(first, pos), min(last, pos + block.shape[1])
            if a < b:
                piece = np.ascontiguousarray(block[:, a - pos:b - pos])
                writer.write(piece)
                if analyzer is not None:
                    analyzer.push(piece)
            pos += block.shape[1]
        if writer is None:
            raise ModelError(f"{plan.output}: the song rendered no audio")
        missing = last - max(first, pos)
        if missing > 0:
            pad = np.zeros((info_ch or 2, missing), np.float32)
            writer.write(pad)
            if analyzer is not None:
                analyzer.push(pad)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    writer.close()


def _part_writer(plan: RenderPlan, dest: Path, source: Path, channels: int) -> AudioWriter:
    from mixdown.io.audio import audio_info

    return AudioWriter(dest, audio_info(source).sample_rate, channels, fmt=plan.fmt,
                       bit_depth=plan.bit_depth,
                       dither="tpdf" if plan.bit_depth == 16 else "none")


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_ ." else "_" for c in name).strip(" .")
    return keep or "stem"


def _refuse_own_files(project: Project, root: Path, out: Path, stems: bool) -> None:
    """Refuse an output that would overwrite the project's song.toml or one of its assets."""
    own = {(root / "song.toml").resolve()}
    for track in project.tracks:
        for clip in track.clips:
            for rel in (clip.file, clip.midi):
                if rel:
                    own.add((root / rel).resolve())
        for take in track.takes:
            own.add((root / take.file).resolve())
        if track.instrument is not None:
            for zone in track.instrument.params.get("zones") or ():
                if isinstance(zone, dict) and isinstance(zone.get("file"), str):
                    own.add((root / zone["file"]).resolve())
    targets = [out.resolve(), qc_path_for(out).resolve()]
    if stems:
        targets.append(stems_folder(out).resolve())
    for t in targets:
        if t in own or any(o.is_relative_to(t) for o in own):
            raise ParameterError(f"{out}: writing there would overwrite the project's own "
                                 f"{t.name}; choose another output path (nothing was written)")


def _analyzer(sr: int, ch: int) -> Any:
    from mixdown.analysis.qc import Analyzer

    return Analyzer(sr, ch)


def master_target(project: Project, root: Path | None = None) -> LoudnessTarget | None:
    """The ``[master]`` loudness target (None: none set), with the project's
    ``targets.toml`` (in ``root``) applied as the loader applies it."""
    m = project.master
    if m.target is None and m.target_lufs is None:
        return None
    lufs, ceiling = -14.0, -1.0
    if m.target is not None:
        from mixdown.core.targets import resolve_target

        t = resolve_target(m.target, project_dir=root)
        lufs, ceiling = t.lufs, t.ceiling_dbtp
    if m.target_lufs is not None:
        lufs = m.target_lufs
    if m.ceiling_dbtp is not None:
        ceiling = m.ceiling_dbtp
    if not (math.isfinite(lufs) and math.isfinite(ceiling)):
        raise ModelError("master: target_lufs and ceiling_dbtp must be finite")
    return LoudnessTarget(lufs, ceiling)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from mixdown.core.files import atomic_path
    from mixdown.core.jsonable import to_jsonable

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n")


def render_audio(project: str | Path | Project, *, root: str | Path | None = None,
                 sample_rate: int | None = None, section: str | None = None,
                 start_s: float | None = None, end_s: float | None = None,
                 tail_s: float | None = None,
                 block_frames: int = DEFAULT_BLOCK_FRAMES,
                 workers: int | None = None, cache: bool = False) -> tuple[Any, int]:
    """Render the pre-target mix into memory: ``(float32 (channels, frames), sample_rate)``.

    For tests and notebooks; files go through :func:`render_project`, which streams.
    ``cache`` uses the project's track cache as :func:`render_project` does.
    """
    import numpy as np

    proj, proj_root = load(project, root)
    spec = RenderSpec(sample_rate=sample_rate, section=section, start_s=start_s, end_s=end_s,
                      tail_s=tail_s, block_frames=block_frames)
    graph = compile_project(proj, spec, root=proj_root)
    track_cache = _track_cache(proj, proj_root, graph) if cache else {}
    blocks: list[Any] = []
    render(graph, lambda b: blocks.append(b.copy()), block_frames=block_frames, workers=workers,
           **track_cache)
    if track_cache:
        track_cache["cache"].prune()
    audio = np.concatenate(blocks, axis=1) if blocks else np.zeros((2, 0), np.float32)
    return audio, graph.sample_rate


def render_stems_audio(project: str | Path | Project, *, root: str | Path | None = None,
                       block_frames: int = DEFAULT_BLOCK_FRAMES,
                       tail_s: float | None = None
                       ) -> tuple[Any, dict[str, Any], int]:
    """Render the mix and every stem into memory: ``(mix, {name: stem}, sample_rate)``."""
    import numpy as np

    proj, proj_root = load(project, root)
    graph = compile_project(proj, RenderSpec(block_frames=block_frames, tail_s=tail_s),
                            root=proj_root)
    mix: list[Any] = []
    stems: dict[str, list[Any]] = {n.name: [] for n in graph.stem_nodes()}
    sinks = {n.index: (lambda b, name=n.name: stems[name].append(b.copy()))
             for n in graph.stem_nodes()}
    render(graph, lambda b: mix.append(b.copy()), block_frames=block_frames, stem_sinks=sinks)
    return (np.concatenate(mix, axis=1),
            {k: np.concatenate(v, axis=1) for k, v in stems.items()}, graph.sample_rate)
