"""Level meters for the mixer: one render of the song measured at every strip.

Nothing the studio kept measured single strips (a review version's QC covers the mix only,
and the track cache holds pre-fader signals), so :func:`render_meters` renders the song
once with the engine's stem taps on every track and bus (each strip's post-fader output,
dry of the buses it feeds) and measures each one as it streams: sample peak (dBFS), RMS
(dBFS, all channels), the loudest 3-second short-term loudness and the integrated loudness
(LUFS). The master strip measures the mix before any ``[master]`` loudness target (the
mixer's fader and devices, not the mastering). The mix is also written as a 24-bit WAV to
play in the page.

Results are kept per revision of song.toml (the SHA-256 of its bytes) in
``<project>/.mixdown/mixer/``, so the same mix is measured once; the track cache makes a
render after a fader, pan or send change cheap (those settings are not part of a track's
cache key).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mixdown.analysis.loudness import LoudnessMeter
from mixdown.core.audio import AudioArray
from mixdown.core.errors import MixdownError
from mixdown.core.files import atomic_path
from mixdown.engine.compile import compile_project
from mixdown.engine.render import render
from mixdown.io.audio import AudioWriter
from mixdown.io.project import open_project, project_file_path
from mixdown.services.history import current_revision
from mixdown.services.loaded import remember_root
from mixdown.services.render import plan_render

__all__ = ["KEEP", "METER_DIR", "MeterReport", "StripMeter", "last_meters", "preview_path",
           "render_meters"]

METER_DIR = Path(".mixdown") / "mixer"
KEEP = 6
"""Measurements (whole song or section) kept with their preview; older ones are deleted."""
FLOOR_DB = -150.0
"""What silence reads as (dBFS / LUFS), so that the JSON holds only finite numbers."""

Progress = Callable[[float, str], None]


@dataclass(frozen=True, slots=True)
class StripMeter:
    """One strip's levels over the whole render: dBFS and LUFS (``FLOOR_DB`` for silence)."""

    key: str
    peak_dbfs: float
    rms_dbfs: float
    short_term_lufs: float
    integrated_lufs: float


@dataclass(frozen=True, slots=True)
class MeterReport:
    """The meters of one render: ``strips`` by strip key (``track:Name``, ``bus:Name``,
    ``master:master``); ``pre_target`` says the master was measured before a loudness
    target the song sets."""

    revision: str
    sample_rate: int
    duration_s: float
    pre_target: bool
    strips: dict[str, StripMeter]
    section: str | None = None
    """The marker section rendered (a quick preview), or None for the whole song."""

    @property
    def name(self) -> str:
        """The name the report and its WAV are kept under (see :func:`preview_path`)."""
        return _name(self.revision, self.section)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "name": self.name}


def _db(x: float) -> float:
    return round(max(FLOOR_DB, 20.0 * math.log10(x)) if x > 0 else FLOOR_DB, 3)


def _lufs(x: float) -> float:
    return round(x, 3) if math.isfinite(x) and x > FLOOR_DB else FLOOR_DB


class _Meter:
    """Peak, RMS and loudness of a stream of (channels, frames) blocks."""

    def __init__(self, key: str, sample_rate: int, channels: int) -> None:
        self.key = key
        self.peak = 0.0
        self.energy = 0.0
        self.samples = 0
        self.loudness = LoudnessMeter(sample_rate, channels)

    def push(self, block: AudioArray) -> None:
        if block.size:
            self.peak = max(self.peak, float(np.max(np.abs(block))))
            self.energy += float(np.dot(block.ravel().astype(np.float64),
                                        block.ravel().astype(np.float64)))
            self.samples += block.size
        self.loudness.push(block)

    def result(self) -> StripMeter:
        rms = math.sqrt(self.energy / self.samples) if self.samples else 0.0
        return StripMeter(self.key, _db(self.peak), _db(rms),
                          _lufs(self.loudness.max_short_term_lufs()),
                          _lufs(self.loudness.integrated_lufs()))


def _folder(project: str | Path) -> Path:
    return project_file_path(project).absolute().parent / METER_DIR


_NAME = re.compile(r"[0-9a-f]{64}(-[0-9a-f]{16})?")


def _name(revision: str, section: str | None) -> str:
    if section is None:
        return revision
    return f"{revision}-{hashlib.sha256(section.encode('utf-8')).hexdigest()[:16]}"


def preview_path(project: str | Path, name: str) -> Path:
    """The WAV of the mix measured as ``name`` (:attr:`MeterReport.name`: the revision,
    and for a section a suffix); it may not exist."""
    if not _NAME.fullmatch(name):
        raise MixdownError(f"{name!r}: not a measured mix's name")
    return _folder(project) / f"{name}.wav"


def _read(path: Path) -> MeterReport | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        strips = {k: StripMeter(**v) for k, v in raw["strips"].items()}
        return MeterReport(raw["revision"], int(raw["sample_rate"]),
                           float(raw["duration_s"]), bool(raw["pre_target"]), strips,
                           raw.get("section"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def last_meters(project: str | Path) -> MeterReport | None:
    """The latest meters of the current song.toml if measured (the whole song or a
    section), else of the latest measured revision (compare its ``revision`` with the
    song's), else None."""
    folder = _folder(project)
    found = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True) \
        if folder.is_dir() else []
    current = current_revision(project)
    reports = [r for r in map(_read, found) if r is not None]
    return next((r for r in reports if r.revision == current), reports[0] if reports else None)


def _prune(folder: Path) -> None:
    reports = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in reports[KEEP:]:
        old.unlink(missing_ok=True)
        old.with_suffix(".wav").unlink(missing_ok=True)


def render_meters(project: str | Path, *, section: str | None = None,
                  progress: Progress | None = None) -> MeterReport:
    """Render the song as it is on disk, measure every strip, keep the result and the mix
    (a WAV, see :func:`preview_path`) under the current revision; a revision measured
    before is read back, not rendered again.

    Parameters
    ----------
    project : str or Path
        The project folder (or its song.toml).
    section : str, optional
        Render only this marker's section (a quick preview of part of the song).
    progress : callable, optional
        ``progress(fraction 0..1, stage)``.

    Raises
    ------
    MixdownError
        The song does not load or render (the checker's or renderer's message).
    """
    folder = _folder(project)
    for _ in range(3):  # song.toml may change while it is read: load until it holds still
        revision = current_revision(project)
        pf = open_project(project)
        if current_revision(project) == revision:
            break
    else:
        raise MixdownError(f"{project_file_path(project)}: song.toml keeps changing; "
                           "measure again when it is saved")
    name = _name(revision, section)
    cached = _read(folder / f"{name}.json")
    if cached is not None and (folder / f"{name}.wav").is_file():
        (folder / f"{name}.json").touch()  # the latest measured again
        if progress:
            progress(1.0, "measured before")
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    wav = folder / f"{name}.wav"
    plan = plan_render(remember_root(pf.project, pf.root), wav, master=False, qc=False,
                       section=section)
    graph = compile_project(plan.project, plan.spec, root=plan.root)
    sr, ch, total = graph.sample_rate, graph.channels, graph.frames
    meters = {n.index: _Meter(f"{n.kind}:{n.name}", sr, ch)
              for n in graph.nodes if n.kind in ("track", "bus")}
    mix = _Meter("master:master", sr, ch)
    writer = AudioWriter(wav, sr, ch, bit_depth=24)
    done = 0

    def out(block: AudioArray) -> None:
        nonlocal done
        writer.write(block)
        mix.push(block)
        done += block.shape[1]
        if progress:
            progress(0.95 * done / max(total, 1), "rendering")

    from mixdown.engine.cache import node_keys
    from mixdown.io.node_cache import NodeCache, asset_identity

    cache = NodeCache.for_project(plan.root)
    if progress:
        progress(0.0, "rendering")
    try:
        render(graph, out, block_frames=plan.spec.block_frames,
               stem_sinks={i: m.push for i, m in meters.items()}, cache=cache,
               keys=node_keys(plan.project, graph, asset_identity(plan.root)))
    except BaseException:
        writer.abort()
        raise
    finally:
        graph.close()
        cache.prune()
    writer.close()
    strips = {m.key: m.result() for m in meters.values()}
    strips[mix.key] = mix.result()
    report = MeterReport(revision, sr, total / sr, plan.project.master.target is not None
                         or plan.project.master.target_lufs is not None, strips, section)
    with atomic_path(folder / f"{name}.json") as tmp:
        tmp.write_text(json.dumps(report.as_dict(), indent=1), encoding="utf-8")
    _prune(folder)
    if progress:
        progress(1.0, "measured")
    return report
