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
from mixdown.io.audio import AudioWriter
from mixdown.mastering.normalize import DEFAULT_ALLOWANCE_DB, MasterResult, master_to_target

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
) -> MasterResult:
    """Master a pre-master mix to ``target`` by measurement into ``output``.

    Parameters
    ----------
    premaster : Path or callable
        A pre-master file, or a producer that streams it (it is then written to a float file
        in ``workdir`` while its loudness is measured).
    output : Path
        The master (written atomically).
    target : LoudnessTarget
        LUFS and dBTP.
    workdir : Path
        A temporary folder for the pre-master file.
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

    Returns
    -------
    MasterResult
    """
    input_lufs: float | None = None
    share = 0.0
    if not isinstance(premaster, Path):
        from mixdown.analysis.loudness import LoudnessMeter

        pre = workdir / "premaster.wav"
        meter = LoudnessMeter(sample_rate, channels)
        with AudioWriter(pre, sample_rate, channels, bit_depth=32) as w:
            def push(block: AudioArray) -> None:
                w.write(block)
                meter.push(block)

            premaster(push)
        input_lufs = meter.integrated_lufs()
        premaster, share = pre, 0.5

    def master_progress(fraction: float) -> None:
        if progress is not None:
            progress(share + (1.0 - share) * fraction)

    factory = None
    if qc:
        from mixdown.analysis.qc import Analyzer

        def factory() -> Any:
            return Analyzer(sample_rate, channels)

    return master_to_target(
        premaster, output, target_lufs=target.lufs, ceiling_dbtp=target.ceiling_dbtp,
        fmt=fmt, bit_depth=bit_depth, allowance_db=allowance_db, analyzer_factory=factory,
        input_lufs=input_lufs,
        input_true_peak_dbtp=math.nan if input_lufs is not None else None,  # not needed
        progress=master_progress)


def split_notes(warnings: tuple[str, ...] | list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(warnings, notes)``: a mix turned down to reach its target is normal mastering, a
    note, not a warning."""
    notes = tuple(w for w in warnings if w.startswith(_TURN_DOWN))
    return tuple(w for w in warnings if not w.startswith(_TURN_DOWN)), notes


_TURN_DOWN = "the mix is louder than the target"

__all__ = ["LoudnessTarget", "Producer", "Push", "master_premaster", "split_notes"]
