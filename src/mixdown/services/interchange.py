"""Use cases that move songs between mixdown and other tools: MIDI import, export, check,
and rendering a MIDI file in one step (import into a hidden temporary project, then the
normal render).

Import reads and maps the whole file before anything is written; the project is then
built in a hidden folder beside the output, saved with the project's own atomic save
(:func:`mixdown.io.project_save.save_project`, which checks that the text reads back as
the same project), and only then moved into place. A failure at any step leaves the
output folder as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mixdown.core.errors import FormatError, MixdownError, ParameterError
from mixdown.core.files import atomic_path
from mixdown.core.jsonable import to_jsonable
from mixdown.core.time import song_maps
from mixdown.dsp.instruments.sf2_check import SoundFontInfo, check_soundfont
from mixdown.io.midi_export import ExportedTrack, project_to_midi
from mixdown.io.midi_import import ImportedTrack, MidiImport, SoundFontRef, midi_to_project
from mixdown.io.smf import read_smf
from mixdown.model.project import Project

PROJECT_FOLDERS = ("audio", "midi", "renders")
SOUNDS_FOLDER = "sounds"
"""Where an imported SoundFont is copied, inside the project."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What a MIDI import made (or, for :func:`check_midi`, would make).

    ``project`` is the song.toml written (None for a check); ``duration_s`` runs to the
    end of the last note; ``dropped`` lists, one line each, what has no place in a project.
    """

    source: Path
    project: Path | None
    ticks_per_beat: int
    notes: int
    tempo_changes: int
    time_signatures: int
    markers: int
    duration_s: float
    tracks: tuple[ImportedTrack, ...]
    dropped: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return to_jsonable(asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What a MIDI export wrote; ``skipped`` lists what has no MIDI form."""

    output: Path
    ticks_per_beat: int
    notes: int
    tempo_changes: int
    time_signatures: int
    markers: int
    tracks: tuple[ExportedTrack, ...]
    skipped: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return to_jsonable(asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class _SoundFont:
    source: Path
    ref: SoundFontRef


def _soundfont(path: str | Path | None) -> _SoundFont | None:
    """The SoundFont to import with, checked before anything is written."""
    if path is None:
        return None
    src = Path(path)
    if not src.is_file():
        raise FormatError(f"{src}: no such SoundFont file", src)
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise FormatError(f"{src}: cannot read ({exc.strerror})", src) from exc
    try:
        info: SoundFontInfo = check_soundfont(data, str(src))
    except FormatError as exc:
        raise FormatError(str(exc), src) from None
    name = src.name if src.suffix.lower() in (".sf2", ".sf3") else f"{src.stem}.sf2"
    return _SoundFont(src, SoundFontRef(f"{SOUNDS_FOLDER}/{name}", info))


def _read(source: Path, soundfont: _SoundFont | None = None) -> MidiImport:
    return midi_to_project(read_smf(source),
                           soundfont=soundfont.ref if soundfont is not None else None)


def _report(source: Path, song: Path | None, imp: MidiImport) -> ImportReport:
    s = imp.project.song
    _, tempo = song_maps(s.tempo, s.time_signature,
                         [(p.at, p.bpm, p.ramp) for p in s.tempo_map],
                         [(c.bar, *c.signature) for c in s.time_signatures])
    return ImportReport(source, song, imp.ticks_per_beat, imp.notes, imp.tempo_changes,
                        imp.time_signatures, imp.markers, tempo.beats_to_seconds(imp.end_beats),
                        imp.tracks, imp.dropped)


def check_midi(source: str | Path) -> ImportReport:
    """Read and map a MIDI file as :func:`import_midi` would, writing nothing."""
    src = Path(source)
    return _report(src, None, _read(src))


def import_midi(source: str | Path, output: str | Path, *, force: bool = False,
                soundfont: str | Path | None = None) -> ImportReport:
    """Make a project folder ``output`` from the MIDI file ``source``.

    Parameters
    ----------
    source : str or Path
        A Standard MIDI File (format 0, 1 or 2).
    output : str or Path
        The project folder to create. It may exist if empty; a non-empty one is refused
        unless ``force``, which writes song.toml and the MIDI clip files over what is there
        (other files stay).
    soundfont : str or Path, optional
        A SoundFont (.sf2, .sf3): copied into ``sounds/`` in the project, and every track
        plays a preset of it (General MIDI program; channel 10 the drum kit, bank 128).

    Raises
    ------
    MixdownError
        For a bad output folder; FormatError for a bad MIDI file. Nothing is written then.
    """
    src = Path(source)
    out = Path(output)
    _check_output(src, out, force)
    sf = _soundfont(soundfont)
    imp = _read(src, sf)
    parent = out.absolute().parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".import", dir=parent))
    try:
        mask = os.umask(0)
        os.umask(mask)
        tmp.chmod(0o777 & ~mask)  # a folder's usual mode, not mkdtemp's 0700
        _write_project(imp, tmp, sf)
        _move_into_place(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _report(src, out / "song.toml", imp)


def _check_output(src: Path, out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise MixdownError(f"{out}: exists and is not a folder; give a folder for the project")
    if not out.absolute().parent.is_dir():
        raise MixdownError(f"{out}: the parent folder {out.absolute().parent} does not exist")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise MixdownError(f"{out}: exists and is not empty; choose a new folder or use --force")
    if src.exists() and src.resolve() == out.resolve():
        raise MixdownError(f"{out}: is the MIDI file itself; give a folder for the project")


def _write_project(imp: MidiImport, folder: Path, soundfont: _SoundFont | None = None,
                   *, link: bool = False) -> None:
    from mixdown.io.project_save import save_project

    for sub in PROJECT_FOLDERS:
        (folder / sub).mkdir()
    for rel, data in imp.files.items():
        (folder / rel).write_bytes(data)
    if soundfont is not None:
        dest = folder / soundfont.ref.file
        dest.parent.mkdir(exist_ok=True)
        try:
            if not link:
                raise OSError
            os.link(soundfont.source, dest)  # a temporary project: no copy where it can
        except OSError:
            shutil.copyfile(soundfont.source, dest)
    save_project(imp.project, folder / "song.toml")  # reads the text back: the same project


def _move_into_place(tmp: Path, out: Path) -> None:
    if not out.exists() or not any(out.iterdir()):
        os.replace(tmp, out)  # rename(2) replaces an empty folder
        return
    for item in sorted(tmp.rglob("*")):
        dest = out / item.relative_to(tmp)
        if item.is_dir():
            if dest.exists() and not dest.is_dir():
                raise MixdownError(f"{dest}: exists and is not a folder; nothing more written")
            dest.mkdir(exist_ok=True)
        else:
            os.replace(item, dest)


def render_midi(source: str | Path, output: str | Path, *,
                soundfont: str | Path | None = None, **options: Any) -> Any:
    """Render the MIDI file ``source`` to ``output`` in one step.

    The file is imported (as :func:`import_midi` would, with ``soundfont``) into a hidden
    temporary project beside ``output`` and rendered by
    :func:`mixdown.services.render.render_project` (the one path from a song to sound),
    without its track cache; the temporary project is removed whatever happens. Only the
    output (and its QC sidecar, unless ``qc=False``) is written.

    Parameters
    ----------
    options
        Passed to ``render_project`` (``fmt``, ``bit_depth``, ``sample_rate``, ``qc``,
        ``block_frames``...).

    Returns
    -------
    RenderReport

    Raises
    ------
    MixdownError
        A bad MIDI file or SoundFont (FormatError), or a bad output; nothing is written.
    """
    from mixdown.services.render import render_project

    src = Path(source)
    out = Path(output)
    if out.is_dir():
        raise MixdownError(f"{out}: is a folder; give the audio file to write")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise MixdownError(f"{out}: the folder {parent} does not exist")
    sf = _soundfont(soundfont)
    imp = _read(src, sf)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".midi-render", dir=parent))
    try:
        _write_project(imp, tmp, sf, link=True)
        options.setdefault("cache", False)
        return render_project(tmp, out, **options)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def export_midi(project: str | Path | Project, output: str | Path, *,
                root: str | Path | None = None,
                ticks_per_beat: int | None = None) -> ExportReport:
    """Write a project's instrument tracks to ``output`` as a format-1 MIDI file (atomic).

    Parameters
    ----------
    project : str, Path or Project
        A project folder, its song.toml, or a Project (then ``root`` is its folder, for
        MIDI clip files; default the current folder).
    output : str or Path
        The .mid file to write (replaced if it exists).
    ticks_per_beat : int, optional
        1..32767; default: see :func:`mixdown.io.midi_export.project_to_midi`.
    """
    from mixdown.io.project import open_project

    if ticks_per_beat is not None and not 1 <= ticks_per_beat <= 32767:
        raise ParameterError(f"ticks per beat must be 1..32767, got {ticks_per_beat}")
    if isinstance(project, Project):
        proj, base = project, Path(root or ".")
    else:
        pf = open_project(project)
        proj, base = pf.project, pf.root
    out = Path(output)
    if out.is_dir():
        raise MixdownError(f"{out}: is a folder; give the .mid file to write")
    exp = project_to_midi(proj, base, ticks_per_beat=ticks_per_beat)
    with atomic_path(out) as tmp:
        tmp.write_bytes(exp.data)
    return ExportReport(out, exp.ticks_per_beat, exp.notes, exp.tempo_changes,
                        exp.time_signatures, exp.markers, exp.tracks, exp.skipped)


__all__ = ["ExportReport", "ImportReport", "check_midi", "export_midi", "import_midi",
           "render_midi"]
