"""Use case: render a project to an audio file (and stems), with a QC sidecar."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mixdown.core.errors import FormatError, ModelError, ParameterError
from mixdown.core.pipeline import Consumer
from mixdown.engine.compile import RenderSpec, compile_project
from mixdown.engine.graph import DEFAULT_BLOCK_FRAMES
from mixdown.engine.render import render
from mixdown.io.audio import AudioWriter, format_for_path
from mixdown.model.project import Project

BIT_DEPTHS = (16, 24, 32)


@dataclass(slots=True)
class RenderReport:
    """What a render wrote and measured."""

    output: Path
    sample_rate: int
    channels: int
    frames: int
    format: str
    bit_depth: int
    stems: list[Path] = field(default_factory=list)
    qc: dict[str, Any] = field(default_factory=dict)
    qc_path: Path | None = None
    summary: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """Length of the output in seconds."""
        return self.frames / self.sample_rate

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {
            "output": str(self.output), "format": self.format, "bit_depth": self.bit_depth,
            "sample_rate": self.sample_rate, "channels": self.channels,
            "duration_s": self.duration_s, "stems": [str(s) for s in self.stems],
            "qc_file": str(self.qc_path) if self.qc_path else None, "qc": self.qc,
            "summary": self.summary, "warnings": self.warnings,
        }


def load(project: str | Path | Project, root: str | Path | None = None) -> tuple[Project, Path]:
    """A project and the folder its assets resolve against."""
    from mixdown.resolve import check_project, open_project

    if isinstance(project, Project):
        folder = Path(root) if root is not None else Path.cwd()
        check_project(project, folder, label="project")  # the checks a song.toml gets
        return project, folder

    pf = open_project(project)
    return pf.project, pf.root


def stems_folder(output: Path) -> Path:
    """``mix.wav`` -> ``mix.stems/``."""
    return output.with_name(output.stem + ".stems")


def qc_path_for(output: Path) -> Path:
    """``mix.wav`` -> ``mix.qc.json``."""
    return output.with_name(output.stem + ".qc.json")


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_ ." else "_" for c in name).strip(" .")
    return keep or "stem"


def render_project(
    project: str | Path | Project,
    output: str | Path,
    *,
    fmt: str | None = None,
    bit_depth: int | None = None,
    sample_rate: int | None = None,
    stems: bool = False,
    section: str | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
    start: float | str | None = None,
    end: float | str | None = None,
    master: bool = True,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    workers: int | None = None,
    root: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    qc: bool = True,
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
        Also write each signal feeding the master into ``<output stem>.stems/``.
    section : str, optional
        Render one marker's section.
    start, end : position, optional
        Render a range: beats, ``"bar:beat"`` or ``"<seconds>s"``.
    master : bool
        Apply the master's loudness target if the song sets one.
    progress : callable, optional
        Called as ``progress(done_frames, total_frames)``.

    Returns
    -------
    RenderReport
    """
    out = Path(output)
    fmt_name = format_for_path(out, fmt)
    depth = 24 if bit_depth is None else bit_depth
    if depth not in BIT_DEPTHS:
        raise ParameterError(f"bit depth must be 16, 24 or 32, got {depth}")
    if fmt_name == "flac" and depth == 32:
        raise ParameterError("FLAC holds 16 or 24 bits; use --bit-depth 24 or a WAV output")
    if not out.parent.exists():
        raise FormatError(f"{out}: the folder {out.parent} does not exist; create it first", out)
    if out.is_dir():
        raise FormatError(f"{out}: is a folder; give a file name such as {out / 'mix.wav'}", out)
    proj, proj_root = load(project, root)
    _refuse_own_files(proj, proj_root, out, stems)
    if section is not None and (start is not None or end is not None):
        raise ParameterError("give either a section or a start/end range, not both")
    spec = RenderSpec(sample_rate=sample_rate, section=section, start_s=start_s, end_s=end_s,
                      start=start, end=end, block_frames=block_frames)
    graph = compile_project(proj, spec, root=proj_root)
    sr, ch = graph.sample_rate, graph.channels
    target = _master_target(proj, proj_root) if master else None

    writers: list[AudioWriter] = []
    stem_paths: list[Path] = []
    stem_sinks: dict[int, Callable[[Any], None]] = {}
    analyzer = _analyzer(sr, ch) if qc and target is None else None
    try:
        if stems:
            folder = stems_folder(out)
            folder.mkdir(exist_ok=True)
            used: set[str] = set()
            for k, node in enumerate(graph.stem_nodes()):
                name = _safe_name(node.name)
                while name.lower() in used:
                    name += "_"
                used.add(name.lower())
                p = folder / f"{k + 1:02d} {name}.{'wav' if fmt_name == 'mp3' else fmt_name}"
                w = AudioWriter(p, sr, ch, bit_depth=depth if fmt_name != "mp3" else 24,
                                dither="tpdf" if depth == 16 else "none", dither_seed=k + 1)
                writers.append(w)
                stem_paths.append(p)
                stem_sinks[node.index] = w.write
        total = graph.frames
        done = 0

        if target is None:
            main = AudioWriter(out, sr, ch, fmt=fmt_name, bit_depth=depth,
                               dither="tpdf" if depth == 16 else "none")
            writers.append(main)

            def consume(block: Any) -> None:
                nonlocal done
                main.write(block)
                if analyzer is not None:
                    analyzer.push(block)
                done += block.shape[1]
                if progress:
                    progress(done, total)

            # Encoding and metering run on a second thread, beside the render's workers.
            with Consumer(consume) as consumer:
                render(graph, lambda b: consumer.put(b.copy()), block_frames=block_frames,
                       stem_sinks=stem_sinks, workers=workers)
            clipped = main.clipped_samples
            for w in writers:
                w.close()
            warnings = list(graph.warnings)
            if clipped:
                warnings.append(f"{clipped} samples clipped at full scale in {out.name}; "
                                "lower the master or set a loudness target")
        else:
            warnings, mastered_analyzer = _render_mastered(
                graph, out, fmt_name, depth, target, stem_sinks, writers, block_frames,
                workers, qc, progress)
            warnings = list(graph.warnings) + warnings  # the resolve step's warnings too
            analyzer = mastered_analyzer
    except BaseException:
        for w in writers:
            w.abort()
        if stems:
            folder = stems_folder(out)
            if folder.exists() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    report = RenderReport(output=out, sample_rate=sr, channels=ch, frames=total,
                          format=fmt_name, bit_depth=depth, stems=stem_paths, warnings=warnings)
    if analyzer is not None:
        result = analyzer.result()
        report.qc = {"file": str(out), **result.to_dict()}
        report.qc["warnings"] = list(report.qc.get("warnings", [])) + warnings
        report.summary = result.summary()
        report.qc_path = qc_path_for(out)
        _write_json(report.qc_path, report.qc)
    return report


def _refuse_own_files(project: Project, root: Path, out: Path, stems: bool) -> None:
    """Refuse an output that would overwrite the project's song.toml or one of its assets."""
    own = {(root / "song.toml").resolve()}
    for track in project.tracks:
        for clip in track.clips:
            for rel in (clip.file, clip.midi):
                if rel:
                    own.add((root / rel).resolve())
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


def _master_target(project: Project, root: Path | None = None) -> tuple[float, float] | None:
    """``(target_lufs, ceiling_dbtp)`` of ``[master]`` (None: no target), with the
    project's ``targets.toml`` (in ``root``) applied as the loader applies it."""
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
    return lufs, ceiling


def _render_mastered(graph: Any, out: Path, fmt_name: str, depth: int,
                     target: tuple[float, float], stem_sinks: dict[int, Any],
                     writers: list[AudioWriter], block_frames: int, workers: int | None,
                     qc: bool, progress: Callable[[int, int], None] | None
                     ) -> tuple[list[str], Any]:
    """Render the pre-target mix to a temporary float file while measuring it, then master
    it to the target by measurement (:func:`~mixdown.mastering.normalize.master_to_target`).

    Returns the warnings and the QC analyzer that watched the master that was written.
    """
    import tempfile

    from mixdown.analysis.loudness import LoudnessMeter
    from mixdown.mastering.normalize import master_to_target

    sr, ch = graph.sample_rate, graph.channels
    total = graph.frames
    with tempfile.TemporaryDirectory(prefix=".mixdown-", dir=out.parent) as tmp:
        pre = Path(tmp) / "premaster.wav"
        w = AudioWriter(pre, sr, ch, bit_depth=32)
        meter = LoudnessMeter(sr, ch)
        done = 0

        def consume(block: Any) -> None:
            nonlocal done
            w.write(block)
            meter.push(block)
            done += block.shape[1]
            if progress:
                progress(done // 2, total)

        try:
            with Consumer(consume) as consumer:
                render(graph, lambda b: consumer.put(b.copy()), block_frames=block_frames,
                       stem_sinks=stem_sinks, workers=workers)
        except BaseException:
            w.abort()
            raise
        w.close()
        for sw in writers:
            sw.close()

        def master_progress(fraction: float) -> None:
            if progress:
                progress(total // 2 + int(fraction * (total - total // 2)), total)

        result = master_to_target(
            pre, out, target_lufs=target[0], ceiling_dbtp=target[1], fmt=fmt_name,
            bit_depth=depth, analyzer_factory=(lambda: _analyzer(sr, ch)) if qc else None,
            input_lufs=meter.integrated_lufs(), input_true_peak_dbtp=math.nan,  # not needed
            progress=master_progress)
    return list(result.warnings), result.analyzer


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
                 workers: int | None = None) -> tuple[Any, int]:
    """Render the pre-target mix into memory: ``(float32 (channels, frames), sample_rate)``.

    For tests and notebooks; files go through :func:`render_project`, which streams.
    """
    import numpy as np

    proj, proj_root = load(project, root)
    spec = RenderSpec(sample_rate=sample_rate, section=section, start_s=start_s, end_s=end_s,
                      tail_s=tail_s, block_frames=block_frames)
    graph = compile_project(proj, spec, root=proj_root)
    blocks: list[Any] = []
    render(graph, lambda b: blocks.append(b.copy()), block_frames=block_frames, workers=workers)
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
