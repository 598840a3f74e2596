"""Use case: analyse audio files for loudness and QC, optionally with an HTML report."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mixdown.analysis.qc import QCResult
from mixdown.core.errors import FormatError, MixdownError
from mixdown.core.targets import Target, evaluate, resolve_target
from mixdown.io.audio import audio_info
from mixdown.io.measure import analyze_file


def analyze_files(
    paths: Sequence[str | Path],
    *,
    series: bool = False,
    report_dir: str | Path | None = None,
    target: str | float | Target | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Analyse each file; one dict per file, in order.

    A file that cannot be analysed gives ``{"file": ..., "error": ...}`` and the batch
    goes on. With ``target`` each entry gets a ``target`` object with pass/fail checks;
    with ``report_dir`` an HTML page per file (and an ``index.html``) is written there
    and the entry names it under ``report``.

    Parameters
    ----------
    paths : sequence of path
        Audio files (WAV, FLAC, AIFF, MP3, OGG).
    series : bool
        Include the ``momentary`` and ``short_term`` series (``[t_end_s, lufs]`` lists).
    report_dir : path, optional
        Folder for the HTML report; created if missing.
    target : str or float, optional
        A platform name (``spotify``) or LUFS number for the pass/fail table.
    progress : callable, optional
        Called with the number of frames analysed after each block.

    Raises
    ------
    ParameterError
        For an unknown target (before any file is read).
    FormatError
        If ``report_dir`` exists and is not a folder.
    """
    resolved = resolve_target(target) if target is not None else None
    folder = Path(report_dir) if report_dir is not None else None
    if folder is not None:
        if folder.exists() and not folder.is_dir():
            raise FormatError(f"{folder}: exists and is not a folder; pick another --report DIR",
                              folder)
        folder.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    reported: list[tuple[QCResult, Path]] = []
    for path in paths:
        try:
            result = analyze_file(path, series=series or folder is not None,
                                  progress=progress)
        except MixdownError as exc:
            entries.append({"file": str(path), "error": str(exc)})
            continue
        result = dataclasses.replace(result, file=str(path))
        entry = result.to_dict()
        if not series:
            entry.pop("momentary", None)
            entry.pop("short_term", None)
        if resolved is not None:
            checks = evaluate(result.integrated_lufs, result.true_peak_dbtp, resolved)
            entry["target"] = {
                "name": resolved.name, "lufs": resolved.lufs,
                "ceiling_dbtp": resolved.ceiling_dbtp, "tolerance_lu": resolved.tolerance_lu,
                "passed": all(c.passed for c in checks),
                "checks": [dataclasses.asdict(c) for c in checks],
            }
        if folder is not None:
            from mixdown.analysis.report import write_report

            page = write_report(result, folder, target=resolved, name=_page_name(path, reported))
            entry["report"] = str(page)
            reported.append((result, page))
        entries.append(entry)
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
