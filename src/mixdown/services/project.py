"""Use cases on projects: scaffold, check, describe."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mixdown.core.errors import MixdownError, ModelError
from mixdown.engine.compile import build_graph
from mixdown.model.project import Project, Track
from mixdown.resolve import AssetCatalog, ResolvedSong, Span, resolve_project


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
    """The outcome of checking a project: what it holds and what to look at.

    ``warnings`` are things that render but are probably not meant (a clip after the
    song's end, fades longer than their clip), one line each.
    """

    path: Path
    project: Project
    duration_s: float
    tracks: int
    buses: int
    warnings: list[str] = field(default_factory=list)


def _resolved(path: str | Path) -> tuple[Any, ResolvedSong]:
    """Load and resolve a project with a dry-run catalog; build (and drop) its graph so that
    every device is constructed once, as a render would."""
    from mixdown.io.project import open_project, project_file_path

    pf = open_project(path)
    song = resolve_project(pf.project, AssetCatalog(pf.root, dry_run=True),
                           span=Span(tail_s=0.0), label=str(project_file_path(path)),
                           text=pf.text)
    build_graph(song).close()
    return pf, song


def check_text(path: str | Path, text: str) -> Project:
    """Check ``text`` as the song.toml of the project at ``path``, as ``mixdown check``
    would, without writing anything; returns the project it describes.

    Raises
    ------
    FormatError, ModelError, ProjectProblems
        The first problem found (the same messages as :func:`check_project`).
    """
    import tomllib

    from mixdown.io.project import document_to_project, project_file_path

    file = project_file_path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{file}: not valid TOML ({exc})") from None
    project = document_to_project(data, label=str(file))
    song = resolve_project(project, AssetCatalog(file.absolute().parent, dry_run=True),
                           span=Span(tail_s=0.0), label=str(file), text=text)
    build_graph(song).close()
    return project


def check_project(path: str | Path) -> CheckReport:
    """Load, validate and resolve a project without writing anything.

    Raises
    ------
    FormatError, ModelError
        The file cannot be parsed or its model is invalid (the first problem).
    ProjectProblems
        Every other problem found, one line each.
    """
    pf, song = _resolved(path)
    frames = song.end_frames - song.start_frames
    return CheckReport(pf.path, pf.project, frames / song.sample_rate,
                       len(pf.project.tracks), len(pf.project.buses), list(song.warnings))


def describe_project(path: str | Path) -> dict[str, Any]:
    """Tracks, buses, length, tempo map, sections and devices, as plain data."""
    pf, song = _resolved(path)
    p = pf.project
    sr = song.sample_rate

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
    for mk in song.markers:
        bar, beat = song.meter.beats_to_bar_beat(mk.beats)
        markers.append({"name": mk.name, "bar": bar, "beat": beat,
                        "seconds": song.tempo.beats_to_seconds(mk.beats)})
    return {
        "file": str(pf.path), "title": p.song.title, "artist": p.song.artist,
        "sample_rate": sr, "duration_s": (song.end_frames - song.start_frames) / sr,
        "tempo_map": [{"beat": t.beat, "bpm": t.bpm, "ramp": t.ramp}
                      for t in song.tempo.points],
        "time_signatures": [{"bar": s.bar, "signature": [s.numerator, s.denominator]}
                            for s in song.meter.signatures],
        "sections": markers,
        "tracks": [channel(t) for t in p.tracks],
        "buses": [channel(b) for b in p.buses],
        "master": {"volume_db": p.master.volume_db,
                   "devices": [d.name or d.type for d in p.master.devices],
                   "target": p.master.target, "target_lufs": p.master.target_lufs,
                   "ceiling_dbtp": p.master.ceiling_dbtp},
        "warnings": list(song.warnings),
    }


def require_project(path: str | Path) -> Path:
    """The song.toml for a folder or file argument."""
    p = Path(path)
    song = p / "song.toml" if p.is_dir() else p
    if not song.exists():
        raise ModelError(f"{song}: no such project file")
    return song
