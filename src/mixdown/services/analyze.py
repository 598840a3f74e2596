"""Use case: analyse audio files for loudness and QC, optionally with an HTML report."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixdown.analysis.qc import QCResult
from mixdown.core.errors import FormatError, MixdownError
from mixdown.core.targets import Check, Target, evaluate, resolve_target
from mixdown.io.audio import audio_info
from mixdown.io.measure import analyze_file

__all__ = ["Analysis", "AnalysisFailure", "analyze", "analyze_files", "total_frames"]


@dataclass(frozen=True, slots=True)
class Analysis:
    """The figures of one file (:class:`~mixdown.analysis.qc.QCResult`: loudness in LUFS,
    true peak in dBTP, LRA in LU...), with a target's pass/fail checks when one was given.

    Attributes
    ----------
    qc : QCResult
        Every figure; ``qc.file`` names the file.
    target : Target or None
        The platform target checked against.
    checks : tuple of Check
        Loudness and true-peak checks against ``target``.
    report : Path or None
        The HTML page written for this file.
    series : bool
        Whether ``as_dict`` includes the momentary and short-term series.
    """

    qc: QCResult
    target: Target | None = None
    checks: tuple[Check, ...] = ()
    report: Path | None = None
    series: bool = False

    @property
    def passed(self) -> bool | None:
        """Whether every check passed (None without a target)."""
        return None if self.target is None else all(c.passed for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        """What ``mixdown analyze --json`` prints for one file."""
        entry = self.qc.as_dict()
        if not self.series:
            entry.pop("momentary", None)
            entry.pop("short_term", None)
        if self.target is not None:
            t = self.target
            entry["target"] = {
                "name": t.name, "lufs": t.lufs, "ceiling_dbtp": t.ceiling_dbtp,
                "tolerance_lu": t.tolerance_lu, "passed": self.passed,
                "checks": [dataclasses.asdict(c) for c in self.checks],
            }
        if self.report is not None:
            entry["report"] = str(self.report)
        return entry


@dataclass(frozen=True, slots=True)
class AnalysisFailure:
    """A file of a batch that could not be analysed (the others still are)."""

    file: str
    error: str

    def as_dict(self) -> dict[str, Any]:
        """``{"file": ..., "error": ...}``."""
        return {"file": self.file, "error": self.error}


def analyze(path: str | Path, *, target: str | float | Target | None = None,
            series: bool = False) -> Analysis:
    """Analyse one file (errors raise, as :class:`~mixdown.core.errors.MixdownError`)."""
    resolved = _target(target)
    result = analyze_file(path, series=series).with_file(path)
    return _analysis(result, resolved, series)


def _target(target: str | float | Target | None) -> Target | None:
    if target is None or isinstance(target, Target):
        return target
    return resolve_target(target)


def _analysis(result: QCResult, target: Target | None, series: bool,
              report: Path | None = None) -> Analysis:
    checks = (tuple(evaluate(result.integrated_lufs, result.true_peak_dbtp, target))
              if target is not None else ())
    return Analysis(result, target, checks, report, series)


def analyze_files(
    paths: Sequence[str | Path],
    *,
    series: bool = False,
    report_dir: str | Path | None = None,
    target: str | float | Target | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Analysis | AnalysisFailure]:
    """Analyse each file, in order; a file that cannot be analysed gives an
    :class:`AnalysisFailure` and the batch goes on.

    Parameters
    ----------
    paths : sequence of path
        Audio files (WAV, FLAC, AIFF, MP3, OGG).
    series : bool
        Include the ``momentary`` and ``short_term`` series (``[t_end_s, lufs]`` lists).
    report_dir : path, optional
        Folder for the HTML report (a page per file and an ``index.html``); created if
        missing.
    target : str or float, optional
        A platform name (``spotify``) or LUFS number for the pass/fail checks.
    progress : callable, optional
        Called with the number of frames analysed after each block.

    Raises
    ------
    ParameterError
        For an unknown target (before any file is read).
    FormatError
        If ``report_dir`` exists and is not a folder.
    """
    resolved = _target(target)
    folder = Path(report_dir) if report_dir is not None else None
    if folder is not None:
        if folder.exists() and not folder.is_dir():
            raise FormatError(f"{folder}: exists and is not a folder; pick another --report DIR",
                              folder)
        folder.mkdir(parents=True, exist_ok=True)
    entries: list[Analysis | AnalysisFailure] = []
    reported: list[tuple[QCResult, Path]] = []
    for path in paths:
        try:
            result = analyze_file(path, series=series or folder is not None,
                                  progress=progress)
        except MixdownError as exc:
            entries.append(AnalysisFailure(str(path), str(exc)))
            continue
        result = result.with_file(path)
        page = None
        if folder is not None:
            from mixdown.analysis.report import write_report

            page = write_report(result, folder, target=resolved, name=_page_name(path, reported))
            reported.append((result, page))
        entries.append(_analysis(result, resolved, series, page))
    if folder is not None and reported:
        from mixdown.analysis.report import write_index

        write_index(reported, folder, target=resolved)
    return entries


def total_frames(paths: Sequence[str | Path]) -> int:
    """Frames in all of ``paths`` (a progress total); files that cannot be read count 0."""
    total = 0
    for path in paths:
        try:
            total += audio_info(path).frames
        except MixdownError:
            continue
    return total


def _page_name(path: str | Path, done: list[tuple[QCResult, Path]]) -> str:
    """A unique page name from the file's stem (``song``, ``song-2`` ...)."""
    stem = Path(path).stem or "audio"
    taken = {p.stem for _, p in done}
    name, k = stem, 2
    while name in taken or name == "index":
        name, k = f"{stem}-{k}", k + 1
    return name
