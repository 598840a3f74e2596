"""Use cases: master a file to a target (optionally matching references), master an album,
convert a file. The CLI (``mixdown master``, ``mixdown convert``) and the top-level API call
these; each returns a frozen result with ``as_dict()``.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixdown.analysis.qc import QCResult
from mixdown.core.errors import FormatError, ParameterError
from mixdown.core.targets import Target, TargetTable, check_ceiling
from mixdown.delivery.album import AlbumSong, master_album
from mixdown.delivery.convert import ConvertResult, check_not_same, convert_file
from mixdown.delivery.deliverables import DeliverableSpec, make_deliverable
from mixdown.io.audio import audio_info, format_for_path, iter_blocks
from mixdown.io.measure import analyze_file
from mixdown.mastering.chain import ChainSpec, apply_chain
from mixdown.mastering.normalize import DEFAULT_ALLOWANCE_DB
from mixdown.mastering.reference import match_references, profile_file
from mixdown.services.outputs import (
    check_output_file,
    claim_folder,
    output_folder,
    replaced_folder,
)
from mixdown.services.premaster import LoudnessTarget, master_premaster, split_notes

Progress = Callable[[float], None]

__all__ = ["AlbumReport", "AlbumTrackReport", "ConvertReport", "MasterReport", "convert",
           "master_album_files", "master_file", "measure", "resolve"]


def require_audio(path: str | Path) -> None:
    """Refuse a missing, unreadable, empty or zero-frame input before anything is written."""
    info = audio_info(path)
    if info.frames == 0:
        raise FormatError(f"{path}: the file holds no audio (0 frames)", Path(path))


def measure(path: str | Path) -> QCResult:
    """The QC analysis of a file (``mixdown analyze``'s figures), naming the file."""
    return analyze_file(path).with_file(path)


@dataclass(frozen=True, slots=True)
class MasterReport:
    """What :func:`master_file` wrote and measured (levels in LUFS, dB and dBTP).

    Attributes
    ----------
    output : Path
        The master.
    input, measured : QCResult
        Analyses of the input and of the master.
    target : Target
        The loudness target (``name="reference"`` when references set it).
    gain_db : float
        Gain applied before the limiter, dB.
    max_gain_reduction_db : float
        The limiter's deepest gain reduction, dB.
    allowance_db : float
        The most gain reduction it was allowed, dB.
    reached : bool
        Whether the target was reached within the allowance.
    shortfall_lu : float
        How far below the target it stopped, LU (0 when reached).
    passes : int
        Measurement passes made.
    chain : dict or None
        The pre-limiter chain (None: none).
    reference : dict or None
        What reference matching changed.
    summary : tuple of str
        Reference matching, one line per change.
    warnings : tuple of str
        Problems worth a look (a target not reached, an encode re-made).
    notes : tuple of str
        What mastering did that is normal (a loud mix turned down).
    encode : dict or None
        The lossy encode's verification (MP3/OGG outputs).
    """

    output: Path
    input: QCResult
    measured: QCResult
    target: Target
    gain_db: float
    max_gain_reduction_db: float
    allowance_db: float
    reached: bool
    shortfall_lu: float
    passes: int
    chain: dict[str, Any] | None = None
    reference: dict[str, Any] | None = None
    summary: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    encode: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """What ``mixdown master --json`` prints."""
        out = {
            "file": str(self.output), "input": self.input.as_dict(),
            "output": self.measured.as_dict(), "target": self.target.as_dict(),
            "gain_db": self.gain_db, "max_gain_reduction_db": self.max_gain_reduction_db,
            "allowance_db": self.allowance_db, "reached": self.reached,
            "shortfall_lu": self.shortfall_lu, "passes": self.passes, "chain": self.chain,
            "reference": self.reference, "summary": list(self.summary),
            "warnings": list(self.warnings), "notes": list(self.notes),
        }
        if self.encode is not None:
            out["encode"] = self.encode
        return out


@dataclass(frozen=True, slots=True)
class AlbumTrackReport:
    """One song of an album master.

    Attributes
    ----------
    source, output : Path
        The mix and its master.
    title : str or None
        The CUE title.
    input, measured : QCResult
        Analyses of the mix and of the master.
    start_s : float
        Where the song starts in the album file, seconds.
    max_gain_reduction_db : float
        The limiter's deepest gain reduction on this song, dB.
    """

    source: Path
    output: Path
    title: str | None
    input: QCResult
    measured: QCResult
    start_s: float
    max_gain_reduction_db: float

    def as_dict(self) -> dict[str, Any]:
        """Plain data; ``input`` and ``output`` are analyses (each names its file)."""
        return {"source": str(self.source), "title": self.title,
                "input": self.input.as_dict(), "output": self.measured.as_dict(),
                "input_lufs": self.input.integrated_lufs,
                "output_lufs": self.measured.integrated_lufs,
                "output_true_peak_dbtp": self.measured.true_peak_dbtp,
                "max_gain_reduction_db": self.max_gain_reduction_db, "start_s": self.start_s}


@dataclass(frozen=True, slots=True)
class AlbumReport:
    """What :func:`master_album_files` wrote: a master per song, the album file and its CUE
    sheet, all at one shared gain (the loudest song on the target)."""

    folder: Path
    album_file: Path
    cue_file: Path
    target: Target
    gain_db: float
    reached: bool
    shortfall_lu: float
    tracks: tuple[AlbumTrackReport, ...]
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """What ``mixdown master --album --json`` prints."""
        return {"folder": str(self.folder), "album_file": str(self.album_file),
                "cue_file": str(self.cue_file), "target": self.target.as_dict(),
                "target_lufs": self.target.lufs, "ceiling_dbtp": self.target.ceiling_dbtp,
                "gain_db": self.gain_db, "reached": self.reached,
                "shortfall_lu": self.shortfall_lu,
                "tracks": [t.as_dict() for t in self.tracks], "warnings": list(self.warnings)}


@dataclass(frozen=True, slots=True)
class ConvertReport:
    """What :func:`convert` wrote (:class:`~mixdown.delivery.convert.ConvertResult`) and
    the analyses of its input and output."""

    result: ConvertResult
    input: QCResult
    measured: QCResult

    @property
    def output(self) -> Path:
        """The file written."""
        return self.result.output

    def as_dict(self) -> dict[str, Any]:
        """What ``mixdown convert --json`` prints."""
        return {**self.result.as_dict(), "file": str(self.result.output),
                "input": self.input.as_dict(), "output": self.measured.as_dict()}


def resolve(target: str | float | None, ceiling_dbtp: float | None,
            project_dir: str | Path | None = None) -> Target | None:
    """A target from a preset name or LUFS number (None stays None)."""
    if target is None:
        if ceiling_dbtp is not None:
            check_ceiling(ceiling_dbtp)
        return None
    return TargetTable.from_project(project_dir).resolve(target, ceiling_dbtp=ceiling_dbtp)


def master_file(
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
    allowance_db: float = DEFAULT_ALLOWANCE_DB,
    chain: ChainSpec | None = None,
    bit_depth: int | None = None,
    project_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> MasterReport:
    """Master ``source`` into ``output``: chain, loudness by measurement, true-peak limiter.

    Parameters
    ----------
    target : str or float, optional
        Preset name (``spotify``) or LUFS; required unless ``references`` give the loudness.
    ceiling_dbtp : float, optional
        Overrides the preset's ceiling (a number's default is -1 dBTP).
    references : sequence of Path
        Reference tracks to match (tonal balance, loudness, dynamics, width).
    amount, eq_amount, dynamics_amount, width_amount : float in [0, 1]
        Blend of the reference match, overall and per aspect.
    allowance_db : float
        Most peak gain reduction the limiter may use to reach the target.
    chain : ChainSpec, optional
        An explicit pre-limiter chain (reference matching builds one otherwise).
    bit_depth : {16, 24, 32}, optional
        PCM depth of a WAV/FLAC output (default 24; 16 gets TPDF dither).
    project_dir : Path, optional
        A project whose ``targets.toml`` adds or changes presets.
    progress : callable, optional
        Called with the fraction done (0..1).

    Returns
    -------
    MasterReport
        The output is replaced atomically; its folder is created if missing.
    """
    src = Path(source)
    dst = Path(output)
    info = audio_info(src)
    check_not_same(src, dst)
    check_output_file(dst)
    fmt = format_for_path(dst)
    tgt = resolve(target, ceiling_dbtp, project_dir)
    if tgt is None and not references:
        raise ParameterError("give a loudness target: --target spotify (a preset) or "
                             "--target -14 (LUFS), or a --reference to match")
    input_qc = measure(src)
    if not math.isfinite(input_qc.integrated_lufs):
        raise ParameterError(f"{src}: the input is silent (or shorter than 0.4 s); there is "
                             "nothing to master")
    ceiling = tgt.ceiling_dbtp if tgt is not None else (
        ceiling_dbtp if ceiling_dbtp is not None else -1.0)
    reference_report: dict[str, Any] | None = None
    summary: list[str] = []
    spec = chain or ChainSpec()
    target_lufs = tgt.lufs if tgt is not None else math.nan
    if references:
        mix_profile = profile_file(src)
        refs = [profile_file(r) for r in references]
        match = match_references(mix_profile, refs, amount=amount, eq_amount=eq_amount,
                                 dynamics_amount=dynamics_amount, width_amount=width_amount,
                                 target_lufs=tgt.lufs if tgt is not None else None)
        spec = chain or match.chain
        target_lufs = match.target_lufs
        reference_report = {**match.report, "summary": match.summary}
        summary = match.summary
    if tgt is None:
        tgt = Target("reference", target_lufs, ceiling)
    depth = 24 if bit_depth is None else bit_depth
    lossy = fmt in ("mp3", "ogg")
    encode: dict[str, Any] | None = None
    with output_folder(dst.parent), tempfile.TemporaryDirectory(
            prefix=".mixdown-master-", dir=dst.parent) as tmp:
        work = Path(tmp)
        premaster: Path | Callable[[Callable[[Any], None]], None] = src
        if not spec.is_identity:
            def premaster(push: Callable[[Any], None]) -> None:
                for block in apply_chain(iter_blocks(src), spec, info.sample_rate,
                                         info.channels, input_lufs=input_qc.integrated_lufs):
                    push(block)

        master_out = work / "master.wav" if lossy else dst
        # the input's QC figures are the mix's when there is no chain: no second pass
        measured = {"input_lufs": input_qc.integrated_lufs,
                    "input_true_peak_dbtp": input_qc.true_peak_dbtp} if spec.is_identity else {}
        result = master_premaster(premaster, master_out,
                                  target=LoudnessTarget(target_lufs, ceiling), workdir=work,
                                  sample_rate=info.sample_rate, channels=info.channels,
                                  bit_depth=32 if lossy else depth, allowance_db=allowance_db,
                                  progress=progress, **measured)
        kept, notes = split_notes(result.warnings)
        warnings = list(kept)
        if lossy:
            spec_lossy = DeliverableSpec(dst.stem, fmt, None, None, "none", 320)
            made = make_deliverable(master_out, spec_lossy, dst, ceiling_dbtp=ceiling)
            encode = made.as_dict()
            if not made.passed:
                raise FormatError(made.error or f"{dst}: the encode failed its checks", dst)
            if made.remade:
                warnings.append(f"the {fmt.upper()} encode overshot the ceiling; it was "
                                f"re-made with a {made.margin_db:.2f} dB margin")
    return MasterReport(
        output=dst, input=input_qc, measured=measure(dst), target=tgt, gain_db=result.gain_db,
        max_gain_reduction_db=result.max_gain_reduction_db, allowance_db=allowance_db,
        reached=result.reached, shortfall_lu=result.shortfall_lu, passes=result.passes,
        chain=None if spec.is_identity else spec.as_dict(), reference=reference_report,
        summary=tuple(summary), warnings=tuple(warnings), notes=notes, encode=encode)


def master_album_files(
    sources: Sequence[str | Path],
    out_dir: str | Path,
    *,
    target: str | float,
    ceiling_dbtp: float | None = None,
    allowance_db: float = DEFAULT_ALLOWANCE_DB,
    gap_s: float = 2.0,
    bit_depth: int | None = None,
    album_title: str | None = None,
    performer: str | None = None,
    project_dir: str | Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> AlbumReport:
    """Album mode: the loudest song on the target, the others at their relative levels.

    Parameters
    ----------
    sources : sequence of Path
        The mixes, in album order (one sample rate and channel count).
    out_dir : Path
        The album folder: new or empty, unless ``force`` (then what it holds is replaced).
    target : str or float
        Preset name or LUFS, for the loudest song.
    ceiling_dbtp : float, optional
        Overrides the preset's ceiling.
    allowance_db : float
        Most peak gain reduction (dB) the limiter may use.
    gap_s : float
        Silence between songs in the album file, seconds.
    bit_depth : {16, 24, 32}, optional
        Default 24.

    Returns
    -------
    AlbumReport
    """
    tgt = resolve(target, ceiling_dbtp, project_dir)
    assert tgt is not None
    folder = Path(out_dir)
    srcs = [Path(s) for s in sources]
    for s in srcs:
        if s.resolve().parent == folder.resolve():
            raise ParameterError(f"{s}: the album folder holds the inputs; write the album to "
                                 "another folder (nothing was changed)")
    claim_folder(folder, force=force, what="album")
    for s in srcs:
        require_audio(s)  # every input readable before anything is written
    parent = folder.parent if str(folder.parent) else Path(".")
    with output_folder(parent), tempfile.TemporaryDirectory(
            prefix=f".{folder.name}.", dir=parent) as tmp:
        staged = Path(tmp) / folder.name
        result = master_album([AlbumSong(s, title=s.stem) for s in srcs], staged,
                              target_lufs=tgt.lufs, ceiling_dbtp=tgt.ceiling_dbtp,
                              allowance_db=allowance_db, gap_s=gap_s,
                              bit_depth=24 if bit_depth is None else bit_depth,
                              album_title=album_title, performer=performer,
                              progress=progress)
        with replaced_folder(folder) as new:
            for item in staged.iterdir():
                item.replace(new / item.name)

    def moved(p: Path) -> Path:
        return folder / p.name

    tracks = tuple(
        AlbumTrackReport(source=t.song.source, output=moved(t.output), title=t.song.title,
                         input=measure(t.song.source), measured=measure(moved(t.output)),
                         start_s=t.start_frame / result.sample_rate,
                         max_gain_reduction_db=t.max_gain_reduction_db)
        for t in result.tracks)
    return AlbumReport(folder=folder, album_file=moved(result.album_file),
                       cue_file=moved(result.cue_file), target=tgt, gain_db=result.gain_db,
                       reached=result.reached, shortfall_lu=result.shortfall_lu,
                       tracks=tracks, warnings=tuple(result.warnings))


def convert(
    source: str | Path,
    output: str | Path,
    *,
    bit_depth: int | None = None,
    sample_rate: int | None = None,
    dither: str | None = None,
    gain_db: float = 0.0,
    normalize_dbtp: float | None = None,
    mp3_bitrate_kbps: int = 320,
    seed: int = 0,
    progress: Progress | None = None,
) -> ConvertReport:
    """Convert a file: sample rate, bit depth, dither, format (never clips silently).

    Parameters are :func:`mixdown.delivery.convert.convert_file`'s. The output's folder is
    created if missing; the output is replaced atomically and never left partial or empty.

    Returns
    -------
    ConvertReport
    """
    src = Path(source)
    dst = Path(output)
    check_output_file(dst)
    require_audio(src)  # a bad input fails before any folder is made
    with output_folder(dst.parent):
        res = convert_file(src, dst, bit_depth=bit_depth, sample_rate=sample_rate,
                           dither=dither, gain_db=gain_db, normalize_dbtp=normalize_dbtp,
                           mp3_bitrate_kbps=mp3_bitrate_kbps, seed=seed, progress=progress)
    return ConvertReport(res, measure(src), measure(res.output))
