"""Measure audio files: stream a file through the QC :class:`~mixdown.analysis.qc.Analyzer`.

Analysis takes arrays and blocks; reading files is io's job, so the file-level entry point
lives here (``mixdown analyze``, the mastering reference profile and the services call it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from mixdown.analysis.loudness import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from mixdown.analysis.qc import BLOCK_FRAMES, Analyzer, QCResult
from mixdown.core.errors import FormatError, ParameterError
from mixdown.io.audio import audio_info, iter_blocks, wav_declared_frames

__all__ = ["analyze_file"]


def analyze_file(path: str | Path, *, series: bool = False,
                 progress: Callable[[int], None] | None = None) -> QCResult:
    """Stream an audio file through an :class:`Analyzer` (memory flat in file length).

    Parameters
    ----------
    path : path
        Audio file (WAV, FLAC, AIFF, MP3, OGG).
    series : bool
        Keep the momentary and short-term loudness series.
    progress : callable, optional
        Called with the frame count of each block analysed.

    Returns
    -------
    QCResult
        Every figure, with ``file`` set to ``path``; a ``truncated`` warning when the
        header promises more frames than could be read.

    Raises
    ------
    FormatError
        If the file is missing, unreadable, empty, holds NaN/inf samples, or its rate is
        outside 8..192 kHz; the message names the file and what to do.
    """
    p = Path(path)
    info = audio_info(p)
    if not MIN_SAMPLE_RATE <= info.sample_rate <= MAX_SAMPLE_RATE:
        raise FormatError(
            f"{p}: sample rate {info.sample_rate} Hz is outside the {MIN_SAMPLE_RATE}.."
            f"{MAX_SAMPLE_RATE} Hz that analysis supports; resample it first", p)
    if info.frames == 0:
        raise FormatError(f"{p}: the file holds no audio (0 frames)", p)
    analyzer = Analyzer(info.sample_rate, info.channels, series=series)
    try:
        for block in iter_blocks(p, BLOCK_FRAMES, check_finite=False):
            analyzer.push(block)
            if progress is not None:
                progress(block.shape[1])
    except ParameterError as exc:
        raise FormatError(f"{p}: {exc}", p) from exc
    if analyzer.frames == 0:
        raise FormatError(f"{p}: no audio could be decoded (the header promises "
                          f"{info.frames} frames); the file is truncated or corrupt", p)
    result = analyzer.result()
    promised = max(info.frames, wav_declared_frames(p) or 0)
    if analyzer.frames < promised:
        result = dataclasses.replace(result, warnings=(
            *result.warnings,
            f"truncated: the header promises {promised} frames but only {analyzer.frames} "
            "could be read; the figures cover what was read"))
    return result.with_file(p)
