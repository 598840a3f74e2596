"""Use cases on projects: scaffold, check, describe."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from mixdown.core.errors import MixdownError, ModelError
from mixdown.engine.compile import RenderSpec, Timeline, compile_project
from mixdown.model.project import Project, Track


def new_project(folder: str | Path, *, title: str | None = None) -> Path:
    """Create a project folder from the starter template; returns its song.toml.

    Refuses a folder that exists and is not empty.
    """
    dest = Path(folder)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise MixdownError(f"{dest}: exists and is not empty; choose a new folder")
    if not dest.parent.exists():
        raise MixdownError(f"{dest}: the parent folder {dest.parent} does not exist")
    template = resources.files("mixdown") / "templates" / "new"
    created = not dest.exists()
    try:
        dest.mkdir(exist_ok=True)
        with resources.as_file(template) as src:
            for item in Path(src).rglob("*"):
                rel = item.relative_to(src)
                if "__pycache__" in rel.parts:
                    continue
                if item.is_dir():
                    (dest / rel).mkdir(parents=True, exist_ok=True)
                else:
                    (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(item, dest / rel)
        for sub in ("audio", "midi", "renders"):
            (dest / sub).mkdir(exist_ok=True)
        song = dest / "song.toml"
        if title:
            text = song.read_text()
            import tomlkit

            doc = tomlkit.parse(text)
            doc["song"]["title"] = title  # type: ignore[index]
            song.write_text(tomlkit.dumps(doc))
    except BaseException:
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        raise
    return song


@dataclass(slots=True)
class CheckReport:
    """The outcome of checking a project."""

    path: Path
    project: Project
    duration_s: float
    tracks: int
    buses: int


def check_project(path: str | Path) -> CheckReport:
    """Load, validate and compile a project without writing anything."""
    from mixdown.io.project import open_project

    pf = open_project(path)
    graph = compile_project(pf.project, RenderSpec(tail_s=0.0), root=pf.root, dry_run=True)
    graph.close()
    return CheckReport(pf.path, pf.project, graph.frames / graph.sample_rate,
                       len(pf.project.tracks), len(pf.project.buses))


def describe_project(path: str | Path) -> dict[str, Any]:
    """Tracks, buses, length, tempo map, sections and devices, as plain data."""
    from mixdown.io.project import open_project

    pf = open_project(path)
    p = pf.project
    graph = compile_project(p, RenderSpec(tail_s=0.0), root=pf.root, dry_run=True)
    graph.close()
    sr = graph.sample_rate
    tl = Timeline(p, sr)

    def channel(c: Any) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": c.name, "volume_db": c.volume_db, "pan": c.pan, "mute": c.mute,
            "solo": c.solo, "output": c.output,
            "devices": [d.name or d.type for d in c.devices],
            "sends": {s.to: s.level_db for s in c.sends},
            "automation": [a.param for a in c.automation],
        }
        if isinstance(c, Track):
            d["instrument"] = c.instrument.type if c.instrument else None
            d["clips"] = len(c.clips)
        return d

    markers = []
    for mk in sorted(p.markers, key=lambda m: tl.beats(m.at)):
        beats = tl.beats(mk.at)
        bar, beat = tl.meter.beats_to_bar_beat(beats)
        markers.append({"name": mk.name, "bar": bar, "beat": beat,
                        "seconds": tl.tempo.beats_to_seconds(beats)})
    return {
        "file": str(pf.path), "title": p.song.title, "artist": p.song.artist,
        "sample_rate": sr, "duration_s": graph.frames / sr,
        "tempo_map": [{"beat": t.beat, "bpm": t.bpm, "ramp": t.ramp} for t in tl.tempo.points],
        "time_signatures": [{"bar": s.bar, "signature": [s.numerator, s.denominator]}
                            for s in tl.meter.signatures],
        "sections": markers,
        "tracks": [channel(t) for t in p.tracks],
        "buses": [channel(b) for b in p.buses],
        "master": {"volume_db": p.master.volume_db,
                   "devices": [d.name or d.type for d in p.master.devices],
                   "target": p.master.target, "target_lufs": p.master.target_lufs,
                   "ceiling_dbtp": p.master.ceiling_dbtp},
    }


def require_project(path: str | Path) -> Path:
    """The song.toml for a folder or file argument."""
    p = Path(path)
    song = p / "song.toml" if p.is_dir() else p
    if not song.exists():
        raise ModelError(f"{song}: no such project file")
    return song
