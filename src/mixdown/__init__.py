"""mixdown: a music producer's studio in Python.

Load a ``song.toml`` (or build a song in Python), change it, render, master, deliver::

    import mixdown

    song = mixdown.load("examples/demo")             # remembers its folder
    song = mixdown.with_track(song, "Bass", volume_db=-3.0)
    report = mixdown.render(song, "renders/mix.wav")
    print(report.summary)                            # "-14.0 LUFS, LRA ... dBTP"

Every function here mirrors a command of the ``mixdown`` CLI and returns a frozen result
with ``as_dict()`` (what the command's ``--json`` prints). See docs/python.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mixdown.core.errors import (
    FormatError,
    MixdownError,
    MixdownWarning,
    ModelError,
    ParameterError,
    RenderError,
)
from mixdown.model import (
    AutomationLane,
    AutomationPoint,
    Bus,
    Clip,
    Device,
    Marker,
    Master,
    Note,
    Project,
    Send,
    Song,
    TempoPoint,
    TimeSignatureChange,
    Track,
)
from mixdown.services.edit import (
    add_track,
    remove_track,
    replace_track,
    with_bus,
    with_master,
    with_song,
    with_track,
)
from mixdown.services.loaded import root_of as project_root

if TYPE_CHECKING:
    from mixdown.analysis.qc import QCResult
    from mixdown.core.audio import AudioArray
    from mixdown.core.targets import Target
    from mixdown.services.analyze import Analysis
    from mixdown.services.dawproject import DawprojectExportReport, DawprojectImportReport
    from mixdown.services.deliver import DeliveryReport, TargetDelivery
    from mixdown.services.interchange import ExportReport, ImportReport
    from mixdown.services.master import (
        AlbumReport,
        AlbumTrackReport,
        ConvertReport,
        MasterReport,
    )
    from mixdown.services.render import RenderReport, StemsMode

# The result types load with the first call that needs them (``import mixdown`` stays quick).
_LAZY = {
    "QCResult": "mixdown.analysis.qc", "Target": "mixdown.core.targets",
    "Analysis": "mixdown.services.analyze", "DeliveryReport": "mixdown.services.deliver",
    "TargetDelivery": "mixdown.services.deliver", "AlbumReport": "mixdown.services.master",
    "AlbumTrackReport": "mixdown.services.master", "ConvertReport": "mixdown.services.master",
    "MasterReport": "mixdown.services.master", "RenderReport": "mixdown.services.render",
    "StemsMode": "mixdown.services.render", "ImportReport": "mixdown.services.interchange",
    "ExportReport": "mixdown.services.interchange",
    "DawprojectImportReport": "mixdown.services.dawproject",
    "DawprojectExportReport": "mixdown.services.dawproject",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mixdown' has no attribute {name!r}")


__version__ = "0.1.0"

Position = float | str
"""A song position: beats (a number), ``"bar:beat"`` (``"9:1"``) or ``"<seconds>s"``."""


def load(path: str | Path) -> Project:
    """Load and check a project folder or its ``song.toml``.

    The project remembers its folder (:func:`project_root`), so :func:`render` and
    :func:`deliver` find its audio files without ``root=``; so do copies made with the edit
    helpers (:func:`with_track`...).

    Raises
    ------
    MixdownError
        The file is missing or invalid (the message names the file, key and line).
    """
    from mixdown.services.loaded import open_any

    project, _ = open_any(Path(path))
    return project


def save(project: Project, path: str | Path) -> Path:
    """Write ``project`` as a ``song.toml``, atomically, keeping an existing file's comments.

    Parameters
    ----------
    project : Project
        The song.
    path : Path
        A project folder (``song.toml`` is written in it; created if missing) or a
        ``.toml`` file path (its folder is created if missing).

    Returns
    -------
    Path
        The file written. A project built in Python now has that folder as its root (one
        loaded from a folder keeps the folder its audio files are in).
    """
    from mixdown.io.project_save import save_project
    from mixdown.services.loaded import remember_root, root_of
    from mixdown.services.outputs import output_folder

    p = Path(path)
    file = p if p.suffix.lower() == ".toml" and not p.is_dir() else p / "song.toml"
    with output_folder(file.parent):
        written = save_project(project, file)
    if root_of(project) is None:
        remember_root(project, written.parent)
    return written


def render(
    project: Project | str | Path,
    output: str | Path,
    *,
    format: str | None = None,
    bit_depth: int | None = None,
    sample_rate: int | None = None,
    stems: bool = False,
    stems_mode: StemsMode = "buses",
    section: str | None = None,
    start: Position | None = None,
    end: Position | None = None,
    master: bool = True,
    master_part: bool = False,
    qc: bool = True,
    root: str | Path | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cache: bool = True,
    version: str | None = None,
) -> RenderReport:
    """Render a project to an audio file, with a QC sidecar (``<output>.qc.json``).

    Parameters
    ----------
    project : Project or Path
        A loaded project, a project folder or its ``song.toml``.
    output : Path
        ``.wav``, ``.flac``, ``.mp3`` or ``.aiff``; its folder is created if missing. The
        output, its sidecar and its stems folder are replaced atomically.
    format : str, optional
        Overrides the extension.
    bit_depth : {16, 24, 32}, optional
        PCM bits (16 is TPDF-dithered, seeded); 32 is float. Default 24.
    sample_rate : int, optional
        Hz (44100, 48000, 88200, 96000); default the song's.
    stems : bool
        Also write stems into ``<output stem>.stems/``.
    stems_mode : {"buses", "tracks"}
        ``buses``: each signal feeding the master (they sum to the mix). ``tracks``: every
        track post-fader, dry of the buses it feeds (not summing to the mix).
    section : str, optional
        Render one marker's section.
    start, end : position, optional
        Render a range (beats, ``"bar:beat"`` or ``"<seconds>s"``).
    master : bool
        Apply the song's ``[master]`` loudness target, if it sets one.
    master_part : bool
        With a target, a section or range is cut from the whole song's master, at the level
        it has in the song; ``master_part=True`` masters the part alone to the target.
    qc : bool
        Measure the output and write the sidecar.
    root : Path, optional
        The folder asset paths resolve against (default: the project's own folder, or the
        current folder for a project built in Python).
    workers : int, optional
        Render threads.
    progress : callable, optional
        ``progress(done_frames, total_frames)``.
    cache : bool
        Use the project's track cache (``.mixdown/nodes/``): tracks and buses an edit did
        not reach are read back, not rendered again (bit-identical output). False neither
        reads nor writes it; a project built in Python with no folder has none.
    version : str, optional
        Also keep the render as a review version with this note (what ``mixdown serve``
        shows): in the studio of the project's parent folder, the database by the usual
        rules (``$MIXDOWN_DATABASE_URL``, else ``mixdown.db`` there). Whole songs of a
        project folder only.

    Returns
    -------
    RenderReport
        ``report.version`` is the kept :class:`~mixdown.services.review.Version`.
    """
    from mixdown.services.render import render_project

    return render_project(project, output, fmt=format, bit_depth=bit_depth,
                          sample_rate=sample_rate, stems=stems, stems_mode=stems_mode,
                          section=section, start=start, end=end, master=master,
                          master_part=master_part, qc=qc, root=root, workers=workers,
                          progress=progress, cache=cache, version=version)


def render_audio(
    project: Project | str | Path,
    *,
    sample_rate: int | None = None,
    section: str | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
    tail_s: float | None = None,
    root: str | Path | None = None,
    workers: int | None = None,
) -> tuple[AudioArray, int]:
    """Render the pre-target mix into memory.

    Returns
    -------
    audio : ndarray, float32, shape (channels, frames)
        The mix, before any ``[master]`` loudness target.
    sample_rate : int
        Hz.
    """
    from mixdown.services.render import render_audio as _render_audio

    return _render_audio(project, root=root, sample_rate=sample_rate, section=section,
                         start_s=start_s, end_s=end_s, tail_s=tail_s, workers=workers)


def analyze(path: str | Path, *, target: str | float | None = None,
            series: bool = False) -> Analysis:
    """Measure a file: BS.1770 loudness (LUFS), true peak (dBTP), LRA (LU) and QC figures.

    Parameters
    ----------
    path : Path
        WAV, FLAC, AIFF, MP3 or OGG.
    target : str or float, optional
        A platform (``"spotify"``) or LUFS number: ``Analysis.checks`` and ``passed``.
    series : bool
        Keep the momentary and short-term series in ``as_dict()``.

    Returns
    -------
    Analysis
        ``.qc`` holds every figure (``qc.integrated_lufs``, ``qc.true_peak_dbtp``...).
    """
    from mixdown.services.analyze import analyze as _analyze

    return _analyze(path, target=target, series=series)


def master(
    source: str | Path,
    output: str | Path,
    *,
    target: str | float | None = None,
    ceiling_dbtp: float | None = None,
    references: Sequence[str | Path] = (),
    amount: float = 1.0,
    eq_amount: float = 1.0,
    dynamics_amount: float = 1.0,
    width_amount: float = 1.0,
    allowance_db: float = 6.0,
    bit_depth: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> MasterReport:
    """Master a mix to a loudness target by measurement, under a true-peak ceiling.

    Parameters
    ----------
    source, output : Path
        The mix and the master (its folder is created if missing; replaced atomically).
    target : str or float, optional
        A preset (``"spotify"``) or LUFS (``-14``); needed unless ``references`` set it.
    ceiling_dbtp : float, optional
        True-peak ceiling, dBTP (default the preset's, -1 for a number).
    references : sequence of Path
        Reference tracks to match (tonal balance, loudness, dynamics, width).
    amount, eq_amount, dynamics_amount, width_amount : float
        How much of the match to apply, 0..1.
    allowance_db : float
        Most peak gain reduction (dB) the limiter may use to reach the target.
    bit_depth : {16, 24, 32}, optional
        Default 24 (16 gets TPDF dither).
    progress : callable, optional
        Called with the fraction done (0..1).

    Returns
    -------
    MasterReport
    """
    from mixdown.services.master import master_file

    return master_file(source, output, target=target, ceiling_dbtp=ceiling_dbtp,
                       references=references, amount=amount, eq_amount=eq_amount,
                       dynamics_amount=dynamics_amount, width_amount=width_amount,
                       allowance_db=allowance_db, bit_depth=bit_depth, progress=progress)


def master_album(
    sources: Sequence[str | Path],
    folder: str | Path,
    *,
    target: str | float,
    ceiling_dbtp: float | None = None,
    allowance_db: float = 6.0,
    gap_s: float = 2.0,
    bit_depth: int | None = None,
    force: bool = False,
    progress: Callable[[float], None] | None = None,
) -> AlbumReport:
    """Master songs as an album: the loudest on ``target`` (preset or LUFS), the others at
    their relative levels, into ``folder`` (new or empty unless ``force``) with an album
    file and a CUE sheet; ``gap_s`` seconds between songs."""
    from mixdown.services.master import master_album_files

    return master_album_files(sources, folder, target=target, ceiling_dbtp=ceiling_dbtp,
                              allowance_db=allowance_db, gap_s=gap_s, bit_depth=bit_depth,
                              force=force, progress=progress)


def convert(
    source: str | Path,
    output: str | Path,
    *,
    bit_depth: int | None = None,
    sample_rate: int | None = None,
    dither: str | None = None,
    gain_db: float = 0.0,
    normalize_dbtp: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> ConvertReport:
    """Convert a file: format (from ``output``'s extension), sample rate (Hz, soxr), bit
    depth (16, 24, 32 = float), dither (``"tpdf"``, ``"shaped"``, ``"none"``), ``gain_db``
    (dB, applied first) or ``normalize_dbtp`` (true peak to this dBTP). Never clips
    silently; the output's folder is created if missing."""
    from mixdown.services.master import convert as _convert

    return _convert(source, output, bit_depth=bit_depth, sample_rate=sample_rate,
                    dither=dither, gain_db=gain_db, normalize_dbtp=normalize_dbtp,
                    progress=progress)


def deliver(
    project: Project | str | Path,
    targets: Sequence[str | float],
    folder: str | Path | None = None,
    *,
    formats: Sequence[str] | None = None,
    title: str | None = None,
    artist: str | None = None,
    isrc: str | None = None,
    allowance_db: float = 6.0,
    stems: bool = True,
    force: bool = False,
    root: str | Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> DeliveryReport:
    """Render once, master to each target by measurement, and write every target's files,
    verified after encoding and tagged, with ``report.html`` and ``delivery.json``.

    Parameters
    ----------
    project : Project or Path
        A loaded project, a project folder or its song.toml.
    targets : sequence of str or float
        Presets (``"spotify"``, ``"apple-music"``, ``"cd"``...) or LUFS numbers.
    folder : Path, optional
        The delivery folder (default ``<project>/renders/delivery``): new or empty, unless
        ``force`` (then its contents are replaced).
    formats : sequence of str, optional
        Deliverables for every target (``"wav-24-48k"``, ``"flac"``, ``"mp3-320"``...).
    title, artist, isrc : str, optional
        Tags (default: the song's title and artist).
    allowance_db : float
        Most peak gain reduction (dB) the limiter may use to reach a target.
    stems : bool
        Write the stems and prove they null against the mix.

    Returns
    -------
    DeliveryReport
    """
    from mixdown.services.deliver import deliver_project

    return deliver_project(project, targets, folder, formats=formats, title=title,
                           artist=artist, isrc=isrc, allowance_db=allowance_db, stems=stems,
                           force=force, root=root, progress=progress)


def import_midi(source: str | Path, output: str | Path, *, force: bool = False,
                soundfont: str | Path | None = None) -> ImportReport:
    """Make a project folder from a Standard MIDI File (format 0, 1 or 2).

    Tracks (or channels) become tracks with their notes, tempo changes and time signatures
    the song's maps, markers its sections, programs the closest built-in instruments, CC7 and
    CC10 volume and pan; what has no place in a project is listed in ``dropped``
    (docs/interchange.md).

    Parameters
    ----------
    source : Path
        The ``.mid`` file.
    output : Path
        The project folder to create (refused if it holds files, unless ``force``).
    force : bool
        Replace the files of an existing non-empty folder.
    soundfont : Path, optional
        A SoundFont (.sf2, .sf3), copied into the project's ``sounds/``: every track plays
        its General MIDI preset (channel 10 the drum kit in bank 128), pitch bends included.

    Returns
    -------
    ImportReport
    """
    from mixdown.services.interchange import import_midi as _import_midi

    return _import_midi(source, output, force=force, soundfont=soundfont)


def render_midi(source: str | Path, output: str | Path, *,
                soundfont: str | Path | None = None, **options: Any) -> RenderReport:
    """Render a MIDI file in one step: imported (as :func:`import_midi`, with ``soundfont``)
    into a hidden temporary project, rendered by the normal render, the project removed.

    ``options`` are :func:`render`'s (``format`` excepted: give ``fmt``); only ``output``
    (and its QC sidecar) is written.
    """
    from mixdown.services.interchange import render_midi as _render_midi

    return _render_midi(source, output, soundfont=soundfont, **options)  # type: ignore[no-any-return]


def export_midi(project: Project | str | Path, output: str | Path, *,
                root: str | Path | None = None,
                ticks_per_beat: int | None = None) -> ExportReport:
    """Write a project's instrument tracks as a format-1 MIDI file (atomically).

    Parameters
    ----------
    project : Project or Path
        A loaded project, a project folder or its ``song.toml``.
    output : Path
        The ``.mid`` file to write.
    root : Path, optional
        The folder its MIDI clip files resolve against (default: the project's own).
    ticks_per_beat : int, optional
        MIDI resolution (default: that of the project's MIDI clips, else 480).

    Returns
    -------
    ExportReport
    """
    from mixdown.services.interchange import export_midi as _export_midi

    return _export_midi(project, output, root=root, ticks_per_beat=ticks_per_beat)


def import_dawproject(source: str | Path, output: str | Path, *,
                      force: bool = False) -> DawprojectImportReport:
    """Make a project folder from a DAWproject file (Bitwig Studio, Studio One, Cubase).

    Tracks, buses, the master, clips (notes and audio, copied into ``audio/``), tempo and
    signature maps, markers, automation and devices come across; plug-ins are kept as
    ``foreign`` devices so that export writes them back; what has no place in a project is
    listed in ``dropped`` (docs/interchange.md). The zip is checked entry by entry and the
    XML against the DAWproject schema; nothing is written unless the whole import succeeds.

    Parameters
    ----------
    source : Path
        The ``.dawproject`` file.
    output : Path
        The project folder to create (refused if it holds files, unless ``force``).
    force : bool
        Replace the files of an existing non-empty folder.

    Returns
    -------
    DawprojectImportReport
    """
    from mixdown.services.dawproject import import_dawproject as _import

    return _import(source, output, force=force)


def export_dawproject(project: Project | str | Path, output: str | Path, *,
                      root: str | Path | None = None) -> DawprojectExportReport:
    """Write a project as a DAWproject file (a zip with project.xml, metadata.xml, files).

    Parameters
    ----------
    project : Project or Path
        A loaded project, a project folder or its ``song.toml``.
    output : Path
        The ``.dawproject`` file to write (atomically).
    root : Path, optional
        The folder the project's files resolve against (default: the project's own).

    Returns
    -------
    DawprojectExportReport
    """
    from mixdown.services.dawproject import export_dawproject as _export

    return _export(project, output, root=root)


__all__ = [
    "AlbumReport",
    "AlbumTrackReport",
    "Analysis",
    "AutomationLane",
    "AutomationPoint",
    "Bus",
    "Clip",
    "ConvertReport",
    "DawprojectExportReport",
    "DawprojectImportReport",
    "DeliveryReport",
    "Device",
    "ExportReport",
    "FormatError",
    "ImportReport",
    "Marker",
    "Master",
    "MasterReport",
    "MixdownError",
    "MixdownWarning",
    "ModelError",
    "Note",
    "ParameterError",
    "Position",
    "Project",
    "QCResult",
    "RenderError",
    "RenderReport",
    "Send",
    "Song",
    "StemsMode",
    "Target",
    "TargetDelivery",
    "TempoPoint",
    "TimeSignatureChange",
    "Track",
    "__version__",
    "add_track",
    "analyze",
    "convert",
    "deliver",
    "export_dawproject",
    "export_midi",
    "import_dawproject",
    "import_midi",
    "load",
    "master",
    "master_album",
    "project_root",
    "remove_track",
    "render",
    "render_audio",
    "render_midi",
    "replace_track",
    "save",
    "with_bus",
    "with_master",
    "with_song",
    "with_track",
]

