"""The one "pre-master mix, then master it to a target" sequence.

``render`` (a song with a ``[master]`` target), ``master`` (a file, after its chain) and
``deliver`` (each target) all go through :func:`master_premaster`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixdown.core.audio import AudioArray
from mixdown.mastering.normalize import DEFAULT_ALLOWANCE_DB, MasterResult, master_to_target
from mixdown.mastering.spill import DEFAULT_MAX_BYTES, SpillBuffer

Push = Callable[[AudioArray], None]
Producer = Callable[[Push], None]
"""Streams the pre-master mix: called with ``push``, it pushes float32 (channels, frames)
blocks in order."""


@dataclass(frozen=True, slots=True)
class LoudnessTarget:
    """A loudness target: integrated loudness (LUFS) under a true-peak ceiling (dBTP)."""

    lufs: float
    ceiling_dbtp: float


def master_premaster(
    premaster: Path | Producer,
    output: Path,
    *,
    target: LoudnessTarget,
    workdir: Path,
    sample_rate: int,
    channels: int,
    fmt: str | None = None,
    bit_depth: int = 24,
    allowance_db: float = DEFAULT_ALLOWANCE_DB,
    qc: bool = False,
    progress: Callable[[float], None] | None = None,
    premaster_memory_bytes: int = DEFAULT_MAX_BYTES,
    input_lufs: float | None = None,
    input_true_peak_dbtp: float | None = None,
) -> MasterResult:
    """Master a pre-master mix to ``target`` by measurement into ``output``.

    Parameters
    ----------
    premaster : Path or callable
        A pre-master file, or a producer that streams it (its loudness is measured while it
        streams, and it is kept for the limiter passes: in memory up to
        ``premaster_memory_bytes``, the rest in a temporary float file in ``workdir``).
    output : Path
        The master (written atomically).
    target : LoudnessTarget
        LUFS and dBTP.
    workdir : Path
        A temporary folder (what does not fit in memory goes there).
    sample_rate, channels : int
        Of the pre-master (Hz, channel count).
    fmt, bit_depth : optional
        Output format (default from the extension) and PCM depth (16, 24 or 32 = float).
    allowance_db : float
        Most peak gain reduction (dB) the limiter may use to reach the target.
    qc : bool
        Meter the master that is kept (``MasterResult.analyzer``).
    progress : callable, optional
        Called with the fraction done (0..1): the pre-master stream is the first half when
        ``premaster`` is a producer.
    premaster_memory_bytes : int
        How much of a streamed pre-master is kept in memory (bytes).
    input_lufs, input_true_peak_dbtp : float, optional
        A pre-master file's integrated loudness (LUFS) and true peak (dBTP) when the caller
        measured them already: saves a pass over the file.

    Returns
    -------
    MasterResult
    """
    share = 0.0
    source: Path | SpillBuffer = premaster if isinstance(premaster, Path) else SpillBuffer(
        channels, max_bytes=premaster_memory_bytes, folder=workdir, chunk_frames=65_536)
    if isinstance(source, SpillBuffer):
        from mixdown.analysis.loudness import LoudnessMeter

        # The pre-master is measured while it streams in and kept for the limiter passes:
        # in memory up to a bound, the rest in a temporary float file in ``workdir``.
        meter = LoudnessMeter(sample_rate, channels)
        buffer = source

        def push(block: AudioArray) -> None:
            buffer.push(block)
            meter.push(block)

        try:
            premaster(push)  # type: ignore[operator]
        except BaseException:
            buffer.close()
            raise
        input_lufs = meter.integrated_lufs()
        share = 0.5

    def master_progress(fraction: float) -> None:
        if progress is not None:
            progress(share + (1.0 - share) * fraction)

    factory = None
    if qc:
        from mixdown.analysis.qc import Analyzer

        def factory() -> Any:
            return Analyzer(sample_rate, channels)

    try:
        return master_to_target(
            source, output, target_lufs=target.lufs, ceiling_dbtp=target.ceiling_dbtp,
            sample_rate=sample_rate, channels=channels, fmt=fmt, bit_depth=bit_depth,
            allowance_db=allowance_db, analyzer_factory=factory, input_lufs=input_lufs,
            input_true_peak_dbtp=(input_true_peak_dbtp if isinstance(source, Path)
                                  else math.nan),  # not needed for a streamed pre-master
            progress=master_progress, spill_dir=workdir)
    finally:
        if isinstance(source, SpillBuffer):
            source.close()


def split_notes(warnings: tuple[str, ...] | list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(warnings, notes)``: a mix turned down to reach its target is normal mastering, a
    note, not a warning."""
    notes = tuple(w for w in warnings if w.startswith(_TURN_DOWN))
    return tuple(w for w in warnings if not w.startswith(_TURN_DOWN)), notes


_TURN_DOWN = "the mix is louder than the target"

__all__ = ["LoudnessTarget", "Producer", "Push", "master_premaster", "split_notes"]
