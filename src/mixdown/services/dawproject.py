"""Use cases for DAWproject files (Bitwig Studio, Studio One, Cubase): import, export, check.

Import opens the zip safely (:class:`~mixdown.io.dawproject_archive.DawprojectArchive`),
maps the whole file before anything is written, then builds the project in a hidden folder
beside the output: the referenced audio and device states are streamed out of the zip
(capped), each audio file is opened once to prove it reads, the project is saved with the
project's own atomic save and checked as ``mixdown check`` would, and only then moved into
place. A failure at any step leaves the output folder as it was.

Export writes the zip to a temporary file beside the output and renames it into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mixdown.core.errors import MixdownError
from mixdown.core.files import atomic_path
from mixdown.core.jsonable import to_jsonable
from mixdown.core.time import song_maps
from mixdown.io.dawproject_archive import (
    METADATA_XML,
    PROJECT_XML,
    DawprojectArchive,
    metadata_schema,
    parse_xml,
    project_schema,
)
from mixdown.io.dawproject_read import DawprojectImport, ImportedChannel, read_dawproject
from mixdown.io.dawproject_write import project_to_dawproject
from mixdown.model.project import Project
from mixdown.services.interchange import PROJECT_FOLDERS, _check_output, _move_into_place

DAWPROJECT_SUFFIX = ".dawproject"


def is_dawproject_path(path: str | Path) -> bool:
    """True for a path named like a DAWproject file."""
    return Path(path).suffix.lower() == DAWPROJECT_SUFFIX


@dataclass(frozen=True, slots=True)
class DawprojectImportReport:
    """What a DAWproject import made (or, for :func:`check_dawproject`, would make).

    ``project`` is the song.toml written (None for a check); ``duration_s`` runs to the end
    of the last clip; ``dropped`` lists, one line each, what has no place in a project.
    """

    source: Path
    project: Path | None
    application: str
    tracks: int
    buses: int
    clips: int
    notes: int
    tempo_changes: int
    time_signatures: int
    markers: int
    automation_lanes: int
    kept_devices: int
    audio_files: int
    duration_s: float
    channels: tuple[ImportedChannel, ...]
    dropped: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return to_jsonable(asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class DawprojectExportReport:
    """What a DAWproject export wrote; ``skipped`` lists what has no DAWproject form."""

    output: Path
    tracks: int
    buses: int
    clips: int
    notes: int
    automation_lanes: int
    tempo_changes: int
    time_signatures: int
    markers: int
    files: int
    skipped: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return to_jsonable(asdict(self))  # type: ignore[no-any-return]


def _report(source: Path, song: Path | None, imp: DawprojectImport) -> DawprojectImportReport:
    s = imp.project.song
    _, tempo = song_maps(s.tempo, s.time_signature,
                         [(p.at, p.bpm, p.ramp) for p in s.tempo_map],
                         [(c.bar, *c.signature) for c in s.time_signatures])
    p = imp.project
    return DawprojectImportReport(
        source, song, imp.application, len(p.tracks), len(p.buses), imp.clips, imp.notes,
        imp.tempo_changes, imp.time_signatures, imp.markers, imp.automation_lanes,
        imp.kept_devices, sum(1 for k in imp.members if k.startswith("audio/")),
        tempo.beats_to_seconds(imp.end_beats), imp.channels, imp.dropped)


def check_dawproject(source: str | Path) -> DawprojectImportReport:
    """Open, validate and map a DAWproject file as :func:`import_dawproject` would; write
    nothing.

    Every referenced file must be in the zip; audio files are not decoded (import does).
    """
    src = Path(source)
    with DawprojectArchive(src) as archive:
        imp = read_dawproject(archive)
    return _report(src, None, imp)


def import_dawproject(source: str | Path, output: str | Path, *,
                      force: bool = False) -> DawprojectImportReport:
    """Make a project folder ``output`` from the DAWproject file ``source``.

    Parameters
    ----------
    source : str or Path
        A ``.dawproject`` file.
    output : str or Path
        The project folder to create. It may exist if empty; a non-empty one is refused
        unless ``force`` (then song.toml and the imported files are written over what is
        there; other files stay).

    Raises
    ------
    FormatError
        For an unsafe or damaged zip, XML that is unsafe or breaks the schema, a reference
        to a file not in the zip, or audio that does not read. Nothing is written then.
    MixdownError
        For a bad output folder.
    """
    src = Path(source)
    out = Path(output)
    _check_output(src, out, force)
    with DawprojectArchive(src) as archive:
        imp = read_dawproject(archive)
        parent = out.absolute().parent
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".import", dir=parent))
        try:
            mask = os.umask(0)
            os.umask(mask)
            tmp.chmod(0o777 & ~mask)
            _write_project(imp, archive, tmp)
            _move_into_place(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return _report(src, out / "song.toml", imp)


def _write_project(imp: DawprojectImport, archive: DawprojectArchive, folder: Path) -> None:
    from mixdown.io.audio import audio_info
    from mixdown.io.project_save import save_project
    from mixdown.services.project import check_project

    for sub in PROJECT_FOLDERS:
        (folder / sub).mkdir()
    for rel, member in imp.members.items():
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        archive.extract(member, dest)
        if rel.startswith("audio/"):
            try:
                audio_info(dest)
            except MixdownError as exc:
                raise MixdownError(f"{archive.path}: {member}: {exc}") from None
    for rel, data in imp.texts.items():
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    song = folder / "song.toml"
    save_project(imp.project, song)  # reads the text back: the same project
    try:
        check_project(folder)
    except MixdownError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MixdownError(f"{archive.path}: the imported project does not check: "
                           f"{first.replace(str(folder), '<project>')}") from None


def export_dawproject(project: str | Path | Project, output: str | Path, *,
                      root: str | Path | None = None) -> DawprojectExportReport:
    """Write ``project`` as a DAWproject file ``output`` (a zip, written atomically).

    Parameters
    ----------
    project : str, Path or Project
        A project folder, its song.toml, or a Project (then ``root`` is its folder;
        default the folder it was loaded from, else the current folder).
    output : str or Path
        The ``.dawproject`` file to write (replaced if it exists).
    """
    from mixdown.io.project import open_project

    if isinstance(project, Project):
        from mixdown.services.loaded import root_of

        proj, base = project, Path(root or root_of(project) or ".")
    else:
        pf = open_project(project)
        proj, base = pf.project, pf.root
    out = Path(output)
    if out.is_dir():
        raise MixdownError(f"{out}: is a folder; give the .dawproject file to write")
    exp = project_to_dawproject(proj, base)
    # what mixdown writes must follow the schema: a failure here is a bug, said clearly
    parse_xml(exp.project_xml, f"{out}: {PROJECT_XML}", project_schema())
    parse_xml(exp.metadata_xml, f"{out}: {METADATA_XML}", metadata_schema())
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(PROJECT_XML, exp.project_xml)
        z.writestr(METADATA_XML, exp.metadata_xml)
        for name, data in sorted(exp.texts.items()):
            z.writestr(name, data)
        for name, path in sorted(exp.files.items()):
            z.write(path, name, compress_type=zipfile.ZIP_STORED if path.suffix.lower() in (
                ".mp3", ".ogg", ".flac", ".m4a") else zipfile.ZIP_DEFLATED)
    return DawprojectExportReport(out, exp.tracks, exp.buses, exp.clips, exp.notes,
                                  exp.automation_lanes, exp.tempo_changes,
                                  exp.time_signatures, exp.markers,
                                  len(exp.files) + len(exp.texts), exp.skipped)


__all__ = [
    "DawprojectExportReport",
    "DawprojectImportReport",
    "check_dawproject",
    "export_dawproject",
    "import_dawproject",
    "is_dawproject_path",
]
