"""Use cases: master a file to a target (optionally matching references), master an album,
convert a file. The CLI (``mixdown master``, ``mixdown convert``) and the server call these.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mixdown.core.errors import FormatError, ParameterError
from mixdown.core.targets import Target, TargetTable, check_ceiling
from mixdown.delivery.album import AlbumSong, master_album
from mixdown.delivery.convert import check_not_same, convert_file
from mixdown.delivery.deliverables import DeliverableSpec, make_deliverable
from mixdown.io.audio import AudioWriter, audio_info, format_for_path, iter_blocks
from mixdown.io.measure import analyze_file
from mixdown.mastering.chain import ChainSpec, apply_chain
from mixdown.mastering.normalize import DEFAULT_ALLOWANCE_DB, master_to_target
from mixdown.mastering.reference import match_references, profile_file

Progress = Callable[[float], None]


def _qc(path: Path) -> dict[str, Any]:
    return {"file": str(path), **analyze_file(path).to_dict()}


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
) -> dict[str, Any]:
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

    Returns
    -------
    dict
        ``input`` and ``output`` (the analysis keys of ``mixdown analyze --json``),
        ``target``, ``gain_db``, ``max_gain_reduction_db``, ``reached``, ``shortfall_lu``,
        ``reference`` (what matching changed) and ``warnings`` ("target not reached ...").
    """
    src = Path(source)
    dst = Path(output)
    info = audio_info(src)
    check_not_same(src, dst)
    fmt = format_for_path(dst)
    if not dst.parent.is_dir():
        raise FormatError(f"{dst}: the folder {dst.parent} does not exist; create it first", dst)
    tgt = resolve(target, ceiling_dbtp, project_dir)
    if tgt is None and not references:
        raise ParameterError("give a loudness target: --target spotify (a preset) or "
                             "--target -14 (LUFS), or a --reference to match")
    input_qc = _qc(src)
    if not math.isfinite(input_qc["integrated_lufs"]):
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
    depth = 24 if bit_depth is None else bit_depth
    lossy = fmt in ("mp3", "ogg")
    with tempfile.TemporaryDirectory(prefix=".mixdown-master-", dir=dst.parent) as tmp:
        pre = src
        if not spec.is_identity:
            pre = Path(tmp) / "premaster.wav"
            with AudioWriter(pre, info.sample_rate, info.channels, bit_depth=32) as w:
                for block in apply_chain(iter_blocks(src), spec, info.sample_rate,
                                         info.channels,
                                         input_lufs=input_qc["integrated_lufs"]):
                    w.write(block)
        master_out = Path(tmp) / "master.wav" if lossy else dst
        result = master_to_target(pre, master_out, target_lufs=target_lufs,
                                  ceiling_dbtp=ceiling, allowance_db=allowance_db,
                                  bit_depth=32 if lossy else depth, progress=progress)
        warnings = list(result.warnings)
        extra: dict[str, Any] = {}
        if lossy:
            spec_lossy = DeliverableSpec(dst.stem, fmt, None, None, "none", 320)
            made = make_deliverable(master_out, spec_lossy, dst, ceiling_dbtp=ceiling)
            extra["encode"] = made.as_dict()
            if not made.passed:
                raise FormatError(made.error or f"{dst}: the encode failed its checks", dst)
            if made.remade:
                warnings.append(f"the {fmt.upper()} encode overshot the ceiling; it was "
                                f"re-made with a {made.margin_db:.2f} dB margin")
    out = {
        "input": input_qc,
        "output": _qc(dst),
        "target": (tgt.as_dict() if tgt is not None else
                   {"name": "reference", "lufs": target_lufs, "ceiling_dbtp": ceiling}),
        "gain_db": result.gain_db,
        "max_gain_reduction_db": result.max_gain_reduction_db,
        "allowance_db": allowance_db,
        "reached": result.reached,
        "shortfall_lu": result.shortfall_lu,
        "passes": result.passes,
        "chain": None if spec.is_identity else spec.as_dict(),
        "reference": reference_report,
        "summary": summary,
        "warnings": warnings,
        **extra,
    }
    return out


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
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Album mode: the loudest song on the target, the others at their relative levels.

    Returns
    -------
    dict
        The album result (``tracks`` with input and output loudness, ``album_file``,
        ``cue_file``, ``gain_db``, ``reached``, ``shortfall_lu``, ``warnings``) and, per
        track, ``input``/``output`` analysis.
    """
    tgt = resolve(target, ceiling_dbtp, project_dir)
    assert tgt is not None
    folder = Path(out_dir)
    srcs = [Path(s) for s in sources]
    for s in srcs:
        if s.resolve().parent == folder.resolve():
            raise ParameterError(f"{s}: the album folder holds the inputs; write the album to "
                                 "another folder (nothing was changed)")
    result = master_album([AlbumSong(s, title=s.stem) for s in srcs], folder,
                          target_lufs=tgt.lufs, ceiling_dbtp=tgt.ceiling_dbtp,
                          allowance_db=allowance_db, gap_s=gap_s,
                          bit_depth=24 if bit_depth is None else bit_depth,
                          album_title=album_title, performer=performer, progress=progress)
    out = result.as_dict()
    out["target"] = tgt.as_dict()
    for t, entry in zip(result.tracks, out["tracks"], strict=True):
        entry["input"] = _qc(t.song.source)
        entry["output"] = _qc(t.output)
    return out


def convert(source: str | Path, output: str | Path, **kwargs: Any) -> dict[str, Any]:
    """Convert a file (see :func:`mixdown.delivery.convert.convert_file`); returns a dict with
    ``input`` and ``output`` analysis."""
    src = Path(source)
    res = convert_file(src, output, **kwargs)
    return {**res.as_dict(), "input": _qc(src), "output": _qc(res.output)}
